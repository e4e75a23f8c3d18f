"""``for`` over a ``range`` whose bounds differ per instance (DESIGN §1.3).

The compiler guards the body of such a loop (``relaxc/ranges.py``)::

    span = rx.span(a, b)
    for j in span:
        if rx.in_span(j, span):
            ...

:func:`span` is Python's ``range`` when the bounds are static. With per-instance bounds it is a
:class:`Span`: the static positions that cover every instance's range, and the bounds; the guard
:func:`in_span` is then each instance's ``a <= j < b`` (``b < j <= a`` for a step of −1). Hard
meaning, per instance::

    for j in range(a, b):
        body

Relaxed, the body at position ``j`` runs with the probability of the guard, with the continuity
correction of integer comparisons: ``P = σ((j − a + ½)/β)·σ((b − j − ½)/β)``. Positions outside
an instance's own span (``⌊a⌋ <= j < ⌈b⌉``) have probability 0 for it, so its result never depends
on the rest of the batch; an instance whose bound is not finite runs no position.
"""

from __future__ import annotations

import math

import torch

from . import conditions
from .paths import inactive
from .events import Event, expectation
from .values import align, is_relaxed


class Span:
    """The static ``positions`` of a range with per-instance bounds ``start``, ``stop``
    (``(B,)`` tensors) and a static ``step`` of 1 or −1."""

    __slots__ = ("positions", "start", "stop", "step")

    def __init__(self, positions: range, start, stop, step: int):
        self.positions, self.start, self.stop, self.step = positions, start, stop, step

    def __iter__(self):
        return iter(self.positions)


def span(*bounds):
    """``range(*bounds)`` with static bounds; a :class:`Span` where a bound is per instance."""
    if not any(is_relaxed(b) for b in bounds):
        return range(*bounds)
    start, stop, step = ((0, bounds[0], 1) if len(bounds) == 1 else
                         (bounds[0], bounds[1], 1) if len(bounds) == 2 else bounds)
    if is_relaxed(step) or step not in (1, -1):
        raise TypeError(
            "a `range` whose bounds differ per instance needs a static step of 1 or -1 (got "
            f"{'a relaxed step' if is_relaxed(step) else step}): loop over a static range and "
            "guard the body with an `if` instead")
    start, stop = (_per_instance(b) for b in (start, stop))
    start, stop = _with_batch(start, stop)
    live = torch.isfinite(start) & torch.isfinite(stop)
    dormant = inactive(start.shape[0])
    if dormant is not None:
        live = live & ~dormant
    if not bool(live.any()):
        return Span(range(0), start, stop, step)
    lows, highs = (start, stop) if step == 1 else (stop, start)
    # (torch.where, not lows[live]: a shape that depends on values would stop replay.)
    low = math.floor(float(torch.where(live, lows, math.inf).detach().min()))
    high = math.ceil(float(torch.where(live, highs, -math.inf).detach().max()))
    positions = range(low, high) if step == 1 else range(high, low, -1)
    return Span(positions, start, stop, step)


def in_span(position, span_, ctx):
    """Whether ``position`` lies in each instance's range (``True`` for a static range): the
    integer comparisons ``low <= j`` and ``j < high`` (``low < j <= high`` for a step of −1) of
    ``conditions``, which is exact in hard mode and takes the continuity correction relaxed."""
    if not isinstance(span_, Span):
        return True
    low, high = (span_.start, span_.stop) if span_.step == 1 else (span_.stop, span_.start)
    exact = ctx.hard or not (low.is_floating_point() or high.is_floating_point())
    if not exact:
        # Outside an instance's own span ⌊low⌋ <= j < ⌈high⌉ the position does not exist for it
        # (probability 0, so it never depends on the batch); its bounds there are replaced by a
        # finite placeholder first, so that a non-finite bound sends no NaN into the gradient.
        own = ((torch.floor(low) <= position) & (position < torch.ceil(high)) if span_.step == 1
               else (torch.floor(low) < position) & (position <= torch.ceil(high)))
        own = own & torch.isfinite(low) & torch.isfinite(high)
        low = torch.where(own, low, torch.zeros_like(low))
        high = torch.where(own, high, torch.zeros_like(high))
    after_low = conditions.less(low, position, ctx, span_.step != 1, True)
    inside = conditions.logical_and(
        after_low, lambda: conditions.less(position, high, ctx, span_.step == 1, True), ctx)
    if exact:
        return inside
    if isinstance(inside, torch.Tensor):   # drawn or scripted decisions (sample, exact modes)
        return inside & own
    return Event(torch.where(own, inside.prob, torch.zeros_like(inside.prob)))


def _per_instance(bound):
    value = expectation(bound)
    if not isinstance(value, torch.Tensor):
        return torch.tensor(value)
    if value.dim() > 1:
        raise TypeError(f"a `range` bound must be a number per instance, got shape "
                        f"{tuple(value.shape)}")
    return value


def _with_batch(start, stop):
    """Both bounds as ``(B,)`` tensors of one dtype (a static bound is the same for all)."""
    start, stop = align(start, stop)
    dtype = torch.promote_types(start.dtype, stop.dtype)
    batch = max(start.shape[0] if start.dim() else 1, stop.shape[0] if stop.dim() else 1)
    return (start.to(dtype).expand(batch) if start.dim() == 0 else start.to(dtype),
            stop.to(dtype).expand(batch) if stop.dim() == 0 else stop.to(dtype))


class Operations:
    """What generated code calls for a ``for`` over a per-instance range (module docstring)."""

    __slots__ = ()
    span = staticmethod(span)
    def in_span(self, position, span): return in_span(position, span, self)
