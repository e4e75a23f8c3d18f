"""How far the merged relaxation is from the true expectation: bubble sort, n = 3 … 6.

For each n and β, on the same 16 random instances: the mean absolute gap between relaxed mode and
exact mode (the expectation over every combination of decisions) for the sorted values and for the
expected number of swaps, and the gap between exact and hard mode. Where exact mode would need more
than --max-paths paths the cell says so.

    python benchmarks/relaxation_gap.py [--max-paths 20000]
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from bubble_sort import relaxed_bubble_sort  # noqa: E402
from relaxc_runtime.enumeration import TooManyPathsError  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-paths", type=int, default=20_000)
    parser.add_argument("--betas", type=float, nargs="+", default=[1.0, 0.5, 0.25, 0.1, 0.05])
    args = parser.parse_args()
    print("| n | β | relaxed − exact (values) | relaxed − exact (swaps) | exact − hard (values) |")
    print("|---|---|---|---|---|")
    for n in (3, 4, 5, 6):
        xs = torch.randn(16, n, dtype=torch.float64, generator=torch.Generator().manual_seed(n))
        hard_values = relaxed_bubble_sort.options(mode="hard")(xs)[0]
        for beta in args.betas:
            relaxed = relaxed_bubble_sort.options(beta=beta)
            values, swaps, _ = relaxed(xs)
            try:
                exact_values, exact_swaps, _ = relaxed.options(
                    mode="exact", max_paths=args.max_paths)(xs)
            except TooManyPathsError:
                print(f"| {n} | {beta} | more than {args.max_paths} paths | | |")
                continue
            print(f"| {n} | {beta} | {(values - exact_values).abs().mean():.2e} "
                  f"| {(swaps - exact_swaps).abs().mean():.2e} "
                  f"| {(exact_values - hard_values).abs().mean():.2e} |")


if __name__ == "__main__":
    main()
