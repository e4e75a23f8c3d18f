"""Lowering of subscripts, ``len`` and iteration (runtime: ``indexing``).

Before / after::

    xs[j]               ->  rx.getitem(xs, j)
    grid[i, 1:]         ->  rx.getitem(grid, (i, slice(1, None)))
    len(xs)             ->  rx.len(xs)
    for v in xs:        ->  for v in rx.iterate(xs):
    enumerate(xs)       ->  enumerate(rx.iterate(xs))
    for j in range(n):  ->  for j in rx.range(n):       # refuses a relaxed bound clearly
"""

from __future__ import annotations

import libcst as cst

from .nodes import call, name, runtime_call

#: Builtins whose positional arguments are the sequences being iterated.
_ITERATING_BUILTINS = {"enumerate": 1, "zip": None, "reversed": 1}


def index_expression(node: cst.Subscript) -> cst.BaseExpression:
    """The index of ``node`` as one expression: ``j``, ``slice(a, b)`` or a tuple of those."""
    parts = []
    for element in node.slice:
        index = element.slice
        if isinstance(index, cst.Index):
            parts.append(index.value)
        else:
            bounds = [index.lower, index.upper] + ([index.step] if index.step else [])
            parts.append(call("slice", *[b if b is not None else name("None") for b in bounds]))
    if len(parts) == 1:
        return parts[0]
    return cst.Tuple([cst.Element(p) for p in parts])


def lower_subscript(updated: cst.Subscript, rx: str) -> cst.Call:
    return runtime_call(rx, "getitem", updated.value, index_expression(updated))


def lower_len(updated: cst.Call, rx: str) -> cst.Call:
    return runtime_call(rx, "len", *[a.value for a in updated.args])


def lower_iterable(iterable: cst.BaseExpression, rx: str, builtin_names: set) -> cst.BaseExpression:
    """What a ``for`` iterates over, seen per instance."""
    if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name):
        function = iterable.func.value
        if function == "range" and function in builtin_names:
            return iterable.with_changes(func=cst.Attribute(name(rx), name("range")))
        if function in _ITERATING_BUILTINS and function in builtin_names:
            count = _ITERATING_BUILTINS[function]
            args = [
                a.with_changes(value=runtime_call(rx, "iterate", a.value))
                if a.keyword is None and a.star == "" and (count is None or i < count) else a
                for i, a in enumerate(iterable.args)
            ]
            return iterable.with_changes(args=args)
    return runtime_call(rx, "iterate", iterable)
