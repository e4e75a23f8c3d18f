"""Lowering of loops (runtime: ``indexing.iterate``, ``Context.static_condition``).

Before / after::

    for v in xs:          ->  for v in rx.iterate(xs):        # per-instance elements of a tensor
    while i < n:          ->  while rx.static_condition(rx.lt(i, n), "a `while` condition"):

A ``for`` over a static iterable is Python's loop, unrolled as it runs. A ``while`` runs as
Python's while its condition is static; a relaxed ``while`` condition is refused with a clear
error at run time.
"""

from __future__ import annotations

import libcst as cst

from .indexing import lower_iterable
from .nodes import runtime_call, string


def lower_for(updated: cst.For, rx: str, builtin_names: set) -> cst.For:
    return updated.with_changes(iter=lower_iterable(updated.iter, rx, builtin_names))


def lower_comprehension_for(updated: cst.CompFor, rx: str, builtin_names: set) -> cst.CompFor:
    ifs = [c.with_changes(test=runtime_call(rx, "static_condition", c.test,
                                            string("a comprehension's `if`")))
           for c in updated.ifs]
    return updated.with_changes(iter=lower_iterable(updated.iter, rx, builtin_names), ifs=ifs)


def lower_while(updated: cst.While, rx: str) -> cst.While:
    return updated.with_changes(
        test=runtime_call(rx, "static_condition", updated.test, string("a `while` condition")))
