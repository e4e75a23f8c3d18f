"""The gallery: every function of the test corpus (tests/corpus.py) as source → generated code → plot.

A Sphinx extension: when the build starts it writes docs/gallery/ (git-ignored, rewritten on every
build): an index and, per corpus function, a page with its plain source, the code relaxc generates
for it (``relaxc.to_source``) and ``relaxc.plot`` of its outputs against β — relaxed, the true
expectation (exact mode, or sampled where exact would enumerate too many paths) and hard — on one
fixed input. The functions whose relaxation relaxc refuses by design (``corpus.RELAXED_ERRORS``)
show the refusal instead of a plot.

The inputs follow ``corpus.CASES``: a sequence argument (``"xs4"``) gets distinct integers, a
number (``"x"``) distinct half-integers (so that no two data values tie, and β → 0 reaches the
hard result), a static argument the simplest non-zero value of its hypothesis strategy; all are
drawn from a seed per function, so the pages are the same on every build. Figures are written with
matplotlib's Agg backend (no display needed).

Building every page takes a minute or two on 2 CPU cores (a relaxed ``while`` at β near 1 runs
long), so a page is written again only when what it shows may have changed: docs/gallery/
keeps, per function, a hash of its source, its arguments' description, this file and the sources
of relaxc and its runtime.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import pathlib
import random
import sys
import time
import warnings

#: The β values of every plot: log-spaced, three per decade, from nearly discrete (0.005) to
#: nearly flat (2, for data between -5 and 5).
BETAS = [10 ** (k / 3) for k in range(-7, 2)]
#: Exact mode enumerates at most this many paths per run, then the expectation is sampled (1,000
#: draws). A path of exact mode may run a `while` for hundreds of iterations (exponential_search's
#: `while lo <= hi` made 256 decisions on one path), so giving up took over a minute at 256 paths
#: and over five minutes at the default 10,000 (gnome_sort at β = 1); at 16, seconds.
MAX_PATHS = 16
_SEED = 0
#: Functions whose plot relaxc cannot draw today, and why: their page shows the error instead. A
#: function listed here that plots fails the build, so that the list stays true.
KNOWN_PLOT_FAILURES = {}


def _static_value(strategy):
    """The simplest non-zero value of a hypothesis strategy (its shrinking is deterministic)."""
    import hypothesis

    quiet = hypothesis.settings(database=None, derandomize=True)
    try:
        return hypothesis.find(strategy, lambda value: value != 0, settings=quiet)
    except hypothesis.errors.NoSuchExample:
        return hypothesis.find(strategy, lambda value: True, settings=quiet)


def _arguments(specification, rng: random.Random):
    """One instance (a batch of one) of the arguments ``corpus.CASES`` describes."""
    import torch

    halves = [k + 0.5 for k in range(-4, 4)]
    rng.shuffle(halves)
    arguments = []
    for spec in specification:
        if spec == "x":
            arguments.append(torch.tensor([halves.pop()]))
        elif isinstance(spec, str) and spec.startswith("xs"):
            n = int(spec[2:])
            values = rng.sample(range(-n, n + 1), n)
            arguments.append(torch.tensor([values], dtype=torch.float32))
        else:
            arguments.append(_static_value(spec))
    return arguments


def _call_text(function, arguments) -> str:
    import torch

    def shown(value):
        if isinstance(value, torch.Tensor):
            return f"torch.tensor({value.tolist()})"
        return repr(value)

    return f"{function.__name__}({', '.join(shown(a) for a in arguments)})"


def _code_block(text: str, language: str = "python") -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}{language}\n{text.rstrip()}\n{fence}\n"


def _page(function, specification, refusal, folder: pathlib.Path, rng) -> str:
    import matplotlib.pyplot as plt
    import relaxc

    name = function.__name__
    lines = [f"# `{name}`\n", "The plain function (from `tests/corpus.py`):\n",
             _code_block(inspect.getsource(function))]
    relaxed = relaxc.relax(function)
    lines += ["What relaxc generates for it (`relaxc.to_source`):\n",
              _code_block(str(relaxc.to_source(relaxed)))]
    arguments = _arguments(specification, rng)
    if refusal is not None:
        kind, words = refusal
        try:
            relaxed(*arguments)
        except kind as error:
            message = str(error)
        else:
            raise RuntimeError(f"gallery: {name} was expected to raise {kind.__name__}")
        if words not in message:
            raise RuntimeError(f"gallery: {name} raised {message!r}, not {words!r}")
        lines += [f"Its relaxation is refused by design: `{_call_text(function, arguments)}` "
                  f"raises\n", _code_block(f"{kind.__name__}: {message}", "text"),
                  "([Limitations](../limitations.md) lists every refusal and its fix.)\n"]
        return "\n".join(lines)
    call = _call_text(function, arguments)
    try:
        with warnings.catch_warnings():
            # A `while` cut at max_iter at a large β is part of what the plot shows.
            warnings.simplefilter("ignore", RuntimeWarning)
            figure = relaxc.plot(relaxed, *arguments, betas=BETAS, max_paths=MAX_PATHS)
    except Exception as error:
        if name not in KNOWN_PLOT_FAILURES:
            raise
        lines += [f"`relaxc.plot(f, *args)` for `{call}` fails today: "
                  f"{KNOWN_PLOT_FAILURES[name]}.\n",
                  _code_block(f"{type(error).__name__}: {error}", "text")]
        return "\n".join(lines)
    if name in KNOWN_PLOT_FAILURES:
        raise RuntimeError(f"gallery: {name} plots now: remove it from KNOWN_PLOT_FAILURES")
    figure.savefig(folder / f"{name}.png", dpi=80)
    plt.close(figure)
    lines += [f"Its outputs against β for `{call}` "
              f"(`relaxc.plot(f, *args)`): the relaxed output approaches the hard one as β → 0, "
              f"and the gap to the true expectation shows what path merging costs.\n",
              f"![{name}: relaxed, expectation and hard output against β]({name}.png)\n"]
    return "\n".join(lines)


_INDEX = """\
# Gallery

Every function of the test corpus (`tests/corpus.py`: sorts, searches, partitions, dynamic
programs and smaller pieces of logic, written as plain Python), as relaxc sees it: the plain
source, the code relaxc generates, and its outputs against β: relaxed (solid), the true
expectation (dashed; exact mode, or 1,000 samples where exact would enumerate more than
{max_paths} paths) and hard (dotted), on one input. Sequences hold distinct integers and numbers
distinct half-integers, so that no two data values tie and β → 0 reaches the hard result. These
pages are generated when the documentation is built (`docs/_ext/gallery.py`).

```{{toctree}}
:maxdepth: 1

{entries}
```
"""


def _compiler_hash(root: pathlib.Path) -> str:
    """What every page depends on besides its function: this file, relaxc and its runtime."""
    digest = hashlib.sha256(pathlib.Path(__file__).read_bytes())
    for path in sorted([*(root / "relaxc").rglob("*.py"), *(root / "runtime").rglob("*.py")]):
        digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def write_gallery(docs: pathlib.Path, log=None) -> list[str]:
    """Write docs/gallery/ from the corpus (the pages that may have changed); the names of the
    functions, in corpus order."""
    import matplotlib

    matplotlib.use("Agg")
    root = docs.parent
    sys.path.insert(0, str(root / "tests"))
    try:
        import corpus
    finally:
        sys.path.remove(str(root / "tests"))
    folder = docs / "gallery"
    folder.mkdir(exist_ok=True)
    cases = {**corpus.CASES, **{f: () for f in corpus.RELAXED_ERRORS if f not in corpus.CASES}}
    functions = sorted(cases, key=lambda f: f.__code__.co_firstlineno)
    names = {f.__name__ for f in functions}
    for stale in folder.iterdir():
        if stale.suffix in (".md", ".png") and stale.stem not in names | {"index"}:
            stale.unlink()
    stamps_path, compiler = folder / "stamps.json", _compiler_hash(root)
    stamps = json.loads(stamps_path.read_text()) if stamps_path.exists() else {}
    for function in functions:
        name, refusal = function.__name__, corpus.RELAXED_ERRORS.get(function)
        stamp = hashlib.sha256(repr((compiler, inspect.getsource(function), cases[function],
                                     refusal)).encode()).hexdigest()
        if stamps.get(name) == stamp and (folder / f"{name}.md").exists():
            continue
        started = time.perf_counter()
        rng = random.Random(f"{_SEED}:{name}")
        (folder / f"{name}.md").write_text(_page(function, cases[function], refusal, folder, rng))
        stamps[name] = stamp
        stamps_path.write_text(json.dumps(stamps, indent=1, sort_keys=True))
        if log is not None:
            log(f"gallery: {name} {time.perf_counter() - started:.1f} s")
    (folder / "index.md").write_text(_INDEX.format(
        max_paths=MAX_PATHS, entries="\n".join(f.__name__ for f in functions)))
    return [f.__name__ for f in functions]


def _on_builder_inited(app) -> None:
    from sphinx.util import logging

    write_gallery(pathlib.Path(app.srcdir), logging.getLogger(__name__).info)


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
