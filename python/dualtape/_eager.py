"""Record a Python function with real values, for the eager transformations.

An `EagerRecorder` appends the same instructions as the compiled-trace recorder,
and it also computes each instruction's value in Python as the instruction is
emitted. Its symbols (`EagerSymbol`) therefore carry a float, so ``if``, ``while``
and comparisons on them follow the actual values, while the recorded program is
still an exact tape that the C++ core differentiates.

The values below follow the C++ operation table: IEEE 754 results without
exceptions (``log(0) = -inf``, ``sqrt(-1) = nan``, ``1/0 = inf``), the same tie and
zero conventions for ``min``, ``max``, ``abs`` and ``sign``, and the C math library
through Python's `math` module.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from .tracing import OP, Recorder, Symbol, TracingError

__all__ = ["EagerRecorder", "EagerSymbol"]


def _ieee(math_function, numpy_function):
    """Wrap a `math` function so domain errors and overflow give IEEE results."""

    def value(a):
        try:
            return math_function(a)
        except (ValueError, OverflowError):
            with np.errstate(all="ignore"):
                return float(numpy_function(np.float64(a)))

    return value


def _divide(a, b):
    # The op table computes a/b as a·(1/b), which can differ from a/b in the last bit.
    try:
        return a * (1.0 / b)
    except ZeroDivisionError:
        with np.errstate(all="ignore"):
            return float(np.float64(a) * (1.0 / np.float64(b)))


def _hypot(a, b):
    # NumPy calls the C library's hypot like the op table; math.hypot uses its own algorithm.
    with np.errstate(all="ignore"):
        return float(np.hypot(a, b))


def _power(a, b):
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError):
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(a), np.float64(b)))


def _abs(a):
    # The op table returns a itself unless a < 0, so abs(-0.0) stays -0.0.
    return -a if a < 0.0 else a


def _sign(a):
    return 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)


_sqrt = _ieee(math.sqrt, np.sqrt)
_exp = _ieee(math.exp, np.exp)
_log = _ieee(math.log, np.log)
_log1p = _ieee(math.log1p, np.log1p)
_expm1 = _ieee(math.expm1, np.expm1)
_sin = _ieee(math.sin, np.sin)
_cos = _ieee(math.cos, np.cos)
_tan = _ieee(math.tan, np.tan)
_asin = _ieee(math.asin, np.arcsin)
_acos = _ieee(math.acos, np.arccos)
_atan = _ieee(math.atan, np.arctan)
_sinh = _ieee(math.sinh, np.sinh)
_cosh = _ieee(math.cosh, np.cosh)
_tanh = _ieee(math.tanh, np.tanh)

# Value of each operation from the argument values a, b, c and the constant k.
# Input and Param are never computed here: their values come from the caller.
_VALUE = {
    "Const": lambda a, b, c, k: k,
    "Add": lambda a, b, c, k: a + b,
    "Sub": lambda a, b, c, k: a - b,
    "Mul": lambda a, b, c, k: a * b,
    "Div": lambda a, b, c, k: _divide(a, b),
    "Neg": lambda a, b, c, k: -a,
    "Square": lambda a, b, c, k: a * a,
    "PowConst": lambda a, b, c, k: _power(a, k),
    "Pow": lambda a, b, c, k: _power(a, b),
    "Sqrt": lambda a, b, c, k: _sqrt(a),
    "Exp": lambda a, b, c, k: _exp(a),
    "Log": lambda a, b, c, k: _log(a),
    "Log1p": lambda a, b, c, k: _log1p(a),
    "Expm1": lambda a, b, c, k: _expm1(a),
    "Sin": lambda a, b, c, k: _sin(a),
    "Cos": lambda a, b, c, k: _cos(a),
    "Tan": lambda a, b, c, k: _tan(a),
    "Asin": lambda a, b, c, k: _asin(a),
    "Acos": lambda a, b, c, k: _acos(a),
    "Atan": lambda a, b, c, k: _atan(a),
    "Atan2": lambda a, b, c, k: math.atan2(a, b),
    "Sinh": lambda a, b, c, k: _sinh(a),
    "Cosh": lambda a, b, c, k: _cosh(a),
    "Tanh": lambda a, b, c, k: _tanh(a),
    "Abs": lambda a, b, c, k: _abs(a),
    "Sign": lambda a, b, c, k: _sign(a),
    "Min": lambda a, b, c, k: b if b < a else a,
    "Max": lambda a, b, c, k: b if b > a else a,
    "Hypot": lambda a, b, c, k: _hypot(a, b),
    "Lt": lambda a, b, c, k: 1.0 if a < b else 0.0,
    "Le": lambda a, b, c, k: 1.0 if a <= b else 0.0,
    "Gt": lambda a, b, c, k: 1.0 if a > b else 0.0,
    "Ge": lambda a, b, c, k: 1.0 if a >= b else 0.0,
    "Eq": lambda a, b, c, k: 1.0 if a == b else 0.0,
    "Ne": lambda a, b, c, k: 1.0 if a != b else 0.0,
    "Where": lambda a, b, c, k: a if c != 0.0 else b,
}

_VALUE_BY_CODE = [None] * len(OP)
for _name, _function in _VALUE.items():
    _VALUE_BY_CODE[OP[_name]] = _function
del _name, _function

_CONST, _ADD, _SUB, _MUL, _DIV = OP["Const"], OP["Add"], OP["Sub"], OP["Mul"], OP["Div"]
_SQUARE, _INPUT = OP["Square"], OP["Input"]


class EagerRecorder(Recorder):
    """A recorder whose instructions also get their values, computed in Python.

    ``code[slot]`` is the instruction ``(op code, a, b, c, k)`` and ``values[slot]``
    its value. Inputs are emitted with `input` and take the caller's numbers.
    """

    def __init__(self, n_inputs: int):
        # The instruction fields live in one list of tuples (one append per
        # instruction), so the list attributes of `Recorder` are not created.
        self.n_inputs = n_inputs
        self.n_params = 0
        self.code: list[tuple] = []
        self.values: list[float] = []
        self._constant_slots: dict = {}
        self.closed = False

    def instructions(self):
        """Return the fields (ops, a, b, c, k) as five sequences, the layout of `_core.Tape`."""
        return tuple(zip(*self.code))

    def input(self, index: int, value: float) -> "EagerSymbol":
        """Emit variable ``index`` with the given value."""
        return self._append(_INPUT, index, -1, -1, 0.0, value)

    def constant_slot(self, value: float) -> int:
        """Return the slot of a constant, emitting it the first time it is used."""
        key = float(value)
        # NaN is not equal to itself, so it gets a fresh slot each time.
        slot = self._constant_slots.get(key) if key == key else None
        if slot is None:
            slot = self._append(_CONST, -1, -1, -1, key, key).slot
            if key == key:
                self._constant_slots[key] = slot
        return slot

    def constant(self, value: float) -> "EagerSymbol":
        slot = self.constant_slot(value)
        # The slot's own value: 0.0 and -0.0 share a slot.
        return EagerSymbol(self, slot, self.values[slot])

    def emit(self, op: str, a: int = -1, b: int = -1, c: int = -1, k: float = 0.0) -> "EagerSymbol":
        code = OP[op]
        values = self.values
        value = _VALUE_BY_CODE[code](
            values[a] if a >= 0 else 0.0, values[b] if b >= 0 else 0.0,
            values[c] if c >= 0 else 0.0, k)
        return self._append(code, a, b, c, k, value)

    def _append(self, code: int, a: int, b: int, c: int, k: float, value: float) -> "EagerSymbol":
        if self.closed:
            raise TracingError(
                "this symbol belongs to a recording that has finished; symbols cannot be "
                "kept and used after the differentiated function returns")
        values = self.values
        slot = len(values)
        self.code.append((code, a, b, c, k))
        values.append(value)
        return EagerSymbol(self, slot, value)


def _fast_binary(code: int, compute, reverse: bool, fallback):
    """Make an operator method with a fast path for a float or a symbol of the same recording."""

    def method(self, other):
        kind = type(other)
        recorder = self.recorder
        if kind is EagerSymbol and other.recorder is recorder:
            slot, value = other.slot, other.value
        elif kind is float or kind is int:
            slot = recorder.constant_slot(other)
            value = recorder.values[slot]
        else:
            return fallback(self, other)
        if reverse:
            return recorder._append(code, slot, self.slot, -1, 0.0, compute(value, self.value))
        return recorder._append(code, self.slot, slot, -1, 0.0, compute(self.value, value))

    method.__name__ = fallback.__name__
    return method


class EagerSymbol(Symbol):
    """A recorded value that also carries its float value.

    It behaves like a `Symbol` (operators, NumPy ufuncs, ``dt.*`` functions all
    record instructions), and in addition ``bool()``, ``if``, ``while`` and
    comparisons follow the value. ``sym.value`` reads the value; reading it, or
    printing it with format specs such as ``f"{sym:.3f}"``, drops the derivative.
    ``float(sym)`` and the `math` module raise TypeError, because they would
    silently drop the derivative.
    """

    __slots__ = ("value",)

    def __init__(self, recorder: EagerRecorder, slot: int, value: float):
        self.recorder = recorder
        self.slot = slot
        self.value = value

    def __repr__(self) -> str:
        return f"EagerSymbol(value={self.value!r}, slot={self.slot})"

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __bool__(self) -> bool:
        return self.value != 0.0

    def __float__(self):
        raise TypeError(
            "float() of a value being differentiated would drop its derivative; use the "
            "dualtape functions (dt.sqrt, dt.exp, ...) or NumPy ufuncs instead of the "
            "math module, or read sym.value when a number without derivative is meant")

    def __int__(self):
        raise TypeError(
            "int() of a value being differentiated would drop its derivative; read "
            "int(sym.value) when the integer part of the value is meant")

    def __index__(self):
        raise TypeError(
            "a value being differentiated cannot be used as an index or a size; use "
            "int(sym.value) when the value is meant")

    # Fast paths for the common arithmetic on two symbols or a symbol and a float;
    # everything else goes through the generic recording of `Symbol`.
    __add__ = _fast_binary(_ADD, operator.add, False, Symbol.__add__)
    __radd__ = _fast_binary(_ADD, operator.add, True, Symbol.__radd__)
    __sub__ = _fast_binary(_SUB, operator.sub, False, Symbol.__sub__)
    __rsub__ = _fast_binary(_SUB, operator.sub, True, Symbol.__rsub__)
    __mul__ = _fast_binary(_MUL, operator.mul, False, Symbol.__mul__)
    __rmul__ = _fast_binary(_MUL, operator.mul, True, Symbol.__rmul__)
    __truediv__ = _fast_binary(_DIV, _divide, False, Symbol.__truediv__)
    __rtruediv__ = _fast_binary(_DIV, _divide, True, Symbol.__rtruediv__)

    def __pow__(self, exponent):
        kind = type(exponent)
        if (kind is int or kind is float) and exponent == 2:
            value = self.value
            return self.recorder._append(_SQUARE, self.slot, -1, -1, 0.0, value * value)
        return Symbol.__pow__(self, exponent)

    __hash__ = Symbol.__hash__

