"""Tests of the Levenshtein-supervision experiment (examples/levenshtein_*.py).

The oracles: the plain-Python edit distance for the string pairs, a permuted perfect classifier for
the Hungarian evaluation, EMNIST's conversion steps on hand-made canvases, the hard mode and plain
Python for the relaxed distance, and a tiny idx folder for the EMNIST drop-in. The quick training
run is marked slow.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))  # the examples are scripts, not an installed package

import levenshtein_data  # noqa: E402
import levenshtein_supervision  # noqa: E402
from levenshtein import levenshtein  # noqa: E402
from test_sorting_experiment import write_idx  # noqa: E402

needs_generator = pytest.mark.skipif(
    importlib.util.find_spec("HersheyFonts") is None or importlib.util.find_spec("scipy") is None,
    reason="the letters are drawn from the Hershey-Fonts package and post-processed with scipy",
)
needs_scipy = pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="the Hungarian method is scipy's")


# ---------------------------------------------------------------- generator


def bar_canvas(top: int, left: int, height: int, width: int) -> np.ndarray:
    canvas = np.zeros((128, 128), dtype=np.float32)
    canvas[top : top + height, left : left + width] = 255.0
    return canvas


@needs_scipy
def test_emnist_postprocess_crops_centres_and_keeps_the_aspect_ratio():
    wide = levenshtein_data.emnist_postprocess(bar_canvas(30, 10, 12, 90))
    assert wide.shape == (28, 28) and wide.dtype == np.uint8 and wide.max() == 255
    # Crop to the ink: where the ink was on the canvas does not matter.
    np.testing.assert_array_equal(wide, levenshtein_data.emnist_postprocess(bar_canvas(100, 30, 12, 90)))
    # Centred in a square: symmetric about both axes, as the bar is.
    np.testing.assert_array_equal(wide, wide[::-1, :])
    np.testing.assert_array_equal(wide, wide[:, ::-1])
    # Aspect ratio kept: the long side fills the frame but for the 2-pixel border (blurred, it is
    # 98 + 8 wide in a 110-pixel frame), the short side keeps its proportion (20 of 110 pixels).
    ink_rows = np.flatnonzero(wide.max(axis=1) > 127)
    ink_cols = np.flatnonzero(wide.max(axis=0) > 127)
    assert len(ink_cols) >= 24 and 2 <= len(ink_rows) <= 6
    # The transposed bar gives the transposed image (no axis is treated differently).
    np.testing.assert_array_equal(wide.T, levenshtein_data.emnist_postprocess(bar_canvas(10, 30, 90, 12)))
    with pytest.raises(ValueError, match="no ink"):
        levenshtein_data.emnist_postprocess(np.zeros((128, 128)))


@needs_scipy
def test_emnist_postprocess_on_a_square_is_the_closed_form():
    # A 16x16 square of ink. The blur (sigma = 1, the sampled kernel cut at 4 sigma) widens it to
    # 24x24, the 2-pixel border makes the frame 28x28, so the resize changes nothing: the result
    # is the blurred square, which is separable, scaled so its peak is 255.
    canvas = bar_canvas(40, 60, 16, 16)
    kernel = np.exp(-0.5 * np.arange(-4, 5) ** 2)
    kernel /= kernel.sum()
    profile = np.array([kernel[np.clip(x - np.arange(4, 20) + 4, 0, 8)][np.abs(x - np.arange(4, 20)) <= 4].sum()
                        for x in range(24)])
    expected = np.zeros((28, 28))
    expected[2:26, 2:26] = np.outer(profile, profile)
    expected *= 255 / expected.max()
    result = levenshtein_data.emnist_postprocess(canvas).astype(float)
    assert np.abs(result - expected).max() <= 1.0


@needs_generator
def test_generated_letters_are_emnist_shaped_and_deterministic(tmp_path):
    images = levenshtein_data.generate_letters("O", "train", 6, seed=1)
    assert images.shape == (6, 28, 28) and images.dtype == np.uint8
    assert (images.max(axis=(1, 2)) == 255).all()
    # White on black with a border: the corners are background.
    assert (images[:, [0, 0, -1, -1], [0, -1, 0, -1]] < 30).all()
    np.testing.assert_array_equal(images, levenshtein_data.generate_letters("O", "train", 6, seed=1))
    assert not np.array_equal(images, levenshtein_data.generate_letters("O", "train", 6, seed=2))
    assert not np.array_equal(images, levenshtein_data.generate_letters("O", "val", 6, seed=1))
    # The cache returns what the generator made, and reads it back from the disk.
    cached = levenshtein_data.cached_letters("O", "train", 6, seed=1, cache_dir=tmp_path)
    np.testing.assert_array_equal(cached, images)
    (path,) = (tmp_path / "letters").glob("O_train_6_seed1_*.npy")
    np.save(path, np.zeros_like(images))  # a changed file proves the second call reads the disk
    assert levenshtein_data.cached_letters("O", "train", 6, seed=1, cache_dir=tmp_path).max() == 0
    with pytest.raises(ValueError):
        levenshtein_data.generate_letters("o", "train", 1)
    with pytest.raises(ValueError):
        levenshtein_data.generate_letters("O", "dev", 1)


@needs_generator
def test_generated_letters_look_like_their_letter():
    # An O is a ring: its centre is dark, its ink far from the centre. An I or L is not.
    o = levenshtein_data.generate_letters("O", "test", 20, seed=0).astype(float)
    i = levenshtein_data.generate_letters("I", "test", 20, seed=0).astype(float)
    assert o[:, 12:16, 12:16].mean() < 0.5 * o.mean()
    assert i.mean() < o.mean()  # a stroke or two against a ring that fills the frame


def test_fonts_are_disjoint_between_training_and_test():
    assert not set(levenshtein_data.TRAIN_FONTS) & set(levenshtein_data.TEST_FONTS)
    assert levenshtein_data.SPLIT_FONTS["val"] == levenshtein_data.TRAIN_FONTS


@needs_generator
def test_generated_pools_are_labelled_by_the_settings_alphabet(tmp_path):
    sizes = {"train": 4, "val": 2, "test": 3}
    data = levenshtein_data.generated_pools("XO", seed=0, cache_dir=tmp_path, per_class=sizes)
    assert data.images.shape == (2 * 9, 28, 28)
    for split, size in sizes.items():
        for label, pool in enumerate(data.pools[split]):
            assert len(pool) == size and (data.labels[pool] == label).all()
    # Class 1 of "XO" is the letter O, whatever the order of the setting.
    np.testing.assert_array_equal(data.images[data.pools["test"][1]],
                                  levenshtein_data.cached_letters("O", "test", 3, 0, tmp_path))
    codes = np.array([[0, 1, 1], [1, 0, 0]])
    images = levenshtein_data.letter_images(data, "train", codes, np.random.default_rng(0))
    assert images.shape == (2, 3, 1, 28, 28) and images.dtype == torch.float32
    train_bytes = {data.images[i].tobytes(): data.labels[i] for i in np.concatenate(data.pools["train"])}
    for position, code in np.ndenumerate(codes):
        tile = (images[position][0] * 255).round().to(torch.uint8).numpy()
        assert train_bytes[tile.tobytes()] == code
    with pytest.raises(ValueError):
        levenshtein_data.generated_pools("OO", cache_dir=tmp_path, per_class=sizes)


def test_emnist_idx_files_are_a_drop_in(tmp_path):
    rng = np.random.default_rng(0)
    train_labels = np.repeat(np.arange(1, 27), 3)  # EMNIST letters: labels 1..26
    test_labels = np.repeat(np.arange(1, 27), 2)
    train_images = rng.integers(0, 256, size=(78, 28, 28)).astype(np.uint8)
    test_images = rng.integers(0, 256, size=(52, 28, 28)).astype(np.uint8)
    write_idx(tmp_path / "emnist-letters-train-images-idx3-ubyte.gz", train_images, 0x08)
    write_idx(tmp_path / "emnist-letters-train-labels-idx1-ubyte", train_labels, 0x08)
    write_idx(tmp_path / "emnist-letters-test-images-idx3-ubyte", test_images, 0x08)
    write_idx(tmp_path / "emnist-letters-test-labels-idx1-ubyte.gz", test_labels, 0x08)

    images, labels = levenshtein_data.load_emnist_letters(tmp_path, "train")
    np.testing.assert_array_equal(images, train_images.transpose(0, 2, 1))  # stored transposed
    np.testing.assert_array_equal(labels, train_labels - 1)

    data = levenshtein_data.emnist_pools(tmp_path, "OX", seed=0, val_per_class=1)
    for label, letter in enumerate("OX"):
        source = levenshtein_data.ALPHABET.index(letter)
        val, train, test = (data.pools[s][label] for s in ("val", "train", "test"))
        assert len(val) == 1 and len(train) == 2 and len(test) == 2
        assert (data.labels[np.concatenate([val, train, test])] == label).all()
        np.testing.assert_array_equal(np.sort([data.images[i].tobytes() for i in test]),
                                      np.sort([im.T.tobytes() for im in test_images[test_labels == source + 1]]))
        train_sources = {im.T.tobytes() for im in train_images[train_labels == source + 1]}
        assert {data.images[i].tobytes() for i in np.concatenate([val, train])} == train_sources
    with pytest.raises(ValueError, match="too few"):
        levenshtein_data.emnist_pools(tmp_path, "OX", val_per_class=3)


# ---------------------------------------------------------------- string pairs


@pytest.mark.parametrize("alphabet_size", [2, 4])
def test_string_pairs_have_their_true_edit_distance(alphabet_size):
    a, b, distances = levenshtein_data.sample_pairs(alphabet_size, 300, np.random.default_rng(alphabet_size))
    assert a.shape == b.shape == (300, 32) and distances.shape == (300,)
    assert a.min() >= 0 and max(a.max(), b.max()) < alphabet_size
    for row in range(300):
        assert distances[row] == levenshtein(a[row].tolist(), b[row].tolist())[-1][-1]
    # k insertions and k deletions, k in {2, 3, 4}: at most 8 edits, and two letters' worth of
    # random edits rarely cancel entirely.
    assert distances.max() <= 8 and np.mean(distances == 0) < 0.05
    # Every letter of the alphabet occurs, about equally often.
    counts = np.bincount(a.ravel(), minlength=alphabet_size) / a.size
    np.testing.assert_allclose(counts, 1 / alphabet_size, atol=0.02)


def test_string_pairs_mean_distance_is_near_the_papers():
    # The paper reports mean distances of 4.25 (two letters) and 5 (four letters); this sampler
    # gives 4.13 and 4.88 on 4,000 pairs each (standard error 0.02).
    means = {}
    for size in (2, 4):
        _, _, distances = levenshtein_data.sample_pairs(size, 2000, np.random.default_rng(10 + size))
        means[size] = distances.mean()
    assert 3.95 < means[2] < 4.35 and 4.7 < means[4] < 5.1 and means[4] > means[2]


def test_string_pairs_are_deterministic_in_the_generator():
    first = levenshtein_data.sample_pairs(2, 5, np.random.default_rng(3))
    second = levenshtein_data.sample_pairs(2, 5, np.random.default_rng(3))
    third = levenshtein_data.sample_pairs(2, 5, np.random.default_rng(4))
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0], third[0])
    with pytest.raises(ValueError):
        levenshtein_data.sample_pairs(1, 5, np.random.default_rng(0))


# ---------------------------------------------------------------- Hungarian evaluation


@needs_scipy
@pytest.mark.parametrize("classes", [2, 4])
def test_a_permuted_perfect_classifier_scores_one(classes):
    rng = np.random.default_rng(classes)
    true = rng.integers(0, classes, size=500)
    permutation = rng.permutation(classes)
    predicted = permutation[true]  # perfect, but with its own names for the classes
    mapping = levenshtein_supervision.hungarian_mapping(predicted, true, classes)
    np.testing.assert_array_equal(mapping[permutation], np.arange(classes))
    assert levenshtein_supervision.top1_and_f1(mapping[predicted], true, classes) == (1.0, 1.0)


@needs_scipy
def test_hungarian_matching_maximises_the_matches_and_f1_is_macro():
    # Predicted class 0 is mostly true class 1 and vice versa; class 2 is right.
    true = np.array([1, 1, 1, 0, 0, 0, 2, 2, 0, 1])
    predicted = np.array([0, 0, 0, 1, 1, 0, 2, 2, 2, 1])
    mapping = levenshtein_supervision.hungarian_mapping(predicted, true, 3)
    assert mapping.tolist() == [1, 0, 2]
    top1, f1 = levenshtein_supervision.top1_and_f1(mapping[predicted], true, 3)
    assert top1 == pytest.approx(7 / 10)
    # Mapped predictions: [1,1,1,0,0,1,2,2,2,0]. Per class 2TP/(2TP+FP+FN):
    # class 0: TP 2, FP 1, FN 2 -> 4/7; class 1: TP 3, FP 1, FN 1 -> 6/8; class 2: TP 2, FP 1, FN 0 -> 4/5.
    assert f1 == pytest.approx((4 / 7 + 6 / 8 + 4 / 5) / 3)
    with pytest.raises(ValueError):
        levenshtein_supervision.hungarian_mapping(predicted, true[:-1], 3)


# ---------------------------------------------------------------- losses


def one_hot(codes: list[list[int]], k: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(codes), k).double()


def test_relaxed_distance_is_the_edit_distance_on_confident_predictions():
    rng = np.random.default_rng(0)
    a, b, distances = levenshtein_data.sample_pairs(3, 4, rng, length=8)
    # Nearly one-hot distributions (a trained classifier's) give nearly the true distance at beta 1/9.
    probs_a = one_hot(a.tolist(), 3) * 0.998 + 0.001
    probs_b = one_hot(b.tolist(), 3) * 0.998 + 0.001
    relaxed = levenshtein_supervision.relaxed_distance(probs_a, probs_b, beta=1 / 9)
    torch.testing.assert_close(relaxed, torch.from_numpy(distances).double(), atol=0.05, rtol=0)
    # With and without replay: the same value (replay records the calls of the first call).
    again = levenshtein_supervision.relaxed_distance(probs_a, probs_b, beta=1 / 9, replay=False)
    torch.testing.assert_close(relaxed, again, atol=1e-12, rtol=0)


def test_distance_losses_pull_towards_the_true_distance():
    a = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9]], dtype=torch.float64)[None]
    b = torch.tensor([[0.2, 0.8], [0.85, 0.15], [0.3, 0.7]], dtype=torch.float64)[None]
    for method in ("relaxed", "baseline"):
        logits = torch.log(a).clone().requires_grad_()
        too_far = levenshtein_supervision.distance_loss(method, logits.softmax(-1), b, torch.tensor([0]), 1 / 9)
        (gradient,) = torch.autograd.grad(too_far, logits)
        # The first letters differ; the loss says: make a's first letter more like b's (class 1).
        assert gradient[0, 0, 1] < 0 < gradient[0, 0, 0], method
    # The baseline's distance is the l1 distance, by hand: |.9-.2|+|.1-.8| + .1 + .4 = 1.9.
    assert levenshtein_supervision.l1_distance(a, b).item() == pytest.approx(1.9)
    with pytest.raises(ValueError):
        levenshtein_supervision.distance_loss("supervised", a, b, torch.tensor([0]), 1 / 9)


# ---------------------------------------------------------------- training


def test_arguments_are_checked():
    args = levenshtein_supervision.parse_args(["--letters", "all", "--quick"])
    assert args.letters == list(levenshtein_supervision.SETTINGS)
    assert args.steps == levenshtein_supervision.QUICK["steps"]
    with pytest.raises(SystemExit):
        levenshtein_supervision.parse_args(["--letters", "OZ"])
    with pytest.raises(SystemExit):
        levenshtein_supervision.parse_args(["--steps", "0"])


@needs_generator
def test_supervised_sanity_run_learns_and_results_are_reused(tmp_path, monkeypatch):
    out = tmp_path / "ox.json"
    # The letters come from the default cache, generated once (seconds) and shared with the runs.
    argv = ["--letters", "OX", "--method", "supervised", "--steps", "30", "--batch-size", "2", "--lr", "3e-3",
            "--eval-every", "10", "--out", str(out), "--no-progress"]
    summary = levenshtein_supervision.main(argv)
    assert summary["top1"] > 0.8  # O against X with their labels: easy
    written = json.loads(out.read_text())
    assert written["top1"] == summary["top1"] and written["runs"][0]["history"]["step"] == [10, 20, 30]
    # A second call finds the run in --out and does not train again.
    monkeypatch.setattr(levenshtein_supervision, "train_one", lambda *a: pytest.fail("trained again"))
    assert levenshtein_supervision.main(argv)["top1"] == summary["top1"]


@needs_generator
def test_a_run_keeps_the_model_of_its_best_validation(monkeypatch):
    args = levenshtein_supervision.parse_args(["--letters", "OX", "--method", "supervised", "--steps", "30",
                                               "--batch-size", "2", "--lr", "3e-3", "--eval-every", "10",
                                               "--no-progress"])
    data = levenshtein_supervision.load_data("OX", args)
    # Three validations scripted to peak at the second (step 20), then the final and the selected
    # model's evaluations; each call records the weights it saw.
    scores, seen = iter([0.6, 0.9, 0.7, 0.0, 0.0]), []

    def scripted_evaluate(model, data):
        seen.append({name: value.clone() for name, value in model.state_dict().items()})
        return {"val_top1": next(scores), "top1": float(len(seen)), "f1": 0.0, "mapping": []}

    monkeypatch.setattr(levenshtein_supervision, "evaluate", scripted_evaluate)
    model, result = levenshtein_supervision.train_one("OX", "supervised", 0, data, args)
    assert result["best_step"] == 20 and result["history"]["val_top1"] == [0.6, 0.9, 0.7]
    assert result["final_top1"] == 4.0 and result["top1"] == 5.0  # the fourth call is the final model's
    for name, value in model.state_dict().items():
        assert torch.equal(value, seen[1][name]) and torch.equal(seen[4][name], seen[1][name])
    assert any(not torch.equal(seen[3][name], seen[1][name]) for name in seen[1])  # training went on


@pytest.mark.slow
@needs_generator
def test_quick_relaxed_run_beats_chance_on_ox(tmp_path):
    out = tmp_path / "ox_quick.json"
    summary = levenshtein_supervision.main(["--letters", "OX", "--quick", "--out", str(out), "--no-progress"])
    assert summary["top1"] > 0.75  # chance is 0.5
    written = json.loads(out.read_text())
    assert {"top1", "f1", "seconds"} <= set(written)
