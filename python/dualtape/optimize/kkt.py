"""Equality-constrained quadratic programs by the KKT (saddle-point) system.

    minimize ½ xᵀA x − bᵀx  subject to  C x = d

With L = ½ xᵀA x − bᵀx + λᵀ(C x − d), the optimality conditions are

    [ A  Cᵀ ] [ x ]   [ b ]
    [ C  0  ] [ λ ] = [ d ]

The matrix is nonsingular when C has full row rank and ZᵀA Z is nonsingular, Z a
basis of the null space of C. x is the unique minimizer when ZᵀA Z is also positive
definite, which is the case exactly when the KKT matrix has n positive and m negative
eigenvalues. Otherwise x is a saddle point and the quadratic is unbounded below on
the feasible set.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["solve_kkt", "KKTSingularError"]


class KKTSingularError(np.linalg.LinAlgError):
    """The KKT matrix is singular or too ill-conditioned for a reliable solution."""


def _as_matrix(value, name, shape=None):
    if sp.issparse(value):
        matrix = sp.csr_matrix(value)
    else:
        if isinstance(value, np.ndarray) and value.dtype == object:
            raise TypeError(f"{name} must be a float matrix, got an object array")
        matrix = np.asarray(value)
    if np.iscomplexobj(matrix) or matrix.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real matrix, got dtype {matrix.dtype}")
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got shape {matrix.shape}")
    if shape is not None and matrix.shape != shape:
        raise ValueError(f"{name} has shape {matrix.shape}, expected {shape}")
    values = matrix.data if sp.issparse(matrix) else matrix
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or inf")
    return matrix.astype(np.float64)


def _as_rhs(value, name, size):
    vector = np.asarray(value)
    if np.iscomplexobj(vector) or vector.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real vector, got dtype {vector.dtype}")
    if vector.shape != (size,):
        raise ValueError(f"{name} has shape {vector.shape}, expected ({size},)")
    if not np.all(np.isfinite(vector)):
        raise ValueError(f"{name} contains NaN or inf")
    return vector.astype(np.float64)


def _condition_estimate(K, lu):
    """Estimate the 1-norm condition number ‖K‖₁ ‖K⁻¹‖₁ from the LU factors."""
    size = K.shape[0]
    inverse = spla.LinearOperator((size, size), dtype=np.float64, matvec=lu.solve,
                                  rmatvec=lambda v: lu.solve(v, trans="T"))
    with np.errstate(over="ignore", invalid="ignore"):
        inverse_norm = spla.onenormest(inverse) if size > 1 else abs(lu.solve(np.ones(1))[0])
    return spla.norm(K, 1) * inverse_norm


_INERTIA_LIMIT = 2000


def _inertia(K):
    """Return (positive, negative, zero) eigenvalue counts of the symmetric dense K."""
    _, D, _ = la.ldl(K)
    counts = np.zeros(3, dtype=int)
    i = 0
    size = D.shape[0]
    while i < size:
        if i + 1 < size and D[i + 1, i] != 0:
            w = np.linalg.eigvalsh(D[i:i + 2, i:i + 2])
            i += 2
        else:
            w = D[i:i + 1, i]
            i += 1
        scale = np.finfo(float).eps * max(1.0, float(np.abs(K).max())) * size
        counts += [int(np.sum(w > scale)), int(np.sum(w < -scale)), int(np.sum(abs(w) <= scale))]
    return tuple(counts)


def solve_kkt(A, b, C, d, rtol=1e-8, check_minimum=True):
    """Solve min ½ xᵀA x − bᵀx s.t. C x = d; return (x, λ).

    Parameters
    ----------
    A : (n, n) array or scipy.sparse matrix
        Symmetric matrix of the quadratic form.
    b : (n,) array
    C : (m, n) array or scipy.sparse matrix
        Constraint matrix; m = 0 rows gives the unconstrained A x = b.
    d : (m,) array
    rtol : float
        Largest accepted relative residual ‖K z − r‖ / (‖K‖ ‖z‖ + ‖r‖) of the solution.
    check_minimum : bool
        Check by the inertia of the KKT matrix that x is a minimizer, not a saddle
        point, and raise ValueError otherwise. Only systems of n + m ≤ 2000 are
        checked, because the test factors the matrix densely.

    Returns
    -------
    x : (n,) ndarray
    lam : (m,) ndarray
        Multipliers of L = ½ xᵀA x − bᵀx + λᵀ(C x − d), so A x − b + Cᵀλ = 0.

    Raises
    ------
    ValueError
        Also when ``check_minimum`` finds that A is not positive definite on the
        null space of C.
    KKTSingularError
        When the saddle-point matrix is singular (C without full row rank, or A not
        positive definite on the null space of C) or the solution misses ``rtol``.
    """
    A = _as_matrix(A, "A")
    n = A.shape[0]
    if A.shape != (n, n) or n == 0:
        raise ValueError(f"A must be a non-empty square matrix, got shape {A.shape}")
    asymmetry = abs(A - A.T).max()
    if asymmetry > 1e-10 * max(1.0, abs(A).max()):
        raise ValueError(f"A must be symmetric, but max |A - Aᵀ| = {asymmetry:.3e}")
    b = _as_rhs(b, "b", n)
    C = _as_matrix(np.zeros((0, n)) if C is None else C, "C")
    if C.shape[1] != n:
        raise ValueError(f"C has shape {C.shape}, expected (m, {n}) to match A")
    m = C.shape[0]
    d = _as_rhs(np.zeros(0) if d is None else d, "d", m)
    if m > n:
        raise KKTSingularError(f"C has m = {m} rows but only n = {n} columns, so its rows are "
                               f"linearly dependent and the {n + m}x{n + m} KKT matrix is singular")

    K = sp.bmat([[sp.csr_matrix(A), sp.csr_matrix(C).T], [sp.csr_matrix(C), None]], format="csc")
    rhs = np.concatenate([b, d])
    try:
        lu = spla.splu(K)
        solution = lu.solve(rhs)
    except RuntimeError as error:
        raise KKTSingularError(
            f"the {n + m}x{n + m} KKT matrix is singular ({error}); check that C ({m}x{n}) has "
            f"full row rank {m} and that A is positive definite on the null space of C") from None

    condition = _condition_estimate(K, lu)
    if not condition < 1.0 / (1e3 * np.finfo(float).eps):
        raise KKTSingularError(
            f"the {n + m}x{n + m} KKT matrix is numerically singular (1-norm condition number "
            f"about {condition:.1e}); check that C ({m}x{n}) has full row rank {m} and that A is "
            f"positive definite on the null space of C")

    residual = np.linalg.norm(K @ solution - rhs)
    scale = spla.norm(K, np.inf) * np.linalg.norm(solution) + np.linalg.norm(rhs)
    if not np.all(np.isfinite(solution)) or residual > rtol * max(scale, np.finfo(float).tiny):
        raise KKTSingularError(
            f"the {n + m}x{n + m} KKT matrix is numerically singular (relative residual "
            f"{residual / max(scale, np.finfo(float).tiny):.3e} > rtol = {rtol:.1e}); check that "
            f"C ({m}x{n}) has full row rank {m} and that A is positive definite on the null "
            f"space of C")

    if check_minimum and n + m <= _INERTIA_LIMIT:
        positive, negative, _ = _inertia(K.toarray())
        if positive != n or negative != m:
            raise ValueError(
                f"the quadratic has no minimum on Cx = d: the KKT matrix has {positive} positive "
                f"and {negative} negative eigenvalues, expected n = {n} and m = {m}, so A is not "
                "positive definite on the null space of C (pass check_minimum=False to accept "
                "the saddle point)")
    return solution[:n], solution[n:]
