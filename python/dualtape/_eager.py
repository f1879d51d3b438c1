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
_SQUARE = OP["Square"]


class EagerRecorder(Recorder):
    """A recorder whose instructions also get their values, computed in Python.

    ``values[slot]`` is the value of each recorded slot. Inputs are emitted with
    `input` and take the caller's numbers.
    """

    def __init__(self, n_inputs: int):
        super().__init__(n_inputs, 0)
        self.values: list[float] = []

    def input(self, index: int, value: float) -> "EagerSymbol":
        """Emit variable ``index`` with the given value."""
        slot = len(self.ops)
        self.ops.append(OP["Input"])
        self.args_a.append(index)
        self.args_b.append(-1)
        self.args_c.append(-1)
        self.constants.append(0.0)
        self.values.append(value)
        return EagerSymbol(self, slot, value)

    def constant(self, value: float) -> "EagerSymbol":
        key = float(value)
        # NaN is not equal to itself, so it gets a fresh slot each time.
        slot = self._constant_slots.get(key) if key == key else None
        if slot is None:
            symbol = self._append(_CONST, -1, -1, -1, key, key)
            if key == key:
                self._constant_slots[key] = symbol.slot
            return symbol
        # The cached slot's own value: 0.0 and -0.0 share a slot.
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
        slot = len(self.ops)
        self.ops.append(code)
        self.args_a.append(a)
        self.args_b.append(b)
        self.args_c.append(c)
        self.constants.append(k)
        self.values.append(value)
        return EagerSymbol(self, slot, value)


def _fast_operand(symbol: "EagerSymbol", other):
    """Return (slot, value) of other when it is a plain float or a symbol of the same recording."""
    kind = type(other)
    if kind is EagerSymbol:
        if other.recorder is symbol.recorder:
            return other.slot, other.value
        return None
    if kind is float or kind is int:
        constant = symbol.recorder.constant(other)
        return constant.slot, constant.value
    return None


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

    def _fast(self, other, code, value_of, reverse=False):
        operand = _fast_operand(self, other)
        if operand is None:
            return None
        slot, value = operand
        if reverse:
            return self.recorder._append(code, slot, self.slot, -1, 0.0, value_of(value, self.value))
        return self.recorder._append(code, self.slot, slot, -1, 0.0, value_of(self.value, value))

    def __add__(self, other):
        result = self._fast(other, _ADD, float.__add__)
        return result if result is not None else Symbol.__add__(self, other)

    def __radd__(self, other):
        result = self._fast(other, _ADD, float.__add__, True)
        return result if result is not None else Symbol.__radd__(self, other)

    def __sub__(self, other):
        result = self._fast(other, _SUB, float.__sub__)
        return result if result is not None else Symbol.__sub__(self, other)

    def __rsub__(self, other):
        result = self._fast(other, _SUB, float.__sub__, True)
        return result if result is not None else Symbol.__rsub__(self, other)

    def __mul__(self, other):
        result = self._fast(other, _MUL, float.__mul__)
        return result if result is not None else Symbol.__mul__(self, other)

    def __rmul__(self, other):
        result = self._fast(other, _MUL, float.__mul__, True)
        return result if result is not None else Symbol.__rmul__(self, other)

    def __truediv__(self, other):
        result = self._fast(other, _DIV, _divide)
        return result if result is not None else Symbol.__truediv__(self, other)

    def __rtruediv__(self, other):
        result = self._fast(other, _DIV, _divide, True)
        return result if result is not None else Symbol.__rtruediv__(self, other)

    def __pow__(self, exponent):
        kind = type(exponent)
        if (kind is int or kind is float) and exponent == 2:
            value = self.value
            return self.recorder._append(_SQUARE, self.slot, -1, -1, 0.0, value * value)
        return Symbol.__pow__(self, exponent)

    __hash__ = Symbol.__hash__

