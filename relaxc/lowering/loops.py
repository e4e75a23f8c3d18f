"""Lowering of loops (runtime: ``loops``, ``indexing.iterate``).

Before / after::

    for v in xs:          ->  for v in rx.iterate(xs):        # per-instance elements of a tensor

    while x > 1:              def while_condition(x, n):
        x = x / 2                 return rx.gt(x, 1)
        n += 1        ->      def while_body(x, n):
                                  x = x / 2
                                  n = rx.iadd(n, 1)
                                  return x, n
                              x, n = rx.while_loop(while_condition, while_body, (x, n), "f.py:3")

A ``for`` over a static iterable is Python's loop, unrolled as it runs. A ``while`` runs as
Python's while its condition is static, and as the paper's series where it is relaxed; its state is
the variables it reads or carries (``analysis``).
"""

from __future__ import annotations

import libcst as cst

from ..analysis import BranchFacts
from .indexing import lower_iterable
from .nodes import (assign, function, keyword, line, name, names_target, runtime_call,
                    runtime_operation, string, tuple_of)


def lower_for(updated: cst.For, rx: str, builtin_names: set) -> cst.For:
    iterable = lower_iterable(updated.iter, rx, builtin_names)
    if isinstance(updated.target, (cst.Tuple, cst.List)) and _iterates_whole(iterable, rx):
        # `for a, b in pairs`: each element is unpacked per instance too.
        iterable = iterable.with_changes(args=[*iterable.args, keyword("unpack", name("True"))])
    return updated.with_changes(iter=iterable)


def _iterates_whole(iterable, rx: str) -> bool:
    return runtime_operation(iterable, rx) == "iterate"


def lower_comprehension_for(updated: cst.CompFor, rx: str, builtin_names: set) -> cst.CompFor:
    ifs = [c.with_changes(test=runtime_call(rx, "static_condition", c.test,
                                            string("a comprehension's `if`")))
           for c in updated.ifs]
    return updated.with_changes(iter=lower_iterable(updated.iter, rx, builtin_names), ifs=ifs)


def _state_value(state: tuple[str, ...]):
    return names_target(state) if len(state) > 1 else tuple_of(state)


def lower_while(updated: cst.While, facts: BranchFacts, rx: str, names: tuple[str, str],
                where: str, exits: tuple = ()) -> list:
    """A ``while`` as a condition function, a body function and one ``rx.while_loop`` call.

    ``exits`` are the loop's exit flags (with their return value) from canonicalization; the call
    names their positions in the state: ``exits=((1, 2),)``.
    """
    state = facts.inputs
    condition_name, body_name = names
    condition = function(condition_name, state, [line(cst.Return(updated.test))])
    body = function(body_name, state,
                    list(updated.body.body) + [line(cst.Return(_state_value(state)))])
    loop = runtime_call(rx, "while_loop", name(condition_name), name(body_name), tuple_of(state),
                        string(where))
    if exits:
        positions = cst.parse_expression(repr(tuple(
            (state.index(flag), state.index(value) if value else None) for flag, value in exits)))
        loop = loop.with_changes(args=[*loop.args, cst.Arg(
            positions, keyword=name("exits"),
            equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                  whitespace_after=cst.SimpleWhitespace("")))])
    result = assign(_state_value(state), loop) if state else cst.Expr(loop)
    orelse = list(updated.orelse.body.body) if updated.orelse else []
    return [condition, body, line(result)] + orelse
