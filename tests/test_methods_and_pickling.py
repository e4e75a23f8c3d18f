"""A relaxed function behaves as a function does: it binds as a method (plain, static, class; in an
``nn.Module``), pickles by reference (``pickle``, ``torch.save``), and ``relax(f, beta=b)`` reuses
the compiled code for every β."""

import io
import pickle

import pytest
import torch

import relaxc
from relaxc import pipeline
from relaxed_module import Scorer, clamp_below


def test_a_relaxed_method_binds_its_instance():
    scorer = Scorer()
    x = torch.tensor([-1.0, 2.0])
    expected = relaxc.relax(Scorer.doubled_if_positive.python)(scorer, x)
    torch.testing.assert_close(scorer.doubled_if_positive(x), expected)
    assert Scorer.doubled_if_positive.python.__name__ == "doubled_if_positive"   # unbound: itself
    hard = scorer.doubled_if_positive.__func__.options(mode="hard")
    assert hard(scorer, x).tolist() == [-1.0, 4.0]


def test_static_and_class_methods_in_either_decorator_order():
    x = torch.tensor([0.5, 3.0])
    at_least_one = Scorer.at_least_one               # @staticmethod above @relax
    at_most_one = Scorer.at_most_one.__func__        # @relax above @classmethod
    assert isinstance(at_least_one, relaxc.RelaxedFunction)
    assert isinstance(at_most_one, relaxc.RelaxedFunction)
    for owner in (Scorer, Scorer()):
        torch.testing.assert_close(owner.at_least_one(x), at_least_one(x))
        torch.testing.assert_close(owner.at_most_one(x), at_most_one(Scorer, x))
    assert at_least_one.options(mode="hard")(x).tolist() == [1.0, 3.0]
    assert at_most_one.options(mode="hard")(Scorer, x).tolist() == [0.5, 1.0]


def test_a_module_holding_relaxed_functions_survives_torch_save_and_load():
    torch.manual_seed(0)
    model = Scorer()
    x = torch.randn(5, 2)
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    torch.testing.assert_close(loaded(x), model(x))
    assert loaded.clamp.context.beta == 0.25 and loaded.magnitude.context.beta == 0.3
    loaded(x).sum().backward()   # trains as the original does
    assert loaded.linear.weight.grad is not None


def test_a_module_level_relaxed_function_pickles_by_reference():
    assert pickle.loads(pickle.dumps(clamp_below)) is clamp_below
    colder = pickle.loads(pickle.dumps(clamp_below.options(beta=0.01, mode="hard")))
    assert colder.python is clamp_below.python
    assert (colder.context.beta, colder.context.mode) == (0.01, "hard")
    assert len(pickle.dumps(clamp_below)) < 100   # a reference, not the code


def test_a_relaxed_function_defined_inside_another_refuses_to_pickle_clearly():
    def inner(x):
        return x if x > 0 else 0

    with pytest.raises(pickle.PicklingError, match="Define it at the top level of a module"):
        pickle.dumps(relaxc.relax(inner))


def test_a_new_beta_reuses_the_compiled_code(monkeypatch):
    compiled = []
    original = pipeline.compile_function
    monkeypatch.setattr(pipeline, "compile_function",
                        lambda *a, **k: compiled.append(a) or original(*a, **k))

    def fresh(x):   # a function not compiled before in this process
        return x * 3 if x > 0.5 else x

    results = [relaxc.relax(fresh, beta=beta)(torch.tensor([1.0])) for beta in (0.1, 0.2, 0.4)]
    assert len(compiled) == 1
    assert len({round(float(r), 6) for r in results}) == 3   # each β was applied
    assert "beta=0.2," in relaxc.to_source(relaxc.relax(fresh, beta=0.2))
    assert "beta=0.4," in relaxc.to_source(relaxc.relax(fresh, beta=0.4))
