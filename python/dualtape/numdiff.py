"""Numerical differentiation: finite differences, the complex step, and a gradient checker.

Three methods estimate ∂f/∂xⱼ one variable at a time:

``"forward"``
    (f(x + hⱼeⱼ) − f(x)) / hⱼ, error O(h). Default hⱼ = ε^(1/2)·max(|xⱼ|, 1).
``"central"``
    (f(x + hⱼeⱼ) − f(x − hⱼeⱼ)) / 2hⱼ, error O(h²). Default hⱼ = ε^(1/3)·max(|xⱼ|, 1).
``"complex"``
    Im f(x + i·h·eⱼ) / h. Nothing is subtracted, so nothing cancels, and h can be tiny:
    the default h = 1e-200 gives the derivative to machine precision. f must be
    complex-analytic: built from arithmetic and smooth functions that accept complex
    numbers.

ε is the machine epsilon of x's dtype, so float32 input gets float32-sized steps and
float32 results. The step actually taken is the representable difference
(x + h) − x, which removes the rounding of x + h from the estimate. The complex step
always evaluates f in complex128, so float32 input is differentiated to float64
accuracy there and then rounded to float32.

The complex step detects some functions that are not complex-analytic and raises
`NotComplexAnalyticError` instead of returning a wrong derivative. It detects:

- calls of ``dualtape.abs``, ``minimum``, ``maximum``, ``sign`` and ``where``;
- NumPy's ``abs``, ``sign``, ``maximum``, ``minimum``, rounding and comparisons,
  ``.real`` and ``.imag``, and Python's ``<``, ``==``,
  ``abs()``, ``max()`` and ``min()``, on the array passed to f and on every value
  computed from it by indexing and NumPy ufuncs;
- functions that drop the imaginary part (``float()``, ``math.*``, a cast to a real
  dtype) or return real values.

Each check fires only on values with a nonzero imaginary part, that is, values that
depend on the perturbed variable. A value that f rebuilds with ``np.asarray`` or
``np.array`` loses the array type that carries the checks, so comparisons on it go
unseen. So does ``np.linalg.norm``, which converts its input that way and computes
the modulus √(Σ|zᵢ|²), not an analytic function (``dualtape.norm`` is analytic). The
``dualtape`` functions above are checked in any case.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import _math
from ._math import NotComplexAnalyticError
from .dual import Dual, _forward_gradient

__all__ = [
    "gradient", "jacobian", "hessian", "check_gradient", "GradientCheckResult", "GradientCheckError",
    "NotComplexAnalyticError", "COMPLEX_STEP",
]

COMPLEX_STEP = 1e-200
"""Default step h of the complex-step method."""

_METHODS = ("central", "forward", "complex")

# Exponent p of the default step ε^p·max(|xⱼ|, 1). Each balances truncation against
# rounding: forward O(h) + O(ε/h), central O(h²) + O(ε/h), second differences of
# central gradients O(h²) + O(ε/h²), of forward gradients O(h) + O(ε/h²).
_STEP_POWERS = {"forward": 1 / 2, "central": 1 / 3}
_HESSIAN_STEP_POWERS = {"forward": 1 / 3, "central": 1 / 4, "complex": 1 / 3}

try:
    _ComplexWarning = np.exceptions.ComplexWarning
except AttributeError:  # NumPy < 1.25
    _ComplexWarning = np.ComplexWarning


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------

def _validate_function(f):
    if not callable(f):
        raise TypeError(f"f must be callable; got {type(f).__name__}")


def _validate_x(x):
    """Return x as a new C-ordered float32 or float64 array of 1 or 2 dimensions."""
    if isinstance(x, Dual):
        raise TypeError("x must be an array of floats; got a Dual number")
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"x must be convertible to a float array; got {type(x).__name__}") from error

    kind = array.dtype.kind
    if kind == "c":
        raise TypeError(
            f"x must be real; got dtype {array.dtype}. The complex-step method adds the "
            "imaginary step itself: pass the real point with method='complex'")
    if kind == "b":
        raise TypeError("x must be an array of floats; got dtype bool")
    if kind not in "iuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"x must be convertible to a float array; got dtype {array.dtype}") from error

    dtype = np.float32 if array.dtype == np.float32 else np.float64
    array = np.array(array, dtype=dtype, order="C")

    if array.ndim not in (1, 2):
        raise ValueError(
            f"x must be a 1-D vector or a 2-D array (n, dim); got shape {array.shape}. "
            "For a function of one real variable use dualtape.derivative")
    if array.size == 0:
        raise ValueError(f"x must not be empty; got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        index = _entry_label(bad[0], array.shape)
        raise ValueError(f"x must be finite; got x{index} = {array.ravel()[bad[0]]}")
    return array


def _validate_method(method, allowed=_METHODS):
    if method not in allowed:
        raise ValueError(f"method must be one of {', '.join(map(repr, allowed))}; got {method!r}")
    return method


def _validate_step(step, x, argument="step"):
    """Return the user's step as a positive finite float64 array shaped like x, or None."""
    if step is None:
        return None
    if isinstance(step, (bool, np.bool_)):
        raise TypeError(f"{argument} must be a positive float; got a bool")
    if isinstance(step, numbers.Complex) and not isinstance(step, numbers.Real):
        raise TypeError(f"{argument} must be a positive float; got the complex number {step!r}")
    array = np.asarray(step)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{argument} must be a positive float or float array; got dtype {array.dtype}")
    if array.ndim != 0 and array.shape != x.shape:
        raise ValueError(
            f"{argument} must be a scalar or an array shaped like x {x.shape}; got shape {array.shape}")
    array = np.broadcast_to(array.astype(np.float64), x.shape).ravel()
    bad = np.flatnonzero(~(np.isfinite(array) & (array > 0)))
    if bad.size:
        raise ValueError(f"{argument} must be positive and finite; got {array[bad[0]]!r}")
    return array


def _default_steps(x, power):
    eps = np.finfo(x.dtype).eps
    return eps ** power * np.maximum(np.abs(x.ravel().astype(np.float64)), 1.0)


def _entry_label(j, shape):
    if len(shape) == 1:
        return f"[{j}]"
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(j, shape)) + "]"


# ---------------------------------------------------------------------------
# Evaluating f
# ---------------------------------------------------------------------------

def _as_output(y, scalar, where):
    """Return f's output as a 1-D array and check its shape; `where` names the point."""
    if isinstance(y, Dual):
        raise TypeError(f"f returned a Dual number at {where}; expected a float")
    if y is None:
        expected = "a float" if scalar else "a 1-D float array"
        raise TypeError(f"f returned None at {where}; expected {expected} (is a return statement missing?)")
    try:
        array = np.asarray(y)
    except (TypeError, ValueError) as error:
        raise TypeError(f"f returned {type(y).__name__} at {where}; expected a float array") from error

    if array.dtype == object:
        array = _object_to_numbers(array, where)
    if array.dtype.kind not in "biufc":
        raise TypeError(f"f returned dtype {array.dtype} at {where}; expected floats")

    if scalar and array.ndim != 0:
        raise ValueError(
            f"f must return a scalar; got an array of shape {array.shape} at {where}. "
            "For a vector-valued f use jacobian")
    if not scalar and (array.ndim != 1 or array.size == 0):
        raise ValueError(
            f"f must return a non-empty 1-D array; got shape {array.shape} at {where}")
    return array.reshape(-1)


def _object_to_numbers(array, where):
    for dtype in (np.float64, np.complex128):
        try:
            return array.astype(dtype)
        except (TypeError, ValueError):
            continue
    raise TypeError(f"f returned an object array at {where}; expected floats")


class _Function:
    """f with output checks: shape, size, real or complex values, finiteness."""

    def __init__(self, f, shape, scalar):
        self.f = f
        self.shape = shape
        self.scalar = scalar
        self.size = None

    def _check(self, output, where):
        if self.size is None:
            self.size = output.size
        elif output.size != self.size:
            raise ValueError(
                f"f returned {output.size} values at {where} but {self.size} at the first "
                "point; its output length must not depend on x")
        if not np.all(np.isfinite(output)):
            bad = np.flatnonzero(~np.isfinite(output))[0]
            entry = "" if self.scalar else f" (output {bad})"
            if where == "x":
                raise ValueError(
                    f"f returned a non-finite value {output[bad]}{entry} at x itself, before any "
                    "step; x must be a point where f is finite")
            raise ValueError(
                f"f returned a non-finite value {output[bad]}{entry} at {where}; a step may "
                "have left the domain of f, so try a smaller step")

    def real(self, point, where):
        output = _as_output(self.f(point.reshape(self.shape).copy()), self.scalar, where)
        if output.dtype.kind == "c":
            raise TypeError(f"f returned complex values for real input at {where}")
        output = output.astype(np.float64)
        self._check(output, where)
        return output

    def complex(self, point, where):
        """Evaluate f at a complex point with the complex-step checks switched on."""
        argument = point.reshape(self.shape).view(_ComplexStepArray)
        token = _math._complex_step_active.set(True)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", _ComplexWarning)
                y = _call_complex(self.f, argument, where)
        finally:
            _math._complex_step_active.reset(token)

        output = _as_output(y, self.scalar, where)
        if output.dtype.kind != "c":
            raise NotComplexAnalyticError(
                f"f returned real values for complex input at {where}, so it drops the "
                "imaginary part somewhere (float(), math.*, a real dtype) or does not depend "
                "on x; the complex step needs complex arithmetic all the way through. Use "
                "method='central' or method='forward'")
        output = output.astype(np.complex128)
        self._check(output, where)
        return output


def _call_complex(f, argument, where):
    try:
        return f(argument)
    except _ComplexWarning as error:
        raise NotComplexAnalyticError(
            f"f discarded the imaginary part of its input at {where} ({error}); the complex "
            "step needs complex arithmetic all the way through. Use method='central' or "
            "method='forward'") from error
    except TypeError as error:
        message = str(error)
        if "complex" not in message and "not supported for the input types" not in message:
            raise
        raise NotComplexAnalyticError(
            f"f cannot evaluate at complex input ({where}): {error}. The complex step needs "
            "complex arithmetic all the way through; use method='central' or "
            "method='forward'") from error


# Ufuncs without a complex-analytic extension: comparisons, absolute values, sign,
# min/max and rounding. On perturbed values they change the branch or drop the
# imaginary part, so their complex-step derivative is wrong.
_NON_ANALYTIC_UFUNCS = frozenset({
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.absolute, np.fabs, np.sign, np.maximum, np.minimum, np.fmax, np.fmin,
    np.floor, np.ceil, np.trunc, np.rint, np.copysign, np.heaviside,
    np.fmod, np.remainder, np.floor_divide, np.hypot, np.arctan2,
})


def _has_imaginary_part(x):
    return np.iscomplexobj(x) and bool(np.any(np.imag(x) != 0))


def _method_suffix(method):
    return "" if method == "__call__" else f".{method}"


def _wrap(result):
    if isinstance(result, tuple):
        return tuple(_wrap(item) for item in result)
    if isinstance(result, np.ndarray):
        return result.view(_ComplexStepArray)
    if isinstance(result, np.generic):
        return np.asarray(result).view(_ComplexStepArray)
    return result


class _ComplexStepArray(np.ndarray):
    """The array type that f receives during a complex-step evaluation.

    Ufunc results and indexed elements keep this type (elements as 0-d arrays), so
    a comparison, abs, sign, min, max or rounding anywhere downstream of x is seen
    and rejected when its input carries a nonzero imaginary part.
    """

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [x.view(np.ndarray) if isinstance(x, _ComplexStepArray) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _ComplexStepArray) else o
                                  for o in kwargs["out"])
        if ufunc in _NON_ANALYTIC_UFUNCS and any(_has_imaginary_part(x) for x in plain):
            raise NotComplexAnalyticError(
                f"numpy.{ufunc.__name__}{_method_suffix(method)} is not complex-analytic, so the complex "
                "step cannot differentiate through it (its input depends on the perturbed "
                "variable); use method='central' or method='forward'")
        try:
            result = getattr(ufunc, method)(*plain, **kwargs)
        except TypeError as error:
            if not any(np.iscomplexobj(x) for x in plain):
                raise
            raise NotComplexAnalyticError(
                f"numpy.{ufunc.__name__} does not accept complex input, so the complex step "
                "cannot differentiate through it; use method='central' or "
                "method='forward'") from error
        return _wrap(result)

    def __getitem__(self, index):
        return _wrap(super().__getitem__(index))

    @property
    def real(self):
        # Re z drops the derivative that the complex step carries in Im z
        plain = self.view(np.ndarray)
        if _has_imaginary_part(plain):
            raise NotComplexAnalyticError(
                "taking the real part of a value that depends on the perturbed variable is "
                "not complex-analytic (np.real, .real); use "
                "method='central' or method='forward'")
        return _wrap(plain.real)

    @property
    def imag(self):
        plain = self.view(np.ndarray)
        if _has_imaginary_part(plain):
            raise NotComplexAnalyticError(
                "taking the imaginary part of a value that depends on the perturbed variable "
                "is not complex-analytic (np.imag, .imag); use "
                "method='central' or method='forward'")
        return _wrap(plain.imag)

    # Printing goes through the plain array, whose formatting reads .real and .imag.
    def __repr__(self):
        return repr(self.view(np.ndarray))

    def __str__(self):
        return str(self.view(np.ndarray))

    def __format__(self, spec):
        return format(self.view(np.ndarray)[()] if self.ndim == 0 else self.view(np.ndarray), spec)


# ---------------------------------------------------------------------------
# Difference quotients
# ---------------------------------------------------------------------------

def _derivative_columns(function, x, method, steps):
    """Estimate ∂f/∂xⱼ for every j; return an (m, n) float64 array, n = x.size."""
    flat = x.ravel()
    columns = []

    if method == "complex":
        for j in range(flat.size):
            point = flat.astype(np.complex128)
            point[j] += 1j * steps[j]
            where = f"x with x{_entry_label(j, x.shape)} + {steps[j]:.3g}i"
            columns.append(function.complex(point, where).imag / steps[j])
        return np.stack(columns, axis=1)

    base = function.real(flat, "x") if method == "forward" else None
    for j in range(flat.size):
        label = _entry_label(j, x.shape)
        plus = flat.copy()
        plus[j] = flat[j] + flat.dtype.type(steps[j])
        if method == "forward":
            actual_step = float(plus[j]) - float(flat[j])
            _check_actual_step(actual_step, j, x, steps)
            shifted = function.real(plus, f"x with x{label} + {actual_step:.3g}")
            columns.append((shifted - base) / actual_step)
        else:
            minus = flat.copy()
            minus[j] = flat[j] - flat.dtype.type(steps[j])
            actual_step = float(plus[j]) - float(minus[j])
            _check_actual_step(actual_step, j, x, steps)
            difference = (function.real(plus, f"x with x{label} + {steps[j]:.3g}")
                          - function.real(minus, f"x with x{label} - {steps[j]:.3g}"))
            columns.append(difference / actual_step)
    return np.stack(columns, axis=1)


def _check_actual_step(actual_step, j, x, steps):
    if actual_step == 0:
        raise ValueError(
            f"step {steps[j]:.3g} is too small for x{_entry_label(j, x.shape)} = "
            f"{x.ravel()[j]} in {x.dtype}: x + step rounds to x")


def _steps_for(x, method, step, powers):
    steps = _validate_step(step, x)
    if steps is not None:
        return steps
    if method == "complex":
        return np.full(x.size, COMPLEX_STEP)
    return _default_steps(x, powers[method])


def gradient(f, x, method="central", step=None):
    """Estimate the gradient of a scalar function by numerical differentiation.

    Parameters
    ----------
    f : callable
        f(x) -> float, called with an array shaped like x.
    x : array_like, shape (n,) or (n, dim)
        The point: finite real numbers. float32 stays float32, every other real
        dtype becomes float64.
    method : {"central", "forward", "complex"}
        The difference quotient; see the module documentation.
    step : float or array shaped like x, optional
        The step h, per entry if an array. Default: ε^(1/3)·max(|xⱼ|, 1) for
        "central", ε^(1/2)·max(|xⱼ|, 1) for "forward", 1e-200 for "complex", with ε
        the machine epsilon of x's dtype.

    Returns
    -------
    ndarray, shaped like x, of x's dtype
        The estimate of ∇f(x).

    Raises
    ------
    NotComplexAnalyticError
        With method="complex", when f is detectably not complex-analytic.
    ValueError, TypeError
        On invalid input, or when f returns something other than a finite scalar.
    """
    _validate_function(f)
    x = _validate_x(x)
    method = _validate_method(method)
    steps = _steps_for(x, method, step, _STEP_POWERS)

    columns = _derivative_columns(_Function(f, x.shape, scalar=True), x, method, steps)
    return columns[0].reshape(x.shape).astype(x.dtype)


def jacobian(f, x, method="central", step=None):
    """Estimate the Jacobian of a vector function by numerical differentiation.

    Parameters
    ----------
    f : callable
        f(x) -> 1-D array of length m, called with an array shaped like x.
    x : array_like, shape (n,) or (n, dim)
        The point: finite real numbers.
    method, step
        As for `gradient`.

    Returns
    -------
    ndarray, shape (m, x.size), of x's dtype
        J[i, j] = ∂fᵢ/∂xⱼ, with the entries of a 2-D x numbered in C order.
    """
    _validate_function(f)
    x = _validate_x(x)
    method = _validate_method(method)
    steps = _steps_for(x, method, step, _STEP_POWERS)

    return _derivative_columns(_Function(f, x.shape, scalar=False), x, method, steps).astype(x.dtype)


def hessian(f, x, method="central", step=None):
    """Estimate the Hessian of a scalar function by differences of gradients.

    Column j of the Hessian is a difference quotient in xⱼ of a numerical gradient:

    - ``"central"``: central differences of central-difference gradients, i.e. the
      four-point formula [f(x+hᵢ+hⱼ) − f(x+hᵢ−hⱼ) − f(x−hᵢ+hⱼ) + f(x−hᵢ−hⱼ)] / 4hᵢhⱼ,
      with default h = ε^(1/4)·max(|x|, 1); error about √ε. 4n² evaluations.
    - ``"forward"``: forward differences of forward-difference gradients, default
      h = ε^(1/3)·max(|x|, 1); error about ε^(1/3). (n + 1)² evaluations.
    - ``"complex"``: central differences of complex-step gradients, default outer
      step h = ε^(1/3)·max(|x|, 1) and inner complex step 1e-200; error about ε^(2/3).
      2n² evaluations.

    The result is symmetrized as (H + Hᵀ)/2.

    Parameters
    ----------
    f : callable
        f(x) -> float, called with an array shaped like x.
    x : array_like, shape (n,) or (n, dim)
        The point: finite real numbers.
    method : {"central", "forward", "complex"}
    step : float or array shaped like x, optional
        The finite-difference step h. With "central" and "forward" it is used by both
        levels of differences; with "complex" it is the outer step and the complex
        step stays 1e-200.

    Returns
    -------
    ndarray, shape (x.size, x.size), of x's dtype
    """
    _validate_function(f)
    x = _validate_x(x)
    method = _validate_method(method)
    steps = _validate_step(step, x)
    if steps is None:
        steps = _default_steps(x, _HESSIAN_STEP_POWERS[method])

    function = _Function(f, x.shape, scalar=True)
    inner_method = method
    inner_steps = np.full(x.size, COMPLEX_STEP) if method == "complex" else steps
    outer = "forward" if method == "forward" else "central"

    gradient_function = _GradientFunction(function, x.shape, inner_method, inner_steps)
    columns = _derivative_columns(gradient_function, x, outer, steps)
    return (0.5 * (columns + columns.T)).astype(x.dtype)


class _GradientFunction:
    """A numerical gradient, shaped like `_Function` so it can be differenced again."""

    def __init__(self, function, shape, method, steps):
        self.function = function
        self.shape = shape
        self.method = method
        self.steps = steps

    def real(self, point, where):
        at = np.asarray(point).reshape(self.shape)
        try:
            return _derivative_columns(self.function, at, self.method, self.steps)[0]
        except (ValueError, TypeError) as error:
            # an error message names the inner step only; the note adds the outer one
            if hasattr(error, "add_note"):
                error.add_note(f"while differencing the gradient at {where}")
            raise


# ---------------------------------------------------------------------------
# Gradient check
# ---------------------------------------------------------------------------

# Default tolerances on the relative error, keyed by x's dtype and the reference.
_TOLERANCES = {
    (np.dtype(np.float64), "complex step"): 1e-8,
    (np.dtype(np.float64), "central difference"): 1e-6,
    (np.dtype(np.float32), "complex step"): 1e-4,
    (np.dtype(np.float32), "central difference"): 1e-2,
}


# Rows of the per-entry table in the message of GradientCheckError.
_ERROR_TABLE_ROWS = 10


@dataclass(repr=False)
class GradientCheckResult:
    """Per-entry comparison of an AD gradient with numerical estimates.

    Arrays are float64 and shaped like x. ``bool(result)`` is ``result.passed``.
    ``repr`` and the last line of ``str`` give the verdict and the worst entry,
    and ``str`` starts with the per-entry table.

    Attributes
    ----------
    ad : ndarray
        The gradient under test.
    complex_step : ndarray
        The complex-step estimate; NaN when f is not complex-analytic, and then
        ``complex_step_error`` gives the reason.
    central : ndarray
        The central-difference estimate.
    abs_error : ndarray
        |ad − reference|, the reference being the complex step when available and the
        central difference otherwise.
    rel_error : ndarray
        abs_error / max(|adⱼ|, |referenceⱼ|, floor). The floor keeps entries near zero
        from being held to a relative accuracy that the reference cannot reach: it is
        √ε times the largest gradient entry for the complex step, and for central
        differences the larger of ε^(1/3) times the largest entry and the rounding
        noise 10·ε^(2/3)·|f(x)|/max(|xⱼ|, 1).
    entry_passed : ndarray of bool
        rel_error ≤ tolerance.
    tolerance : float
    reference : str
        "complex step" or "central difference".
    ad_source : str
        Where ``ad`` came from: "grad argument", "dualtape.grad" or "forward-mode Dual".
    value : float
        f(x).
    complex_step_error : str or None
    """

    x: np.ndarray
    value: float
    ad: np.ndarray
    complex_step: np.ndarray
    central: np.ndarray
    abs_error: np.ndarray
    rel_error: np.ndarray
    entry_passed: np.ndarray
    tolerance: float
    reference: str
    ad_source: str
    complex_step_error: Optional[str] = None

    @property
    def passed(self) -> bool:
        """True when every entry is within the tolerance."""
        return bool(np.all(self.entry_passed))

    def __bool__(self) -> bool:
        return self.passed

    @property
    def max_rel_error(self) -> float:
        return float(np.max(self.rel_error))

    @property
    def worst_index(self) -> tuple:
        """Index into x of the entry with the largest relative error."""
        return tuple(int(i) for i in np.unravel_index(int(np.argmax(self.rel_error)), self.ad.shape))

    def summary(self) -> str:
        """Return one line: passed or FAILED, the worst entry against the tolerance, the counts."""
        verdict = "passed" if self.passed else "FAILED"
        worst = int(np.argmax(self.rel_error))
        reference = self.complex_step if self.reference == "complex step" else self.central
        line = (f"gradient check {verdict}: max rel error {self.max_rel_error:.3e} "
                f"{'<=' if self.passed else '>'} tolerance {self.tolerance:.1e} at entry "
                f"{_entry_label(worst, self.ad.shape)} (AD {self.ad.ravel()[worst]:.9e}, "
                f"{self.reference} {reference.ravel()[worst]:.9e})")
        failed = int(np.count_nonzero(~self.entry_passed))
        if failed:
            line += f", {failed} of {self.ad.size} entries failed"
        return line + f". Reference: {self.reference}, AD: {self.ad_source}."

    def table(self) -> str:
        """Return the per-entry table under a header, followed by the summary line."""
        return "\n".join(self._rows(range(self.ad.size)) + [self.summary()])

    def failure_report(self, max_rows: int = _ERROR_TABLE_ROWS) -> str:
        """Return the summary line over the table of the failed entries, worst first.

        At most `max_rows` rows are shown, then a line counts the rest.
        """
        failed = np.flatnonzero(~self.entry_passed.ravel())
        order = failed[np.argsort(-self.rel_error.ravel()[failed], kind="stable")]
        lines = [self.summary()] + self._rows(order[:max_rows].tolist())
        if order.size > max_rows:
            lines.append(f"... and {order.size - max_rows} more failed entries (print the result for all)")
        return "\n".join(lines)

    def _rows(self, entries) -> list:
        """Return the table header and one line for each flat index in `entries`."""
        labels = [_entry_label(j, self.ad.shape) for j in entries]
        width = max([7] + [len(label) for label in labels])
        header = (f"{'entry':>{width}} {'AD':>16} {'complex step':>16} {'central':>16} "
                  f"{'abs error':>11} {'rel error':>11}  ok")
        lines = [header]
        columns = (self.ad, self.complex_step, self.central, self.abs_error, self.rel_error)
        flat = [column.ravel() for column in columns]
        passed = self.entry_passed.ravel()
        for j, label in zip(entries, labels):
            ad, complex_step, central, abs_error, rel_error = (column[j] for column in flat)
            lines.append(
                f"{label:>{width}} {ad:16.9e} {complex_step:16.9e} {central:16.9e} "
                f"{abs_error:11.3e} {rel_error:11.3e}  {'yes' if passed[j] else 'NO'}")
        if self.complex_step_error:
            lines.append(f"complex step unavailable: {self.complex_step_error}")
        return lines

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"GradientCheckResult({self.summary()})"


class GradientCheckError(AssertionError):
    """Raised by `check_gradient` when an entry of the gradient is outside the tolerance.

    ``result`` is the `GradientCheckResult`, with the full per-entry table.
    """

    def __init__(self, result: GradientCheckResult):
        super().__init__(result.failure_report() + "\nPass raise_on_failure=False to get the result "
                         "instead of this error.")
        self.result = result


def _ad_gradient(f, x, grad):
    """Return (gradient, source) from the grad argument, dualtape.grad or forward mode."""
    if grad is not None:
        if callable(grad):
            return _validate_gradient(grad(x.copy()), x, "grad(x)"), "grad argument"
        return _validate_gradient(grad, x, "grad"), "grad argument"

    import dualtape

    tape_grad = getattr(dualtape, "grad", None)
    if tape_grad is not None:
        return _validate_gradient(tape_grad(f)(x.copy()), x, "dualtape.grad(f)(x)"), "dualtape.grad"

    try:
        result = _forward_gradient(f, x)
    except TypeError as error:
        raise TypeError(
            f"check_gradient could not run f on Dual numbers for the AD gradient ({error}); "
            "pass the gradient with grad=") from error
    return _validate_gradient(result, x, "the forward-mode gradient"), "forward-mode Dual"


def _validate_gradient(g, x, name):
    array = np.asarray(g)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a float array; got dtype {array.dtype}")
    if array.shape != x.shape:
        raise ValueError(f"{name} must have the shape of x {x.shape}; got shape {array.shape}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        bad = np.flatnonzero(~np.isfinite(array))[0]
        raise ValueError(f"{name} is not finite: entry {_entry_label(bad, x.shape)} is {array.ravel()[bad]}")
    return array


def check_gradient(f, x, grad=None, verbose=False, tolerance=None, raise_on_failure=True):
    """Compare an AD gradient with complex-step and central-difference estimates.

    A failed check raises `GradientCheckError` by default, so that it cannot go
    unnoticed in a script or a test. ``torch.autograd.gradcheck`` also raises by
    default (``raise_exception=True`` in PyTorch 1.13 and later), while
    ``scipy.optimize.check_grad`` (SciPy 1.12) returns the 2-norm of the difference
    and leaves the verdict to the caller.

    Parameters
    ----------
    f : callable
        f(x) -> float.
    x : array_like, shape (n,) or (n, dim)
        The point: finite real numbers.
    grad : callable or array_like, optional
        The gradient under test: grad(x) or its value at x, shaped like x. By default
        ``dualtape.grad(f)`` when the package provides it, else forward mode with
        `Dual` numbers (one pass of f for up to 512 variables).
    verbose : bool
        Print the per-entry table, passed or failed.
    tolerance : float, optional
        Largest accepted relative error (see `GradientCheckResult.rel_error`). Default
        by x's dtype and the reference: float64 1e-8 against the complex step and
        1e-6 against central differences; float32 1e-4 and 1e-2.
    raise_on_failure : bool
        True (default): raise `GradientCheckError` when an entry is outside the
        tolerance. False: return the result in every case, and test ``passed``.

    Returns
    -------
    GradientCheckResult
        Its ``passed`` (also ``bool(result)``) is True when every entry is within
        the tolerance. ``print(result)`` shows the per-entry table, and ``repr``
        the verdict and the worst entry.

    Raises
    ------
    GradientCheckError
        With ``raise_on_failure=True``, when the check fails. The message shows the
        failed entries, worst first, and the error's ``result`` attribute contains
        the full comparison.

    Notes
    -----
    The complex step is the reference when f is complex-analytic. When it is not
    (`NotComplexAnalyticError`), the complex-step column is NaN and central
    differences are the reference.
    """
    _validate_function(f)
    x = _validate_x(x)
    if tolerance is not None:
        _validate_tolerance(tolerance)
    if not isinstance(raise_on_failure, (bool, np.bool_)):
        raise TypeError(f"raise_on_failure must be True or False; got {raise_on_failure!r}")

    value = float(_Function(f, x.shape, scalar=True).real(x.ravel(), "x")[0])
    ad, ad_source = _ad_gradient(f, x, grad)
    central = gradient(f, x, method="central").astype(np.float64)
    try:
        complex_step = gradient(f, x, method="complex").astype(np.float64)
        complex_step_error = None
        reference, reference_name = complex_step, "complex step"
    except NotComplexAnalyticError as error:
        complex_step = np.full(x.shape, np.nan)
        complex_step_error = str(error)
        reference, reference_name = central, "central difference"

    abs_error = np.abs(ad - reference)
    floor = _error_floor(x, value, ad, reference, reference_name)
    denominator = np.maximum(np.maximum(np.abs(ad), np.abs(reference)), floor)
    rel_error = np.divide(abs_error, denominator, out=np.zeros_like(abs_error),
                          where=denominator > 0)
    if tolerance is None:
        tolerance = _TOLERANCES[(x.dtype, reference_name)]

    result = GradientCheckResult(
        x=x.copy(), value=value, ad=ad, complex_step=complex_step, central=central,
        abs_error=abs_error, rel_error=rel_error, entry_passed=rel_error <= tolerance,
        tolerance=float(tolerance), reference=reference_name, ad_source=ad_source,
        complex_step_error=complex_step_error)
    if verbose:
        print(result.table())
    if raise_on_failure and not result.passed:
        raise GradientCheckError(result)
    return result


def _validate_tolerance(tolerance):
    valid = (isinstance(tolerance, numbers.Real) and not isinstance(tolerance, (bool, np.bool_))
             and math.isfinite(tolerance) and tolerance > 0)
    if not valid:
        raise ValueError(f"tolerance must be a positive finite float; got {tolerance!r}")


def _error_floor(x, value, ad, reference, reference_name):
    eps = float(np.finfo(x.dtype).eps)
    scale = max(float(np.max(np.abs(ad))), float(np.max(np.abs(reference))))
    if reference_name == "complex step":
        return np.full(x.shape, math.sqrt(eps) * scale)
    noise = 10 * eps ** (2 / 3) * abs(value) / np.maximum(np.abs(x.astype(np.float64)), 1.0)
    return np.maximum(eps ** (1 / 3) * scale, noise)
