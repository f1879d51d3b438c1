"""Step-length searches along a descent direction d from z.

With φ(t) = f(z + t·d), φ'(t) = ∇f(z + t·d)ᵀd and φ'(0) < 0:

- Armijo (sufficient decrease):  φ(t) ≤ φ(0) + c₁ t φ'(0)
- strong Wolfe: Armijo and        |φ'(t)| ≤ c₂ |φ'(0)|,  0 < c₁ < c₂ < 1

`armijo` backtracks from t0 with safeguarded quadratic interpolation. `strong_wolfe`
doubles the step until it brackets an acceptable one (a step that fails the Armijo
test, fails to decrease f, or has φ' ≥ 0 closes the bracket), then narrows the
bracket with safeguarded cubic interpolation. A trial step where f or ∇f is NaN or
inf counts as too long, so both searches back off from regions where the objective
is undefined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

__all__ = ["LineSearchResult", "armijo", "strong_wolfe"]


@dataclass
class LineSearchResult:
    """Outcome of a line search; on success ``z, f, g`` are the accepted point."""

    success: bool
    step: float
    z: Optional[np.ndarray]
    f: float
    g: Optional[np.ndarray]
    n_trials: int
    message: str
    all_non_finite: bool = False


class _Phi:
    """φ(t) = f(z + t·d) with its slope, evaluated through the problem."""

    def __init__(self, problem, z, d):
        self.problem = problem
        self.z = z
        self.d = d
        self.n_trials = 0
        self.n_non_finite = 0

    def moves(self, t):
        """Return whether the step t changes z in floating point."""
        return not np.array_equal(self.z + t * self.d, self.z)

    def __call__(self, t):
        z_t = self.z + t * self.d
        f, g = self.problem.value_and_gradient(z_t)
        self.n_trials += 1
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            self.n_non_finite += 1
            return z_t, math.inf, None, math.nan
        return z_t, f, g, float(g @ self.d)


def _check_descent(f0, slope0):
    if not slope0 < 0:
        return LineSearchResult(False, 0.0, None, f0, None, 0,
                                f"d is not a descent direction: gradient·d = {slope0:.3e} >= 0")
    return None


def armijo(problem, z, f0, g0, d, t0=1.0, c1=1e-4, max_trials=50, curvature=0.0):
    """Backtrack from ``t0`` until the sufficient-decrease condition holds.

    ``curvature`` = dᵀHd ≤ 0 turns the test into the second-order condition
    φ(t) ≤ φ(0) + c₁ (t φ'(0) + ½ t² dᵀHd), which accepts steps along a direction
    of negative curvature even where φ'(0) = 0.
    """
    slope0 = float(g0 @ d)
    model_slope = min(curvature, 0.0)
    if not (slope0 < 0 or model_slope < 0):
        return _check_descent(f0, slope0)

    phi = _Phi(problem, z, d)
    t = t0
    for _ in range(max_trials):
        if not phi.moves(t):
            break
        z_t, f_t, g_t, _ = phi(t)
        decrease = c1 * (t * slope0 + 0.5 * t * t * model_slope)
        if f_t <= f0 + decrease:
            return LineSearchResult(True, t, z_t, f_t, g_t, phi.n_trials, "Armijo condition met")

        if math.isfinite(f_t):
            # Minimizer of the quadratic through φ(0), φ'(0) and φ(t), kept in [0.1 t, 0.5 t].
            denominator = 2.0 * (f_t - f0 - slope0 * t)
            t_new = -slope0 * t * t / denominator if denominator > 0 else 0.5 * t
            t = min(max(t_new, 0.1 * t), 0.5 * t)
        else:
            t *= 0.1

    return LineSearchResult(False, t, None, f0, None, phi.n_trials,
                            f"no step met the Armijo condition in {phi.n_trials} trials "
                            f"(last t = {t:.3e}, gradient·d = {slope0:.3e})",
                            all_non_finite=phi.n_trials > 0 and phi.n_non_finite == phi.n_trials)


def _cubic_minimizer(a, fa, da, b, fb, db):
    """Minimizer of the cubic through (a, fa, da) and (b, fb, db), or None."""
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    radicand = d1 * d1 - da * db
    if not math.isfinite(radicand) or radicand < 0:
        return None
    d2 = math.copysign(math.sqrt(radicand), b - a)
    denominator = db - da + 2.0 * d2
    if denominator == 0 or not math.isfinite(denominator):
        return None
    t = b - (b - a) * (db + d2 - d1) / denominator
    return t if math.isfinite(t) else None


def _interpolate(lo, hi):
    """Next trial in the bracket: the cubic minimizer kept 10% away from the ends."""
    a, fa, da = lo
    b, fb, db = hi
    low, high = min(a, b), max(a, b)
    margin = 0.1 * (high - low)
    t = None
    if math.isfinite(fb) and math.isfinite(db):
        t = _cubic_minimizer(a, fa, da, b, fb, db)
    if t is None or not (low + margin <= t <= high - margin):
        t = 0.5 * (a + b)
    return t


def strong_wolfe(problem, z, f0, g0, d, t0=1.0, c1=1e-4, c2=0.9, max_trials=50, t_max=1e10):
    """Find a step meeting the strong Wolfe conditions.

    When the trials run out inside a bracket whose lower end already decreases f
    enough, that end is returned with ``success=True`` and a message saying that
    only the Armijo condition holds.
    """
    slope0 = float(g0 @ d)
    failure = _check_descent(f0, slope0)
    if failure is not None:
        return failure

    phi = _Phi(problem, z, d)
    armijo_bound = lambda t: f0 + c1 * t * slope0  # noqa: E731
    curvature_bound = -c2 * slope0

    # lo = (t, φ, φ') at the best step so far that meets the Armijo condition.
    lo = (0.0, f0, slope0)
    lo_point = (z, f0, g0)
    t = t0
    bracket = None
    while phi.n_trials < max_trials:
        z_t, f_t, g_t, slope_t = phi(t)
        if f_t > armijo_bound(t) or f_t >= lo[1]:
            bracket = (lo, (t, f_t, slope_t))
            break
        if abs(slope_t) <= curvature_bound:
            return LineSearchResult(True, t, z_t, f_t, g_t, phi.n_trials, "strong Wolfe conditions met")
        if slope_t >= 0:
            bracket = ((t, f_t, slope_t), lo)
            lo_point = (z_t, f_t, g_t)
            break
        lo, lo_point = (t, f_t, slope_t), (z_t, f_t, g_t)
        if t >= t_max:
            return LineSearchResult(True, t, z_t, f_t, g_t, phi.n_trials,
                                    f"step reached t_max = {t_max:.3e} with f still decreasing")
        t = min(2.0 * t, t_max)

    if bracket is not None:
        lo, hi = bracket
        while phi.n_trials < max_trials:
            t = _interpolate(lo, hi)
            if abs(hi[0] - lo[0]) <= 1e-16 * max(1.0, abs(lo[0])) or not phi.moves(t):
                break
            z_t, f_t, g_t, slope_t = phi(t)
            if f_t > armijo_bound(t) or f_t >= lo[1]:
                hi = (t, f_t, slope_t)
                continue
            if abs(slope_t) <= curvature_bound:
                return LineSearchResult(True, t, z_t, f_t, g_t, phi.n_trials,
                                        "strong Wolfe conditions met")
            if slope_t * (hi[0] - lo[0]) >= 0:
                hi = lo
            lo, lo_point = (t, f_t, slope_t), (z_t, f_t, g_t)

    if lo[0] > 0:
        z_lo, f_lo, g_lo = lo_point
        return LineSearchResult(True, lo[0], z_lo, f_lo, g_lo, phi.n_trials,
                                f"only the Armijo condition met after {phi.n_trials} trials")
    return LineSearchResult(False, t, None, f0, None, phi.n_trials,
                            f"no step met the Armijo condition in {phi.n_trials} trials "
                            f"(last t = {t:.3e}, gradient·d = {slope0:.3e})",
                            all_non_finite=phi.n_trials > 0 and phi.n_non_finite == phi.n_trials)
