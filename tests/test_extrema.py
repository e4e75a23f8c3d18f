"""``min``/``max`` over relaxed values: the softmax-weighted sums of the paper's eq. 10."""

import torch
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
