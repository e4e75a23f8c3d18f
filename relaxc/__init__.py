"""relaxc: ordinary Python algorithms, compiled into differentiable PyTorch code.

Every discrete decision of a function decorated with :func:`relax` (``if``, comparisons,
``and``/``or``/``not``, ...) is replaced by its expectation under logistic perturbation (Petersen
et al., NeurIPS 2021). See ``pipeline`` for how the compiler is organised.
"""

from .api import RelaxedFunction, relax, to_source
from .errors import RelaxcSyntaxError, SourceUnavailableError

__all__ = ["RelaxedFunction", "RelaxcSyntaxError", "SourceUnavailableError", "relax", "to_source"]
