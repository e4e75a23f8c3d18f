"""Runtime ops on their own: gradients (``gradcheck`` in float64), structure and exactness."""

import io

import pytest
import torch
from torch.autograd import gradcheck

import relaxc
from corpus import bubble_pass, max_of_three, mixed_logic
from test_relaxed import single_if
from relaxc_runtime import Context, Event

RX = Context(beta=0.6)
HARD = Context(mode="hard")


def tensors(*shapes, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, dtype=torch.float64, generator=generator, requires_grad=True)
            for s in shapes]


def prob(value):
    return value.prob if isinstance(value, Event) else value


@pytest.mark.parametrize("operation", ["lt", "le", "gt", "ge", "eq", "ne"])
def test_comparisons_gradcheck(operation):
    a, b = tensors((5,), (5,))
    assert gradcheck(lambda a, b: prob(getattr(RX, operation)(a, b)), (a, b))


def test_comparison_with_a_static_number_and_per_instance_alignment():
    a, row = tensors((3,), (3, 4))
    assert gradcheck(lambda a: prob(RX.lt(a, 0.5)), (a,))
    assert prob(RX.lt(a, row)).shape == (3, 4)   # (B,) meets (B, n) as (B, 1)


@pytest.mark.parametrize("operation", ["and_", "or_"])
def test_logic_gradcheck(operation):
    a, b = tensors((5,), (5,))
    assert gradcheck(
        lambda a, b: prob(getattr(RX, operation)(RX.gt(a, 0), lambda: RX.lt(b, 0))), (a, b))


def test_not_and_truth_gradcheck():
    (a,) = tensors((5,))
    assert gradcheck(lambda a: prob(RX.not_(RX.gt(a, 0))), (a,))
    assert gradcheck(lambda a: prob(RX.not_(a)), (a,))   # not x  ==  P[x == 0]


def test_branch_gradcheck():
    a, b = tensors((4,), (4,))

    def merged(a, b):
        return RX.branch(RX.gt(a, b), lambda a, b: a * b, lambda a, b: a - b, (a, b))

    assert gradcheck(merged, (a, b))


def test_branch_merges_lists_in_place_and_keeps_untouched_elements():
    xs = tensors((3,), (3,), (3,))
    original = list(xs)

    def if_true(xs):
        xs = RX.setitem(xs, 0, RX.getitem(xs, 1))

    RX.branch(RX.gt(xs[0], xs[1]), if_true, lambda xs: None, (xs,))
    assert xs[1] is original[1] and xs[2] is original[2]   # untouched: not recomputed
    p = torch.sigmoid((original[0] - original[1]) / RX.beta)
    torch.testing.assert_close(xs[0], p * original[1] + (1 - p) * original[0])


def test_a_passing_through_false_path_sees_the_originals_and_merges_like_a_copy():
    xs = tensors((3,), (3,))
    original = list(xs)
    seen = []

    def if_true(xs):
        xs = RX.setitem(xs, 0, RX.getitem(xs, 1))

    @RX.passes_through
    def if_false(xs):
        seen.append(xs)

    RX.branch(RX.gt(xs[0], xs[1]), if_true, if_false, (xs,))
    assert seen[0] is xs                      # no copy was made for the path that changes nothing
    p = torch.sigmoid((original[0] - original[1]) / RX.beta)
    torch.testing.assert_close(xs[0], p * original[1] + (1 - p) * original[0])
    assert xs[1] is original[1]


@pytest.mark.parametrize("condition", [[[1.0, -1.0, 0.1], [-2.0, 2.0, 0.02]],
                                       [[0.3, -0.1], [-0.2, 0.05]]])   # square: B == n
def test_an_elementwise_condition_lines_up_per_instance_values(condition):
    c = torch.tensor(condition, dtype=torch.float64)
    s, t = torch.tensor([10.0, 20.0], dtype=torch.float64), torch.tensor([1.0, 2.0],
                                                                          dtype=torch.float64)
    p = torch.sigmoid(c / RX.beta)
    merged = RX.branch(RX.gt(c, 0), lambda s, t: s, lambda s, t: t, (s, t))
    torch.testing.assert_close(merged, p * s[:, None] + (1 - p) * t[:, None])
    merged = RX.branch(RX.gt(c, 0), lambda s: 3.0, lambda s: s, (s,))   # a static side
    torch.testing.assert_close(merged, p * 3.0 + (1 - p) * s[:, None])


def test_setitem_promotes_as_torch_does():
    # stored_dtype writes out torch.result_type (which torch.compile cannot trace).
    from relaxc_runtime.indexing import stored_dtype
    dtypes = [torch.bool, torch.uint8, torch.int32, torch.int64, torch.float16, torch.float32,
              torch.float64, torch.complex64]
    values = ([True, 5, 2.5, 1 + 2j] + [torch.tensor(1, dtype=d) for d in dtypes]
              + [torch.ones(2, dtype=d) for d in dtypes])
    for dtype in dtypes:
        for value in values:
            expected = torch.result_type(torch.zeros(2, 3, dtype=dtype), value)
            assert stored_dtype(dtype, value) == expected, (dtype, value)
    stored = RX.setitem(torch.zeros(2, 2, dtype=torch.bool), 0, 5)
    assert stored.dtype == torch.int64 and stored[:, 0].tolist() == [5, 5]
    assert RX.setitem(torch.zeros(2, 2), 1, torch.tensor(0.5, dtype=torch.float64)).dtype == \
        torch.float32


def test_setitem_on_a_tensor_is_functional_and_differentiable():
    x, v = tensors((2, 3), (2,))
    updated = RX.setitem(x, 1, v)
    assert updated is not x and not torch.equal(updated[:, 1], x[:, 1])
    assert gradcheck(lambda x, v: RX.setitem(x, 1, v), (x, v))


def test_augmented_assignment_never_writes_into_a_tensor():
    (x,) = tensors((3,))
    before = x.detach().clone()
    y = RX.iadd(x, 1.0)
    assert torch.equal(x.detach(), before) and torch.equal(y.detach(), before + 1)
    items = [1]
    assert RX.iadd(items, [2]) is items and items == [1, 2]   # lists keep Python's +=


def test_hard_mode_returns_exact_booleans():
    a = torch.tensor([1.0, 2.0, 3.0])
    assert HARD.lt(a, 2.0).tolist() == [True, False, False]
    assert HARD.le(a, 2.0).tolist() == [True, True, False]
    assert HARD.and_(HARD.gt(a, 1.0), lambda: HARD.lt(a, 3.0)).tolist() == [False, True, False]


@pytest.mark.parametrize("function, shapes", [(max_of_three, [(6,)] * 3),
                                              (mixed_logic, [(6,)] * 3)])
def test_compiled_functions_gradcheck(function, shapes):
    relaxed = relaxc.relax(function, beta=0.8)
    assert gradcheck(relaxed, tuple(tensors(*shapes, seed=1)))


def test_compiled_bubble_pass_gradcheck():
    relaxed = relaxc.relax(bubble_pass, beta=0.8)
    (xs,) = tensors((3, 4), seed=2)
    assert gradcheck(lambda xs: torch.stack([relaxed(xs)[0].sum(1), relaxed(xs)[1]]), (xs,))


def test_straight_through_is_the_hard_forward_with_the_relaxed_gradient():
    relaxed = relaxc.relax(bubble_pass, beta=0.8)
    xs = torch.tensor([[3.0, 1.0, 2.0], [0.5, 0.6, 0.4]], dtype=torch.float64)
    x_st = xs.clone().requires_grad_(True)
    x_relaxed = xs.clone().requires_grad_(True)
    values, swaps = relaxed.options(mode="straight_through")(x_st)
    hard_values, hard_swaps = relaxed.options(mode="hard")(xs)
    assert torch.equal(values.detach(), hard_values) and torch.equal(swaps.detach(),
                                                                   hard_swaps.double())
    (values.sum() + swaps.sum()).backward()
    relaxed_values, relaxed_swaps = relaxed(x_relaxed)
    (relaxed_values.sum() + relaxed_swaps.sum()).backward()
    torch.testing.assert_close(x_st.grad, x_relaxed.grad)


def test_straight_through_mutates_a_list_argument_once():
    xs = [torch.tensor([3.0]), torch.tensor([1.0])]
    values, _ = relaxc.relax(bubble_pass, mode="straight_through")(xs)
    assert values is xs and [v.item() for v in xs] == [1.0, 3.0]


def test_a_straight_through_context_refuses_to_run_code_directly():
    with pytest.raises(RuntimeError, match="through relaxc_runtime.evaluate"):
        Context(mode="straight_through").lt(torch.zeros(1), 1.0)


def count_up(x, y):
    n = x * 0 + 1
    if x > y:
        n += 3
    return n


def count_on_else(x, y):
    n = x * 0 + 1
    if x > y:
        pass
    else:
        n -= 0.5
    return n


def count_both_ways(x, y):
    n = x * 0 + 1
    if x > y:
        n += 3
    else:
        n -= 2
    return n


@pytest.mark.parametrize("function, closed_form, last_op", [
    (count_up, lambda n, p: n + 3 * p, "AddBackward0"),
    (count_on_else, lambda n, p: n - 0.5 * (1 - p), "SubBackward0"),
    (count_both_ways, lambda n, p: p * (n + 3) + (1 - p) * (n - 2), "LerpBackward1"),
])
def test_a_counted_value_merges_as_its_shift(function, closed_form, last_op):
    # `n += c` on one path merges as `n + p·c` (no lerp); counted on both paths, as a lerp.
    beta = 0.5
    x, y = (torch.randn(6, dtype=torch.float64, requires_grad=True) for _ in range(2))
    relaxed = relaxc.relax(function, beta=beta)
    merged = relaxed(x, y)
    assert merged.grad_fn.name() == last_op
    torch.testing.assert_close(merged, closed_form(x * 0 + 1, torch.sigmoid((x - y) / beta)))
    assert gradcheck(relaxed, (x, y))
    assert torch.equal(relaxed.options(mode="hard")(x, y),
                       torch.tensor([function(a, b) for a, b in zip(x.tolist(), y.tolist())],
                                    dtype=torch.float64))


def bumped(x):
    y = x * 1.0
    z = y
    z += 1
    return z, y


def test_a_shift_is_known_in_the_call_that_made_it_only():
    # z = y + 1 in another call: merged here as a lerp, with the gradient of a lerp.
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    c = torch.tensor([0.1, -0.1])
    z, y = relaxc.relax(bumped)(x)
    merged = relaxc.relax(single_if, beta=0.1)(c, z, y)
    assert merged.grad_fn.name() == "LerpBackward1"
    torch.testing.assert_close(torch.autograd.grad(merged.sum(), z)[0], torch.sigmoid(c / 0.1))


def counted_then_scaled(x):
    y = x * 1.0
    z = y
    z += 1
    y.mul_(3)   # the base changes in place: z is no longer y + 1
    if x > 0:
        w = z
    else:
        w = y
    return w


def test_a_shift_whose_base_is_written_in_place_is_forgotten():
    x = torch.tensor([0.5, -0.5])
    p = torch.sigmoid(x)
    torch.testing.assert_close(relaxc.relax(counted_then_scaled, beta=1.0)(x),
                               p * (x + 1) + (1 - p) * 3 * x)


def test_a_counted_result_pickles():
    buffer = io.BytesIO()
    torch.save(relaxc.relax(count_up)(torch.ones(2), torch.zeros(2)), buffer)
    assert buffer.tell() > 0


def test_each_operation_of_the_context_is_written_once_beside_its_construct():
    """Context inherits each construct module's ``Operations``: a name two of them defined would
    silently be the first one's, and one the context defines again would hide its construct's."""
    bases = Context.__mro__[1:-1]
    assert all(base.__name__ == "Operations" for base in bases)
    owners = {}
    for base in bases:
        for name in vars(base):
            if not name.startswith("__"):
                owners.setdefault(name, []).append(base.__module__)
    assert {name: modules for name, modules in owners.items() if len(modules) > 1} == {}
    assert not set(owners) & set(vars(Context))
    assert owners["in_"] == ["relaxc_runtime.conditions"]
