"""Categorical values: the relaxed form of a symbol or an index (DESIGN §1.1, §1.4).

A :class:`Categorical` holds probabilities ``(B, ..., k)`` over ``k`` classes. It is what a relaxed
``argmax``/``argmin`` returns, and how a user passes symbols (``relaxc.Categorical(one_hot)``).
A sequence of categoricals is one ``(B, n, k)`` categorical: ``len``, iteration and indexing see its
``n`` per-instance elements::

    relaxc.argmax(xs)            ->  rx.argmax(xs)      # Categorical(softmax(x / β)) over positions
    a[i] == b[j]                 ->  rx.eq(...)         # inner product / cosine similarity
    xs[c]                        ->  rx.getitem(xs, c)  # Σ_j c_j · xs[j]

Hard mode: ``argmax`` is one-hot, ``==`` compares the argmaxes, indexing selects exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .values import Categorical, align, is_relaxed, syncs_freely


def equal(a, b, ctx):
    """``a == b`` where an operand is categorical.

    Two categoricals: the inner product ``Σ a_i b_i`` where one of them is one-hot (per instance),
    else their cosine similarity. A categorical and a static int ``i``: ``a_i``. Hard: the argmaxes
    (or the argmax and ``i``) are equal.
    """
    if isinstance(b, Categorical) and not isinstance(a, Categorical):
        a, b = b, a
    if not isinstance(b, Categorical):
        if is_relaxed(b) or not isinstance(b, int):
            raise TypeError("a categorical value compares with another categorical or a static "
                            "int class index")
        if ctx.hard:
            return a.probs.argmax(-1) == b
        return ctx.outcome(a.probs[..., b])
    if a.classes != b.classes:
        raise ValueError(f"cannot compare categoricals over {a.classes} and {b.classes} classes")
    if ctx.hard:
        left, right = align(a.probs.argmax(-1), b.probs.argmax(-1))
        return left == right
    p, q = align(a.probs, b.probs)   # both broadcast in the similarities below
    either_one_hot = torch.logical_or(*align(a.one_hot(), b.one_hot()))
    if syncs_freely(p):   # then compute only the similarity some instance uses
        if not bool(either_one_hot.any()):
            return ctx.outcome(F.cosine_similarity(p, q, dim=-1))
        if bool(either_one_hot.all()):
            return ctx.outcome((p * q).sum(-1))
    inner = (p * q).sum(-1)
    cosine = F.cosine_similarity(p, q, dim=-1)
    return ctx.outcome(torch.where(either_one_hot, inner, cosine))


def merge(p, value_true, value_false):
    """A categorical under a relaxed condition: the mixture of the two distributions."""
    if value_true.classes != value_false.classes:
        raise ValueError(f"cannot merge categoricals over {value_true.classes} and "
                         f"{value_false.classes} classes")
    if p.dtype == torch.bool:
        p = p.to(value_true.probs.dtype)
    weight, a, b = align(p.unsqueeze(-1) if p.dim() > 0 else p, value_true.probs,
                         value_false.probs)
    return Categorical(torch.lerp(b, a, weight))
