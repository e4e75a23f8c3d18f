"""Naming a place in the user's code as the user knows it: ``File "x.py", line 3`` for a file,
``Cell In[4], line 3`` for a notebook cell (as IPython's own tracebacks do), not the temporary
file that ipykernel compiles each cell under."""

from __future__ import annotations

import os
import sys


def cell_number(filename: str) -> int | None:
    """The execution count of the notebook cell compiled as ``filename``, or None (not a cell, or
    not inside IPython). IPython is only consulted where it is already imported."""
    if "IPython" not in sys.modules:
        return None
    shell = sys.modules["IPython"].get_ipython()
    filename_map = getattr(getattr(shell, "compile", None), "_filename_map", None)
    return filename_map.get(filename) if isinstance(filename_map, dict) else None


def describe(filename: str, line: int) -> str:
    """``Cell In[N], line L`` for a notebook cell, ``File "path", line L`` elsewhere."""
    cell = cell_number(filename)
    if cell is not None:
        return f"Cell In[{cell}], line {line}"
    return f'File "{filename}", line {line}'


def short(filename: str, line: int) -> str:
    """``In[N]:L`` for a notebook cell, ``name.py:L`` elsewhere (for headers and summaries)."""
    cell = cell_number(filename)
    if cell is not None:
        return f"In[{cell}]:{line}"
    return f"{os.path.basename(filename)}:{line}"
