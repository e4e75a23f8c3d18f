"""``min``/``max`` over relaxed values: the softmax-weighted sums of the paper's eq. 10."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck

import relaxc
from relaxc_runtime import Context

BETA = 0.4


def largest(a, b, c):
    return max(a, b, c)


def smallest_of(xs):
    return min(xs)


def running_max(xs):
    best = float("-inf")
    for x in xs:
        best = max(best, x)
    return best


def test_max_and_min_are_softmax_weighted_sums():
    a, b, c = torch.randn(3, 16, dtype=torch.float64)
    stacked = torch.stack([a, b, c], -1)
    expected = (torch.softmax(stacked / BETA, -1) * stacked).sum(-1)
    torch.testing.assert_close(relaxc.relax(largest, beta=BETA)(a, b, c), expected)
    xs = torch.randn(16, 5, dtype=torch.float64)
    expected = (torch.softmax(-xs / BETA, -1) * xs).sum(-1)
    torch.testing.assert_close(relaxc.relax(smallest_of, beta=BETA)(xs), expected)


def test_static_arguments_keep_the_builtin():
    assert relaxc.relax(largest)(1, 3, 2) == 3
    assert relaxc.relax(smallest_of)([4, 2, 9]) == 2


def widest_gap_plus_static_max(xs):
    k = max(i * i for i in range(3))
    best = 0.0
    for i in range(len(xs) - 1):
        if xs[i + 1] - xs[i] > best:
            best = xs[i + 1] - xs[i]
    return best + k


def test_static_max_of_a_generator_is_the_builtins():
    # The generator is listed to look for relaxed values; the builtin must get the list, not the
    # consumed generator ("max() arg is an empty sequence").
    xs = torch.tensor([[1.0, 3.0, 2.0], [5.0, 3.0, 9.0]], dtype=torch.float64)
    expected = [widest_gap_plus_static_max(row) for row in xs.tolist()]
    relaxed = relaxc.relax(widest_gap_plus_static_max)
    assert relaxed.options(mode="hard")(xs).tolist() == expected
    torch.testing.assert_close(relaxed.options(beta=1e-4)(xs), torch.tensor(expected, dtype=torch.float64))


def test_minus_infinity_start_value_is_finite_in_value_and_gradient():
    xs = torch.randn(8, 4, dtype=torch.float64, requires_grad=True)
    best = relaxc.relax(running_max, beta=BETA)(xs)
    best.sum().backward()
    assert torch.isfinite(best).all() and torch.isfinite(xs.grad).all()
    # max(-inf, x) is x itself, so the first step is exact.
    first = relaxc.relax(running_max, beta=BETA)(xs[:, :1])
    torch.testing.assert_close(first, xs[:, 0])


def test_plus_infinity_wins_outright():
    rx = Context(beta=BETA)
    x = torch.tensor([1.0, -3.0])
    assert rx.max(x, float("inf")).tolist() == [float("inf")] * 2
    assert rx.min(x, float("inf")).tolist() == x.tolist()   # +inf gets no weight in a min


def test_extremum_gradcheck():
    a, b, c = (torch.randn(5, dtype=torch.float64, requires_grad=True) for _ in range(3))
    assert gradcheck(relaxc.relax(largest, beta=BETA), (a, b, c))


def test_hard_mode_is_exact():
    a, b, c = torch.tensor([[1.0, 5.0], [2.0, 2.0], [3.0, -1.0]])
    assert relaxc.relax(largest, mode="hard")(a, b, c).tolist() == [3.0, 5.0]


# NaN and the infinities: hard mode follows the comparisons Python's min/max make (issue 14, item 11).

NAN, INF = float("nan"), float("inf")


def larger(a, b):
    return max(a, b)


def smaller(a, b):
    return min(a, b)


def largest_of(xs):
    return max(xs)


def position_of_largest(xs):
    return relaxc.argmax(xs)


def position_of_smallest(xs):
    return relaxc.argmin(xs)


def kadane(xs):
    cur = xs[0]
    best = xs[0]
    for x in xs[1:]:
        cur = max(x, cur + x)
        best = max(best, cur)
    return best


def larger_by_if(x, y):
    if x > y:
        return x
    return y


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


# Few distinct values, so that ties, NaN and infinities meet often.
specials = st.sampled_from([NAN, INF, -INF, 0.0, 1.0, -1.0, 2.5])


def column(rows, k):
    return torch.tensor([row[k] for row in rows], dtype=torch.float64)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(specials, specials), min_size=1, max_size=12))
def test_hard_two_argument_max_and_min_are_pythons_with_nan_and_infinities(rows):
    a, b = column(rows, 0), column(rows, 1)
    for function in (larger, smaller, larger_by_if):
        got = relaxc.relax(function, mode="hard")(a, b).tolist()
        assert all(same(g, function(x, y)) for g, (x, y) in zip(got, rows)), function.__name__


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6).flatmap(
    lambda n: st.lists(st.lists(specials, min_size=n, max_size=n), min_size=1, max_size=8)))
def test_hard_sequence_max_min_and_arg_are_pythons_with_nan_and_infinities(rows):
    xs = torch.tensor(rows, dtype=torch.float64)
    for function in (largest_of, smallest_of, kadane):
        got = relaxc.relax(function, mode="hard")(xs).tolist()
        assert all(same(g, function(row)) for g, row in zip(got, rows)), function.__name__
    for function in (position_of_largest, position_of_smallest):
        got = relaxc.relax(function, mode="hard")(xs).argmax(-1).tolist()
        assert got == [function(row) for row in rows], function.__name__


def test_kadane_with_nan_is_pythons_in_hard_mode():
    xs = [3.0, -1.0, NAN, 0.0]
    assert kadane(xs) == 3.0
    hard = relaxc.relax(kadane, mode="hard")(torch.tensor([xs, [1.0, -2.0, 3.0, 4.0]]))
    assert hard.tolist() == [3.0, 7.0]


def test_relaxed_nan_follows_python_at_small_beta_and_stays_in_its_instance():
    rows = [[3.0, NAN], [NAN, 3.0], [1.0, 2.0], [NAN, NAN], [-INF, NAN]]
    a = column(rows, 0).requires_grad_()
    b = column(rows, 1).requires_grad_()
    result = relaxc.relax(larger, beta=1e-3)(a, b)
    expected = [larger(x, y) for x, y in rows]
    assert all(same(g, e) for g, e in zip(result.tolist(), expected))
    # The gradient of each finite result is finite and reaches its own instance only.
    result[[0, 2, 4]].sum().backward()
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    assert a.grad[[1, 3]].abs().sum() == 0 and b.grad[[1, 3]].abs().sum() == 0
    # An instance with NaN does not change the others.
    alone = relaxc.relax(larger, beta=1e-3)(a[2:3].detach(), b[2:3].detach())
    assert alone.item() == result[2].item()


def test_relaxed_kadane_with_nan_is_finite_and_near_pythons():
    xs = torch.tensor([[3.0, -1.0, NAN, 0.0], [1.0, -2.0, 3.0, 4.0]], requires_grad=True)
    best = relaxc.relax(kadane, beta=0.01)(xs)
    torch.testing.assert_close(best, torch.tensor([3.0, 7.0]), atol=1e-3, rtol=0)
    best.sum().backward()
    assert torch.isfinite(xs.grad).all()


def test_relaxed_argmax_with_nan_and_infinity_is_pythons_where_they_decide():
    xs = torch.tensor([[NAN, 1.0, 2.0], [1.0, NAN, 2.0], [1.0, INF, 3.0], [0.0, 0.5, 1.0]])
    weights = relaxc.relax(position_of_largest, beta=0.1)(xs)
    assert torch.isfinite(weights).all()
    assert weights[0].tolist() == [1.0, 0.0, 0.0]
    assert weights[1, 1] == 0 and weights[1].argmax() == 2
    assert weights[2].tolist() == [0.0, 1.0, 0.0]
    assert torch.allclose(weights[3], torch.softmax(xs[3] / 0.1, -1))


@pytest.mark.parametrize("x, y", [(NAN, 1.0), (1.0, NAN), (NAN, NAN), (INF, NAN)])
def test_hard_if_with_nan_follows_python(x, y):
    got = relaxc.relax(larger_by_if, mode="hard")(torch.tensor([x]), torch.tensor([y])).item()
    assert same(got, larger_by_if(x, y))
