"""The examples of docs/porting.md, run: each "before" block must fail with the message printed under it.

Every ``## `` section of the page that teaches a rewrite holds, in this order, a ``python`` block
with the code as first written (it ends with the call that fails), a ``text`` block with the last
lines of the traceback it gives, and usually a ``python`` block with the rewrite (which must run,
its ``assert`` lines checking the result). Each block runs as a file ``example.py`` of its own (relaxc
reads a function's source from its file), and the message is taken as Python prints it, with that
file's folder left out so the page reads ``File "example.py"``.

``python docs/_ext/porting_examples.py --check`` runs every block in one fresh process (a message
may depend on the stack's depth, as a recursion limit does) and prints, as JSON, each section's
message and the error of its rewrite, if any; tests/test_docs.py compares them with the page. After
a deliberate change to a message, rewrite the page's ``text`` blocks from a run with::

    python docs/_ext/porting_examples.py --write
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re
import runpy
import sys
import tempfile
import traceback

PAGE = pathlib.Path(__file__).resolve().parent.parent / "porting.md"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.DOTALL | re.MULTILINE)


@dataclasses.dataclass
class Example:
    title: str
    before: str
    message: str            # as the page prints it
    after: str | None       # None where the section points to another section's rewrite
    message_span: tuple     # (start, end) of the message inside the page's text


def examples(page: str) -> list[Example]:
    """The sections of ``page`` that show a failing example, in page order."""
    found = []
    sections = [m.start() for m in re.finditer(r"^## ", page, re.MULTILINE)] + [len(page)]
    for start, end in zip(sections, sections[1:]):
        blocks = list(_FENCE.finditer(page, start, end))
        kinds = [b.group(1) for b in blocks]
        if kinds not in (["python", "text"], ["python", "text", "python"]):
            raise ValueError(f"{PAGE.name}: the section at offset {start} has blocks {kinds}; "
                             f"expected python (before), text (its error), python (the rewrite)")
        title = page[start + 3:page.index("\n", start)]
        found.append(Example(title, blocks[0].group(2), blocks[1].group(2).rstrip("\n"),
                             blocks[2].group(2) if len(blocks) == 3 else None,
                             blocks[1].span(2)))
    return found


def run(code: str, folder: pathlib.Path) -> None:
    """Run ``code`` as the file ``folder/example.py`` (a fresh folder per block: linecache and
    relaxc's compile cache key on the file name)."""
    path = folder / "example.py"
    path.write_text(code)
    runpy.run_path(str(path), run_name="example")


def message(code: str, folder: pathlib.Path) -> str:
    """The last lines of the traceback that running ``code`` ends with, as the page shows them."""
    try:
        run(code, folder)
    except Exception as error:
        text = "".join(traceback.format_exception_only(error))
        return text.replace(str(folder) + "/", "").rstrip("\n")
    raise AssertionError("the example ran without an error")


def check(page: str) -> list[dict]:
    """Run every example of ``page``: per section its title, the message its first block fails
    with, and the error its rewrite raises (None where the rewrite runs)."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, example in enumerate(examples(page)):
            before, after = pathlib.Path(tmp, f"{number}a"), pathlib.Path(tmp, f"{number}b")
            before.mkdir(), after.mkdir()
            failure = None
            if example.after is not None:
                try:
                    run(example.after, after)
                except Exception:
                    failure = traceback.format_exc()
            results.append({"title": example.title, "message": message(example.before, before),
                            "rewrite_error": failure})
    return results


def _write() -> None:
    page = PAGE.read_text()
    results = check(page)
    # Replace from the end, so that the spans found before stay valid.
    for example, result in reversed(list(zip(examples(page), results))):
        start, end = example.message_span
        page = page[:start] + result["message"] + "\n" + page[end:]
    PAGE.write_text(page)


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        _write()
    elif sys.argv[1:] == ["--check"]:
        print(json.dumps(check(PAGE.read_text()), indent=1))
    else:
        raise SystemExit(__doc__)
