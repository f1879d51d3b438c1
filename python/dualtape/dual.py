"""Forward-mode dual numbers and the scalar derivative `derivative`.

A `Dual` carries a value x and a tangent ẋ: the derivative of x along one direction
(a float tangent) or along n directions at once (a tangent vector of length n). Every
operation maps (x, ẋ) to (f(x), f'(x)·ẋ), so plain Python code run on Dual numbers
computes a function together with its directional derivatives.

Conventions
-----------
Zero rule
    A product inside a derivative with an exact zero factor is zero, even when the
    other factor is inf or NaN. A constant (zero tangent) therefore never turns a
    derivative into NaN, and the branch that `dualtape.where` does not select
    contributes exactly 0.
Points where the derivative does not exist
    √x at x = 0 has derivative 0. |x| at 0 has derivative 0, and sign(x) has
    derivative 0 everywhere. For a constant exponent a, d/dx xᵃ at x = 0 is 1 when
    a = 1 and 0 for every other a, including a < 1, and a = 0 gives 0 everywhere.
    d/db aᵇ at a = 0 is 0 for b > 0. hypot(a, b) and atan2(y, x) have gradient (0, 0)
    at the origin.
Ties
    `minimum` and `maximum` follow the first argument when both values are equal.
Comparisons
    ``<``, ``<=``, ``>``, ``>=``, ``==``, ``!=`` and ``bool()`` look at the value only
    and return plain bools, so ``if x > 0:`` works in code run on Dual numbers.
IEEE arithmetic
    Operations follow IEEE 754 without warnings or exceptions: ``1 / Dual(0.0, 1.0)``
    has value inf and ``log`` of a negative value gives NaN. ``float(d)`` raises
    TypeError, because it would drop the tangent.

Nesting
-------
The value and the tangent of a Dual may themselves be Dual numbers, which gives
higher derivatives: for ``X = Dual(Dual(x, 1.0), 1.0)``, ``f(X).tangent.tangent`` is
f''(x). Each Dual has a level: one more than the levels it contains, or a fresh level
for the numbers that `derivative` creates. In an operation on two Dual numbers of
different levels, the higher level is the one being differentiated and the other
number is a constant for it. Nested calls of `derivative` therefore never mix their
derivatives (no perturbation confusion).
"""

from __future__ import annotations

import math
import numbers
import operator
import threading

import numpy as np

from . import _math
from ._math import Differentiable

__all__ = ["Dual", "derivative"]

# Number of variables that one forward pass of `_forward_gradient` differentiates.
_GRADIENT_CHUNK = 512

_level_lock = threading.Lock()
_highest_level = 0


def _record_level(level):
    global _highest_level
    with _level_lock:
        if level > _highest_level:
            _highest_level = level


def _new_level():
    """Return a level above every level in use, for the seeds of one derivative."""
    global _highest_level
    with _level_lock:
        _highest_level += 1
        return _highest_level


# ---------------------------------------------------------------------------
# Real scalars: the math module, with NumPy's IEEE results where math raises
# ---------------------------------------------------------------------------

_SCALAR_FUNCTIONS = {
    "sqrt": (math.sqrt, np.sqrt),
    "exp": (math.exp, np.exp),
    "log": (math.log, np.log),
    "log1p": (math.log1p, np.log1p),
    "expm1": (math.expm1, np.expm1),
    "sin": (math.sin, np.sin),
    "cos": (math.cos, np.cos),
    "tan": (math.tan, np.tan),
    "asin": (math.asin, np.arcsin),
    "acos": (math.acos, np.arccos),
    "atan": (math.atan, np.arctan),
    "sinh": (math.sinh, np.sinh),
    "cosh": (math.cosh, np.cosh),
    "tanh": (math.tanh, np.tanh),
    "atan2": (math.atan2, np.arctan2),
    "hypot": (math.hypot, np.hypot),
    "power": (math.pow, np.power),
    "divide": (operator.truediv, np.divide),
}


def _scalar(name, *args):
    """Evaluate a real function on floats; domain errors give inf or NaN as in IEEE 754."""
    fast, ieee = _SCALAR_FUNCTIONS[name]
    try:
        return fast(*args)
    except (ValueError, ZeroDivisionError, OverflowError):
        with np.errstate(all="ignore"):
            return float(ieee(*args))


def _sign_value(x):
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return x if math.isnan(x) else 0.0


# ---------------------------------------------------------------------------
# Levels and tangents
# ---------------------------------------------------------------------------

def _level(x):
    return x._level if isinstance(x, Dual) else 0


def _real(x):
    """Return the real number at the core of a (possibly nested) Dual."""
    while isinstance(x, Dual):
        x = x._value
    return x


def _make(level, value, tangent):
    """Build a Dual without validation, for results of operations."""
    result = object.__new__(Dual)
    result._level = level
    result._value = value
    result._tangent = tangent
    return result


def _parts(x, level):
    """Split x into (value, tangent) at `level`; a constant there has tangent None."""
    if isinstance(x, Dual) and x._level == level:
        return x._value, x._tangent
    return x, None


def _zero_tangent_like(tangent):
    if isinstance(tangent, np.ndarray):
        return np.zeros_like(tangent)
    return 0.0


def _mixed_tangents_error():
    return TypeError(
        "cannot combine a Dual number whose tangent is a vector with a nested Dual number "
        "of a lower level; use scalar tangents when nesting Dual numbers")


def _tangent_add(x, y):
    if isinstance(x, Dual) or isinstance(y, Dual):
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            raise _mixed_tangents_error()
        return _add(x, y)
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        if np.shape(x) != np.shape(y):
            raise ValueError(
                f"tangent shapes {np.shape(x)} and {np.shape(y)} differ; Dual numbers "
                "combined in one operation need tangents of the same length (use a plain "
                "float, not a Dual with tangent 0.0, for a constant)")
        with np.errstate(all="ignore"):
            return x + y
    return x + y


def _tangent_sum(x, y):
    """Add two tangents, where None stands for the tangent of a constant."""
    if x is None:
        return y
    if y is None:
        return x
    return _tangent_add(x, y)


def _tangent_negative(tangent):
    if isinstance(tangent, Dual):
        return _negative(tangent)
    return -tangent


def _mul_zero(factor, tangent):
    """Multiply a tangent by a value-like factor under the zero rule.

    The product is exactly zero wherever either factor is exactly zero, so
    0 · inf and 0 · NaN give 0 instead of NaN.
    """
    if isinstance(factor, Dual) or isinstance(tangent, Dual):
        return _mul_zero_nested(factor, tangent)
    if isinstance(tangent, np.ndarray):
        if factor == 0:
            return np.zeros_like(tangent)
        with np.errstate(all="ignore"):
            product = factor * tangent
            if not math.isfinite(factor):
                product[tangent == 0] = 0.0
        return product
    if factor == 0 or tangent == 0:
        return 0.0
    return factor * tangent


def _mul_zero_nested(factor, tangent):
    if isinstance(tangent, np.ndarray):
        raise _mixed_tangents_error()
    factor_level = _level(factor)
    tangent_level = _level(tangent)

    if factor_level == tangent_level:
        # (a + ȧε)(b + ḃε) = ab + (aḃ + ȧb)ε, each product under the zero rule
        value = _mul_zero(factor._value, tangent._value)
        derivative = _tangent_add(_mul_zero(factor._value, tangent._tangent),
                                  _mul_zero(tangent._value, factor._tangent))
        return _make(factor_level, value, derivative)

    if factor_level > tangent_level:
        return _make(factor_level, _mul_zero(factor._value, tangent),
                     _mul_zero(tangent, factor._tangent))
    return _make(tangent_level, _mul_zero(factor, tangent._value),
                 _mul_zero(factor, tangent._tangent))


def _scale(factor, tangent):
    """Multiply a tangent by a factor under the zero rule; None stays None."""
    if tangent is None:
        return None
    return _mul_zero(factor, tangent)


# ---------------------------------------------------------------------------
# Arithmetic on floats and Dual numbers of any level
# ---------------------------------------------------------------------------

def _add(a, b):
    level = max(_level(a), _level(b))
    if level == 0:
        return a + b
    av, at = _parts(a, level)
    bv, bt = _parts(b, level)
    return _make(level, _add(av, bv), _tangent_sum(at, bt))


def _subtract(a, b):
    level = max(_level(a), _level(b))
    if level == 0:
        return a - b
    av, at = _parts(a, level)
    bv, bt = _parts(b, level)
    return _make(level, _subtract(av, bv), _tangent_sum(at, _scale(-1.0, bt)))


def _negative(a):
    if not isinstance(a, Dual):
        return -a
    return _make(a._level, _negative(a._value), _tangent_negative(a._tangent))


def _multiply(a, b):
    level = max(_level(a), _level(b))
    if level == 0:
        return a * b
    av, at = _parts(a, level)
    bv, bt = _parts(b, level)
    # (ab)' = ȧ b + a ḃ
    return _make(level, _multiply(av, bv), _tangent_sum(_scale(bv, at), _scale(av, bt)))


def _divide(a, b):
    level = max(_level(a), _level(b))
    if level == 0:
        return _scalar("divide", a, b)
    av, at = _parts(a, level)
    bv, bt = _parts(b, level)
    quotient = _divide(av, bv)
    # (a/b)' = ȧ / b − (a/b) ḃ / b
    da = _scale(_divide(1.0, bv), at)
    db = _scale(_negative(_divide(quotient, bv)), bt)
    return _make(level, quotient, _tangent_sum(da, db))


def _power(a, b):
    level = max(_level(a), _level(b))
    if level == 0:
        return _scalar("power", a, b)
    av, at = _parts(a, level)
    bv, bt = _parts(b, level)
    value = _power(av, bv)

    da = None
    if at is not None:
        # ∂/∂a aᵇ = b·aᵇ⁻¹; 0 for b = 0, and 0 at a = 0 for every b < 1
        base, exponent = _real(av), _real(bv)
        if exponent == 0 or (base == 0 and exponent < 1):
            da = _scale(0.0, at)
        else:
            da = _scale(_multiply(bv, _power(av, _subtract(bv, 1.0))), at)

    db = None
    if bt is not None:
        # ∂/∂b aᵇ = aᵇ·log a; the zero rule makes it 0 at a = 0 for b > 0
        db = _scale(_mul_zero(value, _unary("log", av)), bt)

    return _make(level, value, _tangent_sum(da, db))


# Derivative factors f'(x) of the unary functions, given x and f(x).

def _sqrt_factor(x, value):
    # (√x)' = 1 / (2√x), defined as 0 at x = 0
    if _real(x) == 0:
        return 0.0
    return _divide(0.5, value)


def _exp_factor(x, value):
    # (eˣ)' = eˣ
    return value


def _log_factor(x, value):
    # (log x)' = 1 / x
    return _divide(1.0, x)


def _log1p_factor(x, value):
    # (log(1 + x))' = 1 / (1 + x)
    return _divide(1.0, _add(1.0, x))


def _expm1_factor(x, value):
    # (eˣ − 1)' = eˣ
    return _unary("exp", x)


def _sin_factor(x, value):
    # (sin x)' = cos x
    return _unary("cos", x)


def _cos_factor(x, value):
    # (cos x)' = −sin x
    return _negative(_unary("sin", x))


def _tan_factor(x, value):
    # (tan x)' = 1 + tan² x
    return _add(1.0, _multiply(value, value))


def _one_minus_square(x):
    # 1 − x² as (1 − x)(1 + x), which keeps its accuracy near |x| = 1
    return _multiply(_subtract(1.0, x), _add(1.0, x))


def _asin_factor(x, value):
    # (asin x)' = 1 / √(1 − x²)
    return _divide(1.0, _unary("sqrt", _one_minus_square(x)))


def _acos_factor(x, value):
    # (acos x)' = −1 / √(1 − x²)
    return _divide(-1.0, _unary("sqrt", _one_minus_square(x)))


def _atan_factor(x, value):
    # (atan x)' = 1 / (1 + x²)
    return _divide(1.0, _add(1.0, _multiply(x, x)))


def _sinh_factor(x, value):
    # (sinh x)' = cosh x
    return _unary("cosh", x)


def _cosh_factor(x, value):
    # (cosh x)' = sinh x
    return _unary("sinh", x)


def _tanh_factor(x, value):
    # (tanh x)' = 1 − tanh² x
    return _subtract(1.0, _multiply(value, value))


_UNARY_FACTORS = {
    "sqrt": _sqrt_factor,
    "exp": _exp_factor,
    "log": _log_factor,
    "log1p": _log1p_factor,
    "expm1": _expm1_factor,
    "sin": _sin_factor,
    "cos": _cos_factor,
    "tan": _tan_factor,
    "asin": _asin_factor,
    "acos": _acos_factor,
    "atan": _atan_factor,
    "sinh": _sinh_factor,
    "cosh": _cosh_factor,
    "tanh": _tanh_factor,
}


def _unary(name, x):
    """Apply a smooth unary function: (x, ẋ) ↦ (f(x), f'(x)·ẋ)."""
    if not isinstance(x, Dual):
        return _scalar(name, x)
    value = _unary(name, x._value)
    factor = _UNARY_FACTORS[name](x._value, value)
    return _make(x._level, value, _mul_zero(factor, x._tangent))


def _abs(x):
    if not isinstance(x, Dual):
        return abs(x)
    # |x|' = sign(x), defined as 0 at x = 0
    factor = _sign_value(_real(x))
    return _make(x._level, _abs(x._value), _mul_zero(factor, x._tangent))


def _sign(x):
    if not isinstance(x, Dual):
        return _sign_value(x)
    # sign is piecewise constant: its derivative is 0 everywhere
    return _make(x._level, _sign(x._value), _zero_tangent_like(x._tangent))


def _atan2(y, x):
    level = max(_level(y), _level(x))
    if level == 0:
        return _scalar("atan2", y, x)
    yv, yt = _parts(y, level)
    xv, xt = _parts(x, level)
    value = _atan2(yv, xv)

    # ∂/∂y atan2(y, x) = x / r², ∂/∂x atan2(y, x) = −y / r², r = hypot(x, y);
    # both are defined as 0 at the origin
    radius = _hypot(xv, yv)
    if _real(radius) == 0:
        dy_factor = dx_factor = 0.0
    else:
        dy_factor = _divide(_divide(xv, radius), radius)
        dx_factor = _negative(_divide(_divide(yv, radius), radius))
    return _make(level, value, _tangent_sum(_scale(dy_factor, yt), _scale(dx_factor, xt)))


def _hypot(a, b):
    level = max(_level(a), _level(b))
    if level == 0:
        return _scalar("hypot", a, b)
    av, at = _parts(a, level)
    bv, bt = _parts(b, level)
    value = _hypot(av, bv)

    # ∂/∂a hypot(a, b) = a / r, ∂/∂b hypot(a, b) = b / r; both 0 at the origin
    if _real(value) == 0:
        da_factor = db_factor = 0.0
    else:
        da_factor = _divide(av, value)
        db_factor = _divide(bv, value)
    return _make(level, value, _tangent_sum(_scale(da_factor, at), _scale(db_factor, bt)))


def _select(chosen, other):
    """Return `chosen` at the level of the pair, with zero tangent if it is constant there."""
    level = max(_level(chosen), _level(other))
    if level == 0 or (isinstance(chosen, Dual) and chosen._level == level):
        return chosen
    _, other_tangent = _parts(other, level)
    return _make(level, chosen, _zero_tangent_like(other_tangent))


def _minimum(a, b):
    # the smaller value with its derivative; a tie or a NaN in a selects a
    first, second = _real(a), _real(b)
    if first <= second or math.isnan(first):
        return _select(a, b)
    return _select(b, a)


def _maximum(a, b):
    # the larger value with its derivative; a tie or a NaN in a selects a
    first, second = _real(a), _real(b)
    if first >= second or math.isnan(first):
        return _select(a, b)
    return _select(b, a)


def _where(condition, a, b):
    # only the selected branch carries a derivative; the other contributes exactly 0
    if condition:
        return _select(a, b)
    return _select(b, a)


# ---------------------------------------------------------------------------
# Operands from user code
# ---------------------------------------------------------------------------

def _as_operand(x):
    """Return x as a float or Dual, or None for a type that Dual does not handle."""
    if isinstance(x, Dual):
        return x
    if isinstance(x, numbers.Real):
        return float(x)
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "biuf":
        return float(x)
    if isinstance(x, (numbers.Complex, np.ndarray)) and np.iscomplexobj(x):
        raise TypeError(
            f"Dual numbers are real; got the complex number {x!r}. Use the real part "
            "explicitly if that is what you mean")
    return None


def _validate_function_argument(x, name, position):
    operand = _as_operand(x)
    if operand is None:
        raise TypeError(
            f"dualtape.{name}: argument {position} has type {type(x).__name__}; expected a "
            "float, an int, a NumPy array or a Dual number")
    return operand


def _validate_condition(condition):
    if isinstance(condition, (bool, np.bool_)):
        return bool(condition)
    if isinstance(condition, np.ndarray) and condition.ndim == 0 and condition.dtype == bool:
        return bool(condition)
    if isinstance(condition, numbers.Real) and not isinstance(condition, Dual):
        return condition != 0
    raise TypeError(
        f"dualtape.where: condition has type {type(condition).__name__}; expected a bool, "
        "for example the result of a comparison such as x > 0")


def _as_object_array(x):
    """Wrap x for an element-wise NumPy call that reaches Dual elements one by one."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    wrapped = np.empty((), dtype=object)
    wrapped[()] = x
    return wrapped


def _is_array_argument(x):
    return isinstance(x, (np.ndarray, list, tuple))


def _unary_function(name):
    def function(x):
        return _unary(name, x)

    return function


# The dualtape math functions on Dual operands, by their name in dualtape._math.
_DT_FUNCTIONS = {name: _unary_function(name) for name in _UNARY_FACTORS}
_DT_FUNCTIONS.update(abs=_abs, sign=_sign, atan2=_atan2, hypot=_hypot, minimum=_minimum,
                     maximum=_maximum, power=_power)


def _compare(x, other, compare):
    if isinstance(other, Dual):
        return bool(compare(_real(x), _real(other)))
    if isinstance(other, numbers.Real):
        return bool(compare(_real(x), other))
    if isinstance(other, np.ndarray) and other.ndim == 0 and other.dtype.kind in "biuf":
        return bool(compare(_real(x), float(other)))
    if isinstance(other, numbers.Complex):
        raise TypeError(f"cannot compare a Dual number with the complex number {other!r}")
    return NotImplemented


_UFUNCS = {
    np.add: _add,
    np.subtract: _subtract,
    np.multiply: _multiply,
    np.true_divide: _divide,
    np.negative: _negative,
    np.positive: lambda x: x,
    np.conjugate: lambda x: x,
    np.power: _power,
    np.float_power: _power,
    np.square: lambda x: _multiply(x, x),
    np.reciprocal: lambda x: _divide(1.0, x),
    np.sqrt: _DT_FUNCTIONS["sqrt"],
    np.exp: _DT_FUNCTIONS["exp"],
    np.log: _DT_FUNCTIONS["log"],
    np.log1p: _DT_FUNCTIONS["log1p"],
    np.expm1: _DT_FUNCTIONS["expm1"],
    np.sin: _DT_FUNCTIONS["sin"],
    np.cos: _DT_FUNCTIONS["cos"],
    np.tan: _DT_FUNCTIONS["tan"],
    np.arcsin: _DT_FUNCTIONS["asin"],
    np.arccos: _DT_FUNCTIONS["acos"],
    np.arctan: _DT_FUNCTIONS["atan"],
    np.sinh: _DT_FUNCTIONS["sinh"],
    np.cosh: _DT_FUNCTIONS["cosh"],
    np.tanh: _DT_FUNCTIONS["tanh"],
    np.arctan2: _atan2,
    np.hypot: _hypot,
    np.absolute: _abs,
    np.fabs: _abs,
    np.sign: _sign,
    np.minimum: _minimum,
    np.maximum: _maximum,
}

_UFUNC_COMPARISONS = {
    np.less: operator.lt,
    np.less_equal: operator.le,
    np.greater: operator.gt,
    np.greater_equal: operator.ge,
    np.equal: operator.eq,
    np.not_equal: operator.ne,
}

_UFUNC_TESTS = {np.isnan: math.isnan, np.isinf: math.isinf, np.isfinite: math.isfinite}


def _binary_operator(function, ufunc, reflected=False):
    def method(self, other):
        if isinstance(other, np.ndarray) and other.ndim > 0:
            return ufunc(other, self) if reflected else ufunc(self, other)
        operand = _as_operand(other)
        if operand is None:
            return NotImplemented
        return function(operand, self) if reflected else function(self, operand)

    method.__name__ = f"__{'r' if reflected else ''}{ufunc.__name__}__"
    return method


def _comparison_operator(compare):
    def method(self, other):
        return _compare(self, other, compare)

    return method


# ---------------------------------------------------------------------------
# The public type
# ---------------------------------------------------------------------------

class Dual(Differentiable):
    """A forward-mode dual number x + ẋε with ε² = 0.

    Parameters
    ----------
    value : float or Dual
        The value x. Must be finite. A Dual value nests dual numbers for higher
        derivatives.
    tangent : float, 1-D array of floats, or Dual
        The derivative ẋ of x along one direction (a float) or along n directions
        (an array of length n). Must be finite. Seed the input of a function with
        ``Dual(x, 1.0)`` for f'(x), or the inputs x₀ … xₙ₋₁ with unit vectors for a
        whole gradient in one pass. A nested Dual needs a float or Dual tangent.

    Notes
    -----
    Every operator (``+ - * / **``, unary ``-``, ``abs``), every ``dualtape`` math
    function, the matching NumPy ufuncs (``np.sin(d)``) and NumPy object arrays of
    Dual numbers work. Comparisons look at the value only. The conventions at points
    where a derivative does not exist (the zero rule, √x and |x| at 0, xᵃ at 0, ties of
    `minimum` and `maximum`) are listed in the module documentation of
    `dualtape.dual`.
    """

    __slots__ = ("_level", "_value", "_tangent")

    def __init__(self, value, tangent):
        value = _validate_value(value)
        tangent = _validate_tangent(tangent, value)
        self._level = 1 + max(_level(value), _level(tangent))
        self._value = value
        self._tangent = tangent
        _record_level(self._level)

    @property
    def value(self):
        """The value x: a float, or a Dual when dual numbers are nested."""
        return self._value

    @property
    def tangent(self):
        """The tangent ẋ: a float, a 1-D float array, or a Dual when nested."""
        return self._tangent

    @property
    def __dt_priority__(self):
        return self._level

    def __dt_function__(self, name, args):
        if name == "where":
            return self._dt_where(args)
        function = _DT_FUNCTIONS.get(name)
        if function is None:
            raise TypeError(f"dualtape.{name} is not defined for Dual numbers")
        if any(_is_array_argument(arg) for arg in args):
            return _elementwise(getattr(_math, name), args)
        operands = [_validate_function_argument(arg, name, i + 1) for i, arg in enumerate(args)]
        return function(*operands)

    def _dt_where(self, args):
        condition, a, b = args
        if any(_is_array_argument(arg) for arg in args):
            return _elementwise(_math.where, args)
        condition = _validate_condition(condition)
        return _where(condition, _validate_function_argument(a, "where", 2),
                      _validate_function_argument(b, "where", 3))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs:
            return NotImplemented
        if any(isinstance(x, np.ndarray) for x in inputs):
            return ufunc(*[_as_object_array(x) for x in inputs])

        if ufunc in _UFUNC_COMPARISONS:
            compare = _UFUNC_COMPARISONS[ufunc]
            if isinstance(inputs[0], Dual):
                return _compare(inputs[0], inputs[1], compare)
            return _compare(inputs[1], inputs[0], lambda a, b: compare(b, a))
        if ufunc in _UFUNC_TESTS:
            return _UFUNC_TESTS[ufunc](_real(inputs[0]))

        function = _UFUNCS.get(ufunc)
        if function is None:
            raise TypeError(
                f"numpy.{ufunc.__name__} is not supported for Dual numbers; use the "
                "dualtape math functions or Python operators")
        operands = [_as_operand(x) for x in inputs]
        if any(operand is None for operand in operands):
            return NotImplemented
        return function(*operands)

    __add__ = _binary_operator(_add, np.add)
    __radd__ = _binary_operator(_add, np.add, reflected=True)
    __sub__ = _binary_operator(_subtract, np.subtract)
    __rsub__ = _binary_operator(_subtract, np.subtract, reflected=True)
    __mul__ = _binary_operator(_multiply, np.multiply)
    __rmul__ = _binary_operator(_multiply, np.multiply, reflected=True)
    __truediv__ = _binary_operator(_divide, np.true_divide)
    __rtruediv__ = _binary_operator(_divide, np.true_divide, reflected=True)
    __rpow__ = _binary_operator(_power, np.power, reflected=True)

    def __pow__(self, other, modulo=None):
        if modulo is not None:
            raise TypeError("pow() with a modulus is not defined for Dual numbers")
        if isinstance(other, np.ndarray) and other.ndim > 0:
            return np.power(self, other)
        operand = _as_operand(other)
        if operand is None:
            return NotImplemented
        return _power(self, operand)

    def __neg__(self):
        return _negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _abs(self)

    __lt__ = _comparison_operator(operator.lt)
    __le__ = _comparison_operator(operator.le)
    __gt__ = _comparison_operator(operator.gt)
    __ge__ = _comparison_operator(operator.ge)
    __eq__ = _comparison_operator(operator.eq)
    __ne__ = _comparison_operator(operator.ne)

    def __hash__(self):
        return hash(_real(self))

    def __bool__(self):
        return _real(self) != 0

    def __float__(self):
        raise TypeError(
            "float() of a Dual number would drop its tangent; use .value for the value, "
            "and dualtape math functions (dt.sin) instead of the math module")

    def __int__(self):
        raise TypeError("int() of a Dual number would drop its tangent; use .value")

    def __complex__(self):
        raise TypeError("complex() of a Dual number would drop its tangent; use .value")

    # Methods that NumPy calls for ufuncs on object arrays of Dual numbers.

    def sqrt(self):
        """Compute √x; the derivative at 0 is 0."""
        return _unary("sqrt", self)

    def exp(self):
        """Compute eˣ."""
        return _unary("exp", self)

    def log(self):
        """Compute the natural logarithm."""
        return _unary("log", self)

    def log1p(self):
        """Compute log(1 + x)."""
        return _unary("log1p", self)

    def expm1(self):
        """Compute eˣ − 1."""
        return _unary("expm1", self)

    def sin(self):
        """Compute the sine."""
        return _unary("sin", self)

    def cos(self):
        """Compute the cosine."""
        return _unary("cos", self)

    def tan(self):
        """Compute the tangent function."""
        return _unary("tan", self)

    def arcsin(self):
        """Compute the inverse sine."""
        return _unary("asin", self)

    def arccos(self):
        """Compute the inverse cosine."""
        return _unary("acos", self)

    def arctan(self):
        """Compute the inverse tangent."""
        return _unary("atan", self)

    def sinh(self):
        """Compute the hyperbolic sine."""
        return _unary("sinh", self)

    def cosh(self):
        """Compute the hyperbolic cosine."""
        return _unary("cosh", self)

    def tanh(self):
        """Compute the hyperbolic tangent."""
        return _unary("tanh", self)

    def arctan2(self, x):
        """Compute atan2(self, x), the angle of the point (x, self)."""
        return _atan2(self, _validate_function_argument(x, "atan2", 2))

    def hypot(self, other):
        """Compute √(self² + other²)."""
        return _hypot(self, _validate_function_argument(other, "hypot", 2))

    def conjugate(self):
        """Return self: a Dual number is real."""
        return self

    def __repr__(self):
        return f"Dual({_repr_part(self._value)}, {_repr_part(self._tangent)})"

    def __str__(self):
        return self.__format__("")

    def __format__(self, spec):
        if isinstance(self._value, Dual) or isinstance(self._tangent, Dual):
            return f"({format(self._value, spec)}) + ({format(self._tangent, spec)})ε"
        value = format(self._value, spec) if spec else repr(self._value)
        if isinstance(self._tangent, np.ndarray):
            return f"{value} + {_format_vector(self._tangent, spec)}ε"
        tangent = self._tangent
        sign = "-" if math.copysign(1.0, tangent) < 0 and not math.isnan(tangent) else "+"
        magnitude = format(abs(tangent), spec) if spec else repr(abs(tangent))
        return f"{value} {sign} {magnitude}ε"


def _repr_part(x):
    if isinstance(x, np.ndarray):
        return "[" + ", ".join(repr(float(v)) for v in x) + "]"
    return repr(x)


def _format_vector(vector, spec):
    if not spec:
        return _repr_part(vector)
    return "[" + ", ".join(format(float(v), spec) for v in vector) + "]"


def _elementwise(function, args):
    """Apply a dualtape function to arrays that hold or meet Dual numbers, element by element."""
    arrays = [_as_object_array(arg) for arg in args]
    return np.frompyfunc(function, len(args), 1)(*arrays)


def _validate_value(value):
    if isinstance(value, Dual):
        return value
    if isinstance(value, np.ndarray) and value.ndim > 0:
        raise ValueError(
            f"Dual value must be a scalar; got an array of shape {value.shape}. For a "
            "vector of Dual numbers build an object array of Duals")
    operand = _as_operand(value)
    if operand is None:
        raise TypeError(f"Dual value must be a real number or a Dual; got {type(value).__name__}")
    if not math.isfinite(operand):
        raise ValueError(f"Dual value must be finite; got {operand}")
    return operand


def _validate_tangent(tangent, value):
    if isinstance(tangent, Dual):
        return tangent
    if isinstance(tangent, (list, tuple, np.ndarray)):
        array = np.asarray(tangent)
        if array.ndim == 0:
            return _validate_tangent(array[()], value)
        if np.iscomplexobj(array):
            raise TypeError("Dual tangent must be real; got a complex array")
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Dual tangent must be an array of floats; got dtype {array.dtype}")
        if array.ndim != 1 or array.size == 0:
            raise ValueError(
                f"Dual tangent must be a float or a non-empty 1-D array; got shape {array.shape}")
        if isinstance(value, Dual):
            raise TypeError(
                "a nested Dual (whose value is a Dual) needs a float or Dual tangent; "
                f"got an array of shape {array.shape}")
        array = np.array(array, dtype=np.float64)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"Dual tangent must be finite; got {array}")
        array.flags.writeable = False
        return array
    operand = _as_operand(tangent)
    if operand is None:
        raise TypeError(
            f"Dual tangent must be a float, a 1-D array of floats or a Dual; got "
            f"{type(tangent).__name__}")
    if not math.isfinite(operand):
        raise ValueError(f"Dual tangent must be finite; got {operand}")
    return operand


# ---------------------------------------------------------------------------
# Derivatives of user functions
# ---------------------------------------------------------------------------

def _validate_callable(f):
    if not callable(f):
        raise TypeError(f"f must be callable; got {type(f).__name__}")


def _validate_point(x):
    """Check the point of `derivative`: a finite real scalar, or a Dual when nested."""
    if isinstance(x, Dual):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise TypeError("x must be a real number; got a bool")
    if isinstance(x, (np.ndarray, list, tuple)) and np.ndim(x) > 0:
        raise ValueError(
            f"x must be a scalar; got an array of shape {np.shape(x)}. derivative "
            "differentiates f: R -> R; call it once per point")
    operand = _as_operand(x)
    if operand is None:
        raise TypeError(f"x must be a real number; got {type(x).__name__}")
    if not math.isfinite(operand):
        raise ValueError(f"x must be finite; got {operand}")
    return operand


def _scalar_result(y):
    """Return the output of f as a float or Dual, or raise if it is not a real scalar."""
    if isinstance(y, np.ndarray):
        if y.shape != ():
            raise ValueError(f"f must return a scalar; got an array of shape {y.shape}")
        y = y[()]
    if isinstance(y, Dual):
        return y
    if isinstance(y, numbers.Real):
        return float(y)
    if isinstance(y, numbers.Complex):
        raise TypeError(f"f must return a real number; got the complex number {y!r}")
    raise TypeError(f"f must return a real number or a Dual; got {type(y).__name__}")


def _split_result(y, level):
    """Return (value, tangent) of f's output at the level of the seed."""
    if isinstance(y, Dual):
        if y._level == level:
            return y._value, y._tangent
        if y._level > level:
            raise ValueError(
                "f returned a Dual number that it created itself; f must compute its result "
                "from its argument with ordinary arithmetic")
    return y, 0.0


def derivative(f, x, order=1):
    """Differentiate a function of one real variable at x by forward mode.

    Parameters
    ----------
    f : callable
        f(x) -> float, built from Python arithmetic, ``dualtape`` math functions and
        NumPy ufuncs, so that it also runs on `Dual` numbers.
    x : float
        The point, a finite real number. Inside another call of `derivative`, x may be
        the Dual number that call passes in; the result is then a Dual as well.
    order : {1, 2}
        1 for f'(x); 2 for f''(x), computed with nested Dual numbers.

    Returns
    -------
    float
        f'(x) or f''(x).

    Raises
    ------
    ValueError
        If x, f(x) or the derivative is inf or NaN, or order is not 1 or 2.
    TypeError
        If f is not callable, x is not a real number, or f returns something other
        than a real number.
    """
    _validate_callable(f)
    if isinstance(order, (bool, np.bool_)) or order not in (1, 2):
        raise ValueError(f"order must be 1 or 2; got {order!r}")
    x = _validate_point(x)

    inner_level = _new_level()
    seed = _make(inner_level, x, 1.0)
    if order == 2:
        # X = (x + ε₁) + ε₂: f(X) = f(x) + f'(x)ε₁ + f'(x)ε₂ + f''(x)ε₁ε₂
        outer_level = _new_level()
        seed = _make(outer_level, seed, 1.0)

    y = _scalar_result(f(seed))

    if order == 1:
        value, result = _split_result(y, inner_level)
    else:
        value, first = _split_result(y, outer_level)
        _, result = _split_result(first, inner_level)

    if isinstance(result, np.ndarray):
        raise ValueError(
            "f combined its argument with a Dual number whose tangent is a vector; "
            "derivative expects a scalar result")
    if not math.isfinite(_real(value)):
        raise ValueError(f"f(x) is not finite at x = {_real(x)!r}: got {_real(value)!r}")
    if not math.isfinite(_real(result)):
        kind = "f'(x)" if order == 1 else "f''(x)"
        raise ValueError(
            f"{kind} is not finite at x = {_real(x)!r}: got {_real(result)!r}; "
            "f is not differentiable there")
    return result


def _forward_gradient(f, x):
    """Compute the gradient of a scalar function at a float array by forward mode.

    Each pass seeds up to `_GRADIENT_CHUNK` variables with unit tangent vectors, so a
    gradient of n ≤ `_GRADIENT_CHUNK` variables takes one evaluation of f. Returns an
    array shaped like x.
    """
    x = np.asarray(x, dtype=np.float64)
    flat = x.ravel()
    n = flat.size
    gradient = np.empty(n)

    for start in range(0, n, _GRADIENT_CHUNK):
        stop = min(n, start + _GRADIENT_CHUNK)
        width = stop - start
        level = _new_level()
        zero = np.zeros(width)
        zero.flags.writeable = False

        seeds = np.empty(n, dtype=object)
        for i in range(n):
            if start <= i < stop:
                unit = np.zeros(width)
                unit[i - start] = 1.0
                seeds[i] = _make(level, float(flat[i]), unit)
            else:
                seeds[i] = _make(level, float(flat[i]), zero)

        y = _scalar_result(f(seeds.reshape(x.shape)))
        _, tangent = _split_result(y, level)
        if isinstance(tangent, Dual):
            raise ValueError("f returned a nested Dual number; expected a real number")
        gradient[start:stop] = tangent

    return gradient.reshape(x.shape)
