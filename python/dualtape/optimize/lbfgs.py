"""Limited-memory BFGS with the two-loop recursion.

The direction is d = −H_k g, where H_k is the inverse-Hessian approximation built
from the last ``m`` pairs s_i = x_{i+1} − x_i, y_i = g_{i+1} − g_i on top of
H⁰ = γ I with γ = sᵀy / yᵀy of the newest pair. A pair is stored only when
sᵀy > ``curvature_tol`` · ‖s‖ ‖y‖, so every H_k stays positive definite and d is
a descent direction even when the line search checks only the Armijo condition.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from . import line_search as ls
from ._driver import COMMON_DEFAULTS, StoppingTests, check_float, check_int, check_options
from .first_order import descent_loop

__all__ = ["lbfgs", "two_loop"]

_DEFAULTS = {**COMMON_DEFAULTS, "m": 10, "line_search": "wolfe", "c1": 1e-4, "c2": 0.9,
             "max_line_search": 50, "curvature_tol": 1e-8}


def two_loop(g, pairs, gamma):
    """Return H g for the L-BFGS inverse Hessian of ``pairs`` (oldest first) and H⁰ = γ I."""
    q = g.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        alpha = rho * (s @ q)
        q -= alpha * y
        alphas.append(alpha)
    r = gamma * q
    for (s, y, rho), alpha in zip(pairs, reversed(alphas)):
        beta = rho * (y @ r)
        r += (alpha - beta) * s
    return r


class _Memory:
    def __init__(self, m, curvature_tol):
        self.pairs = deque(maxlen=m)
        self.gamma = 1.0
        self.curvature_tol = curvature_tol
        self.skipped = 0

    def direction(self, z, g):
        if not self.pairs and self.gamma == 1.0:
            # No curvature seen yet: steepest descent scaled so that a unit step moves x by at most 1.
            return -g / max(1.0, float(np.linalg.norm(g)))
        return -two_loop(g, list(self.pairs), self.gamma)

    def update(self, z, g, z_new, g_new):
        s = z_new - z
        y = g_new - g
        sy = float(s @ y)
        if sy <= self.curvature_tol * np.linalg.norm(s) * np.linalg.norm(y):
            self.skipped += 1
            return
        self.pairs.append((s, y, 1.0 / sy))
        self.gamma = sy / float(y @ y)

    def reset(self):
        """Forget every pair; return True if there was anything to forget."""
        had_pairs = bool(self.pairs) or self.gamma != 1.0
        self.pairs.clear()
        self.gamma = 1.0
        return had_pairs


def lbfgs(problem, options=None, callback=None, verbose=0):
    """Minimize by L-BFGS.

    Options: ``m`` (10) stored pairs; ``line_search`` "wolfe" (strong Wolfe, default)
    or "armijo" (backtracking only); ``c1`` 1e-4, ``c2`` 0.9, ``max_line_search`` 50;
    ``curvature_tol`` 1e-8 (the ε of the pair test); and ``maxiter``, ``gtol``,
    ``xtol``, ``ftol``. When a search fails, the memory is cleared and the iteration
    is retried once along −g. ``result.extra["skipped_pairs"]`` counts rejected pairs.
    """
    options = check_options("lbfgs", options, _DEFAULTS)
    m = check_int("m", options["m"], low=1)
    kind = options["line_search"]
    if kind not in ("wolfe", "armijo"):
        raise ValueError(f"option line_search must be 'wolfe' or 'armijo', got {kind!r}")
    c1 = check_float("c1", options["c1"], low=0.0, high=1.0, low_open=True, high_open=True)
    c2 = check_float("c2", options["c2"], low=c1, high=1.0, low_open=True, high_open=True)
    max_trials = check_int("max_line_search", options["max_line_search"], low=1)
    curvature_tol = check_float("curvature_tol", options["curvature_tol"], low=0.0)
    tests = StoppingTests(options["gtol"], options["xtol"], options["ftol"])
    memory = _Memory(m, curvature_tol)

    def search(z, f, g, d, t0):
        if kind == "armijo":
            return ls.armijo(problem, z, f, g, d, t0=t0, c1=c1, max_trials=max_trials)
        return ls.strong_wolfe(problem, z, f, g, d, t0=t0, c1=c1, c2=c2, max_trials=max_trials)

    result = descent_loop("lbfgs", problem, memory.direction, search, options["maxiter"], tests,
                          callback, verbose, unit_step=True, on_step=memory.update,
                          on_failure=memory.reset)
    result.extra["skipped_pairs"] = memory.skipped
    return result
