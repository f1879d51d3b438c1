"""Equality and inequality constraints by quadratic penalty or augmented Lagrangian.

Problem and sign convention:

    minimize f(x)  subject to  h(x) = 0  (`Equality`),  c(x) ≤ 0  (`Inequality`)

    L(x, λ, μ) = f(x) + λᵀh(x) + μᵀc(x),   μ ≥ 0

so at a solution ∇f + J_hᵀλ + J_cᵀμ = 0. Example: min x₀ s.t. x₀² + x₁² − 1 = 0 has
the solution (−1, 0) with λ = ½; writing the constraint as 1 − x₀² − x₁² = 0 flips
the sign of λ.

"augmented-lagrangian" (Powell-Hestenes-Rockafellar) minimizes over x, for fixed
λ, μ and penalty ρ,

    L_A = f + λᵀh + (ρ/2)‖h‖² + (1/(2ρ)) Σ_i (max(0, μ_i + ρ c_i)² − μ_i²)

then updates λ ← λ + ρh, μ ← max(0, μ + ρc), and multiplies ρ by ``rho_factor``
when the violation is above ``ctol`` and fell by less than the factor ``decrease``.

"penalty" minimizes f + (ρ/2)(‖h‖² + ‖max(0, c)‖²) for ρ growing by ``rho_factor``
in each outer iteration that ends above ``ctol``. Its multiplier estimates are
λ = ρh, μ = ρ max(0, c).

The violation is v = max(‖h‖∞, ‖max(0, c)‖∞). The run converges when v ≤ ``ctol``
and the gradient of the (augmented) Lagrangian has max norm ≤ ``gtol``. It reports
the problem infeasible when ρ grew in each of the last three outer iterations but v
did not halve in any of them, because for a feasible problem v falls at least like
1/ρ. The augmented Lagrangian also requires that the last multiplier update ρ·v be
at least half the size of the multipliers, since only then are they still growing.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ..result import Status
from ._driver import (Recorder, callback_stop_message, check_float, check_int, check_options,
                      is_finite, norm_inf)

__all__ = ["Equality", "Inequality", "augmented_lagrangian", "penalty"]


class _Constraint:
    kind = ""

    def __init__(self, fn, jac=None):
        self.residuals = None
        if _is_residuals(fn):
            # Per-element constraints: every residual of a dt.Residuals is one
            # constraint, with the sparse Jacobian assembled in C++.
            if jac is not None:
                raise TypeError(f"{type(self).__name__}: jac must be None for a dt.Residuals, "
                                "whose Jacobian comes from its tape")
            residuals = fn
            self.residuals = residuals
            fn = lambda x: residuals.residuals(x).ravel()  # noqa: E731
            jac = lambda x: residuals.jacobian(x)  # noqa: E731
        if not callable(fn):
            raise TypeError(f"{type(self).__name__}: fn must be callable, got {type(fn).__name__}")
        if jac is not None and not callable(jac):
            raise TypeError(f"{type(self).__name__}: jac must be callable or None, "
                            f"got {type(jac).__name__}")
        self.fn = fn
        self.jac = jac if jac is not None else _tape_jacobian(fn, type(self).__name__)
        self.size = None

    def __repr__(self):
        return f"{type(self).__name__}({getattr(self.fn, '__name__', self.fn)!r})"

    def values(self, x):
        """Return fn(x) as a flat float vector (length 1 for a scalar constraint)."""
        out = np.asarray(self.fn(x))
        name = type(self).__name__
        if np.iscomplexobj(out) or out.dtype.kind not in "biuf":
            raise TypeError(f"{name}: fn must return real numbers, got dtype {out.dtype}")
        if out.ndim > 1:
            raise ValueError(f"{name}: fn must return a scalar or a 1-D array, got shape {out.shape}")
        if out.size == 0:
            raise ValueError(f"{name}: fn returned an empty array")
        if self.size is None:
            self.size = out.size
            self.scalar = out.ndim == 0
        elif out.size != self.size:
            raise ValueError(f"{name}: fn returned {out.size} values, but {self.size} before")
        return out.astype(np.float64).ravel()

    def jacobian(self, x):
        """Return the (m, x.size) Jacobian of fn at x, dense or scipy.sparse."""
        out = self.jac(x)
        name = type(self).__name__
        m = self.size if self.size is not None else self.values(x).size
        if sp.issparse(out):
            if out.shape != (m, x.size):
                raise ValueError(f"{name}: jac returned shape {out.shape}, expected ({m}, {x.size})")
            return sp.csr_matrix(out, dtype=np.float64)
        out = np.asarray(out)
        if np.iscomplexobj(out) or out.dtype.kind not in "biuf":
            raise TypeError(f"{name}: jac must return a real array, got dtype {out.dtype}")
        if out.size != m * x.size:
            raise ValueError(f"{name}: jac returned shape {out.shape}, expected ({m}, {x.size})"
                             + (f" or the shape of x {x.shape}" if m == 1 else ""))
        return out.astype(np.float64).reshape(m, x.size)


class Equality(_Constraint):
    """Equality constraint fn(x) = 0.

    ``fn(x)`` gets x in the caller's shape and returns a scalar or a 1-D array.
    ``jac(x)`` returns its Jacobian: an (m, x.size) dense or sparse matrix, or the
    gradient shaped like x for a scalar fn. Without ``jac`` the Jacobian comes from
    ``dualtape.jacobian``. ``fn`` may also be a `dualtape.Residuals`: each of its
    residuals is one constraint, with its sparse Jacobian from the tape.
    """

    kind = "eq"


class Inequality(_Constraint):
    """Inequality constraint fn(x) ≤ 0 (write x₀ ≥ 1 as ``1 - x[0]``); see `Equality`."""

    kind = "ineq"


def _is_residuals(value):
    """Return whether value is a dt.Residuals (per-element residual functions)."""
    return hasattr(value, "residuals") and hasattr(value, "jacobian") and not callable(value)


def _tape_jacobian(fn, name):
    import dualtape

    jacobian = getattr(dualtape, "jacobian", None)
    if jacobian is None:
        def missing(x):
            raise ValueError(f"{name}: jac=None needs dualtape.jacobian, which this build lacks; "
                             f"pass jac=callable returning the Jacobian of fn")
        return missing
    return jacobian(fn)


class _ConstraintSet:
    """All constraints of a run, with h and c stacked in the order given."""

    def __init__(self, constraints):
        if isinstance(constraints, _Constraint):
            constraints = [constraints]
        constraints = list(constraints)
        for item in constraints:
            if not isinstance(item, _Constraint):
                raise TypeError(f"constraints must be Equality or Inequality objects, got "
                                f"{type(item).__name__}")
        self.equalities = [c for c in constraints if c.kind == "eq"]
        self.inequalities = [c for c in constraints if c.kind == "ineq"]
        self.constraints = constraints

    def values(self, x):
        h = [c.values(x) for c in self.equalities]
        c = [c.values(x) for c in self.inequalities]
        return (np.concatenate(h) if h else np.zeros(0), np.concatenate(c) if c else np.zeros(0))

    def vjp(self, x, w_eq, w_ineq):
        """Return J_hᵀ w_eq + J_cᵀ w_ineq as a flat vector of the size of x."""
        total = np.zeros(x.size)
        for group, weights in ((self.equalities, w_eq), (self.inequalities, w_ineq)):
            offset = 0
            for constraint in group:
                part = weights[offset:offset + constraint.size]
                offset += constraint.size
                if np.any(part != 0):
                    total += np.asarray(constraint.jacobian(x).T @ part).ravel()
        return total

    def split(self, lam, mu):
        """Return one multiplier array per constraint, in the order given (scalars as floats)."""
        out = []
        offsets = {"eq": 0, "ineq": 0}
        for constraint in self.constraints:
            values = lam if constraint.kind == "eq" else mu
            start = offsets[constraint.kind]
            part = values[start:start + constraint.size].copy()
            offsets[constraint.kind] += constraint.size
            out.append(float(part[0]) if constraint.scalar else part)
        return out


def _violation(h, c):
    return max(norm_inf(h), norm_inf(np.maximum(c, 0.0)))


class _PenalizedProblem:
    """The inner problem of one outer iteration, in the variables z of ``problem``."""

    def __init__(self, problem, constraint_set, kind):
        self.base = problem
        self.cset = constraint_set
        self.kind = kind
        self.shape = problem.shape
        self.n = problem.n
        self.n_elements = None
        self.has_hessian = problem.has_hessian
        self.start = problem.x0
        self.lam = self.mu = None
        self.rho = 1.0

    nfev = property(lambda self: self.base.nfev)
    njev = property(lambda self: self.base.njev)
    nhev = property(lambda self: self.base.nhev)

    @property
    def x0(self):
        return self.start.copy()

    def to_full(self, z):
        return self.base.to_full(z)

    def pullback(self, z, full_gradient):
        return self.base.pullback(z, full_gradient)

    def result_gradient(self, z, gradient):
        return self.base.result_gradient(z, gradient)

    def _terms(self, z):
        """Return (penalty value, weights on h, weights on c) at z."""
        x = self.base.to_full(z)
        h, c = self.cset.values(x)
        rho = self.rho
        if self.kind == "augmented-lagrangian":
            shifted = np.maximum(0.0, self.mu + rho * c)
            value = (self.lam @ h + 0.5 * rho * (h @ h)
                     + (shifted @ shifted - self.mu @ self.mu) / (2.0 * rho))
            return x, value, self.lam + rho * h, shifted
        positive = np.maximum(c, 0.0)
        return x, 0.5 * rho * (h @ h + positive @ positive), rho * h, rho * positive

    def value(self, z):
        f = self.base.value(z)
        return f + self._terms(z)[1]

    def value_and_gradient(self, z):
        f, g = self.base.value_and_gradient(z)
        x, value, w_eq, w_ineq = self._terms(z)
        return f + value, g + self.base.pullback(z, self.cset.vjp(x, w_eq, w_ineq))

    def hessian(self, z):
        """Return ∇²f + ρ (J_hᵀJ_h + J_aᵀJ_a) + Σ wᵢ∇²cᵢ, the Hessian of the inner problem.

        J_a contains the rows of the active inequalities (positive weight). The
        curvature terms (λ + ρh)ᵀ∇²h come from the tape for constraints written as
        Python functions; for a dt.Residuals constraint they are dropped, so there
        the model is exact for linear constraints only.
        """
        if not self.base.has_hessian:
            raise ValueError("the inner problem has no Hessian because the objective has none; "
                             "pass hess= or use inner_method='lbfgs'")
        H = self.base.hessian(z)
        x, _, _, w_ineq = self._terms(z)
        free = getattr(self.base, "_free", None)
        rows = []
        for constraint in self.cset.equalities:
            rows.append(sp.csr_matrix(constraint.jacobian(x)))
        offset = 0
        for constraint in self.cset.inequalities:
            active = w_ineq[offset:offset + constraint.size] > 0
            offset += constraint.size
            if np.any(active):
                rows.append(sp.csr_matrix(constraint.jacobian(x))[np.flatnonzero(active)])
        if not rows:
            return H
        J = sp.vstack(rows).tocsc()
        if free is not None:
            J = J[:, free]
        model = (self.rho * (J.T @ J)).toarray() + (H.toarray() if sp.issparse(H) else np.asarray(H))
        return model + self._curvature(x, free)

    def _curvature(self, x, free):
        """Return Σ wᵢ ∇²cᵢ over the constraints given as Python functions, on z."""
        from .. import autodiff

        _, _, w_eq, w_ineq = self._terms(self.base.to_free(x))
        total = np.zeros((x.size, x.size))
        for group, weights in ((self.cset.equalities, w_eq), (self.cset.inequalities, w_ineq)):
            offset = 0
            for constraint in group:
                part = weights[offset:offset + constraint.size]
                offset += constraint.size
                if constraint.residuals is not None or not np.any(part != 0):
                    continue
                weighted = autodiff.hessian(lambda y, c=constraint, w=part: np.dot(w, np.ravel(c.fn(y))))
                total += np.asarray(weighted(x)).reshape(x.size, x.size)
        if free is not None:
            total = total[np.ix_(free, free)]
        return total


_DEFAULTS = {"maxiter": 50, "gtol": 1e-6, "ctol": None, "rho": 10.0, "rho_factor": 10.0,
             "rho_max": 1e10, "decrease": 0.25, "inner_method": "lbfgs", "inner_options": None}


def augmented_lagrangian(problem, constraints, options=None, callback=None, verbose=0):
    """Minimize subject to ``constraints`` by the augmented Lagrangian method.

    Options: ``maxiter`` 50 outer iterations; ``gtol`` 1e-6 on the Lagrangian
    gradient. ``gtol`` is also the inner solver's gtol, and the inner xtol and
    ftol are 0, unless ``inner_options`` sets them;
    ``ctol`` 1e-8 on the violation; ``rho`` 10 (initial penalty), ``rho_factor`` 10,
    ``rho_max`` 1e10, ``decrease`` 0.25; ``inner_method`` "lbfgs" (any method of
    `dualtape.optimize.run`; "newton" uses the Gauss-Newton model of
    `_PenalizedProblem.hessian`) with ``inner_options``.

    ``result.extra`` holds ``multipliers`` (one per constraint, in order: a float
    for a scalar constraint, else an array), ``constraint_violation``, ``rho`` and
    ``inner_nit`` (inner iterations in total); ``nit`` counts outer iterations.
    """
    return _outer_loop("augmented-lagrangian", problem, constraints, options, callback, verbose)


def penalty(problem, constraints, options=None, callback=None, verbose=0):
    """Minimize subject to ``constraints`` by the quadratic penalty method.

    Options and result as in `augmented_lagrangian`; ``ctol`` defaults to 1e-6
    because the violation falls only like 1/ρ. ``decrease`` is not used.
    """
    return _outer_loop("penalty", problem, constraints, options, callback, verbose)


def _outer_loop(method, problem, constraints, options, callback, verbose):
    from . import UNCONSTRAINED_METHODS

    options = check_options(method, options, _DEFAULTS)
    cset = _ConstraintSet(constraints)
    if not cset.constraints:
        raise ValueError("constraints must contain at least one Equality or Inequality")
    maxiter = options["maxiter"]
    gtol = options["gtol"]
    default_ctol = 1e-8 if method == "augmented-lagrangian" else 1e-6
    ctol = check_float("ctol", options["ctol"] if options["ctol"] is not None else default_ctol,
                       low=0.0, low_open=True)
    rho = check_float("rho", options["rho"], low=0.0, low_open=True)
    rho_factor = check_float("rho_factor", options["rho_factor"], low=1.0, low_open=True)
    rho_max = check_float("rho_max", options["rho_max"], low=rho)
    decrease = check_float("decrease", options["decrease"], low=0.0, high=1.0, low_open=True)
    inner_name = options["inner_method"]
    if inner_name not in UNCONSTRAINED_METHODS:
        raise ValueError(f"option inner_method must be one of {list(UNCONSTRAINED_METHODS)}, "
                         f"got {inner_name!r}")
    if not isinstance(options["inner_options"] or {}, dict):
        raise TypeError(f"option inner_options must be a dict, got "
                        f"{type(options['inner_options']).__name__}")
    inner_options = dict(options["inner_options"] or {})
    # The outer test needs the inner gradient below gtol, so the inner run must not
    # stop earlier on a small step or function change.
    inner_options.setdefault("gtol", gtol)
    inner_options.setdefault("xtol", 0.0)
    inner_options.setdefault("ftol", 0.0)
    inner_solver = UNCONSTRAINED_METHODS[inner_name]

    inner = _PenalizedProblem(problem, cset, method)
    z = problem.x0
    h, c = cset.values(problem.to_full(z))
    inner.lam = np.zeros(h.size)
    inner.mu = np.zeros(c.size)
    inner.rho = rho

    columns = [("grad_L", "11.3e"), ("violation", "11.3e"), ("rho", "10.3e"),
               ("inner_nit", "9d")]
    recorder = Recorder(method, problem, callback, verbose, columns)
    f, g = problem.value_and_gradient(z)
    if not is_finite(f, g):
        message = f"{Status.NAMES[Status.NON_FINITE]} at the start point: f = {f}"
        return recorder.result(z, f, g, Status.NON_FINITE, message, nit=0)
    violation = _violation(h, c)
    recorder.iteration(0, z, f, g, math.nan, violation=violation, rho=rho, inner_nit=0)

    trend = []  # (ρ increased, violation halved) of each outer iteration
    inner_nit = 0
    status, message = Status.MAX_ITERATIONS, None
    lagrangian_norm = math.nan
    k = 0
    for k in range(1, maxiter + 1):
        inner.start = z
        inner_result = inner_solver(inner, inner_options, None, 0)
        inner_nit += inner_result.nit
        z_new = inner_result._z
        if inner_result.status == Status.NON_FINITE:
            message = (f"{Status.NAMES[Status.NON_FINITE]} in the inner {inner_name} run of outer "
                       f"iteration {k}: {inner_result.message}")
            status = Status.NON_FINITE
            break

        h, c = cset.values(problem.to_full(z_new))
        previous_violation, violation = violation, _violation(h, c)
        lagrangian_norm = norm_inf(inner.value_and_gradient(z_new)[1])
        if method == "augmented-lagrangian":
            inner.lam = inner.lam + inner.rho * h
            inner.mu = np.maximum(0.0, inner.mu + inner.rho * c)
        else:
            inner.lam = inner.rho * h
            inner.mu = inner.rho * np.maximum(c, 0.0)

        f, g = problem.value_and_gradient(z_new)
        step = norm_inf(z_new - z)
        z = z_new
        stop = recorder.iteration(k, z, f, g, step, grad_L=lagrangian_norm, violation=violation,
                                  rho=inner.rho, inner_nit=inner_result.nit)

        if violation <= ctol and lagrangian_norm <= gtol:
            status = Status.CONVERGED_CONSTRAINTS
            message = (f"{Status.NAMES[status]}: violation = {violation:.3e} <= ctol = {ctol:.3e} "
                       f"and max |∇L_i| = {lagrangian_norm:.3e} <= gtol = {gtol:.3e}")
            break

        grow = violation > ctol and (method == "penalty" or violation > decrease * previous_violation)
        increased = grow and inner.rho < rho_max
        trend.append((increased, violation <= 0.5 * previous_violation))
        # Without a feasible point the multipliers grow like ρ·v in every update. When
        # they barely change, the violation left is noise of the inner solves instead.
        multipliers_moving = (method == "penalty"
                              or inner.rho * violation >= 0.5 * max(norm_inf(inner.lam),
                                                                    norm_inf(inner.mu)))
        if (violation > ctol and multipliers_moving and len(trend) >= 3
                and all(up and not halved for up, halved in trend[-3:])):
            status = Status.INFEASIBLE
            message = (f"{Status.NAMES[status]}: the violation {violation:.3e} > ctol = {ctol:.3e} "
                       f"did not halve in the last 3 outer iterations while rho grew to "
                       f"{inner.rho:.3e}, which indicates that no point near x satisfies "
                       "the constraints")
            break
        if grow and inner.rho >= rho_max and violation > ctol and violation > 0.5 * previous_violation:
            status = Status.MAX_ITERATIONS
            message = (f"{Status.NAMES[status]}: rho reached rho_max = {rho_max:.3e} and the "
                       f"violation {violation:.3e} > ctol = {ctol:.3e} stopped decreasing; "
                       "raise rho_max or loosen ctol")
            break
        if increased:
            inner.rho = min(inner.rho * rho_factor, rho_max)
        if stop:
            status, message = Status.CALLBACK_STOP, callback_stop_message(k)
            break

    if message is None:
        message = (f"{Status.NAMES[Status.MAX_ITERATIONS]}: maxiter = {maxiter} outer iterations, "
                   f"violation = {violation:.3e}, ctol = {ctol:.3e}")
    return recorder.result(z, f, g, status, message, nit=k,
                           multipliers=cset.split(inner.lam, inner.mu),
                           constraint_violation=violation, rho=inner.rho, inner_nit=inner_nit,
                           lagrangian_grad_norm=lagrangian_norm)
