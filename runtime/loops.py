"""Loops: the relaxed ``while`` as the series of the paper's eq. 7 (DESIGN §1.3).

The compiler turns a ``while`` into a condition and a body over the loop's variables::

    while j > 0 and xs[j - 1] > key:        def while_condition(j, xs, key):
        xs[j] = xs[j - 1]                        return rx.and_(rx.gt(j, 0), lambda: ...)
        j -= 1                       ->      def while_body(j, xs, key):
                                                 ...
                                                 return j, xs, key
                                             j, xs, key = rx.while_loop(while_condition, while_body, (j, xs, key), where="sort.py:5")

:func:`while_loop` evaluates the condition on the state after exactly ``i`` iterations; while it is
static it is Python's ``while``. Where it is relaxed with probability ``q_i``, the result is the
state after exactly ``i`` iterations weighted by the probability of exactly ``i`` iterations,
``P_i = q_0 ⋯ q_{i-1} (1 − q_i)``, which is the same as nested merges
``merge(1 − q_0, s_0, merge(1 − q_1, s_1, …))``.
"""

from __future__ import annotations

import warnings

import torch

from .branches import BranchCopies, Merger
from .conditions import truth
from .paths import inactive_where


def while_loop(condition, body, state, ctx, where: str = "a relaxed `while`"):
    """Run ``state = body(*state)`` while ``condition(*state)``; return the merged final state.

    Hard meaning, per instance::

        while condition(*state):
            state = body(*state)
        return state

    Relaxed: the series above. An instance whose probability of still running falls below ``eps``
    is frozen: its remaining mass goes to its current state, later iterations no longer touch its
    result (nor its gradient), so it never depends on the rest of the batch. The loop stops when
    every instance is frozen or exited, or after ``max_iter`` iterations with the remaining mass on
    the last state (and a warning). With ``ctx.fixed_iterations`` it never stops early on data:
    exactly ``max_iter`` iterations run unless the condition is statically false, so the loop has
    no data-dependent exit (``torch.compile(fullgraph=True)`` can capture it).
    """
    initial = state = tuple(state)
    records = []        # (state_i, exit weight_i): the probability of stopping at i, given i
    running = None      # probability (or bool) of still running at this iteration; None: surely
    for iteration in range(ctx.max_iter + 1):
        q = truth(condition(*state), ctx)
        if not isinstance(q, torch.Tensor):
            if not q:
                break
            frozen = None
        else:
            running = q if running is None else _and(running, q)
            frozen = ~running if running.dtype == torch.bool else running < ctx.eps
            records.append((state, ~running if running.dtype == torch.bool
                            else torch.where(frozen, torch.ones_like(q), 1 - q)))
            if not ctx.fixed_iterations and bool(frozen.all()):
                break
        if iteration == ctx.max_iter:
            if not ctx.fixed_iterations:   # fixed: the user chose the count (and no sync)
                _warn_unfinished(running, ctx, where)
            break
        if frozen is None:
            state = tuple(body(*state))
            continue
        # The recorded state must survive the body: give it a copy (and cut the gradient of
        # frozen instances, whose later states are never used).
        state = BranchCopies(state, frozen).inputs
        with inactive_where(frozen):
            state = tuple(body(*state))
    result = state
    for recorded, stop in reversed(records):
        result = Merger(stop, ctx).merge(recorded, result)
    for original, merged in zip(initial, result):
        _write_back(original, merged)
    return tuple(original if isinstance(original, list) and isinstance(merged, list) else merged
                 for original, merged in zip(initial, result))


def _and(running, q):
    if running.dtype == torch.bool and q.dtype == torch.bool:
        return running & q
    return running * q


def _write_back(original, merged):
    """Give a list the merged contents in place, so the caller's list is the one updated."""
    if isinstance(original, list) and isinstance(merged, list) and original is not merged:
        for inner, value in zip(original, merged):
            _write_back(inner, value)
        original[:] = [o if isinstance(o, list) and isinstance(m, list) else m
                       for o, m in zip(original, merged)]


def _warn_unfinished(running, ctx, where):
    if running is None:
        mass = 1.0
    else:
        mass = float(running.detach().float().max())
    if mass >= ctx.eps:
        warnings.warn(
            f"{where}: relaxed `while` stopped after max_iter={ctx.max_iter} iterations with "
            f"probability up to {mass:.3g} of running on; that mass is put on the last state "
            f"(raise max_iter with f.options(max_iter=...))",
            RuntimeWarning, stacklevel=3,
        )
