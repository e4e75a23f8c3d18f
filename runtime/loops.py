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

import torch

from . import host
from .branches import BranchCopies, ChosenList, Merger
from .conditions import truth
from .enumeration import or_negligible_on_path
from .exits import EXITED, Fork, both, collapse, in_dtype_of, negation, ratio
from .paths import inactive, inactive_where, surely
from .events import Event, probability
from .returns import Returned, going_on_merger_of
from .values import align, is_relaxed, write_back


def while_loop(condition, body, state, ctx, where: str = "a relaxed `while`", exits=()):
    """Run ``state = body(*state)`` while ``condition(*state)``; return the merged final state.

    Hard meaning, per instance::

        while condition(*state):
            state = body(*state)
        return state

    Relaxed: the series above. An instance whose probability of still running falls below ``eps``
    is frozen: its remaining mass goes to its current state, later iterations no longer touch its
    result (nor its gradient), so it never depends on the rest of the batch. The loop stops when
    every instance is frozen or exited, or after ``max_iter`` iterations with the remaining mass on
    the last state (and a warning); iterations whose condition is static are Python's own loop and
    not counted.

    ``exits`` are ``(flag, return value or None)`` positions in the state: the flags of a ``break``
    or ``return`` in the body. The loop goes on only where no flag is set and the condition holds,
    and the state it records for stopping is conditioned on having stopped: there a flag is set
    with probability ``flag / P(stop)`` (a return value's mass likewise), not with its merged
    probability.

    With ``ctx.fixed_iterations`` it never stops early on data: exactly ``max_iter`` relaxed
    iterations run unless the condition is statically false, so the loop has no data-dependent
    exit (``torch.compile(fullgraph=True)`` can capture it).
    """
    initial = state = tuple(state)
    # Stops by a `return` end the function: the other variables matter only on the other stops.
    returns = next(((flag, value) for flag, value in exits if value is not None), None)
    merger_of = going_on_merger_of(lambda weight: Merger(weight, ctx), returns)
    records = []        # (state_i, exit weight_i): the probability of stopping at i, given i
    running = None      # probability (or bool) of still running at this iteration; None: surely
    relaxed_iterations = 0   # max_iter bounds these; static iterations are Python's own loop
    while True:
        flags = [state[flag] for flag, _ in exits]
        if any(not is_relaxed(f) and f for f in flags):
            break   # a `break`/`return` surely happened: Python never evaluates the condition
        try:
            if running is None:
                q = truth(condition(*state), ctx)
            else:
                # Instances that stopped do not matter to the condition either: their state
                # moved on with the batch (a counter past the end) and is never used.
                with inactive_where(_stopped(running, ctx)):
                    q = truth(condition(*state), ctx)
        except IndexError:
            # A sentinel loop (`while xs[i] < pivot`) whose relaxed comparisons let some mass run
            # past the end: Python never gets there (hard mode raises as Python would). Relaxed,
            # that path stops where it would read out of range; so does a drawn or enumerated
            # path (sample, exact mode), which is one the perturbed comparisons take.
            if running is None or ctx.hard:
                raise
            _warn_out_of_range(running, where, "condition reads out of range",
                               "a sentinel passed under perturbation",
                               "Guard the read (`i < len(xs) and xs[i] < pivot`)")
            q = False
        staying = _staying([f for f in flags if is_relaxed(f)], ctx)
        if staying is not None:
            q = staying if q is True else (q if q is False else both(q, staying))
        if q is False:
            break
        frozen = None
        if isinstance(q, torch.Tensor):
            running = both(running, q)
        if running is not None:
            frozen = _stopped(running, ctx)
            dormant = inactive(running.shape[0]) if running.dim() > 0 else None
            if dormant is not None:   # instances for which this loop does not matter
                frozen = frozen | align(dormant, frozen)[0]
            stop = _stop(frozen, q, running)
            records.append((_stopped_state(state, exits, stop), stop))
            if not ctx.fixed_iterations and bool(frozen.all()):
                break
            if relaxed_iterations == ctx.max_iter:
                if not ctx.fixed_iterations:   # fixed: the user chose the count (and no sync)
                    _warn_unfinished(running, ctx, where)
                break
            relaxed_iterations += 1
        if frozen is None:
            state = tuple(body(*state))
        else:
            # The recorded state must survive the body: give it a copy (and cut the gradient of
            # frozen instances, whose later states are never used).
            # (in exact mode, also where the path being enumerated is negligible: a guard only,
            # the path's decisions stay those of the enumeration)
            copies = BranchCopies(state, or_negligible_on_path(frozen, ctx),
                                  every_element=True).inputs
            try:
                with inactive_where(frozen):
                    state = tuple(body(*copies))
            except IndexError:
                # A counter merged from two paths (`i = 0.5` after a tie) carries a little mass
                # one step further than any instance's own run goes, and the body reads or
                # writes out of range there (`out[k]` with `k == len(out)`). As at the
                # condition: that path stops here, its mass on the state before this iteration.
                # Where an instance surely reaches this iteration, its own run goes out of
                # range too: Python's error.
                if ctx.hard or bool((surely(running, True, ctx.eps) & ~frozen).any()):
                    raise
                _warn_out_of_range(running, where, "body reads or writes out of range",
                                   "a counter merged from two paths may run past the end; the "
                                   "loop stops there for the whole batch",
                                   "Bound the loop by the lengths it indexes "
                                   "(`while i < len(a) and k < len(out)`)")
                break
        # A `break`/`return` taken on some paths (exits.py): record the exited state as a stop,
        # and go on with the state of the paths that did not exit.
        q_exit, going_on, exited = collapse(state, merger_of)
        if q_exit is True:
            state = exited   # every path has exited: the loop ends here
            break
        elif q_exit is not None:
            records.append((_flags_set(exited), q_exit))
            running = both(running, negation(q_exit))
            state = going_on
    result = _flags_set(state)
    for recorded, stop in reversed(records):
        if _sizes_differ(recorded, result):
            if bool(surely(stop, False, ctx.eps).all()):
                continue   # a stop that no instance makes, with lists that grew after it
            raise ValueError(
                f"{where}: a list changes size inside a relaxed `while` (an `append`, `pop` or "
                f"`insert` in an iteration that runs for some instances only), so the states of "
                f"its iterations cannot be merged: make the list before the loop with its final "
                f"size (`out = [0.0] * n`) and assign `out[k] = ...` with a counter `k`")
        result = merger_of(stop).merge(recorded, result)
    for original, merged in zip(initial, result):
        if type(original) is ChosenList and isinstance(merged, list):
            original.refuse_if_written(merged)
        write_back(original, merged)
    return tuple(original if isinstance(original, (list, dict)) and type(merged) is type(original)
                 else merged for original, merged in zip(initial, result))


def _sizes_differ(a, b) -> bool:
    """Whether two states hold lists of different lengths at the same place."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) != len(b) or any(_sizes_differ(x, y) for x, y in zip(a, b))
    return False


def _stopped(running, ctx):
    """Where an instance no longer runs: surely (hard), or but for less than ``eps`` (a NaN
    probability, from the instance's own NaN data, counts as stopped: it never falls)."""
    return ~running if running.dtype == torch.bool else ~(running >= ctx.eps)


def _stop(frozen, q, running):
    """The probability of stopping at the start of an iteration: 1 where frozen, else that the
    condition fails (``q`` static ``True``: it holds)."""
    if running.dtype == torch.bool:
        return ~running
    if q is True:
        return frozen.to(running.dtype)
    q = in_dtype_of(q, running)   # an exact choice in a relaxed loop
    return torch.where(frozen, torch.ones_like(q), 1 - q)


def _flags_set(state):
    """An exited state as the code after the loop reads it: its flags are plain ``True``."""
    return tuple(True if v is EXITED else v for v in state)


def _staying(flags, ctx):
    """The probability that none of the relaxed exit ``flags`` is set (None without any)."""
    staying = None
    for flag in flags:
        staying = both(staying, negation(truth(flag, ctx)))
    return staying


def _stopped_state(state, exits, stop):
    """``state`` given that the loop stops here (probability ``stop``): each relaxed exit flag
    becomes ``flag / stop``, the share of stopping that is due to it."""
    if not exits or stop.dtype == torch.bool:
        return state   # exact choices: each instance's flag already says why it stopped
    refined = list(state)
    stopping = stop > 0
    safe = torch.where(stopping, stop, torch.ones_like(stop))
    for flag, value in exits:
        if not is_relaxed(state[flag]):
            continue
        share = probability(state[flag])
        share, safe_, stopping_ = align(share, safe, stopping)
        share = torch.where(stopping_, (share / safe_).clamp(max=1), torch.zeros_like(share))
        refined[flag] = Event(share)
        if value is not None and isinstance(state[value], Returned):
            refined[value] = Returned(state[value].value, share)
    return tuple(refined)


def _warn_out_of_range(running, where, what: str, why: str, fix: str):
    host.warn(
        f"{where}: a relaxed `while` {what} on a path that relaxed decisions reach with "
        f"probability up to {float(running.detach().float().nan_to_num(0.0).max()):.3g} "
        f"({why}); that path stops there. {fix} to make the bound explicit")


def _warn_unfinished(running, ctx, where):
    mass = float(running.detach().float().max())   # (running: never None at max_iter)
    if mass >= ctx.eps:
        host.warn(
            f"{where}: relaxed `while` stopped after max_iter={ctx.max_iter} iterations with "
            f"probability up to {mass:.3g} of running on; that mass is put on the last state "
            f"(raise max_iter with f.options(max_iter=...))")


class Operations:
    """What generated code calls for a ``while`` and the exits that leave a loop."""

    __slots__ = ()

    def while_loop(self, condition, body, state, where="a relaxed `while`", exits=()):
        return while_loop(condition, body, state, self, where, exits)

    @staticmethod
    def stop(flag) -> bool:
        """Whether an exit flag (``broke``, ``returned``) is surely set: a static ``True``.

        A relaxed flag is not a stop: the rest of the loop still runs, weighted by the
        probability that it is reached.
        """
        return type(flag) is not Fork and not is_relaxed(flag) and bool(flag)

    exited = EXITED
