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

from .values import Categorical, align, is_relaxed, kept_for_this_call, syncs_freely


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
    pair = _pairwise(a, b)
    if pair is not None:
        return ctx.outcome(pair)
    return ctx.outcome(_similarity(*align(a.probs, b.probs),
                                   *align(a.one_hot(), b.one_hot())))


def _similarity(p, q, one_hot_p, one_hot_q):
    """The inner product of ``p`` and ``q`` over the classes where either is one-hot, else their
    cosine similarity (all four broadcast against each other)."""
    either_one_hot = torch.logical_or(one_hot_p, one_hot_q)
    if syncs_freely(p):   # then compute only the similarity some instance uses
        if not bool(either_one_hot.any()):
            return F.cosine_similarity(p, q, dim=-1)
        if bool(either_one_hot.all()):
            return (p * q).sum(-1)
    inner = (p * q).sum(-1)
    cosine = F.cosine_similarity(p, q, dim=-1)
    return torch.where(either_one_hot, inner, cosine)


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


#: The most elements (batch × n × m) of the similarities of two sequences computed at once.
_PAIRWISE_LIMIT = 1 << 22


def _pairwise(a, b):
    """``a == b`` for elements ``a = s[i]``, ``b = t[j]`` of two sequences ``(B, n, k)``,
    ``(B, m, k)``: entry ``(i, j)`` of all their similarities ``(B, n, m)``, computed at the first
    such comparison of this call and kept for it. An algorithm over two sequences (an edit
    distance) compares most pairs: one broadcast op instead of one per pair, also in the backward
    pass. None where that does not apply (outside a call, other operands, the rows of a grid,
    a large table, torch.compile, which fuses the per-pair ops anyway).

    Kept longer than the call, a table would hold that call's autograd graph (freed by its
    backward pass, or absent under ``no_grad``) and would not see the caller's next update of the
    probabilities (``.data`` changes no version)."""
    if a.origin is None or b.origin is None or torch.compiler.is_compiling():
        return None
    tables = kept_for_this_call("similarity tables")
    (s, i), (t, j) = a.origin, b.origin
    if (tables is None or s.origin is not None or t.origin is not None or s.probs.dim() != 3
            or t.probs.dim() != 3):
        return None
    versions = (s.probs._version, t.probs._version)
    kept = tables.get((id(s), id(t)))
    if kept is None or kept[2] != versions:
        n, m = s.probs.shape[1], t.probs.shape[1]
        if max(s.probs.shape[0], t.probs.shape[0]) * n * m > _PAIRWISE_LIMIT:
            return None
        table = _similarity(s.probs.unsqueeze(2), t.probs.unsqueeze(1),
                            s.one_hot().unsqueeze(2), t.one_hot().unsqueeze(1))
        # Flat (B, n·m): an entry is then one select. The sequences are held so that their ids
        # stay theirs while the call runs.
        kept = tables[(id(s), id(t))] = (s, t, versions, table.reshape(table.shape[0], -1))
    return kept[3].select(1, i * t.probs.shape[1] + j)
