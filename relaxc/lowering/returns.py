"""Lowering of ``return`` (runtime: ``values.to_output``).

Before / after::

    return a, swapped      ->  return rx.result((a, swapped))

Relaxed booleans leave the function as probability tensors, so callers always get tensors.
"""

from __future__ import annotations

import libcst as cst

from .nodes import runtime_call


def lower_return(updated: cst.Return, rx: str) -> cst.Return:
    if updated.value is None:
        return updated
    value = updated.value
    if isinstance(value, cst.Tuple) and not value.lpar:
        value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return updated.with_changes(value=runtime_call(rx, "result", value))
