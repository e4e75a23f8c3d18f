"""Evaluation modes (DESIGN §1.5): sample mode draws every relaxed decision and averages; exact
mode enumerates every combination of decisions with its weight."""

import math
import sys
import time
from pathlib import Path

import pytest
import torch

import corpus
import relaxc
from corpus import bubble_pass, linear_search
from relaxc_runtime.enumeration import TooManyPathsError

sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))
from bubble_sort import bubble_sort  # noqa: E402

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
    # (c = 0 would be a tie, which decides as Python does: `0 < 0` is False.)
    c = torch.tensor([0.1, -0.3, 0.05], dtype=torch.float64)
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


def test_exact_equals_the_hand_derived_expectation_with_dependent_blocks():
    # (c = 0 would be a tie, which decides as Python does: `0 < 0` is False.)
    c = torch.tensor([0.1, -0.3, 0.05], dtype=torch.float64)
    x = torch.tensor([0.2, 0.5, -0.1], dtype=torch.float64)
    exact = relaxc.relax(dependent_blocks, beta=BETA, mode="exact")(c, x)
    torch.testing.assert_close(exact, exact_dependent_blocks(c, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("function, specs", [
    (corpus.absolute, ("x",)), (corpus.max_of_three, ("x", "x", "x")),
    (corpus.mixed_logic, ("x", "x", "x")), (corpus.count_greater, ("xs4", 0.3)),
    (corpus.skip_negatives, ("xs4",)),
])
def test_exact_equals_relaxed_without_dependence_between_sequential_blocks(function, specs):
    generator = torch.Generator().manual_seed(5)
    args = [torch.randn(6, dtype=torch.float64, generator=generator) if s == "x" else
            torch.randn(6, int(s[2:]), dtype=torch.float64, generator=generator)
            if isinstance(s, str) else s for s in specs]
    relaxed = relaxc.relax(function, beta=BETA)
    torch.testing.assert_close(relaxed.options(mode="exact")(*args), relaxed(*args),
                               rtol=1e-9, atol=1e-9)


def test_sample_mean_is_within_four_standard_errors_of_exact_mode():
    xs = torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    relaxed = relaxc.relax(bubble_sort, beta=0.5)
    exact = relaxed.options(mode="exact")(xs)
    mean, error = relaxed.options(mode="sample", samples=3000).with_standard_error(xs)
    for e, m, s in zip(exact, mean, error):
        assert ((e - m).abs() <= 4 * s + 1e-12).all()


def test_exact_converges_to_hard_as_beta_goes_to_zero():
    xs = torch.randn(8, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    hard = relaxc.relax(bubble_sort, mode="hard")(xs)
    exact = relaxc.relax(bubble_sort, beta=1e-4, mode="exact")(xs)
    for h, e in zip(hard, exact):
        torch.testing.assert_close(e, h.to(e.dtype), atol=1e-9, rtol=0)


def test_exact_mode_refuses_a_40_element_bubble_sort_quickly_naming_the_line():
    started = time.perf_counter()
    with pytest.raises(TooManyPathsError) as caught:
        relaxc.relax(bubble_sort, mode="exact")(torch.randn(2, 40))
    assert time.perf_counter() - started < 5
    line = next(n for n, text in enumerate(Path(bubble_sort.__code__.co_filename).read_text()
                                           .splitlines(), 1) if "if xs[j] > xs[j + 1]:" in text)
    message = str(caught.value)
    assert f"the decisions at line {line} (if xs[j] > xs[j + 1]:) multiply them most" in message
    assert "mode='sample'" in message


def test_the_relaxation_gap_to_exact_shrinks_as_beta_goes_to_zero():
    xs = torch.randn(8, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    gaps = []
    for beta in (0.5, 0.25, 0.1, 0.05):
        relaxed = relaxc.relax(bubble_sort, beta=beta)
        gaps.append((relaxed(xs)[0] - relaxed.options(mode="exact")(xs)[0]).abs().mean().item())
    assert all(later < earlier for earlier, later in zip(gaps, gaps[1:])), gaps


def test_report_compares_relaxed_exact_and_hard_per_output_and_per_line():
    # (c = 0 would be a tie, which decides as Python does: `0 < 0` is False.)
    c = torch.tensor([0.1, -0.3, 0.05], dtype=torch.float64)
    x = torch.tensor([0.2, 0.5, -0.1], dtype=torch.float64)
    report = relaxc.report(dependent_blocks, c, x, beta=BETA)
    relaxed = relaxc.relax(dependent_blocks, beta=BETA)(c, x)
    exact = exact_dependent_blocks(c, x)
    hard = relaxc.relax(dependent_blocks, mode="hard")(c, x)
    (output,) = report.outputs
    assert report.reference == "exact"
    assert output.gap == pytest.approx((relaxed - exact).abs().mean().item())
    assert output.hard_gap == pytest.approx((exact - hard).abs().mean().item())
    first = dependent_blocks.__code__.co_firstlineno
    assert [(s.line, s.decisions) for s in report.sites] == [(first + 1, 3), (first + 2, 3)]
    p = torch.sigmoid(-c / BETA)
    assert report.sites[0].decidedness == pytest.approx((2 * p - 1).abs().mean().item())
    assert report.k == 2 and report.suggested_beta == pytest.approx(2 ** -0.5)
    text = str(report)
    assert "reference: exact" in text and "a suggestion; not applied" in text
    assert "<table" in report._repr_html_()


def test_report_falls_back_to_sample_mode_past_the_exact_bound():
    xs = torch.randn(2, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    report = relaxc.report(bubble_sort, xs, beta=0.5, max_paths=100)
    assert report.reference.startswith("sample (")


def test_exact_mode_is_differentiable_through_the_weights():
    # Without sequential dependence exact and relaxed are the same function: same gradient.
    args = [torch.randn(5, dtype=torch.float64, generator=torch.Generator().manual_seed(s),
                        requires_grad=True) for s in (1, 2, 3)]
    relaxed = relaxc.relax(corpus.max_of_three, beta=BETA)
    grads = [torch.autograd.grad(f(*args).sum(), args)
             for f in (relaxed, relaxed.options(mode="exact"))]
    for relaxed_grad, exact_grad in zip(*grads):
        torch.testing.assert_close(exact_grad, relaxed_grad, rtol=1e-9, atol=1e-9)


def test_an_exact_context_refuses_to_run_code_directly():
    from relaxc_runtime import Context
    with pytest.raises(RuntimeError, match="once per path"):
        Context(mode="exact").lt(torch.zeros(1), 1.0)


def _root_where_positive(x):
    y = 0.0
    if x > 0:
        y = math.sqrt(x)
    return y


def _gcd(a, b):
    while b != 0:
        a, b = b, a % b
    return a


@pytest.mark.parametrize("function, args", [
    # sqrt(-40) on a path of probability σ(-80): the branch's negligible side.
    (_root_where_positive, ([-40.0, 4.0, 0.5],)),
    # 7 % 0 in an iteration the instance never runs (P[b != 0] = 0 exactly), then NaN compared.
    (_gcd, ([12.0, 7.0, 9.0], [8.0, 0.0, 3.0])),
])
def test_exact_mode_drops_what_a_negligible_path_computes_that_is_not_finite(function, args):
    # Exact mode follows a relaxed merge: a path below eps adds nothing where its value is not
    # finite, and its NaN stays out of the gradient (before: NaN value and gradient for that
    # instance). Where nothing is negligible the two modes are the same expectation here.
    relaxed = relaxc.relax(function, beta=0.5)
    results = {}
    for mode in ("relaxed", "exact"):
        inputs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in args]
        value = relaxed.options(mode=mode)(*inputs)
        results[mode] = value, torch.autograd.grad(value.sum(), inputs)
    value, grads = results["exact"]
    assert torch.isfinite(value).all() and all(torch.isfinite(g).all() for g in grads)
    torch.testing.assert_close(value, results["relaxed"][0], rtol=1e-6, atol=1e-6)
    for exact_grad, relaxed_grad in zip(grads, results["relaxed"][1]):
        torch.testing.assert_close(exact_grad, relaxed_grad, rtol=1e-5, atol=1e-5)


def running_minimum(xs):
    best = float("inf")
    for v in xs:
        if v < best:
            best = v
    return best


def test_straight_through_keeps_an_infinite_hard_value():
    # hard + (relaxed − relaxed.detach()) is inf − inf = NaN where the relaxed value is
    # infinite too (before: NaN for the -inf instance).
    xs = torch.tensor([[1.0, -math.inf, 0.5], [3.0, 1.0, 2.0]], dtype=torch.float64,
                      requires_grad=True)
    result = relaxc.relax(running_minimum, mode="straight_through")(xs)
    assert result.tolist() == [-math.inf, 1.0]
    (gradient,) = torch.autograd.grad(result[1], xs)
    assert torch.isfinite(gradient).all()


def index_of_sentinel(xs, key):
    i = 0
    while xs[i] < key:
        i += 1
    return i


def test_a_nan_instance_in_sample_mode_stops_instead_of_failing_the_batch():
    # Its NaN probability of running on drew as a coin and walked past the sentinel: an
    # IndexError for the whole batch.
    xs = torch.tensor([[0.5, 3.0, 1.0], [0.1, 0.2, 5.0], [0.5, 3.0, 1.0]], dtype=torch.float64)
    key = torch.tensor([2.0, 4.0, math.nan], dtype=torch.float64)
    sampled = relaxc.relax(index_of_sentinel, mode="sample", beta=1e-3, samples=8)(xs, key)
    assert sampled[:2].tolist() == [index_of_sentinel(r, k) for r, k in
                                    zip(xs[:2].tolist(), key[:2].tolist())]


def length_after_a_pass(xs):
    for j in range(len(xs) - 1):
        if xs[j] > xs[j + 1]:
            xs[j], xs[j + 1] = xs[j + 1], xs[j]
    return len(xs)


def test_exact_mode_returns_a_static_result_as_it_is():
    # Every path gives the int 4: it stays the int (before: a float tensor of 4s).
    result = relaxc.relax(length_after_a_pass, mode="exact")(torch.randn(3, 4))
    assert type(result) is int and result == 4
