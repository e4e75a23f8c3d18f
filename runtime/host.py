"""The runtime's edge: the host reads that decide what it computes next, and the warnings a call
gives. The core ops (branches, loops, extrema) call these and know nothing of replay::

    if host.finite(merged): ...     # every value finite: one read back to Python
    host.warn(message)              # this call warns (a `while` cut at max_iter)

Without an observer, ``finite`` reads the tensor and ``warned`` does nothing. ``replay.py``
installs its recorder as the observer of the call it records (:func:`observed_by`): it notes each
read's answer (a replay makes the read again and checks it) and keeps no call that warned (such a
call must warn every time). A warning is located at the user's call: the line that called the
relaxed function, not a line of the runtime or of generated code (which ``stacklevel`` counted by
hand would name as soon as the call depth changes). Torch calls need no hook: the recorder sees them through its
``TorchFunctionMode``.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import warnings

import torch

# The observer of the call now running in this thread, if any (as torch function modes are).
_this_thread = threading.local()
#: Top-level packages whose frames are relaxc's own.
_OURS = frozenset({"relaxc", "relaxc_runtime"})


def every_finite(tensor: torch.Tensor) -> bool:
    """Whether every element of ``tensor`` is finite, read on the host: one sum, finite only then,
    and where it is not (a value that is not finite, or finite values whose sum overflows, as
    float16 sums of a few hundred values in the thousands do) one exact test."""
    tensor = tensor.detach()
    return math.isfinite(tensor.sum()) or bool(torch.isfinite(tensor).all())


def finite(tensor: torch.Tensor) -> bool:
    """Whether every value of ``tensor`` is finite (:func:`every_finite`), as the observer of the
    call, if any, answers it."""
    observer = getattr(_this_thread, "observer", None)
    return every_finite(tensor) if observer is None else observer.finite(tensor)


# The finiteness tests deferred to the end of a call by ``relaxc.compile`` (:func:`deferring`):
# the tensors whose tests are deferred; None otherwise. A module global, not a thread-local:
# torch.compile traces its stores as the graph's side effects.
_deferred = None


def deferring() -> None:
    """Defer the finiteness tests of the code that runs from here (traced by torch.compile, or
    recorded for it) to :func:`deferred`: each :func:`finite_or_deferred` answers True and keeps
    its tensor, and no other code reads a value back (``values.syncs_freely``)."""
    global _deferred
    _deferred = []


def is_deferring() -> bool:
    """Whether finiteness tests are deferred now (:func:`deferring`)."""
    return _deferred is not None


def deferred() -> torch.Tensor:
    """Stop deferring; a 0-d tensor that is finite exactly when every tensor whose test was
    deferred is (or conservatively not, where finite sums overflow): per shape, the tensors
    added elementwise and one sum of that. (Elementwise adds fuse into the loop that computes the
    tensors; a sum of each, or of their stack, is a reduction per tensor, for which Inductor
    splits its kernel into a loop each: a compiled sort at n = 10 took 1.38 ms per forward +
    backward so, 0.88 ms now, docs/performance.md.)"""
    global _deferred
    tensors, _deferred = _deferred, None
    by_shape = {}
    for tensor in tensors:
        by_shape.setdefault((tensor.shape, tensor.dtype, tensor.device), []).append(tensor)
    total = torch.zeros(())
    with torch.no_grad():
        for group in by_shape.values():
            if group[0].dtype in (torch.float16, torch.bfloat16):   # (their sums overflow early)
                group = [tensor.float() for tensor in group]
            elementwise = group[0]
            for tensor in group[1:]:
                elementwise = elementwise + tensor
            total = total + elementwise.sum()
    return total


def stop_deferring() -> None:
    """Stop deferring without a total: a call that failed part way (a graph break lets the rest
    of the call run eagerly) must not leave later calls deferring."""
    global _deferred
    _deferred = None


def finite_or_deferred(tensor: torch.Tensor, readable: bool) -> bool:
    """Whether every value of ``tensor`` is finite, as the caller may take it: where the tests
    are deferred (:func:`deferring`), True, with the tensor kept for the one test after the call
    (``relaxc.compile`` runs the call again as usual if it fails); else read (:func:`finite`)
    where reading it back costs nothing (``readable``: ``values.syncs_freely``); else False, so
    that the caller takes its general path."""
    if _deferred is not None:
        _deferred.append(tensor)
        return True
    if readable:
        return finite(tensor)
    return False


def warned() -> None:
    """Tell the observer of the call, if any, that the call warned."""
    observer = getattr(_this_thread, "observer", None)
    if observer is not None:
        observer.warned = True


def relaxc_frame(frame) -> bool:
    """Whether ``frame`` runs relaxc's code: the compiler, the runtime, or generated code."""
    return (frame.f_globals.get("__name__", "").partition(".")[0] in _OURS
            or frame.f_code.co_filename.startswith("<relaxc "))


def warn(message: str, category=RuntimeWarning) -> None:
    """Warn, located at the first frame outside relaxc (:func:`relaxc_frame`), and tell the
    observer of the call, if any, that it warned."""
    warned()
    frame, level = sys._getframe(1), 2
    while frame is not None and relaxc_frame(frame):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def observer():
    """The observer of the call now running in this thread, or None."""
    return getattr(_this_thread, "observer", None)


@contextlib.contextmanager
def observed_by(observer):
    """Run the block with ``observer`` answering :func:`finite` and told of :func:`warned`."""
    _this_thread.observer = observer
    try:
        yield
    finally:
        _this_thread.observer = None
