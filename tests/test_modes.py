"""Evaluation modes (DESIGN §1.5): sample mode draws every relaxed decision and averages."""

import torch

import relaxc
from corpus import bubble_pass, linear_search

BETA = 0.3


def dependent_blocks(c, x):
    a = x if c < 0 else -x
    b = 1.0 if a < 0 else 2.0
    return b


def exact_dependent_blocks(c, x):
    """The true expectation: a = x with P[c < 0], else -x; then b = 1 with P[a < 0], else 2."""
    s = lambda z: torch.sigmoid(z / BETA)  # noqa: E731
    p = s(-c)
    return p * (s(-x) + 2 * (1 - s(-x))) + (1 - p) * (s(x) + 2 * (1 - s(x)))


def test_sample_mean_is_within_four_standard_errors_of_the_exact_expectation():
    c = torch.tensor([0.1, -0.3, 0.0], dtype=torch.float64)
    x = torch.tensor([0.2, 0.5, -0.1], dtype=torch.float64)
    sampled = relaxc.relax(dependent_blocks, beta=BETA, mode="sample", samples=4000)
    mean, error = sampled.with_standard_error(c, x)
    assert ((mean - exact_dependent_blocks(c, x)).abs() < 4 * error).all()
    # Path merging differs here (the second block depends on the first): sample mode is the
    # check that tells the two apart.
    merged = relaxc.relax(dependent_blocks, beta=BETA)(c, x)
    assert not torch.allclose(merged, exact_dependent_blocks(c, x), atol=1e-3)


def test_sample_mode_on_loops_and_early_returns():
    xs = torch.tensor([[0.2, 1.1, 0.9]], dtype=torch.float64)
    sampled = relaxc.relax(linear_search, beta=BETA, mode="sample", samples=4000)
    mean, error = sampled.with_standard_error(xs, 1.0)
    exact = relaxc.relax(linear_search, beta=BETA)(xs, 1.0)   # exact here (see test_loops)
    assert ((mean - exact).abs() < 4 * error).all()


def test_sample_mode_is_reproducible_from_the_seed():
    xs = torch.randn(4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    sampled = relaxc.relax(bubble_pass, beta=1.0, mode="sample", samples=50)
    first, second = sampled(xs), sampled(xs)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    other = sampled.options(seed=7)(xs)
    assert not torch.equal(first[1], other[1])


def test_each_draw_is_a_run_of_the_discrete_algorithm():
    # With one draw and a tiny temperature every decision is the exact one.
    xs = torch.randn(8, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    drawn = relaxc.relax(bubble_pass, beta=1e-6, mode="sample", samples=1)(xs)
    hard = relaxc.relax(bubble_pass, mode="hard")(xs)
    assert torch.equal(drawn[0], hard[0]) and torch.equal(drawn[1], hard[1].double())
