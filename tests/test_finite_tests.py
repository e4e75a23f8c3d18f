"""The rules by which a replay's finiteness tests stand for one another (``finite_tests.py``):
each is checked against torch itself, for every name in its table, with ±inf and NaN at each
argument, including the weights ``lerp`` and ``mul`` treat specially (0 and 1)."""

import math
from types import SimpleNamespace

import pytest
import torch

from relaxc_runtime.finite_tests import _HOLDS_ALL, _SPREADS, Coverage

NOT_FINITE = [math.inf, -math.inf, math.nan]
WEIGHTS = [0.0, 1.0, 0.25, 0.75, -3.0]   # also the finite values of the other arguments

# Each name of the table, as a call on tensors of shape (5,) (its tensor arguments first).
CALLS = {
    "add": (torch.add, 2), "sub": (torch.sub, 2), "mul": (torch.mul, 2),
    "rsub": (torch.rsub, 2), "lerp": (torch.lerp, 3), "neg": (torch.neg, 1),
    "abs": (torch.abs, 1), "positive": (torch.positive, 1), "addcmul": (torch.addcmul, 3),
    "detach": (torch.Tensor.detach, 1), "clone": (torch.clone, 1),
    "contiguous": (torch.Tensor.contiguous, 1),
    "to": (lambda a, b: a.to(b.double()), 2), "float": (torch.Tensor.float, 1),
    "double": (torch.Tensor.double, 1), "half": (torch.Tensor.half, 1),
    "bfloat16": (torch.Tensor.bfloat16, 1),
    **{f"__{op}__": (getattr(torch.Tensor, f"__{op}__"), 2)
       for op in ("add", "sub", "mul", "radd", "rsub", "rmul")},
    **{f"__{op}__": (getattr(torch.Tensor, f"__{op}__"), 1) for op in ("neg", "abs", "pos")},
    "div": (torch.div, 2), "true_divide": (torch.true_divide, 2),
    "__truediv__": (torch.Tensor.__truediv__, 2),
    "where": (lambda a, b: torch.where(torch.tensor([True, False] * 2 + [True]), a, b), 2),
    "stack": (lambda a, b: torch.stack([b, a]), 2), "cat": (lambda a, b: torch.cat([b, a]), 2),
    "hstack": (lambda a, b: torch.hstack([b, a]), 2),
    "vstack": (lambda a, b: torch.vstack([b, a]), 2),
    "reshape": (lambda a: a.reshape(5, 1), 1), "view": (lambda a: a.view(1, 5), 1),
    "flatten": (torch.flatten, 1), "unsqueeze": (lambda a: a.unsqueeze(0), 1),
    "squeeze": (torch.squeeze, 1), "expand": (lambda a: a.expand(2, 5), 1),
    "expand_as": (lambda a: a.expand_as(torch.zeros(3, 5)), 1), "sum": (torch.sum, 1),
    "transpose": (lambda a: a.reshape(5, 1).transpose(0, 1), 1),
    "permute": (lambda a: a.permute(0), 1), "movedim": (lambda a: a.movedim(0, 0), 1),
    "t": (torch.t, 1),
}


def test_every_rule_of_the_table_is_checked_here():
    assert set(CALLS) == set(_SPREADS)


def spreading_arguments(name, arity):
    rule = _SPREADS[name]
    if rule == "first" or (rule == "holds" and name not in _HOLDS_ALL):
        return [0]
    if rule == "where":
        return []   # checked below: it spreads only what both sides hold
    return list(range(arity))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_value_that_is_not_finite_spreads_as_the_table_says(name):
    call, arity = CALLS[name]
    for position in spreading_arguments(name, arity):
        for bad in NOT_FINITE:
            for fill in WEIGHTS:
                for index in range(5):
                    args = [torch.full((5,), fill) for _ in range(arity)]
                    args[position][index] = bad
                    out = call(*args)
                    if _SPREADS[name] == "holds":
                        assert not torch.isfinite(out).all(), (name, position, bad, fill)
                    else:   # at the same element
                        assert not torch.isfinite(out[index]), (name, position, bad, fill)


def test_where_spreads_what_both_sides_hold_at_the_same_element():
    for bad in NOT_FINITE:
        for index in range(5):
            a = torch.arange(5.0)
            a[index] = bad
            for condition in (torch.rand(5) > 0.5 for _ in range(4)):
                assert not torch.isfinite(torch.where(condition, a, a.detach() * 2)[index])


def test_what_does_not_spread_is_not_in_the_table():
    # Each of these makes a value that is not finite finite again.
    x = torch.tensor([math.inf, 1.0])
    assert torch.isfinite(torch.sigmoid(x)).all() and torch.isfinite(torch.exp(-x)).all()
    assert torch.isfinite(1 / x).all() and torch.isfinite(torch.clamp(x, max=2)).all()
    assert torch.isfinite(torch.minimum(x, torch.ones(2))).all() and torch.isfinite(x[1])
    for name in ("sigmoid", "exp", "rtruediv", "__rtruediv__", "clamp", "minimum", "select",
                 "__getitem__", "softmax", "pow"):
        assert name not in _SPREADS


# Coverage on made-up records: merges 1 and 2, shape (4,), made by the first calls of a record
# (MERGES); other tensors are numbered from 10.
def call(name, out, *args, shape=(4,), dtype=torch.float32, writes=False, finite=True):
    """A recorded torch call ``out = name(*args)`` (ints are tensors, others constants)."""
    return name, SimpleNamespace(
        outs=(out,), unpack=False, layouts=((shape, dtype),), finite=(finite,), writes=writes,
        kwargs=(), args=tuple(("v", a) if type(a) is int else
                              ("list", tuple(("v", b) for b in a)) if type(a) is list else
                              ("c", a) for a in args))


MERGES = [call("lerp", 1, 0, 5, 6), call("lerp", 2, 0, 7, 8)]


def chosen(calls, tested=((1, (4,)), (2, (4,)))):
    coverage = Coverage(list(tested))
    for index, (name, op) in enumerate(MERGES + calls):
        coverage.add(name, op, index + 1)
    return sorted(number for number, _, _ in coverage.choose(list(tested), 0))


def test_one_tensor_stands_for_the_merges_it_is_made_from():
    assert chosen([call("lerp", 10, 1, 2, 0)]) == [10]
    assert chosen([call("mul", 10, 1, 2.0), call("__rsub__", 11, 10, 1.0),
                   call("add", 12, 11, 2)]) == [12]
    assert chosen([call("stack", 10, [1, 2], 0, shape=(2, 4))]) == [10]


def test_each_merge_without_a_tensor_that_stands_for_both_is_tested():
    assert len(chosen([call("mul", 10, 1, 2.0), call("mul", 11, 2, 2.0)])) == 2
    assert len(chosen([call("sigmoid", 10, 1), call("add", 11, 10, 2)])) == 2


def test_a_divisor_and_a_choice_with_another_value_stand_for_nothing():
    for calls in ([call("div", 10, 0, 1), call("mul", 11, 10, 2)],
                  [call("where", 10, 0, 1, 3.0), call("mul", 11, 10, 2)],
                  [call("where", 10, 0, 1, 2)]):
        assert len(chosen(calls)) == 2


def test_a_choice_between_one_value_and_its_copy_stands_for_it():
    assert chosen([call("detach", 10, 1), call("where", 11, 0, 10, 1),
                   call("detach", 12, 2), call("where", 13, 0, 2, 12),
                   call("stack", 14, [11, 13], shape=(2, 4))]) == [14]


def test_nothing_made_before_a_write_in_place_stands_for_what_is_read_after_it():
    coverage = Coverage([(1, (4,))])
    for name, op in (call("mul", 10, 1, 2.0), call("add_", 11, 1, 1.0, writes=True)):
        coverage.add(name, op, 1)
    assert [n for n, _, _ in coverage.choose([(1, (4,))], 2)] == [1]


def test_a_tensor_not_found_finite_or_viewed_as_another_dtype_stands_for_nothing():
    assert chosen([call("add", 10, 1, 2, finite=False)]) == [1, 2]
    assert chosen([call("stack", 10, [1, 2], shape=(2, 4))]) == [10]
    assert chosen([call("view", 10, 1, torch.int32, dtype=torch.int32),
                   call("stack", 11, [10, 2], shape=(2, 4), dtype=torch.int32)]) == [1, 2]
    # bfloat16 bits read from float16 ones (a float16 NaN can read as a finite bfloat16)
    assert chosen([call("view", 10, [1, 2], torch.bfloat16, dtype=torch.bfloat16)]) == [1, 2]


def test_a_larger_tensor_does_not_stand_for_fewer_elements():
    assert chosen([call("mul", 10, 1, 11, shape=(3, 4))], tested=((1, (4,)),)) == [1]
