"""Regression tests for bugs found in review: each was a wrong result, a crash or a misleading
message on ordinary code, and each test fails on the code before its fix."""

import pytest
import torch

import relaxc
from corpus import index_of_max as first_index_of_max


def chained_calls(xs):
    return xs[0] <= xs[1] < abs(xs[2]) <= abs(xs[3])


def test_chained_comparison_with_several_call_operands():
    xs = torch.tensor([[1.0, 2.0, -3.0, 4.0], [1.0, 0.0, 3.0, 4.0]])
    result = relaxc.relax(chained_calls, mode="hard")(xs)
    assert result.tolist() == [chained_calls(r) for r in xs.tolist()]


def returns_a_pair(a, b):
    if a > b:
        return a, b
    return b, a


def test_returning_a_tuple_from_a_branch():
    a, b = torch.tensor([3.0, 1.0]), torch.tensor([2.0, 5.0])
    high, low = relaxc.relax(returns_a_pair, mode="hard")(a, b)
    assert high.tolist() == [3.0, 5.0] and low.tolist() == [2.0, 1.0]


def walrus_in_and(x, y):
    r = 0
    if x > 0 and (z := y * 2) > 1:
        r = z
    return r


def walrus_in_while(x):
    n = 0
    while (x := x - 1) > 0:
        n += 1
    return n


@pytest.mark.parametrize("function", [walrus_in_and, walrus_in_while])
def test_an_assignment_expression_whose_binding_would_be_lost_is_refused(function):
    with pytest.raises(relaxc.RelaxcSyntaxError, match=r"assignment expression \(`:=`\)"):
        relaxc.relax(function)


@relaxc.relax
def larger(a, b):
    return a if a > b else b


def largest_of_three(a, b, c):
    return larger(larger(a, b), c)


def test_a_relaxed_helper_runs_with_the_callers_options():
    a, b, c = torch.tensor([1.0]), torch.tensor([2.0]), torch.tensor([3.0])
    assert relaxc.relax(largest_of_three, mode="hard")(a, b, c).tolist() == [3.0]
    warm = relaxc.relax(largest_of_three, beta=5.0)(a, b, c).item()
    cold = relaxc.relax(largest_of_three, beta=0.01)(a, b, c).item()
    assert abs(cold - 3.0) < 1e-6 < abs(warm - 3.0)


def constant_or_value(x):
    y = 0.1 if x > 0 else x
    return y


def test_hard_merges_keep_python_float_precision():
    x = torch.tensor([1.0, -2.0], dtype=torch.float64)
    assert relaxc.relax(constant_or_value, mode="hard")(x).tolist() == [0.1, -2.0]


def builds_dicts(x):
    if x > 0:
        d = {"a": x, "b": 1.0}
    else:
        d = {"a": -x, "b": 2.0}
    return d["a"] + d["b"]


def test_dicts_built_on_both_paths_merge_by_key():
    x = torch.tensor([1.0, -3.0])
    assert relaxc.relax(builds_dicts, mode="hard")(x).tolist() == [2.0, 5.0]


def falls_off_the_end(x):
    if x > 0:
        return x


def test_falling_off_the_end_names_the_implicit_none():
    with pytest.raises(TypeError, match="falls off its end"):
        relaxc.relax(falls_off_the_end)(torch.tensor([1.0, -1.0]))


def index_after_loop(xs, t):
    j = 0
    while j < 2 and xs[j] < t:
        j += 1
    return xs[j]


def test_a_decided_instance_reads_its_promoted_index_exactly():
    xs = torch.tensor([[10.0, 20.0, 30.0], [0.0, 0.0, 0.0]])
    t = torch.tensor([0.0, 5.0])
    relaxed = relaxc.relax(index_after_loop, beta=0.3)
    together = relaxed(xs, t)
    assert together[0].item() == relaxed(xs[:1], t[:1]).item() == 10.0


# Found by a bug hunt on unseen algorithms (session of 2026-12-03).

def count_equal(xs, v):
    return sum(x == v for x in xs)


@pytest.mark.parametrize("mode", ["relaxed", "exact"])
def test_equal_infinities_compare_as_a_tie_not_nan(mode):
    # Masked logits: inf - inf is NaN, but Python compares two -inf as equal.
    inf = float("inf")
    rows = [[-inf, -inf, 1.0, 0.5], [3.0, 1.0, 2.0, 0.0], [2.0, -inf, 5.0, -inf]]
    xs = torch.tensor(rows, dtype=torch.float64)
    result = relaxc.relax(first_index_of_max, mode=mode, beta=1e-4)(xs)
    assert result.tolist() == [first_index_of_max(r) for r in rows]
    counts = relaxc.relax(count_equal, mode=mode, beta=1e-4)(xs, torch.full((3,), -inf, dtype=torch.float64))
    assert counts.tolist() == [count_equal(r, -inf) for r in rows]


def test_an_instance_with_nan_data_stays_nan_alone():
    xs = torch.tensor([[float("nan"), 1.0, 2.0], [3.0, 1.0, 2.0]], dtype=torch.float64)
    result = relaxc.relax(first_index_of_max, beta=1e-4)(xs)
    assert torch.isnan(result[0]) and result[1].item() == 0


def reverse_if_rising(xs):
    if xs[-1] > xs[0]:
        return xs[::-1]
    return list(xs)


def every_other_backwards(xs):
    return xs[::-2]


@pytest.mark.parametrize("mode", ["hard", "relaxed"])
def test_a_negative_step_slice_of_a_tensor_argument_and_its_merge_with_a_list(mode):
    rows = [[1.0, 2.0, 3.0], [6.0, 5.0, 4.0], [1.0, 0.0, 2.0]]
    xs = torch.tensor(rows, dtype=torch.float64)
    result = relaxc.relax(reverse_if_rising, mode=mode, beta=1e-4)(xs)
    torch.testing.assert_close(result, torch.tensor([reverse_if_rising(r) for r in rows],
                                                    dtype=torch.float64))
    torch.testing.assert_close(relaxc.relax(every_other_backwards, mode=mode)(xs),
                               torch.tensor([every_other_backwards(r) for r in rows],
                                            dtype=torch.float64))


def index_of_max(xs):
    return xs.index(max(xs))


def static_list_search(xs):
    names = [3, 1, 2]
    return xs[names.index(1) + names.count(2)]


def test_index_of_a_batch_is_refused_with_the_loop_and_a_static_list_keeps_python_s():
    xs = torch.tensor([[1.0, 5.0, 3.0], [6.0, 5.0, 4.0]], dtype=torch.float64)
    for argument in (xs, list(xs.unbind(1))):
        with pytest.raises(TypeError, match=r"`\.index\(\.\.\.\)` of a sequence whose elements "
                                            r"differ per instance .* `position = j`"):
            relaxc.relax(index_of_max, mode="hard")(argument)
    assert relaxc.relax(static_list_search)(xs).tolist() == [3.0, 4.0]


def last_small_before_big(xs, t):
    k = 0
    for x in xs:
        if x < t:
            k += 1
        else:
            break
    xs[k - 1] = xs[k - 1] + 100.0
    return xs[k - 1]


def test_a_relaxed_index_at_an_exact_negative_integer_counts_from_the_end():
    # The counter is relaxed (promoted by the relaxed `if`) but exactly 0 in the first instance:
    # `xs[k - 1]` is `xs[-1]`, the last element, for reading and writing.
    rows = [[5.0, 1.0, 2.0, 7.0], [1.0, 2.0, 9.0, 3.0]]
    xs = torch.tensor(rows, dtype=torch.float64)
    t = torch.tensor([4.0, 4.0], dtype=torch.float64)
    expected = [last_small_before_big(list(r), 4.0) for r in rows]
    for mode in ("hard", "relaxed"):
        assert relaxc.relax(last_small_before_big, mode=mode, beta=1e-3)(xs, t).tolist() == expected


# Found by a second bug hunt (helpers, arithmetic of conditions).

def is_above(x, t):
    return x > t


def above_via_a_helper(x):
    if is_above(x, 1.0):
        return 1.0
    return 0.0


def above_inline(x):
    if x > 1.0:
        return 1.0
    return 0.0


def both_above_via_helpers(x, y):
    return not is_above(x, 0.0) or is_above(y, 0.0)


def best_position(xs):
    return relaxc.argmax(xs)


def read_at_best(xs, ys):
    return ys[best_position(xs)]


@pytest.mark.parametrize("beta", [0.5, 0.05])
def test_a_helper_returns_a_condition_as_a_condition(beta):
    # Its result reached the caller as a probability tensor, whose truth is "non-zero".
    x = torch.tensor([2.33, -1.8, 0.5, 1.0], dtype=torch.float64)
    torch.testing.assert_close(relaxc.relax(above_via_a_helper, beta=beta)(x),
                               relaxc.relax(above_inline, beta=beta)(x))
    torch.testing.assert_close(relaxc.relax(above_via_a_helper, beta=beta)(x),
                               relaxc.relax(above_via_a_helper, beta=beta, mode="exact")(x))
    y = torch.tensor([-0.5, 0.2, 1.0, -2.0], dtype=torch.float64)
    result = relaxc.relax(both_above_via_helpers, beta=beta)(x, y)
    p_x, p_y = torch.sigmoid(x / beta), torch.sigmoid(y / beta)
    torch.testing.assert_close(result, 1 - p_x + p_x * p_y)


@pytest.mark.parametrize("mode", ["hard", "relaxed"])
def test_a_helper_returns_a_categorical_that_indexes_per_instance(mode):
    xs = torch.tensor([[1.0, 5.0, 3.0], [6.0, 5.0, 4.0]], dtype=torch.float64)
    ys = torch.tensor([[10.0, 20.0, 10.0], [2.0, 1.0, 1.0]], dtype=torch.float64)
    result = relaxc.relax(read_at_best, mode=mode, beta=1e-4)(xs, ys)
    assert result.shape == (2,)
    torch.testing.assert_close(result, torch.tensor([20.0, 2.0], dtype=torch.float64))


def votes(a, b, c):
    return (a > 0) + (b > 0) + (c > 0)


def majority(a, b, c):
    return (a > 0) + (b > 0) + (c > 0) >= 2


def vote_difference(a, b):
    return (a > 0) - (b > 0) - (-(b > 1))


@pytest.mark.parametrize("mode", ["hard", "exact", "relaxed"])
def test_conditions_add_and_subtract_as_python_s_ints(mode):
    a, b, c = (torch.tensor(v, dtype=torch.float64) for v in
               ([1.0, 1.0, -1.0], [2.0, -1.0, -1.0], [3.0, 1.0, -1.0]))
    rows = list(zip(a.tolist(), b.tolist(), c.tolist()))
    beta = 1e-4
    for function, arguments in ((votes, (a, b, c)), (majority, (a, b, c)),
                                (vote_difference, (a, b))):
        result = relaxc.relax(function, mode=mode, beta=beta)(*arguments)
        expected = [float(function(*row[:len(arguments)])) for row in rows]
        assert [float(v) for v in result] == expected, function.__name__


class Thresholder:
    def __init__(self, t):
        self.t = t

    def count(self, xs):
        c = 0
        for x in xs:
            if x > self.t:
                c += 1
        return c


THRESHOLDER = Thresholder(0.5)


def count_through_a_method(xs):
    return THRESHOLDER.count(xs)


def test_a_user_method_named_count_is_compiled_not_refused():
    xs = torch.tensor([[2.0, -1.0, 1.0], [0.0, 0.1, 0.2]], dtype=torch.float64)
    assert relaxc.relax(count_through_a_method, mode="hard")(xs).tolist() == [2, 0]


def gcd(a, b):
    while b != 0:
        a, b = b, a % b
    return a


def test_sample_mode_draws_on_when_a_stopped_instance_holds_nan():
    # (7, 0) has left its loop; the batch goes on for (12, 8), and 7 % 0 is NaN on the stopped
    # instance's placeholder path: its condition must not fail the batch's draw.
    a = torch.tensor([12.0, 7.0], dtype=torch.float64)
    b = torch.tensor([8.0, 0.0], dtype=torch.float64)
    result = relaxc.relax(gcd, beta=1e-3, mode="sample", samples=20, seed=0)(a, b)
    assert result.tolist() == [4.0, 7.0]
