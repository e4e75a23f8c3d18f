"""The paper's bubble sort (examples/bubble_sort.py): exact in hard mode, the paper's relaxation in
relaxed mode, cross-checked against the paper's own library AlgoVision for the same temperature."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))
from algovision_reference import algovision_bubble_sort  # noqa: E402
from bubble_sort import bubble_sort, relaxed_bubble_sort  # noqa: E402


def test_hard_mode_sorts_and_counts_like_python():
    generator = torch.Generator().manual_seed(0)
    xs = torch.randint(-3, 4, (64, 6), generator=generator).double()
    values, swaps, any_swap = relaxed_bubble_sort.options(mode="hard")(xs)
    for i in range(64):
        expected = bubble_sort(xs[i].tolist())
        assert (values[i].tolist(), swaps[i].item(), any_swap[i].item()) == expected


def test_any_swap_is_one_minus_the_product_over_comparisons():
    # n = 2: one comparison, then the loop ends: L = p = σ((x0 − x1)/β).
    xs = torch.tensor([[0.3, 0.1], [0.1, 0.3]], dtype=torch.float64)
    _, swaps, any_swap = relaxed_bubble_sort(xs)
    p = torch.sigmoid((xs[:, 0] - xs[:, 1]) / 0.125)
    torch.testing.assert_close(any_swap, p)
    torch.testing.assert_close(swaps, p)


@pytest.mark.parametrize("n, beta", [(4, 0.125), (6, 0.5), (8, 0.25)])
def test_same_values_as_algovision_for_the_same_temperature(n, beta):
    pytest.importorskip("algovision")
    reference = algovision_bubble_sort(1 / beta)
    xs = torch.randn(32, n, generator=torch.Generator().manual_seed(n))
    expected_values, expected_swaps = reference(xs.clone())
    values, swaps, _ = relaxed_bubble_sort.options(beta=beta)(xs)
    torch.testing.assert_close(values, expected_values, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(swaps, expected_swaps, atol=1e-4, rtol=1e-4)
