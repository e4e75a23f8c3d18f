"""Relaxation families and logics (runtime/relaxations.py): each formula against its closed form in
float64, the index kernel against the family's density, sample and exact mode against the family's
probability, and the whole corpus in hard, relaxed and exact mode for every family."""

import copy
import inspect
import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

import corpus
import relaxc
from relaxc_runtime import Context, Event, Relaxation
from relaxc_runtime.indexing import kernel_weights
from relaxc_runtime.relaxations import FAMILIES, LOGICS
from test_corpus_properties import (GRADCHECK_SAMPLE, INDEPENDENT, KNOWN_FAILURES, SETTINGS,
                                    batched, call, cases, draw_rows, draw_shapes, numbers,
                                    spaced_rows, with_slow_outside)
from helpers import instance


def _smoothstep(t):
    return 0.0 if t <= -1 else 1.0 if t >= 1 else 0.5 + 0.75 * t - 0.25 * t ** 3


#: family -> (P[a < b], P[a == b]) as functions of t = (b − a)/β, written with `math` alone.
CLOSED_FORMS = {
    "logistic": (lambda t: 1 / (1 + math.exp(-t)), lambda t: 1 / math.cosh(t / 2) ** 2),
    "gaussian": (lambda t: 0.5 * (1 + math.erf(t / math.sqrt(2))), lambda t: math.exp(-t * t / 2)),
    "cauchy": (lambda t: 0.5 + math.atan(t) / math.pi, lambda t: 1 / (1 + t * t)),
    "smoothstep": (_smoothstep, lambda t: max(0.0, 1 - t * t)),
}
#: logic -> (p and q, p or q, p == q).
LOGIC_FORMS = {
    "product": (lambda p, q: p * q, lambda p, q: p + q - p * q,
                lambda p, q: p * q + (1 - p) * (1 - q)),
    "godel": (min, max, lambda p, q: max(min(p, q), min(1 - p, 1 - q))),
    "lukasiewicz": (lambda p, q: max(0.0, p + q - 1), lambda p, q: min(1.0, p + q),
                    lambda p, q: 1 - abs(p - q)),
}
T = [-40.0, -3.0, -1.0, -0.999, -0.5, -0.1, 0.0, 0.1, 0.5, 0.999, 1.0, 1.5, 3.0, 40.0]


def test_the_closed_forms_cover_every_family_and_logic():
    assert set(CLOSED_FORMS) == set(FAMILIES) and set(LOGIC_FORMS) == set(LOGICS)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("beta", [0.25, 2.0])
def test_comparisons_follow_the_closed_forms(family, beta):
    less, equal = CLOSED_FORMS[family]
    ctx = Context(beta=beta, relaxation=family)
    a = torch.zeros(len(T), dtype=torch.float64)
    b = torch.tensor(T, dtype=torch.float64) * beta
    expected_less = torch.tensor([less(t) for t in T], dtype=torch.float64)
    expected_equal = torch.tensor([equal(t) for t in T], dtype=torch.float64)
    torch.testing.assert_close(ctx.lt(a, b).prob, expected_less, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(ctx.gt(b, a).prob, expected_less, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(ctx.eq(a, b).prob, expected_equal, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(ctx.ne(a, b).prob, 1 - expected_equal, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("family", FAMILIES)
def test_integer_operands_take_the_continuity_correction_in_every_family(family):
    # a < b between integer-valued operands is a < b − ½; a == b is |a − b| < ½.
    less, _ = CLOSED_FORMS[family]
    beta, d = 0.7, torch.tensor([-2.0, -1.0, 0.0, 1.0, 3.0], dtype=torch.float64)
    ctx, zero = Context(beta=beta, relaxation=family), torch.zeros(5, dtype=torch.float64)
    lt = torch.tensor([less((x - 0.5) / beta) for x in d.tolist()], dtype=torch.float64)
    eq = torch.tensor([less((0.5 - x) / beta) - less((-0.5 - x) / beta) for x in d.tolist()],
                      dtype=torch.float64)
    torch.testing.assert_close(ctx.lt(zero, d, integer=True).prob, lt, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(ctx.eq(zero, d, integer=True).prob, eq, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_equality_is_the_density_of_the_comparison(family):
    # P[a == b] is the derivative of P[a < b] in t, scaled to 1 at t = 0: the two entries of a
    # family describe one distribution (central differences of the CDF).
    less, equal = CLOSED_FORMS[family]
    h = 1e-6
    slope = lambda t: (less(t + h) - less(t - h)) / (2 * h)
    for t in (-2.5, -0.9, -0.3, 0.2, 0.7, 2.0):
        assert slope(t) / slope(0.0) == pytest.approx(equal(t), rel=1e-6, abs=1e-9), t


@pytest.mark.parametrize("family", FAMILIES)
def test_truthiness_is_the_complement_of_equality_with_zero(family):
    _, equal = CLOSED_FORMS[family]
    beta, x = 0.5, torch.tensor([-1.0, -0.2, 0.0, 0.3, 2.0], dtype=torch.float64)
    ctx = Context(beta=beta, relaxation=family)
    expected = torch.tensor([1 - equal(v / beta) for v in x.tolist()], dtype=torch.float64)
    torch.testing.assert_close(ctx.and_(x, lambda: True).prob, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("logic", LOGICS)
def test_logic_follows_the_closed_forms(logic):
    and_, or_, xnor = LOGIC_FORMS[logic]
    grid = [0.1, 0.3, 0.5, 0.8, 0.95]
    p = torch.tensor([a for a in grid for _ in grid], dtype=torch.float64)
    q = torch.tensor([b for _ in grid for b in grid], dtype=torch.float64)
    ctx = Context(relaxation=Relaxation("logistic", logic=logic))

    def expected(formula):
        return torch.tensor([formula(a, b) for a, b in zip(p.tolist(), q.tolist())],
                            dtype=torch.float64)

    torch.testing.assert_close(ctx.and_(Event(p), lambda: Event(q)).prob, expected(and_))
    torch.testing.assert_close(ctx.or_(Event(p), lambda: Event(q)).prob, expected(or_))
    torch.testing.assert_close(ctx.eq(Event(p), Event(q)).prob, expected(xnor))
    torch.testing.assert_close(ctx.ne(Event(p), Event(q)).prob, 1 - expected(xnor))
    torch.testing.assert_close(ctx.not_(Event(p)).prob, 1 - p)


@pytest.mark.parametrize("logic", LOGICS)
def test_every_logic_is_boolean_logic_on_certain_events(logic):
    and_, or_, xnor = LOGIC_FORMS[logic]
    ctx = Context(relaxation=Relaxation("gaussian", logic=logic))
    for a in (0.0, 1.0):
        for b in (0.0, 1.0):
            p, q = torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64)
            assert ctx.and_(Event(p), lambda: Event(q)).prob.item() == float(a and b)
            assert ctx.or_(Event(p), lambda: Event(q)).prob.item() == float(a or b)
            assert ctx.eq(Event(p), Event(q)).prob.item() == float(a == b)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_index_kernel_is_the_family_density(family):
    _, equal = CLOSED_FORMS[family]
    beta, n = 0.8, 5
    index = torch.tensor([-0.4, 0.3, 1.5, 2.25, 3.9], dtype=torch.float64)
    weights = kernel_weights(index, n, beta, relaxation=Relaxation(family))
    for row, k in zip(weights, index.tolist()):
        density = torch.tensor([equal((j - k) / beta) for j in range(n)], dtype=torch.float64)
        torch.testing.assert_close(row, density / density.sum(), rtol=1e-12, atol=1e-15)


def test_a_bounded_kernel_that_reaches_no_position_reads_the_nearest_one():
    # smoothstep at β = 0.2: an index 0.3 from every position gives no position any weight.
    index = torch.tensor([1.3, 2.7, -5.0, 9.0, 0.5], dtype=torch.float64)
    weights = kernel_weights(index, 4, 0.2, relaxation=Relaxation("smoothstep"))
    assert weights.tolist() == torch.eye(4, dtype=torch.float64)[[1, 3, 0, 3, 0]].tolist()


@pytest.mark.parametrize("family", FAMILIES)
def test_infinite_and_nan_indices_keep_their_meaning_in_every_family(family):
    index = torch.tensor([-math.inf, math.inf, math.nan], dtype=torch.float64)
    weights = kernel_weights(index, 3, 0.5, relaxation=Relaxation(family))
    assert torch.isfinite(weights[:2]).all() and torch.isnan(weights[2]).all()
    torch.testing.assert_close(weights[:2].sum(-1), torch.ones(2, dtype=torch.float64))
    # Toward the end it approaches: the weight of the near end never falls below the far end's.
    assert weights[0, 0] >= weights[0, 2] and weights[1, 2] >= weights[1, 0]


def less_than(a, b):
    return 1.0 if a < b else 0.0


@pytest.mark.parametrize("family", FAMILIES)
def test_sample_and_exact_mode_decide_with_the_family_probability(family):
    less, _ = CLOSED_FORMS[family]
    beta = 0.5
    a = torch.tensor([0.0, 0.0, 0.0], dtype=torch.float64)
    b = torch.tensor([-0.3, 0.2, 0.45], dtype=torch.float64)
    p = torch.tensor([less(v / beta) for v in b.tolist()], dtype=torch.float64)
    relaxed = relaxc.relax(less_than, beta=beta, relaxation=family)
    torch.testing.assert_close(relaxed(a, b), p)
    torch.testing.assert_close(relaxed.options(mode="exact")(a, b), p)
    mean, error = relaxed.options(mode="sample", samples=4000).with_standard_error(a, b)
    assert ((mean - p).abs() <= 4 * error + 1e-12).all(), (mean, p, error)
    assert relaxed.options(mode="hard")(a, b).tolist() == [0.0, 1.0, 1.0]


def test_the_relaxation_is_an_option_per_function_and_per_call():
    f = relaxc.relax(less_than, beta=1.0, relaxation="cauchy")
    a, b = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    assert f(a, b).item() == pytest.approx(0.75)
    assert f.options(relaxation="logistic")(a, b).item() == pytest.approx(1 / (1 + math.e ** -1))
    assert f.options(relaxation=Relaxation("smoothstep"))(a, b).item() == 1.0
    assert "relaxation=relaxc_runtime.Relaxation('cauchy')" in relaxc.to_source(f)
    # The default writes nothing, so generated code for the paper's relaxation is unchanged.
    assert "relaxation=" not in relaxc.to_source(f.options(relaxation="logistic"))


@pytest.mark.parametrize("value, error", [
    ("laplace", "unknown relaxation family 'laplace'"),
    (Relaxation, "relaxation must be a family name"),
    (0.5, "relaxation must be a family name"),
])
def test_an_unknown_relaxation_is_refused_naming_the_choices(value, error):
    with pytest.raises((ValueError, TypeError), match=error):
        relaxc.relax(less_than, relaxation=value)


def test_an_unknown_logic_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="unknown logic 'boolean'.*'godel'"):
        Relaxation("logistic", logic="boolean")


def test_bounded_support_makes_untaken_branches_exactly_negligible():
    # Every pair of values farther apart than β: each decision is certain, so the relaxed sort is
    # the hard one exactly, and its gradient is the permutation's.
    xs = torch.tensor([[3.0, 1.0, 2.0, 0.0, 5.5]], dtype=torch.float64, requires_grad=True)
    relaxed = relaxc.relax(corpus.bubble_pass, beta=0.9, relaxation="smoothstep")
    out, swaps = relaxed(xs)
    hard_out, hard_swaps = relaxed.options(mode="hard")(xs)
    assert (out.tolist(), swaps.tolist()) == (hard_out.tolist(), hard_swaps.tolist())
    out[0, 3].backward()   # the pass carries 3.0 to position 3
    assert xs.grad.tolist() == [[1.0, 0.0, 0.0, 0.0, 0.0]]


# --- the corpus in every family -----------------------------------------------------------------
# The default run takes one function per idiom (test_corpus_properties' gradcheck sample); the
# rest of the corpus runs with `-m slow`.

#: β small enough for every family's decisions on spaced inputs to be those of hard mode (to 1e-3).
SMALL_BETA = 1e-4


def corpus_cases(prop, functions=None):
    """The corpus (or ``functions``) for ``prop`` in every family. A function with a known failure
    of ``prop`` is left out: test_corpus_properties tracks it (one draw here may not show it)."""
    params = [p for p in cases(prop, functions)
              if (p.values[0].__name__, prop) not in KNOWN_FAILURES]
    return [pytest.param(*p.values, family, marks=p.marks, id=f"{p.id}-{family}")
            for p in with_slow_outside(GRADCHECK_SAMPLE, params) for family in FAMILIES]


def enumerates_every_iteration(function, family):
    """Exact mode under a family whose tails never vanish (cauchy) gives every iteration of a
    relaxed `while` a positive probability of going on, so it enumerates a path per iteration up
    to ``max_iter`` (and more where the body decides too): too many to run."""
    return family == "cauchy" and "while " in inspect.getsource(function)


@pytest.mark.parametrize("function, family", corpus_cases("relaxed -> hard"))
@settings(max_examples=1, **SETTINGS)
@given(data=st.data())
def test_corpus_relaxed_and_exact_tend_to_hard_in_every_family(function, family, data):
    shapes = draw_shapes(data, function)
    shapes = [min(s, 4) if isinstance(s, int) and function is not corpus.min_cost_path else s
              for s in shapes]
    rows = spaced_rows(data, shapes, batch=2)
    args = batched(rows, shapes)
    hard = call(function, args, mode="hard", relaxation=family)
    expected = [function(*row) for row in copy.deepcopy(rows)]
    modes = ["relaxed"] + ([] if enumerates_every_iteration(function, family) else ["exact"])
    for mode in modes:
        # eps at the tolerance: cauchy's tails leave mass ~β/π on paths that a static program
        # never takes (jump_search's index past the end, which reads the last element and runs
        # on to max_iter); below eps they stop.
        result = call(function, args, beta=SMALL_BETA, mode=mode, relaxation=family, eps=1e-3)
        for i in range(2):
            assert instance(hard, i) == expected[i], f"instance {i}: {rows[i]}"
            assert numbers(instance(result, i)) == pytest.approx(
                numbers(instance(hard, i)), rel=1e-3, abs=1e-3), f"{mode}, instance {i}: {rows[i]}"


@pytest.mark.parametrize("function, family", [
    p for p in corpus_cases("relaxed == exact", INDEPENDENT)
    if not enumerates_every_iteration(*p.values)])
@settings(max_examples=1, **SETTINGS)
@given(data=st.data())
def test_corpus_relaxed_equals_exact_without_sequential_dependence_in_every_family(
        function, family, data):
    # Relaxed mode is the true expectation where no decision depends on an earlier one, for any
    # perturbation distribution (with the product logic: the probability of independent events).
    shapes = draw_shapes(data, function)
    shapes = [min(s, 4) if isinstance(s, int) else s for s in shapes]
    rows = draw_rows(data, shapes, 2, values=st.floats(-3, 3).map(lambda v: round(v, 2)))
    args = batched(rows, shapes)
    relaxed = call(function, args, beta=0.5, eps=1e-13, relaxation=family)
    exact = call(function, args, beta=0.5, mode="exact", eps=1e-13, relaxation=family)
    for i in range(2):
        assert numbers(instance(relaxed, i)) == pytest.approx(
            numbers(instance(exact, i)), rel=1e-7, abs=1e-9), f"instance {i}: {rows[i]}"
