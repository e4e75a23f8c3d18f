"""Dumps that run on their own (``relaxc show``, ``relaxc.to_source(f, standalone=True)``): saved
to files and imported in a fresh process in which the compiler cannot be imported, they compute
what the relaxed function computes, in relaxed and hard mode — for every corpus function, and for
a module written in the README's ``import torch, relaxc`` style with a helper and a constant."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from hypothesis import find

import relaxc
from corpus import CASES, RELAXED_ERRORS
from relaxc.standalone import StandaloneError

BATCH = 3
TESTS = Path(__file__).parent


def arguments(function, generator):
    """Fixed arguments for a corpus function: a (B,) tensor per scalar, a (B, n) tensor per
    sequence, the smallest value of the strategy for a static argument."""
    args = []
    for spec in CASES[function]:
        if spec == "x":
            args.append(torch.randn(BATCH, generator=generator, dtype=torch.float64) * 2)
        elif isinstance(spec, str):
            length = int(spec[2:])
            args.append(torch.randn(BATCH, length, generator=generator, dtype=torch.float64) * 2)
        else:
            args.append(find(spec, lambda value: True))
    return args


def run_in_fresh_process(folder, script, block_compiler=True):
    """Run ``script`` with ``folder`` and the tests (the user's modules) first on the path and,
    with ``block_compiler``, the compiler made unimportable."""
    prelude = f"import sys\nsys.path[:0] = [{str(folder)!r}, {str(TESTS)!r}]\n"
    if block_compiler:
        prelude += "sys.modules['relaxc'] = None   # importing the compiler now fails\n"
    result = subprocess.run([sys.executable, "-c", prelude + script], capture_output=True,
                            text=True, timeout=300, cwd=folder)
    assert result.returncode == 0, result.stderr
    return result


def test_every_corpus_function_dumps_to_a_module_that_runs_alone(tmp_path):
    generator = torch.Generator().manual_seed(0)
    cases, expected = {}, {}
    for function in CASES:
        if function in RELAXED_ERRORS:
            continue
        relaxed = relaxc.relax(function, beta=0.5)
        name = f"dump_{function.__name__}"
        (tmp_path / f"{name}.py").write_text(relaxc.to_source(relaxed, standalone=True))
        args = arguments(function, generator)
        cases[name] = (function.__name__, args)
        expected[name] = (relaxed(*[a.clone() if isinstance(a, torch.Tensor) else a
                                    for a in args]),
                          relaxed.options(mode="hard")(*args))
    torch.save(cases, tmp_path / "cases.pt")
    run_in_fresh_process(tmp_path, textwrap.dedent("""
        import importlib, torch
        cases = torch.load('cases.pt', weights_only=False)
        results = {}
        for module_name, (function_name, args) in cases.items():
            dumped = getattr(importlib.import_module(module_name), function_name)
            results[module_name] = (dumped(*[a.clone() if isinstance(a, torch.Tensor) else a
                                             for a in args]),
                                    dumped.options(mode='hard')(*args))
        torch.save(results, 'results.pt')
    """))
    results = torch.load(tmp_path / "results.pt", weights_only=False)
    assert results.keys() == expected.keys() and len(results) > 60
    for name, (relaxed_value, hard_value) in expected.items():
        got_relaxed, got_hard = results[name]
        assert_same(got_relaxed, relaxed_value, name)
        assert_same(got_hard, hard_value, name)


def assert_same(got, want, name):
    if isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), name
        for g, w in zip(got, want):
            assert_same(g, w, name)
    elif isinstance(want, torch.Tensor):
        torch.testing.assert_close(got, want, msg=name)
    else:
        assert got == want, name


README_STYLE = '''
import torch, relaxc

LIMIT = 2.0


def clipped(x):
    if x > LIMIT:
        return LIMIT
    return x


@relaxc.relax(beta=0.5)
def total(xs):
    s = 0.0
    for x in xs:
        s = s + clipped(x)
    return torch.tanh(s)
'''


def test_a_module_in_the_readme_style_dumps_with_its_helper_and_constant(tmp_path):
    (tmp_path / "user_module.py").write_text(README_STYLE)
    shown = subprocess.run([sys.executable, "-m", "relaxc", "show", "user_module.py:total"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "import torch\n" in shown.stdout and "from user_module import LIMIT" in shown.stdout
    assert "def clipped(x, *, rx=" in shown.stdout   # the helper, compiled and written out
    # The dump needs the runtime only (the user's module, which it imports, uses relaxc).
    assert "relaxc." not in shown.stdout.replace("relaxc_runtime.", "")
    (tmp_path / "dumped.py").write_text(shown.stdout)
    xs = [[3.0, 1.0, -1.0], [0.5, 2.5, 1.5]]
    result = run_in_fresh_process(tmp_path, textwrap.dedent(f"""
        import torch, dumped
        xs = torch.tensor({xs!r})
        print(dumped.total(xs).tolist(), dumped.total.options(mode='hard')(xs).tolist())
    """), block_compiler=False)
    sys.path.insert(0, str(tmp_path))
    try:
        import user_module
        # The generated code alone (not standalone) keeps `torch` of `import torch, relaxc`.
        assert "\nimport torch\n" in relaxc.to_source(user_module.total)
        want = (user_module.total(torch.tensor(xs)).tolist(),
                user_module.total.options(mode="hard")(torch.tensor(xs)).tolist())
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("user_module", None)
    assert result.stdout.strip() == f"{want[0]} {want[1]}"


def test_a_dump_refuses_what_another_process_cannot_import():
    factor = 3.0

    def nested(x):
        return x * factor if x > 0 else x

    with pytest.raises(StandaloneError, match="defined in, which a module of its own cannot"):
        relaxc.to_source(relaxc.relax(nested), standalone=True)


def top(xs, t):
    total = 0.0
    for x in xs:
        if x > t:
            total += x
    return total


def test_a_function_named_top_dumps():
    # Python 3.11's symtable takes every name bound in a function named `top` (its module
    # table's name) for a global: the dump refused `if_false` as undefined.
    text = relaxc.to_source(relaxc.relax(top), standalone=True)
    assert "def top(" in text
