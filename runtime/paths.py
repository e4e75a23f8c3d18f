"""Which instances the code now running still matters for.

A batch runs every path of a relaxed ``if`` and every iteration of a relaxed ``while`` for all
instances, also where that path is negligible or the instance has left the loop. Operations that
would raise for such an instance (an index out of range) only raise where the path is live, and
otherwise compute a placeholder that the merge discards.
"""

from __future__ import annotations

import threading

import torch

from .values import align


class _Paths(threading.local):
    """Per thread: the masks of the paths now running (each thread starts with none, so no
    ``hasattr`` test changes between calls, which would make torch.compile recompile)."""

    def __init__(self):
        self.stack = []


_local = _Paths()


class inactive_where:
    """``with inactive_where(mask):`` runs a block for a path that does not matter where ``mask``
    (bool, batch first) is true; ``mask`` may be a function that makes it, called only if asked.
    (A class: a generator-based context manager costs several times more, and one is entered
    for every relaxed ``if``.)"""

    __slots__ = ("mask",)

    def __init__(self, mask):
        self.mask = mask

    def __enter__(self):
        _local.stack.append(self.mask)

    def __exit__(self, *exception):
        _local.stack.pop()


def inactive(batch_size: int):
    """A ``(B,)`` bool tensor: instances whose current path does not matter; None if all do."""
    combined = None
    for mask in _local.stack:
        if callable(mask):
            mask = mask()
        if mask.dim() == 0 or mask.shape[0] != batch_size:
            continue
        per_instance = mask.reshape(batch_size, -1).all(1)
        combined = per_instance if combined is None else combined | per_instance
    return combined


def surely(p, value: bool, eps: float):
    """Where the condition ``p`` is surely ``value`` (a bool mask, batch first): exactly (a bool
    ``p``), or but for less than ``eps``."""
    if p.dtype == torch.bool:
        return p if value else ~p
    return p > 1 - eps if value else p < eps


def guard(value, negligible):
    """``value`` with no gradient where its path is negligible (``negligible``: a bool mask, batch
    first); forward unchanged.

    A path evaluated where its probability is below ``eps`` may compute NaN or inf
    (``sqrt(-4)``); its value is dropped by the merge, and this cut keeps the backward pass of
    such computations (``0 * nan``) out of the gradient. ``value`` is a tensor that needs a
    gradient (``branches.BranchCopies.guard`` and ``conditions`` pass only those).
    """
    mask = negligible
    if mask.dim() > value.dim():
        # A vectorised condition over a per-instance value: cut only where every element is
        # negligible.
        mask = mask.reshape(mask.shape[:value.dim()] + (-1,)).all(-1)
    mask, _ = align(mask, value)
    return torch.where(mask, value.detach(), value)
