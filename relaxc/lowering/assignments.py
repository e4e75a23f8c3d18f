"""Lowering of assignments to subscripts and of augmented assignments (runtime: ``indexing``,
``assignments``).

Tensors are values, so writing into one rebinds the variable to a new tensor; lists are still
updated in place (``rx.setitem`` returns the same list)::

    xs[j] = v                        ->  xs = rx.setitem(xs, j, v)
    grid[i][j] = v                   ->  grid = rx.setitem(grid, i, rx.setitem(rx.getitem(grid, i), j, v))
    xs[j], xs[j + 1] = xs[j + 1], xs[j]
                                     ->  value, value_1 = rx.getitem(xs, j + 1), rx.getitem(xs, j)
                                         xs = rx.setitem(xs, j, value)
                                         xs = rx.setitem(xs, j + 1, value_1)
    count += 1                       ->  count = rx.iadd(count, 1)
    a, b = pair                      ->  a, b = rx.iterate(pair)     # per instance, not the batch

Targets are assigned left to right after the value is computed, as in Python.
"""

from __future__ import annotations

import libcst as cst

from .indexing import index_expression, lower_subscript
from .nodes import assign, name, runtime_call, string

_AUGMENTED = {
    cst.AddAssign: "iadd", cst.SubtractAssign: "isub", cst.MultiplyAssign: "imul",
    cst.DivideAssign: "itruediv", cst.FloorDivideAssign: "ifloordiv", cst.ModuloAssign: "imod",
    cst.PowerAssign: "ipow", cst.MatrixMultiplyAssign: "imatmul", cst.BitAndAssign: "iand",
    cst.BitOrAssign: "ior", cst.BitXorAssign: "ixor", cst.LeftShiftAssign: "ilshift",
    cst.RightShiftAssign: "irshift",
}


def holds_subscript(target) -> bool:
    if isinstance(target, cst.Subscript):
        return True
    if isinstance(target, (cst.Tuple, cst.List)):
        return any(holds_subscript(e.value) for e in target.elements)
    if isinstance(target, cst.StarredElement):
        return holds_subscript(target.value)
    return False


def _load(expression, rx):
    """The value of a target expression, read per instance."""
    if isinstance(expression, cst.Subscript):
        return lower_subscript(expression.with_changes(value=_load(expression.value, rx)), rx)
    return expression


def _store(target, value, rx, arguments=frozenset()) -> cst.Assign:
    """``target = value`` with subscripts turned into ``rx.setitem`` and the root rebound. A root
    among ``arguments`` (a parameter written in place only, ``analysis.written_arguments``) is
    named to the write, which refuses a caller's tensor (``runtime/calls.py``)."""
    while isinstance(target, cst.Subscript):
        extra = ([string(target.value.value)] if isinstance(target.value, cst.Name)
                 and target.value.value in arguments else [])
        value = runtime_call(rx, "setitem", _load(target.value, rx), index_expression(target), value,
                             *extra)
        target = target.value
    return assign(target, value)


def lower_assign(updated: cst.Assign, rx: str, temporaries, arguments=frozenset()) -> list:
    """Small statements replacing ``updated`` when a target holds a subscript."""
    (target,) = [t.target for t in updated.targets]
    if isinstance(target, cst.Subscript):
        return [_store(target, updated.value, rx, arguments)]
    elements = [e.value for e in target.elements]
    names = temporaries(len(elements))
    unpack = assign(cst.Tuple([cst.Element(name(n)) for n in names], lpar=[], rpar=[]),
                    updated.value)
    return [unpack] + [_store(element, name(n), rx, arguments) for element, n in zip(elements, names)]


def lower_unpacking(updated: cst.Assign, rx: str) -> cst.Assign:
    """``a, b = value`` unpacks one instance: a batched tensor is split along dim 1, not 0. A
    literal tuple on the right (``a, b = b, a``) is already per instance and stays as written."""
    unpacks = any(isinstance(t.target, (cst.Tuple, cst.List)) for t in updated.targets)
    if not unpacks or isinstance(updated.value, (cst.Tuple, cst.List)):
        return updated
    return updated.with_changes(value=runtime_call(rx, "iterate", updated.value))


def lower_augmented(updated: cst.AugAssign, rx: str, arguments=frozenset()) -> cst.BaseSmallStatement:
    operation = _AUGMENTED[type(updated.operator)]
    target = updated.target
    if isinstance(target, cst.Attribute):
        return updated    # an object's attribute: Python's own augmented assignment
    return _store(target, runtime_call(rx, operation, _load(target, rx), updated.value), rx, arguments)
