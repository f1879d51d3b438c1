"""Unconstrained and constrained minimization on the `Problem` protocol.

`run` is the entry point: it takes a method name, a `Problem`, a start point and the
method's options, and returns an `OptimizeResult`. Every method shares the result
type, the callback, the progress format and the stopping tests of
`dualtape.optimize._driver`.
"""

from __future__ import annotations

import numpy as np

from ..result import OptimizeResult, Status, StopRequest
from .constraints import Equality, Inequality, augmented_lagrangian, penalty
from .first_order import adam, gd, make_schedule, momentum, nesterov, rmsprop, sgd
from .kkt import KKTSingularError, solve_kkt
from .lbfgs import lbfgs
from .newton import newton
from .problem import Problem
from .transforms import Interval, Positive, Simplex, Transform, TransformedProblem

__all__ = [
    "run", "METHODS", "UNCONSTRAINED_METHODS", "CONSTRAINED_METHODS", "Problem",
    "Equality", "Inequality", "solve_kkt", "KKTSingularError",
    "Transform", "Positive", "Interval", "Simplex", "make_schedule",
    "OptimizeResult", "Status", "StopRequest",
]

UNCONSTRAINED_METHODS = {
    "gd": gd,
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": nesterov,
    "rmsprop": rmsprop,
    "adam": adam,
    "lbfgs": lbfgs,
    "newton": newton,
}
CONSTRAINED_METHODS = {
    "penalty": penalty,
    "augmented-lagrangian": augmented_lagrangian,
}
METHODS = tuple(UNCONSTRAINED_METHODS) + tuple(CONSTRAINED_METHODS)


def run(method, problem, x0=None, options=None, callback=None, verbose=0, transform=None,
        constraints=None):
    """Minimize ``problem`` with ``method`` from ``x0`` and return an `OptimizeResult`.

    Parameters
    ----------
    method : str
        One of `METHODS`: "gd", "sgd", "momentum", "nesterov", "rmsprop", "adam",
        "lbfgs", "newton", or, with ``constraints``, "penalty" and
        "augmented-lagrangian".
    problem : Problem
        The objective (see `Problem.from_function`, `Problem.from_sum`,
        `Problem.from_objective`).
    x0 : array_like, optional
        Start point with ``problem.shape`` (or flat of the same size); fixed
        variables keep its values. None starts at the problem's own x0.
    options : dict, optional
        Method options; each method's docstring lists them. Unknown names raise.
        Every method takes ``maxiter``, ``gtol``, ``xtol`` and ``ftol``.
    callback : callable, optional
        ``callback(state)`` after every iteration with a dict of ``nit``, ``x``,
        ``fun``, ``grad``, ``grad_norm``, ``step``, ``method`` and per-method values.
        Returning True or raising `StopRequest` ends the run with
        ``Status.CALLBACK_STOP``.
    verbose : int
        0 is silent, 1 and 2 print one line per iteration and the final message.
    transform : Transform, optional
        Optimize u with x_free = transform.forward(u) (`Positive`, `Interval`,
        `Simplex`); the result contains x in the constrained space. ``result.grad``
        is the gradient with respect to x, the stopping tests use the one in u.
    constraints : list of Equality / Inequality, optional
        Needed by "penalty" and "augmented-lagrangian", rejected by the others.

    Returns
    -------
    OptimizeResult
        ``x`` in the shape of ``x0``, with ``extra["method"]`` set.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if not isinstance(problem, (Problem, TransformedProblem)):
        raise TypeError(f"problem must be a dualtape.optimize.Problem, got {type(problem).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")

    caller_shape = np.shape(x0) if x0 is not None else problem.shape
    problem = problem.at(x0) if isinstance(problem, Problem) else problem
    if transform is not None:
        problem = TransformedProblem(problem, transform)

    # Non-finite values are detected and reported by the solvers, so NumPy's
    # overflow and invalid-operation warnings would only repeat them.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if method in CONSTRAINED_METHODS:
            if not constraints:
                raise ValueError(f"method {method!r} needs constraints=[Equality(...), "
                                 "Inequality(...)]")
            result = CONSTRAINED_METHODS[method](problem, constraints, options, callback, verbose)
        else:
            if constraints:
                raise ValueError(f"constraints need method 'augmented-lagrangian' or 'penalty', "
                                 f"got method {method!r}")
            result = UNCONSTRAINED_METHODS[method](problem, options, callback, verbose)

    result.x = np.asarray(result.x).reshape(caller_shape)
    if result.grad is not None:
        result.grad = np.asarray(result.grad).reshape(caller_shape)
    return result
