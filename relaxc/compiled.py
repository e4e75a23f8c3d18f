"""``relaxc.compile(f)``: a relaxed function under ``torch.compile``, compiled from its record.

Eager relaxed code reads one number back per merge of a relaxed ``if`` (``host.finite``: is the
merged value finite everywhere?) and repairs the merge only where it is not (a negligible side that
is infinite or NaN must not reach the result or the gradient). Under a plain ``torch.compile``
nothing can be read back while tracing, so every merge carries the repair: about thirty ops where
the merge itself is one ``lerp``, which makes the graph, and Inductor's time on it, several times
larger than the same algorithm written by hand (docs/compile_study.md).

``relaxc.compile`` defers those tests to the end of the call (``relaxc_runtime.host.deferring``):
the compiled graph merges as for finite values and keeps the values it merged; one test of them
after the call (a sum per shape, read once) says whether every merge was finite. If one was not,
the call runs again as usual, uncompiled, and its result is returned. So the values and gradients
are always those of the eager function; the compiled graph is used on the calls where it
computes the same thing::

    fast_sort = relaxc.compile(relax(bubble_sort, beta=0.1).options(fixed_iterations=True,
                                                                    max_iter=16))
    values, swaps = fast_sort(x)          # compiled on the first call, as torch.compile is

What is compiled is the call's record (``relaxc_runtime.replay``): the first call with an argument
signature runs once eagerly, with the tests deferred, while the torch calls it makes are recorded
as straight-line code, and ``torch.compile`` compiles that code, not the runtime's Python that
decides what to call (which made Dynamo's trace ten times longer than the same algorithm written
by hand). Where the record's host reads differ from call to call (a relaxed ``while`` without
``fixed_iterations`` reads whether every instance has stopped) the code branches there, as
replay's does. A call that cannot be recorded (it changes a list argument in place, reads a
global tensor) is compiled as a whole instead, with a warning that says why.

A list or dict argument is copied for the compiled run, and the caller's is updated only from the
run that is kept. ``reruns`` counts the calls that ran again uncompiled. The deferral is a module
global (torch.compile traces its stores): where a graph break lets part of a call run eagerly,
another thread's eager call on an accelerator at that moment would defer its tests too, so such
calls are not to be made from two threads at once.
"""

from __future__ import annotations

import functools

import torch

from relaxc_runtime import host
from relaxc_runtime.replay import Replays
from relaxc_runtime.values import map_structure, private_copy, write_back

from .api import RelaxedFunction, relax


def compile(function, **compile_options) -> "CompiledRelaxedFunction":
    """``torch.compile(function, **compile_options)`` of a relaxed function (or of a plain one,
    relaxed with the default options), with the finiteness tests of its merges made once per
    call (module docstring)."""
    if not isinstance(function, RelaxedFunction):
        function = relax(function)
    return CompiledRelaxedFunction(function, compile_options)


class CompiledRelaxedFunction:
    """The callable :func:`compile` returns: ``relaxed``, compiled, with its fallback."""

    def __init__(self, relaxed: RelaxedFunction, compile_options: dict):
        self.relaxed = relaxed
        self.reruns = 0
        self._records = Replays(relaxed.python.__qualname__, compile_options)
        # For a call that cannot be recorded: the relaxed code compiled as a whole.
        self._compiled_whole = torch.compile(self._deferring_call, **compile_options)
        functools.update_wrapper(self, relaxed.python)

    def _deferring_call(self, args, kwargs):
        host.deferring()
        result = self.relaxed(*args, **kwargs)
        return result, host.deferred()

    def __call__(self, *args, **kwargs):
        # Tensors alone (the common call): no list of the caller's to copy in or write back.
        tensors_only = not kwargs and all(type(a) is torch.Tensor for a in args)
        private_args, private_kwargs = ((args, kwargs) if tensors_only
                                        else (private_copy(args), private_copy(kwargs)))
        try:
            result, total = self._records(self._deferring_call, private_args, private_kwargs,
                                          repr(self.relaxed.context), self._compiled_whole)
        except BaseException:
            host.stop_deferring()
            raise
        if bool(torch.isfinite(total)):
            if tensors_only:
                return result
            originals = (*args, *kwargs.values())
            copies = (*private_args, *private_kwargs.values())
            for original, copy in zip(originals, copies):
                write_back(original, copy)
            # A returned argument is the caller's own object, as in the eager call, where the
            # call was compiled whole (a record's result is built anew, as replay's is).
            original_of = _originals(copies, originals)
            return map_structure(lambda leaf: leaf, result,
                                 at_container=lambda c: original_of.get(id(c)))
        # A merge was not finite somewhere: the usual run repairs it where it is negligible.
        self.reruns += 1
        return self.relaxed(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<relaxc.compile of {self.relaxed!r}>"


def _originals(copies, originals) -> dict:
    """id(copy) -> original, for every list, tuple and dict of ``private_copy(originals)``."""
    found = {}

    def note(copy, original):
        found[id(copy)] = original   # (and None: walk into it)

    map_structure(lambda *leaves: None, copies, originals, at_container=note)
    return found
