"""Errors the compiler raises: at compile time a ``SyntaxError`` pointing at the user's code."""

from __future__ import annotations


class RelaxcSyntaxError(SyntaxError):
    """Source that relaxc cannot compile, with the user's file, line, a caret, and the fix.

    A ``SyntaxError`` subclass, so tracebacks, IDEs and notebooks show the caret under the user's
    code exactly as for Python's own syntax errors.
    """

    def __init__(self, message: str, *, filename: str, line: int, column: int, text: str,
                 end_line: int | None = None, end_column: int | None = None):
        # SyntaxError offsets are 1-based columns.
        super().__init__(message, (filename, line, column + 1, text, end_line,
                                   None if end_column is None else end_column + 1))


class SourceUnavailableError(OSError):
    """The function's source cannot be read (a lambda, the interactive prompt, a built-in).

    An ``OSError`` like the one ``inspect.getsource`` raises, with a message that says what to do.
    """
