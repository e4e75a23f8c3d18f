"""Values that flow through relaxed code, and how a batch lines up between them.

Three kinds of value meet in generated code:

- *static* values: plain Python (``int``, ``float``, ``bool``, ``str``, ``None``, containers); they
  behave exactly as in Python;
- *relaxed* values: tensors batched on dim 0 (a 0-d tensor is a constant shared by the batch);
- *events*: relaxed booleans, the probability that something holds. In logic (``if``, ``and``,
  ``not``) an :class:`Event` is the event; in arithmetic it is its expectation, as ``True + 1 == 2``
  in Python::

      count = 0
      count += a > b        # count is now P[a > b], a tensor

In hard mode events are ``torch.bool`` tensors, which already behave this way, so :class:`Event`
only appears in the relaxed evaluation.

:class:`Unbound` marks a variable that is declared so that branches can be merged, but not yet
assigned; merging it with a value under a relaxed condition is the error "assigned on one path only".
"""

from __future__ import annotations

import threading

import torch
import torch.nn.functional as F
from torch.utils._pytree import tree_map

from .relaxations import DEFAULT


class Event:
    """A relaxed boolean: ``prob`` is the probability (a float tensor) that the event holds.

    Arithmetic and torch functions see ``prob``; ``&``, ``|``, ``^`` and ``~`` are the logic of
    independent events (``p*q``, ``p + q - p*q``, ``1 - (p*q + (1-p)*(1-q))``, ``1 - p``).
    """

    __slots__ = ("prob",)

    def __init__(self, prob: torch.Tensor):
        self.prob = prob

    def __repr__(self) -> str:
        return f"Event(prob={self.prob!r})"

    def __bool__(self) -> bool:
        raise TypeError(
            "a relaxed boolean has no single truth value: use it in an `if`, `while`, `and`, `or` "
            "or `not` of a relaxed function, or read its probability with `.prob`"
        )

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # Through containers too: ``torch.stack([a > b, c > d])`` hands a list of events.
        return func(*tree_map(expectation, args), **tree_map(expectation, kwargs or {}))

    # Arithmetic: the expectation.
    def __add__(self, other): return self.prob + expectation(other)
    def __radd__(self, other): return expectation(other) + self.prob
    def __sub__(self, other): return self.prob - expectation(other)
    def __rsub__(self, other): return expectation(other) - self.prob
    def __mul__(self, other): return self.prob * expectation(other)
    def __rmul__(self, other): return expectation(other) * self.prob
    def __truediv__(self, other): return self.prob / expectation(other)
    def __rtruediv__(self, other): return expectation(other) / self.prob
    def __neg__(self): return -self.prob
    def __pos__(self): return self.prob
    def __float__(self): return float(self.prob)

    # Logic of independent events (the default relaxation's: an event does not know the context
    # it came from; `and`/`or`/`not` in relaxed code follow the context's logic).
    def __and__(self, other): return Event(DEFAULT.and_(self.prob, probability(other)))
    __rand__ = __and__
    def __or__(self, other): return Event(DEFAULT.or_(self.prob, probability(other)))
    __ror__ = __or__
    def __xor__(self, other):
        return Event(DEFAULT.not_(DEFAULT.boolean_equal(self.prob, probability(other))))
    __rxor__ = __xor__
    def __invert__(self): return Event(DEFAULT.not_(self.prob))


class Unbound:
    """A local variable declared for merging but not assigned yet (Python's "unbound local")."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<unbound local {self.name!r}>"

    def _fail(self, *args, **kwargs):
        raise UnboundLocalError(f"local variable {self.name!r} is read before it is assigned")

    __bool__ = __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail
    __truediv__ = __rtruediv__ = __neg__ = __getitem__ = __iter__ = __len__ = __float__ = _fail
    __index__ = __int__ = _fail


class Pending:
    """The return value of a function that has not returned yet on this path (mass 0)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "relaxc_runtime.PENDING"


PENDING = Pending()


class Returned:
    """A return value with its mass: the probability that the function has returned with it.

    Early ``return v`` becomes ``return_value = rx.returned(v); returned = True``. Merging two
    paths weights each value by its probability *and* its mass, so the value stays the
    expectation given that the function returned (a pending side has mass 0 and drops out).
    """

    __slots__ = ("value", "mass")

    def __init__(self, value, mass=True):
        self.value = value
        self.mass = mass

    @classmethod
    def surely(cls, value) -> "Returned":
        """``value`` returned with certainty (an already-returned value keeps its value)."""
        return cls(value.value if isinstance(value, Returned) else value)

    def __repr__(self) -> str:
        return f"Returned({self.value!r}, mass={self.mass!r})"


class Categorical:
    """A distribution over ``k`` classes per instance: ``probs`` of shape ``(B, ..., k)``."""

    __slots__ = ("_probs", "_one_hot", "origin")

    def __init__(self, probs, one_hot=None):
        """``one_hot``: the :meth:`one_hot` mask when it is already known (the slice of a
        sequence's mask), so that comparing the elements of a sequence tests it once."""
        if not isinstance(probs, torch.Tensor):
            probs = torch.as_tensor(probs)
        if probs.dim() < 2:
            raise ValueError(
                f"a Categorical needs probabilities of shape (B, ..., k), got shape "
                f"{tuple(probs.shape)}: the batch comes first and the classes last"
            )
        if not probs.is_floating_point():
            probs = probs.to(torch.get_default_dtype())
        self._probs = probs
        # (version of probs, mask): an in-place change of probs (an optimiser step) bumps the
        # version, and the mask is made again. Under torch.compile the version is not a number
        # to compare, and there is nothing to save: the mask is made afresh and fused.
        self._one_hot = (None if one_hot is None or torch.compiler.is_compiling()
                         else (probs._version, one_hot))
        self.origin = None   # (sequence, index) for an element: see element()

    @property
    def probs(self) -> torch.Tensor:
        if self._probs is None:   # an element, sliced when first needed
            sequence, index = self.origin
            self._probs = sequence.probs.select(1, index)
        return self._probs

    @probs.setter
    def probs(self, probs: torch.Tensor) -> None:
        self.__init__(probs)

    @property
    def classes(self) -> int:
        if self._probs is None:
            return self.origin[0].classes
        return self._probs.shape[-1]

    def one_hot(self) -> torch.Tensor:
        """Per instance (and element): whether ``probs`` is exactly one-hot (all 0 or 1, summing
        to one); computed once for the current contents."""
        probs = self.probs
        if torch.compiler.is_compiling():
            return _one_hot_mask(probs)
        if self._one_hot is None or self._one_hot[0] != probs._version:
            if self.origin is not None:   # the slice of the sequence's test
                sequence, index = self.origin
                self._one_hot = (probs._version, sequence.one_hot().select(1, index))
            else:
                self._one_hot = (probs._version, _one_hot_mask(probs))
        return self._one_hot[1]

    def element(self, index) -> "Categorical":
        """The categorical at ``index`` (an int, or a tuple of them) of this sequence,
        ``(B, n, …, k)`` → ``(B, …, k)``; it shares the sequence's one-hot test.

        At an int it remembers where it comes from (``origin``) and is sliced only when its
        probabilities are needed: comparing the elements of two sequences
        (``categorical.equal``) reads all their similarities at once instead.
        """
        if type(index) is int:
            element = Categorical.__new__(Categorical)
            element._probs = element._one_hot = None
            element.origin = (self, position_in(index, self.probs.shape[1]))
            return element
        position = (slice(None),) + (index if isinstance(index, tuple) else (index,))
        return Categorical(self.probs[position], self.one_hot()[position])

    def __repr__(self) -> str:
        return f"Categorical(probs={self.probs!r})"

    def __bool__(self):
        raise TypeError("a categorical value has no single truth value: compare it with `==`")

    def __add__(self, offset):
        """``c + i`` for a static int ``i``: the same distribution over indices shifted by ``i``
        (``i + argmin(xs[i:])`` is an index into ``xs``)."""
        if not (isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0):
            raise TypeError("a categorical index can only be shifted by a static int >= 0 "
                            "(`i + relaxc.argmin(xs[i:])`)")
        return Categorical(F.pad(self.probs, (offset, 0)))

    __radd__ = __add__


class Columns:
    """A per-instance tensor ``(B, n, ...)`` held as its ``n`` elements ``(B, ...)``.

    The compiler asks for it (``rx.columns``) for a parameter that the function only indexes with
    single indices, takes the ``len`` of, iterates over and returns (``relaxc/lowering/
    sequences.py``), so it never reaches code that could tell it from the tensor. It is immutable,
    like a tensor in relaxed code: writing an element (``indexing.setitem``) makes new columns
    that share the other elements. That is what it is for: a relaxed ``if`` that writes ``xs[j]``
    leaves the other elements the very same tensors on both paths, so the merge blends ``xs[j]``
    alone (``Merger``) and only it is kept for the backward pass, where the tensor form rewrites
    and blends all of ``(B, n, ...)``.

    ``dtype`` is the dtype the tensor would have: an element is read in it, so a promotion by one
    write (an int sequence given a float) reaches every element as it would in the tensor.

    ``guards`` are the :class:`~branches.BranchCopies` of the (non-linear) branches whose copy
    this is: the tensor form guards the whole copy, these columns guard an element when it is first
    read on that path (``seen`` keeps it, and what the path wrote), so an element the path never
    reads costs nothing. :meth:`raw` is an element without them, which is what a merge compares.
    """

    __slots__ = ("elements", "dtype", "guards", "seen", "_tensor")

    def __init__(self, elements: tuple, dtype: torch.dtype, guards: tuple = (), seen=None,
                 tensor=None):
        self.elements = elements
        self.dtype = dtype
        self.guards = guards
        self.seen = seen if seen is not None or not guards else [None] * len(elements)
        self._tensor = tensor   # the stacked form, made once (the caller's tensor if unchanged)

    @classmethod
    def of(cls, tensor: torch.Tensor) -> "Columns":
        return cls(tensor.unbind(1), tensor.dtype, tensor=tensor)

    def __len__(self) -> int:
        return len(self.elements)

    def element(self, index: int) -> torch.Tensor:
        """``xs[index]`` as relaxed code on this path reads it."""
        if not self.guards:
            return self.raw(index)
        value = self.seen[index]
        if value is None:
            value = self.raw(index)
            for copies in self.guards:
                value = copies.guard(value)
            self.seen[index] = value
        return value

    def raw(self, index: int) -> torch.Tensor:
        """Element ``index`` in the sequence's dtype, without the guards."""
        try:
            value = self.elements[index]   # (the tuple checks the range as position_in would)
        except IndexError:
            raise out_of_range(index, len(self.elements)) from None
        return value if value.dtype == self.dtype else value.to(self.dtype)

    def tensor(self) -> torch.Tensor:
        """The ``(B, n, ...)`` tensor these columns stand for, without the guards."""
        if self._tensor is None or self._tensor.dtype != self.dtype:
            if not self.elements:   # kept from the start: nothing can write an empty sequence
                self._tensor = self._tensor.to(self.dtype)
            else:
                self._tensor = torch.stack([self.raw(k) for k in range(len(self.elements))], 1)
        return self._tensor

    def readable(self) -> torch.Tensor:
        """The tensor as relaxed code on this path reads it, for any other kind of read."""
        if not self.guards or not self.elements:
            return self.tensor()
        return torch.stack([self.element(k) for k in range(len(self.elements))], 1)

    def replaced(self, index: int, value: torch.Tensor, dtype: torch.dtype) -> "Columns":
        """New columns with element ``index`` set to ``value`` (already of the element's shape)."""
        elements = list(self.elements)
        elements[index] = value
        seen = None
        if self.guards:   # what this path wrote, it reads back as written
            seen = list(self.seen) if dtype == self.dtype else [None] * len(elements)
            seen[index] = value
        return Columns(tuple(elements), dtype, self.guards, seen)

    def guarded_by(self, copies) -> "Columns":
        """These columns as read on a path that guards its copies lazily (a branch)."""
        return Columns(self.elements, self.dtype, self.guards + (copies,), tensor=self._tensor)

    def guarded_now(self, copies) -> "Columns":
        """These columns with every element guarded by ``copies`` now (a loop iteration, which
        reads every element anyway: one cut per element per iteration, not one per read)."""
        elements = tuple(copies.guard(self.element(k)) for k in range(len(self.elements)))
        if all(e is r for e, r in zip(elements, self.elements)):
            return self   # nothing to cut (no gradient): the same tensor, as in the tensor form
        return Columns(elements, self.dtype)


def position_in(index: int, n: int) -> int:
    """The position ``index`` stands for in a sequence of ``n`` elements: negative counts from
    the end, as in Python; out of range is an :class:`IndexError`."""
    if not -n <= index < n:
        raise out_of_range(index, n)
    return index % n


def out_of_range(index: int, n: int) -> IndexError:
    return IndexError(f"index {index} is out of range for a sequence of length {n}")


def _one_hot_mask(probs: torch.Tensor) -> torch.Tensor:
    binary = ((probs == 0) | (probs == 1)).all(-1)
    return binary & (probs.sum(-1) == 1)


def is_relaxed(value) -> bool:
    """Whether ``value`` carries a per-instance (batched) value: a tensor, event, categorical or
    columns."""
    return isinstance(value, (torch.Tensor, Event, Categorical, Columns))


def is_boolean(value) -> bool:
    """Whether ``value`` is a boolean: a Python bool, an event or a bool tensor."""
    return (isinstance(value, (bool, Event))
            or (isinstance(value, torch.Tensor) and value.dtype == torch.bool))


def expectation(value):
    """The number an event stands for in arithmetic: its probability; other values unchanged."""
    return value.prob if isinstance(value, Event) else value


def probability(value):
    """The probability of a boolean operand of logic: an event's prob, a bool tensor as float."""
    if isinstance(value, Event):
        return value.prob
    if isinstance(value, torch.Tensor) and value.dtype == torch.bool:
        return value.to(torch.get_default_dtype())
    return float(bool(value)) if isinstance(value, bool) else value


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


def to_rank(tensor: torch.Tensor, rank: int) -> torch.Tensor:
    """``tensor`` with trailing singleton dims up to ``rank`` (what :func:`align` does to each
    value); a 0-d tensor, a shared constant, stays as it is."""
    if 0 < tensor.dim() < rank:
        return tensor.reshape(tensor.shape + (1,) * (rank - tensor.dim()))
    return tensor


class _Calls(threading.local):
    """Per thread: what runtime code keeps for each relaxed call now running, innermost last."""

    def __init__(self):
        self.stack = []


_calls = _Calls()


class call_scope:
    """``with call_scope():`` around one call of a relaxed function (``modes.evaluate``): what
    runtime code keeps with :func:`kept_for_this_call` lives for that call only."""

    __slots__ = ()

    def __enter__(self):
        _calls.stack.append({})

    def __exit__(self, *exception):
        _calls.stack.pop()


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


def syncs_freely(tensor: torch.Tensor) -> bool:
    """Whether code may read a value of ``tensor`` back to Python to pick a cheaper path: on the
    CPU that costs nothing, on an accelerator it would stall the queue, and under torch.compile
    there is no value to read."""
    return tensor.device.type == "cpu" and not torch.compiler.is_compiling()


def to_output(value):
    """A returned value as the caller sees it: events become probability tensors."""
    if isinstance(value, Event):
        return value.prob
    if isinstance(value, Categorical):
        return value.probs
    if isinstance(value, Returned):
        return to_output(value.value)
    if isinstance(value, Unbound):
        value._fail()
    if isinstance(value, Columns):
        return value.tensor()
    if isinstance(value, (tuple, list)):
        converted = [to_output(v) for v in value]
        # A list that holds no event is returned as the same object: list identity is Python's.
        if all(c is v for c, v in zip(converted, value)):
            return value
        return type(value)(converted)
    if isinstance(value, dict):
        return {k: to_output(v) for k, v in value.items()}
    return value


def write_back(original, merged):
    """Give the caller's list (or dict) the ``merged`` contents in place, so that a relaxed
    function that mutates an argument leaves that very object updated, as Python would."""
    if original is merged:
        return
    if isinstance(original, list) and isinstance(merged, list):
        for inner, value in zip(original, merged):
            write_back(inner, value)
        original[:] = [o if isinstance(o, list) and isinstance(m, list) else m
                       for o, m in zip(original, merged)]
    elif isinstance(original, dict) and isinstance(merged, dict):
        original.update(merged)
