"""Warnings at the user's call: the line that called the relaxed function, not a line of the
runtime or of generated code (which ``stacklevel`` counted by hand would name as soon as the call
depth changes)."""

from __future__ import annotations

import sys
import warnings

#: Top-level packages whose frames are relaxc's own.
_OURS = frozenset({"relaxc", "relaxc_runtime"})


def _ours(frame) -> bool:
    return (frame.f_globals.get("__name__", "").partition(".")[0] in _OURS
            or frame.f_code.co_filename.startswith("<relaxc "))   # generated code


def warn(message: str, category=RuntimeWarning) -> None:
    """``warnings.warn`` located at the first frame outside relaxc, its runtime and generated
    code."""
    frame, level = sys._getframe(1), 2
    while frame is not None and _ours(frame):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
