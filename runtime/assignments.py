"""Augmented assignment with Python's semantics, and tensors as values (DESIGN §1.1)::

    count += a > b     ->  count = rx.iadd(count, rx.gt(a, b))

Python's ``+=`` on a tensor writes into it, which would change the caller's tensor, or the tensor
that the other branch of a relaxed ``if`` still reads. Here a tensor or an event gets the plain
operator (a new value), while everything else keeps Python's in-place operator (``xs += [v]``
extends the same list).
"""

from __future__ import annotations

import operator

from .values import is_relaxed


def _augmented(symbol: str, plain, in_place):
    def apply(target, value):
        return plain(target, value) if is_relaxed(target) else in_place(target, value)

    apply.__name__ = in_place.__name__
    apply.__doc__ = (f"``target {symbol}= value``. Hard meaning: Python's ``{symbol}=``, except that a "
                     f"tensor gets ``target {symbol} value`` (a new tensor) instead of a write into it.")
    return apply


iadd = _augmented("+", operator.add, operator.iadd)
isub = _augmented("-", operator.sub, operator.isub)
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

