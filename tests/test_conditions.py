"""Conditions (runtime/conditions.py): integer-valued comparisons, per-instance short-circuit and
relaxed membership (issue 14, items 4, 5, 17)."""

import pytest
import torch

import relaxc
from corpus import binary_search, bisect_left, merge_sorted, sum_first_two_positive


def first_at_least(xs, t):
    i = 0
    while True:
        if i >= len(xs) or xs[i] >= t:
            return i
        i += 1


def not_among(x, a, b):
    if x not in (a, b):
        return 1.0
    return 0.0


def among(x, a, b, c):
    return x in (a, b, c)


def _tensor(values):
    return torch.tensor(values, dtype=torch.float64)


@pytest.mark.parametrize("function, xs, t", [
    (sum_first_two_positive, [1.0, 2.0, 4.0], None),
    (bisect_left, [0.0, 1.0, 2.0, 3.0], 5.0),
    (bisect_left, [0.0, 1.0, 2.0, 3.0], 1.5),
    (binary_search, [-1.0, 0.0, 5.0, 9.0], 9.0),
    (binary_search, [-1.0, 0.0, 5.0, 9.0], 4.0),
])
def test_counters_at_ties_approach_python_as_beta_falls(function, xs, t):
    # A counter merged from relaxed branches compares with the continuity correction: at
    # `count == 2.0` the probability of `count >= 2` tends to 1, not 0.5.
    args = [xs] if t is None else [xs, t]
    expected = function(*args)
    batched = [_tensor([xs])] + ([] if t is None else [_tensor([t])])
    for beta in (1e-3, 1e-6):
        result = relaxc.relax(function, beta=beta)(*batched)
        assert abs(result.item() - expected) < 1e-3, beta


def counter_comparisons(x):
    count = 0
    if x > 0:
        count += 1
    return count < 1, count <= 0, count == 1


def test_integer_comparisons_take_the_continuity_correction():
    # `count` is P[x > 0] = σ(x/β) in expectation, an integer on every path: compared with the
    # integers 1 and 0 it takes the ½ correction (DESIGN §1.2).
    beta = 0.25
    x = _tensor([-0.3, 0.1, 0.2, 1.0])
    below, at_most, equal = relaxc.relax(counter_comparisons, beta=beta)(x)
    count = torch.sigmoid(x / beta)
    sigma = torch.sigmoid
    assert torch.allclose(below, sigma((1 - count - 0.5) / beta))
    assert torch.allclose(at_most, sigma((0 - count + 0.5) / beta))
    d = 1 - count
    assert torch.allclose(equal, sigma((0.5 - d) / beta) - sigma((-0.5 - d) / beta))


def test_the_compiler_marks_only_integer_valued_comparisons():
    text = relaxc.to_source(relaxc.relax(bisect_left))
    assert "rx.lt(lo, hi, integer=True)" in text
    assert "rx.lt(rx.getitem(xs, mid), x)" in text   # data: no correction


@pytest.mark.parametrize("mode", ["hard", "relaxed", "exact"])
def test_or_and_guards_short_circuit_per_instance(mode):
    a, b = _tensor([[1.0, 4.0], [0.0, 1.0]]), _tensor([[2.0, 3.0, 5.0], [2.0, 3.0, 4.0]])
    result = relaxc.relax(merge_sorted, mode=mode, beta=1e-3)(a, b)
    expected = [merge_sorted([1.0, 4.0], [2.0, 3.0, 5.0]),
                merge_sorted([0.0, 1.0], [2.0, 3.0, 4.0])]
    assert torch.allclose(torch.stack(result, 1), _tensor(expected), atol=1e-6)


@pytest.mark.parametrize("mode", ["hard", "relaxed"])
def test_a_guarded_read_past_the_end_is_no_error(mode):
    xs, t = _tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), _tensor([2.5, 5.0])
    result = relaxc.relax(first_at_least, mode=mode, beta=1e-3)(xs, t)
    assert torch.allclose(result.double(), _tensor([2.0, 3.0]), atol=1e-6)


def test_a_decided_left_operand_keeps_a_nan_right_operand_out():
    def guarded(x):
        return x > 0 and torch.sqrt(x) > 1

    result = relaxc.relax(guarded)(_tensor([-4.0, 4.0]))
    assert torch.isfinite(result).all() and result[0] == 0


@pytest.mark.parametrize("mode", ["hard", "relaxed"])
def test_membership_in_a_static_tuple_is_the_relaxed_or_of_equalities(mode):
    x, a, b, c = _tensor([1.0, 2.0]), _tensor([1.0, 1.0]), _tensor([3.0, 3.0]), _tensor([0.0, 2.0])
    f = relaxc.relax(not_among, mode=mode, beta=1e-3)
    assert f(x, a, b).tolist() == [not_among(1.0, 1.0, 3.0), not_among(2.0, 1.0, 3.0)]
    g = relaxc.relax(among, beta=0.5)
    p = [4 * torch.sigmoid((v - x) / 0.5) * torch.sigmoid((x - v) / 0.5) for v in (a, b, c)]
    either = 1 - (1 - p[0]) * (1 - p[1]) * (1 - p[2])
    assert torch.allclose(g(x, a, b, c), either)


def guarded_root(x):
    y = 0.0
    if x > 0 and torch.sqrt(x) > 1:
        y = 1.0
    return y


def test_the_gradient_of_a_decided_and_keeps_the_right_operands_nan_out():
    x = torch.tensor([-4.0, 4.0, 0.5], dtype=torch.float64, requires_grad=True)
    relaxc.relax(guarded_root, beta=0.1)(x).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad[0] == 0


def counts_then_compares_a_comprehension_variable(xs, t):
    i = 0
    for j in range(len(xs)):
        if xs[j] > t:
            i += 1
    below = sum([(i < 0) for i in xs])   # this `i` is a data value, not the counter
    return i + below


def test_a_comprehension_variable_named_like_a_counter_is_no_integer():
    xs = [_tensor([1.0, -1.0]), _tensor([2.0, -2.0]), _tensor([0.5, 3.0]), _tensor([-1.0, 1.0])]
    t = _tensor([0.7, 0.7])
    result = relaxc.relax(counts_then_compares_a_comprehension_variable, beta=1e-6)(xs, t)
    expected = [counts_then_compares_a_comprehension_variable([float(v[k]) for v in xs], 0.7)
                for k in range(2)]
    assert result.tolist() == expected


def at_least_three_positive(xs):
    return sum(x > 0 for x in xs) >= 3


def bucket_majority(xs):
    counts = [0, 0]
    for x in xs:
        if x > 0:
            counts[1] += 1
        else:
            counts[0] += 1
    total = sum(counts)
    return counts[1] >= 3, total == len(xs)


def scaled_bucket(xs):
    counts = [0, 0]
    for x in xs:
        if x > 0:
            counts[1] += 0.5   # not an integer: no correction
    return counts[1] >= 0.75


def _per_instance(result, k):
    return tuple(float(v[k]) for v in result) if isinstance(result, tuple) else float(result[k])


@pytest.mark.parametrize("function", [at_least_three_positive, bucket_majority, scaled_bucket])
def test_counts_made_by_sum_or_held_in_a_list_are_integers(function):
    # The first row has three positives: at β → 0 the count compares as the integer it is on every
    # path (it was left exactly on the tie, 0.5, without the continuity correction).
    rows = [[-9.68, 0.3, 7.85, 6.58, -8.41], [1.0, 2.0, -3.0, -4.0, -5.0], [1.0, -2.0, -3.0, -4.0, -5.0]]
    xs = _tensor(rows)
    expected = [function(row) for row in rows]
    for mode, beta in (("hard", 1.0), ("relaxed", 1e-4)):
        result = relaxc.relax(function, mode=mode, beta=beta)(xs)
        got = [_per_instance(result, k) for k in range(len(rows))]
        assert got == [tuple(map(float, v)) if isinstance(v, tuple) else float(v) for v in expected]


def test_the_compiler_marks_sums_of_comparisons_and_integer_lists_only():
    assert "integer=True" in relaxc.to_source(relaxc.relax(at_least_three_positive))
    text = relaxc.to_source(relaxc.relax(bucket_majority))
    assert text.count("integer=True") == 2
    assert "integer=True" not in relaxc.to_source(relaxc.relax(scaled_bucket))


def tuple_order(a, b, c, d):
    return (a, b) < (c, d), (a, b) <= (c, d), [a] < [a, b]


def counts_in_tuple_order(xs):
    above, below = 0, 0
    for x in xs:
        if x > 0:
            above += 1
        else:
            below += 1
    return (above, below) < (2, 2)


def test_tuples_compare_in_pythons_order():
    generator = torch.Generator().manual_seed(3)
    a, b, c, d = torch.randn(4, 64, generator=generator, dtype=torch.float64)
    c = torch.where(torch.arange(64) % 2 == 0, a, c)   # half the pairs tie on the first element
    f = relaxc.relax(tuple_order)
    expected = [tuple_order(*(float(v[k]) for v in (a, b, c, d))) for k in range(64)]
    hard = f.options(mode="hard")(a, b, c, d)
    assert [tuple(bool(v[k]) if isinstance(v, torch.Tensor) else v for v in hard) for k in range(64)] == expected
    # Relaxed, where the first elements differ: the first decides.
    lt, le, prefix = f.options(beta=1e-4)(a, b, c, d)
    first_differs = torch.arange(64) % 2 == 1
    assert torch.equal(lt[first_differs], (a < c)[first_differs].double())
    assert torch.equal(torch.as_tensor(prefix, dtype=torch.float64), torch.ones(64, dtype=torch.float64))
    # Integer-valued elements tie exactly: the continuity correction decides, as in Python.
    rows = [[1.0, 2.0, -1.0, -2.0], [1.0, -2.0, -1.0, -2.0], [1.0, 2.0, 3.0, -2.0]]
    g = relaxc.relax(counts_in_tuple_order, beta=1e-4)
    assert g(_tensor(rows)).tolist() == [float(counts_in_tuple_order(r)) for r in rows]


def quarters_written_by_a_tuple_target(xs):
    counts = [0, 0]
    counts[0], counts[1] = 0.25, 0.75
    for x in xs:
        if x > 0:
            counts[1] += 1
    return counts[0] < counts[1]


def test_a_list_written_non_integers_through_a_tuple_target_is_no_integer_list():
    assert "integer=True" not in relaxc.to_source(relaxc.relax(quarters_written_by_a_tuple_target))


def first_index_above(xs, t):
    found = 0
    for k, x in enumerate(xs):
        if x > t:
            found = k
            break
    return found <= 0


def exit_position(xs, t):
    i = 0
    while i < len(xs):
        if xs[i] > t:
            position = i
            break
        i += 1
    else:
        position = -1
    return position <= 0


def counted_above(xs, t):
    counts = {"above": 0, "below": 0}
    for x in xs:
        if x > t:
            counts["above"] += 1
    return counts["above"] >= 1


@pytest.mark.parametrize("function", [first_index_above, exit_position, counted_above])
def test_counters_behind_a_break_keep_the_continuity_correction(function):
    # An enumerate counter and an exit value are integers after the loop's rewrite too, and a
    # dict's counts as a list's: a tie (position 0 <= 0, a count of 1 >= 1) decides as in
    # Python as β → 0, not ½.
    xs, t = _tensor([[3.0, -1.0, -2.0], [-3.0, -1.0, -2.0]]), _tensor([0.3, -1.5])
    expected = [float(function(r, v)) for r, v in zip(xs.tolist(), t.tolist())]
    assert relaxc.relax(function, beta=1e-4)(xs, t).tolist() == pytest.approx(expected, abs=1e-6)


def reused_item(xs, ys):
    for item in enumerate(xs):
        k, v = item
        if v > 100:
            break
    total = 0.0
    for item in zip(xs, ys):
        a, b = item
        if a > 0:
            total = total + 1.0
    return total


def test_a_name_bound_by_enumerate_and_by_another_loop_is_no_counter():
    # `a` comes from zip's pairs: taken for enumerate's counter, its comparison was shifted by ½.
    xs, ys = _tensor([[0.3, 0.2, 0.4]]), _tensor([[1.0, 2.0, 3.0]])
    assert relaxc.relax(reused_item, beta=1e-3)(xs, ys).tolist() == pytest.approx([3.0], abs=1e-6)


def last_above_reversed(xs, t):
    pos = -1
    for j in reversed(range(len(xs))):
        if xs[j] > t:
            pos = j
            break
    return pos >= 1


def last_above_zipped(xs, t):
    pos = -1
    for j, x in zip(range(len(xs)), xs):
        if x > t:
            pos = j
    return pos >= 1


def last_above_listed(xs, t):
    pos = -1
    for j in (0, 1, 2):
        if xs[j] > t:
            pos = j
    return pos >= 1


def count_after_a_per_instance_range(xs, t):
    for i in range(2):
        for j in range(2 - i):   # (a bound of a counter that is relaxed below: positions)
            pass
    i = 0
    j = 0
    for x in xs:
        if x > t:
            j += 1
        else:
            i += 1
    return j >= 2


@pytest.mark.parametrize("function", [last_above_reversed, last_above_zipped, last_above_listed,
                                      count_after_a_per_instance_range])
def test_loop_targets_that_are_ints_are_integer_valued(function):
    # Each position is an int on every path: at β → 0 the comparison on the tie (pos = 1 against
    # 1) is Python's, not 0.5.
    rows = [[5.0, 2.0, -1.0], [-1.0, 0.5, -2.0]]
    result = relaxc.relax(function, beta=1e-4)(_tensor(rows), torch.full((2,), 1.0))
    assert result.tolist() == [float(function(row, 1.0)) for row in rows]
