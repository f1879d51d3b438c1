"""`minimize`: one entry point for every solver of dualtape."""

from __future__ import annotations

import numbers
import time

import numpy as np

from . import _core
from .elements import ElementEnergy, Objective, _as_fixed
from .result import OptimizeResult, ProgressPrinter, StopRequest

__all__ = ["minimize"]

_NEWTON_DEFAULTS = {
    "maxiter": 100,
    "tol": 1e-10,
    "gtol": 1e-8,
    "projection": "clamp",
    "eps": 1e-9,
    "armijo": 1e-4,
    "shrink": 0.5,
    "max_line_search": 64,
}

_NEWTON_COLUMNS = [
    ("iter", "5d"), ("f", "16.9e"), ("|g|", "10.3e"), ("decrement", "10.3e"),
    ("step", "9.2e"), ("ls", "3d"), ("reg", "8.1e"), ("time", "8.3f"),
]


def _check_newton_options(options: dict) -> dict:
    unknown = set(options) - set(_NEWTON_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown option(s) for method 'newton': {sorted(unknown)}; "
                        f"expected some of {sorted(_NEWTON_DEFAULTS)}")
    merged = {**_NEWTON_DEFAULTS, **options}
    maxiter = merged["maxiter"]
    if not isinstance(maxiter, (int, np.integer)) or isinstance(maxiter, bool) or maxiter < 0:
        raise ValueError(f"maxiter must be an integer >= 0; got {maxiter!r}")
    for name in ("tol", "gtol", "eps", "armijo"):
        value = merged[name]
        if (not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(value)
                or value < 0):
            raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    shrink = merged["shrink"]
    if not isinstance(shrink, numbers.Real) or not 0.0 < shrink < 1.0:
        raise ValueError(f"shrink must be in (0, 1); got {shrink!r}")
    if merged["projection"] not in (None, "clamp", "abs"):
        raise ValueError(f"projection must be None, 'clamp' or 'abs'; got {merged['projection']!r}")
    max_line_search = merged["max_line_search"]
    if (not isinstance(max_line_search, (int, np.integer)) or isinstance(max_line_search, bool)
            or max_line_search < 1):
        raise ValueError(f"max_line_search must be an integer >= 1; got {max_line_search!r}")
    return merged


def _newton_row(info: dict) -> dict:
    """Return the progress row of one C++ Newton iteration, with None for what it did not compute.

    The C++ loop leaves such fields at 0. The last iteration takes no step, and when
    it stops on the gradient test or the iteration limit, it also solves for no
    direction, so it has no decrement and no regularization. A computed decrement
    −½ gᵀd is > 0, because a direction with gᵀd >= 0 ends the run.
    """
    took_step = info["line_search_steps"] > 0
    has_direction = took_step or info["decrement"] > 0.0
    return {"iter": info["iteration"], "f": info["f"], "|g|": info["grad_norm"],
            "decrement": info["decrement"] if has_direction else None,
            "step": info["step"] if took_step else None,
            "ls": info["line_search_steps"] if took_step else None,
            "reg": info["regularization"] if has_direction else None,
            "time": info["time"]}


def _newton_objective(obj: Objective, x0, options: dict, callback, verbose: int) -> OptimizeResult:
    """Projected Newton on an `Objective`, with the loop in C++."""
    settings = _check_newton_options(options)
    flat, shape = obj._x(x0, "x0")
    printer = ProgressPrinter(_NEWTON_COLUMNS, verbose)
    history = {"fun": [], "grad_norm": [], "decrement": [], "step": [], "line_search_steps": [],
               "regularization": [], "time": []}
    stop_error = []

    def on_iteration(info: dict, x_now: np.ndarray) -> int:
        history["fun"].append(info["f"])
        history["grad_norm"].append(info["grad_norm"])
        history["decrement"].append(info["decrement"])
        history["step"].append(info["step"])
        history["line_search_steps"].append(info["line_search_steps"])
        history["regularization"].append(info["regularization"])
        history["time"].append(info["time"])
        printer(_newton_row(info))
        if callback is None:
            return 0
        state = {"nit": info["iteration"] + 1, "x": x_now.reshape(shape), "fun": info["f"],
                 "grad_norm": info["grad_norm"], "decrement": info["decrement"],
                 "step": info["step"], "method": "newton"}
        try:
            return 1 if callback(state) else 0
        except StopRequest:
            return 1
        except Exception as error:  # re-raised after the C++ loop returns
            stop_error.append(error)
            return 1

    start = time.perf_counter()
    raw = _core.newton(obj._core, flat, int(settings["maxiter"]), float(settings["tol"]),
                       float(settings["gtol"]), settings["projection"] or "none", float(settings["eps"]),
                       float(settings["armijo"]), float(settings["shrink"]),
                       int(settings["max_line_search"]), on_iteration)
    if stop_error:
        raise stop_error[0]
    elapsed = time.perf_counter() - start
    result = OptimizeResult(
        x=raw["x"].reshape(shape), fun=raw["fun"], grad=raw["grad"].reshape(shape), nit=raw["nit"],
        nfev=raw["nfev"], njev=raw["nhev"], nhev=raw["nhev"], status=raw["status"],
        message=raw["message"], history=history, time=elapsed)
    if verbose >= 1:
        printer.finish(result.message)
    return result


def _merge_fixed(obj: Objective, fixed):
    """Return the union of the variables that `obj` fixes and `fixed` as a flat boolean mask.

    Returns None when `fixed` is None, so that the objective's own set applies unchanged.
    """
    if fixed is None:
        return None
    return _as_fixed(fixed, obj.n_vars, obj.dim).astype(bool) | ~obj.free


def _with_fixed(obj: Objective, fixed_mask) -> Objective:
    if fixed_mask is None:
        return obj
    return Objective([(weight, energy) for weight, energy in obj.terms], n_vars=obj.n_vars, fixed=fixed_mask)


def minimize(fun, x0, method=None, *, fixed=None, callback=None, verbose: int = 0, transform=None,
             constraints=None, **options) -> OptimizeResult:
    """Minimize an objective and return an `OptimizeResult`.

    Parameters
    ----------
    fun : Objective, ElementEnergy or callable
        An `Objective` (or a single `ElementEnergy`), or a Python function of a 1-D
        float array returning a float, differentiated through the tape.
    x0 : array_like
        Start point, (n, dim) or flat; the result keeps its shape.
    method : str
        "newton" (default for objectives: projected Newton with sparse Cholesky in
        C++), "lbfgs" (default for functions), "gd", "sgd", "momentum", "nesterov",
        "rmsprop", "adam", or with ``constraints`` "penalty" and
        "augmented-lagrangian".
    fixed : int array or bool array, optional
        Variable blocks (rows of x) or a boolean mask shaped like x held at x0.
        For an `Objective` that fixes variables itself, both sets are held (their
        union).
    callback : callable, optional
        ``callback(state)`` after each iteration; returning True or raising
        `StopRequest` stops the run.
    verbose : int
        0 silent, 1 one line per iteration, 2 also the final message.
    **options
        Method options. For "newton" on an objective: ``maxiter`` (100), ``tol``
        (1e-10, on the Newton decrement −½ gᵀd), ``gtol`` (1e-8, on ‖g‖₂),
        ``projection`` ("clamp", "abs" or None), ``eps`` (1e-9), ``armijo`` (1e-4),
        ``shrink`` (0.5), ``max_line_search`` (64). "lbfgs" and the first-order
        methods take ``maxiter`` (1000), ``gtol`` (1e-6, on max |g_i|), ``xtol``
        and ``ftol``. The fixed-step methods ("sgd", "momentum", "nesterov",
        "rmsprop", "adam") also take ``lr`` (1e-3), ``schedule``, ``batch_size``
        and ``epochs``. Each method's function in `dualtape.optimize` lists all of
        its options, and `dualtape.optimize.adam` explains how to choose ``lr``:
        with the defaults, Adam moves each variable by about 1 in all.

    Returns
    -------
    OptimizeResult
        ``success`` is False when the run stopped on the iteration limit, and
        ``message`` then states the limit and the final gradient norm.
    """
    if isinstance(fun, ElementEnergy):
        fun = fun._as_objective()
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2; got {verbose!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable; got {type(callback).__name__}")
    if isinstance(fun, Objective):
        fixed = _merge_fixed(fun, fixed)
        method = "newton" if method is None else method
        if method == "newton" and transform is None and constraints is None:
            return _newton_objective(_with_fixed(fun, fixed), x0, options, callback, int(verbose))
    elif not callable(fun):
        raise TypeError(f"fun must be an Objective, an ElementEnergy or a callable; got {type(fun).__name__}")
    method = "lbfgs" if method is None else method
    from . import optimize  # the solvers of the lecture, on the Problem protocol

    if not isinstance(method, str) or method not in optimize.METHODS:
        raise ValueError(f"method must be one of {list(optimize.METHODS)}; got {method!r}")
    if isinstance(fun, Objective):
        problem = optimize.Problem.from_objective(fun, x0, fixed=fixed)
    else:
        problem = optimize.Problem.from_function(fun, x0, fixed=fixed)
    return optimize.run(method, problem, x0, options=options, callback=callback, verbose=int(verbose),
                        transform=transform, constraints=constraints)

