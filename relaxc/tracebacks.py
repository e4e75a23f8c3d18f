"""Errors inside relaxed code, shown at the user's line.

An error raised while generated code runs has passed through relaxc, its runtime and the generated
function: Python would show those frames first and the user's line only in a note. Here they are
replaced by frames in the user's own file or notebook cell, at the lines the failing generated
statements came from (the technique Jinja2 uses for errors in templates): the traceback reads as if
the user's function had raised. Frames of other code (torch, the user's helpers called as they
are) stay. ``RELAXC_TRACEBACK=full`` in the environment keeps every frame, for work on relaxc
itself.
"""

from __future__ import annotations

import os
import types

from relaxc_runtime.host import relaxc_frame

#: Generated pseudo-filename -> (the user's filename, generated line -> user line, the function's
#: name); filled by the pipeline for every compiled function.
generated_files: dict[str, tuple[str, dict, str]] = {}



def keep_all() -> bool:
    return os.environ.get("RELAXC_TRACEBACK") == "full"


def at_user_lines(traceback: types.TracebackType | None, refused_at: tuple | None = None
                  ) -> types.TracebackType | None:
    """``traceback`` with relaxc's frames dropped and generated frames replaced by frames at the
    user's lines; None (keep it as it is) where it passes through no generated code, unless
    ``refused_at`` (``(filename, line, function name)``) says where the user's code was refused
    before any generated code ran."""
    entries, generated = [], False
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if filename in generated_files:
            user_filename, source_map, name = generated_files[filename]
            user_line = source_map.get(traceback.tb_lineno)
            if user_line is not None:
                entries.append(_user_frame(user_filename, user_line, name))
                generated = True
        elif not relaxc_frame(traceback.tb_frame):
            entries.append(traceback)
        traceback = traceback.tb_next
    if keep_all() or not (generated or refused_at):
        return None
    if not generated:
        entries.append(_user_frame(*refused_at))
    chained = None
    for entry in reversed(entries):
        chained = types.TracebackType(chained, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return chained


def _user_frame(filename: str, line: int, name: str) -> types.TracebackType:
    """A traceback entry whose frame runs code compiled as ``filename`` at ``line``, so that
    tracebacks, IPython and pytest show the user's source there."""
    code = compile("\n" * (line - 1) + "raise __relaxc_marker__", filename, "exec")
    code = code.replace(co_name=name)
    try:
        exec(code, {"__relaxc_marker__": _Marker()})
    except _Marker as marker:
        return marker.__traceback__.tb_next
    raise AssertionError("unreachable: the code above always raises")


class _Marker(Exception):
    """Raised by a stand-in frame, only to obtain it."""
