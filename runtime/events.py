"""The relaxed boolean: the probability that something holds.

In logic (``if``, ``and``, ``not``) an :class:`Event` is the event; in arithmetic it is its
expectation, as ``True + 1 == 2`` in Python::

    count = 0
    count += a > b        # count is now P[a > b], a tensor

In hard mode events are ``torch.bool`` tensors, which already behave this way, so :class:`Event`
only appears in the relaxed evaluation.
"""

from __future__ import annotations

import torch
from torch.utils._pytree import tree_map

from .relaxations import DEFAULT
from .values import Value, batch_repeated


class Event(Value):
    """A relaxed boolean: ``prob`` is the probability (a float tensor) that the event holds.

    Arithmetic and torch functions see ``prob``; ``&``, ``|``, ``^`` and ``~`` are the logic of
    independent events (``p*q``, ``p + q - p*q``, ``1 - (p*q + (1-p)*(1-q))``, ``1 - p``).
    """

    __slots__ = ("prob",)
    noun = "a relaxed boolean"
    #: Merged as a number (``Merger.blend``), against a tensor of any subclass or a number.
    merge_precedence = -1

    def __init__(self, prob: torch.Tensor):
        self.prob = prob

    def __repr__(self) -> str:
        return f"Event(prob={self.prob!r})"

    def __bool__(self) -> bool:
        raise TypeError(
            "a relaxed boolean has no single truth value: use it in an `if`, `while`, `and`, `or` "
            "or `not` of a relaxed function, or read its probability with `.prob`"
        )

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # Through containers too: ``torch.stack([a > b, c > d])`` hands a list of events.
        return func(*tree_map(expectation, args), **tree_map(expectation, kwargs or {}))

    # Arithmetic: the expectation.
    def __add__(self, other): return self.prob + expectation(other)
    def __radd__(self, other): return expectation(other) + self.prob
    def __sub__(self, other): return self.prob - expectation(other)
    def __rsub__(self, other): return expectation(other) - self.prob
    def __mul__(self, other): return self.prob * expectation(other)
    def __rmul__(self, other): return expectation(other) * self.prob
    def __truediv__(self, other): return self.prob / expectation(other)
    def __rtruediv__(self, other): return expectation(other) / self.prob
    def __neg__(self): return -self.prob
    def __pos__(self): return self.prob
    def __float__(self): return float(self.prob)

    # Logic of independent events (the default relaxation's: an event does not know the context
    # it came from; `and`/`or`/`not` in relaxed code follow the context's logic).
    def __and__(self, other): return Event(DEFAULT.and_(self.prob, probability(other)))
    __rand__ = __and__
    def __or__(self, other): return Event(DEFAULT.or_(self.prob, probability(other)))
    __ror__ = __or__
    def __xor__(self, other):
        return Event(DEFAULT.not_(DEFAULT.boolean_equal(self.prob, probability(other))))
    __rxor__ = __xor__
    def __invert__(self): return Event(DEFAULT.not_(self.prob))

    # The value protocol (values.Value). Merged as a number, by branches.Merger.blend.
    def output(self):
        return self.prob

    def repeated(self, draws):
        return Event(batch_repeated(self.prob, draws)) if self.prob.dim() else self


def expectation(value):
    """The number an event stands for in arithmetic: its probability; other values unchanged."""
    return value.prob if isinstance(value, Event) else value


def number(value):
    """A condition as Python's arithmetic sees it (``(a > 0) + (b > 0)``): an int for a bool or
    a bool tensor (torch adds two bool tensors as a logical or); an event, whose operators are
    already those of its probability, and any other value unchanged."""
    if isinstance(value, torch.Tensor) and value.dtype == torch.bool:
        return value.long()
    return int(value) if isinstance(value, bool) else value


def probability(value):
    """The probability of a boolean operand of logic: an event's prob, a bool tensor as float."""
    if isinstance(value, Event):
        return value.prob
    if isinstance(value, torch.Tensor) and value.dtype == torch.bool:
        return value.to(torch.get_default_dtype())
    return float(bool(value)) if isinstance(value, bool) else value


def is_boolean(value) -> bool:
    """Whether ``value`` is a boolean: a Python bool, an event or a bool tensor."""
    return (isinstance(value, (bool, Event))
            or (isinstance(value, torch.Tensor) and value.dtype == torch.bool))

