"""Evaluation modes that run a compiled function in another way than once (DESIGN §1.5).

``evaluate(function, ctx, args, kwargs, rx_name)`` is how a relaxed function is called: once, with
``ctx``, for the relaxed and hard modes. For ``"straight_through"``:

    forward  = the hard result           (the discrete algorithm, batched)
    gradient = the relaxed result's      (hard + (relaxed − relaxed.detach()))

For ``"exact"``: every combination of decisions is enumerated (``enumeration``) and the results
are summed with their weights.

For ``"sample"``: every relaxed decision is drawn (``Context.outcome``/``choice``); the batch is
repeated ``ctx.samples`` times and run once, and the result is the mean over the draws, per
instance (``standard_error=True`` also gives the standard error of that mean).

Each run works on private copies of the caller's lists; the combined (or mean) values are written
back into them, so a list argument is updated once, as Python would.
"""

from __future__ import annotations

import math

import torch

from .arithmetic import straight_through
from .enumeration import DecisionScript
from .replay import Replays
from .values import (Value, align, batch_repeated, call_scope, map_structure, private_copy,
                     write_back)


def evaluate(function, ctx, args, kwargs, rx_name: str, standard_error: bool = False):
    from .arguments import check_arguments   # batch shapes, refused at the call (arguments.py)
    check_arguments(function, args, kwargs)
    if ctx.replay and ctx.recorder is None:
        replays = function.__dict__.get("relaxc_replays")
        if replays is None:
            replays = function.relaxc_replays = Replays(function.__qualname__)
        return replays(lambda args, kwargs: _evaluate_in_scope(
            function, ctx, args, kwargs, rx_name, standard_error), args, kwargs, repr(ctx))
    return _evaluate_in_scope(function, ctx, args, kwargs, rx_name, standard_error)


def _evaluate_in_scope(function, ctx, args, kwargs, rx_name, standard_error):
    with call_scope():   # what runtime code keeps for this call (values.kept_for_this_call)
        return _evaluate(function, ctx, args, kwargs, rx_name, standard_error)


def _evaluate(function, ctx, args, kwargs, rx_name, standard_error):
    if ctx.mode == "sample":
        return _sample(function, ctx, args, kwargs, rx_name, standard_error)
    if ctx.mode == "exact" and not standard_error:
        return _enumerate(function, ctx, args, kwargs, rx_name)
    if standard_error:
        raise ValueError("a standard error exists for mode='sample' only")
    if ctx.mode != "straight_through":
        return function(*args, **{**kwargs, rx_name: ctx})
    relaxed_args, relaxed_kwargs = private_copy(args), private_copy(kwargs)
    hard_args, hard_kwargs = private_copy(args), private_copy(kwargs)
    relaxed = function(*relaxed_args, **{**relaxed_kwargs, rx_name: ctx.replace(
        mode="relaxed")})
    hard = function(*hard_args, **{**hard_kwargs, rx_name: ctx.replace(mode="hard")})
    arguments = list(zip(args, relaxed_args, hard_args))
    for original, relaxed_copy, hard_copy in arguments:
        write_back(original, _combine(relaxed_copy, hard_copy, ()))
    return _combine(relaxed, hard, arguments)


def _combine(relaxed, hard, arguments):
    """The hard value, carrying the relaxed value's gradient. A returned argument (both runs
    return their copy of it) is the caller's own object, already written back."""
    def returned_argument(hard, relaxed):
        for original, relaxed_copy, hard_copy in arguments:
            if relaxed is relaxed_copy and hard is hard_copy and isinstance(original, list):
                return original
        return None

    return map_structure(_straight_through, hard, relaxed, at_container=returned_argument)


def _straight_through(hard, relaxed):
    if not (isinstance(relaxed, torch.Tensor) and isinstance(hard, torch.Tensor)
            and relaxed.is_floating_point()):
        return hard
    # (where the relaxed value is not finite, the hard value alone: inf − inf would be NaN)
    return straight_through(hard.detach().to(relaxed.dtype), relaxed)


def _sample(function, ctx, args, kwargs, rx_name, standard_error):
    draws = ctx.samples
    repeated_args, repeated_kwargs = _repeat(args, draws), _repeat(kwargs, draws)
    # A fresh context: its generators start from the seed, so a call is reproducible.
    result = function(*repeated_args, **{**repeated_kwargs, rx_name: ctx.replace()})
    for original, repeated in zip(args, repeated_args):
        write_back(original, _statistics(repeated, draws)[0])
    mean, error = _statistics(result, draws)
    return (mean, error) if standard_error else mean


def _repeat(value, draws):
    """The batch repeated ``draws`` times along dim 0 (draw-major)."""
    return map_structure(lambda leaf: _repeated(leaf, draws), value)


def _repeated(value, draws):
    if isinstance(value, Value):
        return value.repeated(draws)
    return batch_repeated(value, draws) if isinstance(value, torch.Tensor) else value


def _statistics(value, draws):
    """(mean over the draws, standard error of that mean), structurally (the error of a value
    that is not per instance is None)."""
    return (map_structure(lambda leaf: _per_draw(leaf, draws, "mean"), value),
            map_structure(lambda leaf: _per_draw(leaf, draws, "error"), value))


def _per_draw(value, draws, statistic):
    if not (isinstance(value, torch.Tensor) and value.dim() > 0):
        return value if statistic == "mean" else None
    per_draw = value.reshape(draws, -1, *value.shape[1:])
    if not per_draw.is_floating_point():
        per_draw = per_draw.to(torch.get_default_dtype())
    if statistic == "mean":
        return per_draw.mean(0)
    return per_draw.std(0) / draws ** 0.5 if draws > 1 else torch.zeros_like(per_draw[0])


def _enumerate(function, ctx, args, kwargs, rx_name):
    script = DecisionScript(ctx.max_paths, ctx.eps)
    total = totals_of_args = None
    paths = 0
    while True:
        run = ctx.replace()
        run.script = script
        script.start()
        private_args, private_kwargs = private_copy(args), private_copy(kwargs)
        result = function(*private_args, **{**private_kwargs, rx_name: run})
        total = _weighted_sum(total, result, script.weight, script.negligible)
        totals_of_args = _weighted_sum(totals_of_args, private_args, script.weight,
                                       script.negligible)
        paths += 1
        script.finish()
        if paths == 1 and script.paths_estimate() > math.log2(ctx.max_paths):
            script.refuse(f"about 2^{script.paths_estimate():.0f}")   # refused at once
        if not script.advance():
            break
        if paths == ctx.max_paths:
            script.refuse(f"more than {ctx.max_paths}")
    for original, combined in zip(args, _settled(totals_of_args)):
        write_back(original, combined)
    return _settled(total)


def _weighted_sum(total, value, weight, negligible):
    """``total + weight · value``, structurally; a value without decisions is returned as is.
    Where the path is ``negligible`` for an instance, a value that is not finite adds nothing
    (``enumeration``'s docstring)."""
    if weight is None:
        return value
    if total is None:
        return map_structure(lambda leaf: _weighted(leaf, weight, negligible, None), value)
    return map_structure(lambda leaf, sum_: _weighted(leaf, weight, negligible, sum_),
                         value, total)


class _StaticSum:
    """The weighted sum of a static number over the paths so far, and whether every path gave
    the same number (then the result is that number, as in the other modes: ``len(xs)`` stays
    an int)."""

    __slots__ = ("value", "agrees", "total")

    def __init__(self, value, agrees, total):
        self.value, self.agrees, self.total = value, agrees, total


def _settled(total):
    """``total`` with each :class:`_StaticSum` as the number every path agreed on, or its sum."""
    return map_structure(lambda leaf: (leaf.value if leaf.agrees else leaf.total)
                         if isinstance(leaf, _StaticSum) else leaf, total)


def _weighted(value, weight, negligible, total):
    if isinstance(value, Value):
        value = value.output()
    if not isinstance(value, (torch.Tensor, bool, int, float)):
        return value   # static and equal on every path (e.g. None, a string)
    static = isinstance(total, _StaticSum)
    agrees = (not isinstance(value, torch.Tensor)
              and (total is None or static and total.agrees and type(total.value) is type(value)
                   and total.value == value))
    total = total.total if static else total
    number = value.to(weight.dtype) if isinstance(value, torch.Tensor) else float(value)
    w, number = align(weight, number)
    if isinstance(number, torch.Tensor) and number.is_floating_point():
        # (the number, not the term: w·NaN would reach w's gradient as 0·NaN)
        negligible, _ = align(negligible, w)
        number = torch.where(negligible.reshape(w.shape) & ~number.isfinite(), 0.0, number)
    term = w * number
    total = term if total is None else total + term
    return _StaticSum(value, agrees, total) if not isinstance(value, torch.Tensor) else total
