"""``min``/``max`` and ``argmin``/``argmax`` over relaxed values (the paper's eq. 10).

Before / after::

    best = max(best, current)       ->  best = rx.max(best, current)
    m = min(xs)                     ->  m = rx.min(xs)

Relaxed, with scale β (the weights are the context's relaxation's, ``relaxations.py``; softmax in
every family)::

    max(x_1, …, x_k) = Σ_i x_i · softmax(x / β)_i        min: softmax(−x / β)

Hard, per instance: Python's ``max``/``min``, which scan left to right and keep the first value
unless a later one compares strictly greater (smaller)::

    best = values[0]
    for v in values[1:]:
        if v > best:          # min: v < best
            best = v

So NaN follows Python's comparisons: ``max(3, nan)`` is 3 (``nan > 3`` is false), ``max(nan, 3)`` is
NaN (``3 > nan`` is false); a NaN after the first argument is never taken, a NaN first always is.
``argmax``/``argmin`` take the position of that value (the first of ties). Static arguments only: the
builtin itself.

Relaxed, non-finite arguments keep the meaning they have at β → 0: ``max(float("-inf"), x)`` is
``x`` (the ``-inf`` gets no weight), a ``+inf`` argument makes the maximum ``+inf``, a NaN after the
first argument gets no weight, and an instance whose first argument is NaN gets NaN, as in Python
(the exact value is used wherever an infinity dominates, every argument is non-finite, or the first
is NaN). None of these puts a NaN into the value or the gradient of any other instance, nor into
the gradient of the other arguments of an instance whose result is finite.
"""

from __future__ import annotations

import builtins

import torch
import torch.nn.functional as F

from . import host
from .indexing import iterate
from .categorical import Categorical
from .events import expectation
from .values import align, is_relaxed, syncs_freely


def _arguments(args):
    if len(args) == 1:
        (only,) = args
        return list(iterate(only)) if isinstance(only, torch.Tensor) else list(only)
    return list(args)


def extremum(args, ctx, *, largest: bool, **builtin_options):
    """``max(*args)`` (``largest``) or ``min(*args)``, relaxed as in the module docstring."""
    values = _arguments(args)
    if not any(is_relaxed(v) for v in values):
        # The listed values, not ``args``: a generator argument has been consumed by the listing.
        static = (values,) if len(args) == 1 else values
        return (builtins.max if largest else builtins.min)(*static, **builtin_options)
    if builtin_options:
        raise TypeError(f"`{'max' if largest else 'min'}` of relaxed values takes no "
                        f"{', '.join(builtin_options)}= argument: compare the values directly")
    if not values:
        raise ValueError(f"{'max' if largest else 'min'}() arg is an empty sequence")
    values = [expectation(v) for v in values]
    reference = next(v for v in values if isinstance(v, torch.Tensor))
    integers = _integer_dtype(values)
    if integers is not None:
        # Integer and boolean values compare exactly, also relaxed (as `if v > best` on them
        # does): Python's extremum, in their own dtype.
        return _python_extremum(_stack(values, reference, integers), largest)
    dtype = reference.dtype if reference.is_floating_point() else torch.get_default_dtype()
    stacked = _stack(values, reference, dtype)
    if ctx.hard:
        return _python_extremum(stacked, largest)
    sign = 1.0 if largest else -1.0
    if host.finite_or_deferred(stacked, syncs_freely(stacked)):
        # Every argument finite (one sum says so): the softmax sum alone, which the general form
        # below reduces to, in a fifth of the ops.
        weights = ctx.choice(ctx.relaxation.choice_weights(stacked, sign, ctx.beta))
        return _weighted_sum(weights, stacked)
    exact = _python_extremum(stacked, largest)
    finite = torch.isfinite(stacked)
    some_finite = finite.any(-1, keepdim=True)
    # sample mode: the one-hot of a drawn argument
    weights = ctx.choice(_finite_weights(stacked, finite, some_finite, sign, ctx))
    soft = _weighted_sum(weights, torch.where(finite, stacked, torch.zeros_like(stacked)))
    # A dominating infinity (+inf for max) wins outright; all non-finite, or a NaN first (Python's
    # max keeps it): the exact value.
    return torch.where(_decided_exactly(stacked, finite, some_finite, sign), exact, soft)


def _integer_dtype(values):
    """The dtype that integer and boolean ``values`` (tensors, ints, bools) promote to; None if
    any is floating."""
    dtype = None
    for v in values:
        if isinstance(v, torch.Tensor):
            if v.is_floating_point():
                return None
            kind = v.dtype
        elif isinstance(v, bool):
            kind = torch.bool
        elif isinstance(v, int):
            kind = torch.int64
        else:
            return None
        dtype = kind if dtype is None else torch.promote_types(dtype, kind)
    return dtype


def _finite_weights(stacked, finite, some_finite, sign, ctx):
    """The relaxation's weights of the finite values (a non-finite one gets none; an instance
    with none finite gets uniform weights, which :func:`_decided_exactly` then overrides)."""
    scores = torch.where(finite, stacked, torch.full_like(stacked, -sign * torch.inf))
    scores = torch.where(some_finite, scores, torch.zeros_like(scores))
    return ctx.relaxation.choice_weights(scores, sign, ctx.beta)


def _decided_exactly(stacked, finite, some_finite, sign):
    """Per instance: whether the relaxed extremum is the exact one (module docstring)."""
    return ((~finite & (sign * stacked > 0)).any(-1) | ~some_finite.squeeze(-1)
            | torch.isnan(stacked[..., 0]))


def _python_extremum(stacked, largest: bool):
    """Python's ``max`` (``largest``) or ``min`` over the last dim, NaN included: the first value
    unless a later one compares strictly greater (smaller). A later NaN never does; a NaN first
    is never replaced."""
    if not stacked.is_floating_point():
        return stacked.amax(-1) if largest else stacked.amin(-1)
    first = stacked[..., 0]
    fill = -torch.inf if largest else torch.inf
    comparable = torch.where(torch.isnan(stacked), torch.full_like(stacked, fill), stacked)
    best = comparable.amax(-1) if largest else comparable.amin(-1)
    return torch.where(torch.isnan(first), first, best)


def _python_arg_extremum(stacked, largest: bool):
    """The position Python's ``max(range(k), key=values.__getitem__)`` (``min``) takes: that of
    :func:`_python_extremum`, the first of ties."""
    if not stacked.is_floating_point():
        return stacked.argmax(-1) if largest else stacked.argmin(-1)
    fill = -torch.inf if largest else torch.inf
    comparable = torch.where(torch.isnan(stacked), torch.full_like(stacked, fill), stacked)
    index = comparable.argmax(-1) if largest else comparable.argmin(-1)
    return torch.where(torch.isnan(stacked[..., 0]), torch.zeros_like(index), index)


def _stack(values, reference, dtype):
    """The values as one tensor ``(B, ..., k)``, numbers and instances lined up."""
    tensors = [v if isinstance(v, torch.Tensor) and v.dtype == dtype
               else torch.as_tensor(v, dtype=dtype, device=reference.device) for v in values]
    tensors = align(*tensors)
    shape = tensors[0].shape
    if any(t.shape != shape for t in tensors):
        tensors = torch.broadcast_tensors(*tensors)
    return torch.stack(tensors, dim=-1)


def _weighted_sum(weights, values):
    """Σ_i w_i · x_i over the last dim; boolean weights (a drawn one-hot) select."""
    if weights.dtype == torch.bool:
        return torch.where(weights, values, 0.0).sum(-1)
    return (weights * values).sum(-1)


def arg_extremum(values, ctx, *, largest: bool):
    """``argmax(values)`` (``largest``) or ``argmin``.

    Plain values: the index of the first largest (smallest), as Python's ``max(range(n),
    key=values.__getitem__)``. Relaxed: ``Categorical(softmax(±x / β))`` over the positions (the
    relaxation's weights); hard:
    its one-hot.
    """
    elements = list(iterate(values)) if isinstance(values, torch.Tensor) else list(values)
    if not any(is_relaxed(v) for v in elements):
        pick = builtins.max if largest else builtins.min
        return pick(range(len(elements)), key=elements.__getitem__)
    numbers = [expectation(v) for v in elements]
    reference = next(n for n, v in zip(numbers, elements) if is_relaxed(v))
    dtype = reference.dtype if reference.is_floating_point() else torch.get_default_dtype()
    stacked = _stack(numbers, reference, dtype)
    exact = F.one_hot(_python_arg_extremum(stacked, largest), stacked.shape[-1]).to(dtype)
    if ctx.hard or _integer_dtype(numbers) is not None:
        return Categorical(exact)   # (integers and booleans compare exactly, as in `extremum`)
    sign = 1.0 if largest else -1.0
    if host.finite_or_deferred(stacked, syncs_freely(stacked)):
        weights = ctx.relaxation.choice_weights(stacked, sign, ctx.beta)
        return Categorical(ctx.choice(weights).to(dtype))
    # Non-finite values as in `extremum`: no weight, or the exact position where they decide it.
    finite = torch.isfinite(stacked)
    some_finite = finite.any(-1, keepdim=True)
    soft = _finite_weights(stacked, finite, some_finite, sign, ctx)
    decided = _decided_exactly(stacked, finite, some_finite, sign).unsqueeze(-1)
    weights = ctx.choice(torch.where(decided, exact, soft))
    return Categorical(weights.to(dtype))


class Operations:
    """What generated code calls: ``rx.max(a, b)``, ``rx.argmin(xs)``."""

    __slots__ = ()
    def max(self, *args, **options): return extremum(args, self, largest=True, **options)
    def min(self, *args, **options): return extremum(args, self, largest=False, **options)
    def argmax(self, values): return arg_extremum(values, self, largest=True)
    def argmin(self, values): return arg_extremum(values, self, largest=False)
