"""Levenshtein (edit) distance, written as plain Python and relaxed by relaxc (paper §5.4).

``levenshtein(a, b)`` returns the whole table: ``d[i][j]`` is the edit distance between ``a[:i]``
and ``b[:j]``, so ``d[-1][-1]`` is the distance. On strings it is ordinary Python. Relaxed, on
categorical sequences (``relaxc.Categorical`` of shape ``(B, n, k)``), ``a[i - 1] == b[j - 1]`` is
the inner product (one-hot inputs) or cosine similarity (soft inputs) and ``min`` is the softmin;
in hard mode on one-hot inputs it is the true edit distance.

``python examples/levenshtein.py`` prints the relaxed table for "ACGT" vs "CGTC" at β = 1.5, as in
the paper's Figure 5; ``--plot PATH`` also draws it.
"""

import argparse

import torch
import torch.nn.functional as F

import relaxc


def levenshtein(a, b):
    n, m = len(a), len(b)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
    return d


relaxed_levenshtein = relaxc.relax(levenshtein, beta=1.5)


def one_hot(word: str, alphabet: str = "ACGT") -> relaxc.Categorical:
    """A word as a batch of one one-hot categorical sequence ``(1, len(word), len(alphabet))``."""
    codes = torch.tensor([[alphabet.index(c) for c in word]])
    return relaxc.Categorical(F.one_hot(codes, len(alphabet)).double())


def table_values(table):
    """The table of one instance as floats (static entries are Python numbers)."""
    return [[float(v[0]) if isinstance(v, torch.Tensor) else float(v) for v in row]
            for row in table]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", nargs="?", default="ACGT")
    parser.add_argument("b", nargs="?", default="CGTC")
    parser.add_argument("--beta", type=float, default=1.5)
    parser.add_argument("--plot", help="write the relaxed table as a PNG here")
    args = parser.parse_args()

    print(f"plain Python: levenshtein({args.a!r}, {args.b!r})[-1][-1] =",
          levenshtein(args.a, args.b)[-1][-1])
    relaxed = relaxed_levenshtein.options(beta=args.beta)
    table = table_values(relaxed(one_hot(args.a), one_hot(args.b)))
    hard = table_values(relaxed.options(mode="hard")(one_hot(args.a), one_hot(args.b)))
    print(f"relaxed table at beta={args.beta} (rows: '' + {args.a!r}, columns: '' + {args.b!r}):")
    for row in table:
        print("  " + " ".join(f"{v:6.2f}" for v in row))
    print("hard distance:", hard[-1][-1], " relaxed distance:", round(table[-1][-1], 4))
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        figure, axes = plt.subplots(figsize=(4, 4))
        axes.imshow(table, cmap="viridis")
        for i, row in enumerate(table):
            for j, v in enumerate(row):
                axes.text(j, i, f"{v:.2f}", ha="center", va="center", color="white", fontsize=8)
        axes.set_xticks(range(len(args.b) + 1), ["ε", *args.b])
        axes.set_yticks(range(len(args.a) + 1), ["ε", *args.a])
        axes.set_title(f"relaxed Levenshtein, β = {args.beta}")
        figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        print("wrote", args.plot)


if __name__ == "__main__":
    main()
