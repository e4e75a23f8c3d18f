"""Values that flow through relaxed code: the protocol every kind of value follows, and how a
batch lines up between them.

Values in generated code are

- *static*: plain Python (``int``, ``float``, ``bool``, ``str``, ``None``, containers); they
  behave exactly as in Python;
- *tensors*, batched on dim 0 (a 0-d tensor is a constant shared by the batch): the commonest
  relaxed value, which every operation handles inline, first;
- a :class:`Value` of one of the runtime's own kinds, each in its module: the relaxed boolean
  (``events.Event``), the categorical (``categorical.Categorical``), a sequence held as its
  elements (``columns.Columns``), a return value with its mass (``returns.Returned``), and a
  variable not yet assigned (:class:`Unbound`, here).

A kind implements the operations of :class:`Value` that apply to it; the constructs
(``branches``, ``indexing``, ``modes``) hand a value of a kind to its methods and handle tensors and
Python values themselves. A new kind of value is one new module.
"""

from __future__ import annotations

import copy
import threading

import torch
from torch.utils import _pytree as pytree

from . import host


class Value:
    """A kind of value of relaxed code other than a tensor or a Python value.

    Each operation below is what the constructs do with a value of the kind; an operation that
    does not apply refuses with the kind's ``noun`` (``"a relaxed boolean"``):

    - :meth:`merge_paths`: the merge of a relaxed ``if`` where either path gives this kind
      (``branches.Merger``);
    - :meth:`read`, :meth:`write`, :meth:`length`, :meth:`elements`: ``v[i]``, ``v[i] = x``,
      ``len(v)``, ``for x in v`` for one instance (``indexing``);
    - :meth:`index_weights`: the weights over positions when the value is an index;
    - :meth:`output`: what the caller of the relaxed function gets;
    - :meth:`repeated`: the batch repeated for sampling (``modes``);
    - :meth:`on_path`: the value as one path of a relaxed ``if`` reads it (``branches``).
    """

    __slots__ = ()
    noun = "a relaxed value"
    #: Whether it carries a per-instance (batched) value (:func:`is_relaxed`).
    per_instance = True
    #: When the two paths give values of different kinds, the higher one's merge decides; a
    #: negative one is merged as a number (``Merger.blend``).
    merge_precedence = 0
    #: Whether it can index a sequence (then :meth:`index_weights` gives its weights).
    indexes = False

    @classmethod
    def merge_paths(cls, merger, value_true, value_false):
        """``p·value_true + (1 − p)·value_false``, where either side is of this kind."""
        return merger.refuse(value_true, value_false)

    def read(self, index, ctx):
        raise TypeError(f"cannot index {self.noun}")

    def write(self, index, value, ctx):
        """``self[index] = value``; returns the value to rebind (a new one if immutable)."""
        raise TypeError(f"cannot assign into {self.noun}")

    def length(self) -> int:
        raise TypeError(f"{self.noun} has no len()")

    def elements(self):
        raise TypeError(f"cannot iterate over {self.noun}")

    def index_weights(self, n: int, ctx):
        """Weights ``(B, n)`` over the positions of a sequence of ``n`` that this value indexes
        (a kind with ``indexes``)."""
        raise NotImplementedError

    def output(self):
        return self

    def repeated(self, draws: int):
        return self

    def on_path(self, copies):
        """This value as the path whose :class:`~branches.BranchCopies` are ``copies`` reads it."""
        return self


class Unbound(Value):
    """A local variable declared for merging but not assigned yet (Python's "unbound local").

    Merging it with a value under a relaxed condition is the error "assigned on one path only";
    under an exact (hard) choice, each instance reads the variable only where Python would have
    assigned it, so the other side is taken.
    """

    __slots__ = ("name",)
    per_instance = False
    merge_precedence = 3
    indexes = True   # (its index_weights raises UnboundLocalError)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<unbound local {self.name!r}>"

    def _fail(self, *args, **kwargs):
        raise UnboundLocalError(f"local variable {self.name!r} is read before it is assigned")

    __bool__ = __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail
    __truediv__ = __rtruediv__ = __neg__ = __getitem__ = __iter__ = __len__ = __float__ = _fail
    __index__ = __int__ = _fail
    read = write = length = elements = index_weights = output = _fail

    @classmethod
    def merge_paths(cls, merger, value_true, value_false):
        unbound = value_true if isinstance(value_true, Unbound) else value_false
        if isinstance(value_true, Unbound) and isinstance(value_false, Unbound):
            return unbound
        if merger.p.dtype == torch.bool:
            return value_false if unbound is value_true else value_true
        error = UnboundLocalError(
            f"{unbound.name!r} is assigned on only one path of a relaxed `if` (or relaxed "
            f"`while`) and read afterwards: assign it before, or on both paths"
        )
        error.name = unbound.name
        raise error


def position_in(index: int, n: int) -> int:
    """The position ``index`` stands for in a sequence of ``n`` elements: negative counts from
    the end, as in Python; out of range is an :class:`IndexError`."""
    if not -n <= index < n:
        raise out_of_range(index, n)
    return index % n


def out_of_range(index: int, n: int) -> IndexError:
    return IndexError(f"index {index} is out of range for a sequence of length {n}")


def is_relaxed(value) -> bool:
    """Whether ``value`` carries a per-instance (batched) value: a tensor, or a value of a kind
    that does (an event, a categorical, columns)."""
    return isinstance(value, torch.Tensor) or (isinstance(value, Value) and value.per_instance)


def align(*values):
    """Line up values per instance: append trailing singleton dims up to the largest rank.

    Every tensor carries the batch on dim 0, so a per-instance scalar ``(B,)`` meets a per-instance
    vector ``(B, n)`` as ``(B, 1)``; plain torch broadcasting would align the wrong dims. 0-d
    tensors (shared constants) and Python numbers are left alone.
    """
    rank = 0
    for v in values:   # plain loops: torch.compile traces them, not max() over a generator
        if isinstance(v, torch.Tensor) and v.dim() > rank:
            rank = v.dim()
    aligned = []
    for v in values:
        aligned.append(to_rank(v, rank) if isinstance(v, torch.Tensor) else v)
    return tuple(aligned)


def as_tensor(value, like: torch.Tensor, dtype=None) -> torch.Tensor:
    """``value`` as a tensor on ``like``'s device, of ``dtype`` if given (a tensor is converted
    only where its dtype differs)."""
    if isinstance(value, torch.Tensor):
        return value if dtype is None or value.dtype == dtype else value.to(dtype)
    return torch.as_tensor(value, dtype=dtype, device=like.device)


def batch_repeated(tensor: torch.Tensor, draws: int) -> torch.Tensor:
    """The batch repeated ``draws`` times along dim 0 (draw-major); a 0-d tensor, shared by the
    batch, as it is (``Value.repeated``, ``modes``)."""
    return tensor.repeat(draws, *[1] * (tensor.dim() - 1)) if tensor.dim() else tensor


def to_rank(tensor: torch.Tensor, rank: int) -> torch.Tensor:
    """``tensor`` with trailing singleton dims up to ``rank`` (what :func:`align` does to each
    value); a 0-d tensor, a shared constant, stays as it is."""
    if 0 < tensor.dim() < rank:
        return tensor.reshape(tensor.shape + (1,) * (rank - tensor.dim()))
    return tensor


class _Calls(threading.local):
    """Per thread: what runtime code keeps for each relaxed call now running, innermost last,
    and whether relaxed code made that call (a helper) rather than the user."""

    def __init__(self):
        self.stack = []
        self.from_relaxed_code = []


_calls = _Calls()


class call_scope:
    """``with call_scope():`` around one call of a relaxed function (``modes.evaluate``): what
    runtime code keeps with :func:`kept_for_this_call` lives for that call only.
    ``from_relaxed_code``: relaxed code calls it (``rx.call``), and gets its result as a value of
    relaxed code, not as the user's output (``returns.to_result``)."""

    __slots__ = ("from_relaxed_code",)

    def __init__(self, from_relaxed_code: bool = False):
        self.from_relaxed_code = from_relaxed_code

    def __enter__(self):
        _calls.stack.append({})
        _calls.from_relaxed_code.append(self.from_relaxed_code)

    def __exit__(self, *exception):
        _calls.stack.pop()
        _calls.from_relaxed_code.pop()


def called_from_relaxed_code() -> bool:
    """Whether relaxed code made the innermost relaxed call now running (:class:`call_scope`)."""
    return bool(_calls.from_relaxed_code) and _calls.from_relaxed_code[-1]


def kept_for_this_call(kind: str):
    """The dict that runtime code keeps under ``kind`` for the innermost relaxed call now running
    (made empty at its first use), or None outside one."""
    stack = _calls.stack
    if not stack:
        return None
    kept = stack[-1].get(kind)
    if kept is None:
        kept = stack[-1][kind] = {}
    return kept


def version(tensor: torch.Tensor):
    """``tensor._version``, the count of in-place writes that caches compare; for an inference
    tensor (``torch.inference_mode``), which keeps no count, a new object each time, so that a
    cache keyed on it never matches."""
    return object() if tensor.is_inference() else tensor._version


def syncs_freely(tensor: torch.Tensor) -> bool:
    """Whether code may read a value of ``tensor`` back to Python to pick a cheaper path: on the
    CPU that costs nothing, on an accelerator it would stall the queue, under torch.compile
    there is no value to read, and where ``relaxc.compile`` defers the finiteness tests
    (``host.deferring``) none is read, so that its record is straight-line code."""
    return (tensor.device.type == "cpu" and not torch.compiler.is_compiling()
            and not host.is_deferring())


def map_structure(function, value, *others, at_container=None, fresh=False):
    """``function(leaf, *other_leaves)`` for each leaf of ``value`` (what is not a list, tuple or
    dict), in a structure like ``value``; ``others`` are structures of the same shape, walked
    alongside. A container whose leaves all come back unchanged is the same object (a list's
    identity is Python's: a returned argument is the caller's list), unless ``fresh`` (a private
    copy of the containers). ``at_container(value, *others)`` may answer for a whole container
    first (None: walk into it).

    The one walker of the runtime's results (``to_output``, ``modes``): torch's pytree would
    rebuild every container.
    """
    if at_container is not None and isinstance(value, (list, tuple, dict)):
        answer = at_container(value, *others)
        if answer is not None:
            return answer
    if isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
        mapped = [map_structure(function, v, *(o[k] for o in others), at_container=at_container,
                                fresh=fresh) for k, v in enumerate(value)]
        rebuilt_as = getattr(type(value), "rebuilt_as", None)   # (branches.ChosenList: list)
        if not fresh and rebuilt_as is None and all(m is v for m, v in zip(mapped, value)):
            return value
        if rebuilt_as is not None:
            return rebuilt_as(mapped)
        return value._make(mapped) if hasattr(value, "_make") else type(value)(mapped)
    if isinstance(value, dict):
        mapped = {k: map_structure(function, v, *(o[k] for o in others),
                                   at_container=at_container, fresh=fresh)
                  for k, v in value.items()}
        if not fresh and all(mapped[k] is v for k, v in value.items()):
            return value
        if type(value) is dict:
            return mapped
        rebuilt = copy.copy(value)   # an OrderedDict, a defaultdict with its default_factory
        rebuilt.clear()
        rebuilt.update(mapped)
        return rebuilt
    return function(value, *others)


def values_in(value):
    """``value`` and everything in the lists, tuples and dicts it holds."""
    yield value
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from values_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from values_in(item)


def private_copy(value):
    """A copy of the lists and dicts in ``value`` (tensors are values and are shared)."""
    return map_structure(lambda leaf: leaf, value, fresh=True)


def to_output(value):
    """A returned value as the caller sees it: each kind's :meth:`Value.output` (events become
    probability tensors), through lists, tuples and dicts."""
    return map_structure(_output, value)


def _output(value):
    return value.output() if isinstance(value, Value) else value


def write_back(original, merged):
    """Give the caller's list (or dict) the ``merged`` contents in place, so that a relaxed
    function that mutates an argument leaves that very object updated, as Python would (items
    appended or keys removed too); the lists inside it keep their identity where both have one."""
    if original is merged:
        return
    if isinstance(original, list) and isinstance(merged, list):
        for inner, value in zip(original, merged):
            write_back(inner, value)
        original[:] = [o if isinstance(o, list) and isinstance(m, list) else m
                       for o, m in zip(original, merged)] + merged[len(original):]
    elif isinstance(original, dict) and isinstance(merged, dict):
        kept = {}
        for key, value in merged.items():
            inner = original.get(key)
            if isinstance(inner, list) and isinstance(value, list):
                write_back(inner, value)
                value = inner
            kept[key] = value
        original.clear()
        original.update(kept)


class Operations:
    """What generated code calls: ``rx.unbound("x")``, a name not yet assigned on a path."""

    __slots__ = ()
    unbound = staticmethod(Unbound)
