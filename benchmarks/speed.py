"""Benchmark: relaxc against hand-written relaxations and AlgoVision, side by side (issue 7).

Every row is forward + backward on the same inputs in one process: the median of ``--repeats``
runs after two warm-up runs, the implementations of a case taking turns (so that the machine's
drift reaches them alike; each runs once untimed before its timed run), and the memory of one
run (on CUDA the peak allocated; on the CPU the tensors autograd keeps for the backward pass,
which torch cannot report as a peak there). Before a row's time counts, its outputs and input
gradients are checked against relaxc's.

1. the paper's relaxed bubble sort, ``(B, n)`` tensor input: relaxc, relaxc with
   ``replay=True``, hand-written (``handwritten.bubble_sort``), AlgoVision (if installed), and
   relaxc under ``torch.compile`` and under ``relaxc.compile``;
2. relaxed Levenshtein on soft categorical sequences: relaxc, relaxc with ``replay=True``,
   hand-written, ``torch.compile``, ``relaxc.compile``;
3. the compile latency of ``@relax`` (``compile_latency.py``).

Replay rows give the time of the first call, which records, beside the time per call (replayed).
``torch.compile`` and ``relaxc.compile`` rows, and the hand-written code under ``torch.compile``
(a fixed number of passes, as relaxc's compiled rows), give the compile time (the first call)
beside the time per call; they run for the sizes in ``--torch-compile-sizes`` only, since
compiling an unrolled n = 32 sort takes many minutes on a small machine.

    python benchmarks/speed.py [--device cuda] [--json results.json] [--quick]
"""

import argparse
import atexit
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# A compile time is only a compile time with a cold cache: Inductor would otherwise reuse what an
# earlier run of this script compiled (set before torch is imported).
if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="relaxc-inductor-")
    atexit.register(shutil.rmtree, os.environ["TORCHINDUCTOR_CACHE_DIR"], ignore_errors=True)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))
import compile_latency  # noqa: E402
import handwritten  # noqa: E402
from algovision_reference import algovision_bubble_sort  # noqa: E402
from levenshtein import levenshtein as plain_levenshtein  # noqa: E402

import relaxc  # noqa: E402

SORT_BETA = 0.125          # the paper's β for sorting supervision
EDIT_BETA = 1.5            # the paper's Figure 5
ALGOVISION_TARGET_SIZE = 32   # the target against AlgoVision holds at this n


def bubble_sort(xs):
    """The paper's bubble sort, as plain Python (AlgoVision's README computes the same two
    outputs: the sorted values and the number of swaps)."""
    n = len(xs) - 1
    swapped = True
    swaps = 0
    while swapped:
        swapped = False
        for j in range(n):
            if xs[j] > xs[j + 1]:
                xs[j], xs[j + 1] = xs[j + 1], xs[j]
                swapped = True
                swaps += 1
        n -= 1
    return xs, swaps


relaxed_bubble_sort = relaxc.relax(bubble_sort, beta=SORT_BETA)
relaxed_levenshtein = relaxc.relax(plain_levenshtein, beta=EDIT_BETA)


def relaxc_distance(function):
    """relaxc's Levenshtein on probability tensors, returning the distance ``d[n][m]``."""
    def distance(a, b):
        return function(relaxc.Categorical(a), relaxc.Categorical(b))[-1][-1]
    return distance


def forward_backward(function, inputs):
    """Outputs and input gradients of ``sum of every output`` (the loss every row shares)."""
    inputs = [x.detach().requires_grad_(True) for x in inputs]
    outputs = function(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    sum(o.sum() for o in outputs).backward()
    return [o.detach() for o in outputs] + [x.grad for x in inputs]


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def one_run_seconds(function, inputs, device):
    synchronize(device)
    start = time.perf_counter()
    forward_backward(function, inputs)
    synchronize(device)
    return time.perf_counter() - start


def memory_bytes(function, inputs, device):
    """Peak allocated bytes of one run on CUDA; elsewhere the bytes saved for the backward pass
    (distinct storages)."""
    if device.type == "cuda":
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        forward_backward(function, inputs)
        synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before
    storages = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        forward_backward(function, inputs)
    return sum(storages.values())


def measure(case, n, implementations, inputs, device, repeats, tolerance=1e-3):
    """The rows of one case and size. Each implementation's first call is checked against the
    first implementation's outputs and gradients (relaxc's); then two warm-up rounds and
    ``repeats`` timed rounds run every implementation once each, in turn, so that the machine's
    drift reaches all of them alike, and each row gets the median of its times. In a round
    each implementation runs twice and the second run is timed: a run right after another
    implementation's finds the caches full of that one's data and code (a compiled sort at
    n = 5 took 0.72 ms so, 0.42 ms warm)."""
    rows, reference = [], None
    for name, function in implementations:
        start = time.perf_counter()
        results = forward_backward(function, inputs)
        first_call_s = time.perf_counter() - start
        if reference is None:
            reference = results
        for ours, theirs in zip(reference, results):
            torch.testing.assert_close(theirs, ours, atol=tolerance, rtol=tolerance)
        row = {"case": case, "n": n, "implementation": name,
               "memory_bytes": memory_bytes(function, inputs, device)}
        if name.endswith("compile"):
            row["compile_seconds"] = first_call_s   # the first call compiles forward and backward
        if name.endswith("replay"):
            row["record_seconds"] = first_call_s    # the first call runs as usual and records
        rows.append(row)
    times = [[] for _ in implementations]
    for run in range(2 + repeats):
        for (_, function), measured in zip(implementations, times):
            forward_backward(function, inputs)
            elapsed = one_run_seconds(function, inputs, device)
            if run >= 2:
                measured.append(elapsed)
    for row, measured in zip(rows, times):
        row["seconds"] = statistics.median(measured)
    return rows


def warm_up_compiler(device):
    """Compile something small first: the first compile in a process also pays for Inductor's
    own start (its imports, the C++ compiler's first run), about ten seconds here, which would
    otherwise count against whichever compiled row comes first."""
    x = torch.randn(4, device=device, requires_grad=True)
    torch.compile(lambda x: (x.sin() * 2).sum())(x).backward()


def compiled(function):
    torch._dynamo.reset()
    return torch.compile(function, fullgraph=True)


def compiled_by_relaxc(function):
    torch._dynamo.reset()
    return relaxc.compile(function, fullgraph=True)


def bubble_sort_rows(args, device):
    try:
        algovision = algovision_bubble_sort(1 / SORT_BETA, device)
    except ImportError:   # the optional dependency: its rows are left out
        algovision = None
    rows = []
    for n in args.sort_sizes:
        generator = torch.Generator().manual_seed(n)
        inputs = [torch.randn(args.sort_batch, n, generator=generator).to(device)]
        implementations = [("relaxc", relaxed_bubble_sort),
                           ("relaxc + replay", relaxed_bubble_sort.options(replay=True)),
                           ("hand-written", lambda x: handwritten.bubble_sort(x, SORT_BETA))]
        if algovision is not None:
            implementations.append(("AlgoVision", algovision))
        if n in args.torch_compile_sizes:
            # A fixed number of passes: the loop has no data-dependent exit, so dynamo captures it.
            fixed = relaxed_bubble_sort.options(fixed_iterations=True, max_iter=n)
            if not args.skip_plain_compile:
                implementations.append(("relaxc + torch.compile", compiled(fixed)))
            implementations.append(("relaxc.compile", compiled_by_relaxc(fixed)))
            implementations.append(("hand-written + torch.compile", compiled(
                lambda x: handwritten.bubble_sort(x, SORT_BETA, early_exit=False))))
        size = measure("bubble sort", n, implementations, inputs, device, args.repeats)
        print_rows(size)
        rows += size
    return rows


def levenshtein_rows(args, device):
    rows = []
    for n in args.edit_sizes:
        generator = torch.Generator().manual_seed(n)
        inputs = [F.softmax(torch.randn(args.edit_batch, n, 4, generator=generator), -1).to(device)
                  for _ in range(2)]
        implementations = [
            ("relaxc", relaxc_distance(relaxed_levenshtein)),
            ("relaxc + replay", relaxc_distance(relaxed_levenshtein.options(replay=True))),
            ("hand-written", lambda a, b: handwritten.levenshtein(a, b, EDIT_BETA))]
        if n in args.torch_compile_sizes:
            if not args.skip_plain_compile:
                implementations.append(("relaxc + torch.compile",
                                        compiled(relaxc_distance(relaxed_levenshtein))))
            implementations.append(("relaxc.compile",
                                    relaxc_distance(compiled_by_relaxc(relaxed_levenshtein))))
            implementations.append(("hand-written + torch.compile", compiled(
                lambda a, b: handwritten.levenshtein(a, b, EDIT_BETA))))
        size = measure("Levenshtein", n, implementations, inputs, device, args.repeats)
        print_rows(size)
        rows += size
    return rows


def print_rows(rows):
    hand = next(r["seconds"] for r in rows if r["implementation"] == "hand-written")
    for row in rows:
        compile_note = (f"  (compile {row['compile_seconds']:.0f} s)" if "compile_seconds" in row
                        else f"  (record {1e3 * row['record_seconds']:.0f} ms)"
                        if "record_seconds" in row else "")
        print(f"{row['case']:<12} {row['n']:>3}  {row['implementation']:<24} "
              f"{1e3 * row['seconds']:9.2f} ms {row['memory_bytes'] / 2**20:9.2f} MB "
              f"{row['seconds'] / hand:8.2f}x{compile_note}")


def targets(rows, latency_ms):
    """The issue's targets, each as (what, measured ratio or value, bound)."""
    def row_of(case, n, name):
        return next((r for r in rows
                     if (r["case"], r["n"], r["implementation"]) == (case, n, name)), None)

    def seconds(case, n, name):
        row = row_of(case, n, name)
        return None if row is None else row["seconds"]

    checks = []
    for case, n in sorted({(r["case"], r["n"]) for r in rows}):
        hand = seconds(case, n, "hand-written")
        for eager in ("relaxc", "relaxc + replay"):
            checks.append((f"{case} n={n}: {eager} / hand-written", seconds(case, n, eager) / hand,
                           1.10))
            if n == ALGOVISION_TARGET_SIZE and seconds(case, n, "AlgoVision") is not None:
                checks.append((f"{case} n={n}: {eager} / AlgoVision",
                               seconds(case, n, eager) / seconds(case, n, "AlgoVision"), 0.25))
        checks.append((f"{case} n={n}: relaxc / hand-written (issue 21)",
                       seconds(case, n, "relaxc") / hand, 1.25))
        if seconds(case, n, "relaxc + torch.compile") is not None:
            checks.append((f"{case} n={n}: relaxc + torch.compile / hand-written",
                           seconds(case, n, "relaxc + torch.compile") / hand, 0.5))
        hand_compiled = row_of(case, n, "hand-written + torch.compile")
        ours = row_of(case, n, "relaxc.compile")
        if hand_compiled is not None and ours is not None:
            checks.append((f"{case} n={n}: relaxc.compile / hand-written + torch.compile",
                           ours["seconds"] / hand_compiled["seconds"], 1.1))
            checks.append((f"{case} n={n}: compile time, relaxc.compile / hand-written",
                           ours["compile_seconds"] / hand_compiled["compile_seconds"], 1.0))
    checks.append(("first compile of a 30-line function (ms)", latency_ms, 50))
    return checks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sort-sizes", type=int, nargs="+", default=[5, 16, 32])
    parser.add_argument("--sort-batch", type=int, default=128)
    parser.add_argument("--edit-sizes", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--edit-batch", type=int, default=64)
    parser.add_argument("--torch-compile-sizes", type=int, nargs="*", default=[5, 8],
                        help="sizes of either case that also get a torch.compile row")
    parser.add_argument("--skip-plain-compile", action="store_true",
                        help="leave out the relaxc + torch.compile rows (minutes per size)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true",
                        help="the smallest size of each case, no torch.compile (a smoke run)")
    parser.add_argument("--json", help="write the rows, the targets and the machine here")
    args = parser.parse_args()
    if args.quick:
        args.sort_sizes, args.edit_sizes, args.torch_compile_sizes = [5], [8], []
    device = torch.device(args.device)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"forward + backward, medians of {args.repeats}; device {device_name}, "
          f"{os.cpu_count()} CPU cores, torch {torch.__version__}")
    print(f"{'case':<12} {'n':>3}  {'implementation':<24} {'time':>12} {'memory':>12} "
          f"{'/ hand':>9}")
    if args.torch_compile_sizes:
        warm_up_compiler(device)
    rows = bubble_sort_rows(args, device) + levenshtein_rows(args, device)
    compile_latency.first_compile()   # imports warm
    latency_ms = compile_latency.median_ms(compile_latency.first_compile, 15)
    cached_ms = compile_latency.median_ms(
        lambda: relaxc.relax(compile_latency.thirty_lines), 15)
    print(f"@relax on a 30-line function: first compile {latency_ms:.1f} ms, "
          f"cached {cached_ms:.2f} ms")
    checks = targets(rows, latency_ms)
    print("targets:")
    for what, value, bound in checks:
        print(f"  {what:<60} {value:8.2f}  (<= {bound}: {'met' if value <= bound else 'MISSED'})")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": {"device": device_name, "cpu_cores": os.cpu_count(),
                        "platform": platform.platform(), "torch": torch.__version__},
            "memory": "peak allocated" if device.type == "cuda" else "saved for backward",
            "rows": rows,
            "compile_latency_ms": {"first": latency_ms, "cached": cached_ms},
            "targets": [{"what": w, "value": v, "bound": b, "met": v <= b} for w, v, b in checks],
        }, indent=2))


if __name__ == "__main__":
    main()
