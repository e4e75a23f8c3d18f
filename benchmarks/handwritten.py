"""Hand-written PyTorch implementations of exactly the relaxations relaxc derives, for the benchmark.

Each computes what the compiled plain-Python function computes, written the way a PyTorch user
would write it by hand for speed: the sequence kept as a list of ``(B,)`` columns, one small op per
step of the formula, no generic machinery. The benchmark checks that the outputs and gradients
agree with relaxc's before it times either.
"""

import torch
import torch.nn.functional as F


def bubble_sort(x, beta, eps=1e-5, early_exit=True):
    """The paper's relaxed bubble sort (``while swapped`` with an inner ``for``) on ``x (B, n)``.

    Returns ``(values (B, n), expected swaps (B,))``. Each comparison swaps with probability
    ``p = σ((x_j − x_{j+1}) / β)``; the ``while`` is the series of eq. 7: the state after ``i``
    passes weighted by the probability that the pass-``i`` flag is the first one false. As in
    relaxc, an instance whose probability of another pass falls below ``eps`` is frozen (its later
    states get no gradient) and the loop ends when every instance is frozen or a pass is empty.
    ``early_exit=False``: always n − 1 passes, with no host read (relaxc's ``fixed_iterations``,
    what ``torch.compile`` captures whole).
    """
    batch, n = x.shape
    columns = list(x.unbind(1))
    swaps = x.new_zeros(batch)
    records = []          # (values, swaps, probability of stopping after this pass)
    running = None        # probability of still running
    for last in range(n - 1, 0, -1):   # pass k compares positions 0 … last
        swapped = None
        for j in range(last):
            a, b = columns[j], columns[j + 1]
            p = torch.sigmoid((a - b) / beta)
            low = torch.lerp(a, b, p)
            columns[j], columns[j + 1] = low, a + b - low
            swapped = p if swapped is None else p + (1 - p) * swapped
            swaps = swaps + p
        running = swapped if running is None else running * swapped
        frozen = running < eps
        stop = torch.where(frozen, torch.ones_like(swapped), 1 - swapped)
        records.append((torch.stack(columns, 1), swaps, stop))
        if early_exit and bool(frozen.all()):
            break
        columns = [torch.where(frozen, c.detach(), c) for c in columns]
        swaps = torch.where(frozen, swaps.detach(), swaps)
    values = torch.stack(columns, 1)
    for recorded_values, recorded_swaps, stop in reversed(records):
        values = torch.lerp(values, recorded_values, stop.unsqueeze(1))
        swaps = torch.lerp(swaps, recorded_swaps, stop)
    return values, swaps


def levenshtein(a, b, beta):
    """Relaxed edit distance between soft categorical sequences ``a (B, n, k)``, ``b (B, m, k)``.

    Symbols match with their cosine similarity (relaxc's ``==`` on two non-one-hot categoricals),
    a substitution costs ``1 − match``, and ``min`` is the softmin with temperature ``beta``.
    Returns the distance ``d[n][m] (B,)``.
    """
    batch, n, m = a.shape[0], a.shape[1], b.shape[1]
    match = F.cosine_similarity(a.unsqueeze(2), b.unsqueeze(1), dim=-1)   # (B, n, m), at once
    cost = 1 - match
    previous = [a.new_full((batch,), float(j)) for j in range(m + 1)]
    for i in range(1, n + 1):
        row = [a.new_full((batch,), float(i))]
        for j in range(1, m + 1):
            candidates = torch.stack(
                [previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost[:, i - 1, j - 1]], -1)
            row.append((torch.softmax(-candidates / beta, -1) * candidates).sum(-1))
        previous = row
    return previous[m]
