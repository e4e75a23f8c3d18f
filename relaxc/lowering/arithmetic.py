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

from .nodes import name, runtime_call, runtime_operation

#: Builtins lowered here, each to the context method of the same name.
BUILTINS = ("int", "round", "float", "divmod")

_OPERATORS = {cst.FloorDivide: "floordiv", cst.Modulo: "mod"}


def _literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float))


#: Lowered conditions (``rx.gt(a, b)``, ...): a ``bool`` per instance, whatever the mode.
_CONDITIONS = frozenset({"lt", "le", "gt", "ge", "eq", "ne", "in_", "not_in", "not_", "and_",
                         "or_"})


def _is_condition(node: cst.BaseExpression, rx: str) -> bool:
    return runtime_operation(node, rx) in _CONDITIONS


def counted(node: cst.BaseExpression, rx: str) -> cst.BaseExpression:
    """A condition that is an operand of ``+``, ``-`` or unary ``-`` as ``rx.number(...)``:
    Python adds booleans as the ints 0 and 1 (``(a > 0) + (b > 0)`` counts), where torch's ``+``
    of two bool tensors (a hard decision) is a logical or and its ``-`` an error."""
    if not _is_condition(node, rx):
        return node
    return runtime_call(rx, "number", node).with_changes(lpar=node.lpar, rpar=node.rpar)


def lower_binary_operation(updated: cst.BinaryOperation, rx: str) -> cst.BaseExpression:
    """``a // b`` and ``a % b`` as runtime calls; any other operator, literals on both sides, or a
    string literal on the left of ``%`` (formatting) as written (conditions added or subtracted
    as numbers, :func:`counted`)."""
    if isinstance(updated.operator, (cst.Add, cst.Subtract)):
        updated = updated.with_changes(left=counted(updated.left, rx),
                                       right=counted(updated.right, rx))
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
