"""Calls from relaxed code (DESIGN §1.3 "Calls"; runtime/calls.py): the user's own functions are
compiled with their caller and run with its context; library code is called as it is; statically
decided recursion works, recursion decided per instance is refused with the line and the fix."""

import functools
import math
import random

import pytest
import torch

import relaxc
from relaxc import RelaxcSyntaxError, api
from relaxc_runtime import calls
from relaxc_runtime.calls import PerInstanceRecursionError


def first_line(function):
    return function.__code__.co_firstlineno


# -- recursion -------------------------------------------------------------------------------

def levenshtein_distance(first_word, second_word):
    """TheAlgorithms' strings/levenshtein_distance.py, as written there."""
    if len(first_word) < len(second_word):
        return levenshtein_distance(second_word, first_word)
    if len(second_word) == 0:
        return len(first_word)
    previous_row = list(range(len(second_word) + 1))
    for i, c1 in enumerate(first_word):
        current_row = [i + 1]
        for j, c2 in enumerate(second_word):
            insertions = previous_row[j + 1] + 1
            deletions = current_row[j] + 1
            substitutions = previous_row[j] + (c1 != c2)
            current_row.append(min(insertions, deletions, substitutions))
        previous_row = current_row
    return previous_row[-1]


@pytest.mark.parametrize("lengths", [(2, 4), (4, 2), (3, 3), (0, 2)])
def test_self_recursion_by_name_matches_python_in_hard_mode(lengths):
    rng = random.Random(sum(lengths))
    words = [[[float(rng.randint(0, 2)) for _ in range(n)] for n in lengths] for _ in range(6)]
    first = torch.tensor([w[0] for w in words]).reshape(6, lengths[0])
    second = torch.tensor([w[1] for w in words]).reshape(6, lengths[1])
    relaxed = relaxc.relax(levenshtein_distance)
    got = relaxed.options(mode="hard")(first, second)
    assert torch.as_tensor(got).expand(6).tolist() == [levenshtein_distance(*w) for w in words]
    soft = relaxed.options(beta=0.01)(first, second)   # relaxed, cold: the same distances
    torch.testing.assert_close(torch.as_tensor(soft, dtype=torch.float32).expand(6),
                               torch.as_tensor(got, dtype=torch.float32).expand(6))


@relaxc.relax
def positives_from_the_end(xs):
    if len(xs) == 0:
        return 0
    rest = positives_from_the_end(xs[1:])
    return rest + (1 if xs[0] > 0 else 0)


def test_a_decorated_function_recurses_with_the_callers_options():
    xs = torch.tensor([[0.5, -1.0, 0.02], [-0.3, 2.0, 0.01]])
    hard = positives_from_the_end.options(mode="hard")(xs)
    assert hard.tolist() == [2, 2]
    cold = positives_from_the_end.options(beta=1e-4)(xs)
    warm = positives_from_the_end.options(beta=1.0)(xs)
    torch.testing.assert_close(cold, hard.to(cold.dtype))
    # At β = 1 every level is warm: far from the counts (the recursion got the caller's β).
    assert (warm - hard).abs().max() > 0.3


def make_recursive_closure(step):
    def total_down(n, x):
        if n == 0:
            return x * 0
        return (x if x > 0 else -x) * step + total_down(n - 1, x)
    return total_down


def test_a_closure_that_calls_itself_by_name():
    total_down = make_recursive_closure(2.0)
    x = torch.tensor([1.5, -2.0])
    got = relaxc.relax(total_down, mode="hard")(3, x)
    assert got.tolist() == [total_down(3, 1.5), total_down(3, -2.0)] == [9.0, 12.0]


def halve_count(x):
    if x < 1:
        return 0
    return 1 + halve_count(x / 2)


@pytest.mark.parametrize("mode", ["relaxed", "hard"])
def test_recursion_decided_per_instance_is_refused_with_the_line_and_the_fix(mode):
    with pytest.raises(PerInstanceRecursionError) as caught:
        relaxc.relax(halve_count, mode=mode)(torch.tensor([5.0, 100.0]))
    error = caught.value
    assert isinstance(error, TypeError) and not isinstance(error, RecursionError)
    assert "condition decided per instance" in str(error) and "loop" in str(error)
    assert error.__notes__ == [f'in relaxed code from File "{__file__}", line '
                               f'{first_line(halve_count) + 3}: return 1 + halve_count(x / 2)']


def test_deep_static_recursion_names_the_limit():
    def countdown(n):
        if n == 0:
            return 0
        return 1 + countdown(n - 1)
    assert relaxc.relax(countdown)(30) == 30
    with pytest.raises(RecursionError, match="setrecursionlimit"):
        relaxc.relax(countdown)(5000)


# -- helpers of the user's own code -----------------------------------------------------------

def helper(x):
    if x > 0:
        return x
    return -x


@relaxc.relax
def uses_helper(x):
    return helper(x) + 1


def test_a_plain_helper_with_an_if_is_compiled_with_its_caller():
    x = torch.tensor([2.0, -3.0, 0.25], requires_grad=True)
    assert uses_helper.options(mode="hard")(x).tolist() == [helper(v) + 1 for v in [2.0, -3.0,
                                                                                    0.25]]
    relaxed = uses_helper(x)
    p = torch.sigmoid(x / 0.125)
    torch.testing.assert_close(relaxed, p * x - (1 - p) * x + 1)
    relaxed.sum().backward()
    assert torch.isfinite(x.grad).all()


def two_levels(x):
    return helper(x) * 2


def test_helpers_convert_transitively_and_get_the_callers_beta():
    @relaxc.relax
    def top(x):
        return two_levels(x)

    x = torch.tensor([0.05])
    cold, warm = top.options(beta=1e-3)(x).item(), top.options(beta=1.0)(x).item()
    assert cold == pytest.approx(0.1, abs=1e-6) and abs(warm - 0.1) > 0.01


def test_library_calls_stay_plain_and_the_users_go_through_rx_call():
    def mixed(xs, x):
        xs.append(torch.exp(x))
        y = math.sqrt(2.0) * x.clamp(min=0)
        return helper(y) + len(xs) + sorted([3, 1])[0]

    text = relaxc.to_source(relaxc.relax(mixed))
    assert "rx.call(helper, y)" in text
    assert "xs.append(torch.exp(x))" in text and "math.sqrt(2.0) * x.clamp(min=0)" in text
    assert text.count("rx.call(") == 1


class Scorer:
    def __init__(self, offset):
        self.offset = offset

    def score(self, x):
        if x > self.offset:
            return x - self.offset
        return self.offset - x


def distance_of(scorer, x):
    return scorer.score(x)


def apply(function, x):
    return function(x)


def clipped(x, limit):
    return limit if x > limit else x


def test_methods_parameters_and_partials_of_user_code_are_converted():
    x = torch.tensor([3.0, -1.0])
    assert relaxc.relax(distance_of, mode="hard")(Scorer(1.0), x).tolist() == [2.0, 2.0]
    assert relaxc.relax(apply, mode="hard")(helper, x).tolist() == [3.0, 1.0]
    limited = functools.partial(clipped, limit=2.0)
    assert relaxc.relax(apply, mode="hard")(limited, x).tolist() == [2.0, -1.0]


def test_classes_lambdas_and_library_functions_are_called_as_they_are():
    double = lambda v: v * 2   # noqa: E731 (no source of its own to compile)

    def builds(x):
        scorer = Scorer(0.5)            # a constructor is not converted
        return double(scorer.offset) + torch.relu(x) + apply(abs, x)

    x = torch.tensor([1.0, -2.0])
    assert relaxc.relax(builds, mode="hard")(x).tolist() == [3.0, 3.0]


def test_a_helper_is_compiled_once_for_every_caller_and_option(monkeypatch):
    def counted_helper(x):
        if x > 1:
            return x - 1
        return x

    def caller(x):
        return counted_helper(x) * 3

    compiles = []
    original = api.pipeline.compile_function
    monkeypatch.setattr(api.pipeline, "compile_function",
                        lambda f, *a: (compiles.append(f.__name__), original(f, *a))[1])
    relaxed = relaxc.relax(caller)
    x = torch.tensor([2.0, 0.5])
    for options in ({}, {"mode": "hard"}, {"beta": 0.3}, {"mode": "sample", "samples": 3}):
        relaxed.options(**options)(x)
    assert compiles == ["caller", "counted_helper"]


def uses_try(x):
    try:
        return x + 1
    except ValueError:
        return x


def calls_uses_try(x):
    return uses_try(x) * 2


def test_a_helper_relaxc_cannot_compile_is_refused_with_the_opt_outs():
    with pytest.raises(RelaxcSyntaxError) as caught:
        relaxc.relax(calls_uses_try)(torch.tensor([1.0]))
    assert caught.value.lineno == first_line(uses_try) + 1
    notes = "\n".join(caught.value.__notes__)
    assert "do_not_convert" in notes and "convert_calls=False" in notes
    assert f"line {first_line(calls_uses_try) + 1}: return uses_try(x) * 2" in notes
    # The opt-outs: the caller calls its helpers as they are, or the helper is marked.
    x = torch.tensor([1.0])
    assert relaxc.relax(calls_uses_try, convert_calls=False)(x).tolist() == [4.0]
    try:
        relaxc.do_not_convert(uses_try)
        assert relaxc.relax(calls_uses_try)(x).tolist() == [4.0]
    finally:
        del uses_try.__relaxc_do_not_convert__


def test_convert_calls_false_calls_helpers_as_they_are():
    plain = relaxc.relax(uses_helper.python, convert_calls=False)
    assert "rx.call" not in relaxc.to_source(plain)
    with pytest.raises(RuntimeError, match="ambiguous"):
        plain(torch.tensor([1.0, -1.0]))
    converted = plain.options(convert_calls=True)
    assert converted(torch.tensor([1.0])).item() == pytest.approx(2.0, abs=1e-3)


def inlined_helper(x, y):
    if x > 0:
        x = x - 1
    if y > x:
        return y - x
    return x - y


def after_step(x):
    if x > 0:
        x = x - 1
    return x


def with_helper(x, y):
    x = after_step(x)
    if y > x:
        return y - x
    return x - y


@pytest.mark.parametrize("mode", ["sample", "exact"])
def test_a_helper_joins_its_callers_sample_or_exact_run(mode):
    # The same decisions in the same order: the helper draws (or is enumerated) with its caller,
    # not in a run of its own that would average it first.
    x = torch.tensor([0.1, 0.9, -0.2], dtype=torch.float64)
    y = torch.tensor([0.3, -0.4, 0.0], dtype=torch.float64)
    options = dict(mode=mode, samples=7, seed=3, beta=0.5)
    torch.testing.assert_close(relaxc.relax(with_helper, **options)(x, y),
                               relaxc.relax(inlined_helper, **options)(x, y))


def test_generated_code_runs_without_the_compiler_calling_helpers_as_they_are(monkeypatch):
    def shifted(x):
        return x + 1

    def calls_shifted(x):
        return shifted(x) * 2

    relaxed = relaxc.relax(calls_shifted)
    monkeypatch.setattr(calls, "_converter", None)   # as when relaxc is not imported
    assert relaxed(torch.tensor([1.0, 2.0])).tolist() == [4.0, 6.0]


def test_what_counts_as_the_users_code():
    assert calls.user_function(helper) and calls.user_function(Scorer.score)
    assert not calls.user_function(lambda v: v)
    assert not calls.user_function(functools.reduce) and not calls.user_function(math.sqrt)
    assert not calls.user_function(random.shuffle)            # the standard library
    assert not calls.user_function(torch.nn.functional.relu)  # torch
    assert not calls.user_function(pytest.approx)             # an installed package
    assert not calls.user_function(relaxc.relax)              # relaxc itself


class Geometry:
    @staticmethod
    def clip(x):   # named like a tensor method
        if x > 1:
            return 1.0
        return x

    def twice_clipped(self, x):
        return self.clip(x) * 2


def uses_geometry(shape, x):
    return shape.twice_clipped(x) + Geometry.clip(x)


def test_static_methods_and_methods_on_self_are_converted():
    x = torch.tensor([3.0, 0.5])
    got = relaxc.relax(uses_geometry, mode="hard")(Geometry(), x)
    assert got.tolist() == [uses_geometry(Geometry(), v) for v in x.tolist()] == [3.0, 1.5]


def root_or_zero(x):
    return math.sqrt(x) if x > 0 else 0.0


def logs_of_positives(xs):
    total = 0.0
    for x in xs:
        if x > 0:
            total += math.log(x) + math.log(x, 2) + math.fabs(x) + math.floor(x)
    return total


def test_math_functions_apply_per_instance():
    # The source applies `math.sqrt` to one instance's number: on a batch, torch's elementwise
    # function of the same meaning (it was torch's "only one element tensors can be converted").
    x = torch.tensor([4.0, -1.0, 0.25], dtype=torch.float64)
    xs = torch.tensor([[4.0, -1.0, 0.25], [1.0, 2.5, -3.0]], dtype=torch.float64)
    for function, argument, rows in ((root_or_zero, x, x.tolist()), (logs_of_positives, xs, xs.tolist())):
        expected = torch.tensor([function(row) for row in rows], dtype=torch.float64)
        relaxed = relaxc.relax(function)
        assert "rx.call(math." in relaxc.to_source(relaxed)
        torch.testing.assert_close(relaxed.options(mode="hard")(argument), expected)
        torch.testing.assert_close(relaxed.options(beta=1e-3)(argument), expected)
    assert relaxc.relax(root_or_zero)(9.0) == 3.0   # plain numbers: math's own


def cube_root(x):
    return math.cbrt(x)


def test_a_math_function_torch_lacks_is_refused_by_name():
    with pytest.raises(TypeError, match="`math.cbrt` takes one number .* torch has no elementwise `cbrt`"):
        relaxc.relax(cube_root)(torch.tensor([8.0, 27.0]))


def swap_in_place(xs, i, j):
    xs[i], xs[j] = xs[j], xs[i]


def sort_two_in_place(xs):
    if xs[0] > xs[1]:
        swap_in_place(xs, 0, 1)
    return xs


def swapped_copy(xs, i, j):
    xs[i], xs[j] = xs[j], xs[i]
    return xs


def sort_two_by_value(xs):
    if xs[0] > xs[1]:
        xs = swapped_copy(xs, 0, 1)
    return xs


def test_a_helper_that_writes_into_its_callers_tensor_is_refused_and_a_list_is_written():
    # Python's caller sees a helper's writes into its list; a tensor is a value in relaxed code,
    # so the caller's would silently stay unsorted: refused, naming the line of the write.
    rows = [[3.0, 1.0, 2.0], [1.0, 2.0, 3.0]]
    xs = torch.tensor(rows, dtype=torch.float64)
    with pytest.raises(TypeError, match="a helper writes into its parameter `xs`, which its caller passed as a tensor") as caught:
        relaxc.relax(sort_two_in_place, mode="hard")(xs)
    assert "xs[i], xs[j] = xs[j], xs[i]" in caught.value.__notes__[0]
    as_list = relaxc.relax(sort_two_in_place, mode="hard")(list(xs.unbind(1)))
    assert torch.stack(as_list, 1).tolist() == [sort_two_in_place(list(r)) for r in rows]
    # Returned and assigned by the caller: no refusal, Python's result in every mode.
    f = relaxc.relax(sort_two_by_value)
    expected = torch.tensor([sort_two_by_value(list(r)) for r in rows], dtype=torch.float64)
    assert torch.equal(f.options(mode="hard")(xs), expected)
    torch.testing.assert_close(f.options(beta=1e-4)(xs), expected)


def bump_and_read(counts, k):
    counts[k] += 1.0
    return counts[k]


def bumps_twice(xs):
    bump_and_read(xs, 0)
    return xs


def product_of(xs):
    return math.prod(xs)


def test_writes_into_a_parameter_whose_element_is_returned_are_still_refused():
    with pytest.raises(TypeError, match="a helper writes into its parameter `counts`"):
        relaxc.relax(bumps_twice, mode="hard")(torch.tensor([[3.0, 7.0], [1.0, 2.0]]))


def test_math_functions_with_another_meaning_in_torch_are_refused():
    # torch.prod of a batch multiplies across instances; math.prod multiplies one instance's.
    with pytest.raises(TypeError, match="`math.prod` takes one number"):
        relaxc.relax(product_of)(torch.tensor([[2.0, 3.0], [4.0, 5.0]]))
