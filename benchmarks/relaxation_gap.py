"""How far the merged relaxation is from the true expectation: bubble sort, n = 3 … 6, and gnome
sort, n = 2 … 5.

Bubble sort: for each n and β, on the same 16 random instances, the mean absolute gap between
relaxed mode and exact mode (the expectation over every combination of decisions) for the sorted
values and for the expected number of swaps, and the gap between exact and hard mode. Where exact
mode would need more than --max-paths paths the cell says so.

Gnome sort (a relaxed `while` whose index moves both ways, so path merging makes the index itself
fractional): relaxed against sample mode (exact mode needs too many paths), with the sample mean's
standard error, the number of relaxed iterations the loop ran, and whether it finished within
max_iter.

Families (``relax(f, relaxation=...)``): the first table again for each perturbation family, with
the share of the relaxed comparisons that are certain (probability exactly 0 or 1).

    python benchmarks/relaxation_gap.py [--max-paths 20000]
"""

import argparse
import contextlib
import sys
import time
import warnings
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
    return args


def gnome_sort(xs):
    i = 0
    while i < len(xs):
        if i == 0 or xs[i - 1] <= xs[i]:
            i += 1
        else:
            xs[i], xs[i - 1] = xs[i - 1], xs[i]
            i -= 1
    return xs


def gnome_table(betas, samples=2000):
    """Relaxed against sample mode on gnome sort (8 random instances per n)."""
    import relaxc
    from relaxc_runtime import loops

    print("\n| n | β | relaxed − sample (values) | sample standard error | relaxed − hard "
          "| relaxed iterations | within max_iter | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    counted = loops.while_loop
    for n in (2, 3, 4, 5):
        xs = torch.randn(8, n, dtype=torch.float64, generator=torch.Generator().manual_seed(n))
        hard = relaxc.relax(gnome_sort, mode="hard")(xs)
        for beta in betas:
            iterations = []

            def counting(condition, body, state, ctx, where="", exits=()):
                def counted_condition(*values):
                    iterations[-1] += 1
                    return condition(*values)
                iterations.append(0)
                return counted(counted_condition, body, state, ctx, where, exits)

            loops.while_loop = counting
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                relaxed = relaxc.relax(gnome_sort, beta=beta)(xs)
            seconds = time.perf_counter() - start
            loops.while_loop = counted
            finished = not any("max_iter" in str(w.message) for w in caught)
            mean, error = relaxc.relax(gnome_sort, beta=beta, mode="sample", samples=samples,
                                       seed=0).with_standard_error(xs)
            print(f"| {n} | {beta} | {(relaxed - mean).abs().mean():.2e} "
                  f"| {error.mean():.2e} | {(relaxed - hard).abs().mean():.2e} "
                  f"| {max(iterations)} | {'yes' if finished else 'no'} | {seconds:.2f} |")


@contextlib.contextmanager
def counting_calls(cls, method, record):
    """Calls of ``cls.method`` append ``record(*arguments)`` to the list this yields."""
    original, calls = getattr(cls, method), []

    def counted(*arguments):
        calls.append(record(*arguments))
        return original(*arguments)

    setattr(cls, method, counted)
    try:
        yield calls
    finally:
        setattr(cls, method, original)


def family_table(betas, max_paths):
    """Bubble sort, relaxed against exact mode, in every relaxation family (16 instances per n),
    and the share of the relaxed decisions (per instance) that are certain."""
    from relaxc_runtime import Context
    from relaxc_runtime.relaxations import FAMILIES

    print("\n| family | n | β | relaxed − exact (values) | relaxed − exact (swaps) "
          "| exact − hard (values) | certain decisions |")
    print("|---|---|---|---|---|---|---|")
    for family in FAMILIES:
        for n in (3, 4, 5):
            xs = torch.randn(16, n, dtype=torch.float64,
                             generator=torch.Generator().manual_seed(n))
            hard_values = relaxed_bubble_sort.options(mode="hard")(xs)[0]
            for beta in betas:
                relaxed = relaxed_bubble_sort.options(beta=beta, relaxation=family)
                with counting_calls(Context, "outcome", lambda ctx, p: (
                        ((p == 0) | (p == 1)).sum().item(), p.numel())) as decisions:
                    values, swaps, _ = relaxed(xs)
                try:
                    exact_values, exact_swaps, _ = relaxed.options(
                        mode="exact", max_paths=max_paths)(xs)
                except TooManyPathsError:
                    print(f"| {family} | {n} | {beta} | more than {max_paths} paths | | | |")
                    continue
                certain = sum(c for c, _ in decisions) / sum(t for _, t in decisions)
                print(f"| {family} | {n} | {beta} | {(values - exact_values).abs().mean():.2e} "
                      f"| {(swaps - exact_swaps).abs().mean():.2e} "
                      f"| {(exact_values - hard_values).abs().mean():.2e} | {certain:.0%} |")


if __name__ == "__main__":
    args = main()
    gnome_table([0.5, 0.25, 0.125, 0.05])
    family_table([0.5, 0.25, 0.1], args.max_paths)
