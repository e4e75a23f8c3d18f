"""DESIGN §1.7: one instance never depends on the rest of the batch; a negligible branch never
poisons values or gradients; dtypes follow the inputs."""

import warnings

import pytest
import torch

import relaxc
import corpus
from corpus import CASES, RELAXED_ERRORS
from helpers import flatten, instance


@relaxc.relax
def safe_sqrt(x):
    if x > 0:
        y = torch.sqrt(x)
    else:
        y = 0 * x
    return y


@relaxc.relax
def safe_log(x):
    return torch.log(x) if x > 0 else x - x


@pytest.mark.parametrize("function", [safe_sqrt, safe_log])
def test_negligible_branch_gives_finite_values_and_gradients(function):
    # σ(-2/0.125) ≈ 1e-7 < eps: the sqrt branch is negligible at -4 and -2.
    x = torch.tensor([-4.0, -2.0, 4.0, 9.0], requires_grad=True)
    y = function(x)
    y.sum().backward()
    assert torch.isfinite(y).all() and torch.isfinite(x.grad).all()
    assert y[0].item() == 0.0 and x.grad[0].item() == 0.0


@relaxc.relax
def safe_sqrt_of_a_row(x, row):
    if x > 0:
        row = torch.sqrt(row)
    return row


def test_a_negligible_branch_is_repaired_per_instance_in_a_vector_value():
    # A (B,) condition merging (B, n) rows: the repair must line the condition up per instance.
    x = torch.tensor([-4.0, 4.0])
    row = torch.tensor([[-1.0, 4.0, -9.0], [1.0, 4.0, 9.0]], requires_grad=True)
    y = safe_sqrt_of_a_row(x, row)
    y.sum().backward()
    torch.testing.assert_close(y.detach(), torch.tensor([[-1.0, 4.0, -9.0], [1.0, 2.0, 3.0]]),
                               atol=1e-6, rtol=0)
    assert torch.isfinite(row.grad).all()


@relaxc.relax
def shift_if_positive(x, y):
    if x > 0:
        y = y + 2 * x
    return y


def test_a_negligible_linear_branch_keeps_its_exact_gradient_a_nonlinear_one_is_cut():
    # y + 2x under p = σ(x/β): the merge is y + 2·p·x. At x = -3 the branch is negligible
    # (p ≈ 4e-11); being linear it runs unguarded, so the gradient is the exact one.
    x = torch.tensor([-3.0, 0.05], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    shift_if_positive(x, y).sum().backward()
    p = torch.sigmoid(x.detach() / 0.125)
    exact = 2 * p + 2 * x.detach() * p * (1 - p) / 0.125
    torch.testing.assert_close(x.grad, exact, rtol=1e-9, atol=0)   # a cut would miss the 2·p
    # The sqrt branch is not linear: negligible at -4, its inputs get no gradient through it.
    root = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    safe_sqrt(root).sum().backward()
    assert root.grad.item() == 0.0


def test_non_finite_values_of_a_likely_branch_are_not_hidden():
    # At x = -0.01 both branches are likely: sqrt's NaN must show, not be papered over.
    y = safe_sqrt(torch.tensor([-0.01]))
    assert torch.isnan(y).all()


def random_argument(spec, batch, generator):
    if spec == "x":
        return torch.randn(batch, dtype=torch.float64, generator=generator)
    if isinstance(spec, str):
        return torch.randn(batch, int(spec[2:]), dtype=torch.float64, generator=generator)
    return 1   # a static argument: the same for every instance


@pytest.mark.parametrize("function", [f for f in CASES if f not in RELAXED_ERRORS],
                         ids=lambda f: f.__name__)
def test_batch_independence(function):
    generator = torch.Generator().manual_seed(3)
    batch = 5
    args = [random_argument(spec, batch, generator) for spec in CASES[function]]
    # A small max_iter keeps slowly converging relaxed loops (gnome sort) quick; the cut-off
    # is per call, so it must not make instances depend on each other either.
    relaxed = relaxc.relax(function, beta=0.3, max_iter=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        whole = relaxed(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args])
        for i in range(batch):
            alone = relaxed(*[a[i:i + 1] if isinstance(a, torch.Tensor) else a for a in args])
            assert flatten(instance(alone, 0)) == pytest.approx(flatten(instance(whole, i)),
                                                              rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("function", list(RELAXED_ERRORS), ids=lambda f: f.__name__)
def test_relaxations_refused_by_design_say_why(function):
    args = [random_argument(spec, 2, torch.Generator().manual_seed(0)) for spec in CASES[function]]
    error, message = RELAXED_ERRORS[function]
    with pytest.raises(error, match=message):
        relaxc.relax(function)(*args)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_follows_the_inputs(dtype):
    x = torch.tensor([-1.0, 2.0], dtype=dtype)
    assert safe_sqrt(x).dtype == dtype
    sign = relaxc.relax(corpus.sign)
    assert sign(x).dtype == dtype                       # static ints promoted to the input dtype
    assert sign.options(mode="hard")(x).dtype == torch.int64   # hard: exact integers


def reports_big(x):
    if x > 100:
        print("big", end=";")
        x = x - 1
    return x


@pytest.mark.parametrize("mode, beta", [("hard", 0.125), ("relaxed", 1e-6)])
def test_a_branch_with_side_effects_runs_only_where_an_instance_takes_it(mode, beta, capsys):
    f = relaxc.relax(reports_big, mode=mode, beta=beta)
    small = f(torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert capsys.readouterr().out == ""          # no instance takes it (relaxed: p is 0)
    assert small.tolist() == [1.0, 2.0] and isinstance(small, torch.Tensor)
    mixed = f(torch.tensor([1.0, 200.0], dtype=torch.float64))
    assert capsys.readouterr().out == "big;"      # the batch runs it once, as one path
    assert mixed.tolist() == [1.0, 199.0]
