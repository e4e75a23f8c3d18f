"""Static analyses of the user's function, computed once on the parsed tree and never rewriting it.

- which names an expression reads and a statement writes;
- liveness: which variables may be read after each ``if`` (its branches must return exactly those
  they assign);
- definite assignment: which variables are surely bound before each branch (the others are
  declared as unbound so that the branches can receive and merge them);
- early exits: whether an ``if`` holds a ``return``/``break``/``continue`` for the code around it.

The results are keyed by the nodes of the tree that lowering walks, and dumped compactly by
:meth:`FunctionFacts.dump` for tests (``L3 if: inputs (a, b) -> outputs (a, b)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from .lowering.nodes import runtime_attribute, runtime_operation
from .source import UserSource


class _Loads(cst.CSTVisitor):
    """Collects every load of a variable, in order: ``(name, Name node)``."""

    def __init__(self):
        self.loads: list[tuple[str, cst.Name]] = []

    def visit_Name(self, node: cst.Name):
        self.loads.append((node.value, node))

    def visit_Attribute(self, node: cst.Attribute):
        node.value.visit(self)    # `.attr` is not a variable
        return False

    def visit_Arg(self, node: cst.Arg):
        node.value.visit(self)    # `keyword=` is not a variable
        return False

    def visit_Lambda(self, node: cst.Lambda):
        params = {p.name.value for p in node.params.params}
        self.loads += [load for load in _loads_in_order(node.body) if load[0] not in params]
        return False


def _loads_in_order(node) -> list[tuple[str, cst.Name]]:
    visitor = _Loads()
    node.visit(visitor)
    return visitor.loads


# Within one analyse() call the tree is alive and immutable, so results can be kept per node: the
# liveness fixpoints ask for the same statements' effects many times.
_memo: dict | None = None


def _memoised(kind: str, node, compute):
    if _memo is None:
        return compute()
    key = (kind, id(node))
    if key not in _memo:
        _memo[key] = compute()
    return _memo[key]


def reads(node) -> list[str]:
    """Names that ``node`` (an expression, or a target's subexpressions) loads."""
    if node is None:
        return []

    def compute():
        return list(dict.fromkeys(name for name, _ in _loads_in_order(node)))

    return _memoised("reads", node, compute)


def target_effects(target) -> tuple[list[str], list[str]]:
    """(names bound, names read) by assigning to ``target``.

    ``xs[i] = v`` both reads and rebinds ``xs``: the compiler turns it into
    ``xs = rx.setitem(xs, i, v)`` so that tensors stay values.
    """
    if isinstance(target, cst.Name):
        return [target.value], []
    if isinstance(target, (cst.Tuple, cst.List)):
        bound, read = [], []
        for element in target.elements:
            b, r = target_effects(element.value)
            bound += b
            read += r
        return bound, read
    if isinstance(target, cst.StarredElement):
        return target_effects(target.value)
    if isinstance(target, cst.Subscript):
        base = subscript_base(target)
        return ([base] if base else []), reads(target)
    return [], reads(target)   # attributes: the object is read, no variable is bound


def subscript_base(node) -> str | None:
    """The variable at the root of ``xs[i][j]`` (``xs``), or None for ``f()[i]``."""
    while isinstance(node, cst.Subscript):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def nodes_of(node, *types) -> list:
    """Every node inside ``node`` (itself included) that is an instance of ``types``, in order."""
    found = []

    class _Collect(cst.CSTVisitor):
        def on_visit(self, inner):
            if isinstance(inner, types):
                found.append(inner)
            return True

    node.visit(_Collect())
    return found


def contains(node, *types) -> bool:
    """Whether ``node`` or anything inside it is an instance of ``types``."""
    return bool(nodes_of(node, *types))


def present_types(node) -> set:
    """The node types that occur in ``node`` (one walk, for several questions)."""
    return {type(inner) for inner in nodes_of(node, cst.CSTNode)}


def walrus_targets(node) -> list[str]:
    return [n.target.value for n in nodes_of(node, cst.NamedExpr)]


def small_effects(stmt) -> tuple[list[str], list[str], list[str]]:
    """(reads, writes, kills) of a small statement; kills are writes that overwrite."""
    return _memoised("effects", stmt, lambda: _small_effects(stmt))


def _small_effects(stmt):
    if isinstance(stmt, cst.Assign):
        value_reads = reads(stmt.value)
        writes, target_reads = [], []
        for t in stmt.targets:
            b, r = target_effects(t.target)
            writes += b
            target_reads += r
        kills = [n for t in stmt.targets for n in _plain_names(t.target)]
        return value_reads + target_reads, writes + walrus_targets(stmt.value), kills
    if isinstance(stmt, cst.AnnAssign):
        b, r = target_effects(stmt.target)
        return reads(stmt.value) + r, b, _plain_names(stmt.target) if stmt.value else []
    if isinstance(stmt, cst.AugAssign):
        b, r = target_effects(stmt.target)
        own = [stmt.target.value] if isinstance(stmt.target, cst.Name) else []
        return reads(stmt.value) + r + own, b, []
    return reads(stmt), walrus_targets(stmt), []


def _plain_names(target) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _plain_names(e.value)]
    if isinstance(target, cst.StarredElement):
        return _plain_names(target.value)
    return []


def orelse_body(node: cst.If) -> list:
    """The statements of an ``if``'s else part (an ``elif`` is one nested ``if``)."""
    if node.orelse is None:
        return []
    if isinstance(node.orelse, cst.If):
        return [node.orelse]
    return list(node.orelse.body.body)


def body_of(node) -> list:
    return list(node.body.body) if isinstance(node.body, cst.IndentedBlock) else [node.body]


def _loop_else(node) -> list:
    return list(node.orelse.body.body) if node.orelse is not None else []


def writes_in(statements) -> list[str]:
    """Variables assigned anywhere in ``statements`` (comprehension variables excluded)."""
    found: dict[str, None] = {}
    for stmt in statements:
        for name in _writes_of(stmt):
            found.setdefault(name, None)
    return list(found)


def _writes_of(stmt) -> list[str]:
    if isinstance(stmt, cst.SimpleStatementLine):
        return [n for s in stmt.body for n in small_effects(s)[1]]
    if isinstance(stmt, cst.If):
        return walrus_targets(stmt.test) + writes_in(body_of(stmt)) + writes_in(orelse_body(stmt))
    if isinstance(stmt, cst.For):
        return (target_effects(stmt.target)[0] + writes_in(body_of(stmt))
                + writes_in(_loop_else(stmt)))
    if isinstance(stmt, cst.While):
        return walrus_targets(stmt.test) + writes_in(body_of(stmt)) + writes_in(_loop_else(stmt))
    return []


def has_early_exit(node: cst.If) -> str | None:
    """The first ``return``/``break``/``continue`` in ``node`` that leaves it, as source text."""

    def search(statements, in_loop):
        for stmt in statements:
            if isinstance(stmt, cst.SimpleStatementLine):
                for s in stmt.body:
                    if isinstance(s, cst.Return):
                        return "`return`"
                    if isinstance(s, (cst.Break, cst.Continue)) and not in_loop:
                        return "`break`" if isinstance(s, cst.Break) else "`continue`"
            elif isinstance(stmt, cst.If):
                found = search(body_of(stmt) + orelse_body(stmt), in_loop)
                if found:
                    return found
            elif isinstance(stmt, (cst.For, cst.While)):
                found = search(body_of(stmt), True) or search(_loop_else(stmt), in_loop)
                if found:
                    return found
        return None

    return search(body_of(node) + orelse_body(node), False)


_INTEGER_OPERATORS = (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Modulo,
                      cst.LeftShift, cst.RightShift, cst.BitAnd, cst.BitOr, cst.BitXor)
_AUGMENTED_INTEGER_OPERATORS = (cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign,
                                cst.FloorDivideAssign, cst.ModuloAssign)
#: Builtins whose result is an int (or a bool) whatever their arguments.
_INTEGER_BUILTINS = frozenset({"len", "int", "round", "bool"})


def is_integer_expression(node, integers: set, integer_lists: set | frozenset = frozenset()) -> bool:
    """Whether ``node`` is integer-valued on every path, given the ``integers`` variables and the
    ``integer_lists`` (lists whose every element is one): int and bool literals,
    ``len``/``int``/``round``, comparisons and logic (booleans are 0 or 1), ``+ - * // %`` (and
    ``min``/``max``/``abs``/conditional expressions) of such values, an element of an integer
    list, and ``sum`` of integer values (``sum(x > 0 for x in xs)``, ``sum(counts)``)."""
    def integer(n) -> bool:
        if isinstance(n, cst.Integer):
            return True
        if isinstance(n, cst.Name):
            return n.value in integers or n.value in ("True", "False")
        if isinstance(n, cst.Subscript):
            return isinstance(n.value, cst.Name) and n.value.value in integer_lists
        if isinstance(n, (cst.Comparison, cst.BooleanOperation)):
            return isinstance(n, cst.Comparison) or (integer(n.left) and integer(n.right))
        if isinstance(n, cst.UnaryOperation):
            return isinstance(n.operator, cst.Not) or integer(n.expression)
        if isinstance(n, cst.BinaryOperation):
            return (isinstance(n.operator, _INTEGER_OPERATORS) and integer(n.left)
                    and integer(n.right))
        if isinstance(n, cst.IfExp):
            return integer(n.body) and integer(n.orelse)
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Name):
            name = n.func.value
            if name == "round":
                return len(n.args) == 1
            if name in _INTEGER_BUILTINS:
                return True
            if name in ("min", "max", "abs"):
                return bool(n.args) and all(a.star == "" and integer(a.value) for a in n.args)
            if name == "sum":
                return len(n.args) == 1 and integer_elements(n.args[0].value, integers, integer_lists)
        return False

    return integer(node)


def integer_elements(node, integers: set, integer_lists: set | frozenset) -> bool:
    """Whether every element of the iterable ``node`` is integer-valued (see
    :func:`is_integer_expression`): an integer list, or a literal or comprehension of integers."""
    if isinstance(node, cst.Name):
        return node.value in integer_lists
    if isinstance(node, (cst.GeneratorExp, cst.ListComp)):
        return is_integer_expression(node.elt, integers, integer_lists)
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(not isinstance(e, cst.StarredElement)
                   and is_integer_expression(e.value, integers, integer_lists) for e in node.elements)
    return False


def _target_values(target, value):
    """``(leaf target, value node or None)`` for each name or subscript that assigning ``value``
    to ``target`` binds; the value is None where it is not known per leaf (``a, b = pair``,
    ``*rest``)."""
    if isinstance(target, (cst.Tuple, cst.List)):
        values = (value.elements if isinstance(value, (cst.Tuple, cst.List))
                  and len(value.elements) == len(target.elements) else None)
        for k, element in enumerate(target.elements):
            yield from _target_values(element.value, values[k].value if values else None)
    elif isinstance(target, cst.StarredElement):
        yield from _target_values(target.value, None)
    else:
        yield target, value


def _assigned_values(target, value):
    """``(name, value)`` for each variable that assigning ``value`` to ``target`` binds."""
    return [(leaf.value, v) for leaf, v in _target_values(target, value) if isinstance(leaf, cst.Name)]


def _element_writes(target, value):
    """``(list name, value)`` for each ``xs[k]`` that assigning ``value`` to ``target`` writes
    (``counts[0], counts[1] = 0, 1`` writes two)."""
    return [(leaf.value.value, v) for leaf, v in _target_values(target, value)
            if isinstance(leaf, cst.Subscript) and isinstance(leaf.value, cst.Name)]


#: Builtins that read a list's elements and keep no reference to it.
_LIST_READERS = frozenset({"len", "sum", "min", "max", "sorted", "enumerate", "zip", "reversed",
                           "any", "all", "print"})
#: Methods that leave every element of an integer list an integer, given integer arguments.
_INTEGER_LIST_METHODS = frozenset({"append", "insert", "pop", "sort", "reverse", "clear", "index",
                                   "count"})


def _integer_list_value(value, integers: set, integer_lists: set) -> bool:
    """Whether ``value`` makes a list of integers: ``[0, 0]``, ``[0] * n``, ``[c > 0 for c in xs]``;
    or a dict of them (``{"above": 0}``, a counter), whose values are read and written as a
    list's elements are."""
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Multiply):
        value = value.left if isinstance(value.left, cst.List) else value.right
    if isinstance(value, cst.Dict):
        # (its keys too, or strings: `sum(d)` and `max(d)` read the keys)
        return all(isinstance(e, cst.DictElement)
                   and is_integer_expression(e.value, integers, integer_lists)
                   and (isinstance(e.key, (cst.SimpleString, cst.ConcatenatedString))
                        or is_integer_expression(e.key, integers, integer_lists))
                   for e in value.elements)
    return isinstance(value, (cst.List, cst.ListComp)) and integer_elements(value, integers, integer_lists)


def _yields_integers(iterator, spans=()) -> bool:
    """Whether every item of a ``for`` loop's iterable is an int: ``range(...)``, ``reversed`` of
    one, a tuple or list of int literals, a per-instance range's positions (``spans``)."""
    if isinstance(iterator, cst.Call) and isinstance(iterator.func, cst.Name):
        if iterator.func.value == "range":
            return True
        if iterator.func.value == "reversed" and len(iterator.args) == 1:
            return _yields_integers(iterator.args[0].value, spans)
        return False
    if isinstance(iterator, (cst.Tuple, cst.List)):
        return bool(iterator.elements) and all(
            isinstance(e, cst.Element) and isinstance(e.value, cst.Integer)
            for e in iterator.elements)
    return isinstance(iterator, cst.Name) and iterator.value in spans


def integer_names(function: cst.FunctionDef, params: list[str],
                  rx: str = "rx") -> tuple[set[str], set[str]]:
    """The local variables that hold an integer on every path (DESIGN §1.2): counters, indices,
    lengths, flags; and the local lists whose every element is one (``counts[k] += 1``). A greatest
    fixpoint: every variable assigned in the function starts as both, and one that some
    assignment gives a value not known to be one leaves the set (a parameter is not known to be
    either). A list also leaves when an element is given such a value, a method may put one in,
    or the list is handed to anything but a builtin that only reads it (a helper may write it).

    Canonicalization's forms (``rx`` is the context's name) keep what they stand for: an exit
    value's ``v = rx.pending`` binds nothing yet, ``v = rx.returned(v)`` and ``rx.settled(v)``
    are ``v``, and ``k, x = item`` of ``for item in enumerate(xs)`` makes ``k`` a counter."""
    sites = []   # (name, value node, or None for "not known to be an integer")
    enumerated = set()   # `item` of `for item in enumerate(...)` (a loop with a break)
    unpacked = []        # (item, counter target, element target) of `k, x = item`

    def canonical(value):
        """``value`` as what it stands for; None for ``rx.pending`` (no value yet)."""
        if runtime_attribute(value, rx) == "pending":
            return None
        if runtime_operation(value, rx) in ("returned", "settled") and len(value.args) == 1:
            return value.args[0].value
        return value
    element_writes = []   # (list name, value node or None) for `xs[k] = v`, `xs[k] += v`
    spans = set()   # names of `rx.span(...)`: a per-instance range's static positions
    handled = set()   # the Name nodes of a list's reads and writes that keep it an integer list

    def bind(target, value):
        sites.extend(_assigned_values(target, value))
        element_writes.extend(_element_writes(target, value))
        for name in nodes_of(target, cst.Name):
            handled.add(id(name))

    class _Sites(cst.CSTVisitor):
        def visit_Assign(self, node):
            value = canonical(node.value)
            if value is None:
                return
            if runtime_operation(value, rx) == "span":   # (relaxc/ranges.py: its positions)
                spans.update(t.target.value for t in node.targets
                             if isinstance(t.target, cst.Name))
            for target in node.targets:
                target = target.target
                if (isinstance(value, cst.Name) and value.value in enumerated
                        and isinstance(target, cst.Tuple) and len(target.elements) == 2):
                    unpacked.append((value.value, target.elements[0].value,
                                     target.elements[1].value))   # decided below
                else:
                    bind(target, value)

        def visit_AnnAssign(self, node):
            bind(node.target, node.value)

        def visit_AugAssign(self, node):
            known = isinstance(node.operator, _AUGMENTED_INTEGER_OPERATORS)
            if isinstance(node.target, cst.Name):
                sites.append((node.target.value, node.value if known else None))
            elif isinstance(node.target, cst.Subscript) and isinstance(node.target.value, cst.Name):
                element_writes.append((node.target.value.value, node.value if known else None))
                handled.add(id(node.target.value))

        def visit_Subscript(self, node):
            if isinstance(node.value, cst.Name):
                handled.add(id(node.value))

        def visit_Call(self, node):
            func = node.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
                handled.add(id(func.value))
                known = func.attr.value in _INTEGER_LIST_METHODS
                element_writes.extend((func.value.value, a.value if known else None) for a in node.args)
                if not known:
                    element_writes.append((func.value.value, None))
            elif isinstance(func, cst.Name) and func.value in _LIST_READERS:
                handled.update(id(a.value) for a in node.args if isinstance(a.value, cst.Name))

        def visit_Comparison(self, node):
            handled.update(id(c.comparator) for c in node.comparisons
                           if isinstance(c.operator, (cst.In, cst.NotIn)) and isinstance(c.comparator, cst.Name))

        def visit_CompFor(self, node):
            if isinstance(node.iter, cst.Name):
                handled.add(id(node.iter))

        def visit_NamedExpr(self, node):
            bind(node.target, node.value)

        def visit_For(self, node):
            iterator = node.iter
            name = (iterator.func.value if isinstance(iterator, cst.Call)
                    and isinstance(iterator.func, cst.Name) else None)
            if _yields_integers(iterator, spans):
                bind(node.target, cst.Integer("0"))
            elif (name == "zip" and isinstance(node.target, cst.Tuple)
                  and len(node.target.elements) == len(iterator.args)
                  and not any(a.star for a in iterator.args)
                  and not any(isinstance(e, cst.StarredElement) for e in node.target.elements)):
                for element, argument in zip(node.target.elements, iterator.args):
                    bind(element.value, cst.Integer("0")
                         if _yields_integers(argument.value, spans) else None)
            elif name == "enumerate" and isinstance(node.target, cst.Tuple) \
                    and len(node.target.elements) == 2:
                bind(node.target.elements[0].value, cst.Integer("0"))
                bind(node.target.elements[1].value, None)
            else:
                if name == "enumerate" and isinstance(node.target, cst.Name):
                    enumerated.add(node.target.value)
                bind(node.target, None)
            if isinstance(iterator, cst.Name):
                handled.add(id(iterator))

    function.body.visit(_Sites())
    for item, counter, element in unpacked:
        # `item` holds enumerate's pairs only where that loop is its one binding.
        only_enumerated = sum(name == item for name, _ in sites) == 1
        bind(counter, cst.Integer("0") if only_enumerated else None)
        bind(element, None)
    # A name that a comprehension or a lambda binds as well is another variable in there: the
    # comparisons that read it cannot tell which one they mean, so it is no integer.
    shadowed = {n for comp in nodes_of(function, cst.CompFor) for n in target_effects(comp.target)[0]}
    shadowed |= {p.name.value for lam in nodes_of(function, cst.Lambda) for p in lam.params.params}
    integers = {name for name, _ in sites} - set(params) - shadowed
    lists = set(integers)
    lists -= {n.value for n in nodes_of(function.body, cst.Name) if id(n) not in handled}
    changed = True
    while changed:
        changed = False
        for name, value in sites:
            if name in integers and (value is None or not is_integer_expression(value, integers, lists)):
                integers.discard(name)
                changed = True
            if name in lists and (value is None or not _integer_list_value(value, integers, lists)):
                lists.discard(name)
                changed = True
        for name, value in element_writes:
            if name in lists and (value is None or not is_integer_expression(value, integers, lists)):
                lists.discard(name)
                changed = True
    return integers, lists


def is_static_expression(node, static: set) -> bool:
    """Whether ``node`` is surely static (the same for every instance) given the ``static``
    variables: literals, ``len(...)``, and arithmetic, ``min``/``max``/``abs`` of such values."""
    if isinstance(node, (cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.Name):
        return node.value in static or node.value in ("True", "False", "None")
    if isinstance(node, cst.UnaryOperation):
        return is_static_expression(node.expression, static)
    if isinstance(node, cst.Comparison):
        return is_static_expression(node.left, static) and all(
            is_static_expression(c.comparator, static) for c in node.comparisons)
    if isinstance(node, (cst.BinaryOperation, cst.BooleanOperation)):
        return (is_static_expression(node.left, static)
                and is_static_expression(node.right, static))
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
        if node.func.value == "len":
            return True
        if node.func.value in ("min", "max", "abs", "int"):
            return all(is_static_expression(a.value, static) for a in node.args)
    return False


def static_names(function: cst.FunctionDef, params: list[str], enclosing=()) -> set[str]:
    """The local variables that are surely static where a statement inside the ``enclosing``
    ``if``/``while``/``for`` statements runs: every assignment gives a static expression
    (``is_static_expression``) and happens under static conditions, apart from the enclosing
    ones (there the paths run apart: a counter of a relaxed ``while`` is an ``int`` inside its
    body, on the path that goes on; after the loop it is merged). Parameters may be tensors, so
    they are not static."""
    sites = []   # (name, value node or None, the statements it is assigned under, their tests)
    enclosing = set(map(id, enclosing))

    def bind(target, value, conditions):
        sites.extend((name, v, conditions) for name, v in _assigned_values(target, value))

    def under(stmt, test, conditions):
        return conditions if id(stmt) in enclosing else conditions + (test,)

    def walk(statements, conditions):
        for stmt in statements:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        for target in small.targets:
                            bind(target.target, small.value, conditions)
                    elif isinstance(small, cst.AnnAssign):
                        bind(small.target, small.value, conditions)
                    elif isinstance(small, cst.AugAssign):
                        # `x += v` is as static as `x + v`.
                        bind(small.target, cst.BinaryOperation(small.target, cst.Add(),
                                                               small.value), conditions)
                    for walrus in nodes_of(small, cst.NamedExpr):
                        bind(walrus.target, walrus.value, conditions)
            elif isinstance(stmt, cst.If):
                inner = under(stmt, stmt.test, conditions)
                walk(body_of(stmt), inner)
                walk(orelse_body(stmt), inner)
            elif isinstance(stmt, cst.While):
                walk(body_of(stmt), under(stmt, stmt.test, conditions))
                walk(_loop_else(stmt), conditions)
            elif isinstance(stmt, cst.For):
                iterator = stmt.iter
                is_range = (isinstance(iterator, cst.Call) and isinstance(iterator.func, cst.Name)
                            and iterator.func.value == "range")
                inner = under(stmt, iterator, conditions) if is_range else conditions
                bind(stmt.target, cst.Integer("0") if is_range else None, inner)
                walk(body_of(stmt), inner)
                walk(_loop_else(stmt), conditions)

    def range_static(node, static):
        # The loop count of `range(...)` is static when its arguments are.
        if isinstance(node, cst.Call):
            return all(is_static_expression(a.value, static) for a in node.args)
        return is_static_expression(node, static)

    walk(body_of(function), ())
    static = {name for name, _, _ in sites} - set(params)
    changed = True
    while changed:
        changed = False
        for name, value, conditions in sites:
            if name in static and (value is None or not is_static_expression(value, static)
                                   or not all(range_static(c, static) for c in conditions)):
                static.discard(name)
                changed = True
    return static


@dataclass
class BranchFacts:
    """What the lowering of one ``if`` (or conditional expression) needs."""

    inputs: tuple[str, ...]   # variables the branches receive
    outputs: tuple[str, ...]  # variables they return: assigned in a branch and read afterwards


@dataclass
class FunctionFacts:
    params: list[str]
    locals: set[str]
    branches: dict = field(default_factory=dict)        # cst.If / cst.IfExp -> BranchFacts
    early_exits: dict = field(default_factory=dict)     # cst.If -> "`return`" ...
    unbound: list[str] = field(default_factory=list)    # declared unbound at the start
    one_path_hints: dict = field(default_factory=dict)  # (if line, name) -> (assign, read) lines
    written_arguments: set = field(default_factory=set)  # parameters written in place only
    integers: set = field(default_factory=set)          # variables integer-valued on every path
    integer_lists: set = field(default_factory=set)     # lists whose every element is one
    while_comparisons: set = field(default_factory=set)  # comparisons in a `while` condition

    def dump(self, source: UserSource) -> str:
        """One line per branch, for tests that read like a diff."""
        lines = []
        kinds = {cst.IfExp: "ifexp", cst.If: "if", cst.While: "while"}
        for node, facts in self.branches.items():
            kind = kinds[type(node)]
            lines.append(f"L{source.line_of(node)} {kind}: inputs ({', '.join(facts.inputs)}) "
                         f"-> outputs ({', '.join(facts.outputs)})")
        for node, exit_kind in self.early_exits.items():
            lines.append(f"L{source.line_of(node)} if: static only ({exit_kind})")
        if self.unbound:
            lines.append(f"unbound at start: {', '.join(self.unbound)}")
        return "\n".join(lines)


class _Liveness:
    """Backward liveness over structured statements; records what is live after each ``if``."""

    def __init__(self, record: dict | None, loop_exits: dict | None = None):
        self.record = record
        self.loops: list[tuple[set, set]] = []   # (live after the loop, live at its head)
        # `while` -> its exit flags (and return values): the runtime reads them at the back edge.
        self.loop_exits = loop_exits or {}

    def block(self, statements, live_out: set) -> set:
        live = set(live_out)
        for stmt in reversed(statements):
            live = self.statement(stmt, live)
        return live

    def statement(self, stmt, live_out: set) -> set:
        if isinstance(stmt, cst.SimpleStatementLine):
            live = set(live_out)
            for small in reversed(stmt.body):
                live = self.small(small, live)
            return live
        if isinstance(stmt, cst.If):
            if self.record is not None:
                self.record[stmt] = set(live_out)
            return (set(reads(stmt.test)) | self.block(body_of(stmt), live_out)
                    | self.block(orelse_body(stmt), live_out))
        if isinstance(stmt, (cst.For, cst.While)):
            return self.loop(stmt, live_out)
        return set(live_out) | set(reads(stmt))

    def loop(self, stmt, live_out: set) -> set:
        exit_live = self.block(_loop_else(stmt), live_out)
        if self.record is not None:   # what is live where the loop itself ends: its else part
            self.record[stmt] = set(exit_live)
        head: set = set()
        while True:
            self.loops.append((live_out, head))
            read_by_loop = {n for pair in self.loop_exits.get(stmt, ()) for n in pair if n}
            body_live = self.block(body_of(stmt), head | read_by_loop)
            self.loops.pop()
            if isinstance(stmt, cst.For):
                bound, target_reads = target_effects(stmt.target)
                new_head = exit_live | (body_live - set(bound)) | set(target_reads)
            else:
                new_head = exit_live | body_live | set(reads(stmt.test))
            if new_head == head:
                break
            head = new_head
        return head | (set(reads(stmt.iter)) if isinstance(stmt, cst.For) else set())

    def small(self, stmt, live_out: set) -> set:
        if isinstance(stmt, cst.Return):
            return set(reads(stmt.value))
        if isinstance(stmt, cst.Break):
            return set(self.loops[-1][0]) if self.loops else set()
        if isinstance(stmt, cst.Continue):
            return set(self.loops[-1][1]) if self.loops else set()
        if isinstance(stmt, cst.Raise):
            return set(reads(stmt))
        stmt_reads, _, kills = small_effects(stmt)
        return (set(live_out) - set(kills)) | set(stmt_reads)


_UNREACHABLE = None   # definite assignment after a return/break/continue: "everything"


def _meet(a, b):
    if a is _UNREACHABLE:
        return b
    if b is _UNREACHABLE:
        return a
    return a & b


class _DefiniteAssignment:
    """Forward analysis: the variables surely bound before each ``if`` and conditional expression."""

    def __init__(self):
        self.before: dict = {}

    def block(self, statements, bound):
        for stmt in statements:
            if bound is _UNREACHABLE:
                return bound
            bound = self.statement(stmt, bound)
        return bound

    def statement(self, stmt, bound):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self._note_ifexps(small, bound)
                if isinstance(small, (cst.Return, cst.Break, cst.Continue, cst.Raise)):
                    return _UNREACHABLE
                bound = bound | set(small_effects(small)[1])
            return bound
        if isinstance(stmt, cst.If):
            self._note_ifexps(stmt.test, bound)
            self.before[stmt] = bound
            bound = bound | set(walrus_targets(stmt.test))
            return _meet(self.block(body_of(stmt), bound), self.block(orelse_body(stmt), bound))
        if isinstance(stmt, cst.For):
            self._note_ifexps(stmt.iter, bound)
            self.block(body_of(stmt), bound | set(target_effects(stmt.target)[0]))
            return self.block(_loop_else(stmt), bound)
        if isinstance(stmt, cst.While):
            self._note_ifexps(stmt.test, bound)
            self.before[stmt] = bound
            self.block(body_of(stmt), bound)
            return self.block(_loop_else(stmt), bound)
        return bound

    def _note_ifexps(self, node, bound):
        for ifexp in nodes_of(node, cst.IfExp):
            self.before[ifexp] = bound


def _ordered(names, order: list[str]) -> tuple[str, ...]:
    rank = {n: i for i, n in enumerate(order)}
    return tuple(sorted(set(names), key=lambda n: rank.get(n, len(rank))))


def analyse(source: UserSource) -> FunctionFacts:
    """All facts about the user's function that lowering needs."""
    global _memo
    _memo = {}
    try:
        return _analyse(source)
    finally:
        _memo = None


def parameter_names(function: cst.FunctionDef) -> list[str]:
    params = [p.name.value for p in (
        *function.params.posonly_params, *function.params.params, *function.params.kwonly_params)]
    for star in (function.params.star_arg, function.params.star_kwarg):
        if isinstance(star, cst.Param):
            params.append(star.name.value)
    return params


def written_arguments(function: cst.FunctionDef, params: list[str]) -> set[str]:
    """The parameters whose elements the function writes (``xs[j] = v``, ``xs[j] += 1``) but
    which it never rebinds nor returns: writes its caller is meant to see, as with a list."""
    written, rebound = set(), set()
    for node in nodes_of(function.body, cst.Assign, cst.AugAssign, cst.AnnAssign, cst.For,
                         cst.NamedExpr):
        for target in ([t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]):
            for leaf, _ in _target_values(target, None):
                if isinstance(leaf, cst.Name):
                    rebound.add(leaf.value)
                while isinstance(leaf, cst.Subscript):   # `grid[i][j] = v` writes into `grid`
                    leaf = leaf.value
                    if isinstance(leaf, cst.Name):
                        written.add(leaf.value)
    returned = set()
    for node in nodes_of(function.body, cst.Return):
        values = node.value.elements if isinstance(node.value, (cst.Tuple, cst.List)) else [node]
        returned.update(v.value.value for v in values if isinstance(v.value, cst.Name))
    return (written & set(params)) - rebound - returned


def _analyse(source: UserSource) -> FunctionFacts:
    function = source.node
    params = parameter_names(function)
    statements = body_of(function)
    order = list(dict.fromkeys(params + writes_in(statements)))
    integers, integer_lists = integer_names(function, params, source.runtime_name)
    facts = FunctionFacts(params=params, locals=set(order),
                          written_arguments=written_arguments(function, params),
                          integers=integers, integer_lists=integer_lists,
                          while_comparisons={c for loop in nodes_of(function, cst.While)
                                             for c in nodes_of(loop.test, cst.Comparison)})

    live_after: dict = {}
    _Liveness(live_after, source.loop_exits).block(statements, set())
    definite = _DefiniteAssignment()
    definite.block(statements, set(params))

    needs_declaring: set[str] = set()
    early: dict = {}

    class _Branches(cst.CSTVisitor):
        def visit_If(self, node: cst.If):
            exit_kind = has_early_exit(node)
            if exit_kind:
                early[node] = exit_kind
                return True
            writes = writes_in(body_of(node)) + writes_in(orelse_body(node))
            outputs = _ordered(set(writes) & live_after.get(node, set()), order)
            inputs = set()
            for branch in (body_of(node), orelse_body(node)):
                inputs |= _Liveness(None).block(branch, set(outputs))
            inputs = _ordered(inputs & facts.locals, order)
            facts.branches[node] = BranchFacts(inputs, outputs)
            needs_declaring.update(set(inputs) - definite.before.get(node, set()))
            return True

        def visit_While(self, node: cst.While):
            # The loop's state: what the condition and body read, and what the body assigns
            # that is read afterwards or in a later iteration.
            exposed = _Liveness(None).block(body_of(node), set()) | set(reads(node.test))
            assigned = set(writes_in(body_of(node)))
            state = exposed | (assigned & (live_after.get(node, set()) | exposed))
            state |= {n for pair in source.loop_exits.get(node, ()) for n in pair if n}
            state = _ordered(state & facts.locals, order)
            facts.branches[node] = BranchFacts(state, state)
            needs_declaring.update(set(state) - definite.before.get(node, set()))
            return True

        def visit_IfExp(self, node: cst.IfExp):
            inputs = _ordered((set(reads(node.body)) | set(reads(node.orelse))) & facts.locals,
                              order)
            facts.branches[node] = BranchFacts(inputs, ())
            needs_declaring.update(set(inputs) - definite.before.get(node, set()))
            return True

    function.body.visit(_Branches())
    facts.early_exits = early
    facts.unbound = [n for n in order if n in needs_declaring and n not in params]
    _one_path_hints(source, facts, statements)
    return facts


def _one_path_hints(source: UserSource, facts: FunctionFacts, statements) -> None:
    """For each declared-unbound output of an ``if``: where a branch assigns it, where it is read
    afterwards. Used to name both lines when it turns out to be assigned on one path only."""
    declared = set(facts.unbound)
    loads = _loads_in_order(cst.Module(body=statements)) if declared else []
    for node, branch in facts.branches.items():
        if not isinstance(node, cst.If):
            continue
        end = source.position(node).end.line
        for name in branch.outputs:
            if name not in declared:
                continue
            assign = _first_assignment(source, node, name)
            read = next((source.line_of(n) for v, n in loads
                         if v == name and _known(source, n) and source.position(n).start.line > end),
                        None)
            facts.one_path_hints[(source.line_of(node), name)] = (assign, read)


def _known(source: UserSource, node) -> bool:
    """Whether ``node`` has a user position (names made by canonicalization do not)."""
    try:
        source.position(node)
    except KeyError:
        return False
    return True


def _first_assignment(source: UserSource, node: cst.If, name: str) -> int | None:
    found = []

    class _Assignments(cst.CSTVisitor):
        def visit_SimpleStatementLine(self, stmt):
            if not found and any(name in small_effects(s)[1] for s in stmt.body):
                found.append(source.line_of(stmt))

    node.visit(_Assignments())
    return found[0] if found else None
