"""Golden generated code: a change to code generation shows up here as a reviewed diff.

Regenerate after a deliberate change: ``python -m pytest tests/test_golden.py --accept-golden``.
"""

from pathlib import Path

import pytest

import golden_functions
import relaxc

GOLDEN = Path(__file__).parent / "golden"
FUNCTIONS = [golden_functions.swap_if_greater, golden_functions.classify,
             golden_functions.bubble_pass, golden_functions.insertion_sort,
             golden_functions.linear_search]


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_generated_code_matches_golden(function, request):
    generated = relaxc.to_source(relaxc.relax(function))
    path = GOLDEN / f"{function.__name__}.py"
    if request.config.getoption("--accept-golden"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(generated)
    assert path.exists(), f"no golden file {path.name}: run with --accept-golden and review it"
    assert generated == path.read_text()
