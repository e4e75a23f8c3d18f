"""Augmented assignment with Python's semantics, and tensors as values (DESIGN §1.1)::

    count += a > b     ->  count = rx.iadd(count, rx.gt(a, b))

Python's ``+=`` on a tensor writes into it, which would change the caller's tensor, or the tensor
that the other branch of a relaxed ``if`` still reads. Here a tensor or an event gets the plain
operator (a new value), while everything else keeps Python's in-place operator (``xs += [v]``
extends the same list).

A tensor counted up by a number (``swaps += 1``) remembers what it was counted up from
(:data:`SHIFT`), so that merging it with that value (an ``if`` that counts) is
``x + p·1`` rather than a ``lerp``, whose backward costs several times more.
"""

from __future__ import annotations

import operator
import weakref

import torch

from .values import is_relaxed

#: The attribute of ``x + c`` (``x`` a tensor, ``c`` a number) that holds ``(weakref(x), c)``.
SHIFT = "relaxc_shift"


def _augmented(symbol: str, plain, in_place):
    def apply(target, value):
        return plain(target, value) if is_relaxed(target) else in_place(target, value)

    apply.__name__ = in_place.__name__
    apply.__doc__ = (f"``target {symbol}= value``. Hard meaning: Python's ``{symbol}=``, except that a "
                     f"tensor gets ``target {symbol} value`` (a new tensor) instead of a write into it.")
    return apply


def _shifting(apply, sign):
    """``apply`` (``+=`` or ``-=``), remembering the shift of a tensor by a number."""
    def shift(target, value):
        result = apply(target, value)
        if (type(target) is torch.Tensor and type(value) in (int, float)
                and type(result) is torch.Tensor and not torch.compiler.is_compiling()):
            setattr(result, SHIFT, (weakref.ref(target), sign * value))
        return result

    shift.__name__, shift.__doc__ = apply.__name__, apply.__doc__
    return shift


iadd = _shifting(_augmented("+", operator.add, operator.iadd), 1)
isub = _shifting(_augmented("-", operator.sub, operator.isub), -1)
imul = _augmented("*", operator.mul, operator.imul)
itruediv = _augmented("/", operator.truediv, operator.itruediv)
ifloordiv = _augmented("//", operator.floordiv, operator.ifloordiv)
imod = _augmented("%", operator.mod, operator.imod)
ipow = _augmented("**", operator.pow, operator.ipow)
imatmul = _augmented("@", operator.matmul, operator.imatmul)
iand = _augmented("&", operator.and_, operator.iand)
ior = _augmented("|", operator.or_, operator.ior)
ixor = _augmented("^", operator.xor, operator.ixor)
ilshift = _augmented("<<", operator.lshift, operator.ilshift)
irshift = _augmented(">>", operator.rshift, operator.irshift)

