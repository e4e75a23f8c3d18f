"""Exits inside a relaxed ``while`` (runtime/exits.py): a ``break``/``return`` is a stop of the
series, the path that goes on keeps its own values, and a ``while True`` ends (issue 14, items 1,
2, 6, 13)."""

import warnings

import pytest
import torch

import relaxc
from corpus import count_up_to, hoare_partition, is_palindrome, linear_search_while


def bubble_flagged(xs):
    n = len(xs)
    while True:
        swapped = False
        for i in range(n - 1):
            if xs[i] > xs[i + 1]:
                xs[i], xs[i + 1] = xs[i + 1], xs[i]
                swapped = True
        n -= 1
        if not swapped:
            break
    return xs


def _batch(rows):
    return torch.tensor(rows, dtype=torch.float64)


@pytest.mark.parametrize("mode", ["hard", "relaxed", "exact"])
def test_a_final_break_in_while_true_ends_and_sorts(mode):
    rows = [[3.0, 1.0, 2.0], [1.0, 2.0, 3.0], [5.0, -1.0, 0.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no max_iter warning either: the loop ends on its own
        result = relaxc.relax(bubble_flagged, mode=mode, beta=1e-3, max_iter=50)(_batch(rows))
    assert torch.allclose(result, _batch([sorted(r) for r in rows]), atol=1e-6)


def test_a_while_true_whose_only_exit_is_relaxed_is_bounded_by_max_iter():
    def forever(x):
        n = 0
        while True:
            if x > 1e9:   # never, but relaxed: the loop can run on per instance
                break
            n += 1
        return n

    with pytest.warns(RuntimeWarning, match="max_iter=20"):
        relaxc.relax(forever, max_iter=20, beta=1e3)(torch.tensor([0.0]))


@pytest.mark.parametrize("mode", ["hard", "relaxed"])
def test_return_inside_while_true(mode):
    # A float limit equal to an integer would be a tie between the data and the counter.
    limits = torch.tensor([-0.5, 2.5, 4.5], dtype=torch.float64)
    result = relaxc.relax(count_up_to, mode=mode, beta=1e-3)(limits)
    assert result.tolist() == [count_up_to(float(v)) for v in limits]


@pytest.mark.parametrize("mode", ["hard", "relaxed"])
def test_hoare_partition_matches_python(mode):
    rows = [[3.0, 1.0, 4.0, 2.0], [1.0, 5.0, 2.0, 4.0], [4.0, 3.0, 2.0, 1.0]]
    expected = [hoare_partition(list(r)) for r in rows]
    result = relaxc.relax(hoare_partition, mode=mode, beta=1e-4)(_batch(rows))
    assert torch.allclose(result.double(), torch.tensor(expected, dtype=torch.float64), atol=1e-6)


def test_the_counter_that_goes_on_stays_static_where_every_comparison_is_certain():
    # β = 0.5 is large for a counter, but every comparison of the data is certain: the path that
    # goes on keeps i = 1, 2 (ints), and the result is exact mode's.
    xs, t = _batch([[100.0, 200.0, 300.0]]), torch.tensor([300.0], dtype=torch.float64)
    relaxed = relaxc.relax(linear_search_while, beta=0.5)(xs, t)
    exact = relaxc.relax(linear_search_while, beta=0.5, mode="exact")(xs, t)
    assert relaxed.tolist() == [2.0] and exact.tolist() == [2.0]


def test_exits_of_independent_decisions_equal_exact_mode():
    # Each position's equality is decided once: no sequential dependence, so the relaxed
    # result is the true expectation.
    xs = _batch([[0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.2]])
    t = torch.tensor([1.0, 0.1], dtype=torch.float64)
    f = relaxc.relax(linear_search_while, beta=0.3)
    assert torch.allclose(f(xs, t), f.options(mode="exact")(xs, t), atol=1e-9)


def test_palindrome_on_one_hot_letters_equals_exact_mode():
    letters = torch.nn.functional.one_hot(torch.tensor([[0, 1, 0, 1], [0, 1, 1, 0]]), 2)
    s = relaxc.Categorical(letters.double() * 0.8 + 0.1)
    f = relaxc.relax(is_palindrome, beta=0.5)
    assert torch.allclose(f(s), f.options(mode="exact")(s), atol=1e-9)
    hard = relaxc.relax(is_palindrome, mode="hard")(relaxc.Categorical(letters.double()))
    assert hard.tolist() == [False, True]


def test_an_exit_gradient_equals_finite_differences():
    xs = _batch([[0.3, 1.2, -0.4, 2.0]]).requires_grad_()
    t = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    f = relaxc.relax(linear_search_while, beta=0.7)
    assert torch.autograd.gradcheck(lambda a, b: f(a, b), (xs, t))


def test_a_sentinel_loop_at_a_tie_with_the_pivot_approaches_python_as_beta_falls():
    rows = [[2.0, 5.0, 1.0, 4.0, 3.0]]
    expected = hoare_partition(list(rows[0]))
    for beta in (1e-2, 1e-4):
        result = relaxc.relax(hoare_partition, beta=beta)(_batch(rows))
        assert abs(result.item() - expected) < 1e-3


def collect_positive(xs):
    out = []
    i = 0
    while i < len(xs) and xs[i] > 0:
        out.append(xs[i])
        i += 1
    return out


def test_a_list_that_grows_in_a_relaxed_while_is_refused_with_the_line_and_the_fix():
    with pytest.raises(ValueError, match=r"make the list before the loop with its final size") \
            as caught:
        relaxc.relax(collect_positive)(_batch([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]))
    line = collect_positive.__code__.co_firstlineno + 3
    assert f"line {line}: while i < len(xs) and xs[i] > 0:" in caught.value.__notes__[0]
    # Hard mode where every instance appends alike is Python's.
    same = relaxc.relax(collect_positive, mode="hard")(_batch([[1.0, 2.0, -1.0]]))
    assert [v.tolist() for v in same] == [[1.0], [2.0]]


def return_or_break(xs, t):
    i = 0
    while i < len(xs):
        if xs[i] > t:
            return 1.0
        if xs[i] < -t:
            break
        i += 1
    return 2.0


@pytest.mark.parametrize("mode, beta", [("hard", 0.125), ("relaxed", 1e-4), ("relaxed", 0.5)])
def test_a_return_and_a_break_in_one_body_merge_their_exits(mode, beta):
    xs, t = _batch([[0.1, 2.0, -3.0], [0.1, -2.0, 3.0]]), torch.tensor([1.0, 1.0], dtype=torch.float64)
    result = relaxc.relax(return_or_break, mode=mode, beta=beta)(xs, t)
    if beta < 0.1:
        assert result.tolist() == [return_or_break([0.1, 2.0, -3.0], 1.0),
                                   return_or_break([0.1, -2.0, 3.0], 1.0)]
    else:   # each comparison decided once: the true expectation
        exact = relaxc.relax(return_or_break, beta=beta, mode="exact", eps=1e-13)(xs, t)
        assert torch.allclose(relaxc.relax(return_or_break, beta=beta, eps=1e-13)(xs, t), exact)


def first_negative_or_end(xs):
    i = 0
    while True:
        if xs[i] < 0:
            break
        i += 1
        if i == len(xs):
            break
    return i


def first_negative_or_length(xs):
    i = 0
    while True:
        if xs[i] < 0:
            return i
        i += 1
        if i == len(xs):
            return len(xs)


@pytest.mark.parametrize("function", [first_negative_or_end, first_negative_or_length])
def test_a_relaxed_exit_then_a_counter_exit_that_is_certain_on_the_path_that_went_on(function):
    # After the relaxed first exit, the path that went on leaves by the second exit for sure
    # (its counter is static there): every path has exited, in the proportion of the first.
    rows = [[1.0, -2.0, 3.0], [1.0, 2.0, 3.0], [-1.0, 2.0, 3.0], [0.1, -0.2, 0.3], [0.2, 0.1, 0.3]]
    xs = _batch(rows)
    f = relaxc.relax(function, beta=0.2)
    assert f.options(mode="hard")(xs).tolist() == [function(row) for row in rows]
    torch.testing.assert_close(f(xs), f.options(mode="exact")(xs))
    torch.testing.assert_close(f.options(beta=1e-4)(xs), torch.tensor([function(r) for r in rows], dtype=torch.float64))


def first_negative_returns_or_breaks_at_the_end(xs):
    i = 0
    while True:
        if xs[i] < 0:
            return -1
        i += 1
        if i == len(xs):
            break
    return i


def first_negative_returns_or_ends(xs):
    i = 0
    while i < len(xs):
        if xs[i] < 0:
            return -1
        i += 1
    return i


def test_a_relaxed_return_then_a_certain_break_ends_the_loop():
    # Two different flags: their merge is relaxed, and the loop must end there all the same (it
    # ran the body again on the exited state), as the same loop with its bound in the condition.
    rows = [[1.0, -2.0, 3.0], [1.0, 2.0, 3.0], [0.2, 0.1, 0.3]]
    xs = _batch(rows)
    expected = [first_negative_returns_or_breaks_at_the_end(r) for r in rows]
    f = relaxc.relax(first_negative_returns_or_breaks_at_the_end, beta=0.2)
    assert f.options(mode="hard")(xs).tolist() == expected
    torch.testing.assert_close(f(xs), relaxc.relax(first_negative_returns_or_ends, beta=0.2)(xs))
    torch.testing.assert_close(f.options(beta=1e-4)(xs), torch.tensor(expected, dtype=torch.float64))


# A relaxed `return` ends the function on its paths: what the code after it reads is the value of
# the paths that did not return (DESIGN §1.3), not a blend with the returned paths' values. Each of
# these has no other dependence between sequential decisions, so relaxed equals exact mode.

def running_sum_unless_large(xs):
    total = 0.0
    for x in xs:
        if x > 1:
            total = 7.0     # set on the path that returns: never read by the paths that go on
            return -1.0
        total = total + x
    return total


def assigned_then_returned(x):
    y = 3.0
    if x > 0:
        y = 5.0
        return y * 10
    return y


@pytest.mark.parametrize("function, batch", [
    (first_negative_returns_or_ends, [[0.3, -0.1, 0.5], [0.3, 0.2, 0.5]]),
    (running_sum_unless_large, [[0.5, 0.9, 0.2], [1.5, 0.0, 2.0]]),
    (assigned_then_returned, [0.1, -0.1, 0.0]),
])
def test_what_follows_a_relaxed_return_reads_the_paths_that_went_on(function, batch):
    xs = _batch(batch)
    relaxed = relaxc.relax(function, beta=0.2)(xs)
    exact = relaxc.relax(function, beta=0.2, mode="exact")(xs)
    assert torch.allclose(relaxed, exact, atol=1e-9)
    assert relaxc.relax(function, mode="hard")(xs).tolist() == \
        [function(row.tolist() if xs.dim() > 1 else float(row)) for row in xs]


# The search idiom: a variable set just before each `break` and in the loop's `else` (Python sets
# it on every way out). Carried as an exit value, it is the value given that the loop broke, and
# the `else` merge weighs it by that probability: relaxed equals exact mode (issue 14's for-else).

def first_equal_or_minus_one(xs, t):
    for i in range(len(xs)):
        if xs[i] == t:
            position = i
            break
    else:
        position = -1
    return position


def first_above_with_its_value(xs, t):
    i = 0
    while i < len(xs):
        if xs[i] > t:
            position, value = i, xs[i]
            break
        i += 1
    else:
        position = len(xs)
        value = 0.0
    return position + 10 * value


def rows_with_a_negative(grid):
    count = 0
    for row in grid:
        for x in row:
            if x < 0:
                found = 1
                break
        else:
            found = 0
        count += found
    return count


@pytest.mark.parametrize("function, batch", [
    (first_equal_or_minus_one, ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [2.0, 2.0, 1.0]], [2.0, 0.0, 2.0])),
    (first_above_with_its_value, ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [0.1, 3.0, 0.0]], [2.5, 9.0, 0.0])),
])
@pytest.mark.parametrize("beta", [0.3, 1e-4])
def test_a_loop_else_search_equals_exact_mode_and_python(function, batch, beta):
    xs, t = (_batch(b) for b in batch)
    f = relaxc.relax(function, beta=beta)
    expected = [function(row, float(v)) for row, v in zip(batch[0], batch[1])]
    assert f.options(mode="hard")(xs, t).tolist() == expected
    torch.testing.assert_close(f(xs, t), f.options(mode="exact")(xs, t))
    if beta < 1e-3:
        torch.testing.assert_close(f(xs, t), _batch(expected))


def test_a_loop_else_nested_in_a_loop_and_its_gradient():
    grid = torch.tensor([[[0.5, -0.2], [0.3, 0.4]], [[0.1, 0.2], [-0.3, -0.1]]],
                        dtype=torch.float64, requires_grad=True)
    f = relaxc.relax(rows_with_a_negative, beta=0.2)
    assert f.options(mode="hard")(grid).tolist() == [rows_with_a_negative(g) for g in grid.tolist()]
    torch.testing.assert_close(f(grid), f.options(mode="exact")(grid))
    assert torch.autograd.gradcheck(lambda g: f(g), (grid,))
