"""Loops and early exits (DESIGN §1.3): the relaxed ``while`` is the paper's series, frozen
instances never depend on the batch, the fixed-iteration form agrees and compiles, and early exits
weight what follows by the probability that it is reached."""

import warnings

import pytest
import torch
from torch.autograd import gradcheck

import relaxc
from corpus import bubble_sort_while, countdown, linear_search

BETA = 0.5


def countdown_series(x, beta, iterations):
    """Σ_i P(exactly i iterations) · state_i, with P_i = q_0 ⋯ q_{i-1} (1 − q_i), q_i = σ((x − i)/β)."""
    reach = torch.ones_like(x)
    value = torch.zeros_like(x)
    steps = torch.zeros_like(x)
    for i in range(iterations):
        q = torch.sigmoid((x - i) / beta)
        value = value + reach * (1 - q) * (x - i)
        steps = steps + reach * (1 - q) * i
        reach = reach * q
    return value + reach * (x - iterations), steps + reach * iterations


def test_relaxed_while_is_the_series_of_eq_7():
    x = torch.tensor([0.3, 1.7, 2.5, -1.0], dtype=torch.float64)
    relaxed = relaxc.relax(countdown, beta=BETA, eps=1e-13, max_iter=60)
    value, steps = relaxed(x)
    expected_value, expected_steps = countdown_series(x, BETA, 60)
    torch.testing.assert_close(value, expected_value, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(steps, expected_steps, rtol=1e-9, atol=1e-9)


def test_gradcheck_through_a_relaxed_while():
    x = torch.tensor([0.3, 1.7, 2.5], dtype=torch.float64, requires_grad=True)
    relaxed = relaxc.relax(countdown, beta=BETA, eps=1e-13, max_iter=40)
    assert gradcheck(lambda x: torch.stack(relaxed(x)), (x,))


def test_frozen_instances_do_not_depend_on_the_batch():
    # The first instance freezes after ~1 iteration, the second runs for ~40.
    x = torch.tensor([0.2, 40.0], dtype=torch.float64)
    relaxed = relaxc.relax(countdown, beta=BETA, max_iter=100)
    together = relaxed(x)
    for i in range(2):
        alone = relaxed(x[i:i + 1])
        for a, b in zip(alone, together):
            assert a.item() == b[i].item()


def test_past_max_iter_the_remaining_mass_stays_on_the_last_state_with_a_warning():
    relaxed = relaxc.relax(countdown, beta=BETA, max_iter=3)
    with pytest.warns(RuntimeWarning, match=r"corpus.py:\d+: relaxed `while` stopped after "
                                            r"max_iter=3"):
        value, steps = relaxed(torch.tensor([10.0], dtype=torch.float64))
    expected_value, expected_steps = countdown_series(torch.tensor([10.0], dtype=torch.float64),
                                                      BETA, 3)
    torch.testing.assert_close(value, expected_value)
    torch.testing.assert_close(steps, expected_steps)


def test_fixed_iterations_agree_with_early_exit():
    x = torch.tensor([0.3, 1.7, 2.5], dtype=torch.float64)
    early = relaxc.relax(countdown, beta=0.2, max_iter=12)
    fixed = early.options(fixed_iterations=True)
    for a, b in zip(early(x), fixed(x)):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=0)


def test_fixed_iterations_compile_with_fullgraph(monkeypatch):
    # Where $CI is set, Inductor checks its own tables when it falls back to eager for an op
    # (seen in a full run: "make_fallback(aten.eq.Scalar): a decomposition exists, we should
    # switch to it"), a check for torch's developers that no user sees: not relaxc's to pass.
    monkeypatch.delenv("CI", raising=False)
    relaxed = relaxc.relax(countdown, beta=0.2, max_iter=4, fixed_iterations=True)
    x = torch.tensor([0.3, 1.7, 2.5])
    compiled = torch.compile(relaxed, fullgraph=True)
    for a, b in zip(compiled(x), relaxed(x)):
        torch.testing.assert_close(a, b)


def test_a_compiled_relaxed_sort_is_captured_once_for_every_new_input():
    # Identity tests on the caller's tensors (id()) or thread-local state that appears after the
    # first call would make dynamo guard on them and recompile on every call.
    from torch._dynamo.testing import CompileCounter
    torch._dynamo.reset()
    counter = CompileCounter()
    relaxed = relaxc.relax(bubble_sort_while, beta=0.2, max_iter=3, fixed_iterations=True)
    compiled = torch.compile(relaxed, backend=counter, fullgraph=True)
    for seed in range(3):
        x = torch.randn(4, 3, generator=torch.Generator().manual_seed(seed), requires_grad=True)
        torch.testing.assert_close(compiled(x), relaxed(x))
    assert counter.frame_count == 1


def test_early_return_weights_what_follows():
    # linear_search on [x0, x1]: returns 0 with p0, 1 with (1 - p0)·p1, else -1. Flags are refined
    # on each path and return values merged with their mass, so this is exact.
    xs = torch.tensor([[0.2, 1.1], [0.9, 3.0]], dtype=torch.float64)
    result = relaxc.relax(linear_search, beta=BETA)(xs, 1.0)
    p0, p1 = (1 / torch.cosh((xs[:, k] - 1.0) / (2 * BETA)) ** 2 for k in (0, 1))
    expected = p0 * 0 + (1 - p0) * p1 * 1 + (1 - p0) * (1 - p1) * -1
    torch.testing.assert_close(result, expected)


def test_break_and_continue_weight_the_rest_of_the_loop():
    # skip_negatives: the sum of x over the elements that are not negative (continue).
    # first_positive below: the value of the first x > 0 (break), else 0.
    xs = torch.tensor([[-0.3, 0.4, 0.1]], dtype=torch.float64)
    from corpus import skip_negatives
    total = relaxc.relax(skip_negatives, beta=BETA)(xs)
    p_neg = torch.sigmoid(-xs / BETA)
    torch.testing.assert_close(total, ((1 - p_neg) * xs).sum(1))

    # After a relaxed `break` the rest of each iteration is a block guarded by `not broke`; the
    # blocks are merged one after another (path merging), the flag being exact on each path.
    first = relaxc.relax(first_positive, beta=BETA)(xs)
    q = torch.sigmoid(xs / BETA)[0]
    found, broke = q[0] * xs[0, 0], q[0]
    for k in (1, 2):
        go_on = 1 - broke
        found = go_on * (q[k] * xs[0, k] + (1 - q[k]) * found) + (1 - go_on) * found
        broke = go_on * q[k] + (1 - go_on) * 1
    torch.testing.assert_close(first, found.reshape(1))


def first_positive(xs):
    found = 0.0
    for x in xs:
        if x > 0:
            found = x
            break
    return found


def relaxed_bound(xs, x):
    n = 2
    if x > 0:
        n = 3
    total = 0
    for j in range(n):
        total += xs[j]
    return total


def test_a_per_instance_range_bound_runs_each_instance_its_own_count():
    xs = torch.tensor([[1.0, 2.0, 4.0], [1.0, 2.0, 4.0]], dtype=torch.float64)
    x = torch.tensor([1.0, -1.0], dtype=torch.float64)
    expected = [relaxed_bound(row.tolist(), float(v)) for row, v in zip(xs, x)]
    assert relaxc.relax(relaxed_bound, mode="hard")(xs, x).tolist() == expected
    cold = relaxc.relax(relaxed_bound, beta=1e-3)(xs, x)
    assert torch.allclose(cold, torch.tensor(expected, dtype=torch.float64), atol=1e-6)


def stepped_bound(xs, x):
    start = 0
    if x > 0:
        start = 1
    total = 0
    for j in range(start, len(xs), 2):
        total += xs[j]
    return total


def test_a_per_instance_range_start_with_a_step_of_two_is_refused_with_the_line():
    with pytest.raises(TypeError, match="a static step of 1 or -1") as caught:
        relaxc.relax(stepped_bound)(torch.zeros(1, 3), torch.tensor([1.0]))
    assert f"line {stepped_bound.__code__.co_firstlineno + 5}" in caught.value.__notes__[0]


def generator_in_loop(xs):
    for x in xs:
        yield x


def test_a_generator_is_refused_at_compile_time():
    with pytest.raises(relaxc.RelaxcSyntaxError, match="a generator cannot be relaxed") as caught:
        relaxc.relax(generator_in_loop)
    assert caught.value.lineno == generator_in_loop.__code__.co_firstlineno + 2


def test_iterating_a_batched_tensor_yields_per_instance_elements():
    @relaxc.relax(mode="hard")
    def total(xs):
        s = 0
        for i, x in enumerate(xs):
            s += x * i
        return s

    xs = torch.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
    assert total(xs).tolist() == [8.0, 1.0]


def test_comprehensions_over_static_iterables():
    @relaxc.relax(mode="hard")
    def doubled_positive(xs):
        return [2 * x for x in xs if 1 > 0]

    xs = torch.tensor([[1.0, 2.0]])
    assert [v.tolist() for v in doubled_positive(xs)] == [[2.0], [4.0]]


def test_a_list_argument_sorted_by_a_relaxed_while_is_the_callers_list():
    from corpus import insertion_sort
    xs = [torch.tensor([3.0, 0.0]), torch.tensor([1.0, 2.0]), torch.tensor([2.0, 1.0])]
    originals = list(xs)
    result = relaxc.relax(insertion_sort, beta=0.05)(xs)
    assert result is xs                      # mutated in place, as Python's list would be
    assert any(a is not b for a, b in zip(xs, originals))
    torch.testing.assert_close(torch.stack(xs, 1), torch.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 2.0]]),
                               atol=1e-3, rtol=0)


def countdown_return(x):
    while x > 0:
        x = x - 1
        if x < 0.5:
            return 10.0
    return 20.0


def exact_countdown_return(x, beta, depth=40):
    """The expectation over every path: each condition is an independent Bernoulli."""
    expected, reach = 0.0, 1.0
    for k in range(depth):
        go_on = torch.sigmoid(torch.tensor((x - k) / beta)).item()
        expected += reach * (1 - go_on) * 20.0        # the loop ends, then `return 20.0`
        reach *= go_on
        stop = torch.sigmoid(torch.tensor((0.5 - (x - k - 1)) / beta)).item()
        expected += reach * stop * 10.0
        reach *= 1 - stop
    return expected


def test_return_inside_a_relaxed_while_is_the_exact_expectation():
    # The loop state is deterministic along each path here, so merging loses nothing.
    x = torch.tensor([1.3, 2.7, 0.2], dtype=torch.float64)
    result = relaxc.relax(countdown_return, beta=BETA, eps=1e-12)(x)
    expected = [exact_countdown_return(v, BETA) for v in x.tolist()]
    torch.testing.assert_close(result, torch.tensor(expected, dtype=torch.float64))


def last_before_zero(x):
    while x > 0:
        x = x - 1
        last = x
    else:
        result = last
    return result


def test_while_else_reads_a_variable_assigned_in_the_body():
    assert relaxc.relax(last_before_zero)(2.5) == last_before_zero(2.5)


def count_to(n):
    i = 0
    while i < n:
        i += 1
    return i


def test_a_static_while_is_not_cut_off_at_max_iter():
    assert relaxc.relax(count_to, max_iter=8)(2000) == 2000


def loop_in_an_untaken_branch(x, y):
    n = 0
    if x > 0:
        while y != 0:
            y = y - 1
            n += 1
    return n


def test_a_loop_in_a_branch_an_instance_does_not_take_stops_for_it_at_once():
    hard = relaxc.relax(loop_in_an_untaken_branch, mode="hard", max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # no 'stopped after max_iter' warning
        result = hard(torch.tensor([-1.0, 1.0]), torch.tensor([-1.0, 3.0]))
    assert result.tolist() == [0, 3]


def gain_of_pairs(pairs):
    gain = 0
    for a, b in pairs:
        if a > b:
            gain += a - b
    first, *rest = pairs
    low, high = first
    return gain, high - low, len(rest)


def test_unpacking_a_batched_sequence_unpacks_each_instance():
    pairs = torch.tensor([[[3.0, 1.0], [0.0, 2.0]], [[5.0, 1.0], [2.0, 2.0]],
                          [[1.0, 1.0], [1.0, 0.0]]])
    gain, spread, rest = relaxc.relax(gain_of_pairs, mode="hard")(pairs)
    expected = [gain_of_pairs(p.tolist()) for p in pairs]
    assert gain.tolist() == [e[0] for e in expected]
    assert spread.tolist() == [e[1] for e in expected] and rest == 1


def sentinel_index(xs):
    key = xs[0]
    i = 1
    while xs[i] < key:
        i += 1
    return i


@pytest.mark.parametrize("mode", ["exact", "sample"])
def test_a_drawn_path_past_the_sentinel_stops_there_as_a_relaxed_one_does(mode):
    # Before: an IndexError for the whole batch in exact and sample mode, where relaxed mode
    # stops that path with a warning.
    xs = torch.tensor([[0.5, 3.0, 1.5, 2.5], [3.0, 1.0, 0.2, 4.0]], dtype=torch.float64)
    relaxed = relaxc.relax(sentinel_index, beta=0.125)
    with pytest.warns(RuntimeWarning, match="reads out of range"):
        expected = relaxed(xs)
    with pytest.warns(RuntimeWarning, match="reads out of range"):
        result = relaxed.options(mode=mode, samples=400)(xs)
    torch.testing.assert_close(result, expected, atol=0.05 if mode == "sample" else 1e-6, rtol=0,
                               check_dtype=False)


def merge_two_sorted(a, b):
    out = [0.0] * (len(a) + len(b))
    i = j = k = 0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            out[k] = a[i]
            i += 1
        else:
            out[k] = b[j]
            j += 1
        k += 1
    while i < len(a):
        out[k] = a[i]
        i += 1
        k += 1
    while j < len(b):
        out[k] = b[j]
        j += 1
        k += 1
    return out


def test_a_body_that_a_merged_counter_takes_out_of_range_stops_that_path_with_a_warning():
    # A near tie leaves i and j between 0 and 1: the tail loop then runs a little mass one step
    # past the end of `out`, which no instance's Python run does (hard mode: no error either).
    a, b = (torch.tensor(v, dtype=torch.float64) for v in ([[1.0]], [[1.01, 2.0]]))
    hard = relaxc.relax(merge_two_sorted, mode="hard")(a, b)
    assert [float(v) for v in hard] == merge_two_sorted([1.0], [1.01, 2.0])
    with pytest.warns(RuntimeWarning, match="body reads or writes out of range"):
        relaxed = relaxc.relax(merge_two_sorted, beta=0.3)(a, b)
    assert all(bool(torch.isfinite(v).all()) for v in relaxed)
    far = relaxc.relax(merge_two_sorted, beta=1e-3)(a, b)   # (no tie within β: Python's result)
    assert [float(v) for v in far] == pytest.approx(merge_two_sorted([1.0], [1.01, 2.0]))


def shifted_copy(xs, t):
    out = [0.0] * len(xs)
    i = 0
    while i < len(xs) and xs[i] < t:
        out[i + 1] = xs[i]   # off by one: Python raises on the last element
        i += 1
    return out


def test_a_body_out_of_range_that_an_instance_surely_reaches_raises_as_python_does():
    xs = torch.tensor([[1.0, 2.0, 3.0]])
    for mode in ("hard", "relaxed"):
        with pytest.raises(IndexError):
            relaxc.relax(shifted_copy, mode=mode)(xs, torch.tensor([10.0]))
