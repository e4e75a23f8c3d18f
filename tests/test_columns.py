"""A tensor parameter used only by position runs as its columns (``rx.columns``): the oracle is the
same generated code run on the tensor itself, which must give the same values, dtypes and
gradients in every mode."""

import warnings

import pytest
import torch
from torch.autograd import gradcheck

import relaxc
from corpus import CASES, RELAXED_ERRORS
from relaxc_runtime import Context
from test_safety import random_argument

#: The corpus functions that hold a parameter as columns (the others slice or pass it on).
AS_COLUMNS = [f for f in CASES if f not in RELAXED_ERRORS
              and "rx.columns(" in relaxc.to_source(relaxc.relax(f))]


@pytest.fixture
def tensor_form(monkeypatch):
    """Run generated code with ``rx.columns`` as the identity: the tensor form."""
    def run(function, *args):
        with monkeypatch.context() as patch:
            patch.setattr(Context, "columns", staticmethod(lambda value: value))
            return function(*args)
    return run


def outputs_and_gradients(function, args, quiet=True):
    """``quiet``: ignore run-time warnings (max_iter cut-offs, the same in both forms)."""
    args = [a.detach().clone().requires_grad_(a.is_floating_point())
            if isinstance(a, torch.Tensor) else a for a in args]
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", RuntimeWarning)
        result = function(*args)
    outputs = [r for r in (result if isinstance(result, tuple) else (result,))
               if isinstance(r, torch.Tensor)]
    differentiable = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    total = sum(o.sum() for o in outputs if o.is_floating_point())
    gradients = (torch.autograd.grad(total, differentiable, allow_unused=True)
                 if isinstance(total, torch.Tensor) and total.requires_grad else [])
    return outputs, gradients


def assert_same(columns, tensor, tolerance=1e-12):
    assert len(columns) == len(tensor)
    for a, b in zip(columns, tensor):
        if a is None or b is None:
            assert a is None and b is None
            continue
        assert a.dtype == b.dtype and a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=tolerance, atol=tolerance, equal_nan=True)


def test_most_of_the_corpus_runs_as_columns():
    assert len(AS_COLUMNS) >= 14, [f.__name__ for f in AS_COLUMNS]


@pytest.mark.parametrize("mode", ["relaxed", "hard"])
@pytest.mark.parametrize("function", AS_COLUMNS, ids=lambda f: f.__name__)
def test_columns_equal_the_tensor_form_on_the_corpus(function, mode, tensor_form):
    relaxed = relaxc.relax(function, beta=0.3, max_iter=40, mode=mode)
    generator = torch.Generator().manual_seed(5)
    args = [random_argument(spec, 6, generator) for spec in CASES[function]]
    columns = outputs_and_gradients(relaxed, args)
    tensor = tensor_form(outputs_and_gradients, relaxed, args)
    assert_same(columns[0], tensor[0])
    assert_same(columns[1], tensor[1])


def swap_first_two(xs):
    if xs[0] > xs[1]:
        xs[0], xs[1] = xs[1], xs[0]
    return xs


def root_of_larger(xs):
    # A non-linear branch: its reads are cut where it is negligible (sqrt of a negative there).
    for j in range(len(xs) - 1):
        if xs[j] > xs[j + 1]:
            xs[j] = torch.sqrt(xs[j] - xs[j + 1]) + xs[j + 1]
    return xs


def multiply_if_larger(xs):
    for j in range(len(xs) - 1):
        if xs[j] > xs[j + 1]:
            xs[j] = xs[j] * xs[j + 1]
    return xs


def write_floats(xs):
    xs[0] = 0.5
    if xs[1] > xs[2]:
        xs[2] = xs[1] * 2
    return xs, xs[0] + xs[1]


def early_return(xs, key):
    for i in range(len(xs)):
        if xs[i] > key:
            xs[i] = key
            return xs
    return xs


def relaxed_index(xs, k):
    xs[k] = xs[k] + 1          # a per-instance index reads and writes the tensor
    return xs, xs[0]


def sliced(xs):
    return xs[0:2]             # a slice: the parameter stays a tensor


def read_only(xs):
    total = 0
    for x in xs:
        total += x
    return xs, total


def test_columns_keep_the_tensors_dtype_shape_and_values(tensor_form):
    # Storing a float in an int sequence makes it a float sequence of the default dtype.
    ints = torch.tensor([[1, 5, 2], [3, 4, 9]])
    for mode in ["hard", "relaxed"]:
        f = relaxc.relax(write_floats, mode=mode, beta=0.5)
        assert_same(f(ints)[:1], tensor_form(f, ints)[:1])
        assert_same(f(ints)[1:], tensor_form(f, ints)[1:])
    # Elements with their own shape (B, n, d): a vectorised condition swaps elementwise. (The
    # tensor form cannot line a (B, d) condition up with (B, n, d): it raises.)
    rows = torch.randn(3, 2, 4, dtype=torch.float64)
    p = torch.sigmoid((rows[:, 0] - rows[:, 1]) / 0.5)
    expected = torch.stack([p * rows[:, 1] + (1 - p) * rows[:, 0],
                            p * rows[:, 0] + (1 - p) * rows[:, 1]], 1)
    torch.testing.assert_close(relaxc.relax(swap_first_two, beta=0.5)(rows), expected)
    # Returned unchanged: the caller's tensor itself, as in the tensor form.
    xs = torch.randn(2, 3)
    assert relaxc.relax(read_only)(xs)[0] is xs


def test_columns_in_non_linear_branches_early_returns_and_other_indices(tensor_form):
    # Each comparison is clear (p near 0 or 1), so the square roots of negatives are negligible.
    x = torch.tensor([[0.3, -0.2, 5.0, 7.0], [1.0, 2.0, -3.0, 4.0]], dtype=torch.float64)
    for function, args in [(root_of_larger, (x,)),
                           (early_return, (x, torch.tensor([0.5, 1.5], dtype=torch.float64))),
                           (relaxed_index, (x, torch.tensor([1.3, 2.0], dtype=torch.float64)))]:
        f = relaxc.relax(function, beta=0.05)
        columns, tensor = (outputs_and_gradients(f, args),
                           tensor_form(outputs_and_gradients, f, args))
        assert_same(columns[0], tensor[0])
        # A non-linear branch cuts the gradient of what it reads where it is negligible (p < eps).
        # The tensor form reads the whole tensor there, so it also cuts the share p of the elements
        # the branch leaves untouched; the columns keep it (their value is the same on both
        # paths). The gradients differ by at most that share.
        for a, b in zip(columns[1], tensor[1]):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
        assert all(torch.isfinite(g).all() for g in columns[1])
    assert "xs = rx.columns(xs)" in relaxc.to_source(relaxc.relax(early_return))
    assert "rx.columns" not in relaxc.to_source(relaxc.relax(sliced))


def test_gradcheck_through_columns():
    x = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    assert gradcheck(relaxc.relax(multiply_if_larger, beta=1.0), (x,))
    assert gradcheck(relaxc.relax(swap_first_two, beta=0.5), (x,))


def early_exit_reading_ints(xs, key):
    xs[0] = 7
    for i in range(len(xs)):
        if xs[i] > key:
            return xs
    return xs


def scan_while_smaller(xs, key):
    i = 0
    n = len(xs)
    while i < n and xs[i] < key:
        i += 1
    return xs, i


def many_writes_then_root(xs, c, d):
    if c > 0:
        if d > 0:
            xs[0] = xs[0] * 2
            xs[1] = xs[1] * 2
            xs[2] = xs[2] * 2
        xs[3] = torch.sqrt(xs[3])
    return xs


def promote_inside(xs, c, d):
    y = 0.0
    if c > 0:
        y = torch.sqrt(c) + xs[1]
        if d > 0:
            xs[0] = torch.sqrt(d)
        y = y + (1.0 if xs[1].is_floating_point() else 100.0)
    return xs, y


def test_merges_of_columns_keep_what_the_tensor_form_keeps(tensor_form):
    # Found by review: untouched columns were blended (an int sequence became float); an empty
    # sequence could not be stacked; elements seen before a promotion were read in the old
    # dtype; a merge of many writes read the elements without the negligible path's cut.
    ints = torch.tensor([[1, 5, 2], [3, 4, 9]])
    key = torch.tensor([3.0, 3.5])
    for function, args in [(early_exit_reading_ints, (ints, key)),
                           (scan_while_smaller, (ints, key)),
                           (scan_while_smaller, (torch.zeros(2, 0), key)),
                           (promote_inside, (ints, torch.tensor([4.0, 9.0]),
                                             torch.tensor([1.0, -1.0])))]:
        f = relaxc.relax(function, beta=0.5)
        for columns, tensor in zip(outputs_and_gradients(f, args),
                                   tensor_form(outputs_and_gradients, f, args)):
            assert_same(columns, tensor)
    assert relaxc.relax(scan_while_smaller, beta=0.5)(ints, key)[0] is ints
    xs = torch.tensor([[1.0, 2, 3, 4], [1, 2, 3, -4]], dtype=torch.float64)
    args = (xs, torch.tensor([1.0, -100.0], dtype=torch.float64),
            torch.tensor([1.0, 1.0], dtype=torch.float64))
    f = relaxc.relax(many_writes_then_root, beta=0.5)
    outputs, gradients = outputs_and_gradients(f, args)
    assert torch.isfinite(gradients[0]).all()
    for a, b in zip(gradients, tensor_form(outputs_and_gradients, f, args)[1]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def clamp_one(xs, y):
    if xs[0] > y:
        xs[0] = y
    return xs


def clamp_all(xs, y):
    if xs[0] > y:
        xs[0] = y
        xs[1] = y
        xs[2] = y
        xs[3] = y
    return xs


def test_a_vectorised_condition_merges_each_element_whatever_it_writes():
    # Elements (B, d) under conditions (B, d): each element is clamped elementwise, whether the
    # branch writes one element or all of them (n == d, where lining up with the stacked tensor
    # would silently pick the wrong dim).
    xs = torch.randn(3, 4, 4, dtype=torch.float64)
    y = torch.randn(3, 4, dtype=torch.float64)
    p = torch.sigmoid((xs[:, 0] - y) / 0.5)[:, None]
    expected = p * y[:, None] + (1 - p) * xs
    torch.testing.assert_close(relaxc.relax(clamp_all, beta=0.5)(xs, y), expected)
    expected[:, 1:] = xs[:, 1:]
    torch.testing.assert_close(relaxc.relax(clamp_one, beta=0.5)(xs, y), expected)
