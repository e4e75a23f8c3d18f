"""Exits inside a relaxed ``while``: the path that leaves and the path that goes on stay apart.

A ``break`` or ``return`` of a ``while`` becomes an exit flag (``relaxc/early_exits.py``); inside
the loop the flag is set to :data:`EXITED` rather than ``True``::

    while i < len(xs):                      while_body(xs, t, returned, return_value, i):
        if xs[i] == t:                          if xs[i] == t:      # relaxed, probability q
            return i                 ->             return_value = rx.returned(i)
        i += 1                                      returned = rx.exited
                                                if not returned:   # the rest of the body
                                                    i += 1
                                                return xs, t, returned, return_value, i

A relaxed ``if`` whose one path has exited does not merge its two paths: it *forks* them. Each
variable the paths set differently becomes a :class:`Fork` of one :class:`Split` (the probability
``q`` of having exited, given that this point is reached): ``returned`` is ``Fork(False, EXITED)``,
``return_value`` is ``Fork(PENDING, Returned(i))``. The rest of the body runs behind
``if not returned:``, whose condition is then a fork too, so :func:`branch_per_side` runs it on the
path that goes on only, with that path's own values (``i`` stays the int it is, not a blend of
``i`` and ``i + 1``). At the end of the body, ``loops.while_loop`` takes the forks apart
(:func:`collapse`): it records the exited state with probability ``q`` as a stop of the paper's
series, and goes on with the other state. Hard meaning, per instance: the ``if`` either exits or
goes on, exactly as in Python.

Exits nested in further relaxed ``if``\\ s merge as paths do: two forked paths fork with the
combined probability of exiting, their exited states merged with each other and their going-on
states with each other (:func:`merge_forked`).
"""

from __future__ import annotations

import torch

from .paths import inactive_where, surely
from .values import align


class Exited:
    """The value of an exit flag that is set inside a ``while`` (truthy, as ``True``)."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "relaxc_runtime.EXITED"


EXITED = Exited()


class Split:
    """A relaxed decision between exiting and going on: ``q`` is the probability (a float or
    ``torch.bool`` tensor) of having exited, given that the decision is reached."""

    __slots__ = ("q",)

    def __init__(self, q):
        self.q = q


class Fork:
    """A variable's value on each side of a :class:`Split`: ``on`` (going on) and ``off``
    (exited)."""

    __slots__ = ("split", "on", "off")

    def __init__(self, split: Split, on, off):
        self.split, self.on, self.off = split, on, off

    def __repr__(self) -> str:
        return f"Fork(on={self.on!r}, off={self.off!r})"

    def __bool__(self):
        raise TypeError("internal error: a forked exit flag reached plain Python logic "
                        "(relaxc_runtime.exits)")


def has_exit(value) -> bool:
    """Whether branch outputs ``value`` hold an exit taken on this path (a flag set to
    :data:`EXITED`) or forks of one."""
    if type(value) is tuple:
        for v in value:
            if v is EXITED or type(v) is Fork:
                return True
        return False
    return value is EXITED or type(value) is Fork


def side(value, split: Split, on: bool):
    """``value`` on one side of ``split``: forks of it are resolved, anything else is kept."""
    if type(value) is Fork and value.split is split:
        return value.on if on else value.off
    if type(value) is tuple:
        return tuple(side(v, split, on) for v in value)
    return value


def joined(split: Split, on, off):
    """The values ``on`` and ``off`` of each side as one value: a fork where they differ."""
    if type(on) is tuple and type(off) is tuple:
        return tuple(joined(split, a, b) for a, b in zip(on, off))
    return on if on is off else Fork(split, on, off)


def _first_split(value):
    if type(value) is Fork:
        return value.split
    if type(value) is tuple:
        for v in value:
            found = _first_split(v)
            if found is not None:
                return found
    return None


def collapse(value, merger_of):
    """``(q, going on, exited)`` of a value that may hold forks (nested ones too): ``q`` the
    probability of having exited (None: surely not, and ``exited`` is None; ``True``: surely,
    and ``going on`` is None). The exited states of nested splits are merged with each other by
    ``merger_of(weight)`` (a ``branches.Merger`` maker)."""
    split = _first_split(value)
    if split is None:   # this path exited for sure, or not at all
        return (True, None, value) if has_exit(value) else (None, value, None)
    on, off = side(value, split, True), side(value, split, False)
    q_inner, on, off_inner = collapse(on, merger_of)
    if q_inner is None:
        return split.q, on, off
    if q_inner is True:
        # The side that went on at this split exited later for sure (a second `break` whose
        # condition is static there): every path has exited, in the proportion of the split.
        return True, None, merger_of(split.q).merge(off, off_inner)
    q = _either(split.q, q_inner)
    # Of the exits, the share that happened at the outer split.
    return q, on, merger_of(_share(split.q, q)).merge(off, off_inner)


def merge_forked(merger, value_true, value_false, merger_of):
    """The outputs of a relaxed ``if`` where a path exited or forked: one fork whose probability of
    having exited is ``p·q_true + (1 − p)·q_false``; the going-on values merge in the proportion
    of going on, the exited ones in the proportion of exiting (``merger.p`` is ``p``)."""
    p = merger.p
    q_true, on_true, off_true = collapse(value_true, merger_of)
    q_false, on_false, off_false = collapse(value_false, merger_of)
    q, off_weight, on_weight = shares(p, _as_q(q_true, p), _as_q(q_false, p), at_most_one=True)
    on = _pick(merger_of, on_weight, on_true, on_false)
    off = _pick(merger_of, off_weight, off_true, off_false)
    if on is None:
        return off
    return joined(Split(q), on, off)


def branch_per_side(condition: Fork, run, inputs, eps: float):
    """A branch whose condition is forked: ``run(condition, inputs)`` on each side, with that
    side's values, joined again as forks. Each side runs as a path that does not matter for the
    instances that are surely on the other side (``paths.py``): there its values are placeholders
    (a sentinel loop of an instance that has exited would read out of range)."""
    split = condition.split
    q = split.q
    # The side that exited reads the lists as they are now: what the side going on writes into
    # them next (the rest of the loop's body) is not its.
    snapshots = {}
    off_inputs = _lists_copied(side(inputs, split, False), snapshots)
    with inactive_where(surely(q, True, eps)):
        on = run(condition.on, side(inputs, split, True))
    with inactive_where(surely(q, False, eps)):
        off = run(condition.off, off_inputs)
    return joined(split, on, _unchanged_as_originals(off, snapshots))


def _lists_copied(value, snapshots: dict):
    """``value`` with each list and dict in it (nested ones too) new; id(copy) -> (copy,
    original) into ``snapshots``."""
    if isinstance(value, tuple):
        return tuple(_lists_copied(v, snapshots) for v in value)
    if isinstance(value, (list, dict)):
        copy = ([_lists_copied(v, snapshots) for v in value] if isinstance(value, list)
                else {k: _lists_copied(v, snapshots) for k, v in value.items()})
        snapshots[id(copy)] = (copy, value)
        return copy
    return value


def _unchanged_as_originals(outputs, snapshots: dict):
    """``outputs`` with each copy that still holds what its original holds as that original, so
    that a list neither side wrote into does not become a fork."""
    if isinstance(outputs, tuple):
        return tuple(_unchanged_as_originals(v, snapshots) for v in outputs)
    entry = snapshots.get(id(outputs))
    if entry is None or entry[0] is not outputs:
        return outputs
    copy, original = entry
    pairs = (zip(copy, original) if isinstance(copy, list) else
             ((copy[k], original[k]) for k in copy) if copy.keys() == original.keys() else None)
    if (pairs is not None and len(copy) == len(original)
            and all(_unchanged_as_originals(a, snapshots) is b for a, b in pairs)):
        return original
    return outputs


def per_side(operation, *operands):
    """``operation(*operands)`` where an operand is forked: on each side, joined as a fork."""
    split = next(v.split for v in operands if type(v) is Fork)
    on = operation(*(side(v, split, True) for v in operands))
    off = operation(*(side(v, split, False) for v in operands))
    return on if on is off else Fork(split, on, off)


def _pick(merger_of, weight, value_true, value_false):
    if value_true is None:
        return value_false
    if value_false is None:
        return value_true
    return merger_of(weight).merge(value_true, value_false)


def _as_q(q, p):
    if q is None or q is True:
        return torch.zeros_like(p) if q is None else torch.ones_like(p)
    return in_dtype_of(align(q, p)[0], p)


def in_dtype_of(q, p):
    """A bool probability ``q`` as 0/1 in the floating dtype of ``p`` (else ``q`` itself)."""
    return q.to(p.dtype) if q.dtype == torch.bool and p.dtype != torch.bool else q


def both(p, q):
    """``p·q`` (exact: ``p & q``); ``p`` None is certainty."""
    if p is None or (p.dtype == torch.bool and q.dtype == torch.bool):
        return q if p is None else p & q
    p, q = align(in_dtype_of(p, q), in_dtype_of(q, p))
    return p * q


def negation(p):
    return ~p if p.dtype == torch.bool else 1 - p


def _either(q_outer, q_inner):
    """The probability of exiting at the outer split or, going on, at the inner one."""
    if q_outer.dtype == torch.bool and q_inner.dtype == torch.bool:
        return q_outer | q_inner
    q_outer, q_inner = align(in_dtype_of(q_outer, q_inner), in_dtype_of(q_inner, q_outer))
    return q_outer + (1 - q_outer) * q_inner


def _share(part, whole):
    """``part / whole`` as a merge weight (``whole`` 0: ``part``'s own value); exact choices
    stay bools."""
    if whole.dtype == torch.bool:
        return part
    part = in_dtype_of(part, whole)
    return ratio(part, whole, part, at_most_one=True)


def ratio(part, whole, fallback, at_most_one=False):
    """``part / whole`` (``at_most_one``: clamped to [0, 1]), and ``fallback`` where ``whole`` is
    0 (no 0/0 in value or gradient)."""
    safe = torch.where(whole > 0, whole, torch.ones_like(whole))
    quotient = part / safe
    return torch.where(whole > 0, quotient.clamp(0, 1) if at_most_one else quotient, fallback)


def shares(p, q_true, q_false, at_most_one=False):
    """Two paths taken with ``p`` and ``1 − p`` (lined up with ``q_*``), of which each has left
    (exited, returned) with ``q_true``, ``q_false``: ``(q, w_left, w_going)``, the probability of
    having left and the true path's weight among the paths that left and among those that go on
    (``p`` where there are none). Exact choices: ``q`` that of the path taken, weights ``p``."""
    if p.dtype == torch.bool:
        return torch.where(p, q_true, q_false), p, p
    left_true, going_true = p * q_true, p * (1 - q_true)
    q = left_true + (1 - p) * q_false
    return (q, ratio(left_true, q, p, at_most_one),
            ratio(going_true, going_true + (1 - p) * (1 - q_false), p, at_most_one))
