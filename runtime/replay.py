"""Record and replay (the ``replay=True`` option): a relaxed call as straight-line torch code.

On small tensors most of a relaxed call's time is the runtime's Python deciding, per comparison,
what to compute: which values differ between two paths, which merge applies, what needs a guard.
For one *signature* (the shapes, dtypes, devices and ``requires_grad`` of the tensor arguments,
the values of the others, the options) those decisions are the same on every call except the few
that read a tensor on the host (``bool(frozen.all())`` ending a relaxed ``while``, a merge that is
not finite). So the first call with a signature runs as usual while a torch function mode records
every torch call it makes and every host read (the runtime's own go through ``host.py``, which
this module's recorder observes: the ops do not know about replay), and later calls run the
record as generated code::

    t6 = sub_2(t1, t2)                          # torch.Tensor.sub, as recorded
    t8 = sigmoid_5(t7)
    t9 = lerp_6(t1, t2, t8)
    t1 = t2 = None                              # freed after their last use
    if __bool___18(t45) != c19: raise Diverged  # bool(frozen.all()) was False
    if not all_finite(t9, t15, ...): raise Diverged     # merges the runtime found finite
    return {True: n1, False: n2}.get(choice, diverged)  # a read that went both ways

Each host read is made again and checked. Where one gives another answer than every record so far,
the replay stops and the call runs as usual, recorded: the records form a tree that branches at
the host reads where they differ, and the code is generated again. Calls with the same host reads
make the same torch calls, so a replay computes what the runtime computes, values and gradients.

``relaxc.compile`` runs the same code under ``torch.compile`` (``Replays(name, compile_options)``):
Dynamo then traces straight-line torch calls, not the runtime's Python deciding what to call, so
the compile costs close to what the same algorithm written by hand costs (docs/performance.md).

The contract, as for ``torch.jit.trace`` and CUDA graphs: what the function does depends on its
arguments only (no global that changes between calls, no side effect but the result). A recording
that cannot be replayed is dropped and the call's signature runs as usual from then on, with a
warning that says why: a tensor that does not come from the arguments (a global), a list argument
changed in place, an argument or result of a kind the record cannot hold.
"""

from __future__ import annotations

import copy
import functools
import linecache
import math
import threading
import weakref

import torch
from torch.overrides import TorchFunctionMode, resolve_name
from torch.utils import _pytree as pytree

from . import host
from .finite_tests import Coverage, FiniteTest, spreads
from .categorical import Categorical
from .events import Event
from .host import every_finite
from .values import values_in

#: How many differing records a signature may collect before it stops being recorded.
MAX_RECORDS = 64
#: How many signatures a function may have records for; calls with more run as usual.
MAX_SIGNATURES = 64

class Diverged(Exception):
    """A host read during a replay gave an answer no record has: the call runs as usual."""


# Tensor queries that read no values, only what the signature fixes (shape, dtype, device,
# requires_grad); replays skip them. ``_version`` feeds caches only (Categorical's one-hot test);
# ``is_inference`` is False in every recorded call (inference runs without replay).
_METADATA = frozenset(f"torch.Tensor.{name}" for name in (
    "dim", "ndimension", "size", "numel", "__len__", "is_floating_point", "is_complex",
    "element_size", "__hash__", "get_device", "is_inference",
    *(f"{p}.__get__" for p in ("shape", "dtype", "device", "ndim", "requires_grad", "is_leaf",
                               "layout", "is_cuda", "_version", "names", "is_sparse",
                               "is_quantized", "is_meta", "is_nested"))))


class _Unrecordable(Exception):
    """Why a recording cannot be replayed."""


class _Op:
    """One recorded torch call: ``outs = func(*args, **kwargs)`` under grad mode ``grad``.
    ``args`` is a tuple of templates, ``kwargs`` of (name, template); ``outs`` the numbers of the
    tensors it returns (``unpack``: a tuple or list of them, else one tensor or None);
    ``writes``: it wrote into a tensor it was given. Not part of its key: ``layouts``, the
    (shape, dtype) of each tensor it returns (fixed by the signature), and ``finite``, whether
    each was found finite where it may stand for merges in their tests (finite_tests.py) in
    every record so far."""

    __slots__ = ("func", "args", "kwargs", "outs", "unpack", "grad", "writes", "layouts",
                 "finite")

    def __init__(self, func, args, kwargs, outs, unpack, grad, writes, layouts, finite):
        self.func, self.args, self.kwargs = func, args, kwargs
        self.outs, self.unpack, self.grad, self.writes = outs, unpack, grad, writes
        self.layouts, self.finite = layouts, finite

    def key(self):
        return (self.func, self.args, self.kwargs, self.outs, self.unpack, self.grad,
                self.writes)


class _Read:
    """One host read: ``func(*args, **kwargs)`` read back to Python, or (``func`` None) the
    :func:`finite` test of the tensor ``args`` of shape ``shape``."""

    __slots__ = ("func", "args", "kwargs", "shape")

    def __init__(self, func, args, kwargs, shape=None):
        self.func, self.args, self.kwargs, self.shape = func, args, kwargs, shape

    def key(self):
        return (self.func, self.args, self.kwargs, self.shape)


class _End:
    """The end of a record: the template of the result."""

    __slots__ = ("result",)

    def __init__(self, result):
        self.result = result

    def key(self):
        return (self.result,)


# Templates: a tensor argument is ("v", number); a constant is ("c", value); lists, tuples and
# dicts that hold tensors are ("list"/"tuple", items) and ("dict", ((key, template), ...)).
def _same(a, b) -> bool:
    """Whether two template trees are the same (constants by identity, else type and value)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except Exception:   # an object without a plain-bool ==: only itself is the same
        return False


_PLAIN = (type(None), bool, int, float, complex, str, bytes, type(Ellipsis), torch.dtype,
          torch.device, torch.layout, torch.memory_format)


def _plain(value) -> bool:
    """Whether ``value`` is a constant that holds no tensor: the same on every replay."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (tuple, list)):   # torch.Size too
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    if isinstance(value, slice):
        return _plain((value.start, value.stop, value.step))
    return False


def _holds_tensor(value) -> bool:
    return any(isinstance(v, (torch.Tensor, Event)) for v in values_in(value))


class _Recorder(TorchFunctionMode):
    """Records the torch calls and host reads of one call (module docstring)."""

    def __init__(self, inputs):
        super().__init__()
        # id(tensor) -> (its number, a weak reference that forgets the id when the tensor dies):
        # intermediates are freed as in the usual run, and a new tensor that gets a dead one's
        # id is not taken for it.
        self.numbers = {}
        self.count = 0
        self.events = []       # _Op, (_Read, answer), and at last _End
        self.broken = None     # why this record cannot be replayed
        self.paused = self.warned = False
        # Elements of the merges found finite so far: a tensor made later stands for some of them
        # only if it has no more elements (finite_tests.Coverage.choose), so no larger one is
        # tested here.
        self.merged_elements = 0
        for tensor in inputs:
            self._number(tensor)

    def _number(self, tensor) -> int:
        number, key = self.count, id(tensor)
        self.count += 1
        numbers = self.numbers

        def forget(_, key=key, number=number):
            if numbers.get(key, (None,))[0] == number:
                del numbers[key]

        numbers[key] = (number, weakref.ref(tensor, forget))
        return number

    def number_of(self, tensor) -> int:
        entry = self.numbers.get(id(tensor))
        if entry is None or entry[1]() is not tensor:
            raise _Unrecordable(
                "it reads a tensor that does not come from its arguments (a global tensor, "
                "or one kept from an earlier call)")
        return entry[0]

    def template(self, value):
        if isinstance(value, torch.Tensor):
            return ("v", self.number_of(value))
        if isinstance(value, Event):   # a torch function sees its probability (its own
            return self.template(value.prob)   # __torch_function__ says so)
        if type(value) in (list, tuple) and _holds_tensor(value):
            return (type(value).__name__, tuple(self.template(v) for v in value))
        if type(value) is dict and _holds_tensor(value):
            return ("dict", tuple((k, self.template(v)) for k, v in value.items()))
        if not _plain(value):
            raise _Unrecordable(f"it passes a {type(value).__name__} to a torch function, which "
                                f"a record cannot hold")
        # A private copy: the caller may change a list it passed after this call.
        return ("c", copy.deepcopy(value) if isinstance(value, (list, dict)) else value)

    def _unrecorded(self, test, tensor):
        """``test(tensor)``, whose torch calls are not the record's (a read, or a note on it)."""
        self.paused = True
        try:
            return test(tensor)
        finally:
            self.paused = False

    def finite(self, tensor):
        answer = self._unrecorded(every_finite, tensor)
        if answer:
            self.merged_elements += tensor.numel()
        if self.broken is None:
            try:
                self.events.append((_Read(None, self.template(tensor), (), tuple(tensor.shape)),
                                    answer))
            except _Unrecordable as why:
                self.broken = str(why)
        return answer

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.paused or self.broken is not None:
            return func(*args, **kwargs)
        name = _name(func)
        if name in _METADATA:
            return func(*args, **kwargs)
        if name == "torch.Tensor.__iter__":
            # Its elements are made by an unbind inside it, which this mode does not see.
            return iter(self.__torch_function__(torch.Tensor.unbind, types, (args[0], 0)))
        if _shaped_by_data(name, args, kwargs):
            # Shapes are read as fixed by the signature (_METADATA): not this result's.
            self.broken = f"the shape of what {name} returns depends on the values"
            return func(*args, **kwargs)
        try:
            arg_template = tuple(self.template(a) for a in args)
            kwarg_template = tuple((k, self.template(v)) for k, v in kwargs.items())
        except _Unrecordable as why:
            self.broken = str(why)
            return func(*args, **kwargs)
        grad = torch.is_grad_enabled()
        tensors = [t for t in values_in((args, kwargs)) if isinstance(t, torch.Tensor)]
        versions = [t._version for t in tensors]
        result = func(*args, **kwargs)
        # What it wrote into (an in-place op, out=, inplace=True) decides whether a replay may
        # leave it out, and where the finiteness tests before it must be made.
        writes = any(t._version != v for t, v in zip(tensors, versions))
        unpack = (isinstance(result, (tuple, list)) and bool(result)
                  and all(isinstance(r, torch.Tensor) for r in result))
        if unpack or isinstance(result, torch.Tensor) or (result is None
                                                          and not name.endswith(".__get__")):
            results = tuple(result) if unpack else () if result is None else (result,)
            self.events.append(_Op(func, arg_template, kwarg_template,
                                   tuple(self._number(r) for r in results), unpack, grad, writes,
                                   _layouts(results), self._found_finite(name, results)))
        elif _holds_tensor(result):
            self.broken = f"{name} returns tensors in a {type(result).__name__}"
        elif not _hashable(result):
            self.broken = f"it reads a {type(result).__name__} back from {name}"
        else:   # a value read back to Python (a getter's None too): read again and compared
            self.events.append((_Read(func, arg_template, kwarg_template), result))
        return result


    def _found_finite(self, name, results) -> tuple:
        """Whether each result was finite, for those that may stand for merges in their tests:
        dense CPU tensors (merges are tested on the CPU only) with no more elements than the
        merges found finite so far."""
        if not spreads(name.rsplit(".", 1)[-1]):
            return (False,) * len(results)
        return tuple(r.is_floating_point() and r.device.type == "cpu"
                     and r.layout == torch.strided and 0 < r.numel() <= self.merged_elements
                     and self._unrecorded(_finite_if_summable, r) for r in results)


def _finite_if_summable(tensor) -> bool:
    """``every_finite``, or False for a dtype the CPU cannot sum (float8)."""
    try:
        return every_finite(tensor)
    except (NotImplementedError, RuntimeError):
        return False


def _layouts(tensors) -> tuple:
    return tuple((tuple(t.shape), t.dtype) for t in tensors)


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


_names: dict = {}


def _name(func) -> str:
    name = _names.get(func)
    if name is None:
        name = _names[func] = resolve_name(func) or repr(func)
    return name


# Arguments and results as templates: ("tree", the pytree spec of the structure, a template per
# leaf), a tensor leaf as ("v", its number), any other as ("c", its value). The kinds of value that
# a caller passes in (a Categorical) are pytree nodes (their modules register them).
def _flatten(value, number):
    """The template of ``value``, a tensor as ``("v", number(tensor))``. Raises _Unrecordable
    for values a record cannot hold."""
    leaves, spec = pytree.tree_flatten(value)
    return ("tree", spec, tuple(_leaf(leaf, number) for leaf in leaves))


def _leaf(value, number):
    if isinstance(value, torch.Tensor):
        return ("v", number(value))
    if value is None or type(value) in (bool, int, float, str, bytes, complex):
        return ("c", value)
    raise _Unrecordable(f"it takes or returns a {type(value).__name__}, which a record does "
                        f"not hold")


def _leaves(value):
    """(template, tensors in order): a tensor met twice keeps its first number."""
    leaves, numbers = [], {}

    def number(tensor):
        if id(tensor) not in numbers:
            numbers[id(tensor)] = len(leaves)
            leaves.append(tensor)
        return numbers[id(tensor)]

    return _flatten(value, number), leaves


def _signature(template, leaves):
    """What a record depends on besides the host reads: the arguments' template, the type and
    value of each other argument (``2`` and ``2.0``, ``0.0`` and ``-0.0`` differ), each tensor
    argument's kind, and autocast on its device."""
    return (_typed(template),
            tuple((type(t), t.shape, t.dtype, t.device, t.requires_grad) for t in leaves),
            _autocast(leaves))


def _autocast(leaves):
    """Autocast on the devices of ``leaves`` and the CPU; None for CPU tensors without autocast
    (one query, which sees the CPU but not every device type, MPS for one)."""
    devices = {t.device.type for t in leaves} | {"cpu"}
    if devices == {"cpu"} and not torch._C._is_any_autocast_enabled():
        return None
    return tuple((d, torch.is_autocast_enabled(d), torch.get_autocast_dtype(d))
                 for d in sorted(devices) if torch.amp.is_autocast_available(d))


def _typed(template):
    """The template with each constant's type (``2`` and ``2.0``, ``0.0`` and ``-0.0`` differ)."""
    if template[0] == "tensors":   # ("tensors", n): Replays.__call__'s n distinct tensors
        return template
    _, spec, leaves = template
    return (spec, tuple(leaf if leaf[0] == "v" else
                        (type(leaf[1]), leaf[1].hex() if type(leaf[1]) is float else leaf[1])
                        for leaf in leaves))


def _build(template, values):
    _, spec, leaves = template
    return pytree.tree_unflatten([values[body] if kind == "v" else body for kind, body in leaves],
                                 spec)


# The tree of records, and the code made from it.
class _Node:
    """Torch calls up to a host read (``read``, with a child per answer seen), or up to the end
    (``end``)."""

    __slots__ = ("ops", "read", "children", "end")

    def __init__(self):
        self.ops, self.read, self.children, self.end = [], None, {}, None


def _chain(events) -> _Node:
    node = first = _Node()
    for event in events:
        if isinstance(event, _Op):
            node.ops.append(event)
        elif isinstance(event, _End):
            node.end = event
        else:
            read, answer = event
            node.read = read
            node.children[answer] = node = _Node()
    return first


def _graft(root, events) -> bool:
    """Add a record to the tree: it must make the same calls as the records it shares host
    answers with, or the function depends on more than its arguments. Whether it branched off
    (else it only told which tensors were finite)."""
    node, position = root, 0
    while True:
        for op in node.ops:
            event = events[position]
            if not (isinstance(event, _Op) and _same(op.key(), event.key())):
                raise _Unrecordable(_NOT_DETERMINED)
            op.finite = tuple(a and b for a, b in zip(op.finite, event.finite))
            position += 1
        event = events[position]
        if node.read is None:
            if not (isinstance(event, _End) and _same(node.end.key(), event.key())):
                raise _Unrecordable(_NOT_DETERMINED)
            return False
        if not (isinstance(event, tuple) and _same(node.read.key(), event[0].key())):
            raise _Unrecordable(_NOT_DETERMINED)
        answer = event[1]
        if answer not in node.children:
            node.children[answer] = _chain(events[position + 1:])
            return True
        node, position = node.children[answer], position + 1


_NOT_DETERMINED = ("two calls with the same arguments' shapes and the same host reads made "
                   "different torch calls: the function depends on more than its arguments "
                   "(a global, a random number)")


class _Code:
    """Python source for a tree of records: one function per node reached by a branching read,
    run by a trampoline (each returns the next function, or the result's tensors)."""

    def __init__(self, root, filename, stand_ins=True):
        self.stand_ins = stand_ins   # (finite_tests.Coverage)
        self.constants, self.constant_names = {}, {}   # name -> value, (type, id) -> name
        self.lines, self.tables, self.functions = [], [], {}
        self.draws = False   # whether a call may draw random numbers (then a replay saves the RNG)
        pending = [root]
        while pending:
            pending.extend(self._function(pending.pop()))
        # The entry: a function of the tensors, defined in this source so that each code has
        # a code object of its own (torch.compile keeps its graphs per code object).
        self.lines += ["def replayed(*leaves):",
                       "    v = dict(enumerate(leaves))",
                       f"    step = {self._name(root)}",
                       "    while callable(step):",
                       "        step = step(v)",
                       "    return build(step.result, v)"]
        namespace = dict(self.constants)
        namespace.update(finite=every_finite, all_finite=_all_finite, Diverged=Diverged,
                         diverged=_diverged, build=_build,
                         set_grad=torch._C._set_grad_enabled)
        self.filename = filename
        source = "\n".join(self.lines) + "\n"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
        for table in self.tables:   # answers -> names, now -> functions
            table.update({k: namespace[v] for k, v in table.items()})
        self.replayed = namespace["replayed"]

    def _name(self, node) -> str:
        return self.functions.setdefault(id(node), f"n{len(self.functions)}")

    def _constant(self, value) -> str:
        """The name of a constant in the code: a torch function's own name and a number
        (``lerp_6``), so that the code reads like what it calls; else ``c`` and a number."""
        key = (type(value), id(value))
        if key not in self.constant_names:
            short = _name(value).rsplit(".", 1)[-1] if callable(value) else ""
            prefix = short + "_" if short.isidentifier() else "c"
            name = self.constant_names[key] = f"{prefix}{len(self.constants)}"
            self.constants[name] = value
        return self.constant_names[key]

    def _expression(self, template) -> str:
        kind, body = template
        if kind == "v":
            return f"t{body}"   # a local variable of the generated function (see _emit)
        if kind == "c":
            return self._constant(body)
        if kind == "dict":
            return "{" + ", ".join(f"{self._constant(k)}: {self._expression(t)}"
                                   for k, t in body) + "}"
        items = ", ".join(self._expression(t) for t in body)
        return f"[{items}]" if kind == "list" else f"({items}{',' if len(body) == 1 else ''})"

    def _call(self, func, args, kwargs) -> str:
        parts = [self._expression(t) for t in args]
        parts += [f"{k}={self._expression(t)}" for k, t in kwargs]
        return f"{self._constant(func)}({', '.join(parts)})"

    def _function(self, node):
        """Emit the function that starts at ``node``; returns the nodes that start others.

        Each tensor is dropped after its last use here, unless a later function or the result
        reads it: the tensors are freed as the usual run frees them, so the allocator reuses
        warm memory instead of holding every intermediate to the end.
        """
        # statements: (line, numbers it reads, numbers it writes, whether it may be dropped
        # when nothing reads what it writes, the torch call it makes or None)
        first, statements = node, []
        grad = None
        # Merges found finite are tested together (finite_tests.py chooses the tensors), before
        # anything is written in place: a replay whose test fails is dropped as a whole and the
        # call runs as usual, so testing a little later is as good.
        finite = []   # (number, shape) of the merges to test

        def test_finite():
            if finite:
                statements.append((FiniteTest(finite), tuple(n for n, _ in finite), (), False,
                                   None))
                finite.clear()

        while True:
            for op in node.ops:
                if op.writes:   # the tests read the merges as they were, before any write
                    test_finite()
                if op.grad != grad:
                    statements.append((f"set_grad({op.grad})", (), (), False, None))
                    grad = op.grad
                self.draws = self.draws or not _known(op)
                call = self._call(op.func, op.args, op.kwargs)
                reads = _read_numbers((op.args, op.kwargs))
                if not op.outs and not op.unpack:
                    statements.append((call, reads, (), False, op))
                else:
                    targets = "".join(f"t{n}, " for n in op.outs) if op.unpack \
                        else f"t{op.outs[0]}"
                    statements.append((f"{targets} = {call}", reads, op.outs,
                                       not op.writes and _known(op), op))   # (droppable)
            read = node.read
            if read is None:
                test_finite()
                self._emit(first, statements, _read_numbers(node.end.result),
                           f"return {self._constant(node.end)}")
                return []
            if read.func is None and list(node.children) == [True]:
                finite.append((read.args[1], read.shape))
                node = node.children[True]
                continue
            test = (f"finite({self._expression(read.args)})" if read.func is None
                    else self._call(read.func, read.args, read.kwargs))
            reads = _read_numbers((read.args, read.kwargs))
            if len(node.children) == 1:
                (answer, child), = node.children.items()
                statements.append((f"if {test} != {self._constant(answer)}: raise Diverged",
                                   reads, (), False, None))
                node = child
                continue
            test_finite()
            table = {answer: self._name(child) for answer, child in node.children.items()}
            self.tables.append(table)
            statements.append((f"choice = {test}", reads, (), False, None))
            later = set().union(*(_numbers_read_below(c) for c in node.children.values()))
            self._emit(first, statements, later,
                       f"return {self._constant(table)}.get(choice, diverged)")
            return list(node.children.values())

    def _emit(self, start, statements, later, last_line):
        """The function's lines: ``statements`` but those whose results nothing reads (a value
        the usual run computed and dropped, like ``x + 1`` in a merge of ``x += 1``), each
        followed by dropping the tensors it used for the last time (but not those in ``later``,
        which later functions or the result read), then ``last_line``."""
        later = set(later)
        live, kept = set(later), []
        for line, reads, writes, pure, op in reversed(statements):
            if isinstance(line, FiniteTest):
                kept.append((line, reads, (), None))   # decided below, once every read is known
                continue
            if pure and live.isdisjoint(writes):
                continue
            live.update(reads)
            kept.append((line, reads, writes, op))
        kept.reverse()
        kept = _with_tests(kept, live, self.stand_ins)
        # Tensors are local variables (t7) here, faster than slots of v: the function loads
        # from v what it reads before it writes it, and stores in v what later functions read.
        loaded, written, last_use = [], set(), {}
        for position, (_, reads, writes) in enumerate(kept):
            loaded += [n for n in reads if n not in written and n not in loaded]
            written.update(reads, writes)
            for number in (*reads, *writes):
                last_use[number] = position
        done_after = {}
        for number, position in last_use.items():
            if number not in later:
                done_after.setdefault(position, []).append(number)
        emit = self.lines.append
        emit(f"def {self._name(start)}(v):")
        if loaded:   # (taken out of v unless a later function reads it too)
            emit("    " + ", ".join(f"t{n}" for n in loaded) + ", = "
                 + ", ".join(f"v[{n}]" if n in later else f"v.pop({n})" for n in loaded) + ",")
        for position, (line, _, _) in enumerate(kept):
            emit(f"    {line}")
            if position in done_after:
                emit("    " + " = ".join(f"t{n}" for n in sorted(done_after[position]))
                     + " = None")
        stored = sorted(later & written)
        if stored:
            emit("    " + ", ".join(f"v[{n}]" for n in stored) + ", = "
                 + ", ".join(f"t{n}" for n in stored) + ",")
        emit(f"    {last_line}")


def _with_tests(statements, live, stand_ins) -> list:
    """``statements`` (line, reads, writes, torch call or None) as (line, reads, writes), each
    FiniteTest (one per stretch without writes in place) written out. A merge nothing reads
    (here or in a later function) goes untested: were it not finite, the usual run would repair
    a value nothing reads either. The others are tested through the tensors
    ``finite_tests.Coverage`` chooses (``stand_ins``: not only merges), in stacks of up to
    ``_FINITE_CHUNK`` (one ``all_finite`` per shape), each placed after the last tensor it
    reads is made."""
    tested = [(n, shape) for line, _, _, _ in statements if isinstance(line, FiniteTest)
              for n, shape in line if n in live]
    coverage = Coverage(tested, stand_ins)
    written, tests, start = [], [], 0   # tests: (index to go at, line, reads)
    for line, reads, writes, op in statements:
        if not isinstance(line, FiniteTest):
            written.append((line, reads, writes))
            if op is not None:
                coverage.add(_name(op.func).rsplit(".", 1)[-1], op, len(written))
                if op.writes:
                    start = len(written)
            continue
        needed = [(n, shape) for n, shape in line if n in live]
        if not needed:
            continue
        chosen = sorted(coverage.choose(needed, start), key=lambda c: c[2])
        for first in range(0, len(chosen), _FINITE_CHUNK):
            chunk = chosen[first:first + _FINITE_CHUNK]
            by_shape = {}
            for number, shape, _ in chunk:
                by_shape.setdefault(shape, []).append(number)
            test = " and ".join(f"all_finite({', '.join(f't{n}' for n in numbers)})"
                                for numbers in by_shape.values())
            tests.append((chunk[-1][2], f"if not ({test}): raise Diverged",
                          tuple(n for numbers in by_shape.values() for n in numbers)))
    for index, line, reads in reversed(tests):   # (sorted by index: stretches come in order)
        written.insert(index, (line, reads, ()))
    return written


def _known(op) -> bool:
    """Whether a torch call makes its result from its arguments alone (no random draw)."""
    name = getattr(op.func, "__name__", None) or _name(op.func).rsplit(".", 1)[-1]
    return draws_nothing(name)


@functools.cache
def draws_nothing(name: str) -> bool:
    """Whether the torch call ``name`` (the last part of its name) draws no random number: an
    aten operator of that name (``__radd__``: ``add``) none of whose overloads is tagged
    ``nondeterministic_seeded``, or one of :data:`_NOT_ATEN`. Any other call counts as drawing:
    a replay then saves the random state and keeps the call though nothing reads it (slower,
    never wrong; tests/test_replay.py checks that the corpus makes no such call)."""
    if name in _NOT_ATEN:
        return True
    for candidate in _aten_names(name):
        if torch._C._jit_get_schemas_for_operator(f"aten::{candidate}"):
            packet = _aten_packet(candidate)
            return not any(torch.Tag.nondeterministic_seeded in getattr(packet, overload).tags
                           for overload in packet.overloads())
    return False


def _aten_packet(name: str):
    """``torch.ops.aten``'s operator ``name``: the one it already holds where it has one. Asking
    the namespace anew (its ``__getattr__``; plain ``getattr`` would find a dunder on the module)
    makes a new packet and replaces the held one, and with it the overload objects that Inductor's
    lowerings and the decompositions are keyed by: every later ``torch.compile`` in the process
    would then run those operators one by one, unfused."""
    held = vars(torch.ops.aten).get(name)
    return held if held is not None else torch.ops.aten.__getattr__(name)


def _aten_names(name: str) -> tuple:
    """The aten operators a torch call of this name may run: its own name, and for a Python
    operator (``__radd__``) also its bare name and the forward one (``radd``, ``add``)."""
    if not (name.startswith("__") and name.endswith("__")):
        return (name,)
    bare = name[2:-2]
    return (name, bare, bare[1:]) if bare.startswith("r") else (name, bare)


#: Torch calls that draw no random number and that no aten operator of the same name describes
#: (Python operators and functions made of other calls).
_NOT_ATEN = frozenset(("__truediv__", "__invert__", "float", "double", "bool", "long", "normalize",
                       "_set_grad_enabled"))


def _read_numbers(template) -> tuple:
    """The tensor numbers a template (or a tuple of templates) refers to."""
    numbers, stack = [], [template]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            if len(item) == 2 and item[0] == "v" and type(item[1]) is int:
                numbers.append(item[1])
            elif not (len(item) == 2 and item[0] == "c"):
                stack.extend(item)
    return tuple(numbers)


def _numbers_read_below(node) -> set:
    """The tensor numbers that ``node`` and the nodes after it refer to."""
    numbers, stack = set(), [node]
    while stack:
        node = stack.pop()
        for op in node.ops:
            numbers.update(_read_numbers((op.args, op.kwargs)))
        if node.read is not None:
            numbers.update(_read_numbers((node.read.args, node.read.kwargs)))
        else:
            numbers.update(_read_numbers(node.end.result))
        stack.extend(node.children.values())
    return numbers


#: Finiteness tests are made in stacks of at most this many tensors, while they are in the cache.
_FINITE_CHUNK = 64


def _diverged(v):
    raise Diverged


#: What :meth:`_Records._replay` gives for a replay that stopped.
_DIVERGED = object()


def _all_finite(*tensors) -> bool:
    """Whether every element of these tensors (all of one shape) is finite: for a few, a test
    each; for many, one test of their stack (a tenth of the time of a test each)."""
    if len(tensors) < 8:
        return all(every_finite(t) for t in tensors)
    grad = torch.is_grad_enabled()
    torch._C._set_grad_enabled(False)
    try:
        return every_finite(torch.stack(tensors))
    finally:
        torch._C._set_grad_enabled(grad)


class Replays:
    """The records of one compiled function, per signature, and their generated code."""

    def __init__(self, name: str, compile_options: dict | None = None):
        self.name = name
        #: ``relaxc.compile``: the options of ``torch.compile`` for the records' code (None: run
        #: as it is).
        self.compile_options = compile_options
        self.signatures = {}   # signature -> _Records
        self.too_many = False   # warned that there are more than MAX_SIGNATURES

    def counts(self) -> tuple[int, int]:
        """(records made, calls replayed), over all signatures."""
        return (sum(r.count for r in self.signatures.values()),
                sum(r.replayed for r in self.signatures.values()))

    def __call__(self, run, args, kwargs, options, fallback=None):
        """``run(args, kwargs)`` (the usual call) or its replay, for a call with ``options``;
        ``fallback(args, kwargs)`` where the call cannot be replayed (by default ``run``)."""
        if host.observer() is not None or torch.compiler.is_compiling():
            return run(args, kwargs)   # inside a recorded call, or captured by torch.compile
        fallback = run if fallback is None else fallback
        if (not kwargs and all(type(a) is torch.Tensor for a in args)
                and len({id(a) for a in args}) == len(args)):
            # The common call, distinct tensors: its signature without the general walk.
            leaves, template = list(args), ("tensors", len(args))
        else:
            try:
                template, leaves = _leaves((args, kwargs))
            except _Unrecordable as why:
                self._warn(str(why))
                return fallback(args, kwargs)
        if torch.is_inference_mode_enabled() or any(t.is_inference() for t in leaves):
            # Inference tensors keep no version, by which a record finds writes in place: such
            # a call runs as usual (the same values; inference needs no backward to save).
            return fallback(args, kwargs)
        key = (_signature(template, leaves), options, torch.is_grad_enabled(),
               torch.is_inference_mode_enabled(), torch.get_default_dtype())
        records = self.signatures.get(key)
        if records is None:
            if len(self.signatures) == MAX_SIGNATURES:
                if not self.too_many:
                    self.too_many = True
                    self._warn(f"it was called with more than {MAX_SIGNATURES} argument "
                               f"signatures (shapes, dtypes, static values): pass numbers "
                               f"that change from call to call as tensors")
                return fallback(args, kwargs)
            records = self.signatures[key] = _Records(self)
        return records.call(run, fallback, args, kwargs, leaves, template)

    def _warn(self, reason: str) -> None:
        """Why calls of a signature run as usual (or, compiled, from the relaxed code)."""
        if self.compile_options is None:
            _warn(self.name, reason)
        else:
            host.warn(f"relaxc.compile of {self.name}: this call is compiled from the relaxed "
                      f"code as a whole, not from its record (slower to compile), because "
                      f"{reason}")


class _Records:
    """The records of one signature: their tree, its code, or why they cannot be replayed."""

    def __init__(self, replays: Replays):
        self.replays = replays
        self.root = self.code = self.runner = self.broken = None
        self.count = self.replayed = 0   # records made, calls replayed
        self.stand_ins = True   # whether other tensors may stand for merges in their tests
        self.lock = threading.Lock()     # one thread at a time grows the tree

    def call(self, run, fallback, args, kwargs, leaves, template):
        if self.broken is not None:
            return fallback(args, kwargs)
        if self.code is not None:
            result = self._replay(leaves)
            if result is not _DIVERGED:
                return result
        return self._record(run, args, kwargs, leaves, template)

    def _replay(self, leaves, just_recorded=False):
        """The records' code run on ``leaves`` (compiled for ``relaxc.compile``), or
        ``_DIVERGED`` where it stopped: a host read with a new answer, or a call that fails
        where the usual run would not (a genuine error is raised again by the usual run).
        ``just_recorded``: the call was recorded from these very arguments, so an error other
        than a divergence is the compiler's (``torch.compile``'s): raised, as the compiled
        function itself raises it, and later calls take the fallback (compiled whole) instead of
        recording and compiling anew each time."""
        grad = torch.is_grad_enabled()
        # The usual run after a divergence draws again what the replay drew.
        random_state = _random_state() if self.code.draws else None
        try:
            result = self.runner(*leaves)
            self.replayed += 1
            return result
        except Exception as error:
            if just_recorded and not isinstance(error, Diverged):
                with self.lock:
                    self.broken = f"compiling its record failed ({type(error).__name__})"
                    self.root = None
                    self._replace_code(None)
                raise
            if random_state is not None:
                _restore_random_state(random_state)
            return _DIVERGED
        finally:
            torch._C._set_grad_enabled(grad)

    def _record(self, run, args, kwargs, leaves, template):
        _forget_cached_tests(args, kwargs)
        versions = [t._version for t in leaves]
        recorder = _Recorder(leaves)
        with host.observed_by(recorder), recorder:   # host reads and torch calls
            result = run(args, kwargs)
        reason = recorder.broken
        if reason is None and not recorder.warned:   # a call that warns is not kept
            try:
                if template[0] != "tensors":   # (tensors alone have no list to change)
                    after_template, after = _leaves((args, kwargs))
                    if not _same(after_template, template) or any(
                            a is not b for a, b in zip(after, leaves)):
                        raise _Unrecordable("it changes a list or dict argument in place")
                if any(t._version != v for t, v in zip(leaves, versions)):
                    raise _Unrecordable("it writes into a tensor argument in place")
                recorder.paused = True
                recorder.events.append(_End(_flatten(result, recorder.number_of)))
                with self.lock:
                    self._keep(recorder.events)
            except _Unrecordable as why:
                reason = str(why)
        if reason is not None:
            with self.lock:
                self.broken, self.root = reason, None
                self._replace_code(None)
            self.replays._warn(reason)   # (this call's result is the usual run's, above)
        elif self.replays.compile_options is not None:
            # A compiled call's result comes from the compiled code, the first one too.
            replayed = self._replay(leaves, just_recorded=True)
            if replayed is not _DIVERGED:
                return replayed
        return result

    def _keep(self, events):
        if self.root is None:
            self.root = _chain(events)
        elif not _graft(self.root, events):
            # Every host read as recorded, so the replay failed the test of a tensor standing
            # for merges that was finite in every record so far but not in this call. Tensors
            # that are not finite from call to call would be found one call at a time: from now
            # on only merges stand for merges.
            self.stand_ins = False
        self.count += 1
        if self.count > MAX_RECORDS:
            raise _Unrecordable(f"its host reads differ on more than {MAX_RECORDS} calls")
        self._replace_code(_Code(self.root, f"<relaxc replay of {self.replays.name} "
                                            f"#{self.count}>", self.stand_ins))

    def _replace_code(self, code):
        if self.code is not None:   # its source, kept for tracebacks, goes with it
            linecache.cache.pop(self.code.filename, None)
        self.code = code
        options = self.replays.compile_options
        self.runner = (None if code is None else code.replayed if options is None
                       else torch.compile(code.replayed, **options))


def _random_state():
    return (torch.random.get_rng_state(),
            torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None)


def _restore_random_state(state):
    cpu, cuda = state
    torch.random.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)


def _forget_cached_tests(args, kwargs):
    """Drop the one-hot tests that Categorical arguments cache, so that the record computes them
    from the arguments (a test cached by an earlier call is not one of this call's tensors)."""
    for value in values_in((args, kwargs)):
        if isinstance(value, Categorical) and value.origin is None:
            value._one_hot = None


def _shaped_by_data(name, args, kwargs) -> bool:
    """Whether a torch call's result has a shape that depends on the values it is given
    (``masked_select``, ``nonzero``, ``where(condition)``, indexing with a bool tensor)."""
    short = name.rsplit(".", 1)[-1]
    if short in _SHAPED_BY_DATA:
        return True
    if short == "where":
        return len(args) + len(kwargs) == 1
    if short == "__getitem__":
        return any(isinstance(t, torch.Tensor) and t.dtype == torch.bool
                   for t in values_in(args[1:]))
    return False


_SHAPED_BY_DATA = frozenset(("masked_select", "nonzero", "argwhere", "unique",
                             "unique_consecutive", "repeat_interleave", "bincount"))


def _warn(name, reason):
    host.warn(f"relaxc replay of {name}: this call runs without replay, because {reason}")


