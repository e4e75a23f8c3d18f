"""``min``/``max`` and ``argmin``/``argmax`` over relaxed values (the paper's eq. 10).

Before / after::

    best = max(best, current)       ->  best = rx.max(best, current)
    m = min(xs)                     ->  m = rx.min(xs)

Relaxed, with temperature β::

    max(x_1, …, x_k) = Σ_i x_i · softmax(x / β)_i        min: softmax(−x / β)

Hard, per instance: Python's ``max``/``min``. Static arguments only: the builtin itself. Infinite
arguments keep their meaning: ``max(float("-inf"), x)`` is ``x`` (the ``-inf`` gets no weight), and a
``+inf`` argument makes the maximum ``+inf``; neither puts a NaN into the value or the gradient.
"""

from __future__ import annotations

import builtins

import torch
import torch.nn.functional as F

from . import replay
from .indexing import iterate
from .values import Categorical, align, expectation, is_relaxed, syncs_freely


def _arguments(args):
    if len(args) == 1:
        (only,) = args
        return list(iterate(only)) if isinstance(only, torch.Tensor) else list(only)
    return list(args)


def extremum(args, ctx, *, largest: bool, **builtin_options):
    """``max(*args)`` (``largest``) or ``min(*args)``, relaxed as in the module docstring."""
    values = _arguments(args)
    if not any(is_relaxed(v) for v in values):
        return (builtins.max if largest else builtins.min)(*args, **builtin_options)
    if builtin_options:
        raise TypeError(f"`{'max' if largest else 'min'}` of relaxed values takes no "
                        f"{', '.join(builtin_options)}= argument: compare the values directly")
    if not values:
        raise ValueError(f"{'max' if largest else 'min'}() arg is an empty sequence")
    values = [expectation(v) for v in values]
    reference = next(v for v in values if isinstance(v, torch.Tensor))
    dtype = reference.dtype if reference.is_floating_point() else torch.get_default_dtype()
    stacked = _stack(values, reference, dtype)
    if ctx.hard:
        return stacked.amax(-1) if largest else stacked.amin(-1)
    sign = 1.0 if largest else -1.0
    if syncs_freely(stacked) and replay.finite(stacked):
        # Every argument finite (one sum says so): the softmax sum alone, which the general form
        # below reduces to, in a fifth of the ops.
        weights = ctx.choice(torch.softmax(stacked * (sign / ctx.beta), dim=-1))
        return _weighted_sum(weights, stacked)
    exact = stacked.amax(-1) if largest else stacked.amin(-1)
    finite = torch.isfinite(stacked)
    safe = torch.where(finite, stacked, torch.zeros_like(stacked))
    logits = torch.where(finite, sign * safe / ctx.beta, torch.full_like(safe, -torch.inf))
    some_finite = finite.any(-1, keepdim=True)
    weights = torch.softmax(torch.where(some_finite, logits, torch.zeros_like(logits)), dim=-1)
    weights = ctx.choice(weights)   # sample mode: the one-hot of a drawn argument
    soft = _weighted_sum(weights, safe)
    # A dominating infinity (+inf for max) wins outright; all infinite: the exact value.
    dominated = (~finite & (sign * stacked > 0)).any(-1) | ~some_finite.squeeze(-1)
    return torch.where(dominated, exact, soft)


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
    key=values.__getitem__)``. Relaxed: ``Categorical(softmax(±x / β))`` over the positions; hard:
    its one-hot.
    """
    elements = list(iterate(values)) if isinstance(values, torch.Tensor) else list(values)
    if not any(is_relaxed(v) for v in elements):
        pick = builtins.max if largest else builtins.min
        return pick(range(len(elements)), key=elements.__getitem__)
    reference = next(expectation(v) for v in elements if is_relaxed(v))
    dtype = reference.dtype if reference.is_floating_point() else torch.get_default_dtype()
    stacked = _stack([expectation(v) for v in elements], reference, dtype)
    if ctx.hard:
        index = stacked.argmax(-1) if largest else stacked.argmin(-1)
        return Categorical(F.one_hot(index, stacked.shape[-1]).to(dtype))
    weights = ctx.choice(torch.softmax((stacked if largest else -stacked) / ctx.beta, dim=-1))
    return Categorical(weights.to(dtype))
