"""Per-element residuals: one traced vector function evaluated over many elements."""

from __future__ import annotations

import decimal
import fractions
import math

import numpy as np
import scipy.sparse as sp

from . import _core
from ._blocks import resolve_n_vars
from .elements import ElementArrays, ElementEnergy, _as_elements, _as_params, _trace_element, as_variables
from .tracing import _call_traced

__all__ = ["Residuals", "split_double_double"]

_MODES = ("auto", "reverse", "forward")
_PRECISIONS = ("double", "double-double")


def _where(index) -> str:
    return f"values[{', '.join(map(str, index))}]" if index else "values"


def _split_number(value, where: str):
    """Return (high, low) of one number or decimal string; `where` names it in errors."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where} = {value!r} is a bool; expected a number or a decimal string")
    if isinstance(value, np.floating):
        if not np.isfinite(value):
            raise ValueError(f"{where} = {value!r} is not finite")
        with np.errstate(over="ignore"):
            high = float(value)
        if not math.isfinite(high):
            raise ValueError(f"{where} = {value!r} is outside the range of a double")
        return high, float(value - type(value)(high))
    try:
        if isinstance(value, fractions.Fraction):
            exact = decimal.Decimal(value.numerator) / decimal.Decimal(value.denominator)
        elif isinstance(value, bytes):
            exact = decimal.Decimal(value.decode())
        elif isinstance(value, (np.integer, int)):
            exact = decimal.Decimal(int(value))
        elif isinstance(value, (str, decimal.Decimal, float)):
            exact = decimal.Decimal(value)
        else:
            raise TypeError(f"{where} = {value!r} is not a number or a decimal string; "
                            "expected an array_like of them")
    except (decimal.InvalidOperation, ValueError, UnicodeDecodeError):
        raise ValueError(f"{where} = {value!r} is not a number") from None
    if not exact.is_finite():
        raise ValueError(f"{where} = {value!r} is not finite")
    high = float(exact)
    if not math.isfinite(high):
        raise ValueError(f"{where} = {value!r} is outside the range of a double")
    return high, float(exact - decimal.Decimal(high))


def split_double_double(values):
    """Split numbers with more digits than a double into two float arrays (high, low).

    high is the nearest double of each value and low the nearest double of the
    rest, so that high + low represents the value to about 32 significant
    digits. These are the ``params`` and ``params_low`` of a `Residuals` with
    precision="double-double".

    Parameters
    ----------
    values : array_like
        A number or an array of any shape of decimal strings
        ("2.513400000000E+00", str or bytes), `decimal.Decimal`,
        `fractions.Fraction`, int or float values, including NumPy long
        doubles and integers. Floats are taken at their exact binary value, so
        a float64 has low part 0. A value beyond the range of a double raises
        ValueError, and one below the smallest double (4.9e-324) becomes 0.

    Returns
    -------
    high, low : float arrays shaped like ``values``

    Examples
    --------
    >>> high, low = split_double_double(["0.1", "2.5134"])
    >>> high
    array([0.1   , 2.5134])
    >>> bool(low[0] != 0)
    True
    """
    try:
        # Lists keep each value's own type, so that a float next to a string is not
        # read back from its shortest decimal form.
        array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
        if array.dtype == object and array.ndim > 0 and any(isinstance(v, (list, tuple)) for v in array.flat):
            array = np.asarray(values)  # ragged: let NumPy name the inconsistent shape
    except ValueError as error:
        raise ValueError(f"values must be a rectangular array of numbers or decimal strings ({error})") from None
    if array.size == 0:
        raise ValueError("values must not be empty")
    if array.dtype.kind == "b":
        raise TypeError(f"values must be numbers or decimal strings; got dtype {array.dtype}")
    if array.dtype.kind == "f":
        not_finite = ~np.isfinite(array)
        if np.any(not_finite):
            index = tuple(int(i) for i in np.argwhere(not_finite)[0])
            raise ValueError(f"{_where(index)} = {array[index]!r} is not finite")
        with np.errstate(over="ignore"):
            high = array.astype(np.float64)
        if not np.all(np.isfinite(high)):
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(high))[0])
            raise ValueError(f"{_where(index)} = {array[index]!r} is outside the range of a double")
        low = np.asarray(array - high.astype(array.dtype)).astype(np.float64)
        return high, low
    if array.dtype.kind not in "iuOUS":
        raise TypeError(f"values must be numbers or decimal strings; got dtype {array.dtype}")
    high = np.empty(array.shape)
    low = np.empty(array.shape)
    with decimal.localcontext() as context:
        context.prec = 40
        for index, value in np.ndenumerate(array):
            if isinstance(value, np.str_):
                value = str(value)
            high[index], low[index] = _split_number(value, _where(index))
    return high, low


class Residuals(ElementArrays):
    """The residual vector r(x) of a least-squares problem, traced once and run in C++.

    Element e contributes the r outputs of ``fn`` as the rows ``e·r .. e·r + r − 1``
    of r(x), so ``residuals(x)`` has length E·r. The cost is ½‖r(x)‖².

    Parameters
    ----------
    fn : callable
        ``fn(x_local, p) -> 1-D array of r residuals`` (or ``fn(x_local)`` without
        parameters). x_local is a k×dim object array of symbols, row i being the
        variable block ``elements[e, i]``; p is the row of ``params`` of the element.
    elements : (E, k) int array
        Variable-block indices of each element.
    dim : int
        Size of one variable block.
    params : (E, m) float array, optional
        Per-element constants, for example one data point (x_i, y_i) per row.
    n_vars : int, optional
        Number of variable blocks (rows of an (n, dim) x). Defaults to the largest
        block index plus one.
    n_residuals : int, optional
        Expected number of residuals per element; when given, a function that
        returns a different number raises ValueError.
    mode : {"auto", "reverse", "forward"}
        How Jacobian rows are computed: "auto" uses one reverse sweep per output
        when r ≤ k·dim and forward mode with k·dim directions otherwise.
    precision : {"double", "double-double"}
        Arithmetic of the residual values. "double-double" runs the traced
        function in double-double arithmetic (a value stored as the sum of two
        doubles, about 32 significant digits) and rounds each residual to
        double. A residual that is down to 1e-16 of the data and model values
        that cancel in it then keeps nearly all of its 16 digits: a fit to data
        with 13 digits whose residuals are 1e-13 of the data, like the NIST
        problem Lanczos1, keeps 16 correct digits of each residual instead of
        3. Every residual evaluation uses it: `residuals`, `cost`, the residual
        vector of `residuals_and_jacobian` and `least_squares`. The Jacobian
        is computed in double. Constants written in fn (0.1, math.pi) are
        doubles, so pass a constant whose digits matter as a parameter with
        its low part. sin, cos and tan of arguments beyond 2^50 (1.1e15) are
        only as accurate as in double. An evaluation of the residuals takes 1 to 60
        times as long as in double (measured on the NIST problems; more for
        models with more exponentials, powers and sines). `as_energy`
        evaluates in double.
    params_low : (E, m) float array, optional
        With precision="double-double": the part of each parameter value that its
        double in ``params`` cannot represent, so that parameter j of element e
        is ``params[e, j] + params_low[e, j]``. `split_double_double` computes
        both arrays from decimal strings, `decimal.Decimal` or NumPy long double
        values. Long double ``params`` (an array or nested lists of
        np.longdouble) with precision="double-double" and no params_low are
        split the same way.

    Examples
    --------
    Rosenbrock as residuals, one element over both variables:

    >>> resid = Residuals(lambda x: [10 * (x[0, 1] - x[0, 0] ** 2), 1 - x[0, 0]],
    ...                   np.zeros((1, 1), int), dim=2)
    >>> resid.residuals([-1.2, 1.0])
    array([-4.4,  2.2])
    """

    def __init__(self, fn, elements, dim: int, params=None, n_vars=None, n_residuals=None, mode: str = "auto",
                 precision: str = "double", params_low=None):
        if not callable(fn):
            raise TypeError(f"fn must be callable; got {type(fn).__name__}")
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"dim must be a positive integer; got {dim!r}")
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}; got {mode!r}")
        if precision not in _PRECISIONS:
            raise ValueError(f"precision must be one of {_PRECISIONS}; got {precision!r}")
        self.elements = _as_elements(elements)
        self.dim = int(dim)
        self.params = _as_params(params, self.elements.shape[0])
        self.fn = fn
        self.tape = _trace_element(fn, self.arity, self.dim, self.n_params, vector_output=True)
        if n_residuals is not None:
            if not isinstance(n_residuals, (int, np.integer)) or isinstance(n_residuals, bool) or n_residuals < 1:
                raise ValueError(f"n_residuals must be a positive integer; got {n_residuals!r}")
            if self.tape.n_outputs != n_residuals:
                raise ValueError(f"the residual function returned {self.tape.n_outputs} residuals per element, "
                                 f"but n_residuals is {n_residuals}")
        self.n_vars = resolve_n_vars(n_vars, [self.elements], "Residuals")
        self.precision = precision
        if (precision == "double-double" and params_low is None and params is not None
                and np.asarray(params).dtype == np.longdouble and np.finfo(np.longdouble).nmant > 52):
            _, params_low = split_double_double(np.asarray(params))
        self.params_low = self._as_params_low(params_low)
        self._elements_core = _core.ElementEnergy(self.tape._core, self.elements, self.dim, self.params)
        self._core = _core.Residuals(self._elements_core, self.n_vars, mode, precision == "double-double",
                                     self.params_low.reshape(-1) if self.params_low is not None else [])

    def _as_params_low(self, params_low):
        if params_low is None:
            return None
        if self.precision != "double-double":
            raise ValueError("params_low is used only by the double-double evaluation; "
                             "pass precision='double-double' with it")
        if self.n_params == 0:
            raise ValueError("params_low was given, but there are no params")
        array = np.asarray(params_low)
        if array.dtype == object or array.dtype.kind not in "iuf":
            raise TypeError(f"params_low must be a real float array shaped like params; got dtype {array.dtype}")
        if array.ndim == 1 and self.n_params == 1:
            array = array.reshape(-1, 1)
        if array.shape != self.params.shape:
            raise ValueError(f"params_low must have the shape of params, {self.params.shape}; got {array.shape}")
        array = np.ascontiguousarray(array, dtype=np.float64)
        if not np.all(np.isfinite(array)):
            row = int(np.argwhere(~np.isfinite(array))[0][0])
            raise ValueError(f"params_low row {row} contains NaN or inf")
        return array


    @property
    def n_outputs(self) -> int:
        """Residuals per element (r)."""
        return self.tape.n_outputs

    @property
    def n_residuals(self) -> int:
        """Length of the residual vector, E·r."""
        return self.n_elements * self.n_outputs

    @property
    def n(self) -> int:
        """Number of scalar variables, n_vars · dim."""
        return self.n_vars * self.dim

    @property
    def jacobian_nnz(self) -> int:
        """Number of stored entries of the sparse Jacobian."""
        return int(self._core.nnz)

    @property
    def jacobian_mode(self) -> str:
        """"reverse" or "forward": how the Jacobian rows are computed."""
        return "reverse" if self._core.uses_reverse_mode else "forward"

    def __repr__(self) -> str:
        precision = f", precision={self.precision!r}" if self.precision != "double" else ""
        return (f"Residuals(n_elements={self.n_elements}, arity={self.arity}, dim={self.dim}, "
                f"n_outputs={self.n_outputs}, n_vars={self.n_vars}, n_params={self.n_params}, "
                f"n_operations={self.tape.n_operations}{precision})")

    def _x(self, x, name: str = "x"):
        return as_variables(x, self.n_vars, self.dim, name)

    def residuals(self, x) -> np.ndarray:
        """Evaluate the residual vector r(x) (length E·r, element by element)."""
        flat, _ = self._x(x)
        return self._core.residuals(flat)

    def jacobian(self, x) -> sp.csr_matrix:
        """Evaluate the Jacobian ∂r/∂x as an (E·r) × (n_vars·dim) CSR matrix."""
        return self.residuals_and_jacobian(x)[1]

    def residuals_and_jacobian(self, x):
        """Evaluate r(x) and the sparse Jacobian in one pass."""
        flat, _ = self._x(x)
        r, (data, indices, indptr) = self._core.jacobian(flat)
        return r, sp.csr_matrix((data, indices, indptr), shape=(self.n_residuals, self.n))

    def cost(self, x) -> float:
        """Evaluate the cost ½‖r(x)‖²."""
        r = self.residuals(x)
        return 0.5 * float(r @ r)

    def gradient(self, x) -> np.ndarray:
        """Evaluate the gradient Jᵀr of the cost, shaped like x."""
        flat, shape = self._x(x)
        r, J = self.residuals_and_jacobian(flat)
        return (J.T @ r).reshape(shape)

    def as_energy(self) -> ElementEnergy:
        """Return the cost ½‖r‖² as an `ElementEnergy`, traced as ½ Σ_o r_o² per element.

        The energy can enter a `dualtape.Objective`, so Newton or L-BFGS can run on
        a least-squares problem and mix it with other energies.
        """
        fn, n_params = self.fn, self.n_params

        def half_squared_norm(x, p):
            values = np.asarray(_call_traced(fn, x, p, n_params), dtype=object).reshape(-1)
            total = 0.0
            for value in values:
                total = total + value * value
            return 0.5 * total

        return ElementEnergy(half_squared_norm, self.elements, self.dim,
                             self.params if self.n_params > 0 else None)

