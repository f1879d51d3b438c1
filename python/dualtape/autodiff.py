"""Differentiate plain Python functions: grad, value_and_grad, jacobian, hessian, jvp, vjp.

Each call records the function at the given point with real values (an eager
recording): the arguments being differentiated become `EagerSymbol` objects that
carry their float values, so Python ``if``, ``while`` and ``for`` on them follow the
actual numbers. The recorded instructions form an exact C++ tape, which is then
differentiated by the reverse sweep (gradients, vector-Jacobian products, Jacobian
rows), by forward mode (Jacobian-vector products, Jacobian columns) or by
forward-over-reverse (Hessians). Nothing is approximated: the derivatives are those
of the branch the function took at that point.

Inside f, comparisons and ``bool()`` of a recorded value follow its number, and
``sym.value`` reads the number without its derivative. ``float(sym)`` and functions
of the `math` module raise TypeError, because they would silently drop the
derivative: use the ``dt.*`` functions or NumPy ufuncs instead.

Inputs and outputs
------------------
The differentiated arguments are real arrays of any shape (or real scalars), and
derivatives keep their shapes: the gradient of f at an (n, 2) array is an (n, 2)
array. Integer arguments are promoted to float64, and float16/float32 arguments are
computed in float64, so every result is float64. Complex, boolean and object
arguments raise TypeError; empty arrays and NaN or inf entries raise ValueError.
The function returns a real scalar, or an array (or list) of real scalars for
`jacobian`, `jvp`, `vjp` and the Hessian of a vector function. A value or a
derivative that is not finite raises ValueError, so that a NaN never passes as a
derivative.

Conventions at points without a derivative are those of the operation table: √x
and |x| have derivative 0 at 0, `minimum` and `maximum` follow their first argument
at a tie, and the branch that `dualtape.where` does not take contributes exactly 0.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from ._eager import EagerRecorder, EagerSymbol
from .tracing import Symbol

__all__ = ["grad", "value_and_grad", "jacobian", "hessian", "jvp", "vjp"]

_NO_PARAMS = np.zeros(0)
_FLOAT64 = np.dtype(np.float64)


# -- validation of the user's function and arguments ----------------------------------

def _validate_function(f, transform: str) -> None:
    if not callable(f):
        raise TypeError(f"{transform} expects a callable f; got {type(f).__name__}")


def _normalize_argnums(argnums, transform: str):
    """Return (positions, as_tuple) for an int or a tuple/list of ints."""
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, (bool, np.bool_)):
        return (int(argnums),), False
    if isinstance(argnums, (tuple, list)) and argnums:
        positions = []
        for item in argnums:
            if not isinstance(item, (int, np.integer)) or isinstance(item, (bool, np.bool_)):
                raise TypeError(f"{transform}: argnums must contain integers; got {item!r}")
            positions.append(int(item))
        return tuple(positions), True
    raise TypeError(f"{transform}: argnums must be an integer or a non-empty tuple of integers; "
                    f"got {argnums!r}")


def _resolve_positions(positions, n_args: int, transform: str):
    resolved = []
    for position in positions:
        if not -n_args <= position < n_args:
            raise IndexError(f"{transform}: argnums entry {position} is out of range for a call "
                             f"with {n_args} positional argument(s)")
        resolved.append(position % n_args)
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"{transform}: argnums {positions} names the same argument twice")
    return resolved


def _as_variable(value, name: str, check_finite: bool = True) -> np.ndarray:
    """Convert a differentiated argument to a float64 array, rejecting what has no derivative."""
    if type(value) is np.ndarray and value.dtype == _FLOAT64:
        array = value
    else:
        array = _convert_variable(value, name)
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); expected at least one entry")
    if check_finite and not _all_finite(array):
        _raise_not_finite(array, name)
    return array


def _convert_variable(value, name: str) -> np.ndarray:
    if isinstance(value, Symbol):
        raise TypeError(
            f"{name} is a value being differentiated by an enclosing transformation; nested "
            "dt.grad/dt.jacobian calls are not supported, use dt.hessian for second derivatives")
    array = np.asarray(value)
    kind = array.dtype.kind
    if kind == "c":
        raise TypeError(
            f"{name} has complex dtype {array.dtype}; dualtape differentiates real functions of "
            "real arguments (for the complex step use dt.numdiff.gradient(f, x, method='complex'))")
    if kind == "O" and any(isinstance(item, Symbol) for item in array.reshape(-1)):
        raise TypeError(
            f"{name} contains values being differentiated by an enclosing transformation; nested "
            "dt.grad/dt.jacobian calls are not supported, use dt.hessian for second derivatives")
    if kind not in "iuf":
        raise TypeError(f"{name} must be a real number or a real float array; got dtype {array.dtype}")
    return np.asarray(array, dtype=np.float64)


def _all_finite(array: np.ndarray) -> bool:
    if array.size <= 64:
        # One Python sum is cheaper than a NumPy reduction for small arrays; a sum
        # that overflows falls through to the exact test.
        total = sum(array.reshape(-1).tolist())
        if total - total == 0.0:
            return True
    return bool(np.isfinite(array).all())


def _raise_not_finite(array: np.ndarray, name: str):
    where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
    raise ValueError(f"{name} contains {array[where]} at index {where if where else '()'}; "
                     "expected finite numbers")


def _as_direction(value, shape: tuple, name: str, expected: str) -> np.ndarray:
    """Convert a tangent or cotangent to a flat float64 vector of the given shape."""
    array = _as_variable(value, name)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape} ({expected}); got shape {array.shape}")
    return array.reshape(-1)


# -- recording ---------------------------------------------------------------------------

class _Recording:
    """One call of f recorded at a point: its program, the point, and the shapes of arguments and result.

    ``program`` is the recorder's `_core.EagerProgram` and ``outputs`` the slots of
    f's result. The C++ tape is built on first use of `core`; `value_and_gradient`
    does not need it.
    """

    __slots__ = ("program", "outputs", "x_list", "shapes", "output_shape", "transform", "_core", "_x")

    def __init__(self, program, outputs, x_list, shapes, output_shape, transform):
        self.program = program
        self.outputs = outputs
        self.x_list = x_list
        self.shapes = shapes
        self.output_shape = output_shape
        self.transform = transform
        self._core = None
        self._x = None

    @property
    def core(self):
        """The recorded program as a `_core.Tape`."""
        if self._core is None:
            self._core = self.program.tape(self.outputs)
        return self._core

    @property
    def x(self) -> np.ndarray:
        """The point: all differentiated arguments, flattened and concatenated, as float64."""
        if self._x is None:
            self._x = np.array(self.x_list, dtype=np.float64)
        return self._x

    @property
    def sizes(self) -> list:
        """Number of entries of each differentiated argument."""
        return [math.prod(shape) for shape in self.shapes]

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def require_scalar(self) -> None:
        if self.output_shape != ():
            raise ValueError(
                f"{self.transform} needs f to return a scalar, but f returned an array of shape "
                f"{self.output_shape}; use dt.jacobian for the derivatives of a vector output, or "
                "dt.vjp for those of a weighted sum of its entries")

    def value_and_gradient(self, check_finite: bool = True):
        """Compute f's value and flat gradient by one reverse sweep.

        With `check_finite`, a value or gradient that is not finite raises ValueError.
        Without it, NaN and inf are returned as they are.
        """
        if self.output_shape != ():
            self.require_scalar()
        value, gradient, first_not_finite = self.program.value_and_gradient(self.outputs[0])
        if not check_finite:
            return value, gradient
        if value - value != 0.0:
            _check_value(value, self.transform)
        if first_not_finite >= 0:
            _raise_not_finite_result(gradient, first_not_finite, "the gradient", self.transform)
        return value, gradient

    def split(self, flat: np.ndarray, as_tuple: bool, leading: tuple = ()):
        """Cut the last axis of flat into the differentiated arguments, each in its shape."""
        if not as_tuple and not leading and len(self.shapes) == 1:
            shape = self.shapes[0]
            if shape == flat.shape:
                return flat
            return float(flat[0]) if shape == () else flat.reshape(shape)
        parts = []
        start = 0
        for shape, size in zip(self.shapes, self.sizes):
            part = flat[..., start:start + size].reshape(leading + shape)
            parts.append(float(part) if part.ndim == 0 else part)
            start += size
        return tuple(parts) if as_tuple else parts[0]

    def shaped_output(self, flat: np.ndarray):
        return float(flat[0]) if self.output_shape == () else flat.reshape(self.output_shape)


def _lift_output(recorder, item, index):
    if isinstance(item, Symbol):
        return recorder.lift(item).slot
    if isinstance(item, numbers.Real) or isinstance(item, np.bool_):
        return recorder.constant(float(item)).slot
    if isinstance(item, np.ndarray) and item.ndim == 0:
        return _lift_output(recorder, item[()], index)
    raise TypeError(f"f returned a value of type {type(item).__name__} at output index {index}; "
                    "expected real numbers")


def _output_slots(recorder, result):
    """Slots of f's result and the result's shape."""
    if isinstance(result, Symbol):
        return [recorder.lift(result).slot], ()
    if isinstance(result, (list, tuple)):
        try:
            result = np.array(result, dtype=object)
        except ValueError as error:
            raise ValueError(f"f returned a ragged sequence that is not an array ({error})") from None
    if isinstance(result, np.ndarray):
        if result.dtype.kind == "c":
            raise TypeError(f"f returned a complex array (dtype {result.dtype}); expected real numbers")
        if result.dtype.kind not in "biufO":
            raise TypeError(f"f returned an array of dtype {result.dtype}; expected real numbers")
        if result.size == 0:
            raise ValueError(f"f returned an empty array of shape {result.shape}; expected at least "
                             "one output")
        flat = result.reshape(-1)
        return [_lift_output(recorder, item, i) for i, item in enumerate(flat)], result.shape
    return [_lift_output(recorder, result, ())], ()


def _input_symbols(recorder, array: np.ndarray, position: int):
    """Emit the entries of array as variables; return them in array's shape and their float values."""
    values = array.tolist() if array.ndim == 1 else array.reshape(-1).tolist()
    # One sum finds NaN and inf; a sum that overflows falls through to the exact test.
    total = sum(values)
    if total - total != 0.0 and not all(value - value == 0.0 for value in values):
        _raise_not_finite(array, f"argument {position} of f")
    # The recording has just begun, so the closed check of recorder.inputs is skipped.
    symbols = recorder.program.inputs(recorder, values)
    if array.ndim == 0:
        return symbols[0], values
    return (symbols if array.ndim == 1 else symbols.reshape(array.shape)), values


def _record(f, args, kwargs, positions, transform: str) -> _Recording:
    """Call f with symbols (carrying values) for the arguments at positions."""
    if not (positions == (0,) and args):
        positions = _resolve_positions(positions, len(args), transform)
    recorder = EagerRecorder()
    call_args = list(args)
    x_list = []
    shapes = []
    for position in positions:
        array = args[position]
        if not (type(array) is np.ndarray and array.dtype is _FLOAT64 and array.size):
            array = _as_variable(array, f"argument {position} of f", check_finite=False)
        call_args[position], values = _input_symbols(recorder, array, position)
        x_list += values
        shapes.append(array.shape)
    recorder.n_inputs = len(x_list)

    try:
        result = f(*call_args, **kwargs)
        if type(result) is EagerSymbol and result.recorder is recorder:
            outputs, output_shape = [result.slot], ()
        else:
            outputs, output_shape = _output_slots(recorder, result)
    finally:
        recorder.program.closed = True
    return _Recording(recorder.program, outputs, x_list, tuple(shapes), output_shape, transform)


def _raise_not_finite_result(array, bad: int, what: str, transform: str):
    flat = np.asarray(array).reshape(-1)
    raise ValueError(
        f"{transform}: {what} is not finite (entry {bad} of the flattened result is "
        f"{flat[bad]}) at this point; f or its derivative is undefined there, "
        "for example log or 1/x at 0")


def _check_finite(array, what: str, transform: str):
    if not _all_finite(array):
        flat = np.asarray(array).reshape(-1)
        _raise_not_finite_result(flat, int(np.flatnonzero(~np.isfinite(flat))[0]), what, transform)
    return array


def _check_value(value: float, transform: str):
    if value - value != 0.0:
        raise ValueError(f"{transform}: f(x) is not finite ({value}) at this point; expected a "
                         "finite value")


def _wrap(transform_function, f, name):
    try:
        functools.update_wrapper(transform_function, f)
    except (AttributeError, TypeError):
        pass
    transform_function.__name__ = f"{name}({getattr(f, '__name__', type(f).__name__)})"
    transform_function.__qualname__ = transform_function.__name__
    return transform_function


# -- transformations ---------------------------------------------------------------------

def value_and_grad(f, argnums=0):
    """Make a function that returns f's value and its gradient, by the reverse sweep.

    Parameters
    ----------
    f : callable
        f(*args) -> real scalar. Python control flow on the differentiated arguments
        is allowed: f is recorded afresh at every call, with real values.
    argnums : int or tuple of int
        Positions of the arguments to differentiate. With a tuple, the gradient is
        a tuple with one entry per position.

    Returns
    -------
    callable
        ``g(*args, **kwargs) -> (value, gradient)``: value a float, gradient an array
        of the differentiated argument's shape (a float for a scalar argument).

    Raises
    ------
    ValueError
        If f returns an array (use `jacobian`), or the value or gradient is not finite.
    TypeError
        If f is not callable, or an argument is complex, boolean or non-numeric.
    """
    _validate_function(f, "dt.value_and_grad")
    positions, as_tuple = _normalize_argnums(argnums, "dt.value_and_grad")

    def value_and_gradient(*args, **kwargs):
        recording = _record(f, args, kwargs, positions, "dt.value_and_grad")
        value, flat = recording.value_and_gradient()
        return value, recording.split(flat, as_tuple)

    return _wrap(value_and_gradient, f, "value_and_grad")


def grad(f, argnums=0):
    """Make a function that returns the gradient of a scalar function, by the reverse sweep.

    ``dt.grad(f)(x)`` has the shape of x; float32 and integer x are computed in
    float64 and the gradient is float64. See `value_and_grad` for the parameters.

    Raises
    ------
    ValueError
        If f returns an array: use `jacobian` for vector outputs.
    """
    _validate_function(f, "dt.grad")
    positions, as_tuple = _normalize_argnums(argnums, "dt.grad")

    def gradient(*args, **kwargs):
        recording = _record(f, args, kwargs, positions, "dt.grad")
        return recording.split(recording.value_and_gradient()[1], as_tuple)

    return _wrap(gradient, f, "grad")


def _reverse_jacobian(recording) -> np.ndarray:
    m = recording.n_outputs
    rows = np.empty((m, recording.x.size))
    seed = np.zeros(m)
    for i in range(m):
        seed[i] = 1.0
        rows[i] = recording.core.vjp(recording.x, _NO_PARAMS, seed)[1]
        seed[i] = 0.0
    return rows


def jacobian(f, mode="reverse", argnums=0):
    """Make a function that returns the Jacobian of f.

    Parameters
    ----------
    f : callable
        f(*args) -> real scalar or array of real scalars.
    mode : {"reverse", "forward"}
        "reverse" runs one reverse sweep per output entry, so it is cheap when the
        outputs are few. "forward" runs one forward pass with one direction per input
        entry, so it is cheap when the inputs are few.
    argnums : int or tuple of int
        Positions of the arguments to differentiate; a tuple gives a tuple of Jacobians.

    Returns
    -------
    callable
        ``J(*args, **kwargs)``: an array of shape ``output_shape + argument_shape``
        (the gradient's shape for a scalar f).
    """
    _validate_function(f, "dt.jacobian")
    if mode not in ("forward", "reverse"):
        raise ValueError(f"dt.jacobian: mode must be 'forward' or 'reverse'; got {mode!r}")
    positions, as_tuple = _normalize_argnums(argnums, "dt.jacobian")

    def jacobian_function(*args, **kwargs):
        recording = _record(f, args, kwargs, positions, "dt.jacobian")
        if mode == "forward":
            J = recording.core.jvp(recording.x, _NO_PARAMS, np.eye(recording.x.size))[1]
        else:
            J = _reverse_jacobian(recording)
        _check_finite(J, "the Jacobian", "dt.jacobian")
        return recording.split(J, as_tuple, recording.output_shape)

    return _wrap(jacobian_function, f, "jacobian")


def hessian(f, argnums=0):
    """Make a function that returns the Hessian of f, by forward-over-reverse.

    Parameters
    ----------
    f : callable
        f(*args) -> real scalar, or an array of real scalars (one Hessian per entry).
    argnums : int or tuple of int
        Positions of the arguments to differentiate. With a tuple, the result is a
        tuple of tuples: ``H[i][j]`` contains the second derivatives with respect to
        arguments ``argnums[i]`` and ``argnums[j]``.

    Returns
    -------
    callable
        ``H(*args, **kwargs)``: an array of shape ``output_shape + shape + shape``;
        for f of an n-vector, the symmetric n × n Hessian.
    """
    _validate_function(f, "dt.hessian")
    positions, as_tuple = _normalize_argnums(argnums, "dt.hessian")

    def hessian_function(*args, **kwargs):
        recording = _record(f, args, kwargs, positions, "dt.hessian")
        n = recording.x.size
        H = np.empty((recording.n_outputs, n, n))
        for output in range(recording.n_outputs):
            H[output] = recording.core.hessian(recording.x, _NO_PARAMS, output)[2]
        _check_finite(H, "the Hessian", "dt.hessian")
        H = H.reshape(recording.output_shape + (n, n))
        return _split_hessian(recording, H, as_tuple)

    return _wrap(hessian_function, f, "hessian")


def _split_hessian(recording, H, as_tuple):
    """Cut the last two axes of H into blocks, one per pair of differentiated arguments."""
    leading = recording.output_shape
    offsets = np.concatenate([[0], np.cumsum(recording.sizes)])
    blocks = []
    for i, shape_i in enumerate(recording.shapes):
        row = []
        for j, shape_j in enumerate(recording.shapes):
            block = H[..., offsets[i]:offsets[i + 1], offsets[j]:offsets[j + 1]]
            block = block.reshape(leading + shape_i + shape_j)
            row.append(float(block) if block.ndim == 0 else block)
        blocks.append(tuple(row))
    return tuple(blocks) if as_tuple else blocks[0][0]


def jvp(f, x, v):
    """Compute f(x) and the Jacobian-vector product J(x)·v by forward mode.

    Parameters
    ----------
    f : callable
        f(x) -> real scalar or array.
    x : array_like
        The point: finite real numbers of any shape.
    v : array_like
        The tangent, with the shape of x.

    Returns
    -------
    (value, product)
        f(x) and J·v, both with f's output shape (floats for a scalar f).
    """
    _validate_function(f, "dt.jvp")
    recording = _record(f, (x,), {}, (0,), "dt.jvp")
    tangent = _as_direction(v, recording.shapes[0], "v", "the shape of x")
    out, jt = recording.core.jvp(recording.x, _NO_PARAMS, tangent.reshape(-1, 1))
    _check_finite(out, "f(x)", "dt.jvp")
    _check_finite(jt, "the Jacobian-vector product", "dt.jvp")
    return recording.shaped_output(out), recording.shaped_output(jt[:, 0])


def vjp(f, x, w):
    """Compute f(x) and the vector-Jacobian product wᵀJ(x) by the reverse sweep.

    Parameters
    ----------
    f : callable
        f(x) -> real scalar or array.
    x : array_like
        The point: finite real numbers of any shape.
    w : array_like
        The cotangent, with f's output shape (a number for a scalar f).

    Returns
    -------
    (value, product)
        f(x) in its output shape and wᵀJ with the shape of x.
    """
    _validate_function(f, "dt.vjp")
    recording = _record(f, (x,), {}, (0,), "dt.vjp")
    cotangent = _as_direction(w, recording.output_shape, "w", "the shape of f(x)")
    out, product = recording.core.vjp(recording.x, _NO_PARAMS, cotangent)
    _check_finite(out, "f(x)", "dt.vjp")
    _check_finite(product, "the vector-Jacobian product", "dt.vjp")
    return recording.shaped_output(out), recording.split(product, False)
