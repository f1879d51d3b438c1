"""Record Python functions into C++ tapes.

`trace(fn, n_inputs, n_params)` calls ``fn`` once with arrays of `Symbol` objects;
every operation on a symbol appends one instruction to a recorder. The recorded
program is then handed to the C++ core as a `Tape`.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from . import _core
from ._math import Differentiable

__all__ = ["TracingError", "Symbol", "Tape", "trace"]

OP = {name: code for code, name in enumerate(_core.OP_NAMES)}


class TracingError(RuntimeError):
    """Raised when traced code does something a straight-line tape cannot record."""


_UNARY = {
    "sqrt": "Sqrt", "exp": "Exp", "log": "Log", "log1p": "Log1p", "expm1": "Expm1",
    "sin": "Sin", "cos": "Cos", "tan": "Tan", "asin": "Asin", "acos": "Acos",
    "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh", "tanh": "Tanh", "abs": "Abs",
    "sign": "Sign",
}
_BINARY = {"atan2": "Atan2", "hypot": "Hypot", "minimum": "Min", "maximum": "Max"}

# NumPy ufunc names that map to a function of `dualtape._math`.
_UFUNC_NAMES = {
    "sqrt": "sqrt", "exp": "exp", "log": "log", "log1p": "log1p", "expm1": "expm1",
    "sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin", "arccos": "acos",
    "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "absolute": "abs", "fabs": "abs", "sign": "sign", "arctan2": "atan2",
    "hypot": "hypot", "minimum": "minimum", "maximum": "maximum", "fmin": "minimum",
    "fmax": "maximum",
}
_UFUNC_OPERATORS = {
    "add": lambda a, b: a + b, "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b, "true_divide": lambda a, b: a / b,
    "divide": lambda a, b: a / b, "power": lambda a, b: a ** b,
    "negative": lambda a: -a, "positive": lambda a: +a, "square": lambda a: a * a,
    "reciprocal": lambda a: 1.0 / a, "less": lambda a, b: a < b,
    "less_equal": lambda a, b: a <= b, "greater": lambda a, b: a > b,
    "greater_equal": lambda a, b: a >= b, "equal": lambda a, b: a == b,
    "not_equal": lambda a, b: a != b,
}


class Recorder:
    """The instruction list of one trace, in the layout `_core.Tape` takes."""

    def __init__(self, n_inputs: int, n_params: int):
        self.n_inputs = n_inputs
        self.n_params = n_params
        self.ops: list[int] = []
        self.args_a: list[int] = []
        self.args_b: list[int] = []
        self.args_c: list[int] = []
        self.constants: list[float] = []
        self._constant_slots: dict = {}
        self.closed = False

    def emit(self, op: str, a: int = -1, b: int = -1, c: int = -1, k: float = 0.0) -> "Symbol":
        if self.closed:
            raise TracingError(
                "this symbol belongs to a trace that has finished; symbols cannot be "
                "kept and used after the traced function returns")
        self.ops.append(OP[op])
        self.args_a.append(a)
        self.args_b.append(b)
        self.args_c.append(c)
        self.constants.append(k)
        return Symbol(self, len(self.ops) - 1)

    def constant(self, value: float) -> "Symbol":
        key = float(value)
        # NaN is not equal to itself, so it gets a fresh slot each time.
        slot = self._constant_slots.get(key) if key == key else None
        if slot is None:
            symbol = self.emit("Const", k=key)
            if key == key:
                self._constant_slots[key] = symbol.slot
            return symbol
        return Symbol(self, slot)

    def lift(self, value) -> "Symbol":
        """Return value as a symbol of this recorder (numbers become constants)."""
        if isinstance(value, Symbol):
            if value.recorder is not self:
                raise TracingError(
                    "a symbol from another trace was used here; symbols cannot move "
                    "between traces (each trace() call makes its own)")
            return value
        if isinstance(value, (bool, np.bool_)):
            return self.constant(1.0 if value else 0.0)
        if isinstance(value, numbers.Real):
            return self.constant(float(value))
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return self.lift(value[()])
        raise TypeError(
            f"traced code combined a symbol with a value of type {type(value).__name__}; "
            "expected a symbol, a real number or a 0-d array")


def _is_numpy_number(value) -> bool:
    """Whether value is a real NumPy scalar or 0-d array (which ufuncs would send back to a symbol)."""
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf"


def _as_object_array(value) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value if value.dtype == object else value.astype(object)
    array = np.empty((), dtype=object)
    array[()] = value
    return array


def _is_operand(value) -> bool:
    return isinstance(value, (Symbol, numbers.Real, np.bool_)) or (
        isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype != object)


class Symbol(Differentiable):
    """A value inside a traced function: one slot of the tape being recorded.

    Symbols support Python's arithmetic operators, comparisons (which return
    symbols of value 0 or 1), NumPy ufuncs and the functions of `dualtape`
    (``dt.sqrt``, ``dt.where``, ...). A Python ``if`` on a symbol cannot be
    recorded and raises `TracingError`; use `dualtape.where` instead.
    """

    # No __slots__: the eager subclass derives from a C type as well, and two bases
    # with their own instance layouts cannot be combined.
    __dt_priority__ = 10
    __array_priority__ = 1000

    def __init__(self, recorder: Recorder, slot: int):
        self.recorder = recorder
        self.slot = slot

    def __repr__(self) -> str:
        return f"Symbol(slot={self.slot})"

    __hash__ = object.__hash__

    # -- operators -------------------------------------------------------------

    def _binary(self, other, op: str, reverse: bool = False):
        if isinstance(other, np.ndarray) and other.ndim > 0:
            return NotImplemented
        if not _is_operand(other):
            return NotImplemented
        rec = self.recorder
        a, b = rec.lift(self), rec.lift(other)
        if reverse:
            a, b = b, a
        return rec.emit(op, a.slot, b.slot)

    def __add__(self, other): return self._binary(other, "Add")
    def __radd__(self, other): return self._binary(other, "Add", True)
    def __sub__(self, other): return self._binary(other, "Sub")
    def __rsub__(self, other): return self._binary(other, "Sub", True)
    def __mul__(self, other): return self._binary(other, "Mul")
    def __rmul__(self, other): return self._binary(other, "Mul", True)
    def __truediv__(self, other): return self._binary(other, "Div")
    def __rtruediv__(self, other): return self._binary(other, "Div", True)
    def __lt__(self, other): return self._binary(other, "Lt")
    def __le__(self, other): return self._binary(other, "Le")
    def __gt__(self, other): return self._binary(other, "Gt")
    def __ge__(self, other): return self._binary(other, "Ge")
    def __eq__(self, other): return self._binary(other, "Eq")  # type: ignore[override]
    def __ne__(self, other): return self._binary(other, "Ne")  # type: ignore[override]

    def __pow__(self, exponent):
        if isinstance(exponent, (numbers.Real, np.bool_)) and not isinstance(exponent, Symbol):
            k = float(exponent)
            if k == 1.0:
                return self
            if k == 2.0:
                return self.recorder.emit("Square", self.slot)
            if k == 0.5:
                return self.recorder.emit("Sqrt", self.slot)
            return self.recorder.emit("PowConst", self.slot, k=k)
        return self._binary(exponent, "Pow")

    def __rpow__(self, base):
        return self._binary(base, "Pow", True)

    def __neg__(self):
        return self.recorder.emit("Neg", self.slot)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.recorder.emit("Abs", self.slot)

    def __bool__(self):
        raise TracingError(
            "a Python `if`, `while`, `and`/`or` or bool() on a traced value cannot be "
            "recorded into a tape; use dt.where(condition, a, b) to select between "
            "values, or dt.minimum / dt.maximum")

    def __float__(self):
        raise TracingError(
            "a traced value has no number yet: float() and math.* functions cannot take "
            "a symbol; use the dualtape functions (dt.sqrt, dt.exp, ...) or NumPy ufuncs")

    def __index__(self):
        raise TracingError("a traced value cannot be used as an index or a size")

    # -- dualtape and NumPy functions ------------------------------------------

    def __dt_function__(self, name, args):
        rec = self.recorder
        if name in _UNARY:
            (x,) = args
            return rec.emit(_UNARY[name], rec.lift(x).slot)
        if name in _BINARY:
            a, b = (rec.lift(arg) for arg in args)
            return rec.emit(_BINARY[name], a.slot, b.slot)
        if name == "power":
            base, exponent = args
            if isinstance(base, Symbol):
                return base ** exponent
            return rec.lift(base) ** exponent
        if name == "where":
            condition, a, b = (rec.lift(arg) for arg in args)
            return rec.emit("Where", a.slot, b.slot, condition.slot)
        raise TracingError(f"dt.{name} is not supported on traced values")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            return NotImplemented
        if any(isinstance(item, np.ndarray) and item.ndim > 0 for item in inputs):
            # Every operand goes in as an object array: a bare symbol would send the
            # elementwise call back to this method.
            arrays = [_as_object_array(item) for item in inputs]
            return np.frompyfunc(lambda *items: ufunc(*items), len(inputs), 1)(*arrays)
        name = ufunc.__name__
        if name in _UFUNC_OPERATORS:
            # A NumPy scalar operand would send `a * b` back to this ufunc; a Python
            # float makes the operator reach the symbol's own method.
            inputs = [float(item) if _is_numpy_number(item) else item for item in inputs]
            return _UFUNC_OPERATORS[name](*inputs)
        if name in _UFUNC_NAMES:
            return self.__dt_function__(_UFUNC_NAMES[name], inputs)
        raise TracingError(f"NumPy function {name} is not supported on traced values")

    # Methods that NumPy calls on the elements of object arrays (np.sqrt(array)).
    def sqrt(self): return self.recorder.emit("Sqrt", self.slot)
    def exp(self): return self.recorder.emit("Exp", self.slot)
    def log(self): return self.recorder.emit("Log", self.slot)
    def log1p(self): return self.recorder.emit("Log1p", self.slot)
    def expm1(self): return self.recorder.emit("Expm1", self.slot)
    def sin(self): return self.recorder.emit("Sin", self.slot)
    def cos(self): return self.recorder.emit("Cos", self.slot)
    def tan(self): return self.recorder.emit("Tan", self.slot)
    def arcsin(self): return self.recorder.emit("Asin", self.slot)
    def arccos(self): return self.recorder.emit("Acos", self.slot)
    def arctan(self): return self.recorder.emit("Atan", self.slot)
    def sinh(self): return self.recorder.emit("Sinh", self.slot)
    def cosh(self): return self.recorder.emit("Cosh", self.slot)
    def tanh(self): return self.recorder.emit("Tanh", self.slot)

    def arctan2(self, other):
        return self.__dt_function__("atan2", (self, other))

    def conjugate(self):
        return self


def _symbols(recorder: Recorder, op: str, count: int) -> np.ndarray:
    array = np.empty(count, dtype=object)
    for i in range(count):
        array[i] = recorder.emit(op, i)
    return array


def _positional_count(fn) -> int | None:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    count = 0
    for parameter in signature.parameters.values():
        if parameter.kind == parameter.VAR_POSITIONAL:
            return None
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def _output_slots(recorder: Recorder, result) -> tuple[list[int], tuple]:
    """Slots of a traced function's result and the shape it had."""
    if isinstance(result, (Symbol, numbers.Real, np.bool_)):
        return [recorder.lift(result).slot], ()
    if isinstance(result, (list, tuple)):
        result = np.array(result, dtype=object)
    if isinstance(result, np.ndarray):
        if result.size == 0:
            raise ValueError("the traced function returned an empty array; expected a scalar or a non-empty 1-D array")
        if result.ndim > 1:
            raise ValueError(f"the traced function returned an array of shape {result.shape}; "
                             "expected a scalar or a 1-D array")
        flat = result.reshape(-1)
        return [recorder.lift(item).slot for item in flat], result.shape
    raise TypeError(f"the traced function returned {type(result).__name__}; "
                    "expected a scalar symbol or number, or a 1-D array of them")


def _call_traced(fn, x, p, n_params):
    count = _positional_count(fn)
    if n_params > 0 and count is not None and count < 2:
        raise TypeError(f"fn takes {count} positional argument(s), but with n_params = {n_params} "
                        "it is called as fn(x, p); add the parameter p or set n_params to 0")
    if n_params > 0 or count is None or count >= 2:
        return fn(x, p)
    return fn(x)


def _as_point(value, length: int, name: str) -> np.ndarray:
    if value is None:
        if length == 0:
            return np.zeros(0)
        raise ValueError(f"{name} is required: the tape has {length} of them")
    array = np.asarray(value)
    if array.dtype == object or np.iscomplexobj(array):
        raise TypeError(f"{name} must be a real float array; got dtype {array.dtype}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real float array; got dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.float64).reshape(-1)
    if array.shape[0] != length:
        raise ValueError(f"{name} must have {length} entries; got {array.shape[0]}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf at index {int(np.flatnonzero(~np.isfinite(array))[0])}")
    return array


class Tape:
    """A traced function: a straight-line program evaluated in C++.

    Made by `trace`. ``x`` (length ``n_inputs``) holds the variables and ``p``
    (length ``n_params``) the parameters.
    """

    def __init__(self, core: "_core.Tape", output_shape: tuple):
        self._core = core
        self.output_shape = output_shape
        # A C function for gradient(x) at a finite float64 vector x. It returns
        # NotImplemented for any other x, and gradient() then converts x first.
        self._gradient_of_vector = (core.gradient_function()
                                    if output_shape == () and core.n_params == 0 else None)

    @property
    def n_inputs(self) -> int:
        return self._core.n_inputs

    @property
    def n_params(self) -> int:
        return self._core.n_params

    @property
    def n_outputs(self) -> int:
        return self._core.n_outputs

    @property
    def n_operations(self) -> int:
        """Number of arithmetic instructions after dead code removal."""
        return self._core.n_operations

    def __repr__(self) -> str:
        return (f"Tape(n_inputs={self.n_inputs}, n_params={self.n_params}, "
                f"n_outputs={self.n_outputs}, n_operations={self.n_operations})")

    def _point(self, x, p):
        return _as_point(x, self.n_inputs, "x"), _as_point(p, self.n_params, "p")

    def _require_scalar(self, what: str):
        if self.n_outputs != 1 or self.output_shape != ():
            raise ValueError(f"{what} needs a scalar function, but this tape has output shape "
                             f"{self.output_shape}; use tape.jacobian for vector outputs")

    def value(self, x, p=None):
        """Evaluate the function: a float, or an array for vector outputs."""
        x, p = self._point(x, p)
        out = self._core.evaluate(x, p)
        return float(out[0]) if self.output_shape == () else out.reshape(self.output_shape)

    def gradient(self, x, p=None) -> np.ndarray:
        """Compute the gradient by the reverse sweep."""
        if p is None and self._gradient_of_vector is not None:
            gradient = self._gradient_of_vector(x)
            if gradient is not NotImplemented:
                return gradient
        self._require_scalar("gradient")
        x, p = self._point(x, p)
        return self._core.gradient(x, p)

    def value_and_gradient(self, x, p=None):
        """Compute the value and the gradient in one reverse sweep."""
        self._require_scalar("value_and_gradient")
        x, p = self._point(x, p)
        out, grad = self._core.vjp(x, p, np.ones(1))
        return float(out[0]), grad

    def hessian(self, x, p=None, output: int = 0) -> np.ndarray:
        """Compute the dense Hessian of output number ``output`` by forward-over-reverse."""
        if (not isinstance(output, (int, np.integer)) or isinstance(output, bool)
                or not 0 <= output < self.n_outputs):
            raise IndexError(f"output must be an integer in [0, {self.n_outputs}); got {output!r}")
        x, p = self._point(x, p)
        return self._core.hessian(x, p, output)[2]

    def jacobian(self, x, p=None, mode: str = "reverse") -> np.ndarray:
        """Compute the n_outputs × n_inputs Jacobian by forward or reverse mode."""
        x, p = self._point(x, p)
        if mode == "forward":
            return self._core.jvp(x, p, np.eye(self.n_inputs))[1]
        if mode == "reverse":
            rows = np.empty((self.n_outputs, self.n_inputs))
            for i in range(self.n_outputs):
                seed = np.zeros(self.n_outputs)
                seed[i] = 1.0
                rows[i] = self._core.vjp(x, p, seed)[1]
            return rows
        raise ValueError(f"mode must be 'forward' or 'reverse'; got {mode!r}")

    def jvp(self, x, v, p=None) -> np.ndarray:
        """Compute J·v by forward mode."""
        x, p = self._point(x, p)
        v = _as_point(v, self.n_inputs, "v")
        return self._core.jvp(x, p, v.reshape(-1, 1))[1][:, 0]

    def vjp(self, x, w, p=None) -> np.ndarray:
        """Compute wᵀJ by reverse mode."""
        x, p = self._point(x, p)
        w = _as_point(w, self.n_outputs, "w")
        return self._core.vjp(x, p, w)[1]

    def to_dot(self, x=None, p=None, w=None, input_names=None, param_names=None) -> str:
        """Return the computation graph as Graphviz DOT text, with values and adjoints at x.

        See `dualtape.graph.to_dot` for the arguments.
        """
        from .graph import to_dot
        return to_dot(self, x, p, w, input_names, param_names)

    def render(self, path, x=None, p=None, w=None, input_names=None, param_names=None,
               timeout: float = 60.0):
        """Write the computation graph to an SVG, PNG or PDF file with Graphviz's ``dot``.

        See `dualtape.graph.render`; raises RuntimeError when ``dot`` is not installed.
        """
        from .graph import render
        return render(self, path, x, p, w, input_names, param_names, timeout)


def trace(fn, n_inputs: int, n_params: int = 0) -> Tape:
    """Record ``fn`` into a tape.

    Parameters
    ----------
    fn : callable
        ``fn(x)`` or ``fn(x, p)`` where x is a 1-D object array of ``n_inputs``
        symbols and p of ``n_params`` symbols. It returns a scalar or a 1-D array.
    n_inputs, n_params : int
        Number of variables and of parameters.

    Raises
    ------
    TracingError
        When ``fn`` branches on a traced value (use `dualtape.where`).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    for name, value in (("n_inputs", n_inputs), ("n_params", n_params)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    recorder = Recorder(int(n_inputs), int(n_params))
    x = _symbols(recorder, "Input", int(n_inputs))
    p = _symbols(recorder, "Param", int(n_params))
    try:
        result = _call_traced(fn, x, p, int(n_params))
        outputs, shape = _output_slots(recorder, result)
    finally:
        recorder.closed = True
    core = _core.Tape(
        recorder.n_inputs, recorder.n_params,
        np.asarray(recorder.ops, dtype=np.int32), np.asarray(recorder.args_a, dtype=np.int32),
        np.asarray(recorder.args_b, dtype=np.int32), np.asarray(recorder.args_c, dtype=np.int32),
        np.asarray(recorder.constants, dtype=np.float64), outputs)
    return Tape(core, shape)

