"""Return values of a function that may return early on some paths (DESIGN §1.3).

Early ``return v`` becomes ``return_value = rx.returned(v); returned = True``: the value is a
:class:`Returned` with its *mass*, the probability that the function has returned with it, and
:data:`PENDING` where it has not returned yet (mass 0). Merging two paths weights each value by its
probability *and* its mass, so the value stays the expectation given that the function returned::

    mass   = p·m_true + (1 − p)·m_false
    weight = p·m_true / mass                 (p where mass is 0)
    value  = weight·v_true + (1 − weight)·v_false

Hard: ``p`` is exact per instance and the mass and value are those of the path taken.

A loop's *exit value* (``pos`` in ``for …: if …: pos = i; break`` / ``else: pos = -1``) is carried
the same way: the value given that the loop broke, with the probability that it did, so that the
``else`` merge weighs the value of the paths that broke against its own (``Returned.settled``).

Every other variable is read afterwards only by the paths that have not returned: the rest of the
function runs with the values of the path that reaches it (DESIGN §1.3). So where a merge joins
paths that returned with different masses (a relaxed ``if`` whose branch returns, the stops of a
``while`` with a ``return``), :func:`merge_going_on` merges the other variables in the proportion
of the paths that go on, ``p·(1 − m_true) : (1 − p)·(1 − m_false)``; merged with ``p`` instead,
``if xs[i] < 0: return -1`` would blend the counter ``i`` of the paths that returned into the
``i`` that the code after the loop returns.
"""

from __future__ import annotations

import torch

from .exits import shares
from .values import Value, align, as_tensor, called_from_relaxed_code, to_output


class Returned(Value):
    """A return value with its mass (module docstring)."""

    __slots__ = ("value", "mass")
    noun = "a return value"
    per_instance = False
    merge_precedence = 2

    def __init__(self, value, mass=True):
        self.value = value
        self.mass = mass

    @staticmethod
    def settled(value):
        """The value itself, on a path where it is surely set: a loop's exit value read by its
        ``else`` merge, on the path that broke (``relaxc/early_exits.py``)."""
        return value.value if isinstance(value, Returned) else value

    @classmethod
    def surely(cls, value) -> "Returned":
        """``value`` returned with certainty (an already-returned value keeps its value)."""
        return cls(value.value if isinstance(value, Returned) else value)

    def __repr__(self) -> str:
        return f"Returned({self.value!r}, mass={self.mass!r})"

    def output(self):
        return to_output(self.value)

    @classmethod
    def merge_paths(cls, merger, value_true, value_false):
        if not all(isinstance(v, (Returned, Pending)) for v in (value_true, value_false)):
            return merger.refuse(value_true, value_false)
        p_, mass_true, mass_false = _masses(merger.p, value_true, value_false)
        mass, weight, _ = shares(p_, mass_true, mass_false)
        if isinstance(value_false, Pending):
            value = value_true.value
        elif isinstance(value_true, Pending):
            value = value_false.value
        else:
            value = merger.reweighted(weight).merge(value_true.value, value_false.value)
        return Returned(value, mass)


class Pending(Value):
    """The return value of a function that has not returned yet on this path (mass 0)."""

    __slots__ = ()
    noun = "a pending return value"
    per_instance = False
    merge_precedence = 2

    def __repr__(self) -> str:
        return "relaxc_runtime.PENDING"

    merge_paths = Returned.merge_paths


PENDING = Pending()


def to_result(value):
    """What a relaxed function's ``return`` gives (``rx.result``): to the user, the output form
    (``values.to_output``: events become probability tensors); to relaxed code that called it,
    the value as it is (an event stays an event, so ``if helper(x):`` takes its probability as
    the condition, and a categorical stays one), only taken out of its :class:`Returned`."""
    if called_from_relaxed_code():
        return value.value if isinstance(value, Returned) else value
    return to_output(value)


def merge_going_on(merger, value_true, value_false, returns):
    """Merge two paths' states (tuples) of which ``returns`` are the positions of the early-return
    flag and value: those merge with ``merger.p``, every other variable in the proportion of the
    paths that have not returned (module docstring). Lists and dicts merge with ``p``: the caller
    may hold them, and it sees what a path that returned wrote into them."""
    value_at = returns[1]
    weight = _going_on_weight(merger.p, value_true[value_at], value_false[value_at])
    if weight is None:
        return merger.merge(value_true, value_false)
    going_on = merger.reweighted(weight)
    return tuple((merger if i in returns or isinstance(t, (list, dict)) else going_on).merge(t, f)
                 for i, (t, f) in enumerate(zip(value_true, value_false)))


def going_on_merger_of(merger_of, returns):
    """``merger_of`` (weight -> ``branches.Merger``) for whole states whose ``returns`` positions
    hold the early-return flag and value: its mergers merge as :func:`merge_going_on` (None:
    ``merger_of`` itself). For the merges of exited states (``exits.py``), where a ``return`` and
    a ``break`` meet."""
    if returns is None:
        return merger_of
    return lambda weight: _GoingOnMerger(merger_of(weight), returns)


class _GoingOnMerger:
    __slots__ = ("merger", "returns")

    def __init__(self, merger, returns):
        self.merger, self.returns = merger, returns

    def merge(self, value_true, value_false):
        return merge_going_on(self.merger, value_true, value_false, self.returns)


def _going_on_weight(p, returned_true, returned_false):
    """The weight of the true path among the paths that have not returned (``p`` where neither
    goes on); None where both paths returned alike."""
    if returned_true is returned_false:
        return None
    return shares(*_masses(p, returned_true, returned_false))[2]


def _masses(p, returned_true, returned_false):
    """``p`` and the masses of two return values (a pending one's is 0), lined up, in ``p``'s
    floating dtype."""
    dtype = None if p.dtype == torch.bool else p.dtype
    return align(p, *(as_tensor(r.mass if isinstance(r, Returned) else False, p, dtype)
                      for r in (returned_true, returned_false)))


class Operations:
    """What generated code calls for an early ``return`` (module docstring)."""

    __slots__ = ()
    pending = PENDING
    returned = staticmethod(Returned.surely)
    settled = staticmethod(Returned.settled)
    result = staticmethod(to_result)
