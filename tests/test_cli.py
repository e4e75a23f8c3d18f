"""The command line and the dumped code: ``relaxc show`` prints the generated module, and that
module, saved to a file, runs with torch and relaxc_runtime alone."""

import subprocess
import sys
from pathlib import Path

import torch

import golden_functions
import relaxc

TESTS = Path(__file__).parent


def run(*args, **kwargs):
    return subprocess.run([sys.executable, *args], cwd=TESTS, capture_output=True, text=True,
                          timeout=120, **kwargs)


def test_show_prints_the_generated_code():
    result = run("-m", "relaxc", "show", "golden_functions:classify", "--beta", "0.25")
    assert result.returncode == 0, result.stderr
    expected = relaxc.to_source(relaxc.relax(golden_functions.classify, beta=0.25))
    assert result.stdout == expected
    assert "beta=0.25" in result.stdout


def test_show_reports_a_bad_target():
    result = run("-m", "relaxc", "show", "golden_functions:missing")
    assert result.returncode != 0
    assert "has no attribute 'missing'" in result.stderr


def test_dumped_code_runs_without_the_compiler(tmp_path):
    path = tmp_path / "dumped.py"
    path.write_text(relaxc.to_source(relaxc.relax(golden_functions.bubble_pass, beta=0.5)))
    xs = [[3.0, 1.0, 2.0], [1.0, 2.0, 0.5]]
    script = (
        "import sys, runpy, torch\n"
        "sys.modules['relaxc'] = None  # importing the compiler now fails\n"
        f"namespace = runpy.run_path({str(path)!r})\n"
        f"values, swaps, swapped = namespace['bubble_pass'](torch.tensor({xs!r}))\n"
        "print(values.tolist(), swaps.tolist(), swapped.tolist())\n"
    )
    result = run("-c", script)
    assert result.returncode == 0, result.stderr
    values, swaps, swapped = relaxc.relax(golden_functions.bubble_pass, beta=0.5)(
        torch.tensor(xs))
    assert result.stdout.strip() == f"{values.tolist()} {swaps.tolist()} {swapped.tolist()}"


def test_check_prints_the_report():
    result = run("-m", "relaxc", "check", "golden_functions:swap_if_greater", "--beta", "0.5")
    assert result.returncode == 0, result.stderr
    assert "relaxc report for swap_if_greater at beta=0.5 (reference: exact" in result.stdout
    assert "if a > b:" in result.stdout and "k = 1 relaxed decisions per run" in result.stdout
