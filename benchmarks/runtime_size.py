"""How large the runtime is: lines and code lines per module, now or at a git revision.

A *code line* holds a token of code: blank lines, comments and docstrings do not count, so the
number follows the logic, not its documentation (the runtime's docstrings carry each formula and
its hard meaning, and grow with them)::

    python benchmarks/runtime_size.py            # the working tree
    python benchmarks/runtime_size.py 3944606    # a revision (read with git show)
"""

from __future__ import annotations

import argparse
import ast
import io
import subprocess
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
             tokenize.ENDMARKER}


def code_lines(source: str) -> int:
    """The lines of ``source`` that hold code (not a comment, a docstring or nothing)."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _NOT_CODE:
            lines.update(line for line in range(token.start[0], token.end[0] + 1)
                         if line not in docstrings)
    return len(lines)


def modules(revision: str | None) -> dict[str, str]:
    """File name -> source of each module of ``runtime/`` (the working tree's, or a revision's)."""
    if revision is None:
        return {path.name: path.read_text() for path in sorted((ROOT / "runtime").glob("*.py"))}
    names = subprocess.run(["git", "ls-tree", "--name-only", f"{revision}:runtime"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    return {name: subprocess.run(["git", "show", f"{revision}:runtime/{name}"], cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout
            for name in names if name.endswith(".py")}


def sizes(revision: str | None = None) -> dict[str, tuple[int, int]]:
    """File name -> (lines, code lines)."""
    return {name: (len(source.splitlines()), code_lines(source))
            for name, source in modules(revision).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", nargs="?", help="a git revision (default: the working tree)")
    rows = sizes(parser.parse_args().revision)
    print(f"{'module':<20} {'lines':>7} {'code':>7}")
    for name, (lines, code) in sorted(rows.items(), key=lambda row: -row[1][1]):
        print(f"{name:<20} {lines:>7} {code:>7}")
    print(f"{'total':<20} {sum(r[0] for r in rows.values()):>7} "
          f"{sum(r[1] for r in rows.values()):>7}")


if __name__ == "__main__":
    main()
