"""``//``, ``%``, ``divmod``, ``int()``, ``round()``, ``float()`` on relaxed values
(runtime/arithmetic.py; issue 14, item 9): Python's value per instance in every mode, and a
straight-through gradient where torch has none."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import relaxc
from corpus import bisect_left
from helpers import instance


def operations(a, b):
    q, r = divmod(a, b)
    return a // b, a % b, int(a), round(a), float(a), q, r


def augmented(x, y):
    x //= y
    z = x
    z %= 3
    return x, z


def literals():
    return 7 // 2, -7 // 2, 7 % -3, int(-2.5), round(2.5), "%d items" % 3


def counted(a, b):
    return int(a > b) + float(a < b)


def wraps(i, n):
    return i % n


def rounded_to(x):
    return round(x, 2)


def test_bisect_left_backward_runs_and_hard_is_pythons():
    xs = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0], [0.0, 0.5, 0.6, 2.0, 9.0]], requires_grad=True)
    t = torch.tensor([3.5, 0.55], requires_grad=True)
    f = relaxc.relax(bisect_left, beta=0.1)
    lo = f(xs, t)
    lo.sum().backward()   # was: derivative for aten::floor_divide is not implemented
    assert torch.isfinite(xs.grad).all() and torch.isfinite(t.grad).all()
    assert (t.grad != 0).all()
    hard = f.options(mode="hard")(xs.detach(), t.detach())
    assert hard.tolist() == [bisect_left(row, v) for row, v in zip(xs.tolist(), t.tolist())]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-20, 20), min_size=1, max_size=9), st.integers(-21, 21))
def test_hard_bisect_left_equals_python(values, target):
    xs = torch.tensor([sorted(values)], dtype=torch.float64)
    got = relaxc.relax(bisect_left, mode="hard")(xs, torch.tensor([float(target)]))
    assert got.tolist() == [bisect_left(sorted(values), target)]


numbers = st.one_of(st.integers(-50, 50).map(float), st.integers(-40, 40).map(lambda k: k / 4),
                    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
# Quotients that fit a float (torch's vectorised remainder loses them past that: module docstring).
divisors = numbers.filter(lambda b: abs(b) >= 1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(numbers, divisors), min_size=1, max_size=10))
def test_hard_and_relaxed_values_are_pythons_per_instance(rows):
    a = torch.tensor([r[0] for r in rows], dtype=torch.float64)
    b = torch.tensor([r[1] for r in rows], dtype=torch.float64)
    for mode in ("hard", "relaxed"):
        got = relaxc.relax(operations, mode=mode)(a, b)
        for i, (x, y) in enumerate(rows):
            assert list(instance(got, i)) == list(operations(x, y)), (mode, x, y)


def test_negative_and_half_way_cases_as_in_python():
    a = torch.tensor([-7.0, 7.0, -2.5, 2.5, 3.5, -0.5], dtype=torch.float64)
    b = torch.tensor([2.0, -2.0, 2.0, 2.0, 2.0, 2.0], dtype=torch.float64)
    got = relaxc.relax(operations, mode="hard")(a, b)
    assert got[0].tolist() == [-4.0, -4.0, -2.0, 1.0, 1.0, -1.0]       # //
    assert got[1].tolist() == [1.0, -1.0, 1.5, 0.5, 1.5, 1.5]          # %
    assert got[2].tolist() == [-7.0, 7.0, -2.0, 2.0, 3.0, 0.0]         # int()
    assert got[3].tolist() == [-7.0, 7.0, -2.0, 2.0, 4.0, 0.0]         # round(): half to even


def test_integer_tensors_stay_exact_integers():
    a = torch.tensor([-7, 7, 9, -9])
    b = torch.tensor([2, -2, 4, 4])
    q, r, i, rounded, as_float, dq, dr = relaxc.relax(operations)(a, b)
    for value in (q, r, i, rounded, dq, dr):
        assert value.dtype == torch.int64
    assert q.tolist() == [-4, -4, 2, -3] and r.tolist() == [1, -1, 1, 3]
    assert as_float.dtype == torch.get_default_dtype()


def test_static_numbers_stay_python_numbers_and_literals_stay_as_written():
    f = relaxc.relax(literals)
    assert f() == (3, -4, -2, -2, 2, "3 items")
    assert all(type(v) is int for v in f()[:5])
    source = relaxc.to_source(f)
    assert "7 // 2" in source and "-7 // 2" in source and '"%d items" % 3' in source
    q, r, i, rounded, as_float, dq, dr = relaxc.relax(operations)(7, 2)
    assert (q, r, i, rounded, dq, dr) == (3, 1, 7, 7, 3, 1) and type(q) is int
    assert type(as_float) is float


def test_generated_code_calls_the_context():
    source = relaxc.to_source(relaxc.relax(bisect_left))
    assert "mid = rx.floordiv(lo + hi, 2)" in source


def test_gradients_are_documented_straight_through():
    a = torch.tensor([7.3, -2.6], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([2.0, 4.0], dtype=torch.float64, requires_grad=True)
    q, r, i, rounded, as_float, dq, dr = relaxc.relax(operations)(a, b)
    da, db = torch.autograd.grad(q.sum(), (a, b))
    torch.testing.assert_close(da, 1 / b.detach())
    torch.testing.assert_close(db, -a.detach() / b.detach() ** 2)
    da, db = torch.autograd.grad(r.sum(), (a, b))
    assert da.tolist() == [1.0, 1.0] and db.tolist() == (-(a // b)).detach().tolist()
    for value in (i, rounded, as_float):
        assert torch.autograd.grad(value.sum(), a)[0].tolist() == [1.0, 1.0]


def test_a_wrapping_index_moves_with_the_index():
    i = torch.tensor([5.5, -1.5], requires_grad=True)
    (grad,) = torch.autograd.grad(relaxc.relax(wraps)(i, 4).sum(), i)
    assert grad.tolist() == [1.0, 1.0]


def test_division_by_zero_stays_in_its_instance_and_gives_no_nan_gradient():
    a = torch.tensor([1.0, 5.0], requires_grad=True)
    b = torch.tensor([0.0, 2.0], requires_grad=True)
    q = relaxc.relax(operations)(a, b)[0]
    assert q[1].item() == 2.0 and math.isinf(q[0].item())
    grads = torch.autograd.grad(q[1], (a, b))
    assert all(torch.isfinite(g).all() for g in grads)


def test_augmented_floor_division_and_modulo():
    x = torch.tensor([-7.5, 9.0], requires_grad=True)
    y = torch.tensor([2.0, 4.0])
    quotient, remainder = relaxc.relax(augmented)(x, y)
    assert quotient.tolist() == [-4.0, 2.0] and remainder.tolist() == [2.0, 2.0]
    (quotient + remainder).sum().backward()   # was: no derivative for floor_divide
    assert x.grad.tolist() == [1.0, 0.5]   # 1/y through `//=`, and again through `z %= 3`
    assert relaxc.relax(augmented)(-7, 2) == (-4, 2)


def test_events_in_integer_arithmetic_are_their_expectation():
    a = torch.tensor([0.0, 1.0], dtype=torch.float64)
    b = torch.tensor([0.2, 0.2], dtype=torch.float64)
    p = torch.sigmoid((a - b) / 0.125)
    torch.testing.assert_close(relaxc.relax(counted)(a, b), p + (1 - p))
    assert relaxc.relax(counted, mode="hard")(a, b).tolist() == [1.0, 1.0]


def test_round_to_digits_of_a_relaxed_value_is_refused_with_the_fix():
    with pytest.raises(TypeError, match="round\\(x, ndigits\\)"):
        relaxc.relax(rounded_to)(torch.tensor([1.2345]))
    assert relaxc.relax(rounded_to)(1.2345) == 1.23


def reads_one_number(x):
    y = x.item()
    return y


def test_item_of_a_relaxed_value_is_refused_with_the_line():
    with pytest.raises(TypeError, match=r"`.item\(\)` on a relaxed value") as caught:
        relaxc.relax(reads_one_number)(torch.tensor([1.0]))   # a batch of one: refused too
    line = reads_one_number.__code__.co_firstlineno + 1
    assert f"line {line}: y = x.item()" in caught.value.__notes__[0]
    assert relaxc.relax(reads_one_number)(torch.tensor(2.0)) == 2.0   # a shared constant
