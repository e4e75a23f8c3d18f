"""Warcraft-style terrain maps for shortest-path supervision, in the original file layout.

Vlastelica et al. (ICLR 2020) published 12x12 Warcraft II maps; Petersen et al. (NeurIPS 2021, sec.
4.2) train on them.  That archive cannot be downloaded here, so ``generate`` writes a stand-in with
the same files, dtypes and shapes into a folder, and ``load_split`` reads either that folder or one
holding the original files (a drop-in)::

    {train,val,test}_maps.npy             (N, 96, 96, 3) uint8   the terrain image
    {train,val,test}_vertex_weights.npy   (N, 12, 12) float32    the hidden cost of every cell
    {train,val,test}_shortest_paths.npy   (N, 12, 12) uint8      1 on the cheapest path

with N = 10,000 / 1,000 / 1,000.  Our maps: five terrain classes with the original costs 0.8, 1.2,
5.3, 7.7 and 9.2, laid out by smoothed noise (five Gaussian-smoothed noise fields, the argmax per
cell), so terrain comes in patches as in the game.  Every cell is an 8x8 tile drawn procedurally:
a class colour jittered per tile, a class pattern (ripples, stripes, blobs, ...) with a random
phase, and pixel noise, so the network has to read the terrain from the image.

Labels come from ``dijkstra_path``, an exact Dijkstra with the conventions of
``shortest_path.py`` (node weights, 8-neighbourhood, top-left to bottom-right, the same tie rule).
Everything is deterministic in the seed; generated folders are cached on disk (``cached_dataset``).
"""

from __future__ import annotations

import heapq
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from shortest_path import OFFSETS, START

SPLITS = {"train": 10_000, "val": 1_000, "test": 1_000}
GRID = 12
TILE = 8
COSTS = np.array([0.8, 1.2, 5.3, 7.7, 9.2], dtype=np.float32)
# Where generated folders go unless told otherwise: git-ignored, beside the repository's code.
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "shortest_path"
FILES = ("maps", "vertex_weights", "shortest_paths")

# Mean RGB colour per terrain class (grass, sand, forest, hills, water) and how much it varies
# between tiles; the ranges overlap, so colour alone does not always decide the class.
PALETTE = np.array([[96, 160, 64], [196, 176, 110], [40, 100, 44], [132, 108, 80], [52, 92, 168]],
                   dtype=np.float32)
TILE_JITTER = 22.0
PIXEL_NOISE = 14.0
SMOOTHING = 1.2  # standard deviation, in cells, of the Gaussian that smooths the class noise


def dijkstra_path(weights: np.ndarray) -> np.ndarray:
    """The cheapest top-left to bottom-right path of one ``(H, W)`` grid of positive node weights.

    Distances follow ``dist[v] = weights[v] + min(dist of v's 8 neighbours)`` (``weights[start]``
    at the start), summed in Python floats in the order a path is walked, so they are bitwise the
    Bellman-Ford distances of ``shortest_path.py`` in float64.  The predecessor of ``v`` is the
    first of its 3x3 neighbourhood in row-major order (``OFFSETS``) with the least distance, the
    centre standing for the start.  Returns the ``(H, W)`` uint8 path matrix.
    """
    weights = np.asarray(weights)
    if weights.ndim != 2 or not np.isfinite(weights).all() or (weights <= 0).any():
        raise ValueError(f"need a 2-d grid of finite positive weights, got shape {weights.shape} "
                         f"with minimum {weights.min() if weights.size else None}")
    height, width = weights.shape
    cost = weights.tolist()
    dist = [[float("inf")] * width for _ in range(height)]
    dist[0][0] = cost[0][0]
    queue = [(dist[0][0], 0, 0)]
    done = [[False] * width for _ in range(height)]
    while queue:
        d, i, j = heapq.heappop(queue)
        if done[i][j]:
            continue
        done[i][j] = True
        for dy, dx in OFFSETS:
            y, x = i + dy, j + dx
            if 0 <= y < height and 0 <= x < width and not done[y][x]:
                candidate = d + cost[y][x]
                if candidate < dist[y][x]:
                    dist[y][x] = candidate
                    heapq.heappush(queue, (candidate, y, x))

    path = np.zeros((height, width), dtype=np.uint8)
    i, j = height - 1, width - 1
    path[i, j] = 1
    while (i, j) != (0, 0):
        best, step = None, None
        for k, (dy, dx) in enumerate(OFFSETS):
            y, x = i + dy, j + dx
            if k == START or not (0 <= y < height and 0 <= x < width):
                continue  # the start option matters only at (0, 0), where the walk has ended
            if best is None or dist[y][x] < best:
                best, step = dist[y][x], (y, x)
        i, j = step
        path[i, j] = 1
    return path


def _terrain(count: int, rng: np.random.Generator) -> np.ndarray:
    """``(count, 12, 12)`` class indices: the argmax over 5 smoothed noise fields."""
    radius = int(np.ceil(3 * SMOOTHING))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / SMOOTHING) ** 2)
    taps = torch.from_numpy(taps / taps.sum()).float()
    noise = torch.from_numpy(rng.standard_normal((count, len(COSTS), GRID, GRID), dtype=np.float32))
    # Separable Gaussian blur, one channel per class, reflecting at the border.
    flat = noise.reshape(-1, 1, GRID, GRID)
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="reflect"), taps.view(1, 1, 1, -1))
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="reflect"), taps.view(1, 1, -1, 1))
    return flat.reshape(noise.shape).argmax(1).numpy()


def _render(terrain: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(count, 96, 96, 3)`` uint8 images of ``(count, 12, 12)`` class maps, one 8x8 tile per cell."""
    count = len(terrain)
    colour = PALETTE[terrain] + rng.normal(0.0, TILE_JITTER, (count, GRID, GRID, 3)).astype(np.float32)
    phase = rng.uniform(0.0, 2 * np.pi, (count, GRID, GRID)).astype(np.float32)
    # Pixel coordinates inside a tile, against the phases of the tiles of one class (n, 1, 1).
    y, x = np.meshgrid(np.arange(TILE, dtype=np.float32), np.arange(TILE, dtype=np.float32), indexing="ij")
    patterns = [
        lambda ph: 0.3 * np.sin(2.2 * x + ph),                          # grass: fine vertical blades
        lambda ph: np.sin(0.9 * (x + y) + ph),                          # sand: diagonal ripples
        lambda ph: np.cos(1.6 * x + ph) * np.cos(1.6 * y + ph),         # forest: tree tops
        lambda ph: np.sign(np.sin(0.8 * y + ph)),                       # hills: hard horizontal ridges
        lambda ph: np.sin(1.2 * y + 0.4 * np.sin(1.5 * x) + ph),        # water: waves
    ]
    pattern = np.empty((count, GRID, GRID, TILE, TILE), dtype=np.float32)
    for terrain_class, draw in enumerate(patterns):
        where = terrain == terrain_class
        pattern[where] = draw(phase[where][:, None, None])
    shade = 1.0 + 0.18 * pattern + rng.normal(0.0, PIXEL_NOISE / 128, pattern.shape).astype(np.float32)
    tiles = colour[..., None, None, :] * shade[..., None]  # (count, GRID, GRID, TILE, TILE, 3)
    image = tiles.transpose(0, 1, 3, 2, 4, 5).reshape(count, GRID * TILE, GRID * TILE, 3)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def generate(folder: str | Path, seed: int = 0, sizes: dict[str, int] = SPLITS, chunk: int = 1_000) -> Path:
    """Write the three files of every split into ``folder`` (see the module docstring)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for index, (split, size) in enumerate(sizes.items()):
        rng = np.random.default_rng([seed, index])  # one stream per split
        maps, weights, paths = [], [], []
        for start in range(0, size, chunk):
            terrain = _terrain(min(chunk, size - start), rng)
            maps.append(_render(terrain, rng))
            weights.append(COSTS[terrain])
            paths.append(np.stack([dijkstra_path(w.astype(np.float64)) for w in weights[-1]]))
        for name, parts in zip(FILES, (maps, weights, paths)):
            # Write under a temporary name first, so an interrupted run leaves no half-written file.
            partial = folder / f"{split}_{name}.partial.npy"
            np.save(partial, np.concatenate(parts))
            partial.replace(folder / f"{split}_{name}.npy")
    return folder


def cached_dataset(seed: int = 0, sizes: dict[str, int] = SPLITS, cache: Path = CACHE) -> Path:
    """The folder of the generated data for ``seed`` (and ``sizes``), generated on first use."""
    tag = "-".join(f"{split}{size}" for split, size in sizes.items())
    folder = cache / f"seed{seed}-{tag}"
    if not all((folder / f"{split}_{name}.npy").is_file() for split in sizes for name in FILES):
        generate(folder, seed, sizes)
    return folder


def load_split(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(maps, vertex_weights, shortest_paths)`` of one split, checked against the layout."""
    folder = Path(folder)
    arrays = []
    for name in FILES:
        path = folder / f"{split}_{name}.npy"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: --data-dir must hold {{train,val,test}}_"
                                    f"{{{','.join(FILES)}}}.npy (the original 12x12 Warcraft layout)")
        arrays.append(np.load(path))
    maps, weights, paths = arrays
    count = len(maps)
    expected = {"maps": (count, GRID * TILE, GRID * TILE, 3), "vertex_weights": (count, GRID, GRID),
                "shortest_paths": (count, GRID, GRID)}
    for name, array in zip(FILES, arrays):
        if array.shape != expected[name]:
            raise ValueError(f"{folder / f'{split}_{name}.npy'} has shape {array.shape}, "
                             f"expected {expected[name]}")
    if (weights <= 0).any() or not np.isin(paths, (0, 1)).all():
        raise ValueError(f"{folder}: {split} weights must be positive and paths 0/1")
    return maps, weights.astype(np.float32), paths.astype(np.uint8)
