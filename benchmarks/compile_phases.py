"""Where ``torch.compile``'s time goes on relaxed code (issue 21, item 1).

For each implementation and size, a fresh process with a cold Inductor cache (its own
``TORCHINDUCTOR_CACHE_DIR``) compiles ``fullgraph=True`` and runs one forward + backward, and
reports the phases of that first call and the sizes of the graphs:

- ``warm-up``: compiling a three-op function first, in the same process, which pays the costs any
  first compile pays (imports, the C++ toolchain, headers); the rows below are what the function
  itself adds;
- ``dynamo``: Dynamo's frame compile less the backend (tracing the Python, guards, bytecode);
- ``aot``: the backend less Inductor's forward compile (AOTAutograd: the joint graph,
  decompositions, partitioning);
- ``ind fw`` / ``ind bw``: Inductor's compile of the forward / backward graph (lowering,
  scheduling, code generation, the C++ compile); the backward is compiled at the first backward;
- ``fw nodes`` / ``bw nodes``: the aten graphs Inductor gets; ``fx nodes``: Dynamo's graph
  (torch calls captured); ``guards``, ``graphs``, ``breaks``, ``recompiles``.

Implementations: ``relaxc`` (the bubble sort of ``benchmarks/speed.py`` as
``options(fixed_iterations=True, max_iter=n)``, as speed.py compiles it), ``hand`` (the
hand-written sort of ``handwritten.py`` with its data-dependent ``break`` left out, so a fixed
``n − 1`` passes), and for Levenshtein ``relaxc-lev`` / ``hand-lev``; ``relaxc.compile`` (the
sort under ``relaxc.compile``: its first call records eagerly, then ``torch.compile`` compiles the
record's straight-line code, with the finiteness tests of the merges deferred to one read after
the call). Prototype (see docs/compile_study.md): ``hand-scan`` (each pass a
``torch._higher_order_ops.scan``).

    python benchmarks/compile_phases.py --sizes 5 8 [--impls relaxc hand] [--profile] [--json F]
    python benchmarks/compile_phases.py --ops --sizes 5     # the graphs' ops by name, no Inductor

``--profile`` also prints, per run, the runtime functions Dynamo spent the most time tracing
(Dynamo's own profiler, ``torch._dynamo.config.dynamo_profiler``), which slows tracing a little.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
IMPLS = ("relaxc", "hand", "relaxc-lev", "hand-lev", "relaxc.compile", "hand-scan")


def comparisons(impl, n):
    """The relaxed decisions of one call: n(n−1)/2 comparisons (sort), n² cells (Levenshtein)."""
    return n * n if impl.endswith("lev") else n * (n - 1) // 2


# ---------------------------------------------------------------- the implementations (child)

def hand_scan_sort(x, beta=0.125, eps=1e-5):
    """Prototype: ``handwritten.bubble_sort(..., early_exit=False)`` with each pass one ``torch._higher_order_ops.scan`` over
    the positions (the element bubbling up is the carry), every pass over all n − 1 positions
    with p = 0 past its end, so that torch.compile traces and compiles one loop body."""
    import torch
    from torch._higher_order_ops.scan import scan
    batch, n = x.shape
    columns = x.t().contiguous()         # (n, B): scan runs over dim 0
    swaps = x.new_zeros(batch)
    records = []
    running = None

    def body(carry, step):
        a, swapped, total = carry
        b, active = step
        p = torch.sigmoid((a - b) / beta) * active
        low = torch.lerp(a, b, p)
        return (a + b - low, p + (1 - p) * swapped, total + p), low

    for last in range(n - 1, 0, -1):
        active = (torch.arange(n - 1, device=x.device) < last).to(x.dtype)
        (top, swapped, swaps), lows = scan(body, (columns[0].clone(), x.new_zeros(batch), swaps),
                                           (columns[1:], active))
        columns = torch.cat([lows, top.unsqueeze(0)], 0)
        running = swapped if running is None else running * swapped
        frozen = running < eps
        stop = torch.where(frozen, torch.ones_like(swapped), 1 - swapped)
        records.append((columns.t(), swaps, stop))
        columns = torch.where(frozen, columns.detach(), columns)
        swaps = torch.where(frozen, swaps.detach(), swaps)
    values = columns.t()
    for recorded_values, recorded_swaps, stop in reversed(records):
        values = torch.lerp(values, recorded_values, stop.unsqueeze(1))
        swaps = torch.lerp(swaps, recorded_swaps, stop)
    return values, swaps


def build(impl, n, batch):
    """(function, inputs) of one implementation at size n."""
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent / "examples"))
    import relaxc
    generator = torch.Generator().manual_seed(n)
    if not impl.endswith("lev"):
        inputs = [torch.randn(batch, n, generator=generator)]
        if impl == "hand":
            import handwritten   # n − 1 passes: without its `if bool(frozen.all()): break`
            return (lambda x: handwritten.bubble_sort(x, 0.125, early_exit=False)), inputs
        if impl == "hand-scan":
            return hand_scan_sort, inputs
        from speed import bubble_sort   # the plain Python sort speed.py compiles
        relaxed = relaxc.relax(bubble_sort, beta=0.125).options(fixed_iterations=True, max_iter=n)
        return relaxed, inputs
    inputs = [F.softmax(torch.randn(batch // 2, n, 4, generator=generator), -1) for _ in range(2)]
    if impl == "hand-lev":
        import handwritten
        return (lambda a, b: handwritten.levenshtein(a, b, 1.5)), inputs
    from levenshtein import levenshtein as plain
    relaxed = relaxc.relax(plain, beta=1.5)

    def distance(a, b):
        return relaxed(relaxc.Categorical(a), relaxc.Categorical(b))[-1][-1]
    return distance, inputs


def compile_with(impl, function, backend):
    """``function`` compiled as the implementation is: ``relaxc.compile`` (its first call
    records eagerly, then compiles the record) or ``torch.compile``, both with ``backend``."""
    import torch
    if impl == "relaxc.compile":
        import relaxc
        return relaxc.compile(function, backend=backend, fullgraph=True)
    return torch.compile(function, backend=backend, fullgraph=True)


def forward_backward(function, inputs):
    inputs = [x.detach().requires_grad_(True) for x in inputs]
    start = time.perf_counter()
    outputs = function(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    middle = time.perf_counter()
    sum(o.sum() for o in outputs).backward()
    return middle - start, time.perf_counter() - middle


def child(impl, n, batch, profile, out):
    import torch
    from torch._dynamo.utils import counters, get_compilation_metrics
    from torch._inductor.compile_fx import compile_fx, compile_fx_inner

    def tiny(x):
        return torch.sigmoid(x) * x + 1

    start = time.perf_counter()
    forward_backward(torch.compile(tiny, fullgraph=True), [torch.randn(4)])
    warm_up = time.perf_counter() - start
    # Dynamo logs the guards it builds and how long one evaluation of them took ("Guard eval
    # latency"); the parent reads that line from this process's stderr.
    torch._logging.set_logs(guards=True)

    torch._dynamo.reset()
    counters.clear()
    torch._dynamo.utils.compilation_time_metrics.clear()
    first_metric = len(get_compilation_metrics())
    graphs = {"dynamo": [], "fw": [], "bw": []}
    inner_s = {"fw": 0.0, "bw": 0.0, "in backend": 0.0}
    in_backend = [False]

    def inner(gm, example_inputs, **kwargs):
        kind = "bw" if kwargs.get("is_backward") else "fw"
        graphs[kind].append(sum(1 for node in gm.graph.nodes
                                if node.op not in ("placeholder", "output")))
        begin = time.perf_counter()
        result = compile_fx_inner(gm, example_inputs, **kwargs)
        inner_s[kind] += time.perf_counter() - begin
        if in_backend[0]:
            inner_s["in backend"] += time.perf_counter() - begin
        return result

    backend_s = [0.0]

    def backend(gm, example_inputs):
        graphs["dynamo"].append(sum(1 for node in gm.graph.nodes
                                    if node.op not in ("placeholder", "output")))
        begin = time.perf_counter()
        in_backend[0] = True
        try:
            result = compile_fx(gm, example_inputs, inner_compile=inner)
        finally:
            in_backend[0] = False
        backend_s[0] += time.perf_counter() - begin
        return result

    if profile:
        torch._dynamo.config.dynamo_profiler = os.path.join(os.environ["TORCHINDUCTOR_CACHE_DIR"],
                                                            "dynamo.prof")
    function, inputs = build(impl, n, batch)
    compiled = compile_with(impl, function, backend)
    first_fw, first_bw = forward_backward(compiled, inputs)
    steady = [forward_backward(compiled, inputs) for _ in range(5)]
    steady_fw = sorted(s[0] for s in steady)[2]
    steady_bw = sorted(s[1] for s in steady)[2]
    # What evaluating the guards costs a call: forward calls timed as usual and with guard
    # evaluation skipped (the frame has one compiled entry, so skipping is safe here).
    def forward_us(calls=41):
        grads = [x.detach().requires_grad_(True) for x in inputs]
        times = []
        for _ in range(calls):
            begin = time.perf_counter()
            compiled(*grads)
            times.append(time.perf_counter() - begin)
        return sorted(times)[calls // 2] * 1e6
    usual_us = forward_us()
    with torch.compiler.set_stance(skip_guard_eval_unsafe=True):
        unguarded_us = forward_us()
    usual_us = min(usual_us, forward_us())   # (alternating, against drift)
    # The compiled outputs against the same function run eagerly (an agreement check; with
    # the inputs requiring grad as above, so that it compiles nothing again).
    ours = compiled(*[x.detach().requires_grad_(True) for x in inputs])
    theirs = function(*[x.detach().requires_grad_(True) for x in inputs])
    ours, theirs = (v if isinstance(v, tuple) else (v,) for v in (ours, theirs))
    difference = max(float((a.detach().double() - b.detach().double()).abs().max())
                     for a, b in zip(ours, theirs))
    metrics = [m for m in get_compilation_metrics()[first_metric:] if m.guard_count is not None
               or m.entire_frame_compile_time_s is not None]
    frame_s = sum(m.entire_frame_compile_time_s or 0 for m in metrics)
    row = {
        "impl": impl, "n": n, "comparisons": comparisons(impl, n), "batch": batch,
        "warm_up_s": warm_up,
        "first_forward_s": first_fw, "first_backward_s": first_bw,
        "steady_forward_s": steady_fw, "steady_backward_s": steady_bw,
        "dynamo_s": frame_s - backend_s[0],
        "aot_s": backend_s[0] - inner_s["in backend"],
        "inductor_fw_s": inner_s["fw"], "inductor_bw_s": inner_s["bw"],
        "dynamo_nodes": graphs["dynamo"], "fw_nodes": graphs["fw"], "bw_nodes": graphs["bw"],
        "guards": [m.guard_count for m in metrics],
        "graphs": counters["stats"]["unique_graphs"],
        "graph_breaks": sum(counters["graph_break"].values()),
        "recompiles": sum(counters["recompiles"].values()) if "recompiles" in counters else 0,
        "frames": len(metrics),
        "max_difference_to_eager": difference,
        "forward_us": usual_us, "forward_without_guards_us": unguarded_us,
    }
    headers, values = torch._dynamo.utils.compile_times(repr="csv", aggregate=True)
    row["compile_times"] = {h: float(v) for h, v in zip(headers, values)
                            if h in INDUCTOR_STEPS}
    row["inductor_counters"] = dict(counters["inductor"])
    if profile:
        row["profile"] = runtime_profile(torch._dynamo.config.dynamo_profiler)
    Path(out).write_text(json.dumps(row))


def runtime_profile(path, top=25):
    """The functions Dynamo traced, by cumulative and own tracing time (Dynamo's profiler)."""
    import pstats
    if not os.path.exists(path):
        return []
    stats = pstats.Stats(path).stats
    rows = []
    for (filename, line, name), (calls, primitive, tottime, cumtime, _) in stats.items():
        where = filename.split("runtime/")[-1] if "runtime/" in filename else Path(filename).name
        rows.append({"function": f"{where}:{line}({name})", "calls": calls,
                     "tottime": tottime, "cumtime": cumtime})
    rows.sort(key=lambda r: -r["tottime"])
    return rows[:top]


# Inductor's steps, as torch._dynamo.utils.compile_times() names them (forward and backward
# together; the warm-up's are cleared).
INDUCTOR_STEPS = ("GraphLowering.run", "Scheduler.__init__", "Scheduler.codegen",
                  "PythonWrapperCodegen.generate", "compile_file", "async_compile.wait",
                  "PyCodeCache.load_by_key_path", "_recursive_joint_graph_passes",
                  "_recursive_post_grad_passes", "min_cut_rematerialization_partition",
                  "aot_trace_joint_graph", "bytecode_tracing", "build_guards")


# ---------------------------------------------------------------- the table (parent)

def graph_ops(impl, n, batch):
    """The ops of Dynamo's graph and of AOTAutograd's forward and backward graphs, counted by
    name, without Inductor (``aot_autograd`` with counting compilers that run the graphs as
    they are): which ops make one implementation's graphs larger than another's."""
    import collections
    import torch
    from torch._dynamo.backends.common import aot_autograd
    from torch._functorch.aot_autograd import make_boxed_func
    histograms = {"dynamo": collections.Counter(), "fw": collections.Counter(),
                  "bw": collections.Counter()}

    def counting(kind):
        def compiler(gm, example_inputs):
            for node in gm.graph.nodes:
                if node.op == "call_function" or node.op == "call_method":
                    histograms[kind][getattr(node.target, "__name__", str(node.target))] += 1
            return make_boxed_func(gm.forward)
        return compiler

    aot = aot_autograd(fw_compiler=counting("fw"), bw_compiler=counting("bw"))

    def backend(gm, example_inputs):
        counting("dynamo")(gm, example_inputs)
        return aot(gm, example_inputs)

    function, inputs = build(impl, n, batch)
    forward_backward(compile_with(impl, function, backend), inputs)
    return {kind: dict(counter.most_common()) for kind, counter in histograms.items()}


def run_one(impl, n, batch, profile):
    cache = tempfile.mkdtemp(prefix="relaxc-compile-phases-")
    out = os.path.join(cache, "row.json")
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache)
    command = [sys.executable, __file__, "--child", impl, str(n), "--batch", str(batch), "--out",
               out] + (["--profile"] if profile else [])
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        shutil.rmtree(cache, ignore_errors=True)
        raise SystemExit(f"{impl} n={n} failed:\n{done.stderr[-4000:]}")
    row = json.loads(Path(out).read_text())
    row["process_s"] = wall
    # Dynamo's own "Guard eval latency" (one evaluation as the guards are built: found
    # unreliable, 4215 µs for the 20 guards of the hand-written sort; kept in the JSON only).
    row["dynamo_guard_eval_latency_us"] = [
        float(m) for m in re.findall(r"Guard eval latency = ([0-9.]+) us", done.stderr)]
    shutil.rmtree(cache, ignore_errors=True)
    return row


HEADER = ("impl", "n", "cmp", "warm-up", "1st fw", "1st bw", "dynamo", "aot", "ind fw", "ind bw",
          "fx nodes", "fw nodes", "bw nodes", "guards", "guard µs", "graphs", "breaks", "recomp")
# guard µs: a compiled forward call's median time less the same with guard evaluation skipped
# (torch.compiler.set_stance(skip_guard_eval_unsafe=True)).


def table_row(r):
    def total(values):
        return "+".join(str(v) for v in values) if len(values) > 1 else str(sum(values))
    return (r["impl"], r["n"], r["comparisons"], f"{r['warm_up_s']:.1f}",
            f"{r['first_forward_s']:.1f}", f"{r['first_backward_s']:.1f}",
            f"{r['dynamo_s']:.1f}", f"{r['aot_s']:.1f}", f"{r['inductor_fw_s']:.1f}",
            f"{r['inductor_bw_s']:.1f}", total(r["dynamo_nodes"]), total(r["fw_nodes"]),
            total(r["bw_nodes"]), total(r["guards"]),
            f"{r['forward_us'] - r['forward_without_guards_us']:.0f}"
            if "forward_us" in r else "-", r["graphs"],
            r["graph_breaks"],
            r["recompiles"])


def print_table(rows):
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    for r in rows:
        print("| " + " | ".join(str(c) for c in table_row(r)) + " |")
    print()
    print("per relaxed decision (comparison or cell):")
    for r in rows:
        c = r["comparisons"]
        print(f"  {r['impl']:10s} n={r['n']:2d}: dynamo {r['dynamo_s'] / c * 1000:6.0f} ms, "
              f"aot {r['aot_s'] / c * 1000:6.0f} ms, inductor "
              f"{(r['inductor_fw_s'] + r['inductor_bw_s']) / c * 1000:6.0f} ms, "
              f"fx {sum(r['dynamo_nodes']) / c:5.1f}, fw {sum(r['fw_nodes']) / c:5.1f}, "
              f"bw {sum(r['bw_nodes']) / c:5.1f} nodes")
    print("\nInductor and AOT steps (seconds, compile_times(aggregate=True)):")
    for r in rows:
        steps = ", ".join(f"{k} {v:.1f}" for k, v in r["compile_times"].items())
        print(f"  {r['impl']:10s} n={r['n']:2d}: {steps}; {r['inductor_counters']}")
    for r in rows:
        if r.get("profile"):
            print(f"\nDynamo tracing time by function, {r['impl']} n={r['n']} "
                  f"(own time, cumulative; seconds):")
            for p in r["profile"]:
                print(f"  {p['tottime']:7.2f} {p['cumtime']:7.2f} {p['calls']:6d}  {p['function']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 8])
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=["relaxc", "hand"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", help="also write the rows here")
    parser.add_argument("--ops", action="store_true",
                        help="instead: the ops of each graph by name (Dynamo and AOTAutograd "
                             "only, no Inductor; fast)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.batch, args.profile, args.out)
        return
    if args.ops:
        for n in args.sizes:
            for impl in args.impls:
                counts = graph_ops(impl, n, args.batch)
                for kind, counter in counts.items():
                    print(f"{impl} n={n} {kind} ({sum(counter.values())}): "
                          + ", ".join(f"{k} {v}" for k, v in counter.items()))
        return
    rows = []
    for n in args.sizes:
        for impl in args.impls:
            rows.append(run_one(impl, n, args.batch, args.profile))
            print(" | ".join(str(c) for c in table_row(rows[-1])), file=sys.stderr, flush=True)
    print(f"load: {os.getloadavg()}")
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
