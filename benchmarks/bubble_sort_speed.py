"""Benchmark: the paper's relaxed bubble sort, forward + backward, relaxc against AlgoVision.

For each n the outputs of both are checked to agree before any timing counts; then each is timed
(median of repeats after warm-up) on the same inputs in one process. Prints a table and, with
``--json PATH``, writes the numbers.

    python benchmarks/bubble_sort_speed.py [--device cuda] [--json results.json]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from algovision_reference import algovision_bubble_sort  # noqa: E402
from bubble_sort import relaxed_bubble_sort  # noqa: E402

BETA = 0.125


def forward_backward(function, xs):
    xs = xs.detach().requires_grad_(True)
    values, swaps = function(xs)[:2]
    (values.sum() + swaps.sum()).backward()
    return values.detach(), swaps.detach(), xs.grad


def median_seconds(function, xs, device, repeats):
    for _ in range(2):
        forward_backward(function, xs)
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        forward_backward(function, xs)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 16, 32])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    device = torch.device(args.device)
    try:
        reference = algovision_bubble_sort(1 / BETA, device)
    except ImportError:
        reference = None
    relaxed = relaxed_bubble_sort.options(beta=BETA)
    rows = []
    print(f"relaxed bubble sort, forward+backward, B={args.batch}, beta={BETA}, "
          f"device={torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}")
    print(f"{'n':>4} {'relaxc ms':>10} {'AlgoVision ms':>14} {'ratio':>7}")
    for n in args.sizes:
        xs = torch.randn(args.batch, n, generator=torch.Generator().manual_seed(n)).to(device)
        ours = forward_backward(relaxed, xs)
        row = {"n": n, "batch": args.batch, "device": str(device),
               "relaxc_s": median_seconds(relaxed, xs, device, args.repeats)}
        if reference is not None:
            theirs = forward_backward(reference, xs)
            for a, b in zip(ours, theirs):   # a timing counts only if the outputs agree
                torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-3)
            row["algovision_s"] = median_seconds(reference, xs, device, args.repeats)
        rows.append(row)
        theirs_ms = f"{1e3 * row['algovision_s']:14.1f}" if "algovision_s" in row else f"{'-':>14}"
        ratio = (f"{row['relaxc_s'] / row['algovision_s']:7.2f}" if "algovision_s" in row
                 else f"{'-':>7}")
        print(f"{n:>4} {1e3 * row['relaxc_s']:10.1f} {theirs_ms} {ratio}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
