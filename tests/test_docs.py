"""The documentation site (docs/): it builds without a warning, and what it quotes is still true.

- every "DESIGN §x" that the code cites is a section of docs/design.md;
- docs/limitations.md quotes every message that relaxc's compiler and runtime raise or warn with
  (found by reading their source, so a new refusal fails here until the page lists it);
- docs/porting.md's examples fail with the messages the page prints, and its rewrites run;
- ``sphinx-build -W`` (warnings are errors) builds the site, gallery included.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _normalised(text: str) -> str:
    return " ".join(text.split())


# --- DESIGN §x ---------------------------------------------------------------------------------

def test_every_cited_design_section_is_in_the_docs():
    cited = set()
    for folder in ("relaxc", "runtime", "tests", "examples", "benchmarks", "docs"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".md") and "_build" not in path.parts:
                cited |= set(re.findall(r"DESIGN §(\d+(?:\.\d+)*)", path.read_text()))
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)*)\.? ", (DOCS / "design.md").read_text(),
                              re.MULTILINE))
    assert {"1.1", "1.3", "2"} <= cited, "the search for citations found too little"
    assert cited - sections == set(), "cited as DESIGN §x but not a section of docs/design.md"


# --- docs/limitations.md -----------------------------------------------------------------------

#: Messages that are not refusals of user code (the longest literal part of each).
_NOT_REFUSALS = {
    "internal error: a forked exit flag reached plain Python logic (relaxc_runtime.exits)":
        "a bug in relaxc, not a refusal",
    "unreachable: the code above always raises": "an assertion about relaxc's own code",
}


def _literal_parts(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    return []


def _messages() -> list[tuple[str, str]]:
    """``(where, longest literal part)`` of every message the compiler and the runtime raise or
    warn with: exceptions built with a literal message, ``source.error(node, message)`` (compile
    errors), ``warnings.warn`` and the replay's reasons, and checks.py's table of refused nodes."""
    found = []
    for path in sorted((ROOT / "relaxc").rglob("*.py")) + sorted((ROOT / "runtime").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            message = None
            if isinstance(node, ast.Call) and node.args:
                function = node.func
                name = getattr(function, "id", None) or getattr(function, "attr", "")
                if name in ("error", "_warn"):          # (node, message), (name, reason)
                    message = node.args[-1]
                elif name.endswith(("Error", "Warning", "Exit")) or name in ("warn",
                                                                            "_Unrecordable"):
                    message = node.args[0]
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(
                    getattr(t, "id", None) == "_REFUSED" for t in node.targets):
                found += [(where, max(_literal_parts(v), key=len)) for v in node.value.values]
            parts = _literal_parts(message) if message is not None else []
            if parts:
                found.append((where, max(parts, key=len)))
    return found


def test_the_message_search_finds_the_known_kinds():
    messages = {text for _, text in _messages()}
    assert len(messages) > 60
    for known in ("`try` is not supported", "a decorator applied before @relax",
                  "list.sort() compares relaxed values", "this call runs without replay, because ",
                  "a list changes size inside a relaxed `while`"):
        assert any(known in text for text in messages), known


def test_limitations_page_quotes_every_refusal():
    page = _normalised((DOCS / "limitations.md").read_text())
    missing = [f"{where}: {text!r}" for where, text in _messages()
               if text not in _NOT_REFUSALS and _normalised(text) not in page]
    assert not missing, ("docs/limitations.md does not quote these messages (add each, with its "
                         "fix, under the heading where it arises):\n" + "\n".join(missing))


def test_relax_docstring_documents_every_option():
    """The one place where the options are documented (docs/api.md shows it) names them all."""
    import relaxc
    from relaxc_runtime.context import _OPTIONS

    documented = set(re.findall(r":param (\w+):", relaxc.relax.__doc__))
    assert documented == {*_OPTIONS, "convert_calls"}


# --- docs/getting_started.md -------------------------------------------------------------------

def test_getting_started_runs(tmp_path):
    """The page's Python blocks, run in order as one script, as a reader would paste them."""
    page = (DOCS / "getting_started.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```$", page, re.DOTALL | re.MULTILINE)
    assert len(blocks) >= 4
    (tmp_path / "example.py").write_text("\n".join(blocks))
    run = subprocess.run([sys.executable, "example.py"], capture_output=True, text=True,
                         timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr


# --- docs/porting.md ---------------------------------------------------------------------------

def _porting():
    spec = importlib.util.spec_from_file_location("porting_examples",
                                                  DOCS / "_ext" / "porting_examples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # (its dataclass looks its module up)
    spec.loader.exec_module(module)
    return module


def test_porting_guide_shows_the_errors_its_examples_give():
    porting = _porting()
    examples = porting.examples(porting.PAGE.read_text())
    assert len(examples) >= 10
    # One fresh process for all: a message may depend on the depth of the stack.
    run = subprocess.run([sys.executable, str(DOCS / "_ext" / "porting_examples.py"), "--check"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    for example, result in zip(examples, results, strict=True):
        assert result["rewrite_error"] is None, (example.title, result["rewrite_error"])
        assert result["message"] == example.message, (
            f"{example.title!r}: the page shows\n{example.message}\nbut the example now gives\n"
            f"{result['message']}\n(after a deliberate change: "
            f"python docs/_ext/porting_examples.py --write)")


# --- the build ---------------------------------------------------------------------------------

def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="the docs extra is not installed (pip install -e '.[docs]')")
    pytest.importorskip("myst_parser", reason="the docs extra is not installed")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS),
         str(tmp_path / "html"), "-d", str(tmp_path / "doctrees")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert build.returncode == 0, build.stdout + build.stderr
    for page in ("index", "getting_started", "porting", "limitations", "api", "design",
                 "semantics", "performance", "gallery/index", "experiments/sorting"):
        assert (tmp_path / "html" / f"{page}.html").exists(), page
