"""Every tape operation in every evaluation mode, against complex-step derivatives
or closed forms at seeded random points.

Modes: the reverse sweep (tape.gradient and tape.jacobian(mode="reverse")), forward
mode (tape.jacobian(mode="forward")), forward-over-reverse (tape.hessian), and the
batched element interpreter (ElementEnergy gradient and Hessian).
"""

import zlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

import dualtape as dt

from conftest import CENTRAL_DIFFERENCE_TOLERANCE

# Eleven points per case: one partial block of the element interpreter, whose
# lanes past the eleventh repeat the last point.
N_POINTS = 11
COMPLEX_STEP = 1e-30


def seeded_rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def sample(box, rng, count=N_POINTS):
    """Draw `count` points, coordinate i uniform in box[i] = (low, high)."""
    low = np.array([b[0] for b in box], dtype=float)
    high = np.array([b[1] for b in box], dtype=float)
    return low + (high - low) * rng.random((count, len(box)))


WIDE = (-3.0, 3.0)
POSITIVE = (0.2, 3.0)
NEGATIVE = (-3.0, -0.2)

# Complex-analytic cases: name, traced function, NumPy function valid for complex
# input (the reference for the complex step), sampling box per input.
ANALYTIC_CASES = [
    ("add", lambda x: x[0] + x[1], lambda x: x[0] + x[1], [WIDE, WIDE]),
    ("add_constant", lambda x: 2.5 + x[0], lambda x: 2.5 + x[0], [WIDE]),
    ("sub", lambda x: x[0] - x[1], lambda x: x[0] - x[1], [WIDE, WIDE]),
    ("sub_from_constant", lambda x: 2.5 - x[0], lambda x: 2.5 - x[0], [WIDE]),
    ("mul", lambda x: x[0] * x[1], lambda x: x[0] * x[1], [WIDE, WIDE]),
    ("mul_constant", lambda x: x[0] * 1.5, lambda x: x[0] * 1.5, [WIDE]),
    ("div", lambda x: x[0] / x[1], lambda x: x[0] / x[1], [WIDE, POSITIVE]),
    ("div_negative_denominator", lambda x: x[0] / x[1], lambda x: x[0] / x[1], [WIDE, NEGATIVE]),
    ("constant_div", lambda x: 2.0 / x[0], lambda x: 2.0 / x[0], [POSITIVE]),
    ("neg", lambda x: -x[0], lambda x: -x[0], [WIDE]),
    ("neg_product", lambda x: -(x[0] * x[1]), lambda x: -(x[0] * x[1]), [WIDE, WIDE]),
    ("square", lambda x: x[0] ** 2, lambda x: x[0] ** 2, [WIDE]),
    ("pow_constant", lambda x: x[0] ** 2.5, lambda x: x[0] ** 2.5, [POSITIVE]),
    ("pow_constant_1_875", lambda x: x[0] ** 1.875, lambda x: x[0] ** 1.875, [POSITIVE]),
    ("pow_constant_negative", lambda x: x[0] ** -1.5, lambda x: x[0] ** -1.5, [POSITIVE]),
    ("pow_constant_integer", lambda x: x[0] ** 3, lambda x: x[0] ** 3, [WIDE]),
    ("pow_constant_half", lambda x: x[0] ** 0.5, lambda x: x[0] ** 0.5, [POSITIVE]),
    ("pow_variable", lambda x: x[0] ** x[1], lambda x: x[0] ** x[1], [POSITIVE, WIDE]),
    ("pow_constant_base", lambda x: 2.0 ** x[0], lambda x: 2.0 ** x[0], [WIDE]),
    ("power_function", lambda x: dt.power(x[0], x[1]), lambda x: x[0] ** x[1], [POSITIVE, WIDE]),
    ("sqrt", lambda x: dt.sqrt(x[0]), lambda x: np.sqrt(x[0]), [POSITIVE]),
    ("exp", lambda x: dt.exp(x[0]), lambda x: np.exp(x[0]), [WIDE]),
    ("log", lambda x: dt.log(x[0]), lambda x: np.log(x[0]), [POSITIVE]),
    ("log1p", lambda x: dt.log1p(x[0]), lambda x: np.log1p(x[0]), [(-0.9, 3.0)]),
    ("expm1", lambda x: dt.expm1(x[0]), lambda x: np.expm1(x[0]), [WIDE]),
    ("sin", lambda x: dt.sin(x[0]), lambda x: np.sin(x[0]), [WIDE]),
    ("cos", lambda x: dt.cos(x[0]), lambda x: np.cos(x[0]), [WIDE]),
    ("tan", lambda x: dt.tan(x[0]), lambda x: np.tan(x[0]), [(-1.3, 1.3)]),
    ("asin", lambda x: dt.asin(x[0]), lambda x: np.arcsin(x[0]), [(-0.9, 0.9)]),
    ("acos", lambda x: dt.acos(x[0]), lambda x: np.arccos(x[0]), [(-0.9, 0.9)]),
    ("atan", lambda x: dt.atan(x[0]), lambda x: np.arctan(x[0]), [WIDE]),
    # atan2(y, x) differs from atan(y / x) by a constant in each half-plane x ≠ 0,
    # so the two have the same derivatives there.
    ("atan2_right", lambda x: dt.atan2(x[0], x[1]), lambda x: np.arctan(x[0] / x[1]), [WIDE, POSITIVE]),
    ("atan2_left", lambda x: dt.atan2(x[0], x[1]), lambda x: np.arctan(x[0] / x[1]), [WIDE, NEGATIVE]),
    ("sinh", lambda x: dt.sinh(x[0]), lambda x: np.sinh(x[0]), [WIDE]),
    ("cosh", lambda x: dt.cosh(x[0]), lambda x: np.cosh(x[0]), [WIDE]),
    ("tanh", lambda x: dt.tanh(x[0]), lambda x: np.tanh(x[0]), [WIDE]),
    ("hypot", lambda x: dt.hypot(x[0], x[1]), lambda x: np.sqrt(x[0] ** 2 + x[1] ** 2), [WIDE, WIDE]),
    ("ufunc_sqrt", lambda x: np.sqrt(x[0]), lambda x: np.sqrt(x[0]), [POSITIVE]),
    ("ufunc_arctan2", lambda x: np.arctan2(x[0], x[1]), lambda x: np.arctan(x[0] / x[1]), [WIDE, POSITIVE]),
    ("ufunc_power", lambda x: np.power(x[0], x[1]), lambda x: x[0] ** x[1], [POSITIVE, WIDE]),
    ("ufunc_log_exp", lambda x: np.log(x[0]) * np.exp(x[1]), lambda x: np.log(x[0]) * np.exp(x[1]),
     [POSITIVE, WIDE]),
    ("composite",
     lambda x: dt.sin(x[0] * x[1]) + dt.exp(x[1]) / x[2] + dt.log(x[2]) * dt.sqrt(x[0] * x[0] + 1.0),
     lambda x: np.sin(x[0] * x[1]) + np.exp(x[1]) / x[2] + np.log(x[2]) * np.sqrt(x[0] * x[0] + 1.0),
     [WIDE, WIDE, POSITIVE]),
]
ANALYTIC_IDS = [case[0] for case in ANALYTIC_CASES]

# Values of the cases whose complex-step reference differs from the op by a constant.
VALUE_REFERENCES = {
    "atan2_right": lambda x: np.arctan2(x[0], x[1]),
    "atan2_left": lambda x: np.arctan2(x[0], x[1]),
    "ufunc_arctan2": lambda x: np.arctan2(x[0], x[1]),
}


def _sign(v):
    return float(np.sign(v))


def _cmp_case(name, operator):
    # f = [x0 op x1] · x0 x1: the comparison is a 0/1 constant with zero derivative.
    def closed_form(x):
        c = float(operator(x[0], x[1]))
        return (c * x[0] * x[1], np.array([c * x[1], c * x[0]]),
                np.array([[0.0, c], [c, 0.0]]))
    traced = {
        "lt": lambda x: (x[0] < x[1]) * x[0] * x[1],
        "le": lambda x: (x[0] <= x[1]) * x[0] * x[1],
        "gt": lambda x: (x[0] > x[1]) * x[0] * x[1],
        "ge": lambda x: (x[0] >= x[1]) * x[0] * x[1],
        "eq": lambda x: (x[0] == x[1]) * x[0] * x[1],
        "ne": lambda x: (x[0] != x[1]) * x[0] * x[1],
    }[name]
    return (f"compare_{name}", traced, closed_form, [WIDE, WIDE])


def _abs_closed_form(x):
    return abs(x[0]), np.array([_sign(x[0])]), np.zeros((1, 1))


def _sign_closed_form(x):
    # sign(x) x² = x |x|: derivative 2|x|, second derivative 2 sign(x).
    s = _sign(x[0])
    return s * x[0] ** 2, np.array([2.0 * s * x[0]]), np.array([[2.0 * s]])


def _min_closed_form(x):
    # min(x0, x1)²: the derivative follows the smaller argument.
    i = 0 if x[0] <= x[1] else 1
    g = np.zeros(2)
    g[i] = 2.0 * x[i]
    H = np.zeros((2, 2))
    H[i, i] = 2.0
    return x[i] ** 2, g, H


def _max_closed_form(x):
    i = 0 if x[0] >= x[1] else 1
    g = np.zeros(2)
    g[i] = 2.0 * x[i]
    H = np.zeros((2, 2))
    H[i, i] = 2.0
    return x[i] ** 2, g, H


def _where_closed_form(x):
    # where(x0 > x1, sin(x0) x1, cos(x1) x0)
    if x[0] > x[1]:
        return (np.sin(x[0]) * x[1], np.array([np.cos(x[0]) * x[1], np.sin(x[0])]),
                np.array([[-np.sin(x[0]) * x[1], np.cos(x[0])], [np.cos(x[0]), 0.0]]))
    return (np.cos(x[1]) * x[0], np.array([np.cos(x[1]), -np.sin(x[1]) * x[0]]),
            np.array([[0.0, -np.sin(x[1])], [-np.sin(x[1]), -np.cos(x[1]) * x[0]]]))


def _where_constant_closed_form(x):
    # where(x0 < 0, 0, x0³)
    if x[0] < 0:
        return 0.0, np.zeros(1), np.zeros((1, 1))
    return x[0] ** 3, np.array([3.0 * x[0] ** 2]), np.array([[6.0 * x[0]]])


# Cases without a complex-analytic form: name, traced function, closed form
# x -> (f, gradient, Hessian), sampling box. Random points avoid kinks and ties
# with probability one; the kinks themselves are tested in test_tape_modes.py.
CLOSED_FORM_CASES = [
    ("abs", lambda x: dt.abs(x[0]), _abs_closed_form, [WIDE]),
    ("abs_builtin", lambda x: abs(x[0]), _abs_closed_form, [WIDE]),
    ("abs_ufunc", lambda x: np.abs(x[0]), _abs_closed_form, [WIDE]),
    ("sign", lambda x: dt.sign(x[0]) * x[0] ** 2, _sign_closed_form, [WIDE]),
    ("minimum", lambda x: dt.minimum(x[0], x[1]) ** 2, _min_closed_form, [WIDE, WIDE]),
    ("maximum", lambda x: dt.maximum(x[0], x[1]) ** 2, _max_closed_form, [WIDE, WIDE]),
    ("ufunc_minimum", lambda x: np.minimum(x[0], x[1]) ** 2, _min_closed_form, [WIDE, WIDE]),
    ("ufunc_maximum", lambda x: np.maximum(x[0], x[1]) ** 2, _max_closed_form, [WIDE, WIDE]),
    ("where", lambda x: dt.where(x[0] > x[1], dt.sin(x[0]) * x[1], dt.cos(x[1]) * x[0]),
     _where_closed_form, [WIDE, WIDE]),
    ("where_constant_branch", lambda x: dt.where(x[0] < 0, 0.0, x[0] ** 3),
     _where_constant_closed_form, [WIDE]),
] + [_cmp_case(name, op) for name, op in [
    ("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
    ("eq", np.equal), ("ne", np.not_equal)]]
CLOSED_FORM_IDS = [case[0] for case in CLOSED_FORM_CASES]


def complex_step_gradient(f, x, dtype=np.complex128):
    """∂f/∂xᵢ = Im f(x + i h eᵢ) / h, exact to rounding for complex-analytic f."""
    x = np.asarray(x)
    g = np.empty(x.shape[0], dtype=np.real(np.zeros(1, dtype)).dtype)
    for i in range(x.shape[0]):
        shifted = x.astype(dtype)
        shifted[i] += COMPLEX_STEP * 1j
        g[i] = np.imag(f(shifted)) / COMPLEX_STEP
    return g


def reference_hessian(f, x, step=1e-5):
    """Central differences of the complex-step gradient."""
    n = x.shape[0]
    H = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = step
        H[:, j] = (complex_step_gradient(f, x + e) - complex_step_gradient(f, x - e)) / (2 * step)
    return H


# Local variables per element in element_results: 4 is a size with a compile-time
# Dual, so the Hessians take the block interpreter (hessian_block), not the point path.
ELEMENT_SIZE = 4


def element_results(fn, points):
    """Gradient and Hessian of fn at every point, from one ElementEnergy.

    Element e owns the variables 4e … 4e + 3 (blocks of size 1), of which fn reads
    the first n, so the energy's gradient contains the element gradients side by side
    and its Hessian is block diagonal.
    """
    count, n = points.shape
    size = ELEMENT_SIZE
    elements = np.arange(count * size).reshape(count, size)
    energy = dt.ElementEnergy(lambda x_local: fn(x_local[:n, 0]), elements, 1)
    x = np.zeros((count, size))
    x[:, :n] = points
    value, gradient = energy.value_and_gradient(x.reshape(-1))
    H = energy.hessian(x.reshape(-1)).toarray()
    blocks = np.array([H[e * size:e * size + n, e * size:e * size + n] for e in range(count)])
    outside = H.copy()
    for e in range(count):
        outside[e * size:e * size + n, e * size:e * size + n] = 0.0
    assert np.all(outside == 0.0), "elements must not couple, and the unread variables have zero Hessian"
    element_values = energy.element_values(x.reshape(-1))
    return value, element_values, gradient.reshape(count, size)[:, :n], blocks


def tape_modes(tape, x):
    """Gradients from every single-point mode of a scalar tape, keyed by mode name."""
    return {
        "reverse": tape.gradient(x),
        "value_and_gradient": tape.value_and_gradient(x)[1],
        "reverse_jacobian": tape.jacobian(x, mode="reverse")[0],
        "forward_jacobian": tape.jacobian(x, mode="forward")[0],
        "jvp": np.array([tape.jvp(x, np.eye(x.shape[0])[i])[0] for i in range(x.shape[0])]),
        "vjp": tape.vjp(x, np.ones(1)),
    }


@pytest.mark.parametrize("case", ANALYTIC_CASES, ids=ANALYTIC_IDS)
def test_analytic_op_all_modes(case, tolerance):
    name, fn, reference, box = case
    n = len(box)
    points = sample(box, seeded_rng(name))
    tape = dt.trace(fn, n)
    exact = tolerance(np.float64)
    value_reference = VALUE_REFERENCES.get(name, reference)

    for x in points:
        expected_gradient = complex_step_gradient(reference, x)
        assert_allclose(tape.value(x), value_reference(x), **exact)
        for mode, gradient in tape_modes(tape, x).items():
            assert_allclose(gradient, expected_gradient, **exact, err_msg=f"mode {mode}")
        H = tape.hessian(x)
        assert_allclose(H, H.T, rtol=0, atol=0)
        assert_allclose(H, reference_hessian(reference, x), **CENTRAL_DIFFERENCE_TOLERANCE)

    total, values, gradients, hessians = element_results(fn, points)
    for e, x in enumerate(points):
        assert_allclose(values[e], value_reference(x), **exact)
        assert_allclose(gradients[e], complex_step_gradient(reference, x), **exact,
                        err_msg="element gradient")
        assert_allclose(hessians[e], tape.hessian(x), **exact, err_msg="element Hessian")
    assert_allclose(total, sum(value_reference(x) for x in points), **exact)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ANALYTIC_CASES, ids=ANALYTIC_IDS)
def test_analytic_op_gradient_by_input_dtype(case, dtype, tolerance):
    # Points given in `dtype` are upcast exactly; the reference is computed in the
    # complex type of the same precision, so the tolerance follows the dtype.
    name, fn, reference, box = case
    points = sample(box, seeded_rng(name + "dtype")).astype(dtype)
    tape = dt.trace(fn, len(box))
    complex_dtype = np.complex64 if dtype == np.float32 else np.complex128
    for x in points:
        expected = complex_step_gradient(reference, x, complex_dtype)
        assert_allclose(tape.gradient(x), expected, **tolerance(dtype))
        assert_allclose(tape.jacobian(x, mode="forward")[0], expected, **tolerance(dtype))


@pytest.mark.parametrize("case", CLOSED_FORM_CASES, ids=CLOSED_FORM_IDS)
def test_nonsmooth_op_all_modes(case, tolerance):
    name, fn, closed_form, box = case
    n = len(box)
    points = sample(box, seeded_rng(name))
    tape = dt.trace(fn, n)
    exact = tolerance(np.float64)

    for x in points:
        f, g, H = closed_form(x)
        assert_allclose(tape.value(x), f, **exact)
        for mode, gradient in tape_modes(tape, x).items():
            assert_allclose(gradient, g, **exact, err_msg=f"mode {mode}")
        assert_allclose(tape.hessian(x), H, **exact)

    total, values, gradients, hessians = element_results(fn, points)
    for e, x in enumerate(points):
        f, g, H = closed_form(x)
        assert_allclose(values[e], f, **exact)
        assert_allclose(gradients[e], g, **exact, err_msg="element gradient")
        assert_allclose(hessians[e], H, **exact, err_msg="element Hessian")


@pytest.mark.parametrize("name, op", [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                                      ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)])
def test_comparison_at_tie(name, op, tolerance):
    _, fn, closed_form, _ = _cmp_case(name, op)
    tape = dt.trace(fn, 2)
    x = np.array([1.25, 1.25])
    f, g, H = closed_form(x)
    assert tape.value(x) == f
    for mode, gradient in tape_modes(tape, x).items():
        assert_allclose(gradient, g, **tolerance(np.float64), err_msg=f"mode {mode}")
    assert_allclose(tape.hessian(x), H, **tolerance(np.float64))


def test_comparison_value_is_zero_or_one():
    tape = dt.trace(lambda x: np.array([x[0] < x[1], x[0] <= x[1], x[0] > x[1], x[0] >= x[1],
                                        x[0] == x[1], x[0] != x[1]]), 2)
    assert_allclose(tape.value([1.0, 2.0]), [1, 1, 0, 0, 0, 1])
    assert_allclose(tape.value([2.0, 2.0]), [0, 1, 0, 1, 1, 0])
    assert_allclose(tape.value([3.0, 2.0]), [0, 0, 1, 1, 0, 1])
    assert np.all(tape.jacobian([1.0, 2.0]) == 0.0)


def test_object_array_math_matches_scalar_ops(tolerance):
    # NumPy ufuncs and dt functions on object arrays of symbols map element by element.
    def fn(x):
        v = np.sqrt(x[:3] * x[:3] + 1.0)
        w = dt.exp(x[3:]) - 1.0
        return dt.dot(v, w) + dt.norm(x[:3])

    def reference(x):
        return np.dot(np.sqrt(x[:3] * x[:3] + 1.0), np.exp(x[3:]) - 1.0) + np.sqrt(np.dot(x[:3], x[:3]))

    tape = dt.trace(fn, 6)
    rng = seeded_rng("object_array")
    for x in rng.uniform(-1.0, 1.0, (5, 6)):
        assert_allclose(tape.value(x), reference(x), **tolerance(np.float64))
        assert_allclose(tape.gradient(x), complex_step_gradient(reference, x), **tolerance(np.float64))
        assert_allclose(tape.hessian(x), reference_hessian(reference, x), **CENTRAL_DIFFERENCE_TOLERANCE)


def test_small_matrix_functions(tolerance):
    # det and inv of a 3×3 matrix traced through dt.det and dt.inv, and matrix @.
    def fn(x):
        m = x.reshape(3, 3)
        inverse = dt.inv(m)
        return dt.det(m) + (inverse @ m)[0, 0] + inverse[1, 2]

    def reference(x):
        m = x.reshape(3, 3)
        return np.linalg.det(m) + 1.0 + np.linalg.inv(m)[1, 2]

    tape = dt.trace(fn, 9)
    x = np.eye(3).reshape(-1) + seeded_rng("matrix").uniform(-0.3, 0.3, 9)
    assert_allclose(tape.value(x), reference(x), **tolerance(np.float64))
    # np.linalg cannot take complex-step input reliably, so compare with central differences.
    step = 1e-6
    expected = np.array([(reference(x + step * e) - reference(x - step * e)) / (2 * step) for e in np.eye(9)])
    assert_allclose(tape.gradient(x), expected, rtol=1e-7, atol=1e-8)
