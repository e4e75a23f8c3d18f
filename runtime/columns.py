"""A per-instance sequence held as its elements: ``xs = rx.columns(xs)`` (DESIGN §1.1).

The compiler asks for it on a tensor parameter ``(B, n, ...)`` that the function only indexes with
single indices, takes the ``len`` of, iterates over and returns (``relaxc/lowering/sequences.py``);
the meaning is the tensor's (``indexing.py``), with a write at an int replacing one element::

    xs[j]          ->  the element (B, ...), as x[:, j]
    xs[j] = v      ->  new columns that share every other element
    len(xs), for v in xs, return xs   ->  n, the n elements, the (B, n, ...) tensor
"""

from __future__ import annotations

import torch

from . import indexing
from .events import expectation
from .values import Value, batch_repeated, out_of_range, position_in


class Columns(Value):
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

    __slots__ = ("items", "dtype", "guards", "seen", "_tensor")
    noun = "a sequence"
    merge_precedence = 1

    def __init__(self, elements: tuple, dtype: torch.dtype, guards: tuple = (), seen=None,
                 tensor=None):
        self.items = elements
        self.dtype = dtype
        self.guards = guards
        self.seen = seen if seen is not None or not guards else [None] * len(elements)
        self._tensor = tensor   # the stacked form, made once (the caller's tensor if unchanged)

    @classmethod
    def of(cls, tensor: torch.Tensor) -> "Columns":
        return cls(tensor.unbind(1), tensor.dtype, tensor=tensor)

    def __len__(self) -> int:
        return len(self.items)

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
            value = self.items[index]   # (the tuple checks the range as position_in would)
        except IndexError:
            raise out_of_range(index, len(self.items)) from None
        return value if value.dtype == self.dtype else value.to(self.dtype)

    def tensor(self) -> torch.Tensor:
        """The ``(B, n, ...)`` tensor these columns stand for, without the guards."""
        if self._tensor is None or self._tensor.dtype != self.dtype:
            if not self.items:   # kept from the start: nothing can write an empty sequence
                self._tensor = self._tensor.to(self.dtype)
            else:
                self._tensor = torch.stack([self.raw(k) for k in range(len(self.items))], 1)
        return self._tensor

    def readable(self) -> torch.Tensor:
        """The tensor as relaxed code on this path reads it, for any other kind of read."""
        if not self.guards or not self.items:
            return self.tensor()
        return torch.stack([self.element(k) for k in range(len(self.items))], 1)

    def replaced(self, index: int, value: torch.Tensor, dtype: torch.dtype) -> "Columns":
        """New columns with element ``index`` set to ``value`` (already of the element's shape)."""
        items = list(self.items)
        items[index] = value
        seen = None
        if self.guards:   # what this path wrote, it reads back as written
            seen = list(self.seen) if dtype == self.dtype else [None] * len(items)
            seen[index] = value
        return Columns(tuple(items), dtype, self.guards, seen)

    def on_path(self, copies) -> "Columns":
        """These columns as read on a path: immutable, so not copied, but each element read on the
        path gets the path's cut, when first read (a branch), or every element now where the
        path reads them all anyway (``copies.every_element``, a loop iteration: one cut per
        element per iteration, not one per read)."""
        if not copies.every_element:
            return Columns(self.items, self.dtype, self.guards + (copies,), tensor=self._tensor)
        items = tuple(copies.guard(self.element(k)) for k in range(len(self.items)))
        if all(e is r for e, r in zip(items, self.items)):
            return self   # nothing to cut (no gradient): the same tensor, as in the tensor form
        return Columns(items, self.dtype)

    # The value protocol (values.Value).
    def read(self, index, ctx):
        """``xs[index]``: an element at an int; any other index reads the tensor."""
        if type(index) is int:
            return self.element(index)
        return indexing.getitem(self.readable(), index, ctx)

    def write(self, index, value, ctx) -> "Columns":
        """``xs[index] = value``: at an int, new columns with that element replaced (the tensor's
        rule for dtype, broadcasting and range); any other index writes the tensor."""
        if type(index) is not int:
            return indexing.setitem(self.readable(), index, value, ctx)
        value = expectation(value)
        position = position_in(index, len(self.items))
        dtype = indexing.stored_dtype(self.dtype, value)
        like = self.items[0]
        return self.replaced(position, indexing.slot_value(value, dtype, like.shape, like), dtype)

    def length(self) -> int:
        return len(self.items)

    def elements(self):
        return [self.element(k) for k in range(len(self.items))]

    def output(self):
        return self.tensor()

    def repeated(self, draws):
        return Columns.of(batch_repeated(self.tensor(), draws))

    @classmethod
    def merge_paths(cls, merger, value_true, value_false):
        """Columns that differ in a few elements merge those alone (the others are the very same
        tensors on both paths), and so do all columns under a vectorised condition (``p`` of
        shape ``(B, d)`` lines up with each element ``(B, d)``, not with the stacked
        ``(B, n, d)``); otherwise, and against anything else, as the tensors they stand for, as
        each path reads them."""
        if (isinstance(value_true, Columns) and isinstance(value_false, Columns)
                and len(value_true) == len(value_false)):
            n = len(value_true)
            differing = [k for k in range(n) if value_true.items[k] is not value_false.items[k]]
            if (len(differing) <= max(2, n // 4) or merger.p.dim() > 1) and (
                    differing or value_true.dtype == value_false.dtype):
                merged = _merge_elements(merger, value_true, value_false, differing)
                if merged is not None:
                    return merged
        return merger.merge(*(v.readable() if isinstance(v, Columns) else v
                              for v in (value_true, value_false)))


def _merge_elements(merger, value_true, value_false, differing):
    """The merged columns, or None where a blended element is not a tensor (booleans blend into
    an event, which the tensor merge makes of the whole sequence).

    A differing element blends the two paths' elements as each path reads it (guarded, as the
    tensor form's copies are). After the merge, reads keep the guards that both paths read
    through (an enclosing branch), not those of either path.
    """
    common = 0
    while (common < min(len(value_true.guards), len(value_false.guards))
           and value_true.guards[common] is value_false.guards[common]):
        common += 1
    guards = value_true.guards[:common]
    merged = list(value_true.items)
    # What a path has seen under exactly these guards stays seen, in that path's dtype.
    seen_by = next((v for v in (value_true, value_false) if len(v.guards) == common), None)
    seen = None
    if guards:
        seen = list(seen_by.seen) if seen_by is not None else [None] * len(merged)
    for k in differing:
        merged[k] = merger.blend(value_true.element(k), value_false.element(k))
        if type(merged[k]) is not torch.Tensor:
            return None
        if seen is not None:
            seen[k] = merged[k]
    if not differing:   # the same elements: the same tensor, as the tensor form keeps it
        return Columns(value_true.items, value_true.dtype, guards, seen,
                       value_true._tensor if value_true._tensor is not None
                       else value_false._tensor)
    # Every blended element has the dtype the merged tensor would have.
    dtype = merged[differing[0]].dtype
    if seen is not None and seen_by is not None and dtype != seen_by.dtype:
        seen = [merged[k] if k in differing else None for k in range(len(merged))]
    return Columns(tuple(merged), dtype, guards, seen)


def columns(value):
    """A tensor ``(B, n, ...)`` as its :class:`Columns`; anything else as it is.

    The compiler calls it on a parameter used only by position (``relaxc/lowering/sequences.py``)::

        xs = rx.columns(xs)
    """
    if isinstance(value, torch.Tensor) and value.dim() >= 2:
        return Columns.of(value)
    return value


class Operations:
    """What generated code calls: ``xs = rx.columns(xs)``."""

    __slots__ = ()
    columns = staticmethod(columns)
