"""Augmented assignment with Python's semantics, and tensors as values (DESIGN §1.1)::

    count += a > b     ->  count = rx.iadd(count, rx.gt(a, b))

Python's ``+=`` on a tensor writes into it, which would change the caller's tensor, or the tensor
that the other branch of a relaxed ``if`` still reads. Here a tensor or an event gets the plain
operator (a new value), while everything else keeps Python's in-place operator (``xs += [v]``
extends the same list).

A tensor counted up by a number (``swaps += 1``) is remembered, for the rest of the call, with
what it was counted up from (:func:`shift_of`), so that merging the two (an ``if`` that counts)
is ``x + p·1`` rather than a ``lerp``, whose backward costs several times more.

``//=`` and ``%=`` on a relaxed value are ``arithmetic.floordiv``/``arithmetic.mod``: Python's
value per instance, and a gradient (``torch.floor_divide`` has none).
"""

from __future__ import annotations

import operator
import weakref

import torch

from . import arithmetic
from .values import is_relaxed, kept_for_this_call


def shift_of(value):
    """``(x, c)`` where ``value`` is ``x + c``, made by ``+=``/``-=`` in this call and neither
    written in place since; else None.

    Shifts are known in the call that made them only (``values.kept_for_this_call``): a tensor
    that outlives it may meet its base again in another call, where nothing made one from the
    other. Each maps ``id(x + c)`` to weak references to ``x + c`` and ``x``, ``c`` and both
    tensors' versions."""
    if torch.compiler.is_compiling():
        return None
    shifts = kept_for_this_call("shifts")
    entry = None if shifts is None else shifts.get(id(value))
    if entry is None:
        return None
    shifted, base, c, shifted_version, base_version = entry
    base = base()
    if (shifted() is not value or base is None or value._version != shifted_version
            or base._version != base_version):
        return None
    return base, c


def _augmented(symbol: str, plain, in_place, relaxed_value_too: bool = False):
    """``relaxed_value_too``: a relaxed ``value`` also takes ``plain`` (for operators of numbers
    only, where the in-place form of a static target is the plain one anyway)."""
    def apply(target, value):
        if is_relaxed(target) or (relaxed_value_too and is_relaxed(value)):
            return plain(target, value)
        return in_place(target, value)

    apply.__name__ = in_place.__name__
    apply.__doc__ = (f"``target {symbol}= value``. Hard meaning: Python's ``{symbol}=``, except that a "
                     f"tensor gets ``target {symbol} value`` (a new tensor) instead of a write into it.")
    return apply


def _shifting(apply, sign):
    """``apply`` (``+=`` or ``-=``), remembering the shift of a tensor by a number."""
    def shift(target, value):
        result = apply(target, value)
        if (type(target) is torch.Tensor and type(value) in (int, float)
                and type(result) is torch.Tensor and not torch.compiler.is_compiling()
                and not target.is_inference()):   # (inference tensors keep no version)
            shifts = kept_for_this_call("shifts")
            if shifts is not None:
                shifts[id(result)] = (weakref.ref(result), weakref.ref(target), sign * value,
                                      result._version, target._version)
        return result

    shift.__name__, shift.__doc__ = apply.__name__, apply.__doc__
    return shift


def _extend_or_add(target, value):
    """Python's ``+=``; a list extended by a sequence ``(B, n, ...)`` takes one instance's
    elements (``indexing.iterate``), not the batch's rows."""
    if isinstance(target, list):
        from .indexing import iterate   # (here: indexing imports branches, which imports us)
        value = iterate(value)
    return operator.iadd(target, value)


_extend_or_add.__name__ = "iadd"   # (the name ``_augmented`` gives the operator)


class Operations:
    """The augmented assignments generated code calls: ``x = rx.iadd(x, v)`` is ``x += v``."""

    __slots__ = ()
    iadd = staticmethod(_shifting(_augmented("+", operator.add, _extend_or_add), 1))
    isub = staticmethod(_shifting(_augmented("-", operator.sub, operator.isub), -1))
    imul = staticmethod(_augmented("*", operator.mul, operator.imul))
    itruediv = staticmethod(_augmented("/", operator.truediv, operator.itruediv))
    ifloordiv = staticmethod(_augmented("//", arithmetic.floordiv, operator.ifloordiv,
                                        relaxed_value_too=True))
    imod = staticmethod(_augmented("%", arithmetic.mod, operator.imod,
                                   relaxed_value_too=True))
    ipow = staticmethod(_augmented("**", operator.pow, operator.ipow))
    imatmul = staticmethod(_augmented("@", operator.matmul, operator.imatmul))
    iand = staticmethod(_augmented("&", operator.and_, operator.iand))
    ior = staticmethod(_augmented("|", operator.or_, operator.ior))
    ixor = staticmethod(_augmented("^", operator.xor, operator.ixor))
    ilshift = staticmethod(_augmented("<<", operator.lshift, operator.ilshift))
    irshift = staticmethod(_augmented(">>", operator.rshift, operator.irshift))
