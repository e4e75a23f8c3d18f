"""Execute the tutorial notebook on a real Jupyter kernel and store it with its outputs, plus the
two pictures the README shows: the side-by-side display of a relaxed function and the β plot.

Run: ``python examples/run_tutorial.py`` (after changing the tutorial or what it displays). The
tests execute the same notebook the same way (``tests/test_tutorial.py``) without storing it.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient

EXAMPLES = Path(__file__).parent
NOTEBOOK = EXAMPLES / "tutorial.ipynb"
FIGURES = EXAMPLES.parent / "docs" / "figures"


def execute(path: Path = NOTEBOOK, timeout: int = 600) -> nbformat.NotebookNode:
    """The notebook executed in its own folder; a cell that raises fails the run unless it is
    tagged ``raises-exception`` (the tutorial's error examples)."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def outputs(notebook, mimetype: str) -> list:
    """Every output of ``mimetype`` in order, as ``(cell index, data)``."""
    return [(index, output["data"][mimetype]) for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" for output in cell.get("outputs", [])
            if mimetype in output.get("data", {})]


def display_image(markdown: str) -> bytes:
    """A PNG of a relaxed function's display: its summary line over the two highlighted columns
    (the same Pygments colours as the notebook's HTML)."""
    from PIL import Image, ImageDraw, ImageFont
    from pygments import highlight
    from pygments.formatters import ImageFormatter
    from pygments.lexers import PythonLexer

    summary = markdown.split("\n", 1)[0].replace("**", "").replace("`", "")
    user, generated = re.findall(r"```python\n(.*?)```", markdown, re.DOTALL)
    columns = [Image.open(io.BytesIO(highlight(
        code, PythonLexer(),   # a formatter per image: it keeps what it drew
        ImageFormatter(font_name="DejaVu Sans Mono", font_size=13, line_numbers=False,
                       image_pad=12))))
        for code in (user, generated)]
    title_height, gap = 34, 16
    width = sum(c.width for c in columns) + gap
    height = max(c.height for c in columns) + title_height
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    font = ImageFont.truetype("DejaVuSans.ttf", 14)
    draw.text((12, 9), summary, fill="black", font=font)
    picture.paste(columns[0], (0, title_height))
    draw.line([(columns[0].width + gap // 2, title_height), (columns[0].width + gap // 2, height)],
              fill="#dddddd", width=1)
    picture.paste(columns[1], (columns[0].width + gap, title_height))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def without_machine_paths(notebook) -> None:
    """Write the repository's folder as ``.`` in every output (tracebacks name files), so that
    the stored notebook holds no path of this machine."""
    root = str(EXAMPLES.parent.resolve())

    def scrub(value):
        if isinstance(value, str):
            return value.replace(root + "/", "").replace(root, ".")
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        return value

    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.from_dict(scrub(dict(o))) for o in cell.outputs]


def main() -> None:
    notebook = execute()
    without_machine_paths(notebook)
    nbformat.write(notebook, NOTEBOOK)
    FIGURES.mkdir(parents=True, exist_ok=True)
    _, markdown = next((i, m) for i, m in outputs(notebook, "text/markdown")
                       if m.startswith("**relaxed function**"))
    (FIGURES / "tutorial_display.png").write_bytes(display_image(markdown))
    _, plot = outputs(notebook, "image/png")[0]
    (FIGURES / "tutorial_beta_plot.png").write_bytes(base64.b64decode(plot))
    print(f"stored {NOTEBOOK.name} with its outputs; pictures in docs/figures/")


if __name__ == "__main__":
    main()
