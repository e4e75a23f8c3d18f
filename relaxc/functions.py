"""Functions a user calls in the plain source, which relaxc compiles into their relaxations.

Run as plain Python (``f.python``, or outside ``@relax``) they behave as ordinary functions:
``argmax([3, 7, 5]) == 1``. Inside a relaxed function the compiler replaces them by the context's
``rx.argmax``/``rx.argmin``, which return a categorical value over the positions.
"""

from __future__ import annotations

from relaxc_runtime import Context
from relaxc_runtime.extrema import arg_extremum

_PLAIN = Context()


def argmax(values):
    """The index of the first largest of ``values`` (relaxed: a categorical over positions)."""
    return arg_extremum(values, _PLAIN, largest=True)


def argmin(values):
    """The index of the first smallest of ``values`` (relaxed: a categorical over positions)."""
    return arg_extremum(values, _PLAIN, largest=False)


#: What lowering replaces: the function object -> the context's method name.
COMPILED = {argmax: "argmax", argmin: "argmin"}
