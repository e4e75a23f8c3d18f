"""The command line and the dumped code: ``relaxc show`` prints the generated module (targets by
module or by path), and that module, saved to a file, runs with torch and relaxc_runtime alone;
user errors print relaxc's message and exit with status 2, without a traceback."""

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest
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
    expected = relaxc.to_source(relaxc.relax(golden_functions.classify, beta=0.25),
                                standalone=True)
    assert result.stdout == expected
    assert "beta=0.25" in result.stdout


def test_show_takes_a_path_to_a_file():
    by_path = run("-m", "relaxc", "show", str(TESTS / "golden_functions.py") + ":classify")
    by_module = run("-m", "relaxc", "show", "golden_functions:classify")
    assert by_path.returncode == 0, by_path.stderr
    assert by_path.stdout == by_module.stdout


@pytest.mark.parametrize("target, message", [
    ("golden_functions:missing", "'golden_functions' has no attribute 'missing'"),
    ("no_such_module:f", "cannot import 'no_such_module': No module named 'no_such_module'"),
    ("missing_file.py:f", "no such file: 'missing_file.py'"),
    ("golden_functions", "expected path/to/file.py:function or package.module:function, "
                         "got 'golden_functions'"),
])
def test_a_bad_target_is_a_user_error(target, message):
    result = run("-m", "relaxc", "show", target)
    assert result.returncode == 2
    assert result.stderr == f"relaxc: {message}\n"


def test_a_compile_error_prints_the_caret_without_a_traceback(tmp_path):
    (tmp_path / "broken.py").write_text("def uses_try(x):\n    try:\n        return x\n"
                                        "    except ValueError:\n        return -x\n")
    result = run("-m", "relaxc", "show", str(tmp_path / "broken.py") + ":uses_try")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f'File "{tmp_path / "broken.py"}", line 2' in result.stderr
    assert "    try:\n    ^^^^" in result.stderr
    with_traceback = run("-m", "relaxc", "show", str(tmp_path / "broken.py") + ":uses_try",
                         "--traceback")
    assert with_traceback.returncode == 1 and "Traceback" in with_traceback.stderr


def test_help_lists_the_choices_and_every_flag():
    for command in ("show", "check"):
        result = run("-m", "relaxc", command, "--help")
        assert result.returncode == 0
        options = re.findall(r"^  (--[a-z-]+)(.*)$", result.stdout, re.MULTILINE)
        assert options and all(text.strip() for _, text in options), result.stdout
    assert "{relaxed,hard,straight_through,sample,exact}" in run(
        "-m", "relaxc", "show", "--help").stdout
    assert "{exact,sample}" in run("-m", "relaxc", "check", "--help").stdout
    top = run("-m", "relaxc", "--help").stdout
    assert "``" not in top and "path/to/file.py:function" in top


def test_version():
    result = run("-m", "relaxc", "--version")
    assert result.stdout == f"relaxc {relaxc.__version__}\n"
    assert relaxc.__version__ == importlib.metadata.version("relaxc")


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


def test_check_samples_the_reference_when_asked():
    result = run("-m", "relaxc", "check", "golden_functions:swap_if_greater", "--mode", "sample",
                 "--samples", "200")
    assert result.returncode == 0, result.stderr
    assert "(reference: sample (1000 draws)" in result.stdout or \
        "(reference: sample (200 draws)" in result.stdout


def test_check_prints_the_report():
    result = run("-m", "relaxc", "check", "golden_functions:swap_if_greater", "--beta", "0.5")
    assert result.returncode == 0, result.stderr
    assert "relaxc report for swap_if_greater at beta=0.5 (reference: exact" in result.stdout
    assert "if a > b:" in result.stdout and "k = 1 relaxed decisions per run" in result.stdout
