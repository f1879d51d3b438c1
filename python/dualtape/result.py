"""Result type and progress output shared by every solver."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

__all__ = ["OptimizeResult", "Status", "ProgressPrinter", "StopRequest"]


class Status:
    """Status codes of `OptimizeResult`; codes > 0 are successes."""

    CONVERGED_GRADIENT = 1
    CONVERGED_DECREMENT = 2
    CONVERGED_STEP = 3
    CONVERGED_FUNCTION = 4
    CONVERGED_CONSTRAINTS = 5
    MAX_ITERATIONS = 0
    CALLBACK_STOP = -1
    NON_FINITE = -2
    LINE_SEARCH_FAILED = -3
    INTERRUPTED = -4
    INFEASIBLE = -5
    NOT_A_MINIMUM = -6
    LINEAR_SOLVE_FAILED = -7

    NAMES = {
        1: "converged: gradient norm",
        2: "converged: Newton decrement",
        3: "converged: step size",
        4: "converged: function change",
        5: "converged: constraints satisfied",
        0: "iteration limit reached",
        -1: "stopped by callback",
        -2: "non-finite value",
        -3: "line search failed",
        -4: "interrupted",
        -5: "infeasible",
        -6: "stationary point is not a minimum",
        -7: "linear solve failed",
    }


class StopRequest(Exception):
    """Raise from a callback to end a run with status `Status.CALLBACK_STOP`."""


@dataclass
class OptimizeResult:
    """Outcome of a solver run.

    Attributes
    ----------
    x : ndarray
        Final iterate, in the shape the caller passed ``x0`` in.
    fun : float or ndarray
        Objective value at ``x`` (for least squares: the residual vector).
    grad : ndarray
        Gradient at ``x``, shaped like ``x``.
    nit, nfev, njev, nhev : int
        Iterations, function, gradient and Hessian evaluations.
    status : int
        One of the `Status` codes; ``success`` is ``status > 0``.
    message : str
        What ended the run, with the measured value against its threshold.
    history : dict of lists
        One entry per iteration of the values the method records, for example
        ``"fun"``, ``"grad_norm"`` and ``"step"`` for `minimize`, and ``"cost"``,
        ``"grad_norm"``, ``"step_norm"``, ``"damping"``, ``"gain_ratio"``,
        ``"accepted"`` and ``"time"`` for `least_squares`.

    Methods may add attributes, such as ``cost`` and ``jac`` of
    `least_squares`; their documentation lists them.
    """

    x: np.ndarray
    fun: Any
    grad: Optional[np.ndarray]
    nit: int
    nfev: int
    status: int
    message: str
    njev: int = 0
    nhev: int = 0
    history: dict = field(default_factory=dict)
    time: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.status > 0

    def __getattr__(self, name):
        extra = self.__dict__.get("extra", {})
        if name in extra:
            return extra[name]
        raise AttributeError(f"OptimizeResult has no attribute {name!r}")

    def __getitem__(self, name):
        return getattr(self, name)

    def keys(self):
        return ["x", "fun", "grad", "nit", "nfev", "njev", "nhev", "success",
                "status", "message", "history", "time", *self.extra.keys()]

    def __repr__(self) -> str:
        fun = self.fun if np.ndim(self.fun) == 0 else f"array of shape {np.shape(self.fun)}"
        lines = [
            f"  success: {self.success}",
            f"   status: {self.status}",
            f"  message: {self.message}",
            f"      fun: {fun}",
            f"      nit: {self.nit}",
            f"     nfev: {self.nfev}",
            f"     time: {self.time:.3g} s",
        ]
        for key, value in self.extra.items():
            if np.ndim(value) == 0:
                lines.append(f"{key:>9}: {value}")
        lines.append(f"        x: array of shape {np.shape(self.x)}")
        return "OptimizeResult(\n" + "\n".join(lines) + "\n)"


class ProgressPrinter:
    """Print one fixed-column line per iteration under a header.

    Parameters
    ----------
    columns : list of (name, format) pairs
        The column titles and the format spec of their values, for example
        ``[("iter", "5d"), ("f", "14.6e")]``.
    verbose : int
        0 prints nothing; 1 and 2 print every iteration and the final message.

    A value that is None or NaN prints as "-": the solvers pass those for the
    quantities that they did not compute in an iteration.
    """

    def __init__(self, columns, verbose: int = 0, stream=None):
        self.columns = columns
        self.verbose = verbose
        self.stream = stream if stream is not None else sys.stdout
        self._header_printed = False
        self._start = time.perf_counter()

    def _width(self, spec: str) -> int:
        digits = "".join(ch for ch in spec.split(".")[0] if ch.isdigit())
        return int(digits) if digits else 10

    def header(self) -> str:
        return " ".join(f"{name:>{self._width(spec)}}" for name, spec in self.columns)

    def line(self, values: dict) -> str:
        cells = []
        for name, spec in self.columns:
            value = values.get(name)
            width = self._width(spec)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                cells.append(f"{'-':>{width}}")
            else:
                cells.append(f"{value:{spec}}")
        return " ".join(cells)

    def __call__(self, values: dict) -> None:
        if self.verbose < 1:
            return
        if not self._header_printed:
            print(self.header(), file=self.stream)
            self._header_printed = True
        print(self.line(values), file=self.stream, flush=True)

    def finish(self, message: str) -> None:
        if self.verbose >= 1:
            elapsed = time.perf_counter() - self._start
            print(f"{message} ({elapsed:.3g} s)", file=self.stream, flush=True)


def call_callback(callback: Optional[Callable], state: dict) -> bool:
    """Call a user callback with the iteration state; return True to stop.

    The callback stops the run by returning True or raising `StopRequest`.
    """
    if callback is None:
        return False
    try:
        return bool(callback(state))
    except StopRequest:
        return True
