"""Errors name the user's file and line and say how to fix it; nothing falls back silently."""

import traceback

import pytest
import torch

import relaxc
from relaxc import RelaxcSyntaxError, SourceUnavailableError


def uses_try(x):
    try:
        y = x + 1
    except ValueError:
        y = x
    return y


def first_line(function):
    return function.__code__.co_firstlineno


def test_unsupported_syntax_is_a_syntax_error_with_a_caret_and_the_fix():
    with pytest.raises(RelaxcSyntaxError) as caught:
        relaxc.relax(uses_try)
    text = "".join(traceback.format_exception_only(caught.value))
    assert text == (
        f'  File "{__file__}", line {first_line(uses_try) + 1}\n'
        "    try:\n"
        "    ^^^^\n"
        "relaxc.errors.RelaxcSyntaxError: `try` is not supported in a relaxed function: handle "
        "errors around the call instead\n"
    )


def nested_definition(x):
    def helper(v):
        return v
    return helper(x)


def chained_subscript_target(xs):
    xs[0] = xs[1] = 1.0
    return xs


def subscript_loop_target(xs):
    for xs[0] in range(3):
        pass
    return xs


def index_of_max(xs):
    # Uncompiled, the lambda's comparisons would give the hard answer for a batch of one and
    # fail on a larger batch.
    return max(range(len(xs)), key=lambda j: xs[j])


@pytest.mark.parametrize("function, line_offset, message", [
    (nested_definition, 1, "a function cannot be defined inside a relaxed function"),
    (index_of_max, 3, "a lambda inside a relaxed function is not compiled"),
    (chained_subscript_target, 1, "a chained assignment (`a = b = ...`) to a subscript"),
    (subscript_loop_target, 1, "a subscript as a loop target (`for xs[0] in ...`)"),
])
def test_more_refusals_name_the_line(function, line_offset, message):
    with pytest.raises(RelaxcSyntaxError) as caught:
        relaxc.relax(function)
    assert caught.value.lineno == first_line(function) + line_offset
    assert caught.value.filename == __file__
    assert message in caught.value.msg


def test_a_decorator_below_relax_is_refused():
    def traced(function):
        return function

    with pytest.raises(RelaxcSyntaxError, match="put @relax directly above"):
        @relaxc.relax
        @traced
        def f(x):
            return x


def test_lambda_and_missing_source_are_refused_with_the_fix():
    with pytest.raises(SourceUnavailableError, match="write it as a `def`"):
        relaxc.relax(lambda x: x)
    namespace = {}
    exec("def typed_at_prompt(x):\n    return x\n", namespace)
    with pytest.raises(SourceUnavailableError, match="define it in a file or a notebook cell"):
        relaxc.relax(namespace["typed_at_prompt"])


def reads_out_of_range(xs):
    total = xs[0]
    return total + xs[5]


def test_runtime_error_keeps_its_type_and_gains_a_note_with_file_and_line():
    with pytest.raises(IndexError) as caught:
        relaxc.relax(reads_out_of_range)(torch.zeros(2, 3))
    line = first_line(reads_out_of_range) + 2
    assert caught.value.__notes__ == [
        f'in relaxed code from File "{__file__}", line {line}: return total + xs[5]']


def assigned_on_one_path(x):
    if x > 0:
        found = x
    return found


def test_variable_assigned_on_one_relaxed_path_names_it_and_both_lines():
    with pytest.raises(UnboundLocalError) as caught:
        relaxc.relax(assigned_on_one_path)(torch.tensor([1.0, -1.0]))
    start = first_line(assigned_on_one_path)
    assert "'found' is assigned on only one path of a relaxed `if`" in str(caught.value)
    assert caught.value.__notes__ == [
        f'in relaxed code from File "{__file__}", line {start + 1}: if x > 0:\n'
        f"  'found' is assigned at line {start + 2} and read afterwards at line {start + 3}"]


def test_the_same_function_is_plain_python_under_a_static_condition():
    assert relaxc.relax(assigned_on_one_path)(2.0) == 2.0
    with pytest.raises(UnboundLocalError):   # as Python: read before assignment
        relaxc.relax(assigned_on_one_path)(-2.0)


def assigned_on_one_path_unread(x):
    if x > 0:
        note = x
    return x


def test_variable_assigned_on_one_path_but_never_read_is_fine():
    x = torch.tensor([1.0, -1.0])
    assert torch.equal(relaxc.relax(assigned_on_one_path_unread)(x), x)


def indexes_a_scalar(x):
    return x[0]


def test_indexing_a_relaxed_scalar_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"cannot index a relaxed scalar \(B,\)"):
        relaxc.relax(indexes_a_scalar)(torch.zeros(3))


def appends_in_a_branch(xs, x):
    if x > 0:
        xs.append(x)
    return xs


def test_list_growing_on_one_relaxed_path_is_refused():
    with pytest.raises(ValueError, match="changes size differently"):
        relaxc.relax(appends_in_a_branch)([], torch.tensor([1.0]))


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="unknown mode 'fuzzy'"):
        relaxc.relax(indexes_a_scalar, mode="fuzzy")
    with pytest.raises(ValueError, match="beta must be a positive"):
        relaxc.relax(indexes_a_scalar).options(beta=0)


# -- argument shapes, checked at the call (runtime/arguments.py) --------------------------------

def scale(x, w):
    return x * w if x > 0 else w


def test_a_b_by_1_tensor_used_as_a_number_is_refused_with_the_squeeze():
    from relaxc_runtime.arguments import ArgumentShapeError
    with pytest.raises(ArgumentShapeError) as caught:
        relaxc.relax(scale)(torch.randn(3), torch.randn(3, 1))
    error = caught.value
    assert isinstance(error, ValueError) and isinstance(error, RuntimeError)
    assert "argument 'w' has shape (3, 1)" in str(error) and "w.squeeze(-1)" in str(error)
    assert "'x' of shape (3,)" in str(error)
    assert error.__notes__ == [
        f'in relaxed code from File "{__file__}", line {first_line(scale)}: def scale(x, w):']
    # The fix works, and gives what the function means per instance.
    x, w = torch.tensor([1.0, -1.0, 2.0]), torch.tensor([[2.0], [3.0], [4.0]])
    fixed = relaxc.relax(scale, mode="hard")(x, w.squeeze(-1))
    assert fixed.tolist() == [scale(a, b) for a, b in zip(x.tolist(), w[:, 0].tolist())]


def test_different_batch_sizes_are_refused_naming_both_arguments():
    from relaxc_runtime.arguments import ArgumentShapeError
    with pytest.raises(ArgumentShapeError, match=r"argument 'w' has batch size 4 \(shape "
                                                 r"\(4,\)\), but 'x' has batch size 3") as caught:
        relaxc.relax(scale)(torch.randn(3), torch.randn(4))
    assert "same batch size" in str(caught.value)
    # Refused before the generated code runs: shown at the `def` line, without relaxc's frames.
    last = traceback.extract_tb(caught.value.__traceback__)[-1]
    assert (last.filename, last.lineno, last.name) == (__file__, first_line(scale), "scale")
    with pytest.raises(ArgumentShapeError, match=r"'xs\[1\]' has batch size 2"):
        relaxc.relax(count_above)([torch.zeros(3), torch.zeros(2)], torch.zeros(3))


def count_above(xs, threshold):
    count = 0
    for x in xs:
        if x > threshold:
            count += 1
    return count


def search(xs, key):
    for i, x in enumerate(xs):
        if x == key:
            return i
    return -1


def shared_table(x, table):
    return x + table.sum()


def test_legitimate_shapes_are_not_refused():
    keys = torch.tensor([1.0, 5.0, 2.0])
    # (B, n) sequences and lists of (B,) next to (B,) numbers; a length-one sequence (B, 1).
    for n in (4, 1):
        xs = torch.arange(3 * n, dtype=torch.float32).reshape(3, n)
        expected = [search(row, k) for row, k in zip(xs.tolist(), keys.tolist())]
        assert relaxc.relax(search, mode="hard")(xs, keys).tolist() == expected
        assert relaxc.relax(search, mode="hard")(list(xs.unbind(1)), keys).tolist() == expected
    # A 0-d tensor is a constant shared by the batch; a batch of one broadcasts.
    assert relaxc.relax(scale, mode="hard")(keys, torch.tensor(2.0)).tolist() == [2.0, 10.0, 4.0]
    assert relaxc.relax(scale, mode="hard")(keys, torch.tensor([2.0])).tolist() == [2.0, 10.0, 4.0]
    # A (B, 1) tensor that only meets other (B, 1) values keeps its shape, as torch would.
    assert relaxc.relax(scale, mode="hard")(keys[:, None], keys[:, None]).shape == (3, 1)
    # A tensor handed whole to torch need not carry the batch.
    assert relaxc.relax(shared_table)(keys, torch.ones(7)).tolist() == [8.0, 12.0, 9.0]
    # A categorical (B, n, k) next to (B,) numbers.
    letters = relaxc.Categorical(torch.eye(3)[torch.tensor([[0, 1], [2, 2], [1, 0]])])
    assert relaxc.relax(word_length)(letters, keys) == 2


def word_length(word, key):
    return len(word)


def test_a_compile_error_carries_no_frames_of_relaxc_or_libcst():
    with pytest.raises(RelaxcSyntaxError) as caught:
        relaxc.relax(uses_try)
    frames = traceback.extract_tb(caught.value.__traceback__)
    # The test's own frame and relax's, which pytest hides (`__tracebackhide__`): no pass of
    # the compiler, nothing of libcst.
    assert not [f for f in frames if "libcst" in f.filename]
    assert [f.name for f in frames if "/relaxc/" in f.filename] == ["relax"]
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_max_iter_warning_is_located_at_the_users_call():
    def count_up(x):
        n = 0
        while x > n:
            n = n + 1
        return n

    counter = relaxc.relax(count_up, max_iter=3)
    with pytest.warns(RuntimeWarning, match="stopped after max_iter=3") as warned:
        counter(torch.tensor([10.0]))   # the line the warning names
    assert [(w.filename, w.lineno) for w in warned] == [
        (__file__, first_line(test_the_max_iter_warning_is_located_at_the_users_call) + 9)]
