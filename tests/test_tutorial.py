"""The tutorial notebook runs on a real Jupyter kernel (nbclient, ipykernel) without an error in
any cell but the two that show errors on purpose, and what it shows is what it promises: the
side-by-side display, the β plot, a model that learned, and errors located in the notebook's
cells without relaxc's frames."""

import html
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
run_tutorial = pytest.importorskip("run_tutorial", reason="nbclient and ipykernel are installed "
                                                          "with the project's test extra")

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def notebook():
    return run_tutorial.execute()


def test_the_display_shows_source_beside_generated_code(notebook):
    pages = [page for _, page in run_tutorial.outputs(notebook, "text/html")
             if "relaxc-function" in page]
    text = html.unescape(re.sub(r"<[^>]+>", "", pages[0]))
    assert "your code" in text and "if xs[j] > xs[j + 1]:" in text and "rx.gt(" in text
    assert "Cell In[2], line 1" in text   # the cell it came from
    picture = run_tutorial.display_image(next(
        m for _, m in run_tutorial.outputs(notebook, "text/markdown")
        if m.startswith("**relaxed function**")))
    assert picture.startswith(b"\x89PNG")


def test_the_plot_and_the_report_are_shown(notebook):
    assert run_tutorial.outputs(notebook, "image/png")
    assert any("relaxc-report" in page for _, page in run_tutorial.outputs(notebook, "text/html"))


def test_the_model_learned(notebook):
    text = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.outputs)
    before = int(re.search(r"before training: (\d+)%", text).group(1))
    after = int(re.search(r"after training:  (\d+)%", text).group(1))
    assert after >= 90 and after > before + 20


def test_errors_are_shown_at_the_cells_without_relaxcs_frames(notebook):
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert [e.ename for e in errors] == ["RelaxcSyntaxError", "ArgumentShapeError"]
    compile_error, call_error = (ANSI.sub("", "\n".join(e.traceback)) for e in errors)
    assert re.search(r"Cell In\[\d+\], line 3\n\s+try:\n\s+\^", compile_error)
    assert "libcst" not in compile_error and "pipeline.py" not in compile_error
    assert re.search(r"in relaxed code from Cell In\[\d+\], line 2: def weighted_sum",
                     call_error)
    assert "runtime/" not in call_error and "arguments.py" not in call_error
