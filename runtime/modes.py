"""Evaluation modes that run a compiled function more than once (DESIGN §1.5).

``evaluate(function, ctx, args, kwargs, rx_name)`` is how a relaxed function is called: once, with
``ctx``, for the relaxed and hard modes; for ``"straight_through"``:

    forward  = the hard result           (the discrete algorithm, batched)
    gradient = the relaxed result's      (hard + (relaxed − relaxed.detach()))

Both runs get private copies of the caller's lists, and the combined values are written back
into them, so a list argument is mutated once, as Python would.
"""

from __future__ import annotations

import torch


def evaluate(function, ctx, args, kwargs, rx_name: str):
    if ctx.mode != "straight_through":
        return function(*args, **{**kwargs, rx_name: ctx})
    relaxed_args, relaxed_kwargs = _private(args), _private(kwargs)
    hard_args, hard_kwargs = _private(args), _private(kwargs)
    relaxed = function(*relaxed_args, **{**relaxed_kwargs, rx_name: ctx.replace(
        mode="relaxed")})
    hard = function(*hard_args, **{**hard_kwargs, rx_name: ctx.replace(mode="hard")})
    arguments = list(zip(args, relaxed_args, hard_args))
    for original, relaxed_copy, hard_copy in arguments:
        _write_back(original, _combine(relaxed_copy, hard_copy, ()))
    return _combine(relaxed, hard, arguments)


def _combine(relaxed, hard, arguments):
    """The hard value, carrying the relaxed value's gradient. A returned argument (both runs
    return their copy of it) is the caller's own object, already written back."""
    for original, relaxed_copy, hard_copy in arguments:
        if relaxed is relaxed_copy and hard is hard_copy and isinstance(original, list):
            return original
    if isinstance(relaxed, torch.Tensor) and isinstance(hard, torch.Tensor):
        if not relaxed.is_floating_point():
            return hard
        return hard.detach().to(relaxed.dtype) + (relaxed - relaxed.detach())
    if isinstance(relaxed, (list, tuple)) and isinstance(hard, (list, tuple)):
        return type(hard)(_combine(r, h, arguments) for r, h in zip(relaxed, hard))
    if isinstance(relaxed, dict) and isinstance(hard, dict):
        return {k: _combine(relaxed[k], hard[k], arguments) for k in hard}
    return hard


def _private(value):
    """A copy of the lists and dicts in ``value`` (tensors are values and are shared)."""
    if isinstance(value, list):
        return [_private(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_private(v) for v in value)
    if isinstance(value, dict):
        return {k: _private(v) for k, v in value.items()}
    return value


def _write_back(original, combined):
    if isinstance(original, list) and isinstance(combined, list):
        for inner, value in zip(original, combined):
            _write_back(inner, value)
        original[:] = [o if isinstance(o, list) else c for o, c in zip(original, combined)]
    elif isinstance(original, dict) and isinstance(combined, dict):
        original.update(combined)
