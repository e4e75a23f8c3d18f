"""Relaxed data access (DESIGN §1.4): argmax/argmin, real-valued and categorical indexing,
categorical values — closed forms, hard mode against Python on strings, gradients, errors."""

import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from torch.autograd import gradcheck

import relaxc
import relaxc_runtime.categorical
from corpus import gnome_sort, insertion_sort
from relaxc_runtime import Categorical, Context

sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))
from levenshtein import levenshtein  # noqa: E402

BETA = 0.6
RX = Context(beta=BETA)
ALPHABET = "ACGT"


def one_hot(*words):
    """A batch of words as a one-hot categorical sequence (B, n, 4)."""
    codes = torch.tensor([[ALPHABET.index(c) for c in w] for w in words])
    return Categorical(F.one_hot(codes, len(ALPHABET)).double())


def test_argmax_and_argmin_are_softmax_over_positions():
    xs = torch.randn(4, 5, dtype=torch.float64)
    torch.testing.assert_close(RX.argmax(xs).probs, torch.softmax(xs / BETA, -1))
    torch.testing.assert_close(RX.argmin(xs).probs, torch.softmax(-xs / BETA, -1))
    hard = Context(mode="hard").argmax(xs).probs
    torch.testing.assert_close(hard, F.one_hot(xs.argmax(-1), 5).double())
    assert relaxc.argmax([3, 7, 7, 5]) == 1 and relaxc.argmin([3, 1, 1]) == 1   # first, as Python


def test_real_valued_index_read_and_write_use_the_normalised_logistic_kernel():
    xs = torch.randn(3, 6, dtype=torch.float64)
    k = torch.tensor([0.3, 2.5, 4.6], dtype=torch.float64)
    d = (torch.arange(6, dtype=torch.float64) - k[:, None]) / BETA
    kernel = torch.sigmoid(d) * torch.sigmoid(-d)
    w = kernel / kernel.sum(-1, keepdim=True)
    torch.testing.assert_close(RX.getitem(xs, k), (w * xs).sum(-1))
    v = torch.tensor([10.0, 20.0, 30.0], dtype=torch.float64)
    torch.testing.assert_close(RX.setitem(xs, k, v), w * v[:, None] + (1 - w) * xs)


def test_an_index_exactly_at_a_position_selects_it():
    xs = torch.randn(2, 4, dtype=torch.float64)
    assert RX.getitem(xs, torch.tensor([1.0, 3.0], dtype=torch.float64)).tolist() == [
        xs[0, 1].item(), xs[1, 3].item()]


def with_index_gradient(gradient, **options):
    """A context whose real-valued indices take the gradient ``gradient``."""
    return Context(index_gradient=gradient, **options)


def kernel(k, n, beta=BETA):
    """The normalised kernel written out (module docstring), (B, n)."""
    d = (torch.arange(n, dtype=k.dtype) - k[:, None]) / beta
    kappa = torch.sigmoid(d) * torch.sigmoid(-d)
    return kappa / kappa.sum(-1, keepdim=True)


# Inside, at half-integers, exactly at positions (the ends too), just outside, far outside
# (within the clamp of 64·β = 38.4 and beyond it), in float64.
INDICES = [[0.3, 2.5, 4.6], [-0.5, 5.5, 1.5], [0.0, 2.0, 5.0], [-30.0, 37.0, 44.0],
           [1e4, -1e4, -1.2]]


@pytest.mark.parametrize("k", INDICES)
def test_the_gradient_of_a_real_valued_index_is_the_gradient_of_its_weights(k):
    # By default the index's gradient is the derivative of the function computed (issue 14,
    # item 8): the kernel's normaliser is differentiated too. gradcheck compares it with central
    # differences, also where the index is exactly a position (one-hot there, the kernel's
    # derivative on either side) and beyond the clamp (the kernel's limit, gradient 0).
    k = torch.tensor(k, dtype=torch.float64, requires_grad=True)
    xs = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)
    v = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda k: relaxc_runtime.indexing.index_weights(k, 6, RX), (k,))
    assert gradcheck(lambda xs, k: RX.getitem(xs, k), (xs, k))
    assert gradcheck(lambda xs, k, v: RX.setitem(xs, k, v), (xs, k, v))
    columns = lambda xs: relaxc_runtime.columns.columns(xs)
    assert gradcheck(lambda xs, k, v: RX.setitem(columns(xs), k, v), (xs, k, v))
    assert gradcheck(lambda xs, k: RX.getitem(list(xs.unbind(1)), k), (xs, k))


def test_the_index_gradient_is_the_kernels_away_from_positions():
    k = torch.tensor([1.2, 2.7, -3.0, 9.5], dtype=torch.float64, requires_grad=True)
    xs = torch.randn(4, 4, dtype=torch.float64)
    grad, = torch.autograd.grad((RX.getitem(xs, k) * torch.arange(1.0, 5.0)).sum(), k)
    k2 = k.detach().clone().requires_grad_(True)
    expected, = torch.autograd.grad(((kernel(k2, 4) * xs).sum(-1) * torch.arange(1.0, 5.0)).sum(),
                                    k2)
    torch.testing.assert_close(grad, expected)


def test_the_papers_constant_normaliser_is_an_option():
    # index_gradient="constant_normaliser": the same values, the normaliser a constant for the
    # gradient (paper §3.2, a training heuristic).
    paper = with_index_gradient("constant_normaliser", beta=BETA)
    xs = torch.randn(2, 4, dtype=torch.float64)
    k = torch.tensor([1.2, 2.7], dtype=torch.float64, requires_grad=True)
    paper.getitem(xs, k).sum().backward()
    d = (torch.arange(4, dtype=torch.float64) - k.detach()[:, None]) / BETA
    kappa = torch.sigmoid(d) * torch.sigmoid(-d)
    k2 = k.detach().clone().requires_grad_(True)
    d2 = (torch.arange(4, dtype=torch.float64) - k2[:, None]) / BETA
    kappa2 = torch.sigmoid(d2) * torch.sigmoid(-d2)
    (kappa2 / kappa.sum(-1, keepdim=True) * xs).sum().backward()
    torch.testing.assert_close(k.grad, k2.grad)
    torch.testing.assert_close(paper.getitem(xs, k), RX.getitem(xs, k))
    exact = with_index_gradient("exact", beta=BETA)
    grad, = torch.autograd.grad(exact.getitem(xs, k).sum(), k)
    assert not torch.allclose(grad, k.grad)   # the option is read, and it is not the default
    with pytest.raises(ValueError, match="unknown index_gradient 'paper'"):
        with_index_gradient("paper", beta=BETA).getitem(xs, k)


@pytest.mark.parametrize("beta", [0.125, 0.6])
def test_real_valued_index_gradients_are_finite_in_float32_for_extreme_indices(beta):
    ctx = Context(beta=beta)
    inf = float("inf")
    k = torch.tensor([1e4, -1e4, 1e30, -1e30, 3.0, 2.5, 1e-30, inf, -inf], requires_grad=True)
    xs = torch.randn(9, 5, requires_grad=True)
    v = torch.randn(9, requires_grad=True)
    weights = relaxc_runtime.indexing.index_weights(k, 5, ctx)
    assert torch.isfinite(weights).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(9))
    for result in (ctx.getitem(xs, k), ctx.setitem(xs, k, v)):
        grads = torch.autograd.grad((result * torch.randn(result.shape)).sum(), (xs, k, v),
                                    allow_unused=True)
        assert all(g is None or torch.isfinite(g).all() for g in grads)
    # ±inf (and anything past 64·β) read the kernel's limit, w_j ∝ exp(±j/β).
    positions = torch.arange(5.0)
    torch.testing.assert_close(weights[7], torch.softmax(positions / beta, 0))
    torch.testing.assert_close(weights[8], torch.softmax(-positions / beta, 0))
    torch.testing.assert_close(weights[0], weights[7])


def test_a_non_finite_index_affects_its_own_instance_only():
    # Issue 14, item 10: no error; inf reads the kernel's limit, NaN gives NaN weights; the other
    # instances' values and gradients are what they are alone (no 0 · nan in the backward pass).
    nan, inf = float("nan"), float("inf")
    k = torch.tensor([1.3, nan, inf, 2.0, -inf, 0.4], dtype=torch.float64, requires_grad=True)
    xs = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(6, dtype=torch.float64, requires_grad=True)
    others = [0, 2, 3, 4, 5]
    for op in (lambda xs, k, v: RX.getitem(xs, k)[:, None],
               lambda xs, k, v: RX.setitem(xs, k, v)):
        together = op(xs, k, v)
        assert torch.isnan(together[1]).all() and torch.isfinite(together[others]).all()
        grads = torch.autograd.grad(together[others].sum(), (xs, k, v), allow_unused=True)
        assert all(g is None or torch.isfinite(g[others]).all() for g in grads)
        assert grads[1][1] == 0   # no gradient reaches a NaN index, not even a NaN one
        for i in others:
            alone = [t[i:i + 1].detach().requires_grad_(True) for t in (xs, k, v)]
            result = op(*alone)
            torch.testing.assert_close(result, together[i:i + 1], rtol=0, atol=0)
            for g_alone, g in zip(torch.autograd.grad(result.sum(), alone, allow_unused=True),
                                  grads):
                if g is not None:
                    torch.testing.assert_close(g_alone, g[i:i + 1], rtol=0, atol=1e-15)


def test_a_nan_index_is_drawn_uniformly_in_sample_mode():
    xs = torch.arange(8.0).reshape(2, 4)
    k = torch.tensor([float("nan"), 1.0])
    draws = torch.stack([Context(mode="sample", seed=s).getitem(xs, k) for s in range(200)])
    assert set(draws[:, 0].tolist()) == {0.0, 1.0, 2.0, 3.0} and (draws[:, 1] == 5.0).all()


def test_categorical_index_is_the_weighted_sum():
    xs = torch.randn(2, 3, dtype=torch.float64)
    c = Categorical(torch.tensor([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]], dtype=torch.float64))
    torch.testing.assert_close(RX.getitem(xs, c), (c.probs * xs).sum(-1))
    v = torch.tensor([1.0, 2.0], dtype=torch.float64)
    torch.testing.assert_close(RX.setitem(xs, c, v), c.probs * v[:, None] + (1 - c.probs) * xs)


def test_categorical_equality_inner_product_or_cosine():
    soft_a = torch.tensor([[0.6, 0.4, 0.0]], dtype=torch.float64)
    soft_b = torch.tensor([[0.3, 0.3, 0.4]], dtype=torch.float64)
    hot = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    equal = RX.eq(Categorical(soft_a), Categorical(hot)).prob
    torch.testing.assert_close(equal, (soft_a * hot).sum(-1))
    cosine = RX.eq(Categorical(soft_a), Categorical(soft_b)).prob
    torch.testing.assert_close(cosine, F.cosine_similarity(soft_a, soft_b, dim=-1))
    assert Context(mode="hard").eq(Categorical(soft_a), Categorical(hot)).tolist() == [False]
    torch.testing.assert_close(RX.eq(Categorical(soft_b), 2).prob, soft_b[:, 2])


def test_elements_of_a_sequence_compare_per_instance_by_inner_product_or_cosine():
    # Instance 0 holds one-hot symbols, instance 1 soft ones: each instance gets its own rule,
    # with the one-hot test done once on the whole sequence and sliced per element.
    a = torch.tensor([[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
                      [[0.6, 0.4, 0.0], [0.2, 0.5, 0.3]]], dtype=torch.float64)
    b = torch.tensor([[[0.5, 0.5, 0.0]], [[0.3, 0.3, 0.4]]], dtype=torch.float64)
    sequence_a, sequence_b = Categorical(a), Categorical(b)
    for i in range(2):
        element_a, element_b = RX.getitem(sequence_a, i), RX.getitem(sequence_b, 0)
        got = RX.eq(element_a, element_b).prob
        inner = (a[:, i] * b[:, 0]).sum(-1)
        cosine = F.cosine_similarity(a[:, i], b[:, 0], dim=-1)
        torch.testing.assert_close(got, torch.stack([inner[0], cosine[1]]))
        assert element_a.one_hot().tolist() == Categorical(a[:, i]).one_hot().tolist()
    soft = [RX.eq(x, y).prob for x, y in zip(RX.iterate(Categorical(a[1:])), RX.iterate(
        Categorical(b[1:].expand(1, 2, 3))))]
    torch.testing.assert_close(torch.cat(soft), F.cosine_similarity(a[1], b[1].expand(2, 3), -1))


def all_pairs(a, b):
    return [[a[i] == b[j] for j in range(len(b))] for i in range(len(a))]


def corners(a, b):
    return a[0] == b[-1], a[-1] == b[-2]


def test_elements_of_two_sequences_compare_through_one_table_equal_to_each_pair(monkeypatch):
    # In a call, the first comparison between elements of two sequences computes every pair's
    # similarity at once: each entry equals the pair compared on its own (per instance: one-hot
    # or soft), negative indices included; Levenshtein's values and gradients do not change when
    # the table is not used (a size limit of 0).
    a = torch.softmax(torch.randn(3, 4, 5, dtype=torch.float64), -1)
    a[0] = F.one_hot(torch.tensor([1, 0, 4, 4]), 5).double()
    b = torch.softmax(torch.randn(3, 2, 5, dtype=torch.float64), -1)
    b[1, 1] = F.one_hot(torch.tensor(2), 5).double()
    table = relaxc.relax(all_pairs, beta=BETA)(Categorical(a), Categorical(b))
    for i in range(4):
        for j in range(2):
            alone = RX.eq(Categorical(a[:, i].clone()), Categorical(b[:, j].clone())).prob
            torch.testing.assert_close(table[i][j], alone, rtol=1e-12, atol=1e-12)
    first, second = relaxc.relax(corners, beta=BETA)(Categorical(a), Categorical(b))
    torch.testing.assert_close(first, table[0][1], rtol=0, atol=0)
    torch.testing.assert_close(second, table[3][0], rtol=0, atol=0)
    with pytest.raises(IndexError, match="index 2 is out of range for a sequence of length 2"):
        RX.getitem(Categorical(b), 2)

    def distance_and_gradient():
        x, y = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
        d = relaxc.relax(levenshtein, beta=1.0)(Categorical(x), Categorical(y))[-1][-1]
        return (d, *torch.autograd.grad(d.sum(), (x, y)))
    with_table = distance_and_gradient()
    monkeypatch.setattr(relaxc_runtime.categorical, "_PAIRWISE_LIMIT", 0)
    for got, expected in zip(distance_and_gradient(), with_table):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_a_similarity_table_lives_for_one_call():
    # Kept across calls, a table would hold the first call's graph (freed by its backward, absent
    # under no_grad) and miss an update through .data. Each call computes its own.
    x = torch.softmax(torch.randn(2, 3, 4), -1).requires_grad_(True)
    y = torch.softmax(torch.randn(2, 3, 4), -1)
    a, b = Categorical(x), Categorical(y)
    distance = relaxc.relax(levenshtein, beta=1.0)
    with torch.no_grad():
        distance(a, b)
    for _ in range(2):                       # two training steps on the same inputs
        d = distance(a, b)[-1][-1]
        assert d.requires_grad
        d.sum().backward()
    before = distance(a, b)[-1][-1].detach()
    x.data.copy_(torch.roll(x.data, 1, -1))   # a manual update: no version change
    after = distance(a, b)[-1][-1].detach()
    expected = distance(Categorical(x.detach().clone()), Categorical(y.clone()))[-1][-1]
    torch.testing.assert_close(after, expected)
    assert not torch.allclose(before, after)


def test_a_categorical_retests_one_hotness_after_an_in_place_change_and_takes_tuples():
    hot, soft = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[0.5, 0.5, 0.0]])
    c, d = Categorical(hot.clone()), Categorical(soft)
    torch.testing.assert_close(RX.eq(c, d).prob, torch.tensor([0.5]))     # inner product
    c.probs.copy_(soft)                                                   # an optimiser step
    torch.testing.assert_close(RX.eq(c, d).prob, torch.tensor([1.0]))     # cosine, not stale
    grid = Categorical(torch.softmax(torch.randn(2, 3, 4, 5), -1))
    torch.testing.assert_close(RX.getitem(grid, (0, 1)).probs, grid.probs[:, 0, 1])


def test_merging_categoricals_mixes_their_probabilities():
    @relaxc.relax(beta=BETA)
    def pick(x, a, b):
        c = a if x > 0 else b
        return c

    x = torch.tensor([0.3], dtype=torch.float64)
    a, b = one_hot("A"), one_hot("C")
    p = torch.sigmoid(x / BETA)
    torch.testing.assert_close(pick(x, Categorical(a.probs[:, 0]), Categorical(b.probs[:, 0])),
                               p[:, None] * a.probs[:, 0] + (1 - p[:, None]) * b.probs[:, 0])


def hamming(a, b):
    distance = 0
    for i in range(len(a)):
        if a[i] != b[i]:
            distance += 1
    return distance


def lcs_length(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return table[len(a)][len(b)]


def selection_sort(xs):
    for i in range(len(xs) - 1):
        j = i + relaxc.argmin(xs[i:])
        xs[i], xs[j] = xs[j], xs[i]
    return xs


WORDS = st.text(alphabet=ALPHABET, min_size=1, max_size=5)


@settings(max_examples=40, deadline=None)
@given(pairs=st.lists(st.tuples(WORDS, WORDS), min_size=1, max_size=3))
def test_string_algorithms_hard_mode_equal_python_on_strings(pairs):
    pairs = [(a, b) for a, b in pairs if len(a) == len(pairs[0][0]) and len(b) == len(pairs[0][1])]
    left, right = one_hot(*[a for a, _ in pairs]), one_hot(*[b for _, b in pairs])
    table = relaxc.relax(levenshtein, mode="hard")(left, right)
    for i, (a, b) in enumerate(pairs):
        expected = levenshtein(a, b)
        assert [[int(v[i]) if isinstance(v, torch.Tensor) else v for v in row]
                for row in table] == expected
    hard = relaxc.relax(lcs_length, mode="hard")(left, right)
    assert hard.tolist() == [lcs_length(a, b) for a, b in pairs]
    same_length = [(a, a[::-1]) for a, _ in pairs]
    hard = relaxc.relax(hamming, mode="hard")(left, one_hot(*[b for _, b in same_length]))
    assert hard.tolist() == [hamming(a, b) for a, b in same_length]


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(st.lists(st.integers(-3, 3).map(float), min_size=4, max_size=4),
                     min_size=1, max_size=4))
def test_selection_sort_by_argmin_hard_mode_equals_python(rows):
    result = relaxc.relax(selection_sort, mode="hard")(torch.tensor(rows, dtype=torch.float64))
    assert result.tolist() == [selection_sort(list(r)) for r in rows]


def test_selection_sort_by_argmin_relaxed_converges_to_sorted():
    xs = torch.randn(16, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    result = relaxc.relax(selection_sort, beta=1e-4)(xs)
    torch.testing.assert_close(result, xs.sort(-1).values, atol=1e-6, rtol=0)


def test_gradcheck_indexing_ops():
    # With respect to the values, probabilities and real-valued indices.
    xs = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    k = torch.tensor([0.7, 2.2], dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, dtype=torch.float64, requires_grad=True)
    probs = torch.softmax(torch.randn(2, 4, dtype=torch.float64), -1).requires_grad_(True)
    assert gradcheck(lambda xs, k: RX.getitem(xs, k), (xs, k))
    assert gradcheck(lambda xs, k, v: RX.setitem(xs, k, v), (xs, k, v))
    assert gradcheck(lambda xs, p: RX.getitem(xs, Categorical(p)), (xs, probs))
    assert gradcheck(lambda xs, p, v: RX.setitem(xs, Categorical(p), v), (xs, probs, v))
    grid = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    j = torch.tensor([1.6, 0.2], dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda g, k, j, v: RX.setitem(g, (k / 2, j), v), (grid, k, j, v))
    assert gradcheck(lambda g, k, j: RX.getitem(g, (k / 2, j)), (grid, k, j))
    assert gradcheck(lambda g, k, v: RX.setitem(g, (k / 2, 1), v), (grid, k, v))


def test_gradcheck_levenshtein_on_soft_inputs():
    relaxed = relaxc.relax(levenshtein, beta=1.0)
    a = torch.softmax(torch.randn(1, 3, 4, dtype=torch.float64), -1).requires_grad_(True)
    b = torch.softmax(torch.randn(1, 2, 4, dtype=torch.float64), -1).requires_grad_(True)
    assert gradcheck(lambda a, b: relaxed(Categorical(a), Categorical(b))[-1][-1], (a, b))


def builtins_over_a_sequence(xs):
    """Builtins that iterate: on a batched tensor they must see one instance's elements."""
    weighted = 0
    for k, v in enumerate(reversed(xs)):
        weighted = weighted + (k + 1) * v
    pairs = sum(a * b for a, b in zip(xs, reversed(xs)))
    return (sum(xs), list(reversed(xs))[0], tuple(xs)[-1], weighted, pairs,
            sum(map(abs, xs)), [2 * v for v in iter(xs)][1])


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(st.lists(st.integers(-9, 9).map(float), min_size=3, max_size=3),
                     min_size=1, max_size=4))
def test_iterating_builtins_see_each_instances_elements_not_the_batch(rows):
    result = relaxc.relax(builtins_over_a_sequence)(torch.tensor(rows, dtype=torch.float64))
    expected = [builtins_over_a_sequence(row) for row in rows]
    assert [[float(v[i]) for v in result] for i in range(len(rows))] == [list(e) for e in expected]


def closure_named_like_builtins():
    def sum(values):       # the user's own `sum` and `sorted`, not relaxed: they get the tensor
        return values.dim()

    def sorted(values):
        return "mine"

    def helpers(xs):
        return sum(xs), sorted(xs)
    return helpers


def counted(xs):
    total = 0
    for k, v in enumerate(iterable=xs, start=1):
        total = total + k * v
    return total


def test_names_the_user_binds_are_not_builtins_and_keywords_are_iterated_too():
    xs = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert relaxc.relax(closure_named_like_builtins())(xs) == (2, "mine")
    assert relaxc.relax(counted)(xs).tolist() == [counted(list(r)) for r in xs.tolist()]


def sorted_first(xs):
    return sorted(xs)[0]


def test_sorted_sorts_static_values_and_refuses_relaxed_ones_clearly():
    assert relaxc.relax(sorted_first)([3, 1, 2]) == 1
    shared = [torch.tensor(3.0), torch.tensor(1.0)]     # 0-d tensors: shared by the batch
    assert relaxc.relax(sorted_first)(shared) is shared[1]
    with pytest.raises(TypeError, match=r"list.sort\(\) compares relaxed values.*write the sort as"):
        relaxc.relax(sorted_first)(torch.randn(2, 3))


def test_bad_data_access_is_refused_clearly():
    xs = torch.randn(2, 3)
    with pytest.raises(ValueError, match="categorical index over 4 classes cannot index a "
                                         "sequence of length 3"):
        RX.getitem(xs, Categorical(torch.full((2, 4), 0.25)))
    with pytest.raises(ValueError, match="cannot compare categoricals over 4 and 3 classes"):
        RX.eq(Categorical(torch.full((2, 4), 0.25)), Categorical(torch.full((2, 3), 1 / 3)))
    with pytest.raises(TypeError, match="cannot index a relaxed scalar"):
        RX.getitem(torch.randn(2), 0)
    with pytest.raises(ValueError, match=r"needs probabilities of shape \(B, ..., k\)"):
        Categorical(torch.ones(3))


def test_relaxed_levenshtein_is_the_papers_relaxation():
    # cost = 1 - P[a_i == b_j] with the cosine similarity of soft symbols; min is the softmin.
    beta = 1.5
    a = torch.softmax(torch.randn(2, 3, 4, dtype=torch.float64), -1)
    b = torch.softmax(torch.randn(2, 4, 4, dtype=torch.float64), -1)
    table = relaxc.relax(levenshtein, beta=beta)(Categorical(a), Categorical(b))

    def softmin(*values):
        stacked = torch.stack(torch.broadcast_tensors(*values), -1)
        return (torch.softmax(-stacked / beta, -1) * stacked).sum(-1)

    d = [[torch.full((2,), float(i + j)) if i == 0 or j == 0 else None for j in range(5)]
         for i in range(4)]
    for i in range(1, 4):
        for j in range(1, 5):
            cost = 1 - F.cosine_similarity(a[:, i - 1], b[:, j - 1], dim=-1)
            d[i][j] = softmin(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
    torch.testing.assert_close(table[-1][-1], d[-1][-1].double())


def test_an_index_promoted_by_a_relaxed_while_is_used_as_a_real_valued_index():
    xs = torch.randn(8, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    # These inputs hold a near-tie (3.5e-3 apart): beta well below it.
    result = relaxc.relax(insertion_sort, beta=1e-4)(xs)
    torch.testing.assert_close(result, xs.sort(-1).values, atol=1e-4, rtol=0)
    warm = relaxc.relax(insertion_sort, beta=0.3)(xs)
    assert torch.isfinite(warm).all() and not torch.allclose(warm, xs.sort(-1).values)
def test_relaxed_levenshtein_compiles_once_and_agrees():
    # Categoricals keep their one-hot test across calls by the tensor's version counter, which
    # a compiled graph cannot compare: there the test is made afresh.
    from torch._dynamo.testing import CompileCounter
    torch._dynamo.reset()
    counter = CompileCounter()
    relaxed = relaxc.relax(levenshtein, beta=1.5)
    compiled = torch.compile(lambda a, b: relaxed(Categorical(a), Categorical(b))[-1][-1],
                             backend=counter, fullgraph=True)
    for seed in range(2):
        generator = torch.Generator().manual_seed(seed)
        a, b = (F.softmax(torch.randn(2, 3, 4, generator=generator), -1) for _ in range(2))
        torch.testing.assert_close(compiled(a, b),
                                   relaxed(Categorical(a), Categorical(b))[-1][-1])
    assert counter.frame_count == 1


# Plain algorithms whose counters become real-valued indices (issue 14, items 8 and 10).

def selection_sort_by_index(xs):
    n = len(xs)
    for i in range(n):
        m = i
        for j in range(i + 1, n):
            if xs[j] < xs[m]:
                m = j
        xs[i], xs[m] = xs[m], xs[i]
    return xs


def lomuto_partition(xs):
    last = len(xs) - 1
    pivot = xs[last]
    i = 0
    for j in range(last):
        if xs[j] <= pivot:
            xs[i], xs[j] = xs[j], xs[i]
            i += 1
    xs[i], xs[last] = xs[last], xs[i]
    return xs, i


def merge(a, b):
    i = 0
    j = 0
    out = []
    for _ in range(len(a) + len(b)):
        if j >= len(b) or (i < len(a) and a[i] <= b[j]):
            out.append(a[i])
            i += 1
        else:
            out.append(b[j])
            j += 1
    return out


def linear_search(xs, key):
    i = 0
    while i < len(xs) and xs[i] != key:
        i += 1
    return i


def flattened(result):
    """A relaxed function's result (a tensor, or lists and tuples of them) as one (B, m) tensor."""
    if isinstance(result, (list, tuple)):
        return torch.cat([flattened(r) for r in result], 1)
    return result.reshape(result.shape[0], -1)


# (function, how it is called on a (B, 4) tensor, options); gnome sort's loop does not end for an
# instance with NaN probabilities, so it is bounded here (the same bound alone and together).
ALGORITHMS = {
    "insertion_sort": (insertion_sort, lambda f, x: f(x), {}),
    "selection_sort": (selection_sort_by_index, lambda f, x: f(x), {}),
    "gnome_sort": (gnome_sort, lambda f, x: f(x), {"max_iter": 24}),
    "lomuto_partition": (lomuto_partition, lambda f, x: f(x), {}),
    "merge": (merge, lambda f, x: f(x[:, :2], x[:, 2:]), {}),
    "linear_search": (linear_search, lambda f, x: f(x, x[:, 2] + 0.05), {}),
}


@pytest.mark.parametrize("name", [name for name in ALGORITHMS if name != "gnome_sort"])   # below
def test_relaxed_algorithms_gradients_through_real_valued_indices_equal_finite_differences(name):
    function, call, options = ALGORITHMS[name]
    relaxed = relaxc.relax(function, beta=0.3, **options)
    x = torch.tensor([[0.9, -0.4, 1.7, 0.2]], dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda x: flattened(call(relaxed, x)), (x,), atol=1e-6, rtol=1e-4)


def test_gnome_sort_gradient_is_the_derivative_of_the_relaxed_function():
    # The reproduction of issue 14, item 8: autograd gave ±1e17 where finite differences give
    # about [1, 2] (the constant normaliser's error, multiplied by the loop).
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    relaxed = relaxc.relax(gnome_sort, beta=0.125)
    weights = torch.tensor([1.0, 2.0], dtype=torch.float64)
    grad, = torch.autograd.grad((relaxed(x) * weights).sum(), x)
    h = 1e-6
    numeric = torch.stack([((relaxed(x.detach() + h * e) - relaxed(x.detach() - h * e)) * weights)
                           .sum() / (2 * h) for e in torch.eye(2, dtype=torch.float64)[:, None]])
    torch.testing.assert_close(grad[0], numeric, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("function", [gnome_sort, selection_sort_by_index, insertion_sort])
def test_gradients_through_real_valued_indices_in_float32(function):
    # Issue 14, item 8: float32 follows float64 (gnome sort's was off by 500x), and the tied input
    # of the issue has a finite gradient. (With ties a promoted counter can land exactly on a
    # position, where the one-hot read makes the relaxed function jump: no derivative to match.)
    relaxed = relaxc.relax(function)

    def gradient(row, dtype):
        x = torch.tensor([row], dtype=dtype, requires_grad=True)
        return torch.autograd.grad((relaxed(x) * torch.arange(1.0, 6.0, dtype=dtype)).sum(), x)[0]

    assert torch.isfinite(gradient([-3.0, -3.0, -1.0, -2.0, -1.0], torch.float32)).all()
    x = torch.tensor([[0.3, -1.2, 0.5, 2.0, -0.4]], dtype=torch.float64)
    weights = torch.arange(1.0, 6.0, dtype=torch.float64)
    h = 1e-6
    numeric = torch.stack([((relaxed(x + h * e) - relaxed(x - h * e)) * weights).sum() / (2 * h)
                           for e in torch.eye(5, dtype=torch.float64)[:, None]])
    # (Gnome sort's gradient here is in the thousands, a chain of 1/β factors: float32 rounding
    # leaves about 1 % of it.)
    torch.testing.assert_close(gradient(x[0].tolist(), torch.float32).double()[0], numeric,
                               rtol=2e-2, atol=1e-2)


@pytest.mark.filterwarnings("ignore:.*stopped after max_iter")
@pytest.mark.parametrize("name", ALGORITHMS)
def test_an_inf_or_nan_instance_leaves_the_others_as_they_are_alone(name):
    # Issue 14, item 10 (DESIGN §1.7): the batch runs, and every finite instance's result and
    # gradient equal what it gives alone.
    function, call, options = ALGORITHMS[name]
    relaxed = relaxc.relax(function, beta=0.3, **options)
    inf, nan = float("inf"), float("nan")
    rows = [[1.0, inf, 0.0, 2.0], [3.0, 1.0, 2.0, 0.5], [nan, 1.0, 2.0, 0.0],
            [-inf, 2.0, -1.0, 1.0], [0.2, -0.3, 0.1, 0.4]]
    x = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    together = flattened(call(relaxed, x))
    finite = [1, 4]
    grad, = torch.autograd.grad(together[finite].sum(), x)
    assert torch.isfinite(grad[finite]).all()
    for i in finite:
        alone_x = x[i:i + 1].detach().requires_grad_(True)
        alone = flattened(call(relaxed, alone_x))
        torch.testing.assert_close(alone, together[i:i + 1], rtol=0, atol=1e-12)
        alone_grad, = torch.autograd.grad(alone.sum(), alone_x)
        torch.testing.assert_close(alone_grad, grad[i:i + 1], rtol=0, atol=1e-10)


def mark_min_with_inf(xs):
    j = 0
    for i in range(1, len(xs)):
        if xs[i] < xs[j]:
            j = i
    xs[j] = math.inf
    return xs


def kth_smallest_by_marking(xs, k):
    for _ in range(k):
        j = 0
        for i in range(1, len(xs)):
            if xs[i] < xs[j]:
                j = i
        best = xs[j]
        xs[j] = math.inf
    return best


def test_inf_written_and_read_at_a_relaxed_index_stays_where_the_index_is():
    # An infinite value or element whose weight is negligible is dropped, as on a negligible
    # path of a merge: it was NaN at every position (0·inf), and NaN in every gradient.
    rows = [[3.0, 1.0, 2.0, 5.0], [0.5, 2.0, 3.0, -1.0]]
    xs = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    marked = relaxc.relax(mark_min_with_inf, beta=1e-4)
    assert marked(xs).tolist() == [mark_min_with_inf(list(r)) for r in rows]
    kth = relaxc.relax(kth_smallest_by_marking, beta=0.05)
    expected = [kth_smallest_by_marking(list(r), 2) for r in rows]
    assert kth.options(mode="hard")(xs, 2).tolist() == expected
    value = kth(xs, 2)
    torch.testing.assert_close(value, torch.tensor(expected, dtype=torch.float64), atol=1e-6, rtol=0)
    (gradient,) = torch.autograd.grad(value.sum(), xs)
    assert torch.isfinite(gradient).all()
    torch.testing.assert_close(gradient, torch.tensor([[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]],
                                                      dtype=torch.float64), atol=1e-6, rtol=0)


def sum_of_the_first_above(xs, t):
    k = 0
    for x in xs:
        if x > t:
            k += 1
    return sum(xs[:k])


def test_a_slice_with_per_instance_bounds_is_refused_with_the_fix():
    xs = torch.tensor([[3.0, 1.0, 2.0], [0.5, 2.0, 3.0]])
    with pytest.raises(TypeError, match=r"a slice whose bounds differ per instance .* `if j < k:`"):
        relaxc.relax(sum_of_the_first_above)(xs, torch.tensor([1.5, 1.5]))


def count_by_sign(xs):
    table = [[0.0, 0.0], [0.0, 0.0]]
    for x in xs:
        row = 0
        if x > 0:
            row = 1
        table[row][0] += 1.0
    return table[1][0] + 10 * table[0][0]


def test_a_list_of_lists_takes_a_relaxed_row_index():
    # A DP table as a list of lists: `table[row][0] += 1` with a relaxed `row` (before: torch's
    # "where() received an invalid combination of arguments" in hard mode, and an index error
    # relaxed). Relaxed, the row is read and written back at the relaxed index, as a sequence's
    # element is: it tends to the hard result as β → 0.
    xs = torch.tensor([[-1.0, 2.0, 0.5], [1.0, 1.5, -2.0]], dtype=torch.float64)
    hard = relaxc.relax(count_by_sign, mode="hard")(xs)
    assert hard.tolist() == [count_by_sign(r) for r in xs.tolist()]
    cold = relaxc.relax(count_by_sign, beta=1e-3)(xs)
    torch.testing.assert_close(cold, hard, rtol=0, atol=1e-6, check_dtype=False)
