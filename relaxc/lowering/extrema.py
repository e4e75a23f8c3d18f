"""Lowering of the builtins ``min`` and ``max`` (runtime: ``extrema``).

Before / after::

    max(best, current)      ->  rx.max(best, current)
    min(xs)                 ->  rx.min(xs)

Only where ``min``/``max`` are the builtins (not rebound by the user's code or module).
"""

from __future__ import annotations

import libcst as cst

from .nodes import name


def lower_extremum(updated: cst.Call, rx: str) -> cst.Call:
    return updated.with_changes(func=cst.Attribute(name(rx), name(updated.func.value)))
