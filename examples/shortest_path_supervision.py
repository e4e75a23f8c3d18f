"""Shortest-path supervision on Warcraft-style terrain maps (Petersen et al., NeurIPS 2021, sec. 4.2).

A CNN sees a 96x96 terrain image and predicts a cost for every cell of its 12x12 grid.  The relaxed
Bellman-Ford of ``shortest_path.py`` (plain Python compiled by relaxc) turns the costs into a relaxed
path from the top-left to the bottom-right cell, and the only supervision is the true 0/1 path
matrix (squared error).  At test time the predicted costs go through the exact solver (the same
function in hard mode, equal to Dijkstra).  The baseline (``--method baseline``) is the same network
trained to predict the path matrix directly (binary cross-entropy per cell, a cell is on the path
where its logit is positive), as the ResNet baseline of Vlastelica et al.

Runs as one process, or data-parallel under torchrun with DistributedDataParallel on gloo::

    python examples/shortest_path_supervision.py --quick --out results/quick.json
    torchrun --nproc-per-node 2 examples/shortest_path_supervision.py -- --out results/full.json

Data: ``--data-dir`` names a folder with the original 12x12 Warcraft files
(``{train,val,test}_{maps,vertex_weights,shortest_paths}.npy``); without it, the generator of
``shortest_path_data.py`` writes such a folder once into the git-ignored cache.  Each method's model
is selected by validation exact match after every epoch; test metrics are reported for it.
``--out`` writes the JSON summary, ``--figure`` (default: next to it) a figure like the paper's
Figure 3.
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

from shortest_path import shortest_path
from experiment_setup import checkpoint_to_resume, fill_budget, start_processes
from shortest_path_data import cached_dataset, load_split
from shortest_path_model import GridResNet, path_metrics

METHODS = ("relaxed", "baseline")
# The paper's protocol (50 epochs of the 10,000 training maps in batches of 70, β = 1/25, Adam at
# 5e-4 divided by 10 at epochs 30 and 40).  "quick" is sized to take a few minutes on two CPU cores.
FULL = {"epochs": 50, "train_maps": 10_000, "val_maps": 1_000, "test_maps": 1_000}
QUICK = {"epochs": 3, "train_maps": 2_000, "val_maps": 200, "test_maps": 1_000}
# The learning rate drops tenfold after these fractions of the epochs (30 and 40 of 50), in runs
# of at least MIN_EPOCHS_FOR_DROPS epochs (our choice: a short run is all warm-up).
LR_DROPS = (0.6, 0.8)
MIN_EPOCHS_FOR_DROPS = 10
# Hyperparameters a resumed run must share with its checkpoint.
RESUME_KEYS = ("epochs", "train_maps", "batch_size", "beta", "lr", "seed", "data_seed", "data_dir")


def lr_drops(epochs: int) -> list[int]:
    """The epochs after which the learning rate drops tenfold: 30 and 40 of 50, scaled."""
    return [round(f * epochs) for f in LR_DROPS] if epochs >= MIN_EPOCHS_FOR_DROPS else []


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", choices=(*METHODS, "both"), default="both")
    parser.add_argument("--epochs", type=int, help=f"passes over the training maps (default {FULL['epochs']})")
    parser.add_argument("--train-maps", type=int, help="use the first N training maps")
    parser.add_argument("--val-maps", type=int, help="validate on the first N validation maps")
    parser.add_argument("--test-maps", type=int, help="test on the first N test maps")
    parser.add_argument("--batch-size", type=int, default=70, help="maps per step over all processes")
    parser.add_argument("--beta", type=float, default=1 / 25, help="temperature of the relaxed shortest path")
    parser.add_argument("--lr", type=float, default=5e-4, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=0, help="model initialisation and batch order")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the generated maps")
    parser.add_argument("--data-dir", type=Path, help="folder of the original Warcraft 12x12 .npy files")
    parser.add_argument("--quick", action="store_true", help="small budget: " + json.dumps(QUICK))
    parser.add_argument("--out", type=Path, help="JSON summary")
    parser.add_argument("--figure", type=Path, help="PNG like the paper's Figure 3 (default: next to --out)")
    parser.add_argument("--checkpoint-dir", type=Path, help="save <method>.pt after every epoch; resume from it")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    fill_budget(args, QUICK, FULL)
    for key in ("epochs", "train_maps", "val_maps", "test_maps", "batch_size"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be positive")
    if args.beta <= 0:
        parser.error("--beta must be positive")
    return args


class Maps:
    """One split in memory: uint8 images, cell weights and true paths, first ``count`` maps."""

    def __init__(self, folder: Path, split: str, count: int) -> None:
        maps, weights, paths = load_split(folder, split)
        if count > len(maps):
            raise ValueError(f"{folder}: asked for {count} {split} maps, the split has {len(maps)}")
        self.maps = torch.from_numpy(maps[:count])
        self.weights = torch.from_numpy(weights[:count])
        self.paths = torch.from_numpy(paths[:count]).float()

    def __len__(self) -> int:
        return len(self.maps)


class Normalise(torch.nn.Module):
    """uint8 ``(B, 96, 96, 3)`` maps -> float ``(B, 3, 96, 96)`` with the training set's per-channel
    mean and standard deviation (buffers, so they travel with the checkpoint)."""

    def __init__(self, train_maps: torch.Tensor) -> None:
        super().__init__()
        pixels = train_maps.reshape(-1, 3).double()
        self.register_buffer("mean", pixels.mean(0).float().view(1, 3, 1, 1))
        self.register_buffer("std", pixels.std(0).float().view(1, 3, 1, 1))

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return (maps.permute(0, 3, 1, 2).float() - self.mean) / self.std


def costs_of(outputs: torch.Tensor) -> torch.Tensor:
    """Cell costs from the network's outputs: positive, as shortest paths need (our choice)."""
    return F.softplus(outputs)


def loss_of(method: str, outputs: torch.Tensor, paths: torch.Tensor, beta: float) -> torch.Tensor:
    if method == "relaxed":
        relaxed = shortest_path.options(beta=beta)(costs_of(outputs))
        return (relaxed - paths).square().mean()
    return F.binary_cross_entropy_with_logits(outputs, paths)


@torch.no_grad()
def predict(method: str, network: torch.nn.Module, maps: torch.Tensor, chunk: int = 100) -> torch.Tensor:
    """0/1 path matrices: the exact solver on the predicted costs, or the thresholded baseline."""
    was_training = network.training
    network.eval()
    predicted = []
    for start in range(0, len(maps), chunk):
        outputs = network(maps[start:start + chunk])
        if method == "relaxed":
            predicted.append(shortest_path.options(mode="hard")(costs_of(outputs)))
        else:
            predicted.append((outputs > 0).float())
    network.train(was_training)
    return torch.cat(predicted)


def train_one(method: str, args: argparse.Namespace, data: dict[str, Maps], rank: int, world_size: int) -> dict:
    """Train one method; returns its summary (test metrics on rank 0) and what the figure needs."""
    started = time.perf_counter()
    lead = rank == 0
    torch.manual_seed(args.seed)
    readout = "mean" if method == "relaxed" else "linear"
    network = torch.nn.Sequential(Normalise(data["train"].maps), GridResNet(readout=readout))
    optimizer = torch.optim.Adam(network.parameters(), lr=args.lr)
    milestones = lr_drops(args.epochs)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=0.1)
    history = {"loss": [], "val_exact_match": [], "val_cost_optimal_match": []}
    best = {"val_exact_match": -1.0, "epoch": 0, "state": copy.deepcopy(network.state_dict())}
    start_epoch = 0

    checkpoint_path = args.checkpoint_dir / f"{method}.pt" if args.checkpoint_dir else None
    checkpoint = checkpoint_to_resume(checkpoint_path, args, RESUME_KEYS)
    if checkpoint is not None:
        network.load_state_dict(checkpoint["network"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        history, best, start_epoch = checkpoint["history"], checkpoint["best"], checkpoint["epoch"]

    # DDP broadcasts rank 0's parameters and averages gradients over processes.
    model = DistributedDataParallel(network) if world_size > 1 else network
    train = data["train"]
    steps = len(train) // args.batch_size  # the last incomplete batch is dropped
    local = args.batch_size // world_size
    progress = tqdm(total=args.epochs * steps, initial=start_epoch * steps, desc=method,
                    disable=not lead or args.no_progress)
    for epoch in range(start_epoch, args.epochs):
        # One order per (seed, epoch): a resumed run sees the batches an uninterrupted one would.
        order = torch.from_numpy(np.random.default_rng([args.seed, epoch]).permutation(len(train)))
        losses = []
        for step in range(steps):
            batch = order[step * args.batch_size:(step + 1) * args.batch_size][rank * local:(rank + 1) * local]
            loss = loss_of(method, model(train.maps[batch]), train.paths[batch], args.beta)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            progress.update()
        scheduler.step()
        history["loss"].append(float(np.mean(losses)))
        if lead:
            val = data["val"]
            metrics = path_metrics(predict(method, network, val.maps), val.paths, val.weights)
            history["val_exact_match"].append(metrics["exact_match"])
            history["val_cost_optimal_match"].append(metrics["cost_optimal_match"])
            if metrics["exact_match"] > best["val_exact_match"]:
                best = {"val_exact_match": metrics["exact_match"], "epoch": epoch + 1,
                        "state": copy.deepcopy(network.state_dict())}
            progress.set_postfix(loss=f"{history['loss'][-1]:.4f}", val_em=f"{metrics['exact_match']:.3f}")
            if checkpoint_path is not None:
                args.checkpoint_dir.mkdir(parents=True, exist_ok=True)
                torch.save({"network": network.state_dict(), "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(), "epoch": epoch + 1, "history": history,
                            "best": best, "args": vars(args)}, checkpoint_path)
        if world_size > 1:
            dist.barrier()  # the others wait while rank 0 validates
    progress.close()

    summary = {"history": history}
    if lead:
        network.load_state_dict(best["state"])
        test = data["test"]
        summary.update(path_metrics(predict(method, network, test.maps), test.paths, test.weights))
        summary.update(best_epoch=best["epoch"], val_exact_match=best["val_exact_match"],
                       seconds=time.perf_counter() - started)
        summary["network"] = network
    return summary


def time_step(batch_size: int = 70, repeats: int = 3) -> dict[str, float]:
    """Median seconds of one forward+backward of the network and of the relaxed shortest path, on
    a batch of random maps (after one warm-up each), as the issue asks to compare them."""
    network = torch.nn.Sequential(Normalise(torch.randint(0, 256, (4, 96, 96, 3), dtype=torch.uint8)), GridResNet())
    maps = torch.randint(0, 256, (batch_size, 96, 96, 3), dtype=torch.uint8)
    costs = torch.rand(batch_size, 12, 12) * 9 + 0.5

    def network_step():
        network(maps).sum().backward()

    def path_step():
        shortest_path(costs.clone().requires_grad_()).sum().backward()

    seconds = {}
    for name, step in (("network_forward_backward", network_step), ("shortest_path_forward_backward", path_step)):
        step()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            step()
            times.append(time.perf_counter() - started)
        seconds[name] = float(np.median(times))
    return {"batch_size": batch_size, "threads": torch.get_num_threads(), **seconds}


@torch.no_grad()
def save_figure(path: Path, network: torch.nn.Module, test: Maps, beta: float, shown: int = 3) -> None:
    """Like the paper's Figure 3: map, true costs, true path, relaxed paths at β and 10β (on the
    true costs), and the predicted path (the exact solver on the predicted costs)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    network.eval()
    maps, weights, paths = test.maps[:shown], test.weights[:shown], test.paths[:shown]
    predicted_costs = costs_of(network(maps))
    columns = [
        ("input map", maps.numpy(), None),
        ("true costs", weights.numpy(), "viridis"),
        ("true path", paths.numpy(), "gray"),
        (f"relaxed, β = {beta:.3g}", shortest_path.options(beta=beta)(weights).numpy(), "gray"),
        (f"relaxed, β = {10 * beta:.3g}", shortest_path.options(beta=10 * beta)(weights).numpy(), "gray"),
        ("predicted costs", predicted_costs.numpy(), "viridis"),
        ("predicted path", shortest_path.options(mode="hard")(predicted_costs).numpy(), "gray"),
    ]
    fig, axes = plt.subplots(shown, len(columns), figsize=(2.0 * len(columns), 2.1 * shown), squeeze=False)
    for row in range(shown):
        for col, (title, images, cmap) in enumerate(columns):
            ax = axes[row, col]
            ax.imshow(images[row], cmap=cmap, vmin=0 if cmap == "gray" else None, vmax=1 if cmap == "gray" else None)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    started = time.perf_counter()
    distributed, rank, world_size = start_processes(args.batch_size)
    if rank == 0 and args.data_dir is None:
        cached_dataset(args.data_seed)  # generate once, before the other processes read it
    if distributed:
        dist.barrier()
    folder = args.data_dir or cached_dataset(args.data_seed)
    counts = {"train": args.train_maps, "val": args.val_maps, "test": args.test_maps}
    data = {split: Maps(folder, split, count) for split, count in counts.items()}
    if args.batch_size > len(data["train"]):
        raise ValueError(f"--batch-size {args.batch_size} exceeds the {len(data['train'])} training maps")

    methods = METHODS if args.method == "both" else (args.method,)
    results = {method: train_one(method, args, data, rank, world_size) for method in methods}
    summary = {}
    if rank == 0:
        settings = {k: getattr(args, k) for k in ("epochs", "train_maps", "val_maps", "test_maps", "batch_size",
                                                  "beta", "lr", "seed", "data_seed")}
        settings["data"] = str(args.data_dir) if args.data_dir else "generated"
        settings["world_size"] = world_size
        networks = {method: result.pop("network") for method, result in results.items()}
        for method, result in results.items():
            # The relaxed method's numbers sit at the top level; the baseline's under its name.
            (summary if method == "relaxed" else summary.setdefault(method, {})).update(result)
        summary.update(settings)
        if "relaxed" in results:
            summary["step_seconds"] = time_step(args.batch_size)
        summary["total_seconds"] = time.perf_counter() - started  # both methods, data, timing
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(summary, indent=2) + "\n")
        figure = args.figure or (args.out.with_suffix(".png") if args.out else None)
        if figure and "relaxed" in networks:
            figure.parent.mkdir(parents=True, exist_ok=True)
            save_figure(figure, networks["relaxed"], data["test"], args.beta)
        brief = {k: v for k, v in summary.items() if k != "history"}
        if "baseline" in brief:
            brief["baseline"] = {k: v for k, v in brief["baseline"].items() if k != "history"}
        print(json.dumps(brief, indent=2))
    if distributed:
        dist.destroy_process_group()
    return summary


if __name__ == "__main__":
    main()
