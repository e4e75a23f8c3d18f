"""Lowering of subscripts, ``len`` and iteration (runtime: ``indexing``).

Before / after::

    xs[j]               ->  rx.getitem(xs, j)
    grid[i, 1:]         ->  rx.getitem(grid, (i, slice(1, None)))
    len(xs)             ->  rx.len(xs)
    for v in xs:        ->  for v in rx.iterate(xs):
    enumerate(xs)       ->  enumerate(rx.iterate(xs))   # anywhere, not only in a `for`
    sum(reversed(xs))   ->  sum(reversed(rx.iterate(xs)))
    sorted(xs)          ->  rx.sorted(rx.iterate(xs))   # refuses relaxed keys clearly
    for j in range(n):  ->  for j in rx.range(n):       # refuses a relaxed bound clearly
    [*xs], f(*xs)       ->  [*rx.iterate(xs)], f(*rx.iterate(xs))
    zip(*grid)          ->  zip(*rx.iterate(grid, unpack=True))   # each row per instance too
    ys.extend(xs)       ->  ys.extend(rx.iterate(xs))
    xs.copy(), xs.tolist(), x.item()  ->  rx.copy(xs), rx.tolist(xs), rx.item(x)
    f"{x:.3f}"          ->  f"{rx.formatted(x):.3f}"     # each instance's number
"""

from __future__ import annotations

import libcst as cst

from .nodes import call, keyword, name, runtime_call

#: Builtins that iterate over some of their positional arguments: name -> (first, end) positions
#: of those arguments (end None: all that follow). Given a batched tensor they would iterate over
#: the batch; each such argument goes through ``rx.iterate`` so they see one instance's elements.
ITERATING_BUILTINS = {
    "enumerate": (0, 1), "zip": (0, None), "reversed": (0, 1), "sum": (0, 1), "list": (0, 1),
    "tuple": (0, 1), "sorted": (0, 1), "any": (0, 1), "all": (0, 1), "iter": (0, 1),
    "set": (0, 1), "frozenset": (0, 1), "map": (1, None), "filter": (1, 2),
}


#: Methods without arguments whose meaning per instance the runtime gives (a tensor's own
#: would see the batch: ``tolist`` its rows, ``item`` instance 0; a tensor has no ``copy``).
PER_INSTANCE_METHODS = frozenset({"item", "tolist", "copy"})


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


def iterated_arguments(call: cst.Call) -> list[cst.Arg]:
    """The arguments that a call of one of :data:`ITERATING_BUILTINS` iterates over."""
    first, end = ITERATING_BUILTINS[call.func.value]
    return [a for i, a in enumerate(call.args)
            if (a.keyword is None and a.star == "" and first <= i and (end is None or i < end))
            or (a.keyword is not None and a.keyword.value == "iterable")]   # enumerate(iterable=)


def lower_iterating_builtin(updated: cst.Call, rx: str) -> cst.Call:
    """A call of one of :data:`ITERATING_BUILTINS`: its iterated arguments through ``rx.iterate``."""
    iterated = iterated_arguments(updated)
    args = [a.with_changes(value=runtime_call(rx, "iterate", a.value))
            if any(a is b for b in iterated) else a for a in updated.args]
    if updated.func.value == "sorted":   # refuses relaxed keys clearly (Python's `<` cannot)
        return updated.with_changes(func=cst.Attribute(name(rx), name("sorted")), args=args)
    return updated.with_changes(args=args)


def lower_iterable(iterable: cst.BaseExpression, rx: str, builtin_names: set) -> cst.BaseExpression:
    """What a ``for`` iterates over, seen per instance (a call of an iterating builtin was already
    lowered by :func:`lower_iterating_builtin`)."""
    if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name):
        function = iterable.func.value
        if function == "range" and function in builtin_names:
            return iterable.with_changes(func=cst.Attribute(name(rx), name("range")))
        if function in ITERATING_BUILTINS and function in builtin_names:
            return iterable
    return runtime_call(rx, "iterate", iterable)


def lower_starred_element(updated: cst.StarredElement, rx: str) -> cst.StarredElement:
    """``*xs`` in a list, tuple or set display: one instance's elements, not the batch."""
    return updated.with_changes(value=runtime_call(rx, "iterate", updated.value))


def lower_unpacked_arguments(updated: cst.Call, rx: str, builtin_names: set) -> cst.Call:
    """``f(*xs)`` and ``ys.extend(xs)`` (any method of that name: it iterates its argument, as
    ``list``'s, ``deque``'s and ``array``'s do), their iterated arguments through ``rx.iterate``;
    any other call unchanged. Unpacked into a builtin that iterates each of its arguments
    (``zip(*grid)``, ``map(f, *columns)``), each element is split per instance as well."""
    extends = (isinstance(updated.func, cst.Attribute) and updated.func.attr.value == "extend"
               and len(updated.args) == 1 and updated.args[0].star == "")
    if not extends and all(a.star != "*" for a in updated.args):
        return updated
    each_iterated = (isinstance(updated.func, cst.Name) and updated.func.value in builtin_names
                     and ITERATING_BUILTINS.get(updated.func.value, (0, 1))[1] is None)

    def iterated(value):
        node = runtime_call(rx, "iterate", value)
        if each_iterated:
            node = node.with_changes(args=[*node.args, keyword("unpack", name("True"))])
        return node

    return updated.with_changes(args=[a.with_changes(value=iterated(a.value))
                                      if extends or a.star == "*" else a for a in updated.args])


def lower_formatted_value(updated: cst.FormattedStringExpression,
                          rx: str) -> cst.FormattedStringExpression:
    """``f"{x:.3f}"``: a format spec formats one number, so a batch's goes through
    ``rx.formatted`` (``f"{x=:.3f}"`` keeps its text, and so its value, as written)."""
    if not updated.format_spec or updated.equal is not None:
        return updated
    return updated.with_changes(expression=runtime_call(rx, "formatted", updated.expression))
