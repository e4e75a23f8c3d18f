"""Seconds per training step of the sorting-supervision experiment, CNN and relaxed sort apart.

Times the variants a CPU step can use, alternating them round after round so that a
machine whose load changes treats them alike, and reports medians:

* the relaxed sort (forward and backward of the loss on the scores), plain or with
  ``replay=True`` (relaxc records the torch calls of the first call per input shape and replays
  them);
* the CNN (forward, and backward from the scores), eager in the default (NCHW) memory format,
  eager in channels-last (NHWC, what training uses), or the NCHW model compiled by
  ``torch.compile``.

The training script times the same phases of every step it runs (``seconds_per_step`` in its
JSON); this script answers which variant to use.  Example::

    OMP_NUM_THREADS=1 python examples/sorting_throughput.py --n 3 5 7 \
        --out docs/experiments/results/sorting_throughput.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from sorting_data import mnist_5k_pools, sample_sets
from sorting_model import DigitsCNN
from sorting_supervision import LOSSES, relaxed_bubble_sort


def sort_step(scores: torch.Tensor, beta: float, loss: str, replay: bool) -> None:
    """Forward and backward of the relaxed-sort loss on scores given in true order."""
    leaf = scores.detach().requires_grad_()
    _, swaps, any_swap = relaxed_bubble_sort.options(beta=beta, replay=replay)(leaf)
    (swaps if loss == "swaps" else any_swap).mean().backward()


def cnn_step(model: torch.nn.Module, images: torch.Tensor) -> None:
    """Forward and backward of the CNN on a batch of sets (the gradient of the scores is ones)."""
    model.zero_grad(set_to_none=True)
    model(images).sum().backward()


def time_variants(variants: dict, rounds: int) -> dict[str, float]:
    """Median seconds of each zero-argument callable, run in turn once per round after one warm-up."""
    for run in variants.values():
        run()  # first calls record (replay) or compile
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return {name: float(np.median(values)) for name, values in seconds.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[3, 5, 7])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--beta", type=float, default=0.125)
    parser.add_argument("--loss", choices=LOSSES, default="swaps")
    parser.add_argument("--rounds", type=int, default=10, help="timed calls of each variant")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile (it needs a C++ compiler)")
    parser.add_argument("--out", type=Path, help="write the JSON here")
    args = parser.parse_args(argv)

    data = mnist_5k_pools(seed=0)
    torch.manual_seed(0)
    eager = DigitsCNN(channels_last=False)
    channels_last = DigitsCNN(channels_last=True)
    channels_last.load_state_dict(eager.state_dict())
    compiled = None if args.no_compile else torch.compile(eager)
    result = {"batch_size": args.batch_size, "beta": args.beta, "loss": args.loss, "rounds": args.rounds,
              "threads": torch.get_num_threads(), "torch": torch.__version__, "machine": platform.processor()
              or platform.machine(), "n": {}}
    for n in args.n:
        rng = np.random.default_rng([n])
        images, values = sample_sets(data, "train", n, args.batch_size, rng)
        # Fresh scores every call, as in training: a replay is checked against every new input.
        scores = [torch.randn(args.batch_size, n) for _ in range(args.rounds + 1)]
        calls = {"plain": iter(scores), "replay": iter(list(scores))}
        sort = time_variants({f"sort_{name}": (lambda name=name: sort_step(next(calls[name]), args.beta, args.loss,
                                                                            name == "replay"))
                              for name in calls}, args.rounds)
        cnn_variants = {"cnn_eager": lambda: cnn_step(eager, images),
                        "cnn_channels_last": lambda: cnn_step(channels_last, images)}
        if compiled is not None:
            cnn_variants["cnn_compiled"] = lambda: cnn_step(compiled, images)
        cnn = time_variants(cnn_variants, args.rounds)
        result["n"][str(n)] = {**cnn, **sort}
        print(n, json.dumps(result["n"][str(n)]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
