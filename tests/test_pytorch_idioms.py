"""Code as a PyTorch user writes it around a network: tensor arguments used as Python sequences
(`extend`, `+=`, `*xs`, `zip(*grid)`, `.copy()`, `.tolist()`), integer data, `(B, 1)` outputs of
`nn.Linear`, relaxed methods of an `nn.Module`, evaluation under `torch.inference_mode`,
library functions that compare, and a Python bool compared with numbers. Each test fails on the code before its fix (a third bug hunt):
the oracle is the plain function run on each instance, or the relaxed result of the same code
written another way."""

import bisect
import statistics

import pytest
import torch

import relaxc
from corpus import bisect_left
from relaxc_runtime.arguments import ArgumentShapeError


def per_instance(function, *batched):
    """The plain function on each instance's Python values."""
    rows = zip(*[b.tolist() for b in batched])
    return [function(*row) for row in rows]


def extended_length(xs):
    ys = []
    ys.extend(xs)
    return len(ys)


def added_length(xs):
    ys = [0.0]
    ys += xs
    return len(ys)


def starred_length(xs):
    return len([*xs])


def largest_of(*values):
    best = values[0]
    for v in values:
        if v > best:
            best = v
    return best


def largest_unpacked(xs):
    return largest_of(*xs)


def largest_of_extended(xs):
    ys = []
    ys.extend(xs)
    return max(ys)


def best_column_sum(grid):
    best = 0.0
    for column in zip(*grid):
        total = sum(column)
        if total > best:
            best = total
    return best


def first_two_in_order(xs):
    ys = xs.copy()
    if ys[0] > ys[1]:
        ys[0], ys[1] = ys[1], ys[0]
    return ys[0]


def larger_of_first_two(xs):
    ys = xs.tolist()
    if ys[0] > ys[1]:
        return ys[0]
    return ys[1]


@pytest.mark.parametrize("function", [extended_length, added_length, starred_length])
def test_a_tensor_sequence_extends_a_list_by_one_instances_elements(function):
    # Before: the batch's rows (a length of 3 for B = 3, n = 5).
    xs = torch.randn(3, 5)
    assert relaxc.relax(function)(xs) == function(list(range(5)))


@pytest.mark.parametrize("function", [largest_unpacked, largest_of_extended, best_column_sum,
                                      first_two_in_order, larger_of_first_two])
def test_sequence_idioms_on_a_tensor_are_per_instance(function):
    generator = torch.Generator().manual_seed(0)
    shape = (4, 2, 3) if function is best_column_sum else (4, 5)
    xs = torch.rand(shape, generator=generator, dtype=torch.float64) - 0.3
    hard = relaxc.relax(function, mode="hard")(xs)
    if function is larger_of_first_two:   # (`.tolist()`: each instance's row is a 1-d tensor)
        assert hard.tolist() == [function(row) for row in xs]
    else:
        assert hard.tolist() == per_instance(function, xs)
    cold = relaxc.relax(function, beta=1e-4)(xs)
    torch.testing.assert_close(cold, hard, atol=1e-3, rtol=0)


def largest_by_max(xs):
    best = xs[0]
    for v in xs:
        best = max(best, v)
    return best


def index_of_largest(xs, ys):
    return ys[relaxc.argmax(xs)]


def test_max_of_integer_data_is_exact_and_keeps_its_dtype():
    # Integers and booleans compare exactly, also relaxed (before: a softmax, 0.9998 for 1).
    xs = torch.tensor([[1, 0, 1], [3, 2, 1], [0, 0, 0]])
    for mode in ("relaxed", "hard"):
        result = relaxc.relax(largest_by_max, mode=mode)(xs)
        assert result.dtype == torch.int64 and result.tolist() == per_instance(largest_by_max, xs)
    flags = torch.tensor([[True, False], [False, False]])
    assert relaxc.relax(largest_by_max)(flags).tolist() == [True, False]
    values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    picked = relaxc.relax(index_of_largest)(torch.tensor([[1, 0, 3], [3, 2, 1]]), values)
    assert picked.tolist() == [3.0, 4.0]


def test_a_linear_layers_output_next_to_a_sequence_of_numbers_is_refused_with_the_fix():
    # `t` (B, 1) against xs[mid] (B,) broadcast into (B, B): before, silently in relaxed mode
    # and as a false "index out of range" in hard mode.
    xs = torch.sort(torch.randn(6, 5), 1).values
    t = torch.nn.Linear(3, 1)(torch.randn(6, 3))
    with pytest.raises(ArgumentShapeError, match=r"x.squeeze\(-1\)"):
        relaxc.relax(bisect_left, mode="hard")(xs, t)
    squeezed = t.squeeze(-1).detach()
    result = relaxc.relax(bisect_left, mode="hard")(xs, squeezed)
    assert result.tolist() == per_instance(bisect_left, xs, squeezed)


def larger(a, b):
    if a < b:
        return b
    return a


def test_a_mask_compares_with_numbers_as_zero_and_one():
    mask, numbers = torch.tensor([True, False, True]), torch.tensor([0.5, -0.5, 2.0])
    relaxed = relaxc.relax(larger, beta=1e-4)(mask, numbers)
    torch.testing.assert_close(relaxed, torch.tensor([1.0, 0.0, 2.0]), atol=1e-3, rtol=0)


class Gate(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.threshold = torch.nn.Parameter(torch.tensor(0.3))

    @relaxc.relax
    def decide(self, x):
        if x > self.threshold:
            return x * 2.0
        return x - self.threshold


def test_options_of_a_relaxed_method_keep_its_instance():
    gate, x = Gate(), torch.tensor([-1.0, 0.0, 1.0])
    hard = gate.decide.options(mode="hard")(x)
    assert hard.tolist() == pytest.approx([-1.3, -0.3, 2.0])
    torch.testing.assert_close(gate.decide.options(beta=1e-4)(x), hard, atol=1e-3, rtol=0)
    assert gate.decide == gate.decide and gate.decide.python is Gate.decide.python


def counting_sort_swaps(xs):
    swaps = 0
    for i in range(len(xs) - 1):
        if xs[i] > xs[i + 1]:
            swaps += 1
    return swaps


@pytest.mark.parametrize("replay", [False, True])
def test_inference_mode_runs_relaxed_code(replay):
    # Inference tensors keep no version counter: `swaps += 1` and replay's records read it.
    f = relaxc.relax(counting_sort_swaps, replay=replay)
    xs = torch.tensor([[3.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    expected = f(xs)
    with torch.inference_mode():
        for _ in range(2):
            torch.testing.assert_close(f(xs.clone()), expected)


def bisected(xs, t):
    return bisect.bisect_left(list(xs), t)


def median_of(xs):
    return statistics.median(list(xs))


def sorted_in_place(xs):
    ys = list(xs)
    ys.sort()
    return ys[0]


@pytest.mark.parametrize("function, args", [
    (bisected, (torch.sort(torch.randn(1, 5), 1).values, torch.zeros(1))),
    (median_of, (torch.randn(1, 5),)),
    (sorted_in_place, (torch.randn(1, 5),)),
])
def test_library_comparisons_of_relaxed_values_are_refused_even_at_a_batch_of_one(function, args):
    # At B = 1 `bool()` of a one-element tensor works, so these ran hard without a word.
    with pytest.raises(TypeError, match="relaxed|per instance"):
        relaxc.relax(function, beta=10.0)(*args)


def test_library_comparisons_of_static_values_are_the_librarys_own():
    def static_search(x):
        return x + bisect.bisect_left([1, 3, 5], 4) + statistics.median([3, 1, 2])

    assert relaxc.relax(static_search)(torch.zeros(2)).tolist() == [4.0, 4.0]


def test_a_tensor_beta_is_refused_with_what_to_pass():
    with pytest.raises(TypeError, match=r"float\(beta\)"):
        relaxc.relax(larger, beta=torch.tensor(0.3))
    with pytest.raises(ValueError, match="positive finite number"):
        relaxc.relax(larger, beta=True)


def halve_until_small(x):
    steps = 0
    while x > 1:
        x = x / 2
        steps += 1
    print(f"final {x:.2f}, {x=}")
    return steps


def test_a_format_spec_formats_each_instances_number(capsys):
    # torch formats one number only: a debug print of a relaxed value failed.
    relaxc.relax(halve_until_small, mode="hard")(torch.tensor([10.0, 3.0]))
    printed = capsys.readouterr().out
    assert printed.startswith("final [0.62, 0.75], x=tensor([0.6250, 0.7500]")


def pick_bucket(xs, t):
    lo = [0.0]
    hi = [0.0]
    for x in xs:
        dst = hi if x > t else lo
        dst[0] += 1.0
    return lo[0], hi[0]


def partition_sizes(xs, pivot):
    left = []
    right = []
    for x in xs:
        (left if x < pivot else right).append(x)
    return len(left)


@pytest.mark.parametrize("function", [pick_bucket, partition_sizes])
@pytest.mark.parametrize("mode", ["hard", "relaxed"])
def test_a_write_through_a_list_chosen_by_a_relaxed_condition_is_refused(function, mode):
    # Before: the write went into a merged copy and reached neither list, silently (hard too).
    xs, t = torch.tensor([[1.0, -1.0, 2.0], [0.0, 0.1, 0.2]]), torch.tensor([0.5, 0.0])
    with pytest.raises(TypeError, match="chose between two different lists"):
        relaxc.relax(function, mode=mode)(xs, t)


def read_through_chosen(x, t):
    lo = [1.0, 2.0]
    hi = [3.0, 4.0]
    chosen = hi if x > t else lo
    total = 0.0
    for v in chosen:
        total = total + v
    return total + chosen[0]


def alias_then_write(x, t):
    a = [x, 0.0]
    b = [0.0, 0.0]
    if x > t:
        b = a
        b[1] = 7.0
    return a[1], b[1]


@pytest.mark.parametrize("function", [read_through_chosen, alias_then_write])
def test_reads_through_a_chosen_list_see_each_paths_list(function):
    # `b` is `a` after the true path's write (7.0): before, the in-place merge of `a` was merged
    # into `b` once more (p²·7 where exact mode gives p·7).
    x = torch.tensor([-2.7, 0.4, 2.5], dtype=torch.float64)
    t = torch.tensor([0.5, 0.0, 2.0], dtype=torch.float64)
    def outputs(result):
        return result if isinstance(result, tuple) else (result,)

    relaxed = relaxc.relax(function, beta=0.5)
    for ours, exact in zip(outputs(relaxed(x, t)), outputs(relaxed.options(mode="exact")(x, t))):
        torch.testing.assert_close(ours, exact, rtol=1e-9, atol=1e-12)
    hard = [h.tolist() for h in outputs(relaxc.relax(function, mode="hard")(x, t))]
    expected = [r if isinstance(r, tuple) else (r,) for r in per_instance(function, x, t)]
    assert list(zip(*hard)) == expected


def fresh_then_write(x, t):
    if x > t:
        acc = [x, 0.0]
    else:
        acc = [0.0, x]
    acc[0] = acc[0] + 1.0
    return acc[0]


def returns_a_chosen_list(x, t):
    lo = [x, 1.0]
    hi = [2.0, x]
    return hi if x > t else lo


def writes_chosen_under_a_condition(x, t):
    lo = [0.0]
    hi = [0.0]
    dst = hi if x > t else lo
    if x > 0:
        dst[0] = 1.0
    return lo[0]


def test_lists_a_path_makes_are_written_as_usual_and_a_chosen_list_stays_inside():
    x, t = torch.tensor([1.0, -1.0]), torch.tensor([0.0, 0.0])
    assert relaxc.relax(fresh_then_write, mode="hard")(x, t).tolist() == [2.0, 1.0]
    returned = relaxc.relax(returns_a_chosen_list)(x, t)
    assert type(returned) is list   # the caller's own list, as any returned list
    returned.append(3.0)
    with pytest.raises(TypeError, match="chose between two different lists"):
        relaxc.relax(writes_chosen_under_a_condition)(x, t)


def loop_through_chosen(x, t, write: bool):
    lo = [x * 1.0]
    hi = [x * 2.0]
    dst = hi if x > t else lo
    total = 0.0
    i = 0
    while i < x:
        if write:
            dst[0] = dst[0] + 1.0
        total = total + dst[0]
        i += 1
    return total


def test_a_relaxed_while_reads_a_chosen_list_and_is_refused_a_write_into_it():
    x, t = torch.tensor([1.5, 2.5], requires_grad=True), torch.tensor([0.0, 3.0])
    hard = relaxc.relax(loop_through_chosen, mode="hard")(x, t, False)
    assert hard.tolist() == per_instance(lambda a, b: loop_through_chosen(a, b, False), x, t)
    with pytest.raises(TypeError, match="chose between two different lists"):
        relaxc.relax(loop_through_chosen)(x, t, True)


def above_threshold(x, t):
    if x > t:
        return x * 2
    return x


@pytest.mark.parametrize("flag", [False, True])
def test_a_python_bool_compared_with_a_number_counts_as_its_0_or_1(flag):
    # (before: torch's "Subtraction ... with a bool tensor is not supported")
    relaxed = relaxc.relax(above_threshold, beta=0.3)
    x = torch.tensor([-1.5, 0.2, 0.8, 3.0], dtype=torch.float64)
    torch.testing.assert_close(relaxed(x, flag), relaxed(x, int(flag)), rtol=0, atol=0)
    hard = relaxed.options(mode="hard")(x, flag)
    assert hard.tolist() == per_instance(lambda v: above_threshold(v, flag), x)
