"""Which instances the code now running still matters for.

A batch runs every path of a relaxed ``if`` and every iteration of a relaxed ``while`` for all
instances, also where that path is negligible or the instance has left the loop. Operations that
would raise for such an instance (an index out of range) only raise where the path is live, and
otherwise compute a placeholder that the merge discards.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import torch

class _Paths(threading.local):
    """Per thread: the masks of the paths now running (each thread starts with none, so no
    ``hasattr`` test changes between calls, which would make torch.compile recompile)."""

    def __init__(self):
        self.stack = []


_local = _Paths()


def _stack() -> list:
    return _local.stack


@contextmanager
def inactive_where(mask: torch.Tensor):
    """Run a block for a path that does not matter where ``mask`` (bool, batch first) is true."""
    stack = _stack()
    stack.append(mask)
    try:
        yield
    finally:
        stack.pop()


def inactive(batch_size: int):
    """A ``(B,)`` bool tensor: instances whose current path does not matter; None if all do."""
    combined = None
    for mask in _stack():
        if mask.dim() == 0 or mask.shape[0] != batch_size:
            continue
        per_instance = mask.reshape(batch_size, -1).all(1)
        combined = per_instance if combined is None else combined | per_instance
    return combined
