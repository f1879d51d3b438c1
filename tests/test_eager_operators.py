"""Operators of eager symbols: the C fast paths and their fall-backs record the same program."""

import gc
import math
import weakref

import numpy as np
import pytest

import dualtape as dt
from dualtape import _core
from dualtape._eager import EagerRecorder, EagerSymbol
from dualtape.tracing import OP, TracingError

X = np.array([0.7, -1.3])


def central_difference_gradient(f, x, h=1e-6):
    gradient = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        gradient[i] = (f(x + step) - f(x - step)) / (2 * h)
    return gradient


# Each case mixes symbols with Python floats, ints, bools and NumPy scalars on
# either side, so both the C fast path and the generic fall-back are taken.
OPERATOR_CASES = {
    "add_sub": lambda x: 2 + x[0] - 3.5 + x[1] - x[0] + (1 - x[1]),
    "mul_div": lambda x: 3 * x[0] * x[1] / 2.5 / (1.5 + x[0] * x[0]) + 4.0 / (2 + x[1] * x[1]),
    "numpy_scalars": lambda x: np.float64(2.0) * x[0] + x[1] * np.float32(0.5) - np.int64(3) / (x[0] + 5),
    "bool_operands": lambda x: True * x[0] + x[1] * False + (x[0] - True),
    "powers": lambda x: x[0] ** 2 + x[0] ** 3 + (x[0] ** 2 + 1) ** 0.5 + x[1] ** 1 + (x[1] ** 2 + 1) ** -1.5,
    "symbol_exponent": lambda x: (x[0] ** 2 + 1) ** x[1] + 2 ** x[0] + 1.5 ** (x[1] * x[0]),
    "negation_abs": lambda x: -x[0] * abs(x[1]) + abs(-x[0]) - (-x[1]) ** 2,
    "positive": lambda x: +x[0] * x[1],
}


@pytest.mark.parametrize("name", sorted(OPERATOR_CASES))
def test_operators_match_central_differences(name):
    f = OPERATOR_CASES[name]
    gradient = dt.grad(f)(X)
    expected = central_difference_gradient(f, X)
    np.testing.assert_allclose(gradient, expected, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", sorted(OPERATOR_CASES))
def test_recorded_value_matches_plain_floats(name):
    f = OPERATOR_CASES[name]
    value, _ = dt.value_and_grad(f)(X)
    assert value == pytest.approx(f(X), rel=1e-14)


def test_power_shortcuts_record_expected_operations():
    recorder = EagerRecorder()
    x = recorder.inputs([3.0])[0]
    assert x ** 1 is x
    assert x ** 1.0 is x
    ops = [OP[name] for name in ("Square", "Sqrt", "PowConst", "Pow")]
    results = [x ** 2, x ** 0.5, x ** 3, x ** x]
    recorded = recorder.instructions()[0]
    for op, result in zip(ops, results):
        assert recorded[result.slot] == op
    assert [result.value for result in results] == [9.0, math.sqrt(3.0), 27.0, 27.0]


def test_comparisons_record_zero_or_one():
    recorder = EagerRecorder()
    x, y = recorder.inputs([1.0, 2.0])
    cases = [(x < y, 1.0), (x <= 1, 1.0), (x > 1.5, 0.0), (x >= 1, 1.0), (x == 1, 1.0),
             (x != y, 1.0), (0.5 < x, 1.0), (3 > y, 1.0), (2.0 == y, 1.0)]
    for result, expected in cases:
        assert isinstance(result, EagerSymbol)
        assert result.value == expected


def test_comparison_with_non_number_is_identity():
    recorder = EagerRecorder()
    x = recorder.inputs([1.0])[0]
    assert (x == None) is False  # noqa: E711 - the operator itself is under test
    assert (x != "text") is True


def test_int_operand_shares_float_constant_slot():
    recorder = EagerRecorder()
    x = recorder.inputs([2.0])[0]
    a = x * 3
    b = x * 3.0
    second_arguments = recorder.instructions()[2]
    assert second_arguments[a.slot] == second_arguments[b.slot]


def test_negative_zero_shares_zero_constant():
    recorder = EagerRecorder()
    x = recorder.inputs([2.0])[0]
    first = x + 0.0
    second = x + -0.0
    assert recorder.instructions()[2][first.slot] == recorder.instructions()[2][second.slot]


def test_nan_constants_get_own_slots():
    recorder = EagerRecorder()
    x = recorder.inputs([2.0])[0]
    first = x + math.nan
    second = x + math.nan
    b = recorder.instructions()[2]
    assert b[first.slot] != b[second.slot]
    assert math.isnan(first.value)


def test_huge_int_operand_raises_overflow():
    with pytest.raises(OverflowError):
        dt.grad(lambda x: x[0] * 10 ** 400)(X)


def test_unsupported_operand_type_raises():
    with pytest.raises(TypeError):
        dt.grad(lambda x: x[0] + "text")(X)
    with pytest.raises(TypeError):
        dt.grad(lambda x: pow(x[0], 2, 3))(X)


@pytest.mark.parametrize("operation", [
    lambda s: s + 1.0, lambda s: 2 * s, lambda s: s / s, lambda s: s ** 2, lambda s: s ** 3,
    lambda s: 2 ** s, lambda s: -s, lambda s: abs(s), lambda s: s < 1.0, lambda s: dt.sqrt(s),
])
def test_operations_on_leaked_symbol_raise(operation):
    leaked = []
    dt.grad(lambda x: leaked.append(x[0]) or x[0] * x[1])(X)
    with pytest.raises(TracingError, match="finished"):
        operation(leaked[0])


def test_symbols_of_two_recordings_do_not_mix():
    first = EagerRecorder().inputs([1.0])[0]
    second = EagerRecorder().inputs([2.0])[0]
    with pytest.raises(TracingError, match="another trace"):
        first + second


def test_symbols_are_not_made_by_calling_the_class():
    with pytest.raises(TypeError):
        EagerSymbol(EagerRecorder(), 0, 1.0)


def test_program_rejects_invalid_instructions():
    recorder = EagerRecorder()
    recorder.inputs([1.0])
    with pytest.raises(IndexError, match="refers to no earlier instruction"):
        recorder.emit("Add", 0, 5)
    with pytest.raises(ValueError, match="takes it"):
        recorder.emit("Mul", 0, -1)
    with pytest.raises(ValueError, match="invalid here"):
        recorder.program.emit(recorder, OP["Input"], -1, -1, -1, 0.0)
    with pytest.raises(ValueError, match="next index is 1"):
        recorder.input(3, 1.0)


def test_program_requires_symbol_subclass():
    with pytest.raises(TypeError, match="EagerSymbolBase"):
        _core.EagerProgram(float)


def test_recorded_symbols_are_released():
    recorder = EagerRecorder()
    x = recorder.inputs([1.0, 2.0])
    product = x[0] * x[1]
    reference = weakref.ref(product)
    del product
    gc.collect()
    assert reference() is None
