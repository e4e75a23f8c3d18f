"""Integer arithmetic on relaxed values: ``//``, ``%``, ``divmod``, ``int()``, ``round()``,
``float()`` (DESIGN §1.1).

Before / after::

    mid = (lo + hi) // 2     ->  mid = rx.floordiv(lo + hi, 2)          # floordiv below
    k = i % n                ->  k = rx.mod(i, n)                       # mod
    q, r = divmod(a, b)      ->  q, r = rx.iterate(rx.divmod(a, b))     # divmod_
    j = int(x)               ->  j = rx.int(x)                          # int_
    r = round(x)             ->  r = rx.round(x)                        # round_
    y = float(x)             ->  y = rx.float(x)                        # float_

Static operands (plain Python numbers, strings) get Python's own operator or builtin, so ``7 // 2``
is still the int ``3`` and ``"%d" % n`` still formats.

**Forward value: Python's, per instance, in every mode.** ``a // b`` is ``floor(a / b)`` computed
as Python computes it (``-7 // 2 == -4``, ``-7.5 // 2 == -4.0``), ``a % b`` has the sign of ``b``
(``-7 % 2 == 1``), ``int(x)`` truncates toward zero (``int(-2.5) == -2``), ``round(x)`` rounds
half to even (``round(2.5) == 2``, ``round(3.5) == 4``). Integer tensors stay exact integer tensors
(no gradient to give). A floating tensor stays floating: ``int(x)`` of a ``float32`` tensor is a
``float32`` tensor holding integers, because a gradient lives on floating values only; an integer
per instance compares, indexes and counts exactly as Python's ``int`` would.

**Gradient: straight-through.** ``floor``, ``trunc`` and ``round`` are piecewise constant; their true
derivative (torch's ``torch.floor``) is zero almost everywhere. Here they pass the gradient through
as if they were the identity::

    d(a // b)      = d(a / b)            (1/b to a, −a/b² to b)
    d int(x)       = d round(x) = dx
    d(a % b)       = torch.remainder's:  1 to a, −(a // b) to b   (exact almost everywhere)
    d float(x)     = dx

Why not zero: in relaxed code an integer is an expectation over paths: after a relaxed ``if`` the
bounds of a binary search are ``lo = p·(mid + 1) + (1 − p)·lo``, and ``mid = (lo + hi) // 2`` is the
index the next comparison reads with (``xs[mid]``, a real-valued index whose kernel has a gradient).
A zero derivative would make every later index a constant to autograd: the gradient from the next
reads back to the decisions that moved ``lo`` and ``hi`` would be cut. The identity is the
derivative of the real-valued quantity the integer stands for (``(lo + hi) / 2``), which is what a
relaxation needs; it is the usual straight-through estimator of a rounding (as in quantisation-
aware training). ``%`` keeps torch's derivative, which is already the exact one: ``i % n`` moves with
``i`` (a straight-through floor inside it would cancel that to zero).

The forward value is exact: the result is ``exact + (g − g.detach())`` where ``g`` is the
real-valued stand-in (``a / b``, ``x``), whose added term is exactly zero; where the stand-in is
not finite (``a / 0``) no gradient passes.

**Relaxed booleans** (events) in arithmetic are their expectation (DESIGN §1.1); for these
operations the expectation is taken over the event, as on each path: ``int(flag)``,
``round(flag)`` and ``float(flag)`` are the probability ``p`` (``int(True) == 1``), and
``flag // n`` with a static ``n`` is ``p·(1 // n) + (1 − p)·(0 // n)``.

**Not Python:** where Python raises for one instance (``x // 0``, ``int(nan)``, ``int(inf)``),
the tensor gets torch's value for that instance (``inf``, ``nan``) and the other instances are
unaffected (DESIGN §1.7): an error for one instance never fails the batch. Where the quotient
``a / b`` overflows (``5.0 % 1e-308``), torch's vectorised ``remainder`` gives NaN where Python's
exact ``fmod`` gives a number. ``round(x, ndigits)``
of a relaxed value is refused (Python's decimal rounding cannot be matched exactly on tensors).
"""

from __future__ import annotations

import builtins

import torch

from .events import Event, expectation
from .values import Value, align, is_relaxed


def _needs_gradient(*values) -> bool:
    return any(isinstance(v, torch.Tensor) and v.requires_grad for v in values)


def straight_through(exact: torch.Tensor, stand_in: torch.Tensor) -> torch.Tensor:
    """``exact`` in the forward pass, the gradient of ``stand_in`` in the backward pass."""
    delta = stand_in - stand_in.detach()   # exactly zero where stand_in is finite
    return exact + torch.where(torch.isfinite(stand_in.detach()), delta, torch.zeros_like(delta))


def _operand(value, operation: str):
    """A relaxed operand as a number or tensor (events as their expectation)."""
    if isinstance(value, Value) and value.per_instance and not isinstance(value, Event):
        raise TypeError(f"`{operation}` of {value.noun} is not supported: index it or compare "
                        f"it first")
    return expectation(value)


def _over_event(operation, a, b):
    """``operation(a, b)`` where one operand is an event and the other static: the expectation
    over the event, ``p·operation(True, b) + (1 − p)·operation(False, b)``; else None."""
    if isinstance(a, Event) and not is_relaxed(b):
        return a.prob * operation(1, b) + (1 - a.prob) * operation(0, b)
    if isinstance(b, Event) and not is_relaxed(a):
        return b.prob * operation(a, 1) + (1 - b.prob) * operation(a, 0)
    return None


def floordiv(a, b):
    """``a // b``. Hard and relaxed forward, per instance: Python's ``a // b`` (floor of the
    quotient; ``-7 // 2 == -4``). Gradient: that of ``a / b`` (module docstring)."""
    if not (is_relaxed(a) or is_relaxed(b)):
        return a // b
    over_event = _over_event(floordiv, a, b)
    if over_event is not None:
        return over_event
    a, b = align(_operand(a, "//"), _operand(b, "//"))
    if not _needs_gradient(a, b):
        return _floor_divide(a, b)
    # floor_divide has no derivative: its value is taken without the graph.
    exact = _floor_divide(_detached(a), _detached(b))
    if not exact.is_floating_point():
        return exact
    # Where a / b is not finite no gradient passes; its operands are made finite there, so that
    # the zero gradient stays zero through the division (0 · 1/0 would be NaN).
    passes = torch.isfinite(_detached(a) / _detached(b))
    a, b = (torch.where(passes, v, torch.ones_like(v)) if isinstance(v, torch.Tensor) else v
            for v in (a, b))
    return straight_through(exact, a / b)


def _floor_divide(a, b):
    return torch.floor_divide(a, b) if isinstance(a, torch.Tensor) else a // b


def _detached(value):
    return value.detach() if isinstance(value, torch.Tensor) else value


def mod(a, b):
    """``a % b``. Hard and relaxed forward, per instance: Python's ``a % b`` (the sign of ``b``;
    ``-7 % 2 == 1``). Gradient: torch's ``remainder`` (1 to ``a``, ``-(a // b)`` to ``b``).
    A static string on the left is Python's formatting."""
    if isinstance(a, (str, bytes)) or not (is_relaxed(a) or is_relaxed(b)):
        return a % b
    over_event = _over_event(mod, a, b)
    if over_event is not None:
        return over_event
    a, b = align(_operand(a, "%"), _operand(b, "%"))
    return torch.remainder(a, b) if isinstance(a, torch.Tensor) else a % b


def divmod_(a, b):
    """``divmod(a, b)``: ``(a // b, a % b)`` as :func:`floordiv` and :func:`mod`."""
    if not (is_relaxed(a) or is_relaxed(b)):
        return builtins.divmod(a, b)
    return floordiv(a, b), mod(a, b)


def _rounded(x, operation: str, rounding):
    """``rounding`` of a relaxed ``x`` with the straight-through gradient; integer tensors as
    they are, booleans as 0/1 integers, events as their probability."""
    if isinstance(x, Event):
        return x.prob
    x = _operand(x, operation)
    if x.dtype == torch.bool:
        return x.long()
    if not x.is_floating_point():
        return x
    if not _needs_gradient(x):
        return rounding(x)
    return straight_through(rounding(x.detach()), x)


def int_(x, *args, **kwargs):
    """``int(x)``. Relaxed ``x``: truncation toward zero per instance (``int(-2.5) == -2``), in
    ``x``'s dtype, with the identity as gradient. Static: the builtin (``int("7")``, bases)."""
    if args or kwargs or not is_relaxed(x):
        return builtins.int(x, *args, **kwargs)
    return _rounded(x, "int()", torch.trunc)


def round_(x, ndigits=None):
    """``round(x)``. Relaxed ``x``: round half to even per instance (``round(2.5) == 2``), in
    ``x``'s dtype, with the identity as gradient. Static: the builtin."""
    if not is_relaxed(x):
        return builtins.round(x) if ndigits is None else builtins.round(x, ndigits)
    if ndigits is not None:
        raise TypeError("round(x, ndigits) of a relaxed value is not supported (Python rounds the "
                        "decimal value, which tensors cannot match exactly): use round(x * 10 ** n) "
                        "/ 10 ** n, or torch.round(x, decimals=n)")
    return _rounded(x, "round()", torch.round)


def float_(x=0.0):
    """``float(x)``. Relaxed ``x``: a floating tensor of the same values (an integer or boolean
    tensor in the default dtype, an event its probability). Static: the builtin."""
    if not is_relaxed(x):
        return builtins.float(x)
    if isinstance(x, Event):
        return x.prob
    x = _operand(x, "float()")
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def item(value):
    """``value.item()``: the one number of a value that is the same for every instance (a 0-d
    tensor, a static number). A per-instance value has no single number: ``.item()`` on it would
    read instance 0 only (or fail), and at a batch of one it would silently take every decision
    that follows hard, so it is refused."""
    if (isinstance(value, Value) and value.per_instance) or (
            isinstance(value, torch.Tensor) and value.dim() > 0):
        raise TypeError(
            "`.item()` on a relaxed value: it differs per instance and carries the gradient, so "
            "it has no single Python number. Use the value itself (`x`, or `float(x)` for a "
            "floating copy); compare it with `<`/`==` to decide (the decision is then relaxed)")
    return value.item() if isinstance(value, torch.Tensor) else value


class Operations:
    """What generated code calls for ``//``, ``%``, ``divmod``, ``int()``, ``round()``,
    ``float()`` and ``.item()``; named after the builtins (nothing in this class body reads them)."""

    __slots__ = ()
    floordiv = staticmethod(floordiv)
    mod = staticmethod(mod)
    divmod = staticmethod(divmod_)
    int = staticmethod(int_)
    round = staticmethod(round_)
    float = staticmethod(float_)
    item = staticmethod(item)
