"""Indexing, length and iteration, per instance (DESIGN §1.1, §1.4).

The source is written for one instance, so on a batched tensor ``x`` of shape ``(B, n, ...)``::

    xs[j]          ->  rx.getitem(xs, j)          # x[:, j] on a tensor, xs[j] on a list
    xs[j] = v      ->  xs = rx.setitem(xs, j, v)  # a new tensor; a list is updated in place
    len(xs)        ->  rx.len(xs)                 # n on a tensor
    for v in xs:   ->  for v in rx.iterate(xs):   # the n per-instance elements of a tensor

Static indices only here; an index that is itself relaxed is refused with a clear error.
"""

from __future__ import annotations

import torch

from .branches import BranchList
from .values import Event, align, expectation, is_relaxed


def _per_instance(tensor: torch.Tensor, what: str):
    if tensor.dim() < 2:
        kind = "a shared constant (0-d tensor)" if tensor.dim() == 0 else "a relaxed scalar (B,)"
        raise TypeError(
            f"cannot {what} {kind}: a per-instance sequence is a tensor of shape (B, n, ...) "
            f"or a list of (B, ...) tensors"
        )


def _tensor_index(tensor: torch.Tensor, index):
    if is_relaxed(index) or (isinstance(index, tuple) and any(is_relaxed(i) for i in index)):
        raise TypeError(
            "indexing with a relaxed (per-instance) index is not supported: use a static int "
            "or slice"
        )
    _per_instance(tensor, "index")
    return (slice(None),) + (index if isinstance(index, tuple) else (index,))


def getitem(container, index):
    """``container[index]`` for one instance.

    A tensor ``(B, n, ...)``: ``container[:, index]``; per instance::

        [x[index] for x in container]

    Anything else: Python's ``container[index]``.
    """
    if isinstance(container, Event):
        raise TypeError("cannot index a relaxed boolean")
    if isinstance(container, torch.Tensor):
        return container[_tensor_index(container, index)]
    if is_relaxed(index):
        raise TypeError(
            "indexing a list with a relaxed (per-instance) index is not supported: use a static "
            "int or slice"
        )
    value = container[index]
    if type(container) is BranchList:
        value = container.guarded(value)
    return value


def setitem(container, index, value):
    """``container[index] = value`` for one instance; returns the container to rebind.

    A tensor is never mutated: the result is a new tensor equal to ``container`` except at
    ``[:, index]`` (dtype promoted if ``value`` needs it), so neither the caller nor another branch
    sees the change. Lists, dicts and other objects are updated in place, exactly as in Python.
    """
    if isinstance(container, torch.Tensor):
        position = _tensor_index(container, index)
        value = expectation(value)
        dtype = torch.result_type(container, value)
        updated = container.to(dtype, copy=True)
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            slot = updated[position]
            value, _ = align(value, slot)
        updated[position] = value
        return updated
    if isinstance(container, Event):
        raise TypeError("cannot assign into a relaxed boolean")
    container[index] = value
    return container


def length(container):
    """``len(container)`` for one instance: ``n`` for a tensor ``(B, n, ...)``; else Python's."""
    if isinstance(container, torch.Tensor):
        _per_instance(container, "take len() of")
        return container.shape[1]
    if isinstance(container, Event):
        raise TypeError("a relaxed boolean has no len()")
    return len(container)


def iterate(iterable):
    """What ``for v in iterable`` sees for one instance: a tensor ``(B, n, ...)`` yields its
    ``n`` elements ``(B, ...)``; anything else is iterated as in Python."""
    if isinstance(iterable, torch.Tensor):
        _per_instance(iterable, "iterate over")
        return iterable.unbind(1)
    if isinstance(iterable, Event):
        raise TypeError("cannot iterate over a relaxed boolean")
    return iterable
