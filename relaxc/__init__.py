"""relaxc: ordinary Python algorithms, compiled into differentiable PyTorch code.

Every discrete decision of a function decorated with :func:`relax` (``if``, comparisons,
``and``/``or``/``not``, ...) is replaced by its expectation under logistic perturbation (Petersen
et al., NeurIPS 2021; other distributions with ``relax(f, relaxation=...)``). See ``pipeline`` for
how the compiler is organised and docs/architecture.md for the whole.
"""

from relaxc_runtime import Categorical, Relaxation

from .api import RelaxedFunction, do_not_convert, relax, to_source
from .compiled import CompiledRelaxedFunction, compile
from .errors import RelaxcSyntaxError, SourceUnavailableError
from .functions import argmax, argmin
from .plotting import plot
from .report import Report, report
from .version import __version__

__all__ = ["Categorical", "CompiledRelaxedFunction", "RelaxedFunction", "RelaxcSyntaxError",
           "Relaxation", "Report", "SourceUnavailableError", "__version__", "argmax", "argmin",
           "compile", "do_not_convert", "plot", "relax", "report", "to_source"]
