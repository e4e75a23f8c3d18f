"""Conditions: comparisons, truthiness and the logic of relaxed booleans (DESIGN §1.2).

Generated code turns every comparison and boolean operator into a call here::

    if a < b and not done:          # user source
    rx.and_(rx.lt(a, b), lambda: rx.not_(done))       # generated condition

Static operands give Python's own result (and Python's short-circuit), so a condition on plain
numbers is an ordinary ``bool``. With a relaxed operand, the result is an :class:`Event` holding the
probability under the context's relaxation (``relaxations.py``: the perturbation family with scale β,
and the logic of ``and``/``or``); in hard mode it is the exact per-instance ``torch.bool`` tensor.
Integer and boolean tensors carry no gradient and are always compared exactly. The formulas below
are written for the default relaxation (logistic, product logic); the others replace σ, sech² and
the product by their entries in ``relaxations.py``.
"""

from __future__ import annotations

import torch

from . import categorical, host, indexing
from .events import Event, expectation, is_boolean, number, probability
from .exits import Fork, per_side
from .paths import guard, inactive_where, surely
from .values import align, is_relaxed, syncs_freely


def _decides_exactly(a, b, ctx) -> bool:
    """Whether a comparison of ``a`` and ``b`` is exact: hard mode, or no floating operand."""
    if ctx.hard:
        return True
    return not any(
        isinstance(v, Event) or (isinstance(v, torch.Tensor) and v.is_floating_point())
        for v in (a, b)
    )


def _as_condition(value):
    """A probability tensor as the result of logic: float → Event, bool tensor stays exact."""
    return value if value.dtype == torch.bool else Event(value)


def less(a, b, ctx, strict: bool, integer: bool = False, exact_ties: bool = False):
    """``a < b`` (``strict``) or ``a <= b``; ``a > b`` is ``less(b, a)``.

    Relaxed: ``P = σ((b − a)/β)`` for both. In a ``while`` condition (``exact_ties``) equal
    values decide as in Python (``x < x`` is 0, ``x <= x`` is 1): a sentinel loop's value compared
    with itself (``while xs[i] < pivot``) is one access, not two independent ones, and the loop
    then stops at its sentinel as β → 0. Between integer-valued operands (``integer``: a
    counter, an index, a length, on every path) the continuity correction decides ties: ``a < b``
    is ``a < b − ½`` and ``a <= b`` is ``a < b + ½``, so ``P = σ((b − a ∓ ½)/β)`` and β → 0 is the
    discrete comparison also where the expectations are equal. Hard, per instance::

        a < b if strict else a <= b
    """
    if not (is_relaxed(a) or is_relaxed(b)):
        if type(a) is type(b) and type(a) in (tuple, list) and any(map(is_relaxed, (*a, *b))):
            return _lexicographic(a, b, ctx, strict, integer)
        return a < b if strict else a <= b
    a, b = align(expectation(a), expectation(b))
    if a is b or _decides_exactly(a, b, ctx):
        return a < b if strict else a <= b
    difference = _difference(a, b)
    if integer:
        difference = difference - 0.5 if strict else difference + 0.5
        return ctx.outcome(ctx.relaxation.less(difference, ctx.beta))
    p = ctx.relaxation.less(difference, ctx.beta)
    if exact_ties:
        p = torch.where(difference == 0, 0.0 if strict else 1.0, p)
    return ctx.outcome(p)


def _lexicographic(a, b, ctx, strict: bool, integer: bool):
    """``a < b`` (``strict``) or ``a <= b`` between two tuples or two lists, in Python's order:
    the first elements that differ decide, and a sequence that runs out first is the smaller::

        a[0] < b[0] or (a[0] == b[0] and a[1:] < b[1:])

    with each comparison and the logic relaxed as they are written out (``integer``: every
    element is integer-valued, so ties decide by the continuity correction; between real values
    a tie is the paper's ½, as in any comparison)."""
    if not a or not b:
        return len(a) < len(b) if strict else len(a) <= len(b)
    rest = lambda: logical_and(equal(a[0], b[0], ctx, integer),
                               lambda: _lexicographic(a[1:], b[1:], ctx, strict, integer), ctx)
    return logical_or(less(a[0], b[0], ctx, True, integer), rest, ctx)


def equal(a, b, ctx, integer: bool = False):
    """``a == b``.

    Two booleans (events, bools, bool tensors): XNOR, ``p·q + (1 − p)·(1 − q)``.
    Categoricals: see ``categorical.equal``.
    Numbers, relaxed: ``P = sech²((b − a)/(2β))``; between integer-valued operands
    ``|a − b| < ½``: ``P = σ((½ − d)/β) − σ((−½ − d)/β)`` with ``d = b − a`` (the perturbed
    difference lies within ½ of 0). Hard, per instance::

        a == b
    """
    if not (is_relaxed(a) or is_relaxed(b)):
        return a == b
    if isinstance(a, categorical.Categorical) or isinstance(b, categorical.Categorical):
        return categorical.equal(a, b, ctx)
    if is_boolean(a) and is_boolean(b):
        if _decides_exactly(a, b, ctx):
            a, b = align(a, b)
            return a == b
        p, q = align(probability(a), probability(b))
        return ctx.outcome(ctx.relaxation.boolean_equal(p, q))
    a, b = align(expectation(a), expectation(b))
    if _decides_exactly(a, b, ctx):
        return a == b
    difference = _difference(a, b)
    if integer:
        return ctx.outcome(ctx.relaxation.within_half(difference, ctx.beta))
    return ctx.outcome(ctx.relaxation.equal(difference, ctx.beta))


def _difference(a, b):
    """``b − a``, and 0 where the two are equal infinities (``inf − inf`` is NaN, but ``-inf``
    masked logits or a running minimum that starts at ``inf`` meet as a tie, as in Python). A
    NaN operand stays NaN: that instance's own data.

    Where a host read is free (``syncs_freely``), one read finds the common case, a difference
    finite everywhere, which needs no repair: the repair's three ops (and their backward) were
    12 % of a relaxed bubble sort's forward and backward time. Not in a call that replay records
    (``host.observer``): there each such read would be a test of its own in every replay, where
    the three ops are cheap straight-line code; but where the tests are deferred
    (``relaxc.compile``), deferred too."""
    a, b = _numeric(a, b), _numeric(b, a)
    difference = b - a
    if host.finite_or_deferred(difference, syncs_freely(difference) and host.observer() is None):
        return difference
    return torch.where(a == b, difference.nan_to_num(0.0), difference)


def _numeric(value, other):
    """A bool (tensor or Python) compared with a number as the 0/1 it stands for (torch has no
    bool − x), a tensor in the floating dtype of ``other`` if it has one."""
    if type(value) is bool:
        return int(value)
    if not (isinstance(value, torch.Tensor) and value.dtype == torch.bool):
        return value
    floating = isinstance(other, torch.Tensor) and other.is_floating_point()
    return value.to(other.dtype if floating else torch.get_default_dtype())


def not_equal(a, b, ctx, integer: bool = False):
    """``a != b``: the complement of :func:`equal` (XOR for booleans). Hard: ``a != b``."""
    return logical_not(equal(a, b, ctx, integer), ctx)


def truth(value, ctx):
    """The probability that ``value`` is true, as a condition (Python's truthiness).

    Static values: ``bool(value)``. An event: its probability. A bool tensor: itself (exact).
    A relaxed number ``x``: ``P[x != 0] = 1 − sech²(x/(2β))``; hard: ``x != 0``.
    Returns a Python bool, a ``torch.bool`` tensor, or a float probability tensor.
    """
    if isinstance(value, Event):
        return value.prob
    if not isinstance(value, torch.Tensor):
        return bool(value)
    if value.dtype == torch.bool:
        return value
    if ctx.hard or not value.is_floating_point():
        return value != 0
    p = ctx.relaxation.not_(ctx.relaxation.equal(value, ctx.beta))
    if ctx.recorder is not None:
        ctx.recorder(p.detach(), "condition")
    return ctx.draw(p) if ctx.sampling else p


def _right_operand(right_thunk, inputs, decided):
    """The right operand of a relaxed ``and``/``or``, evaluated as a path that does not matter
    where ``decided``: its variables ``inputs`` (the compiler passes them) carry no gradient there,
    so a NaN it computes there (``sqrt`` of a negative number) stays out of the backward pass."""
    with inactive_where(decided):
        return right_thunk(*[guard(v, decided) if isinstance(v, torch.Tensor) and v.requires_grad
                             else v for v in inputs])


def logical_and(left, right_thunk, ctx, inputs=()):
    """``left and right``; ``right_thunk(*inputs)`` evaluates the right operand.

    A static left operand short-circuits exactly as in Python. A relaxed left operand
    short-circuits per instance: the right operand is evaluated as a path that does not matter
    where ``left`` is surely false (hard: false; relaxed: ``p < eps``), so ``i < len(xs) and
    xs[i] > t`` reads out of range for no instance that matters, and the right operand's value
    there is not used (nor its gradient). A static right operand that is false gives it back
    (false in every case); a true one gives the event of ``left``; a relaxed one gives
    ``P = p·q`` (the product logic; hard: ``p & q``).
    """
    return _connective(False, left, right_thunk, ctx, inputs)


def logical_or(left, right_thunk, ctx, inputs=()):
    """``left or right``: as :func:`logical_and`, with the roles of true and false exchanged
    (the right operand does not matter where ``left`` is surely true: hard: true; relaxed:
    ``p > 1 − eps``); a relaxed right operand gives ``P = p + q − p·q`` (hard: ``p | q``)."""
    return _connective(True, left, right_thunk, ctx, inputs)


def _connective(is_or: bool, left, right_thunk, ctx, inputs):
    """``left or right`` if ``is_or``, else ``left and right``: the operand equal to ``is_or``
    decides alone."""
    this = logical_or if is_or else logical_and
    if type(left) is Fork:
        return per_side(lambda l, r: this(l, lambda: r, ctx), left, right_thunk(*inputs))
    if not is_relaxed(left):
        return (left or right_thunk(*inputs)) if is_or else (left and right_thunk(*inputs))
    p = truth(left, ctx)
    decided = surely(p, is_or, ctx.eps)
    right = _right_operand(right_thunk, inputs, decided)
    if type(right) is Fork:
        return per_side(lambda r: this(left, lambda: r, ctx), right)
    if not is_relaxed(right):
        return right if bool(right) == is_or else _as_condition(p)
    p, q, decided = align(p, truth(right, ctx), decided)
    if p.dtype == torch.bool and q.dtype == torch.bool:
        return p | q if is_or else p & q
    # Where the right operand does not matter it counts as false: `p and false` is false, and
    # `p or false` is p, in every logic.
    p, q = probability(p), probability(q)
    combine = ctx.relaxation.or_ if is_or else ctx.relaxation.and_
    return Event(combine(p, torch.where(decided, torch.zeros_like(q), q)))


def all_of(values, ctx):
    """``all(values)``: the relaxed ``and`` of the elements, in order (a static false element
    stops it as in Python). Hard, per instance: Python's ``all``."""
    result = True
    for value in values:
        result = logical_and(result, lambda value=value: value, ctx)
    return result


def any_of(values, ctx):
    """``any(values)``: the relaxed ``or`` of the elements. Hard, per instance: Python's ``any``."""
    result = False
    for value in values:
        result = logical_or(result, lambda value=value: value, ctx)
    return result


def logical_not(value, ctx):
    """``not value``: Python's ``not`` on static values; ``1 − p`` on relaxed ones (hard: ``~p``)."""
    if type(value) is Fork:
        return per_side(lambda v: logical_not(v, ctx), value)
    if not is_relaxed(value):
        return not value
    p = truth(value, ctx)
    return ~p if p.dtype == torch.bool else Event(ctx.relaxation.not_(p))


def identical(a, b, ctx):
    """``a is b``. ``x is True`` / ``x is False`` on a relaxed boolean is the event or its negation."""
    for value, constant in ((a, b), (b, a)):
        if isinstance(constant, bool) and is_relaxed(value) and is_boolean(value):
            return value if constant else logical_not(value, ctx)
    return a is b


def contains(item, container, ctx):
    """``item in container``.

    Static values: Python's membership test. With a relaxed item or element: the relaxed
    ``item == e_1 or item == e_2 or …`` over the elements (a static tuple or list, or a
    per-instance sequence). Hard, per instance::

        any(item == e for e in container)
    """
    relaxed_elements = isinstance(container, (tuple, list)) and any(map(is_relaxed, container))
    if not (is_relaxed(item) or relaxed_elements or is_relaxed(container)):
        return item in container
    found = False
    for element in indexing.iterate(container):
        found = logical_or(found, lambda element=element: equal(item, element, ctx), ctx)
    return found


class Operations:
    """The comparisons and logic generated code calls through the context: ``rx.lt(a, b)`` is
    ``a < b``. ``integer=True``: both operands are integer-valued on every path (the compiler
    knows), so a relaxed comparison takes the continuity correction. ``exact_ties=True``: a
    `while` condition, where equal values decide as in Python (a sentinel compared with itself).
    """

    __slots__ = ()

    def lt(self, a, b, integer=False, exact_ties=False):
        return less(a, b, self, True, integer, exact_ties)

    def le(self, a, b, integer=False, exact_ties=False):
        return less(a, b, self, False, integer, exact_ties)

    def gt(self, a, b, integer=False, exact_ties=False):
        return less(b, a, self, True, integer, exact_ties)

    def ge(self, a, b, integer=False, exact_ties=False):
        return less(b, a, self, False, integer, exact_ties)

    def eq(self, a, b, integer=False): return equal(a, b, self, integer)
    def ne(self, a, b, integer=False): return not_equal(a, b, self, integer)
    def is_(self, a, b): return identical(a, b, self)
    def is_not(self, a, b): return logical_not(identical(a, b, self), self)
    def in_(self, a, b): return contains(a, b, self)
    def not_in(self, a, b): return logical_not(contains(a, b, self), self)
    def and_(self, left, right_thunk, inputs=()):
        return logical_and(left, right_thunk, self, inputs)

    def or_(self, left, right_thunk, inputs=()):
        return logical_or(left, right_thunk, self, inputs)

    def not_(self, value): return logical_not(value, self)
    number = staticmethod(number)
    def all(self, values): return all_of(values, self)
    def any(self, values): return any_of(values, self)

    def static_condition(self, condition, construct: str):
        """The truth of a condition that must be static here (``construct`` says why)."""
        decided = truth(condition, self)
        if isinstance(decided, torch.Tensor):
            raise TypeError(
                f"{construct} needs a static condition (plain Python values), not a relaxed one: "
                f"filter after the loop, or use an `if` inside it"
            )
        return decided
