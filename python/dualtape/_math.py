"""Math functions that work on floats, NumPy arrays, traced symbols and Dual numbers.

Floats and float arrays go to NumPy. A value whose type derives from `Differentiable`
(a traced `Symbol`, a `Dual`) handles the call itself through ``__dt_function__``.
Object arrays are mapped element by element, so small vectors and matrices of symbols
work with every function here.
"""

from __future__ import annotations

import contextvars

import numpy as np

__all__ = [
    "sqrt", "exp", "log", "log1p", "expm1", "sin", "cos", "tan", "asin", "acos",
    "atan", "atan2", "sinh", "cosh", "tanh", "abs", "minimum", "maximum", "hypot",
    "where", "power", "square", "sign", "dot", "cross", "norm", "det", "inv",
    "Differentiable", "NotComplexAnalyticError",
]


class Differentiable:
    """Base of the scalar types that carry derivatives (symbols, Dual numbers).

    A subclass implements ``__dt_function__(self, name, args)``, where ``name`` is
    one of the function names of this module and ``args`` the call's arguments.
    When several arguments are `Differentiable`, the one with the highest
    ``__dt_priority__`` handles the call.
    """

    __dt_priority__ = 0

    def __dt_function__(self, name, args):
        raise NotImplementedError


class NotComplexAnalyticError(ValueError):
    """A complex-step evaluation reached a function that is not complex-analytic."""


# True while dualtape.numdiff evaluates a function at complex-step points. Then the
# functions without a complex-analytic extension (abs, minimum, maximum, sign, where)
# raise on input with a nonzero imaginary part instead of returning a wrong derivative.
_complex_step_active = contextvars.ContextVar("complex_step_active", default=False)


def _reject_complex_step(name, *args):
    if not _complex_step_active.get():
        return
    for arg in args:
        if np.iscomplexobj(arg) and np.any(np.imag(np.asarray(arg)) != 0):
            got = f"{complex(arg)!r}" if np.ndim(arg) == 0 else f"an array of shape {np.shape(arg)}"
            raise NotComplexAnalyticError(
                f"dualtape.{name} is not complex-analytic, so the complex step cannot "
                f"differentiate through it (it got the complex input {got}); use "
                "method='central' or method='forward'")


def _handler(args):
    best = None
    for arg in args:
        if isinstance(arg, Differentiable):
            if best is None or arg.__dt_priority__ > best.__dt_priority__:
                best = arg
    return best


def _is_object_array(value):
    return isinstance(value, np.ndarray) and value.dtype == object


def _apply(name, numpy_function, *args):
    handler = _handler(args)
    if handler is not None:
        return handler.__dt_function__(name, args)
    if any(_is_object_array(arg) for arg in args):
        elementwise = np.frompyfunc(lambda *items: _apply(name, numpy_function, *items),
                                    len(args), 1)
        return elementwise(*args)
    return numpy_function(*args)


def sqrt(x):
    """Compute the square root; its derivative at exactly 0 is defined as 0."""
    return _apply("sqrt", np.sqrt, x)


def exp(x):
    """Compute eˣ."""
    return _apply("exp", np.exp, x)


def log(x):
    """Compute the natural logarithm."""
    return _apply("log", np.log, x)


def log1p(x):
    """Compute log(1 + x), accurate for small x."""
    return _apply("log1p", np.log1p, x)


def expm1(x):
    """Compute eˣ − 1, accurate for small x."""
    return _apply("expm1", np.expm1, x)


def sin(x):
    """Compute the sine."""
    return _apply("sin", np.sin, x)


def cos(x):
    """Compute the cosine."""
    return _apply("cos", np.cos, x)


def tan(x):
    """Compute the tangent."""
    return _apply("tan", np.tan, x)


def asin(x):
    """Compute the inverse sine."""
    return _apply("asin", np.arcsin, x)


def acos(x):
    """Compute the inverse cosine."""
    return _apply("acos", np.arccos, x)


def atan(x):
    """Compute the inverse tangent."""
    return _apply("atan", np.arctan, x)


def atan2(y, x):
    """Compute the angle of the point (x, y), in (−π, π]."""
    return _apply("atan2", np.arctan2, y, x)


def sinh(x):
    """Compute the hyperbolic sine."""
    return _apply("sinh", np.sinh, x)


def cosh(x):
    """Compute the hyperbolic cosine."""
    return _apply("cosh", np.cosh, x)


def tanh(x):
    """Compute the hyperbolic tangent."""
    return _apply("tanh", np.tanh, x)


def abs(x):  # noqa: A001 - the public name mirrors numpy.abs
    """Compute |x|; its derivative at 0 is defined as 0."""
    _reject_complex_step("abs", x)
    return _apply("abs", np.abs, x)


def minimum(a, b):
    """Compute the smaller of a and b; at a tie the derivative follows a."""
    _reject_complex_step("minimum", a, b)
    return _apply("minimum", np.minimum, a, b)


def maximum(a, b):
    """Compute the larger of a and b; at a tie the derivative follows a."""
    _reject_complex_step("maximum", a, b)
    return _apply("maximum", np.maximum, a, b)


def hypot(a, b):
    """Compute √(a² + b²) without overflow; its gradient at (0, 0) is (0, 0)."""
    return _apply("hypot", np.hypot, a, b)


def power(a, b):
    """Compute a ** b."""
    return _apply("power", np.power, a, b)


def square(x):
    """Compute x²."""
    return x * x


def sign(x):
    """Compute the sign (−1, 0 or 1) as a constant with zero derivative."""
    _reject_complex_step("sign", x)
    return _apply("sign", np.sign, x)


def where(condition, a, b):
    """Select a where the condition holds and b elsewhere.

    Only the selected branch contributes to derivatives: the other branch gets an
    exact zero even where its own value or derivative is inf or NaN.
    """
    _reject_complex_step("where", a, b)
    return _apply("where", np.where, condition, a, b)


def _as_vector(v, argument):
    array = np.asarray(v) if not isinstance(v, np.ndarray) else v
    if array.ndim != 1:
        raise ValueError(f"{argument} must be a 1-D vector; got shape {array.shape}")
    return array


def dot(a, b):
    """Compute the dot product of two vectors, or a matrix product for 2-D inputs."""
    a = a if isinstance(a, np.ndarray) else np.asarray(a)
    b = b if isinstance(b, np.ndarray) else np.asarray(b)
    if a.ndim == 1 and b.ndim == 1:
        if a.shape != b.shape:
            raise ValueError(f"dot: vectors of lengths {a.shape[0]} and {b.shape[0]} differ")
        total = a[0] * b[0]
        for i in range(1, a.shape[0]):
            total = total + a[i] * b[i]
        return total
    return a @ b


def cross(a, b):
    """Compute the cross product of two 3-vectors, or the scalar cross of two 2-vectors."""
    a = _as_vector(a, "a")
    b = _as_vector(b, "b")
    if a.shape == (2,) and b.shape == (2,):
        return a[0] * b[1] - a[1] * b[0]
    if a.shape == (3,) and b.shape == (3,):
        return np.array([a[1] * b[2] - a[2] * b[1],
                         a[2] * b[0] - a[0] * b[2],
                         a[0] * b[1] - a[1] * b[0]], dtype=_result_dtype(a, b))
    raise ValueError(f"cross expects two vectors of length 2 or 3; got shapes {a.shape} and {b.shape}")


def norm(v):
    """Compute the Euclidean norm of a vector; its gradient at 0 is 0."""
    v = _as_vector(v, "v")
    return sqrt(dot(v, v))


def _result_dtype(*arrays):
    return object if any(array.dtype == object for array in arrays) else float


def _as_square(m, argument):
    m = m if isinstance(m, np.ndarray) else np.asarray(m)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] not in (1, 2, 3):
        raise ValueError(f"{argument} must be a 1×1, 2×2 or 3×3 matrix; got shape {m.shape}")
    return m


def det(m):
    """Compute the determinant of a 1×1, 2×2 or 3×3 matrix."""
    m = _as_square(m, "m")
    if m.shape[0] == 1:
        return m[0, 0]
    if m.shape[0] == 2:
        return m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    return (m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1])
            - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
            + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]))


def inv(m):
    """Compute the inverse of a 1×1, 2×2 or 3×3 matrix by its adjugate.

    The result is inf or NaN for a singular matrix of floats; no check is made,
    because a traced matrix has no value to check.
    """
    m = _as_square(m, "m")
    d = det(m)
    n = m.shape[0]
    if n == 1:
        return np.array([[1.0 / d]], dtype=_result_dtype(m))
    if n == 2:
        adjugate = [[m[1, 1], -m[0, 1]], [-m[1, 0], m[0, 0]]]
    else:
        adjugate = [
            [m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1], m[0, 2] * m[2, 1] - m[0, 1] * m[2, 2],
             m[0, 1] * m[1, 2] - m[0, 2] * m[1, 1]],
            [m[1, 2] * m[2, 0] - m[1, 0] * m[2, 2], m[0, 0] * m[2, 2] - m[0, 2] * m[2, 0],
             m[0, 2] * m[1, 0] - m[0, 0] * m[1, 2]],
            [m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0], m[0, 1] * m[2, 0] - m[0, 0] * m[2, 1],
             m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]],
        ]
    inverse_det = 1.0 / d
    result = np.empty((n, n), dtype=_result_dtype(m))
    for i in range(n):
        for j in range(n):
            result[i, j] = adjugate[i][j] * inverse_det
    return result
