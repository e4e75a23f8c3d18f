"""Lowering of ``//``, ``%``, ``divmod``, ``int()``, ``round()`` and ``float()`` (runtime:
``relaxc_runtime.arithmetic``, through the context).

Before / after::

    mid = (lo + hi) // 2     ->  mid = rx.floordiv(lo + hi, 2)
    k = i % n                ->  k = rx.mod(i, n)
    j = int(x)               ->  j = rx.int(x)           (round, float, divmod likewise)
    7 // 2                   ->  7 // 2                  (numeric literals on both sides)
    "%d items" % n           ->  "%d items" % n          (a string literal formats)

torch's ``floor_divide`` has no derivative, and ``int()``/``round()`` of a tensor would read one
number for the whole batch; the runtime gives Python's value per instance and a straight-through
gradient. The builtins only where they are Python's (not rebound by the user's code or module).
"""

from __future__ import annotations

import libcst as cst

from .nodes import name, runtime_call

#: Builtins lowered here, each to the context method of the same name.
BUILTINS = ("int", "round", "float", "divmod")

_OPERATORS = {cst.FloorDivide: "floordiv", cst.Modulo: "mod"}


def _literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float))


def lower_binary_operation(updated: cst.BinaryOperation, rx: str) -> cst.BaseExpression:
    """``a // b`` and ``a % b`` as runtime calls; any other operator, literals on both sides, or a
    string literal on the left of ``%`` (formatting) as written."""
    function = _OPERATORS.get(type(updated.operator))
    if function is None or (_literal(updated.left) and _literal(updated.right)):
        return updated
    if isinstance(updated.left, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return updated
    lowered = runtime_call(rx, function, _bare(updated.left), _bare(updated.right))
    return lowered.with_changes(lpar=updated.lpar, rpar=updated.rpar)


def lower_builtin(updated: cst.Call, rx: str) -> cst.Call:
    """``int(x)``, ``round(x)``, ``float(x)``, ``divmod(a, b)`` as ``rx`` calls."""
    return updated.with_changes(func=cst.Attribute(name(rx), name(updated.func.value)))


def _bare(node: cst.BaseExpression) -> cst.BaseExpression:
    """An operand without the parentheses it needed as an operand (it is an argument now)."""
    if isinstance(node, cst.BinaryOperation) and len(node.lpar) == 1:
        return node.with_changes(lpar=[], rpar=[])
    return node
