"""Sphinx configuration of the relaxc documentation (Markdown pages through MyST).

Build it with ``sphinx-build -W -b html docs docs/_build/html`` (tests/test_docs.py does, warnings
being errors). The pages are the Markdown files of docs/ as they are: README.md and docstrings link
to them by path. The gallery (docs/gallery/, git-ignored) is written at build time from the test
corpus by docs/_ext/gallery.py.
"""

import pathlib
import re
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
# The gallery extension; relaxc itself is imported as installed (`pip install -e .`).
sys.path.insert(0, str(DOCS / "_ext"))

project = "relaxc"
author = "the relaxc authors"
copyright = "the relaxc authors"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "gallery",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**/results/**", "README.md"]

# Markdown as GitHub shows it: links to headings (`semantics.md#modes-and-options`) resolve, `$`
# stays a dollar sign unless the page opts into maths.
myst_heading_anchors = 3
myst_enable_extensions = ["deflist"]

# The API reference documents what relaxc exports, in source order, with the signatures as written.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True

html_theme = "alabaster"
html_title = "relaxc"
html_static_path = []

_DESIGN_CITATION = re.compile(r"DESIGN §(\d+(?:\.\d+)*)")


def _link_design_citations(app, what, name, obj, options, lines):
    """Docstrings cite the design as "DESIGN §1.3": make each a link to that section of design.md
    (tests/test_docs.py checks that every cited section exists)."""
    for number, line in enumerate(lines):
        lines[number] = _DESIGN_CITATION.sub(r":ref:`DESIGN §\1 <design-\1>`", line)


def setup(app):
    app.connect("autodoc-process-docstring", _link_design_citations)
