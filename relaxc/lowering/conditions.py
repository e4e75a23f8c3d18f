"""Lowering of comparisons and boolean operators (runtime: ``relaxc_runtime.conditions``).

Before / after::

    a < b <= c           ->  rx.and_(rx.lt(a, b), lambda: rx.le(b, c))
    p and not q          ->  rx.and_(p, lambda: rx.not_(q))

The right operand of ``and``/``or`` becomes a ``lambda`` so that a static left operand
short-circuits exactly as in Python (``i < n and xs[i] > 0`` never reads ``xs[n]``).
"""

from __future__ import annotations

import libcst as cst

from ..analysis import contains
from .nodes import runtime_call, thunk

_OPERATIONS = {
    cst.LessThan: "lt", cst.LessThanEqual: "le", cst.GreaterThan: "gt",
    cst.GreaterThanEqual: "ge", cst.Equal: "eq", cst.NotEqual: "ne", cst.Is: "is_",
    cst.IsNot: "is_not", cst.In: "in_", cst.NotIn: "not_in",
}


def lower_comparison(node: cst.Comparison, rx: str, fresh_name) -> cst.BaseExpression:
    """A comparison chain as ``rx`` calls joined by ``rx.and_``.

    A middle operand that calls something is evaluated once (bound with ``:=``), as in Python.
    """
    left = _bare(node.left)
    parts = []
    for position, target in enumerate(node.comparisons):
        right = target.comparator
        if position < len(node.comparisons) - 1 and contains(right, cst.Call):
            bound = cst.Name(fresh_name())
            right = cst.NamedExpr(target=bound, value=right, lpar=[cst.LeftParen()],
                                  rpar=[cst.RightParen()])
            parts.append(runtime_call(rx, _OPERATIONS[type(target.operator)], left, right))
            left = bound
            continue
        parts.append(runtime_call(rx, _OPERATIONS[type(target.operator)], left, _bare(right)))
        left = _bare(right)
    result = parts[0]
    for part in parts[1:]:
        result = runtime_call(rx, "and_", result, thunk(part))
    return result.with_changes(lpar=node.lpar, rpar=node.rpar) if node.lpar else result


def lower_boolean_operation(node: cst.BooleanOperation, rx: str) -> cst.Call:
    operation = "and_" if isinstance(node.operator, cst.And) else "or_"
    return runtime_call(rx, operation, _bare(node.left), thunk(_bare(node.right)))


def lower_not(node: cst.UnaryOperation, rx: str) -> cst.Call:
    return runtime_call(rx, "not_", _bare(node.expression))


def _bare(expression):
    """Drop parentheses that only grouped the operand: it is now a call argument."""
    keep = (cst.Tuple, cst.GeneratorExp, cst.NamedExpr)
    if getattr(expression, "lpar", None) and not isinstance(expression, keep):
        return expression.with_changes(lpar=[], rpar=[])
    return expression
