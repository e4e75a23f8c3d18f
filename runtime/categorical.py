"""Categorical values: the relaxed form of a symbol or an index (DESIGN §1.1, §1.4).

A :class:`Categorical` holds probabilities ``(B, ..., k)`` over ``k`` classes. It is what a relaxed
``argmax``/``argmin`` returns, and how a user passes symbols (``relaxc.Categorical(one_hot)``).
A sequence of categoricals is one ``(B, n, k)`` categorical: ``len``, iteration and indexing see its
``n`` per-instance elements::

    relaxc.argmax(xs)            ->  rx.argmax(xs)      # Categorical(softmax(x / β)) over positions
    a[i] == b[j]                 ->  rx.eq(...)         # inner product / cosine similarity
    xs[c]                        ->  rx.getitem(xs, c)  # Σ_j c_j · xs[j]

Hard mode: ``argmax`` is one-hot, ``==`` compares the argmaxes, indexing selects exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils import _pytree as pytree

from . import indexing
from .values import (Value, align, batch_repeated, is_relaxed, kept_for_this_call, position_in,
                     syncs_freely, version)


class Categorical(Value):
    """A distribution over ``k`` classes per instance: ``probs`` of shape ``(B, ..., k)``."""

    __slots__ = ("_probs", "_one_hot", "origin")
    noun = "a categorical value"
    indexes = True

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
                         else (version(probs), one_hot))
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
        if self._one_hot is None or self._one_hot[0] != version(probs):
            if self.origin is not None:   # the slice of the sequence's test
                sequence, index = self.origin
                self._one_hot = (version(probs), sequence.one_hot().select(1, index))
            else:
                self._one_hot = (version(probs), _one_hot_mask(probs))
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

    # The value protocol (values.Value).
    @classmethod
    def merge_paths(cls, merger, value_true, value_false):
        """A categorical under a relaxed condition: the mixture of the two distributions."""
        if not (isinstance(value_true, Categorical) and isinstance(value_false, Categorical)):
            return merger.refuse(value_true, value_false)
        if value_true.classes != value_false.classes:
            raise ValueError(f"cannot merge categoricals over {value_true.classes} and "
                             f"{value_false.classes} classes")
        p = merger.p
        if p.dtype == torch.bool:
            p = p.to(value_true.probs.dtype)
        weight, a, b = align(p.unsqueeze(-1) if p.dim() > 0 else p, value_true.probs,
                             value_false.probs)
        return Categorical(torch.lerp(b, a, weight))

    def read(self, index, ctx):
        """A sequence of categoricals ``(B, n, ..., k)``: its element at ``index``."""
        if indexing.per_instance_index(index):
            return indexing.read_per_instance(self, index, ctx)
        self._check_sequence("index")
        return self.element(index)

    def length(self) -> int:
        self._check_sequence("take len() of")
        return self.probs.shape[1]

    def elements(self):
        self._check_sequence("iterate over")
        return [self.element(i) for i in range(self.probs.shape[1])]

    def index_weights(self, n: int, ctx):
        """As an index: its probabilities over the positions (hard: the one-hot class)."""
        if self.classes != n:
            raise ValueError(f"a categorical index over {self.classes} classes cannot index a "
                             f"sequence of length {n}")
        return self.probs == 1 if ctx.hard else ctx.choice(self.probs)

    def output(self):
        return self.probs

    def repeated(self, draws):
        return Categorical(batch_repeated(self.probs, draws))

    def _check_sequence(self, what: str) -> None:
        if self.probs.dim() < 3:
            indexing.refuse_sequence(self.probs.dim() - 1, what)


# A pytree node: what passes a Categorical (an argument, a result) sees its probabilities.
pytree.register_pytree_node(Categorical, lambda value: ([value.probs], None),
                            lambda children, _: Categorical(children[0]),
                            serialized_type_name="relaxc_runtime.Categorical")


def _one_hot_mask(probs: torch.Tensor) -> torch.Tensor:
    binary = ((probs == 0) | (probs == 1)).all(-1)
    return binary & (probs.sum(-1) == 1)




def equal(a, b, ctx):
    """``a == b`` where an operand is categorical.

    Two categoricals: the inner product ``Σ a_i b_i`` where one of them is one-hot (per instance),
    else their cosine similarity. A categorical and a static int ``i``: ``a_i``. Hard: the argmaxes
    (or the argmax and ``i``) are equal.
    """
    if isinstance(b, Categorical) and not isinstance(a, Categorical):
        a, b = b, a
    if not isinstance(b, Categorical):
        if is_relaxed(b) or not isinstance(b, int):
            raise TypeError("a categorical value compares with another categorical or a static "
                            "int class index")
        if ctx.hard:
            return a.probs.argmax(-1) == b
        return ctx.outcome(a.probs[..., b])
    if a.classes != b.classes:
        raise ValueError(f"cannot compare categoricals over {a.classes} and {b.classes} classes")
    if ctx.hard:
        left, right = align(a.probs.argmax(-1), b.probs.argmax(-1))
        return left == right
    pair = _pairwise(a, b)
    if pair is not None:
        return ctx.outcome(pair)
    return ctx.outcome(_similarity(*align(a.probs, b.probs),
                                   *align(a.one_hot(), b.one_hot())))


def _similarity(p, q, one_hot_p, one_hot_q):
    """The inner product of ``p`` and ``q`` over the classes where either is one-hot, else their
    cosine similarity (all four broadcast against each other)."""
    either_one_hot = torch.logical_or(one_hot_p, one_hot_q)
    if syncs_freely(p):   # then compute only the similarity some instance uses
        if not bool(either_one_hot.any()):
            return F.cosine_similarity(p, q, dim=-1)
        if bool(either_one_hot.all()):
            return (p * q).sum(-1)
    inner = (p * q).sum(-1)
    cosine = F.cosine_similarity(p, q, dim=-1)
    return torch.where(either_one_hot, inner, cosine)


#: The most elements (batch × n × m) of the similarities of two sequences computed at once.
_PAIRWISE_LIMIT = 1 << 22


def _pairwise(a, b):
    """``a == b`` for elements ``a = s[i]``, ``b = t[j]`` of two sequences ``(B, n, k)``,
    ``(B, m, k)``: entry ``(i, j)`` of all their similarities ``(B, n, m)``, computed at the first
    such comparison of this call and kept for it. An algorithm over two sequences (an edit
    distance) compares most pairs: one broadcast op instead of one per pair, also in the backward
    pass. None where that does not apply (outside a call, other operands, the rows of a grid,
    a large table, torch.compile, which fuses the per-pair ops anyway).

    Kept longer than the call, a table would hold that call's autograd graph (freed by its
    backward pass, or absent under ``no_grad``) and would not see the caller's next update of the
    probabilities (``.data`` changes no version)."""
    if a.origin is None or b.origin is None or torch.compiler.is_compiling():
        return None
    tables = kept_for_this_call("similarity tables")
    (s, i), (t, j) = a.origin, b.origin
    if (tables is None or s.origin is not None or t.origin is not None or s.probs.dim() != 3
            or t.probs.dim() != 3):
        return None
    versions = (version(s.probs), version(t.probs))
    kept = tables.get((id(s), id(t)))
    if kept is None or kept[2] != versions:
        n, m = s.probs.shape[1], t.probs.shape[1]
        if max(s.probs.shape[0], t.probs.shape[0]) * n * m > _PAIRWISE_LIMIT:
            return None
        table = _similarity(s.probs.unsqueeze(2), t.probs.unsqueeze(1),
                            s.one_hot().unsqueeze(2), t.one_hot().unsqueeze(1))
        # Flat (B, n·m): an entry is then one select. The sequences are held so that their ids
        # stay theirs while the call runs.
        kept = tables[(id(s), id(t))] = (s, t, versions, table.reshape(table.shape[0], -1))
    return kept[3].select(1, i * t.probs.shape[1] + j)
