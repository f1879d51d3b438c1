"""Bookkeeping shared by the solvers: options, stopping tests, history, progress, result.

Stopping tests, each checked after every accepted iterate, and each disabled by a
tolerance of 0:

- gradient:  ‖g‖∞ ≤ gtol
- step:      ‖x_{k+1} − x_k‖∞ ≤ xtol · (1 + ‖x_{k+1}‖∞)
- function:  |f_k − f_{k+1}| ≤ ftol · max(1, |f_k|, |f_{k+1}|)

The message of a met test states the measured value against its threshold.
"""

from __future__ import annotations

import math
import numbers
import time

import numpy as np

from ..result import OptimizeResult, ProgressPrinter, Status, call_callback

COMMON_DEFAULTS = {"maxiter": 1000, "gtol": 1e-6, "xtol": 1e-12, "ftol": 1e-12}


def check_options(method, options, defaults):
    """Merge ``options`` into ``defaults`` and reject unknown names."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for method {method!r}; "
                         f"valid options: {sorted(defaults)}")
    merged = dict(defaults)
    merged.update(options)
    for name in ("gtol", "xtol", "ftol"):
        if name in merged:
            merged[name] = check_float(name, merged[name], low=0.0)
    if "maxiter" in merged and merged["maxiter"] is not None:
        merged["maxiter"] = check_int(name="maxiter", value=merged["maxiter"], low=0)
    return merged


def check_float(name, value, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite float within the given bounds, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"option {name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"option {name} must be finite, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        relation = ">" if low_open else ">="
        raise ValueError(f"option {name} must be {relation} {low}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        relation = "<" if high_open else "<="
        raise ValueError(f"option {name} must be {relation} {high}, got {value}")
    return value


def check_int(name, value, low=None):
    """Return ``value`` as an int no smaller than ``low``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"option {name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"option {name} must be >= {low}, got {value}")
    return value


def is_finite(f, g=None):
    if not math.isfinite(f):
        return False
    return g is None or bool(np.all(np.isfinite(g)))


def norm_inf(v):
    return float(np.max(np.abs(v))) if np.size(v) else 0.0


class StoppingTests:
    """The three convergence tests; each returns ``(status, message)`` when met, else None."""

    def __init__(self, gtol, xtol, ftol):
        self.gtol = gtol
        self.xtol = xtol
        self.ftol = ftol

    def gradient(self, grad_norm):
        if grad_norm <= self.gtol:
            return (Status.CONVERGED_GRADIENT,
                    f"{Status.NAMES[Status.CONVERGED_GRADIENT]}: max |g_i| = {grad_norm:.3e} "
                    f"<= gtol = {self.gtol:.3e}")
        return None

    def step(self, step_norm, x_norm):
        threshold = self.xtol * (1.0 + x_norm)
        if self.xtol > 0 and step_norm <= threshold:
            return (Status.CONVERGED_STEP,
                    f"{Status.NAMES[Status.CONVERGED_STEP]}: max |dx_i| = {step_norm:.3e} "
                    f"<= xtol * (1 + max |x_i|) = {threshold:.3e}")
        return None

    def function(self, f_old, f_new):
        change = abs(f_old - f_new)
        threshold = self.ftol * max(1.0, abs(f_old), abs(f_new))
        if self.ftol > 0 and change <= threshold:
            return (Status.CONVERGED_FUNCTION,
                    f"{Status.NAMES[Status.CONVERGED_FUNCTION]}: |f_old - f_new| = {change:.3e} "
                    f"<= ftol * max(1, |f|) = {threshold:.3e}")
        return None

    def after_step(self, f_old, f_new, dz, z_new, grad_norm):
        """Run the three tests after a step; return the first met one or None."""
        return (self.gradient(grad_norm)
                or self.step(norm_inf(dz), norm_inf(z_new))
                or self.function(f_old, f_new))


def non_finite_message(where, f, g=None):
    parts = [f"f = {f}"]
    if g is not None and not np.all(np.isfinite(g)):
        bad = int(np.flatnonzero(~np.isfinite(g))[0])
        parts.append(f"gradient[{bad}] = {g[bad]}")
    return f"{Status.NAMES[Status.NON_FINITE]} {where}: " + ", ".join(parts)


class Recorder:
    """Counts, history, progress lines and callback of one solver run.

    ``columns`` are ProgressPrinter columns after the leading ``iter`` column; each
    iteration's values are appended to ``history`` under the same names (``fun``,
    ``grad_norm`` and ``step`` always).
    """

    def __init__(self, method, problem, callback, verbose, columns):
        self.method = method
        self.problem = problem
        self.callback = callback
        self.start = time.perf_counter()
        self.columns = [("iter", "6d"), ("fun", "14.6e"), ("grad_norm", "11.3e"),
                        ("step", "11.3e")] + list(columns)
        self.printer = ProgressPrinter(self.columns, verbose=verbose)
        self._row_names = [name for name, _ in self.columns if name != "iter"]
        self.history = {name: [] for name in self._row_names}

    def iteration(self, nit, z, f, g, step, **values):
        """Record iteration ``nit`` (0 is the start point); return True if the callback stops."""
        grad_norm = norm_inf(g) if g is not None else float("nan")
        row = {"iter": nit, "fun": f, "grad_norm": grad_norm, "step": step, **values}
        for name in self._row_names:
            self.history[name].append(row.get(name))
        self.printer(row)

        if self.callback is None:
            return False
        state = dict(row)
        state.pop("iter")
        state.update(nit=nit, method=self.method, x=self.problem.to_full(z),
                     grad=None if g is None else self.problem.result_gradient(z, g))
        return call_callback(self.callback, state)

    def result(self, z, f, g, status, message, nit, **extra):
        """Build the OptimizeResult for the final iterate ``z`` after ``nit`` iterations."""
        self.printer.finish(message)
        problem = self.problem
        result = OptimizeResult(
            x=problem.to_full(z),
            fun=f,
            grad=None if g is None else problem.result_gradient(z, g),
            nit=nit,
            nfev=problem.nfev,
            njev=problem.njev,
            nhev=problem.nhev,
            status=status,
            message=message,
            history=self.history,
            time=time.perf_counter() - self.start,
            extra={"method": self.method, **extra},
        )
        # The free variables themselves, for solvers that restart from this result.
        result._z = np.array(z, dtype=np.float64)
        return result


def callback_stop_message(nit):
    return f"{Status.NAMES[Status.CALLBACK_STOP]} at iteration {nit}"


def max_iterations_message(limit, grad_norm, gtol, advice="Raise maxiter to run longer."):
    """Return the message of a run that reached `limit` (such as "maxiter = 1000") before gtol.

    The message states the limit, the final gradient norm against gtol, and `advice`.
    """
    return (f"{Status.NAMES[Status.MAX_ITERATIONS]}: {limit}, final max |g_i| = {grad_norm:.3e} "
            f"> gtol = {gtol:.3e}. {advice}")
