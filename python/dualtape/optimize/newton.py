"""Newton's method with a modified Hessian for problems that provide ``hessian(z)``.

Each iteration solves  H̃ d = −g  and takes x ← x + t d with t from Armijo
backtracking starting at t = 1, where H̃ is a positive definite modification of H:

- projection "abs":   H̃ = V |Λ| Vᵀ,            eigenvalues floored at ``eps``
- projection "clamp": H̃ = V max(Λ, eps) Vᵀ
- projection "shift": H̃ = H + τ I with the first τ in 0, β, 10β, 100β, ... whose
  factorization has positive pivots, β = 1e-3 · max(1, max |H_ii|); τ starts at
  β − min H_ii when a diagonal entry is not positive.

"abs" and "clamp" need a dense eigendecomposition, and "abs" is the default for
dense Hessians. "shift" is the default for sparse Hessians. It factors them with
SuperLU in symmetric mode, whose diagonal pivots give the inertia.

Stopping: besides the common tests, the Newton decrement ½ gᵀH̃⁻¹g ≤ ``dtol``
(off by default). When the gradient (or decrement) test holds but H has an
eigenvalue below −``curvature_tol`` · max(1, ‖H‖), the point is a saddle or a
maximum. The solver then steps along the eigenvector of the most negative
eigenvalue with the second-order Armijo test, and reports
``Status.NOT_A_MINIMUM`` only when no decrease is found along it.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..result import Status
from . import line_search as ls
from ._driver import (COMMON_DEFAULTS, Recorder, StoppingTests, callback_stop_message,
                      check_float, check_int, check_options, is_finite,
                      max_iterations_message, non_finite_message, norm_inf)

__all__ = ["newton", "modified_newton_direction"]

_DEFAULTS = {**COMMON_DEFAULTS, "maxiter": 200, "projection": None, "eps": 1e-9, "c1": 1e-4,
             "max_line_search": 60, "dtol": 0.0, "check_curvature": True,
             "curvature_tol": 1e-8}

_DENSE_EIGEN_LIMIT = 5000


def _symmetric_dense(H):
    H = H.toarray() if sp.issparse(H) else np.asarray(H)
    return 0.5 * (H + H.T)


def _eigen_direction(H, g, projection, eps):
    """Return (d, min eigenvalue of H, shift 0) with H̃ from the projected eigenvalues."""
    w, V = la.eigh(_symmetric_dense(H))
    w_projected = np.maximum(np.abs(w), eps) if projection == "abs" else np.maximum(w, eps)
    d = -V @ ((V.T @ g) / w_projected)
    return d, float(w[0]), 0.0


def _positive_factor(H):
    """Factor a symmetric H; return a solve function, or None when H is not positive definite."""
    if sp.issparse(H):
        try:
            lu = spla.splu(sp.csc_matrix(H), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                           options={"SymmetricMode": True, "Equil": False})
        except RuntimeError:
            return None
        # With diagonal pivoting in symmetric mode, U = D Lᵀ for the permuted
        # matrix, so the signs of diag(U) are the signs of the eigenvalues (Sylvester).
        pivots = lu.U.diagonal()
        if not np.all(np.isfinite(pivots)) or np.any(pivots <= 0):
            return None
        return lu.solve
    try:
        factor = la.cho_factor(H)
    except la.LinAlgError:
        return None
    return lambda rhs: la.cho_solve(factor, rhs)


def _shift_direction(H, g, max_shifts=60):
    """Return (d, nan, τ) with the smallest tried τ ≥ 0 that makes H + τI positive definite."""
    n = H.shape[0]
    diagonal = H.diagonal() if sp.issparse(H) else np.diag(H)
    beta = 1e-3 * max(1.0, float(np.max(np.abs(diagonal))))
    tau = 0.0 if np.min(diagonal) > 0 else beta - float(np.min(diagonal))
    identity = sp.identity(n, format="csc") if sp.issparse(H) else np.eye(n)
    for _ in range(max_shifts):
        solve = _positive_factor(H + tau * identity if tau > 0 else H)
        if solve is not None:
            return -solve(g), math.nan, tau
        tau = max(10.0 * tau, beta)
    raise np.linalg.LinAlgError(f"H + tau*I is not positive definite for tau up to {tau:.3e}")


def modified_newton_direction(H, g, projection, eps=1e-9):
    """Return (d, min eigenvalue or nan, shift τ) for the Newton system H̃ d = −g."""
    if projection == "shift":
        if not sp.issparse(H):
            H = _symmetric_dense(H)
        return _shift_direction(H, g)
    if sp.issparse(H) and H.shape[0] > _DENSE_EIGEN_LIMIT:
        raise ValueError(f"projection={projection!r} needs a dense eigendecomposition, which is "
                         f"too large for n = {H.shape[0]} > {_DENSE_EIGEN_LIMIT}; "
                         "use projection='shift'")
    return _eigen_direction(H, g, projection, eps)


def _smallest_eigenpair(H):
    """Return (λ_min, unit eigenvector) of the symmetric H."""
    n = H.shape[0]
    if not sp.issparse(H) or n <= 200:
        w, V = la.eigh(_symmetric_dense(H))
        return float(w[0]), V[:, 0]
    w, V = spla.eigsh(sp.csr_matrix(H), k=1, which="SA")
    return float(w[0]), V[:, 0]


def _matrix_norm(H):
    if sp.issparse(H):
        return float(abs(H).max()) if H.nnz else 0.0
    return float(np.max(np.abs(H)))


def newton(problem, options=None, callback=None, verbose=0):
    """Minimize with Newton's method on a modified Hessian (see the module docstring).

    Options: ``projection`` None (auto), "abs", "clamp" or "shift"; ``eps`` 1e-9;
    ``c1`` 1e-4 and ``max_line_search`` 60 for the backtracking; ``dtol`` 0;
    ``check_curvature`` True and ``curvature_tol`` 1e-8; ``maxiter`` 200, ``gtol``,
    ``xtol``, ``ftol``.
    """
    if not problem.has_hessian:
        raise ValueError("method 'newton' needs the Hessian: pass hess= to "
                         "Problem.from_function (or use 'lbfgs', which needs gradients only)")
    options = check_options("newton", options, _DEFAULTS)
    projection = options["projection"]
    if projection not in (None, "abs", "clamp", "shift"):
        raise ValueError(f"option projection must be None, 'abs', 'clamp' or 'shift', "
                         f"got {projection!r}")
    eps = check_float("eps", options["eps"], low=0.0, low_open=True)
    c1 = check_float("c1", options["c1"], low=0.0, high=1.0, low_open=True, high_open=True)
    max_trials = check_int("max_line_search", options["max_line_search"], low=1)
    dtol = check_float("dtol", options["dtol"], low=0.0)
    curvature_tol = check_float("curvature_tol", options["curvature_tol"], low=0.0)
    maxiter = options["maxiter"]
    tests = StoppingTests(options["gtol"], options["xtol"], options["ftol"])

    columns = [("alpha", "10.3e"), ("decrement", "11.3e"), ("min_eig", "11.3e"), ("shift", "10.3e")]
    recorder = Recorder("newton", problem, callback, verbose, columns)

    z = problem.x0
    f, g = problem.value_and_gradient(z)
    if not is_finite(f, g):
        return recorder.result(z, f, g, Status.NON_FINITE,
                               non_finite_message("at the start point", f, g), nit=0)
    if recorder.iteration(0, z, f, g, math.nan):
        return recorder.result(z, f, g, Status.CALLBACK_STOP, callback_stop_message(0), nit=0)

    k = 0
    while True:
        H = problem.hessian(z)
        values = H.data if sp.issparse(H) else H
        if not np.all(np.isfinite(values)):
            message = f"{Status.NAMES[Status.NON_FINITE]} in the Hessian at iteration {k}"
            return recorder.result(z, f, g, Status.NON_FINITE, message, nit=k)
        mode = projection or ("shift" if sp.issparse(H) else "abs")

        met = tests.gradient(norm_inf(g))
        d = curvature = None
        decrement = math.nan
        if met is None:
            if k >= maxiter:
                return recorder.result(z, f, g, Status.MAX_ITERATIONS,
                                       max_iterations_message(f"maxiter = {maxiter}", norm_inf(g), tests.gtol),
                                       nit=k)
            try:
                d, min_eig, shift = modified_newton_direction(H, g, mode, eps)
            except np.linalg.LinAlgError as error:
                message = f"{Status.NAMES[Status.LINEAR_SOLVE_FAILED]} at iteration {k}: {error}"
                return recorder.result(z, f, g, Status.LINEAR_SOLVE_FAILED, message, nit=k)
            decrement = 0.5 * float(-(g @ d))
            if dtol > 0 and decrement <= dtol:
                met = (Status.CONVERGED_DECREMENT,
                       f"{Status.NAMES[Status.CONVERGED_DECREMENT]}: ½ gᵀH̃⁻¹g = {decrement:.3e} "
                       f"<= dtol = {dtol:.3e}")

        if met is not None:
            if not options["check_curvature"]:
                return recorder.result(z, f, g, *met, nit=k)
            min_eig, v = _smallest_eigenpair(H)
            threshold = -curvature_tol * max(1.0, _matrix_norm(H))
            if min_eig >= threshold:
                return recorder.result(z, f, g, *met, nit=k, min_eig=min_eig)
            if k >= maxiter:
                message = (f"{Status.NAMES[Status.NOT_A_MINIMUM]}: {met[1]}, but the Hessian has "
                           f"eigenvalue {min_eig:.3e} < {threshold:.3e} and maxiter = {maxiter} "
                           "leaves no iteration to leave the saddle")
                return recorder.result(z, f, g, Status.NOT_A_MINIMUM, message, nit=k, min_eig=min_eig)
            d = v if g @ v <= 0 else -v
            curvature = min_eig
            shift = math.nan

        if curvature is None:
            search = ls.armijo(problem, z, f, g, d, t0=1.0, c1=c1, max_trials=max_trials)
        else:
            search = ls.armijo(problem, z, f, g, d, t0=1.0, c1=c1, max_trials=max_trials,
                               curvature=curvature)
        if not search.success:
            if curvature is not None:
                message = (f"{Status.NAMES[Status.NOT_A_MINIMUM]}: {met[1]}, but the Hessian has "
                           f"eigenvalue {curvature:.3e} < 0 and no step along its eigenvector "
                           f"decreased f ({search.message})")
                return recorder.result(z, f, g, Status.NOT_A_MINIMUM, message, nit=k,
                                       min_eig=curvature)
            status = Status.NON_FINITE if search.all_non_finite else Status.LINE_SEARCH_FAILED
            message = f"{Status.NAMES[status]} at iteration {k + 1}: {search.message}"
            return recorder.result(z, f, g, status, message, nit=k)

        z_new, f_new, g_new = search.z, search.f, search.g
        dz = z_new - z
        k += 1
        stop = recorder.iteration(k, z_new, f_new, g_new, norm_inf(dz), alpha=search.step,
                                  decrement=decrement, min_eig=min_eig, shift=shift)
        met = tests.step(norm_inf(dz), norm_inf(z_new)) or tests.function(f, f_new)
        z, f, g = z_new, f_new, g_new
        if met:
            return recorder.result(z, f, g, *met, nit=k)
        if stop:
            return recorder.result(z, f, g, Status.CALLBACK_STOP, callback_stop_message(k), nit=k)
