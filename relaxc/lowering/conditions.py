"""Lowering of comparisons and boolean operators (runtime: ``relaxc_runtime.conditions``).

Before / after::

    a < b <= c           ->  rx.and_(rx.lt(a, b), lambda: rx.le(b, c))
    p and not q          ->  rx.and_(p, lambda q: rx.not_(q), (q,))
    all(a == b for ...)  ->  rx.all(rx.eq(a, b) for ...)

The right operand of ``and``/``or`` becomes a ``lambda`` so that a static left operand
short-circuits exactly as in Python (``i < n and xs[i] > 0`` never reads ``xs[n]``).
"""

from __future__ import annotations

import libcst as cst

from ..analysis import contains
from .nodes import runtime_call, thunk, tuple_of

_OPERATIONS = {
    cst.LessThan: "lt", cst.LessThanEqual: "le", cst.GreaterThan: "gt",
    cst.GreaterThanEqual: "ge", cst.Equal: "eq", cst.NotEqual: "ne", cst.Is: "is_",
    cst.IsNot: "is_not", cst.In: "in_", cst.NotIn: "not_in",
}


#: Comparisons that take the continuity correction between integer-valued operands.
_CORRECTED = frozenset({"lt", "le", "gt", "ge", "eq", "ne"})


#: Comparisons that decide ties exactly in a `while` condition.
_ORDERING = frozenset({"lt", "le", "gt", "ge"})


def _flag(call: cst.Call, keyword: str) -> cst.Call:
    return call.with_changes(args=[*call.args, cst.Arg(
        cst.Name("True"), keyword=cst.Name(keyword),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                              whitespace_after=cst.SimpleWhitespace("")))])


def lower_comparison(node: cst.Comparison, rx: str, fresh_name, integer: list[bool],
                     in_while_condition: bool = False) -> cst.BaseExpression:
    """A comparison chain as ``rx`` calls joined by nested ``rx.and_``.

    ``integer[k]``: both operands of the ``k``-th comparison are integer-valued on every path
    (``analysis.integer_names``); the call then says so (``rx.lt(i, n, integer=True)``) and a
    relaxed comparison takes the continuity correction (``runtime/conditions.py``). In a
    ``while`` condition the other ordering comparisons decide ties exactly
    (``rx.lt(xs[i], pivot, exact_ties=True)``: a sentinel loop stops at its sentinel).

    ``a < f() < g() < c`` is ``rx.and_(rx.lt(a, (m := f())), lambda: rx.and_(rx.lt(m, (m_1 :=
    g())), lambda: rx.lt(m_1, c)))``: a middle operand that calls something is evaluated once, as
    in Python, and each thunk is nested in the previous one so it sees the names bound before it.
    """
    left = _bare(node.left)
    parts = []
    for position, target in enumerate(node.comparisons):
        right = _bare(target.comparator)
        operation = _OPERATIONS[type(target.operator)]
        if position < len(node.comparisons) - 1 and contains(right, cst.Call):
            bound = cst.Name(fresh_name(position))
            call = runtime_call(rx, operation, left, cst.NamedExpr(
                target=bound, value=right, lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))
            left = bound
        else:
            call = runtime_call(rx, operation, left, right)
            left = right
        if integer[position] and operation in _CORRECTED:
            call = _flag(call, "integer")
        elif in_while_condition and operation in _ORDERING:
            call = _flag(call, "exact_ties")
        parts.append(call)
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = runtime_call(rx, "and_", part, thunk(result))
    return result.with_changes(lpar=node.lpar, rpar=node.rpar) if node.lpar else result


def lower_boolean_operation(node: cst.BooleanOperation, rx: str,
                            inputs: tuple[str, ...]) -> cst.Call:
    """``a and b`` as ``rx.and_(a, lambda x: b, (x,))``: ``inputs`` are the variables ``b``
    reads, so the runtime can cut their gradient where ``a`` decided (as a branch's inputs)."""
    operation = "and_" if isinstance(node.operator, cst.And) else "or_"
    if not inputs:
        return runtime_call(rx, operation, _bare(node.left), thunk(_bare(node.right)))
    return runtime_call(rx, operation, _bare(node.left), thunk(_bare(node.right), inputs),
                        tuple_of(inputs))


#: ``all(xs)``/``any(xs)``: the relaxed ``and``/``or`` of the elements.
LOGIC_BUILTINS = ("all", "any")


def lower_logic_builtin(node: cst.Call, rx: str) -> cst.Call:
    """``all(rx.iterate(...))`` -> ``rx.all(rx.iterate(...))`` (its iterable lowered already)."""
    return node.with_changes(func=cst.Attribute(cst.Name(rx), cst.Name(node.func.value)))


def lower_not(node: cst.UnaryOperation, rx: str) -> cst.Call:
    return runtime_call(rx, "not_", _bare(node.expression))


def _bare(expression):
    """Drop parentheses that only grouped the operand: it is now a call argument."""
    keep = (cst.Tuple, cst.GeneratorExp, cst.NamedExpr)
    if getattr(expression, "lpar", None) and not isinstance(expression, keep):
        return expression.with_changes(lpar=[], rpar=[])
    return expression
