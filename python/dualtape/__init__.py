"""dualtape: automatic differentiation and sparse optimization.

Write energies in plain Python; dualtape traces them into a C++ tape and evaluates
values, gradients and sparse Hessians at native speed.
"""

import numbers

from . import _core
from ._math import (abs, acos, asin, atan, atan2, cos, cosh, cross, det, dot, exp, expm1, hypot, inv,
                    log, log1p, maximum, minimum, norm, power, sign, sin, sinh, sqrt, square, tan, tanh,
                    where)
from .dual import Dual, derivative
from .autodiff import grad, hessian, jacobian, jvp, value_and_grad, vjp
from .elements import ElementEnergy, Objective
from .least_squares import least_squares
from .numdiff import GradientCheckError, GradientCheckResult, check_gradient
from ._math import NotComplexAnalyticError
from .minimize import minimize
from .optimize import Equality, Inequality, KKTSingularError, solve_kkt
from .optimize import transforms
from .residuals import Residuals, split_double_double
from .result import OptimizeResult, Status, StopRequest
from .tracing import Symbol, Tape, TracingError, trace
from . import energies, geometry, graph, nist, numdiff

__version__ = "0.1.0"


def set_num_threads(count: int) -> None:
    """Set the number of threads that evaluate elements.

    Parameters
    ----------
    count : int
        Number of threads, or 0 for the default: OpenMP's ``omp_get_max_threads()``,
        which is one per available CPU in GCC's libgomp unless the
        ``OMP_NUM_THREADS`` environment variable sets another. A build without
        OpenMP always uses one thread.
    """
    if not isinstance(count, numbers.Integral) or isinstance(count, bool) or count < 0:
        raise ValueError(f"count must be an integer >= 0 (0 for the default, one thread per core); got {count!r}")
    if count > 2**31 - 1:
        raise ValueError(f"count must be at most 2147483647; got {count}")
    _core.set_num_threads(int(count))


def get_num_threads() -> int:
    """Return the number of threads used for element evaluation."""
    return _core.get_num_threads()


__all__ = [
    "Dual", "GradientCheckError", "GradientCheckResult", "NotComplexAnalyticError", "check_gradient", "derivative", "numdiff",
    "grad", "graph", "hessian", "jacobian", "jvp", "value_and_grad", "vjp",
    "ElementEnergy", "Equality", "Inequality", "KKTSingularError", "Objective", "OptimizeResult", "Residuals", "Status", "StopRequest", "Symbol", "Tape",
    "TracingError", "abs", "acos", "asin", "atan", "atan2", "cos", "cosh", "cross", "det", "dot",
    "energies", "exp", "expm1", "geometry", "get_num_threads", "hypot", "inv", "least_squares", "log", "log1p",
    "maximum", "minimize", "minimum", "nist", "norm", "power", "set_num_threads", "sign", "sin", "sinh",
    "solve_kkt", "split_double_double", "sqrt", "square", "tan", "tanh", "trace", "transforms", "where",
]
