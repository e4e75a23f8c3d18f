"""Silhouette supervision for single-view 3D reconstruction (Petersen et al., NeurIPS 2021, sec. 4.3).

A network reads one 64x64 RGBA image of an object and deforms a sphere (642 vertices, 1,280 faces)
into its mesh. The only supervision is the object's silhouette from two random views out of 24:
the predicted mesh is rendered from both by a relaxed rasteriser and compared with the true alpha
by the IoU loss. The network and the regularisers are those of Kato et al. (NMR) / Liu et al.
(SoftRas): a three-layer convolutional encoder, fully connected decoder to per-vertex displacements,
Laplacian and flatten losses, Adam. Evaluation: 3D IoU of the predicted mesh voxelised at 32^3
against the stored voxels, per class and mean over classes.

Renderers (``--renderer``): ``three_edges`` and ``euclidean`` are plain Python compiled by relaxc
(examples/silhouette.py); ``softras`` is SoftRas' aggregation in torch, the paper's baseline.

Runs as one process, or data-parallel under torchrun (gloo, CPU), e.g.::

    python examples/silhouette_supervision.py --quick --out quick.json
    torchrun --nproc-per-node 2 examples/silhouette_supervision.py -- --renderer euclidean --out e.json

Data: ``--data-dir`` with NMR's files (``<classid>_<split>_images.npz`` / ``_voxels.npz``); by
default procedural stand-ins are generated once into ``.cache/shapes/`` (examples/shapes_data.py).
The model is selected by validation mean IoU; test metrics are reported for that model.
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
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from experiment_setup import checkpoint_to_resume, fill_budget, start_processes
import shapes_data
import silhouette

# Budgets. SoftRas trains for 250,000 steps of 64 objects on a GPU; FULL is about 10-20 minutes of one
# CPU core per renderer (docs/experiments/silhouettes.md), QUICK a smoke run of a few minutes on
# three bulky classes, where a short run can already beat the sphere.
FULL = {"steps": 60, "eval_every": 20, "objects_per_class": 60, "eval_views": 2, "lr": 3e-3,
        "classes": ",".join(shapes_data.CLASS_IDS)}
QUICK = {"steps": 40, "eval_every": 20, "objects_per_class": 20, "eval_views": 2, "lr": 3e-3,
         "classes": "cabinet,car,loudspeaker"}

STREAMS = {"train": 0, "val": 1, "test": 2}
LAMBDA_LAPLACIAN = 5e-3   # SoftRas' weights for single-view reconstruction
LAMBDA_FLATTEN = 5e-4
RESUME_KEYS = ("renderer", "beta", "batch_size", "lr", "seed", "data_seed", "classes", "objects_per_class", "data_dir")
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "shapes"


# ---------------------------------------------------------------- model


class Encoder(nn.Module):
    """NMR's / SoftRas' image encoder: 64x64x4 -> 512 features."""

    def __init__(self, channels: int = 4, features: int = 512):
        super().__init__()
        layers, width = [], channels
        for out in (64, 128, 256):
            layers += [nn.Conv2d(width, out, 5, stride=2, padding=2), nn.BatchNorm2d(out), nn.ReLU()]
            width = out
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(256 * 8 * 8, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
                                nn.Linear(1024, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
                                nn.Linear(1024, features), nn.ReLU())

    def forward(self, images):
        return self.fc(self.convs(images))


class Decoder(nn.Module):
    """SoftRas' mesh decoder: features -> a deformed sphere (displacements and a centroid).

    As in SoftRas: with ``base`` the sphere of radius 0.5, v = sigmoid(logit(|base|) + bias)·sign(base)
    lies in (-1, 1) on its side of each coordinate plane; it is moved towards the centroid and halved,
    so vertices stay inside [-0.5, 0.5]^3 and zero output gives the sphere of radius 0.25.
    """

    def __init__(self, features: int = 512, centroid_scale: float = 0.1, bias_scale: float = 1.0):
        super().__init__()
        vertices, faces = shapes_data.icosphere(3)
        base = 0.5 * vertices.float()
        self.register_buffer("faces", faces)
        self.register_buffer("sign", torch.sign(base))
        self.register_buffer("logit", torch.logit(base.abs().clamp(1e-6, 1 - 1e-6)))
        self.centroid_scale, self.bias_scale = centroid_scale, bias_scale
        self.fc = nn.Sequential(nn.Linear(features, 1024), nn.ReLU(), nn.Linear(1024, 2048), nn.ReLU())
        self.centroid = nn.Linear(2048, 3)
        self.bias = nn.Linear(2048, vertices.numel())

    def forward(self, features):
        hidden = self.fc(features)
        centroid = torch.tanh(self.centroid(hidden)).unsqueeze(1) * self.centroid_scale
        bias = self.bias(hidden).view(len(features), -1, 3) * self.bias_scale
        vertices = torch.sigmoid(self.logit + bias) * self.sign
        vertices = F.relu(vertices) * (1 - centroid) - F.relu(-vertices) * (1 + centroid)
        return 0.5 * (vertices + centroid)


class Reconstructor(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = Encoder(), Decoder()

    def forward(self, images):
        return self.decoder(self.encoder(images))


def mesh_regularisers(vertices: torch.Tensor, faces: torch.Tensor, laplacian: torch.Tensor,
                      pairs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """SoftRas' Laplacian loss (each vertex minus its neighbours' mean, squared) and flatten loss
    ((1 - cos)² of the angle between the normals of the two faces at each edge), per mesh."""
    laplacian_loss = (laplacian @ vertices).pow(2).sum(dim=(1, 2))
    a, b, c = vertices[:, faces].unbind(dim=2)
    normals = F.normalize(torch.linalg.cross(b - a, c - a), dim=-1, eps=1e-12)
    cos = (normals[:, pairs[:, 0]] * normals[:, pairs[:, 1]]).sum(-1)
    return laplacian_loss, (1 - cos).pow(2).sum(dim=1)


def mesh_operators(faces: torch.Tensor, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The uniform Laplacian ``(V, V)`` (identity minus neighbour mean) and the face pairs at each edge."""
    edges: dict[tuple[int, int], list[int]] = {}
    for f, (a, b, c) in enumerate(faces.tolist()):
        for u, v in ((a, b), (b, c), (c, a)):
            edges.setdefault((min(u, v), max(u, v)), []).append(f)
    adjacency = torch.zeros(count, count)
    for u, v in edges:
        adjacency[u, v] = adjacency[v, u] = 1
    laplacian = torch.eye(count) - adjacency / adjacency.sum(1, keepdim=True)
    return laplacian, torch.tensor([pair for pair in edges.values() if len(pair) == 2])


def iou_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - soft IoU per image, SoftRas' ``iou_loss``."""
    dims = tuple(range(1, predicted.dim()))
    intersection = (predicted * target).sum(dims)
    union = (predicted + target - predicted * target).sum(dims) + 1e-6
    return 1 - intersection / union


# ---------------------------------------------------------------- data


class Shapes:
    """Images and voxels of each class and split, read from NMR's files."""

    def __init__(self, folder: Path, classes: list[str]):
        self.classes = classes
        self.images, self.voxels = {}, {}
        for name in classes:
            for split in shapes_data.SPLITS:
                self.images[name, split], self.voxels[name, split] = shapes_data.load_split(folder, name, split)

    def training_batch(self, batch: int, rng: np.random.Generator):
        """``batch`` objects of random classes, each with two distinct random views.

        Returns images (2, B, 4, 64, 64) float in [0, 1] and azimuths (2, B) in degrees.
        """
        images, azimuths = [], []
        for _ in range(batch):
            name = self.classes[rng.integers(len(self.classes))]
            pool = self.images[name, "train"]
            views = rng.choice(shapes_data.VIEWS, size=2, replace=False)
            images.append(pool[rng.integers(len(pool)), views])
            azimuths.append(15.0 * views)
        images = torch.from_numpy(np.stack(images, axis=1)).float().div_(255)
        return images, torch.from_numpy(np.stack(azimuths, axis=1)).float()


def data_folder(args: argparse.Namespace) -> Path:
    """The NMR files: ``--data-dir``, or procedural ones generated once into the cache."""
    if args.data_dir:
        return Path(args.data_dir)
    folder = CACHE / f"seed{args.data_seed}-n{args.objects_per_class}"
    shapes_data.generate(folder, args.class_list, shapes_data.default_sizes(args.objects_per_class),
                         seed=args.data_seed, progress=print)
    return folder


# ---------------------------------------------------------------- evaluation


@torch.no_grad()
def evaluate(model: Reconstructor, data: Shapes, split: str, views: int, chunk: int = 8) -> dict[str, float]:
    """Mean 3D IoU per class over every object of ``split`` seen from ``views`` evenly spaced views."""
    model.eval()
    faces = model.decoder.faces
    per_class = {}
    for name in data.classes:
        images, voxels = data.images[name, split], torch.from_numpy(data.voxels[name, split])
        scores = []
        for view in range(0, shapes_data.VIEWS, shapes_data.VIEWS // views):
            for start in range(0, len(images), chunk):
                batch = torch.from_numpy(images[start:start + chunk, view]).float().div_(255)
                predicted = shapes_data.voxelize_mesh(model(batch).double(), faces)
                scores.append(shapes_data.voxel_iou(predicted, voxels[start:start + chunk]))
        per_class[name] = torch.cat(scores).mean().item()
    model.train()
    return per_class


def sphere_iou(data: Shapes, split: str) -> dict[str, float]:
    """The undeformed template's 3D IoU per class: the baseline a trained model must beat."""
    vertices, faces = shapes_data.icosphere(3)
    sphere = shapes_data.voxelize_mesh(0.25 * vertices[None], faces)   # the decoder's template
    return {name: shapes_data.voxel_iou(sphere.expand(len(v), -1, -1, -1), torch.from_numpy(v)).mean().item()
            for name in data.classes for v in [data.voxels[name, split]]}


# ---------------------------------------------------------------- figures


def _figure_module():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


@torch.no_grad()
def save_figures(out: Path, model: Reconstructor, data: Shapes, args: argparse.Namespace, shown: int = 4) -> None:
    """Two PNGs next to ``out`` for the first test object of up to ``shown`` classes.

    ``_silhouettes.png`` (the paper's Figure 4): the input image, its true silhouette and the
    prediction's silhouette from the same view by each renderer, relaxed at its default temperature,
    and hard. ``_meshes.png``: the predicted meshes, shaded, from four azimuths.
    """
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    plt = _figure_module()
    model.eval()
    names = data.classes[:shown]
    view = 0
    inputs = torch.from_numpy(np.stack([data.images[name, "test"][0, view] for name in names])).float() / 255
    vertices = model(inputs)
    faces = model.decoder.faces
    screen = shapes_data.project(vertices, torch.full((len(names),), 15.0 * view))
    columns = [("input", None), ("true silhouette", None)] + [(r, "relaxed") for r in silhouette.RENDERERS] + [
        ("three_edges", "hard")]
    fig, axes = plt.subplots(len(names), len(columns), figsize=(1.6 * len(columns), 1.7 * len(names)), squeeze=False)
    images = {r: silhouette.render(r, screen, faces, shapes_data.IMAGE_SIZE, mode=mode) for r, mode in columns[2:]}
    for row, name in enumerate(names):
        for col, (title, mode) in enumerate(columns):
            ax = axes[row, col]
            if col == 0:
                ax.imshow(inputs[row, :3].permute(1, 2, 0).numpy())
            elif col == 1:
                ax.imshow(inputs[row, 3].numpy(), cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(images[title][row].numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(title if mode is None else f"{title}\n({mode})", fontsize=7)
        axes[row, 0].set_ylabel(name, fontsize=7)
    fig.suptitle(f"prediction of the model trained with {args.renderer}", fontsize=8)
    fig.tight_layout()
    fig.savefig(out.with_name(out.stem + "_silhouettes.png"), dpi=110)
    plt.close(fig)

    azimuths = (0, 90, 180, 270)
    fig = plt.figure(figsize=(1.8 * (len(azimuths) + 1), 1.8 * len(names)))
    light = np.array([0.3, 0.8, -0.5]) / np.linalg.norm([0.3, 0.8, -0.5])
    for row, name in enumerate(names):
        ax = fig.add_subplot(len(names), len(azimuths) + 1, row * (len(azimuths) + 1) + 1)
        ax.imshow(inputs[row, :3].permute(1, 2, 0).numpy())
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(name, fontsize=7)
        mesh = vertices[row].numpy()
        triangles = mesh[faces.numpy()]
        normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
        normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
        shade = 0.35 + 0.65 * np.clip(normals @ light, 0, 1)
        for col, azimuth in enumerate(azimuths):
            ax = fig.add_subplot(len(names), len(azimuths) + 1, row * (len(azimuths) + 1) + col + 2, projection="3d")
            # matplotlib's z is our y (up); its view azimuth is measured from its x axis.
            colours = np.c_[0.6 * shade, 0.75 * shade, shade, np.ones_like(shade)]
            ax.add_collection3d(Poly3DCollection(triangles[:, :, [0, 2, 1]], facecolors=colours, edgecolor="none"))
            ax.set(xlim=(-0.5, 0.5), ylim=(-0.5, 0.5), zlim=(-0.5, 0.5))
            ax.view_init(elev=30, azim=-90 - azimuth)
            ax.set_axis_off()
            if row == 0:
                ax.set_title(f"azimuth {azimuth}°", fontsize=7)
    fig.suptitle(f"reconstructed meshes ({args.renderer})", fontsize=8)
    fig.tight_layout()
    fig.savefig(out.with_name(out.stem + "_meshes.png"), dpi=110)
    plt.close(fig)
    model.train()


def plot_curves(results: list[Path], out: Path) -> None:
    """Validation mean IoU over steps of several runs (one line per JSON), with the sphere's level."""
    plt = _figure_module()
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for path in results:
        run = json.loads(Path(path).read_text())
        history = run["history"]
        ax.plot(history["eval_step"], history["val_mean_iou"], marker="o", label=run["renderer"])
    ax.axhline(run["sphere_iou"], color="gray", linestyle="--", label="undeformed sphere (test)")
    ax.set(xlabel="step (batch of 2 objects, 2 views each)", ylabel="validation mean 3D IoU",
           title="silhouette supervision, same budget")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- training


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # Euclidean by default: the paper's better relaxed renderer, and the one that learns fastest in
    # a short run here (docs/experiments/silhouettes.md); three edges' edges are far sharper.
    parser.add_argument("--renderer", choices=silhouette.RENDERERS, default="euclidean")
    parser.add_argument("--beta", type=float, help="temperature in NDC² (default: the paper's for the renderer; sigma for softras)")
    parser.add_argument("--classes", help=f"comma-separated class names (default all 13; quick {QUICK['classes']})")
    parser.add_argument("--steps", type=int, help=f"optimiser steps (default {FULL['steps']})")
    parser.add_argument("--batch-size", type=int, default=2, help="objects per step over all processes (the paper's 2)")
    parser.add_argument("--lr", type=float, help=f"Adam learning rate (default {FULL['lr']})")
    parser.add_argument("--seed", type=int, default=0, help="model initialisation and training batches")
    parser.add_argument("--data-seed", type=int, default=0, help="the generated objects")
    parser.add_argument("--objects-per-class", type=int, help="generated objects per class, 70/10/20% train/val/test")
    parser.add_argument("--eval-every", type=int, help="steps between validations")
    parser.add_argument("--eval-views", type=int, help="evenly spaced input views per object in evaluation (24: all)")
    parser.add_argument("--data-dir", help="folder with NMR's <classid>_<split>_images/voxels.npz (default: generated)")
    parser.add_argument("--quick", action="store_true", help="small budget: " + json.dumps(QUICK))
    parser.add_argument("--out", type=Path, help="JSON summary; PNGs are written next to it")
    parser.add_argument("--checkpoint-dir", type=Path, help="save best.pt/last.pt here; resume from last.pt")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--plot", type=Path, nargs="+", metavar="RESULT_JSON",
                        help="no training: plot these runs' validation curves into --out (a PNG)")
    args = parser.parse_args(argv)
    fill_budget(args, QUICK, FULL)
    args.class_list = [name.strip() for name in args.classes.split(",") if name.strip()]
    unknown = sorted(set(args.class_list) - set(shapes_data.CLASS_IDS))
    if unknown or not args.class_list:
        parser.error(f"unknown classes {unknown}; choose from {', '.join(shapes_data.CLASS_IDS)}")
    if shapes_data.VIEWS % args.eval_views:
        parser.error("--eval-views must divide 24")
    if args.objects_per_class < 3:
        parser.error("--objects-per-class must be at least 3 (one per split)")
    return args


def render_views(args, vertices: torch.Tensor, faces: torch.Tensor, azimuths: torch.Tensor) -> torch.Tensor:
    """Silhouettes (views, B, 64, 64) of meshes (B, V, 3) from azimuths (views, B), one renderer call."""
    views, batch = azimuths.shape
    screen = shapes_data.project(vertices.repeat(views, 1, 1), azimuths.reshape(-1))
    return silhouette.render(args.renderer, screen, faces, shapes_data.IMAGE_SIZE, beta=args.beta).reshape(
        views, batch, shapes_data.IMAGE_SIZE, shapes_data.IMAGE_SIZE)


def train(args: argparse.Namespace) -> tuple[Reconstructor, dict]:
    started = time.perf_counter()
    distributed, rank, world_size = start_processes(args.batch_size)
    local_batch = args.batch_size // world_size
    lead = rank == 0   # rank 0 generates data, evaluates, checkpoints and reports

    if lead:
        data_folder(args)   # generates what is missing
    if distributed:
        dist.barrier()      # the others wait until it is there
    data = Shapes(data_folder(args), args.class_list)

    torch.manual_seed(args.seed)
    model = Reconstructor()
    faces = model.decoder.faces
    laplacian, pairs = mesh_operators(faces, len(model.decoder.sign))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999))
    history = {"loss": [], "eval_step": [], "val_mean_iou": []}
    best = {"val_mean_iou": -1.0, "step": 0, "state": copy.deepcopy(model.state_dict())}
    start_step, earlier_seconds = 0, 0.0
    last_path = args.checkpoint_dir / "last.pt" if args.checkpoint_dir else None
    checkpoint = checkpoint_to_resume(last_path, args, RESUME_KEYS)
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        history, best, start_step = checkpoint["history"], checkpoint["best"], checkpoint["step"]
        earlier_seconds = checkpoint.get("train_seconds", 0.0)   # training time before the resume

    def validate(done: int) -> float:
        val_mean = float(np.mean(list(evaluate(model, data, "val", args.eval_views).values())))
        history["eval_step"].append(done)
        history["val_mean_iou"].append(val_mean)
        return val_mean

    if lead and start_step == 0:   # the untrained network: where every curve starts
        best["val_mean_iou"] = validate(0)
    network = DistributedDataParallel(model) if distributed else model
    progress = tqdm(range(start_step, args.steps), initial=start_step, total=args.steps,
                    disable=not lead or args.no_progress, desc=args.renderer)
    for step in progress:
        # One generator per (seed, rank, step): a resumed run sees the batches an uninterrupted one would.
        rng = np.random.default_rng([STREAMS["train"], args.seed, rank, step])
        images, azimuths = data.training_batch(local_batch, rng)
        vertices = network(images[0])
        rendered = render_views(args, vertices, faces, azimuths)
        laplacian_loss, flatten_loss = mesh_regularisers(vertices, faces, laplacian, pairs)
        loss = (iou_loss(rendered[0], images[0, :, 3]) + iou_loss(rendered[1], images[1, :, 3])
                + LAMBDA_LAPLACIAN * laplacian_loss + LAMBDA_FLATTEN * flatten_loss).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        history["loss"].append(loss.item())

        done = step + 1
        if lead and (done % args.eval_every == 0 or done == args.steps):
            val_mean = validate(done)
            if val_mean > best["val_mean_iou"]:
                best = {"val_mean_iou": val_mean, "step": done, "state": copy.deepcopy(model.state_dict())}
            if args.checkpoint_dir:
                args.checkpoint_dir.mkdir(parents=True, exist_ok=True)
                torch.save({"model": best["state"], "step": best["step"], "args": vars(args)},
                           args.checkpoint_dir / "best.pt")
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": done,
                            "history": history, "best": best, "args": vars(args),
                            "train_seconds": earlier_seconds + time.perf_counter() - started}, last_path)
            progress.set_postfix(loss=f"{np.mean(history['loss'][-args.eval_every:]):.3f}", val_iou=f"{val_mean:.3f}")
    train_seconds = earlier_seconds + time.perf_counter() - started

    summary = {}
    if lead:
        model.load_state_dict(best["state"])
        test = evaluate(model, data, "test", args.eval_views)
        sphere = sphere_iou(data, "test")
        summary = {
            "renderer": args.renderer,
            "beta": args.beta if args.beta is not None else {"three_edges": silhouette.BETA_THREE_EDGES,
                                                             "euclidean": silhouette.BETA_EUCLIDEAN,
                                                             "softras": silhouette.SIGMA_SOFTRAS}[args.renderer],
            "steps": len(history["loss"]), "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
            "classes": args.class_list,
            "data": args.data_dir and "nmr-files" or f"generated seed {args.data_seed}, {args.objects_per_class} objects per class",
            "test_objects": {name: len(data.voxels[name, "test"]) for name in args.class_list},
            "eval_views": args.eval_views, "world_size": world_size, "best_step": best["step"],
            "val_mean_iou": best["val_mean_iou"],
            "per_class_iou": test, "mean_iou": float(np.mean(list(test.values()))),
            "sphere_per_class_iou": sphere, "sphere_iou": float(np.mean(list(sphere.values()))),
            "train_seconds": train_seconds,
        }
        summary["seconds"] = time.perf_counter() - started
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            save_figures(args.out, model, data, args)
            summary["seconds"] = time.perf_counter() - started
            args.out.write_text(json.dumps({**summary, "history": history}, indent=2) + "\n")
    if distributed:
        dist.destroy_process_group()
    summary["history"] = history
    return model, summary


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.plot:
        plot_curves(args.plot, args.out or Path("silhouette_curves.png"))
        return {}
    _, summary = train(args)
    if "mean_iou" in summary:   # only rank 0 evaluates
        print(json.dumps({k: v for k, v in summary.items() if k != "history"}, indent=2))
    return summary


if __name__ == "__main__":
    main()
