"""Agreement of the tape's evaluation modes, the zero rule, and the derivatives
the op table defines at singular points, kinks and ties.

Every check runs through all modes: the reverse sweep, forward mode,
forward-over-reverse and the batched element interpreter.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import dualtape as dt

RTOL = 1e-12

# A function R⁴ -> R³ that uses most operations.
def vector_function(x):
    r = dt.hypot(x[0], x[1])
    return np.array([
        dt.sin(x[0] * x[1]) + dt.exp(x[2] / 3.0) * dt.atan2(x[1], x[3] + 5.0),
        dt.log1p(x[0] ** 2) * dt.tanh(x[3]) + r ** 1.5 - dt.sqrt(x[2] ** 2 + 1.0),
        dt.where(x[0] > x[1], dt.cosh(x[2] / 4.0), dt.minimum(x[3], x[0]) ** 2) + x[0]
        + dt.maximum(x[2], 0.5) * dt.atan(x[3]) - dt.expm1(x[1] / 5.0) / (x[2] ** 2 + 2.0),
    ], dtype=object)


VECTOR_TAPE = dt.trace(vector_function, 4)
SCALAR_TAPE = dt.trace(lambda x: dt.dot(vector_function(x), np.array([1.0, -2.0, 0.5])), 4)

coordinate = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False)
vector4 = st.lists(coordinate, min_size=4, max_size=4).map(np.array)
vector3 = st.lists(coordinate, min_size=3, max_size=3).map(np.array)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(x=vector4, t=vector4, c=vector3)
def test_forward_reverse_dot_product_identity(x, t, c):
    # ⟨J t, c⟩ = ⟨t, Jᵀ c⟩, with J t from forward mode and Jᵀ c from the reverse sweep.
    jt = VECTOR_TAPE.jvp(x, t)
    jtc = VECTOR_TAPE.vjp(x, c)
    assert np.dot(jt, c) == pytest.approx(np.dot(t, jtc), rel=RTOL, abs=RTOL)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(x=vector4)
def test_jacobian_forward_equals_reverse(x):
    forward = VECTOR_TAPE.jacobian(x, mode="forward")
    reverse = VECTOR_TAPE.jacobian(x, mode="reverse")
    assert forward.shape == (3, 4)
    assert reverse.shape == (3, 4)
    assert_allclose(forward, reverse, rtol=RTOL, atol=RTOL)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(x=vector4)
def test_hessian_symmetric_and_matches_gradient(x):
    H = SCALAR_TAPE.hessian(x)
    assert_array_equal(H, H.T)
    # Column j of H is the derivative of the reverse gradient along eᵢ.
    step = 1e-6
    for j in range(4):
        e = np.zeros(4)
        e[j] = step
        column = (SCALAR_TAPE.gradient(x + e) - SCALAR_TAPE.gradient(x - e)) / (2 * step)
        # The where() branch flips within the step when x0 and x1 are this close.
        if abs(x[0] - x[1]) > 2 * step and abs(x[3] - x[0]) > 2 * step and abs(x[2] - 0.5) > 2 * step:
            assert_allclose(H[:, j], column, rtol=1e-5, atol=1e-6)


def test_forward_mode_along_random_direction():
    # J v from forward mode against central differences of the values along v.
    rng = np.random.default_rng(7)
    for _ in range(10):
        x = rng.uniform(-2.0, 2.0, 4)
        v = rng.standard_normal(4)
        step = 1e-6
        expected = (VECTOR_TAPE.value(x + step * v) - VECTOR_TAPE.value(x - step * v)) / (2 * step)
        assert_allclose(VECTOR_TAPE.jvp(x, v), expected, rtol=1e-7, atol=1e-7)


def test_hessian_of_each_output():
    x = np.array([0.3, -0.7, 1.1, 0.4])
    weights = np.array([1.0, -2.0, 0.5])
    combined = sum(w * VECTOR_TAPE.hessian(x, output=i) for i, w in enumerate(weights))
    assert_allclose(combined, SCALAR_TAPE.hessian(x), rtol=RTOL, atol=RTOL)


def test_parameters_enter_value_not_gradient():
    tape = dt.trace(lambda x, p: p[0] * x[0] ** 2 + p[1] * x[1], 2, 2)
    x = np.array([1.5, -2.0])
    p = np.array([3.0, 0.25])
    assert tape.value(x, p) == pytest.approx(3.0 * 2.25 - 0.5)
    assert_allclose(tape.gradient(x, p), [9.0, 0.25])
    assert_allclose(tape.jacobian(x, p, mode="forward"), [[9.0, 0.25]])
    assert_allclose(tape.hessian(x, p), [[6.0, 0.0], [0.0, 0.0]])


def all_modes(fn, n, x):
    """Value, gradients and Hessians of fn at x from every mode, keyed by mode name."""
    x = np.asarray(x, dtype=float)
    tape = dt.trace(fn, n)
    energy = dt.ElementEnergy(lambda x_local: fn(x_local[:, 0]), np.arange(n).reshape(1, n), 1)
    element_value, element_gradient = energy.value_and_gradient(x)
    # The gradient that comes with the Hessian is the value part of the Dual
    # adjoints of forward-over-reverse; Newton steps are computed from it.
    hessian_value, hessian_gradient, H = dt.Objective([energy]).value_gradient_hessian(x)
    return {
        "value": {"tape": tape.value(x), "element": element_value, "element_hessian_pass": hessian_value},
        "gradient": {
            "reverse": tape.gradient(x),
            "reverse_jacobian": tape.jacobian(x, mode="reverse")[0],
            "forward": tape.jacobian(x, mode="forward")[0],
            "element": element_gradient,
            "element_hessian_pass": hessian_gradient,
        },
        "hessian": {"forward_over_reverse": tape.hessian(x), "element": H.toarray()},
    }


def assert_all_modes(fn, n, x, value=None, gradient=None, hessian=None):
    results = all_modes(fn, n, x)
    if value is not None:
        for mode, actual in results["value"].items():
            assert actual == pytest.approx(value, rel=RTOL, abs=RTOL), f"value in mode {mode}"
    for mode, actual in results["gradient"].items():
        assert np.all(np.isfinite(actual)), f"gradient in mode {mode} is not finite: {actual}"
        if gradient is not None:
            assert_allclose(actual, gradient, rtol=RTOL, atol=RTOL, err_msg=f"gradient in mode {mode}")
    for mode, actual in results["hessian"].items():
        assert np.all(np.isfinite(actual)), f"Hessian in mode {mode} is not finite: {actual}"
        if hessian is not None:
            assert_allclose(actual, hessian, rtol=RTOL, atol=RTOL, err_msg=f"Hessian in mode {mode}")


# -- the zero rule ---------------------------------------------------------------


def test_zero_rule_norm_squared_at_origin():
    # With u = x² + y², d/dx (√u)² = 2√u · sqrt'(u) · 2x. At the origin sqrt'(0) = ∞
    # (defined as 0) meets the exact zeros √u and 2x, so the gradient is (0, 0), not NaN.
    assert_all_modes(lambda x: dt.sqrt(x[0] * x[0] + x[1] * x[1]) ** 2, 2, [0.0, 0.0],
                     value=0.0, gradient=[0.0, 0.0])


def test_zero_rule_norm_at_origin():
    assert_all_modes(lambda x: dt.norm(x), 3, [0.0, 0.0, 0.0], value=0.0, gradient=[0.0, 0.0, 0.0])


@pytest.mark.parametrize("x, value, gradient, hessian", [
    ([-1.0], 1.0, [-1.0], [[0.0]]),
    ([4.0], 2.0, [0.25], [[-1.0 / 32.0]]),
], ids=["nan_branch_untaken", "nan_branch_taken"])
def test_where_untaken_sqrt_of_negative(x, value, gradient, hessian):
    # sqrt(−1) is NaN with a NaN derivative; where() must not let it through.
    assert_all_modes(lambda s: dt.where(s[0] > 0, dt.sqrt(s[0]), -s[0]), 1, x, value, gradient, hessian)


def test_where_untaken_log_at_zero():
    # log(0) = −inf with derivative +inf in the branch not taken.
    assert_all_modes(lambda s: dt.where(s[0] > 0, dt.log(s[0]), s[0] ** 2), 1, [0.0],
                     value=0.0, gradient=[0.0], hessian=[[2.0]])


def test_where_untaken_division_by_zero():
    # x1 / x0 at x0 = 0 has inf partials in both variables.
    assert_all_modes(lambda s: dt.where(s[0] != 0, s[1] / s[0], s[1] * 3.0), 2, [0.0, 2.0],
                     value=6.0, gradient=[0.0, 3.0], hessian=np.zeros((2, 2)))


def test_where_untaken_zero_over_zero():
    assert_all_modes(lambda s: dt.where(s[0] != 0, dt.sin(s[0]) / s[0], 1.0), 1, [0.0],
                     value=1.0, gradient=[0.0], hessian=[[0.0]])


def test_where_infinite_constant_branch():
    fn = lambda s: dt.where(s[0] > 0, s[0] ** 2, np.inf)  # noqa: E731
    assert_all_modes(fn, 1, [1.5], value=2.25, gradient=[3.0], hessian=[[2.0]])
    tape = dt.trace(fn, 1)
    assert tape.value([-1.0]) == np.inf
    assert_array_equal(tape.gradient([-1.0]), [0.0])
    assert_array_equal(tape.hessian([-1.0]), [[0.0]])


def test_where_branches_in_neighbouring_lanes():
    # One element energy whose elements take different branches. The branch not
    # taken is NaN in every lane (sqrt or log of a negative number), and neither
    # its value nor its derivatives may reach the result.
    fn = lambda s: dt.where(s[0] > 0, dt.sqrt(s[0]) * s[1], dt.log(-s[0]) * s[1])  # noqa: E731
    points = np.array([[4.0, 1.0], [-1.0, 2.0], [-3.0, 3.0], [9.0, -1.0], [-np.e, 0.5],
                       [1.0, 1.0], [-2.0, 1.0], [0.25, 2.0], [-0.5, 1.0], [16.0, 1.0]])
    count = points.shape[0]
    # Four local variables (two unread): a size whose Hessians take the block
    # interpreter, which must hand the lanes with a NaN branch to the exact path.
    energy = dt.ElementEnergy(lambda x_local: fn(x_local[:2, 0]), np.arange(4 * count).reshape(count, 4), 1)
    x_all = np.zeros((count, 4))
    x_all[:, :2] = points
    value, gradient = energy.value_and_gradient(x_all.reshape(-1))
    H = energy.hessian(x_all.reshape(-1)).toarray()
    tape = dt.trace(fn, 2)
    for e, x in enumerate(points):
        block = slice(4 * e, 4 * e + 2)
        assert np.all(np.isfinite(gradient[block])), f"element {e} at {x}"
        assert_allclose(gradient[block], tape.gradient(x), rtol=RTOL, atol=RTOL, err_msg=f"element {e}")
        assert_allclose(H[block, block], tape.hessian(x), rtol=RTOL, atol=RTOL, err_msg=f"element {e}")
    assert value == pytest.approx(sum(tape.value(x) for x in points), rel=RTOL)


# -- pow at its edges --------------------------------------------------------------


def test_pow_constant_zero_exponent_at_zero_base():
    assert_all_modes(lambda s: s[0] ** 0.0, 1, [0.0], value=1.0, gradient=[0.0], hessian=[[0.0]])


def test_pow_variable_zero_exponent_at_zero_base():
    # 0⁰ = 1; ∂/∂a = b a^(b−1) is defined as 0 at b = 0, ∂/∂b = a^b log a as 0 at a = 0.
    assert_all_modes(lambda s: s[0] ** s[1], 2, [0.0, 0.0], value=1.0, gradient=[0.0, 0.0])


def test_pow_1_875_at_zero():
    # d/dx x^1.875 = 1.875 x^0.875 = 0 at x = 0; the second derivative is infinite
    # there and is defined as 0.
    assert_all_modes(lambda s: s[0] ** 1.875, 1, [0.0], value=0.0, gradient=[0.0])


@pytest.mark.parametrize("exponent", [0.5, 1.0, 2.5])
def test_pow_zero_base_derivative_in_exponent(exponent):
    # 0^b = 0 for b > 0, so the derivative in b is 0 (a^b log a would be 0 · −inf).
    assert_all_modes(lambda s: 0.0 ** s[0], 1, [exponent], value=0.0, gradient=[0.0], hessian=[[0.0]])
    expected_base = 1.0 if exponent == 1.0 else 0.0  # b·0^(b−1): 1 for b = 1, 0 for b > 1
    gradient = None if exponent < 1.0 else [expected_base, 0.0]
    assert_all_modes(lambda s: s[0] ** s[1], 2, [0.0, exponent], value=0.0, gradient=gradient)
    results = all_modes(lambda s: s[0] ** s[1], 2, [0.0, exponent])
    for mode, actual in results["gradient"].items():
        assert actual[1] == 0.0, f"derivative in b in mode {mode}"


def test_pow_positive_base_variable_exponent():
    a, b = 1.7, -0.8
    assert_all_modes(lambda s: s[0] ** s[1], 2, [a, b], value=a ** b,
                     gradient=[b * a ** (b - 1), a ** b * np.log(a)])


# -- atan2 on the x axis ------------------------------------------------------------


@pytest.mark.parametrize("x, angle", [(2.0, 0.0), (-2.0, np.pi)], ids=["positive_x", "negative_x"])
def test_atan2_on_x_axis(x, angle):
    # f = atan2(y, x) at y = 0: ∂f/∂y = x/(x² + y²) = 1/x, ∂f/∂x = −y/(x² + y²) = 0,
    # ∂²f/∂y² = −2xy/r⁴ = 0, ∂²f/∂x∂y = (y² − x²)/r⁴ = −1/x², ∂²f/∂x² = 2xy/r⁴ = 0.
    hessian = [[0.0, -1.0 / x ** 2], [-1.0 / x ** 2, 0.0]]
    assert_all_modes(lambda s: dt.atan2(s[0], s[1]), 2, [0.0, x], value=angle,
                     gradient=[1.0 / x, 0.0], hessian=hessian)


def test_atan2_at_origin():
    assert_all_modes(lambda s: dt.atan2(s[0], s[1]), 2, [0.0, 0.0], value=0.0, gradient=[0.0, 0.0])


def test_hypot_at_origin():
    assert_all_modes(lambda s: dt.hypot(s[0], s[1]), 2, [0.0, 0.0], value=0.0, gradient=[0.0, 0.0])


# -- kinks and ties: one documented subgradient in every mode -----------------------


def test_abs_at_zero():
    for fn in (lambda s: dt.abs(s[0]), lambda s: abs(s[0]), lambda s: np.abs(s[0])):
        assert_all_modes(fn, 1, [0.0], value=0.0, gradient=[0.0], hessian=[[0.0]])


def test_sqrt_at_zero():
    assert_all_modes(lambda s: dt.sqrt(s[0]), 1, [0.0], value=0.0, gradient=[0.0], hessian=[[0.0]])


@pytest.mark.parametrize("function", [dt.minimum, dt.maximum, np.minimum, np.maximum],
                         ids=["minimum", "maximum", "ufunc_minimum", "ufunc_maximum"])
def test_min_max_tie_follows_first_argument(function):
    assert_all_modes(lambda s: function(s[0], s[1]), 2, [1.5, 1.5], value=1.5, gradient=[1.0, 0.0])
    assert_all_modes(lambda s: function(s[1], s[0]), 2, [1.5, 1.5], value=1.5, gradient=[0.0, 1.0])
    # The chosen argument's own derivatives come through: min(x0², x1²) at a tie.
    assert_all_modes(lambda s: function(s[0] ** 2, s[1] ** 2), 2, [2.0, -2.0], value=4.0,
                     gradient=[4.0, 0.0], hessian=[[2.0, 0.0], [0.0, 0.0]])


def test_zero_rule_nan_adjoint_times_zero_partial():
    # x0 ** (x1 ** 0) = x0 ** 1: the partial in the exponent, x0 log x0, is NaN for
    # x0 < 0, so the exponent's adjoint is NaN; its own partial, d(x1⁰)/dx1, is 0.
    assert_all_modes(lambda s: s[0] ** (s[1] ** 0.0), 2, [-1.5, 0.7], value=-1.5, gradient=[1.0, 0.0])


def test_zero_rule_infinite_adjoint_times_zero_partial():
    # asin(cos x) at x = 0: asin'(1) = inf, and cos'(0) = −sin 0 = 0. The zero rule
    # makes the gradient 0; the Hessian itself is infinite there and is not checked.
    results = all_modes(lambda s: dt.asin(dt.cos(s[0])), 1, [0.0])
    for mode, actual in results["gradient"].items():
        assert_array_equal(actual, [0.0], err_msg=f"gradient in mode {mode}")


def test_sign_has_zero_derivative():
    for x in (-2.0, 0.0, 3.0):
        assert_all_modes(lambda s: dt.sign(s[0]), 1, [x], value=np.sign(x), gradient=[0.0], hessian=[[0.0]])
