"""``relaxc.compile``: the compiled graph defers its finiteness tests to one read after the call;
its values and gradients are the eager function's, on finite inputs (the compiled run is kept)
and on inputs that make a merge infinite (the call runs again uncompiled)."""

import pytest
import torch

import relaxc


def sort_and_max(xs):
    n = len(xs)
    for i in range(n):
        for j in range(n - 1 - i):
            if xs[j] > xs[j + 1]:
                xs[j], xs[j + 1] = xs[j + 1], xs[j]
    return xs, max(xs[0] * 2, xs[1])


@pytest.fixture(autouse=True)
def without_inductors_own_checks(monkeypatch):
    # $CI turns on a check of Inductor's own tables for torch's developers (test_loops.py says
    # which); compiling happens at the first call, inside a test.
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture(scope="module")
def functions():
    relaxed = relaxc.relax(sort_and_max, beta=0.3)
    return relaxed, relaxc.compile(relaxed, fullgraph=True)


def values_and_gradients(function, x):
    x = x.detach().requires_grad_(True)
    values, largest = function(x)
    loss = (values * torch.arange(1.0, 4.0, dtype=x.dtype)).sum() + (largest ** 2).sum()
    gradient, = torch.autograd.grad(loss, x)
    return values.detach(), largest.detach(), gradient


def test_finite_inputs_keep_the_compiled_run_and_equal_the_eager_one(functions):
    relaxed, compiled = functions
    x = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    reruns = compiled.reruns
    for got, expected in zip(values_and_gradients(compiled, x), values_and_gradients(relaxed, x)):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    assert compiled.reruns == reruns   # the compiled graph's result was kept


def test_a_merge_that_is_not_finite_runs_the_call_again_as_usual(functions):
    relaxed, compiled = functions
    x = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x[2, 1] = float("inf")   # one instance: its merges are infinite, the others' are not
    reruns = compiled.reruns
    for got, expected in zip(values_and_gradients(compiled, x), values_and_gradients(relaxed, x)):
        torch.testing.assert_close(got, expected, rtol=0, atol=0, equal_nan=True)
    assert compiled.reruns == reruns + 1


def test_a_list_argument_is_updated_from_the_run_that_is_kept(functions):
    relaxed, compiled = functions
    generator = torch.Generator().manual_seed(2)
    columns = [torch.randn(4, dtype=torch.float64, generator=generator) for _ in range(3)]
    expected = [c.clone() for c in columns]
    relaxed(expected)
    mutated = list(columns)
    compiled(mutated)
    for got, want in zip(mutated, expected):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_a_call_that_fails_leaves_no_test_deferred():
    from relaxc_runtime import host
    # Without fullgraph: the failing call runs its frame eagerly, past `deferring()`.
    compiled = relaxc.compile(relaxc.relax(sort_and_max, beta=0.3))
    with pytest.raises(TypeError):
        compiled(torch.zeros(3, 2), torch.zeros(3))   # one argument too many
    assert host._deferred is None   # later eager calls test their merges again


def appends(x, out):
    out.append(x * 2)
    return out


def test_an_argument_list_gets_what_the_compiled_call_appended_and_is_what_it_returns():
    # The eager backend: what is tested is relaxc.compile's bookkeeping, not Inductor.
    compiled = relaxc.compile(relaxc.relax(appends), backend="eager")
    out, x = [], torch.tensor([1.0, 2.0])
    returned = compiled(x, out)
    assert returned is out and len(out) == 1
    torch.testing.assert_close(out[0], x * 2)


def test_what_is_compiled_is_the_calls_record():
    # The first call records the torch calls and compiles them; the next call with the same
    # signature replays the compiled record (no second recording).
    compiled = relaxc.compile(relaxc.relax(sort_and_max, beta=0.3), backend="eager")
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    compiled(x)
    compiled(x * 2)
    (records,) = compiled._records.signatures.values()
    assert records.count == 1 and records.replayed == 2 and records.broken is None


def halvings(x):
    steps = 0
    while x > 1:
        x = x / 2
        steps += 1
    return steps


def test_a_while_that_stops_after_different_counts_branches_the_record():
    # Without fixed_iterations the loop reads on the host whether every instance has stopped:
    # a call whose loop runs longer records again, and every call equals the eager one.
    relaxed = relaxc.relax(halvings, beta=0.2)
    compiled = relaxc.compile(relaxed, backend="eager")
    for scale in (3.0, 40.0, 3.0, 40.0, 700.0):
        x = torch.tensor([0.5, 1.5, scale], dtype=torch.float64)
        torch.testing.assert_close(compiled(x), relaxed(x), rtol=1e-12, atol=1e-12)
    (records,) = compiled._records.signatures.values()
    assert records.count == 3   # one record per number of iterations


@pytest.mark.parametrize("bad", [None, float("nan"), float("inf")])
def test_the_deferred_total_is_finite_exactly_when_every_deferred_tensor_is(bad):
    from relaxc_runtime import host
    tensors = [torch.randn(4), torch.randn(4), torch.randn(2, 3), torch.randn(4),
               torch.full((3,), 60000.0, dtype=torch.float16)]   # (a half sum would overflow)
    tensors.append(tensors[-1].clone())
    if bad is not None:
        tensors[3][2] = bad   # one value of one tensor of the largest group
    host.deferring()
    try:
        for tensor in tensors:
            assert host.finite_or_deferred(tensor, readable=True)
        assert bool(torch.isfinite(host.deferred())) == (bad is None)
    finally:
        host.stop_deferring()   # (later tests test their merges again, whatever failed here)


SCALE = torch.tensor(3.0)


def scaled_larger(x, y):
    if x > y:
        return x * SCALE   # a global tensor: no record can hold it
    return y


def test_a_call_no_record_can_hold_is_compiled_whole_says_so_and_equals_the_eager_one():
    relaxed = relaxc.relax(scaled_larger, beta=0.5)
    compiled = relaxc.compile(relaxed, backend="eager")
    x, y = (torch.randn(5, dtype=torch.float64, generator=torch.Generator().manual_seed(s))
            for s in (4, 5))

    def value_and_gradients(function):
        a, b = x.detach().requires_grad_(True), y.detach().requires_grad_(True)
        value = function(a, b)
        return (value.detach(), *torch.autograd.grad((value ** 2).sum(), (a, b)))

    with pytest.warns(RuntimeWarning, match="compiled from the relaxed code as a whole"):
        first = value_and_gradients(compiled)
    expected = value_and_gradients(relaxed)
    for got in (first, value_and_gradients(compiled)):   # (the second call: no record tried)
        for a, b in zip(got, expected):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    (records,) = compiled._records.signatures.values()
    assert records.broken is not None and records.replayed == 0


def test_a_compiler_that_fails_raises_its_error_at_once():
    # Not the record run again on every call, each time compiled anew and failing anew.
    def failing_backend(graph, example_inputs):
        raise RuntimeError("no compiler here")

    compiled = relaxc.compile(relaxc.relax(sort_and_max), backend=failing_backend)
    x = torch.randn(5, 3)
    for _ in range(2):
        with pytest.raises(Exception, match="no compiler here"):
            compiled(x)
    (records,) = compiled._records.signatures.values()
    assert records.count == 1 and records.replayed == 0
