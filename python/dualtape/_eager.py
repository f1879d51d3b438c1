"""Record a Python function with real values, for the eager transformations.

An `EagerRecorder` records the same instructions as the compiled-trace recorder,
and each instruction also gets its value as it is recorded. Its symbols
(`EagerSymbol`) therefore carry a float, so ``if``, ``while`` and comparisons on
them follow the actual values, while the recorded program is still an exact tape
that the C++ core differentiates.

The instructions and values live in a C++ `_core.EagerProgram`, and the values come
from the same C++ operation table that evaluates tapes. `EagerSymbol` derives from
the C type `_core.EagerSymbolBase`, whose operators record ``+ - * / **``, negation,
``abs`` and comparisons of two symbols, or of a symbol and a Python float or int,
without running Python code. Every other operand goes to the generic methods of
`Symbol` (kept on the class as ``_generic_<name>``), which record through
`EagerRecorder.emit`.
"""

from __future__ import annotations

from . import _core
from .tracing import OP, Recorder, Symbol, TracingError

__all__ = ["EagerRecorder", "EagerSymbol"]


def _finished_error() -> TracingError:
    return TracingError(
        "this symbol belongs to a recording that has finished; symbols cannot be "
        "kept and used after the differentiated function returns")


class EagerRecorder(Recorder):
    """A recorder whose instructions also get their values, computed by the C++ operation table.

    ``program`` is the `_core.EagerProgram` that contains the instructions and the
    value of every slot. Inputs are emitted with `input` or `inputs` and take the
    caller's numbers, in the order of their indices.
    """

    def __init__(self, n_inputs: int = 0):
        # The instructions live in `program`, so the per-field lists of `Recorder`
        # are not created.
        self.n_inputs = n_inputs
        self.n_params = 0
        self.program = _core.EagerProgram(EagerSymbol)

    @property
    def closed(self) -> bool:
        """Whether the recording has finished; recording on its symbols then raises TracingError."""
        return self.program.closed

    @closed.setter
    def closed(self, value: bool) -> None:
        self.program.closed = bool(value)

    def instructions(self):
        """Return the fields (ops, a, b, c, k) as five lists, the layout of `_core.Tape.from_lists`."""
        return self.program.instructions()

    def input(self, index: int, value: float) -> "EagerSymbol":
        """Emit variable ``index``, which must be the next one, with the given value."""
        if index != self.program.n_inputs:
            raise ValueError(f"inputs are emitted in order: the next index is {self.program.n_inputs}, "
                             f"got {index}")
        return self.inputs([float(value)])[0]

    def inputs(self, values: list):
        """Emit the next ``len(values)`` variables with the given float values; return their symbols.

        The symbols come back as a 1-D NumPy object array.
        """
        if self.closed:
            raise _finished_error()
        return self.program.inputs(self, values)

    def constant_slot(self, value: float) -> int:
        """Return the slot of a constant, emitting it the first time it is used."""
        return self.constant(value).slot

    def constant(self, value: float) -> "EagerSymbol":
        # NaN gets a fresh slot each time, while 0.0 and -0.0 share the slot of the first one.
        if self.closed:
            raise _finished_error()
        return self.program.constant(self, float(value))

    def emit(self, op: str, a: int = -1, b: int = -1, c: int = -1, k: float = 0.0) -> "EagerSymbol":
        if self.closed:
            raise _finished_error()
        return self.program.emit(self, OP[op], a, b, c, float(k))


class EagerSymbol(_core.EagerSymbolBase, Symbol):
    """A recorded value that also carries its float value.

    It behaves like a `Symbol` (operators, NumPy ufuncs, ``dt.*`` functions all
    record instructions), and in addition ``bool()``, ``if``, ``while`` and
    comparisons follow the value. ``sym.value`` reads the value; reading it, or
    printing it with format specs such as ``f"{sym:.3f}"``, drops the derivative.
    ``float(sym)`` and the `math` module raise TypeError, because they would
    silently drop the derivative. Symbols are made by an `EagerRecorder`, never
    by calling this class.
    """

    # The generic recording of `Symbol`, which the C operators of EagerSymbolBase
    # call for operands they do not handle themselves.
    _generic_add = Symbol.__add__
    _generic_radd = Symbol.__radd__
    _generic_sub = Symbol.__sub__
    _generic_rsub = Symbol.__rsub__
    _generic_mul = Symbol.__mul__
    _generic_rmul = Symbol.__rmul__
    _generic_truediv = Symbol.__truediv__
    _generic_rtruediv = Symbol.__rtruediv__
    _generic_pow = Symbol.__pow__
    _generic_rpow = Symbol.__rpow__
    _generic_neg = Symbol.__neg__
    _generic_abs = Symbol.__abs__
    _generic_lt = Symbol.__lt__
    _generic_le = Symbol.__le__
    _generic_gt = Symbol.__gt__
    _generic_ge = Symbol.__ge__
    _generic_eq = Symbol.__eq__
    _generic_ne = Symbol.__ne__

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

    __hash__ = Symbol.__hash__
