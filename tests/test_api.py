"""The public API of DESIGN §2: decorator forms, options without recompiling, caching, closures,
notebook cells, and what callers get back."""

import inspect
import linecache
import os
import traceback

import pytest
import torch

import relaxc
import relaxc_runtime
from corpus import bubble_pass, sign


def test_decorator_forms_and_the_original_function():
    @relaxc.relax
    def bare(x):
        return -x if x < 0 else x

    @relaxc.relax(beta=0.25, mode="hard")
    def configured(x):
        return -x if x < 0 else x

    assert bare.python(-2.0) == 2.0 and bare.__name__ == "bare"
    assert configured.context.beta == 0.25 and configured.context.mode == "hard"
    assert configured(torch.tensor([-2.0])).tolist() == [2.0]


def test_options_swap_the_context_without_recompiling():
    relaxed = relaxc.relax(sign)
    hard = relaxed.options(mode="hard")
    colder = relaxed.options(beta=0.01)
    assert hard._compiled is relaxed._compiled is colder._compiled
    x = torch.tensor([0.05])
    assert hard(x).tolist() == [1]
    assert 0 < relaxed(x).item() < colder(x).item() < 1


def test_the_options_of_a_context_do_not_change_in_place():
    # (a replay keys calls by them: a context changed in place would replay stale records)
    context = relaxc.relax(sign, replay=True).context
    with pytest.raises(AttributeError, match="replace"):
        context.beta = 0.5
    assert context.beta == 0.125 and "beta=0.125" in repr(context)
    context.recorder = print   # what a context holds for a call may change
    assert context.replace(beta=0.5).beta == 0.5


def test_compiles_are_cached_by_source_text():
    assert relaxc.relax(sign)._compiled is relaxc.relax(sign)._compiled


def define_in_cell(cell_source, cell_name):
    """Run source the way IPython runs a notebook cell: registered in linecache, then exec'd."""
    linecache.cache[cell_name] = (len(cell_source), None, cell_source.splitlines(True), cell_name)
    namespace = {"relaxc": relaxc}
    exec(compile(cell_source, cell_name, "exec"), namespace)
    return namespace["f"]


def test_a_notebook_cell_that_redefines_a_function_recompiles_it():
    first = define_in_cell("@relaxc.relax(mode='hard')\ndef f(x):\n    return x + 1 if x > 0 "
                           "else x\n", "<cell-1>")
    second = define_in_cell("@relaxc.relax(mode='hard')\ndef f(x):\n    return x + 2 if x > 0 "
                            "else x\n", "<cell-2>")
    x = torch.tensor([1.0])
    assert first(x).item() == 2.0 and second(x).item() == 3.0


def test_closures_and_module_globals_are_live():
    offset = 1.0

    @relaxc.relax(mode="hard")
    def shifted(x):
        return x + offset if x > 0 else x

    x = torch.tensor([1.0])
    assert shifted(x).item() == 2.0
    offset = 5.0
    assert shifted(x).item() == 6.0


def scaler(k):
    def scaled(x, bias=k / 4):
        if x > 0:
            return x * k + bias
        return x
    return scaled


def test_functions_of_one_factory_keep_their_own_closure_and_defaults():
    # The same text compiles once; each function still reads its own cells and defaults.
    x = torch.tensor([1.0, -1.0])
    two, three = (relaxc.relax(scaler(k), mode="hard") for k in (2.0, 3.0))
    assert two(x).tolist() == [2.5, -1.0] and three(x).tolist() == [3.75, -1.0]
    assert two._compiled.text == three._compiled.text


def test_defaults_keyword_arguments_and_a_parameter_named_rx():
    @relaxc.relax(mode="hard")
    def scaled(x, rx=2.0, *, offset=0.5):
        return x * rx + offset if x > 0 else x

    x = torch.tensor([1.0, -1.0])
    assert scaled(x).tolist() == [2.5, -1.0]
    assert scaled(x, 3.0, offset=0.0).tolist() == [3.0, -1.0]
    assert "rx_1=relaxc_runtime.Context(" in relaxc.to_source(scaled)


def test_results_lists_keep_identity_and_static_results_stay_python():
    xs = [torch.tensor([3.0]), torch.tensor([1.0])]
    values, swaps = relaxc.relax(bubble_pass)(xs)
    assert values is xs                       # the caller's list, mutated as Python would
    assert isinstance(swaps, torch.Tensor)    # promoted under a relaxed condition
    assert relaxc.relax(bubble_pass)([1.0, 2.0]) == ([1.0, 2.0], 0)   # plain numbers: plain Python


def test_generated_code_is_visible_to_inspect_and_to_full_tracebacks(monkeypatch):
    relaxed = relaxc.relax(bubble_pass)
    generated = relaxed._compiled.function
    assert inspect.getsource(generated).startswith("def bubble_pass(xs, *, rx=")
    monkeypatch.setenv("RELAXC_TRACEBACK", "full")   # for work on relaxc: every frame
    with pytest.raises(TypeError) as caught:
        relaxed(torch.zeros(2))   # a (B,) tensor is not a sequence: len() fails in generated code
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert any(f.filename == relaxed._compiled.filename and "rx.len(xs)" in f.line
               for f in frames)


def test_a_runtime_error_is_shown_at_the_users_line_without_relaxcs_frames():
    relaxed = relaxc.relax(bubble_pass)
    with pytest.raises(TypeError) as caught:
        relaxed(torch.zeros(2))
    frames = traceback.extract_tb(caught.value.__traceback__)
    internal = [f for f in frames if f.filename.startswith(
        (os.path.dirname(relaxc.__file__), os.path.dirname(relaxc_runtime.__file__), "<relaxc"))]
    # Python adds the frame of the call that re-raises (IPython and pytest hide it).
    assert [f.name for f in internal] == ["__call__", "__relaxc_call__"]
    last = frames[-1]
    assert (last.filename, last.name) == (inspect.getsourcefile(bubble_pass), "bubble_pass")
    assert last.line == "for j in range(len(xs) - 1):"


def test_to_source_refuses_a_plain_function():
    with pytest.raises(TypeError, match="expects a function returned by relaxc.relax"):
        relaxc.to_source(sign)


def test_convert_calls_is_a_compile_option_of_the_relaxed_function():
    @relaxc.relax(convert_calls=False, mode="hard")
    def calls_sign(x):
        return sign(x) * 2

    assert calls_sign.convert_calls is False and "convert_calls" not in repr(calls_sign.context)
    assert "rx.call" not in relaxc.to_source(calls_sign)
    converting = calls_sign.options(convert_calls=True)
    assert converting._compiled is not calls_sign._compiled
    assert "rx.call(sign, x)" in relaxc.to_source(converting)
    assert converting.options(beta=0.5)._compiled is converting._compiled   # no recompiling
    x = torch.tensor([-3.0, 0.5])
    assert converting(x).tolist() == [-2, 2]
    assert relaxc.relax(calls_sign).convert_calls is False   # relax keeps a relaxed one's options
