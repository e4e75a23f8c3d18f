"""Reading a user function's source and parsing it with libcst, with positions for errors.

The parsed function keeps the user's layout and comments; every position (for errors and for the
``# L<n>:`` provenance comments) is translated back to the line and column of the user's file.
"""

from __future__ import annotations

import functools
import inspect
import linecache
import textwrap
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .errors import RelaxcSyntaxError, SourceUnavailableError


@dataclass
class UserSource:
    """The user's function as parsed: the tree and how its positions map to the file."""

    function: object          # the Python function object
    filename: str             # the user's file (or notebook cell pseudo-file)
    first_line: int           # line in ``filename`` of the first line of ``text``
    indent: int               # columns removed by dedenting
    text: str                 # the function's source, dedented
    wrapper: MetadataWrapper  # the parsed tree with positions
    node: cst.FunctionDef     # the function definition (after canonicalization, a new node)
    origins: dict = field(default_factory=dict)   # node made by a pass -> user node it stands for
    # A `while` with early exits -> its (flag, return value or None) pairs (canonicalization).
    loop_exits: dict = field(default_factory=dict)
    # The name generated code gives the evaluation context (canonicalization's `rx.pending`).
    runtime_name: str = "rx"

    @functools.cached_property
    def _positions(self):
        return self.wrapper.resolve(PositionProvider)   # resolving walks the whole tree: once

    def position(self, node):
        """The position of ``node``, or of the user's node it was made from."""
        return self._positions[self.origins.get(node, node)]

    def line_of(self, node) -> int:
        """The line of ``node`` in the user's file."""
        return self.position(node).start.line + self.first_line - 1

    def line_text(self, line: int) -> str:
        return self.text.splitlines()[line - self.first_line]

    def error(self, node, message: str) -> RelaxcSyntaxError:
        """A compile error with a caret under ``node`` in the user's file."""
        position = self.position(node)
        line = self.line_of(node)
        text = linecache.getline(self.filename, line) or (" " * self.indent + self.line_text(line))
        text = text.rstrip()
        # A caret under the node's first line: to its end, or to the end of that line.
        end_column = (position.end.column + self.indent
                      if position.end.line == position.start.line else len(text))
        return RelaxcSyntaxError(
            message, filename=self.filename, line=line,
            column=position.start.column + self.indent, text=text,
            end_line=line, end_column=end_column,
        )


def read_source(function) -> UserSource:
    """Source and parse tree of ``function``; a clear error where Python kept no source."""
    name = getattr(function, "__name__", repr(function))
    if name == "<lambda>":
        raise SourceUnavailableError(
            "relaxc cannot relax a lambda: write it as a `def` function in a file or notebook cell"
        )
    if not inspect.isfunction(function):
        raise TypeError(f"relaxc.relax expects a Python function, got {type(function).__name__}")
    try:
        lines, first_line = inspect.getsourcelines(function)
    except (OSError, TypeError) as error:
        raise SourceUnavailableError(
            f"relaxc cannot read the source of {name!r} ({error}): functions typed at the "
            f"interactive prompt or created with exec() keep no source; define it in a file or a "
            f"notebook cell"
        ) from None
    raw = "".join(lines)
    text = textwrap.dedent(raw)
    indent = len(raw.splitlines()[0]) - len(text.splitlines()[0])
    wrapper = MetadataWrapper(cst.parse_module(text))
    node = wrapper.module.body[0]
    if not isinstance(node, cst.FunctionDef):
        raise SourceUnavailableError(f"the source of {name!r} is not a `def` statement")
    return UserSource(function, inspect.getsourcefile(function) or function.__code__.co_filename,
                      first_line, indent, text, wrapper, node)
