"""The benchmark compares like with like: its hand-written relaxations compute what relaxc
derives from the plain Python, in float64, values and gradients; and its smoke run works.

Timings themselves are never asserted here (they belong to ``benchmarks/speed.py``).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import handwritten  # noqa: E402
import speed  # noqa: E402


def gradients(function, *inputs):
    inputs = [x.detach().requires_grad_(True) for x in inputs]
    outputs = function(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    sum(o.sum() for o in outputs).backward()
    return [o.detach() for o in outputs] + [x.grad for x in inputs]


@pytest.mark.parametrize("n", [2, 5, 9])
@pytest.mark.parametrize("beta", [4.0, speed.SORT_BETA])
def test_hand_written_bubble_sort_is_relaxcs_relaxation(n, beta):
    # At the paper's β instances freeze (eps) and comparisons become negligible: both freeze the
    # same way, and the swap branch is linear, so relaxc cuts no gradient there either.
    x = torch.randn(16, n, dtype=torch.float64, generator=torch.Generator().manual_seed(n))
    ours = gradients(speed.relaxed_bubble_sort.options(beta=beta), x)
    theirs = gradients(lambda x: handwritten.bubble_sort(x, beta), x)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n", [1, 3, 6])
def test_hand_written_levenshtein_is_relaxcs_relaxation(n):
    generator = torch.Generator().manual_seed(n)
    a, b = (F.softmax(torch.randn(5, n, 4, dtype=torch.float64, generator=generator), -1)
            for _ in range(2))
    ours = gradients(speed.relaxc_distance(speed.relaxed_levenshtein), a, b)
    theirs = gradients(lambda a, b: handwritten.levenshtein(a, b, speed.EDIT_BETA), a, b)
    for x, y in zip(ours, theirs):
        torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-10)


def test_the_benchmark_smoke_run_checks_and_reports_every_target(tmp_path):
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "speed.py"), "--quick", "--repeats", "1",
         "--json", str(tmp_path / "speed.json")],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "speed.json").read_text())
    names = {(row["case"], row["implementation"]) for row in report["rows"]}
    assert {("bubble sort", "relaxc"), ("bubble sort", "relaxc + replay"),
            ("bubble sort", "hand-written"), ("Levenshtein", "relaxc"),
            ("Levenshtein", "relaxc + replay"), ("Levenshtein", "hand-written")} <= names
    assert any("first compile" in target["what"] for target in report["targets"])


def test_runtime_size_counts_code_and_not_its_documentation():
    import runtime_size
    source = ('"""A module docstring\n\nof three lines."""\n\n'
              "# a comment\n"
              "def f(x):  # code with a comment\n"
              '    """Its docstring."""\n'
              "    return (x +\n"
              "            1)\n")
    assert runtime_size.code_lines(source) == 3
    rows = runtime_size.sizes()
    assert "context.py" in rows and all(0 < code <= lines for lines, code in rows.values())
