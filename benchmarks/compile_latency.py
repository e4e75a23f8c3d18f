"""Benchmark: how long ``@relax`` takes to compile a 30-line function, first and cached.

Prints the median of several first compiles (the cache cleared each time) and of cached ones.

    python benchmarks/compile_latency.py
"""

import inspect
import statistics
import time

import relaxc
import relaxc.api


def thirty_lines(xs, threshold):
    n = len(xs)
    swaps = 0
    above = 0
    best = xs[0]
    for i in range(n):
        if xs[i] > threshold and xs[i] > best:
            best = xs[i]
        elif xs[i] < -threshold:
            above -= 1
        else:
            above += xs[i] > 0
    swapped = True
    while swapped:
        swapped = False
        for j in range(n - 1):
            if xs[j] > xs[j + 1]:
                xs[j], xs[j + 1] = xs[j + 1], xs[j]
                swapped = True
                swaps += 1
    position = -1
    for k in range(n):
        if xs[k] == best:
            position = k
            break
    spread = max(xs) - min(xs)
    label = 1 if spread > 2 else 0
    total = 0
    for x in xs:
        total += x
    return xs, swaps, above, position, label, total


def median_ms(run, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def first_compile():
    relaxc.api._cache.clear()
    relaxc.relax(thirty_lines)


def main():
    lines = len(inspect.getsource(thirty_lines).splitlines()) - 1   # the body
    first_compile()   # warm up the imports
    print(f"@relax on a {lines}-line function: first compile "
          f"{median_ms(first_compile, 15):.1f} ms, cached {median_ms(lambda: relaxc.relax(thirty_lines), 15):.2f} ms "
          f"(medians of 15)")


if __name__ == "__main__":
    main()
