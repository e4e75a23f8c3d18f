"""Lowering of ``if``/``elif``/``else`` and conditional expressions (runtime: ``branches``).

Before / after::

    if a > b:                       def if_true(a, b):
        a, b = b, a                     a, b = b, a
                                        return a, b
                          ->        def if_false(a, b):
                                        return a, b
                                    a, b = rx.branch(rx.gt(a, b), if_true, if_false, (a, b))

An ``if`` without ``else`` marks its false path ``@rx.passes_through``: it returns some of its
inputs unchanged.

    y = sqrt(x) if x > 0 else 0     y = rx.branch(rx.gt(x, 0), lambda x: sqrt(x), lambda x: 0, (x,))

Each branch receives the variables it may read (its *inputs*) and returns those it may assign that
are read afterwards (its *outputs*); both come from ``analysis``. An ``if`` holding a
``break`` for the loop around it stays a Python ``if`` whose condition must be static; after canonicalization (``early_exits``) only ``if rx.stop(flag): break`` is such an
``if``.
"""

from __future__ import annotations

import libcst as cst

from ..analysis import BranchFacts
from .nodes import (assign, function, line, name, names_target, runtime_call, statements_of,
                    thunk, tuple_of)


def lower_if(updated: cst.If, facts: BranchFacts, rx: str, branch_names: tuple[str, str],
             orelse_statements: list) -> list:
    """A relaxed-capable ``if`` as two branch functions and one ``rx.branch`` call."""
    true_name, false_name = branch_names
    returned = [line(cst.Return(names_target(facts.outputs)))] if facts.outputs else []
    if_true = function(true_name, facts.inputs, statements_of(updated.body) + returned)
    if_false = function(false_name, facts.inputs, orelse_statements + returned)
    if not orelse_statements:
        # No `else`: the false path only hands its inputs back, so the runtime may run it on the
        # originals, without copies or gradient guards (about a tenth of a relaxed `if`'s cost).
        if_false = if_false.with_changes(decorators=[cst.Decorator(
            cst.Attribute(name(rx), name("passes_through")))])
    merged = runtime_call(rx, "branch", updated.test, name(true_name), name(false_name),
                          tuple_of(facts.inputs))
    result = (assign(names_target(facts.outputs), merged) if facts.outputs
              else cst.Expr(merged))
    return [if_true, if_false, line(result)]


def lower_if_expression(updated: cst.IfExp, facts: BranchFacts, rx: str) -> cst.Call:
    return runtime_call(rx, "branch", updated.test, thunk(updated.body, facts.inputs),
                        thunk(updated.orelse, facts.inputs), tuple_of(facts.inputs))
