"""Levenshtein-distance supervision of a letter classifier (Petersen et al., NeurIPS 2021, sec. 4.4).

A CNN maps each 28x28 letter image to a categorical distribution over the setting's alphabet (2 or
4 letters). It never sees a letter label: the only supervision of a pair of strings a, b of 32
letter images each is their true edit distance. The loss (the paper's eq. 12) is

    (relaxed_levenshtein(CNN(a), CNN(b)) - distance(a, b))^2,

where the relaxed distance is the plain-Python dynamic programme of examples/levenshtein.py compiled
by relaxc (categorical equality, softmin, beta = 1/9), run with ``replay=True``. Methods:

* ``relaxed``: the loss above.
* ``baseline`` (the paper's eq. 13): the l1 distance between the two sequences of class
  distributions, sum_i ||CNN(a_i) - CNN(b_i)||_1, in place of the edit distance.
* ``supervised``: the same CNN trained with the letter labels (cross-entropy), the upper bound.

As the edit distance does not change when the alphabet is permuted, the CNN's classes are matched to
the true letters by the Hungarian method on validation letters (scipy's ``linear_sum_assignment``);
top-1 accuracy and macro F1 are then measured on the test letters, whose fonts (or, with
``--emnist-dir``, writers) are not seen in training. Each run keeps the model of its best validation
top-1 (the final model's numbers are in the JSON too)::

    python examples/levenshtein_supervision.py --letters OX --quick --out results/ox_quick.json
    python examples/levenshtein_supervision.py --letters all --method relaxed baseline --runs 10 --out table.json

``--out`` is rewritten after every run, and a run already in it (same settings) is not run again, so
an interrupted table resumes where it stopped.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

import relaxc
from experiment_setup import fill_budget
from levenshtein import levenshtein
from levenshtein_data import (
    LetterPools, default_cache_dir, emnist_pools, generated_pools, letter_images, sample_pairs,
)

SETTINGS = ("AB", "BC", "CD", "DE", "EF", "IL", "OX", "ACGT", "OSXL")
METHODS = ("relaxed", "baseline", "supervised")
STRING_LENGTH = 32

# The paper's Table 4: top-1 accuracy (F1 where the paper gives it) after Hungarian matching.
PAPER = {
    "relaxed": {"AB": (0.671, 0.666), "BC": (0.807, None), "CD": (0.816, None), "DE": (0.833, None),
                "EF": (0.847, None), "IL": (0.570, None), "OX": (0.960, None), "ACGT": (0.437, 0.367),
                "OSXL": (0.487, 0.404)},
    "baseline": {"AB": (0.616, None), "BC": (0.651, None), "CD": (0.768, None), "DE": (0.739, None),
                 "EF": (0.701, None), "IL": (0.550, None), "OX": (0.893, None), "ACGT": (0.403, None),
                 "OSXL": (0.448, None)},
}

# Budgets. FULL is the paper's longest (512 steps, beta 1/9, Adam lr 1e-4); QUICK is sized to
# finish in a few minutes on two CPU cores.
FULL = {"steps": 512, "batch_size": 32, "lr": 1e-4, "eval_every": 32}
QUICK = {"steps": 150, "batch_size": 16, "lr": 1e-3, "eval_every": 25}

# First word of every generator seed, so training strings never coincide with anything else.
STREAMS = {"train": 0, "examples": 1}

# What a run's result depends on: a run in --out is reused only when all of these agree, and
# when it was selected the same way (runs from before model selection are not reused).
RUN_KEYS = ("steps", "batch_size", "lr", "beta", "data_seed", "emnist_dir", "replay")
SELECTION = "best validation top-1"

# The plain dynamic programme, compiled once; beta is given per call.
relaxed_levenshtein = relaxc.relax(levenshtein, replay=True)


class LettersCNN(nn.Module):
    """Maps images ``(..., 1, 28, 28)`` to class logits ``(..., classes)``.

    The layout of the sorting experiment's network (examples/sorting_model.py: two 5x5
    convolutions, each followed by ReLU and 2x2 max-pooling, a 64-unit layer) with half its
    channels (16 and 32): a step classifies 64 letters per string pair, and on two shared CPU cores
    the full-width network took 3.4 s per step of 16 pairs against 1.4 s for this one.
    """

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        leading = images.shape[:-3]
        return self.layers(images.reshape(-1, 1, 28, 28)).reshape(*leading, -1)


def relaxed_distance(probs_a: torch.Tensor, probs_b: torch.Tensor, beta: float, replay: bool = True) -> torch.Tensor:
    """The relaxed edit distance ``(B,)`` of two batches of categorical sequences ``(B, n, k)``."""
    table = relaxed_levenshtein.options(beta=beta, replay=replay)(relaxc.Categorical(probs_a), relaxc.Categorical(probs_b))
    return table[-1][-1]


def l1_distance(probs_a: torch.Tensor, probs_b: torch.Tensor) -> torch.Tensor:
    """The baseline's distance ``(B,)``: the l1 distance of the two sequences of encodings (eq. 13)."""
    return (probs_a - probs_b).abs().sum(dim=(1, 2))


def distance_loss(method: str, probs_a: torch.Tensor, probs_b: torch.Tensor, distances: torch.Tensor,
                  beta: float, replay: bool = True) -> torch.Tensor:
    """Mean squared error between the method's distance and the true edit distance (eq. 12/13)."""
    if method == "relaxed":
        predicted = relaxed_distance(probs_a, probs_b, beta, replay)
    elif method == "baseline":
        predicted = l1_distance(probs_a, probs_b)
    else:
        raise ValueError(f"distance_loss: method must be 'relaxed' or 'baseline', got {method!r}")
    return ((predicted - distances.to(predicted.dtype)) ** 2).mean()


def hungarian_mapping(predicted: np.ndarray, true: np.ndarray, classes: int) -> np.ndarray:
    """``mapping[c]``: the true class matched to predicted class ``c``, maximising the matches.

    The assignment problem on the confusion matrix, solved by scipy's ``linear_sum_assignment``.
    """
    from scipy.optimize import linear_sum_assignment

    if predicted.shape != true.shape or len(true) == 0:
        raise ValueError("hungarian_mapping needs equally many predicted and true classes, at least one")
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (predicted, true), 1)
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    mapping = np.empty(classes, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def top1_and_f1(predicted: np.ndarray, true: np.ndarray, classes: int) -> tuple[float, float]:
    """Top-1 accuracy and macro F1 (the mean over classes of 2TP / (2TP + FP + FN))."""
    f1 = []
    for c in range(classes):
        tp = np.sum((predicted == c) & (true == c))
        wrong = np.sum((predicted == c) != (true == c))  # false positives plus false negatives
        f1.append(2 * tp / (2 * tp + wrong) if tp + wrong else 1.0)
    return float(np.mean(predicted == true)), float(np.mean(f1))


@torch.no_grad()
def classify(model: nn.Module, data: LetterPools, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Predicted and true classes of every letter image of ``split``."""
    index = np.concatenate(data.pools[split])
    images = torch.from_numpy(data.images[index]).float().div_(255.0).unsqueeze(1)
    model.eval()
    predicted = torch.cat([model(chunk).argmax(-1) for chunk in images.split(1000)]).numpy()
    model.train()
    return predicted, data.labels[index]


def evaluate(model: nn.Module, data: LetterPools) -> dict:
    """Hungarian matching fitted on the validation letters, then top-1 and F1 on both splits."""
    k = len(data.letters)
    val_predicted, val_true = classify(model, data, "val")
    mapping = hungarian_mapping(val_predicted, val_true, k)
    test_predicted, test_true = classify(model, data, "test")
    val_top1, _ = top1_and_f1(mapping[val_predicted], val_true, k)
    top1, f1 = top1_and_f1(mapping[test_predicted], test_true, k)
    return {"val_top1": val_top1, "top1": top1, "f1": f1, "mapping": mapping.tolist()}


def load_data(letters: str, args: argparse.Namespace) -> LetterPools:
    if args.emnist_dir:
        return emnist_pools(args.emnist_dir, letters, seed=args.data_seed)
    return generated_pools(letters, seed=args.data_seed, cache_dir=args.cache_dir)


def train_one(letters: str, method: str, seed: int, data: LetterPools, args: argparse.Namespace) -> tuple[nn.Module, dict]:
    """One run; returns the selected model and its result (test top-1/F1, history, timings).

    The model is selected by validation top-1 among the validations every ``eval_every`` steps
    (the first one found on a tie), the same held-out letters the Hungarian matching is fitted
    on; the final model's test numbers are kept as ``final_top1``/``final_f1``.
    """
    started = time.perf_counter()
    torch.manual_seed(seed)
    model = LettersCNN(len(letters))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    history = {"step": [], "loss": [], "val_top1": []}
    best = {"val_top1": -1.0, "step": 0, "state": None}
    step_seconds = []
    progress = tqdm(range(args.steps), disable=args.no_progress, desc=f"{letters} {method} seed {seed}")
    for step in progress:
        rng = np.random.default_rng([STREAMS["train"], seed, step])
        a, b, distances = sample_pairs(len(letters), args.batch_size, rng, STRING_LENGTH)
        images = letter_images(data, "train", np.concatenate([a, b], axis=1), rng)
        step_started = time.perf_counter()
        logits = model(images)  # (B, 64, k): the 32 letters of a, then the 32 of b
        if method == "supervised":
            codes = torch.from_numpy(np.concatenate([a, b], axis=1))
            loss = F.cross_entropy(logits.flatten(0, 1), codes.flatten())
        else:
            probs = logits.softmax(-1)
            loss = distance_loss(method, probs[:, :STRING_LENGTH], probs[:, STRING_LENGTH:],
                                 torch.from_numpy(distances), args.beta, args.replay)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step_seconds.append(time.perf_counter() - step_started)
        done = step + 1
        if done % args.eval_every == 0 or done == args.steps:
            history["step"].append(done)
            history["loss"].append(loss.item())
            history["val_top1"].append(evaluate(model, data)["val_top1"])
            if history["val_top1"][-1] > best["val_top1"]:
                best = {"val_top1": history["val_top1"][-1], "step": done, "state": copy.deepcopy(model.state_dict())}
            progress.set_postfix(loss=f"{loss.item():.3f}", val_top1=f"{history['val_top1'][-1]:.3f}")
    final = evaluate(model, data)
    model.load_state_dict(best["state"])
    result = {"letters": letters, "method": method, "seed": seed, **evaluate(model, data), "best_step": best["step"],
              "final_top1": final["top1"], "final_f1": final["f1"],
              # The first steps record the replay; the median is the steady-state cost.
              "median_step_seconds": float(np.median(step_seconds)),
              "seconds": time.perf_counter() - started, "history": history}
    return model, result


def time_distance(batch_size: int, classes: int, rounds: int, beta: float) -> dict:
    """Seconds of the relaxed distance's forward and backward pass on a training batch, with and
    without replay, alternating the two so that a busy machine slows both alike; medians.

    The first call with replay records (its time is ``record_seconds``); the rest replay.
    """
    def once(replay: bool, seed: int) -> tuple[float, float]:
        logits = torch.randn(batch_size, 2 * STRING_LENGTH, classes, generator=torch.Generator().manual_seed(seed),
                             requires_grad=True)
        started = time.perf_counter()
        probs = logits.softmax(-1)
        distance = relaxed_distance(probs[:, :STRING_LENGTH], probs[:, STRING_LENGTH:], beta, replay)
        forward = time.perf_counter() - started
        distance.sum().backward()
        return forward, time.perf_counter() - started - forward

    record = sum(once(True, -1))
    timings = {True: [], False: []}
    for seed in range(rounds):
        for replay in (True, False):
            timings[replay].append(once(replay, seed))
    result = {"batch_size": batch_size, "classes": classes, "rounds": rounds, "record_seconds": record,
              "torch_threads": torch.get_num_threads()}
    for replay, name in ((True, "replay"), (False, "no_replay")):
        forward, backward = np.array(timings[replay]).T
        result[name] = {"forward": float(np.median(forward)), "backward": float(np.median(backward)),
                        "total": float(np.median(forward + backward))}
    return result


def summarise(runs: list[dict]) -> list[dict]:
    """Mean and standard deviation of top-1 and F1 per (setting, method), with the paper's numbers."""
    rows = []
    for letters in dict.fromkeys(r["letters"] for r in runs):
        for method in dict.fromkeys(r["method"] for r in runs):
            chosen = [r for r in runs if r["letters"] == letters and r["method"] == method]
            if not chosen:
                continue
            top1, f1 = np.array([r["top1"] for r in chosen]), np.array([r["f1"] for r in chosen])
            final_top1 = np.array([r["final_top1"] for r in chosen])
            paper_top1, paper_f1 = PAPER.get(method, {}).get(letters, (None, None))
            rows.append({"letters": letters, "method": method, "runs": len(chosen),
                         "top1_mean": float(top1.mean()), "top1_std": float(top1.std()),
                         "f1_mean": float(f1.mean()), "f1_std": float(f1.std()),
                         "final_top1_mean": float(final_top1.mean()), "final_top1_std": float(final_top1.std()),
                         "median_step_seconds": float(np.median([r["median_step_seconds"] for r in chosen])),
                         "paper_top1": paper_top1, "paper_f1": paper_f1})
    return rows


def save_figures(folder: Path, runs: list[dict], model: nn.Module | None, data: LetterPools | None,
                 beta: float) -> None:
    """The page's figures: accuracy over training steps (every setting in ``runs``), and, for a
    trained relaxed model, an example test pair with its predicted letters and the hard and relaxed
    distance tables of that pair (the paper's Figure 5)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    settings = list(dict.fromkeys(r["letters"] for r in runs))
    columns = min(3, len(settings))
    rows = -(-len(settings) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 2.6 * rows), squeeze=False, sharey=True)
    for ax, letters in zip(axes.flat, settings):
        for method in METHODS:
            chosen = [r for r in runs if r["letters"] == letters and r["method"] == method]
            if chosen:
                curves = np.array([r["history"]["val_top1"] for r in chosen])
                ax.plot(chosen[0]["history"]["step"], curves.mean(axis=0), marker=".", label=method)
        ax.axhline(1 / len(letters), color="grey", linestyle=":", label="chance")
        ax.set(title=letters, xlabel="step", ylim=(0, 1.02))
    for ax in axes.flat[len(settings):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("validation top-1")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "levenshtein_curves.png", dpi=100)
    plt.close(fig)
    if model is None or data is None:
        return

    rng = np.random.default_rng([STREAMS["examples"], 0])
    a, b, distances = sample_pairs(len(data.letters), 1, rng, STRING_LENGTH)
    images = letter_images(data, "test", np.concatenate([a, b], axis=1), rng)
    mapping = np.array(evaluate(model, data)["mapping"])
    with torch.no_grad():
        model.eval()
        probs = model(images).softmax(-1)
        model.train()
    # Columns of the probabilities in the order of the true letters, so the tables read as letters.
    probs = probs[..., np.argsort(mapping)]
    predicted = probs[0].argmax(-1).numpy()
    fig, axes = plt.subplots(2, STRING_LENGTH, figsize=(STRING_LENGTH * 0.42, 1.5))
    for row, codes in enumerate((a[0], b[0])):
        for i, code in enumerate(codes):
            ax = axes[row, i]
            ax.imshow(images[0, row * STRING_LENGTH + i, 0].numpy(), cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            guess = predicted[row * STRING_LENGTH + i]
            ax.set_title(data.letters[guess], fontsize=8, color="green" if guess == code else "red")
    fig.suptitle(f"a test pair ({data.letters}, true distance {distances[0]}): predicted letters, "
                 "green where right", fontsize=8)
    fig.savefig(folder / "levenshtein_examples.png", dpi=100, bbox_inches="tight")
    plt.close(fig)

    one_hot = F.one_hot(torch.from_numpy(np.concatenate([a, b], axis=1)), len(data.letters)).double()
    hard = relaxed_levenshtein.options(mode="hard")(relaxc.Categorical(one_hot[:, :STRING_LENGTH]),
                                                    relaxc.Categorical(one_hot[:, STRING_LENGTH:]))
    relaxed = relaxed_levenshtein.options(beta=beta)(relaxc.Categorical(probs[:, :STRING_LENGTH].double()),
                                                     relaxc.Categorical(probs[:, STRING_LENGTH:].double()))
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    for ax, table, title in ((axes[0], hard, "hard (true letters)"),
                             (axes[1], relaxed, f"relaxed (CNN's distributions, β = {beta:.3g})")):
        values = np.array([[float(v[0]) if isinstance(v, torch.Tensor) else float(v) for v in row] for row in table])
        shown = ax.imshow(values, cmap="viridis")
        ax.set_title(f"{title}: distance {values[-1, -1]:.2f}", fontsize=9)
        ax.set_xticks(range(STRING_LENGTH + 1), ["ε", *(data.letters[c] for c in b[0])], fontsize=5)
        ax.set_yticks(range(STRING_LENGTH + 1), ["ε", *(data.letters[c] for c in a[0])], fontsize=5)
        fig.colorbar(shown, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(folder / "levenshtein_tables.png", dpi=100)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", nargs="+", default=["OX"], help=f"settings: {' '.join(SETTINGS)}, or all")
    parser.add_argument("--method", nargs="+", choices=METHODS, default=["relaxed"])
    parser.add_argument("--runs", type=int, default=1, help="runs per setting and method (seeds seed, seed+1, ...)")
    parser.add_argument("--steps", type=int, help=f"optimiser steps (default {FULL['steps']})")
    parser.add_argument("--batch-size", type=int, help=f"string pairs per step (default {FULL['batch_size']})")
    parser.add_argument("--lr", type=float, help=f"Adam learning rate (default {FULL['lr']})")
    parser.add_argument("--beta", type=float, default=1 / 9, help="temperature of the relaxed distance")
    parser.add_argument("--no-replay", dest="replay", action="store_false",
                        help="run the compiled distance as is instead of replaying its recorded torch calls")
    parser.add_argument("--seed", type=int, default=0, help="first model initialisation and training-string seed")
    parser.add_argument("--data-seed", type=int, default=0, help="generated letters / EMNIST validation split")
    parser.add_argument("--quick", action="store_true", help="small budget: " + json.dumps(QUICK))
    parser.add_argument("--eval-every", type=int, help="steps between validations (the accuracy curve)")
    parser.add_argument("--emnist-dir", help="folder with the EMNIST letters idx files (default: generated letters)")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir(), help="generated letters are kept here")
    parser.add_argument("--out", type=Path, help="JSON results, rewritten after every run; runs in it are reused")
    parser.add_argument("--time-distance", type=int, metavar="ROUNDS",
                        help="only time the relaxed distance with and without replay (ROUNDS calls each) and exit")
    parser.add_argument("--figures", type=Path, help="write the page's PNGs into this folder")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    fill_budget(args, QUICK, FULL)
    if args.letters == ["all"]:
        args.letters = list(SETTINGS)
    unknown = [s for s in args.letters if s not in SETTINGS]
    if unknown:
        parser.error(f"unknown --letters {unknown}; choose from {' '.join(SETTINGS)} or all")
    if args.runs < 1 or args.steps < 1 or args.batch_size < 1 or args.beta <= 0:
        parser.error("--runs, --steps and --batch-size must be positive, and --beta above 0")
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.time_distance:
        timings = [time_distance(args.batch_size, len(letters), args.time_distance, args.beta)
                   for letters in dict.fromkeys(args.letters)]
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(timings, indent=1) + "\n")
        print(json.dumps(timings, indent=1))
        return {"timings": timings}
    config = {key: str(getattr(args, key)) if key == "emnist_dir" and args.emnist_dir else getattr(args, key)
              for key in RUN_KEYS}
    config["selection"] = SELECTION
    previous = json.loads(args.out.read_text()) if args.out and args.out.is_file() else {}
    runs = [r for r in previous.get("runs", []) if r.get("config") == config]
    shown = None  # (model, data) of the first relaxed run trained here, for --figures
    for letters in args.letters:
        data = None  # generated or read only when a run of this setting is missing
        for method in args.method:
            for seed in range(args.seed, args.seed + args.runs):
                if any((r["letters"], r["method"], r["seed"]) == (letters, method, seed) for r in runs):
                    continue
                data = data or load_data(letters, args)
                model, result = train_one(letters, method, seed, data, args)
                if shown is None and method == "relaxed":
                    shown = (model, data)
                runs.append({**result, "config": config})
                print(json.dumps({k: result[k] for k in ("letters", "method", "seed", "top1", "f1", "seconds")}))
                if args.out:
                    write_results(args.out, runs)
    summary = results_document(runs)
    if args.out:
        write_results(args.out, runs)
    if args.figures:
        save_figures(args.figures, runs, *(shown or (None, None)), args.beta)
    print(json.dumps(summary["table"], indent=2))
    return summary


def results_document(runs: list[dict]) -> dict:
    """The JSON written to --out: the table, every run, and top1/f1 at the top for a single row.

    ``seconds`` is the wall time of all the runs together (runs reused from an earlier call included).
    """
    table = summarise(runs)
    document = {"table": table, "seconds": sum(r["seconds"] for r in runs), "runs": runs}
    if len(table) == 1:
        document = {"top1": table[0]["top1_mean"], "f1": table[0]["f1_mean"], **document}
    return document


def write_results(out: Path, runs: list[dict]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results_document(runs), indent=1) + "\n")


if __name__ == "__main__":
    main()
