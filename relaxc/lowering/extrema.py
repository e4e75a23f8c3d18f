"""Lowering of ``min``/``max`` and ``relaxc.argmin``/``relaxc.argmax`` (runtime: ``extrema``).

Before / after::

    max(best, current)      ->  rx.max(best, current)
    min(xs)                 ->  rx.min(xs)
    relaxc.argmin(xs[i:])   ->  rx.argmin(rx.getitem(xs, slice(i, None)))

``min``/``max`` only where they are the builtins (not rebound by the user's code or module); the
arg-functions wherever the name resolves, in the user's module, to relaxc's own.
"""

from __future__ import annotations

import libcst as cst

from ..functions import COMPILED
from .nodes import name


def lower_extremum(updated: cst.Call, rx: str) -> cst.Call:
    return updated.with_changes(func=cst.Attribute(name(rx), name(updated.func.value)))


def compiled_function(func: cst.BaseExpression, user_globals: dict) -> str | None:
    """The context method that replaces a call of ``func`` (``relaxc.argmax``, ``argmin`` …)."""
    if isinstance(func, cst.Name):
        target = user_globals.get(func.value)
    elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        target = getattr(user_globals.get(func.value.value), func.attr.value, None)
    else:
        return None
    try:
        return COMPILED.get(target)
    except TypeError:   # an unhashable global: not one of ours
        return None


def lower_compiled_function(updated: cst.Call, method: str, rx: str) -> cst.Call:
    return updated.with_changes(func=cst.Attribute(name(rx), name(method)))
