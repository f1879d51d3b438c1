"""`least_squares`: Levenberg-Marquardt and Gauss-Newton on `Residuals`, looping in C++."""

from __future__ import annotations

import numbers
import time

import numpy as np
import scipy.sparse as sp

from . import _core
from .elements import _as_fixed
from .residuals import Residuals
from .result import OptimizeResult, ProgressPrinter, StopRequest

__all__ = ["least_squares"]

METHODS = ("lm", "gauss-newton")
DAMPING_UPDATES = ("trust-region", "nielsen")
LOSSES = ("linear", "huber", "soft_l1", "cauchy")

_COLUMNS = [
    ("iter", "5d"), ("cost", "16.9e"), ("|g|inf", "10.3e"), ("|step|", "10.3e"),
    ("damping", "9.2e"), ("gain", "9.2e"), ("ok", "3s"), ("time", "8.3f"),
]


def _check_tolerance(name: str, value) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def _check_positive(name: str, value) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


def _check_options(method, loss, f_scale, maxiter, damping, initial_damping, initial_step_bound,
                   geodesic_acceleration, verbose, callback):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    if damping not in DAMPING_UPDATES:
        raise ValueError(f"damping must be one of {DAMPING_UPDATES}; got {damping!r}")
    if not isinstance(geodesic_acceleration, (bool, np.bool_)):
        raise TypeError(f"geodesic_acceleration must be True or False; got {geodesic_acceleration!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")
    _check_positive("f_scale", f_scale)
    if maxiter is not None and (not isinstance(maxiter, (int, np.integer)) or isinstance(maxiter, bool)
                                or maxiter < 0):
        raise ValueError(f"maxiter must be None or an integer >= 0; got {maxiter!r}")
    _check_positive("initial_damping", initial_damping)
    _check_positive("initial_step_bound", initial_step_bound)
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2; got {verbose!r}")
    if geodesic_acceleration and method != "lm":
        raise ValueError(f"geodesic_acceleration=True needs method='lm'; got method={method!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None; got {type(callback).__name__}")


def least_squares(resid, x0, method: str = "lm", *, fixed=None, loss: str = "linear", f_scale: float = 1.0,
                  xtol: float = 1e-8, ftol: float = 1e-8, gtol: float = 1e-8, maxiter=None,
                  damping: str = "trust-region", initial_damping: float = 1e-3, initial_step_bound: float = 100.0,
                  geodesic_acceleration: bool = False, callback=None, verbose: int = 0) -> OptimizeResult:
    """Minimize the cost F(x) = ½ Σ_k C² ρ(r_k(x)² / C²) of a `Residuals` object.

    With the default linear loss ρ(s) = s this is F(x) = ½‖r(x)‖². Each iteration
    solves the normal equations, in C++ with a sparse Cholesky factorization whose
    symbolic analysis is computed once:

    - "lm" (Levenberg-Marquardt): (JᵀWJ + μD) δ = −JᵀWr. D is diag(JᵀWJ), each
      entry kept at the largest value it has taken (MINPACK's scaling) and 1 for a
      variable whose Jacobian column has always been zero. ``damping`` chooses μ
      from the gain ratio ϱ (actual over predicted decrease of F). A
      rank-deficient Jacobian is handled by the damping.
    - "gauss-newton": JᵀWJ δ = −JᵀWr with step halving until the Armijo condition
      holds. A singular JᵀWJ gets a small Levenberg shift (1e-12 on the scaled
      system, raised tenfold until the factorization succeeds); the result's
      ``shifted_solves`` counts those iterations.

    W = diag(ρ'(r_k² / C²)) contains the weights of iteratively reweighted residuals
    (all ones for the linear loss), so JᵀWr is the exact gradient of F.

    Parameters
    ----------
    resid : Residuals
        The residual elements. With ``Residuals(precision="double-double")``
        every residual vector of the run is computed in double-double
        arithmetic, and so are the cost, the gain ratio and the stopping tests.
        The Jacobian and the linear algebra stay in double.
    x0 : array_like
        Start point, (n_vars, dim) or flat; ``x`` and ``grad`` keep its shape.
    method : {"lm", "gauss-newton"}
    fixed : int array or bool array, optional
        Variable blocks (rows of x) or a boolean mask shaped like x, held at x0.
        Their Jacobian columns are dropped from the normal equations.
    loss : {"linear", "huber", "soft_l1", "cauchy"}
        ρ(s): s; s if s ≤ 1 else 2√s − 1; 2(√(1 + s) − 1); log(1 + s).
    f_scale : float
        C, the residual size at which a robust loss starts to down-weight.
    xtol, ftol, gtol : float
        Stopping tests: step ‖δ‖₂ ≤ xtol (‖x‖₂ + xtol); on an accepted step, the
        actual and predicted decrease of F both ≤ ftol·F; ‖JᵀWr‖∞ ≤ gtol. Norms
        run over the free variables. "lm" also stops, with the ftol status, when a
        rejected step predicts a decrease ≤ 10 ε F (ε the machine epsilon): such a
        change of F is lost in its rounding error, so no smaller step can be judged.
    maxiter : int or None
        Maximum number of iterations (each computes one step). None means
        100·(n + 1) with n the number of free variables, MINPACK lmder's default
        limit on function evaluations. LM evaluates r at each trial point, and r
        with J again at each accepted one.
    damping : {"trust-region", "nielsen"}
        How "lm" updates μ. "trust-region" (after MINPACK's lmder): a bound Δ on
        the scaled step length ‖D^½ δ‖₂ grows after good steps (ϱ ≥ 3/4) and
        shrinks after poor ones (ϱ ≤ 1/4), and μ is found by a few Newton steps
        on ‖D^½ δ(μ)‖₂ = Δ (each one sparse factorization); μ = 0 when the
        Gauss-Newton step is shorter than 1.1 Δ. A step with ϱ ≥ 1e-4 is
        accepted. Every solve, the Gauss-Newton one included, multiplies the
        diagonal of JᵀWJ by 1 + 1e-15, so that a null direction of J (a gauge
        freedom, as in bundle adjustment) gets no step made of rounding noise.
        "nielsen": a step with ϱ > 0 is accepted and μ ← μ·max(1/3, 1 − (2ϱ − 1)³);
        a rejected step doubles the growth factor of μ.
    initial_damping : float
        "nielsen": μ at the first iteration, relative to the scaled JᵀWJ whose
        diagonal is at most 1. "trust-region" does not use it, because that
        update computes μ from Δ. Its first μ is 0 (the Gauss-Newton step) when
        that step fits in the first Δ. The ``damping`` column of ``verbose=1``
        shows the μ of each step.
    initial_step_bound : float
        "trust-region": Δ at the first iteration is initial_step_bound · ‖D^½ x0‖₂,
        or initial_step_bound if that is 0. 100 is MINPACK's default ``factor``.
    geodesic_acceleration : bool
        "lm": add the second-order correction ½a to each step, with
        (JᵀWJ + μD) a = −JᵀW r_δδ and r_δδ the second directional derivative of
        r along δ, estimated as (J(x + 0.02 δ) − J(x)) δ / 0.02 at the cost of one
        more Jacobian evaluation per iteration (Transtrum and Sethna, 2012). A
        step whose acceleration is large, 2‖D^½ a‖₂ > 0.75 ‖D^½ δ‖₂, is rejected
        as a step outside the region where the model of r holds. This keeps LM
        off plateaus where the first step would otherwise land, such as the NIST
        problem BoxBOD from its first start.
    callback : callable, optional
        ``callback(state)`` after each iteration, with keys "nit", "x", "cost",
        "grad_norm", "step_norm", "damping", "gain_ratio", "accepted"; returning
        True or raising `StopRequest` stops the run.
    verbose : int
        0 silent; 1 or 2 print one line per iteration and the final message.
        The ``gain`` column is the gain ratio ϱ for "lm" and the step fraction
        α that the line search accepted for "gauss-newton"; so is
        ``gain_ratio`` in the callback state and the history.

    Returns
    -------
    OptimizeResult
        ``x``; ``fun`` the residual vector r(x); ``grad`` JᵀWr shaped like x (0 at
        fixed variables); ``cost`` F(x); ``jac`` J(x) as a CSR matrix, without
        the loss weights (scipy returns a loss-scaled Jacobian); ``nit``,
        ``nfev`` (residual evaluations, each Jacobian evaluation included),
        ``njev`` (Jacobian evaluations), ``status`` (a `dualtape.Status` code:
        1 gradient, 3 step size, 4 function change, 0 iteration limit, negative
        for failures; scipy numbers its tests differently), ``message`` (the
        stopping test with its measured value and threshold), ``history``,
        ``rejected_accelerations`` (steps rejected for a large geodesic
        acceleration) and ``factorizations`` (sparse Cholesky factorizations;
        "trust-region" may need several per iteration).
    """
    if not isinstance(resid, Residuals):
        raise TypeError(f"resid must be a dualtape.Residuals; got {type(resid).__name__}")
    _check_options(method, loss, f_scale, maxiter, damping, initial_damping, initial_step_bound,
                   geodesic_acceleration, verbose, callback)
    tolerances = {name: _check_tolerance(name, value) for name, value in
                  (("xtol", xtol), ("ftol", ftol), ("gtol", gtol))}
    flat, shape = resid._x(x0, "x0")
    fixed_mask = _as_fixed(fixed, resid.n_vars, resid.dim)
    if maxiter is None:
        n_free = int(fixed_mask.size - np.count_nonzero(fixed_mask))
        maxiter = min(100 * (n_free + 1), np.iinfo(np.int32).max)

    printer = ProgressPrinter(_COLUMNS, int(verbose))
    history = {"cost": [], "grad_norm": [], "step_norm": [], "damping": [], "gain_ratio": [],
               "accepted": [], "time": []}
    callback_errors = []

    def on_iteration(info: dict, x_now: np.ndarray) -> int:
        for key in ("cost", "grad_norm", "step_norm", "damping", "gain_ratio", "accepted", "time"):
            history[key].append(info[key])
        printer({"iter": info["iteration"], "cost": info["cost"], "|g|inf": info["grad_norm"],
                 "|step|": info["step_norm"], "damping": info["damping"], "gain": info["gain_ratio"],
                 "ok": "yes" if info["accepted"] else "no", "time": info["time"]})
        if callback is None:
            return 0
        state = {"nit": info["iteration"] + 1, "x": x_now.reshape(shape), "cost": info["cost"],
                 "grad_norm": info["grad_norm"], "step_norm": info["step_norm"], "damping": info["damping"],
                 "gain_ratio": info["gain_ratio"], "accepted": info["accepted"], "method": method}
        try:
            return 1 if callback(state) else 0
        except StopRequest:
            return 1
        except Exception as error:  # re-raised after the C++ loop returns
            callback_errors.append(error)
            return 1

    start = time.perf_counter()
    raw = _core.least_squares(resid._core, flat, fixed_mask, method, int(maxiter), tolerances["gtol"],
                              tolerances["xtol"], tolerances["ftol"], loss, float(f_scale), damping,
                              float(initial_damping), float(initial_step_bound), bool(geodesic_acceleration),
                              on_iteration)
    elapsed = time.perf_counter() - start
    if callback_errors:
        raise callback_errors[0]

    data, indices, indptr = raw["jac"]
    jac = sp.csr_matrix((data, indices, indptr), shape=(resid.n_residuals, resid.n))
    result = OptimizeResult(
        x=raw["x"].reshape(shape), fun=raw["fun"], grad=raw["grad"].reshape(shape), nit=raw["nit"],
        nfev=raw["nfev"], njev=raw["njev"], status=raw["status"], message=raw["message"],
        history=history, time=elapsed,
        extra={"cost": raw["cost"], "jac": jac, "shifted_solves": raw["shifted_solves"],
               "rejected_accelerations": raw["rejected_accelerations"], "factorizations": raw["factorizations"],
               "method": method, "loss": loss})
    printer.finish(result.message)
    return result
