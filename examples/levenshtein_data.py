"""Letters and string pairs for the Levenshtein-supervision experiment (Petersen et al. 2021, sec. 4.4).

The paper draws handwritten letters from EMNIST "letters" (28x28, white on black, 26 classes with
upper and lower case merged). EMNIST cannot be downloaded here, so this module draws EMNIST-style
letters itself:

* **Glyphs**: the single-stroke vector fonts of the ``Hershey-Fonts`` package (pure Python, MIT,
  fonts built in, so nothing is downloaded). Each sample takes a font of its split and an upper- or
  lower-case glyph of the letter, as EMNIST merges the cases.
* **A simulated pen** (``draw_letter``): a random affine map (rotation, shear, scale), a smooth
  random warp, a smooth jitter along each stroke, and a random pen width, drawn on a 128x128 canvas
  (the resolution of the NIST forms EMNIST was cut from).
* **EMNIST's own post-processing** (``emnist_postprocess``, Cohen et al. 2017, sec. II-A): Gaussian
  blur with sigma = 1, crop to the ink, centre in a square frame keeping the aspect ratio, pad by
  2 pixels, bicubic resize to 28x28, scale the intensities to 0..255.

Fonts are disjoint between training (and validation) and test, to imitate EMNIST's writer-disjoint
test set. Generated letters are deterministic per seed and cached on disk as ``.npy`` files.

``emnist_pools`` reads the real EMNIST letters idx files instead (``emnist-letters-train-images-
idx3-ubyte`` and friends, transposed as EMNIST stores them), so the real data is a drop-in.

``sample_pairs`` draws the string pairs: a of 32 uniform letters, b made from a by k insertions and
k deletions, k uniform in {2, 3, 4} (see its docstring), with the true edit distance as the label.
"""

from __future__ import annotations

import functools
import os
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from levenshtein import levenshtein
from sorting_data import load_mnist_idx

ALPHABET = string.ascii_uppercase  # EMNIST letters: class c is ALPHABET[c], both cases merged
IMAGE_SIZE = 28
CANVAS_SIZE = 128
SPLITS = ("train", "val", "test")

# The Hershey fonts with all 52 Latin letters and distinct glyphs. Equal fonts are listed once
# (rowmans = futural, rowmand = futuram, cursive = scripts, timesrb = rowmant have identical glyphs,
# so putting one of a pair in each split would leak glyphs into the test set). The gothic
# (blackletter) fonts are left out: their letters are far from handwriting.
TRAIN_FONTS = ("futural", "scripts", "timesr", "timesi", "rowmant")
TEST_FONTS = ("futuram", "scriptc", "timesib")
# Validation letters come from the training fonts (new draws), as EMNIST's validation data would be
# cut from its training writers; the test fonts are never seen before the test.
SPLIT_FONTS = {"train": TRAIN_FONTS, "val": TRAIN_FONTS, "test": TEST_FONTS}
GENERATED_PER_CLASS = {"train": 1000, "val": 200, "test": 500}

# Bump when the drawing changes: it is part of every cache file name, so stale images are never read.
GENERATOR_VERSION = 1


@functools.cache
def glyph_strokes(font: str, char: str) -> tuple[np.ndarray, ...]:
    """The strokes of one glyph as float arrays ``(points, 2)`` of (x, y), y pointing down."""
    from HersheyFonts import HersheyFonts

    fonts = HersheyFonts()
    fonts.load_default_font(font)
    strokes = tuple(np.asarray(stroke, dtype=np.float64) for stroke in fonts.strokes_for_text(char))
    if not strokes:
        raise ValueError(f"Hershey font {font!r} has no glyph for {char!r}")
    return strokes


def emnist_postprocess(canvas: np.ndarray) -> np.ndarray:
    """EMNIST's conversion of a high-resolution letter (white ink on black) to 28x28 uint8.

    Gaussian blur (sigma = 1), crop to the ink (every pixel the blur left nonzero), centre in a
    square frame (aspect ratio kept), a 2-pixel border, bicubic resize to 28x28 (antialiased, as
    MATLAB's ``imresize`` that EMNIST used), intensities scaled so the brightest pixel is 255.
    """
    from scipy.ndimage import gaussian_filter

    blurred = gaussian_filter(np.asarray(canvas, dtype=np.float32), sigma=1.0)
    rows = np.flatnonzero(blurred.max(axis=1) > 0)
    cols = np.flatnonzero(blurred.max(axis=0) > 0)
    if len(rows) == 0:
        raise ValueError("emnist_postprocess: the canvas has no ink")
    ink = blurred[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    side = max(ink.shape)
    frame = np.zeros((side + 4, side + 4), dtype=np.float32)
    top, left = 2 + (side - ink.shape[0]) // 2, 2 + (side - ink.shape[1]) // 2
    frame[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    small = F.interpolate(torch.from_numpy(frame)[None, None], size=(IMAGE_SIZE, IMAGE_SIZE),
                          mode="bicubic", antialias=True, align_corners=False)[0, 0].clamp_(min=0)
    return (small * (255.0 / small.max())).round().to(torch.uint8).numpy()


def _resample(stroke: np.ndarray, spacing: float) -> np.ndarray:
    """Points along a polyline no further than ``spacing`` apart, so a warp can bend straight lines."""
    if len(stroke) < 2:
        return stroke
    lengths = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(lengths)])
    at = np.linspace(0.0, arc[-1], max(2, int(np.ceil(arc[-1] / spacing)) + 1))
    return np.stack([np.interp(at, arc, stroke[:, 0]), np.interp(at, arc, stroke[:, 1])], axis=1)


def draw_letter(strokes: tuple[np.ndarray, ...], rng: np.random.Generator) -> np.ndarray:
    """One glyph written with a simulated pen on a ``(128, 128)`` float canvas (ink = 255).

    The glyph is scaled so its larger side is 72 pixels, then distorted: a random affine map
    (rotation up to 12 degrees, shear up to 0.25, each axis scaled by up to 15 %), a smooth warp
    (three random sine waves, about 2 pixels each), a jitter that varies smoothly along each stroke, and
    a pen 5 to 11 pixels wide (2 to 4 pixels after the resize to 28x28, as EMNIST's strokes). The
    strokes are cut into segments of 2 pixels, short against the pen, so joints need no rounding.
    """
    from PIL import Image, ImageDraw
    from scipy.ndimage import uniform_filter1d

    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = 72.0 / max(float((high - low).max()), 1e-9)
    centre = (low + high) / 2

    angle, shear = np.deg2rad(rng.uniform(-12, 12)), rng.uniform(-0.25, 0.25)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    affine = rotation @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag(np.exp(rng.uniform(-0.15, 0.15, 2)))
    wave_vectors = rng.normal(0, 1.5 / CANVAS_SIZE, size=(3, 2)) * 2 * np.pi
    wave_phases = rng.uniform(0, 2 * np.pi, size=(3, 2))
    wave_amplitudes = rng.normal(0, 2.0, size=(3, 2))
    pen = rng.uniform(5, 11)

    image = Image.new("F", (CANVAS_SIZE, CANVAS_SIZE), 0.0)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        xy = (_resample(stroke, spacing=2.0 / scale) - centre) * scale @ affine.T
        # Smooth warp: each coordinate moves by a sum of sine waves of the position.
        phase = xy @ wave_vectors.T  # (points, 3)
        xy = xy + np.stack([(np.sin(phase + wave_phases[:, d]) * wave_amplitudes[:, d]).sum(axis=1)
                            for d in range(2)], axis=1)
        # Jitter: white noise smoothed along the stroke, so the line wobbles instead of fraying.
        xy = xy + uniform_filter1d(rng.normal(0, 1.2, size=xy.shape), size=5, axis=0, mode="nearest")
        xy = xy + CANVAS_SIZE / 2
        coords = [tuple(p) for p in xy]
        if len(coords) > 1:
            draw.line(coords, fill=255.0, width=int(round(pen)))
        for x, y in (coords[0], coords[-1]):  # round pen tips
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=255.0)
    return np.asarray(image, dtype=np.float32)


def generate_letters(letter: str, split: str, count: int, seed: int = 0) -> np.ndarray:
    """``count`` EMNIST-style images ``(count, 28, 28)`` uint8 of one letter, from ``split``'s fonts."""
    if letter not in ALPHABET:
        raise ValueError(f"letter must be one of {ALPHABET}, got {letter!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    rng = np.random.default_rng([seed, SPLITS.index(split), ALPHABET.index(letter)])
    fonts = SPLIT_FONTS[split]
    images = np.empty((count, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for i in range(count):
        font = fonts[rng.integers(len(fonts))]
        char = letter if rng.random() < 0.5 else letter.lower()
        images[i] = emnist_postprocess(draw_letter(glyph_strokes(font, char), rng))
    return images


def default_cache_dir() -> Path:
    """``$RELAXC_CACHE`` or ``.cache/`` at the repository root (git-ignored)."""
    return Path(os.environ.get("RELAXC_CACHE", Path(__file__).resolve().parent.parent / ".cache"))


def cached_letters(letter: str, split: str, count: int, seed: int = 0, cache_dir: Path | None = None) -> np.ndarray:
    """``generate_letters``, read from the cache when it was generated before."""
    folder = Path(cache_dir or default_cache_dir()) / "letters"
    path = folder / f"{letter}_{split}_{count}_seed{seed}_v{GENERATOR_VERSION}.npy"
    if path.is_file():
        return np.load(path)
    images = generate_letters(letter, split, count, seed)
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp.npy")  # concurrent runs never read half a file
    np.save(partial, images)
    partial.replace(path)
    return images


@dataclass(frozen=True)
class LetterPools:
    """Letter images plus, per split, the image indices of each letter of the setting."""

    letters: str  # the setting's alphabet, e.g. "OX"; class i of the strings is letters[i]
    images: np.ndarray  # (N, 28, 28) uint8, white on black
    labels: np.ndarray  # (N,) int64 index into ``letters``
    pools: dict[str, tuple[np.ndarray, ...]]  # split -> one index array per letter


def _check_letters(letters: str) -> None:
    if len(letters) < 2 or len(set(letters)) != len(letters) or not set(letters) <= set(ALPHABET):
        raise ValueError(f"letters must be two or more distinct capitals A-Z, got {letters!r}")


def generated_pools(letters: str, seed: int = 0, cache_dir: Path | None = None,
                    per_class: dict[str, int] = GENERATED_PER_CLASS) -> LetterPools:
    """Generated letters of the setting, ``per_class`` images per letter and split."""
    _check_letters(letters)
    images, labels, pools, start = [], [], {split: [] for split in SPLITS}, 0
    for split in SPLITS:
        for label, letter in enumerate(letters):
            chunk = cached_letters(letter, split, per_class[split], seed, cache_dir)
            images.append(chunk)
            labels.append(np.full(len(chunk), label, dtype=np.int64))
            pools[split].append(np.arange(start, start + len(chunk)))
            start += len(chunk)
    return LetterPools(letters, np.concatenate(images), np.concatenate(labels),
                       {split: tuple(pools[split]) for split in SPLITS})


def load_emnist_letters(folder: str | Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    """EMNIST letters ``part`` (``"train"`` or ``"test"``): upright images and labels 0..25 (A..Z).

    EMNIST stores each image transposed and labels the letters 1..26.
    """
    images, labels = load_mnist_idx(folder, f"emnist-letters-{part}")
    if labels.min() < 1 or labels.max() > len(ALPHABET):
        raise ValueError(f"{folder}: EMNIST letters labels must lie in 1..26")
    return np.ascontiguousarray(images.transpose(0, 2, 1)), labels - 1


def emnist_pools(folder: str | Path, letters: str, seed: int = 0, val_per_class: int = 500) -> LetterPools:
    """Real EMNIST letters: validation and training from the training file, test = the test file."""
    _check_letters(letters)
    train_images, train_labels = load_emnist_letters(folder, "train")
    test_images, test_labels = load_emnist_letters(folder, "test")
    rng = np.random.default_rng(seed)
    pools = {split: [] for split in SPLITS}
    offset = len(train_images)
    for letter in letters:
        members = rng.permutation(np.flatnonzero(train_labels == ALPHABET.index(letter)))
        if len(members) <= val_per_class:
            raise ValueError(f"{folder}: {len(members)} training images of {letter}, too few for {val_per_class} "
                             "validation images and some training images")
        pools["val"].append(members[:val_per_class])
        pools["train"].append(members[val_per_class:])
        pools["test"].append(np.flatnonzero(test_labels == ALPHABET.index(letter)) + offset)
    # Keep only the setting's letters, relabelled 0..k-1.
    keep = np.concatenate([index for split in SPLITS for index in pools[split]])
    new_index = np.full(offset + len(test_images), -1, dtype=np.int64)
    new_index[keep] = np.arange(len(keep))
    all_images = np.concatenate([train_images, test_images])[keep]
    all_labels = np.array([letters.index(ALPHABET[c]) for c in np.concatenate([train_labels, test_labels])[keep]])
    return LetterPools(letters, all_images, all_labels.astype(np.int64),
                       {split: tuple(new_index[index] for index in pools[split]) for split in SPLITS})


def sample_pairs(alphabet_size: int, batch: int, rng: np.random.Generator,
                 length: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """String pairs ``(a, b, distance)``: ``(batch, length)`` letter codes and ``(batch,)`` distances.

    a is ``length`` letters drawn uniformly from ``range(alphabet_size)``. b is made from a by k
    insertions (a uniform letter at a uniform position) and k deletions (a uniform position), in a
    uniformly shuffled order, with k uniform in {2, 3, 4}. As there are as many insertions as
    deletions, b has a's length: nothing is cut or padded. The label is the true edit distance of
    the two strings (at most 2k, less where edits cancel or a cheaper alignment exists), computed by
    the plain-Python ``levenshtein`` of examples/levenshtein.py.
    """
    if alphabet_size < 2 or length < 1:
        raise ValueError("sample_pairs needs an alphabet of two or more letters and a positive length")
    a = rng.integers(0, alphabet_size, size=(batch, length))
    b = np.empty_like(a)
    distances = np.empty(batch, dtype=np.int64)
    for row in range(batch):
        edited = a[row].tolist()
        k = int(rng.integers(2, 5))
        for insertion in rng.permutation([True] * k + [False] * k):
            if insertion:
                edited.insert(int(rng.integers(0, len(edited) + 1)), int(rng.integers(0, alphabet_size)))
            else:
                del edited[int(rng.integers(0, len(edited)))]
        b[row] = edited
        distances[row] = levenshtein(a[row].tolist(), edited)[-1][-1]
    return a, b, distances


def letter_images(data: LetterPools, split: str, codes: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """Images ``codes.shape + (1, 28, 28)`` in [0, 1]: each code drawn (with replacement) from its pool."""
    index = np.empty(codes.shape, dtype=np.int64)
    for label, pool in enumerate(data.pools[split]):
        where = codes == label
        index[where] = pool[rng.integers(0, len(pool), size=int(where.sum()))]
    return torch.from_numpy(data.images[index]).float().div_(255.0).unsqueeze(-3)
