"""Tests of the eager transformations: grad, value_and_grad, jacobian, hessian, jvp, vjp."""

import math

import numpy as np
import pytest

import dualtape as dt
from dualtape import _core
from dualtape._eager import EagerRecorder


# -- functions with closed-form derivatives ------------------------------------------------

def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_gradient(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def rosenbrock_hessian(x):
    return np.array([[2 - 400 * (x[1] - 3 * x[0] ** 2), -400 * x[0]], [-400 * x[0], 200.0]])


def mixed(x):
    return dt.log(1 + x[0] ** 2) + x[0] * x[1] ** 3 + dt.sqrt(x[2]) * dt.sin(x[1])


def mixed_gradient(x):
    return np.array([
        2 * x[0] / (1 + x[0] ** 2) + x[1] ** 3,
        3 * x[0] * x[1] ** 2 + math.sqrt(x[2]) * math.cos(x[1]),
        math.sin(x[1]) / (2 * math.sqrt(x[2])),
    ])


def mixed_hessian(x):
    s, c, r = math.sin(x[1]), math.cos(x[1]), math.sqrt(x[2])
    return np.array([
        [2 * (1 - x[0] ** 2) / (1 + x[0] ** 2) ** 2, 3 * x[1] ** 2, 0.0],
        [3 * x[1] ** 2, 6 * x[0] * x[1] - r * s, c / (2 * r)],
        [0.0, c / (2 * r), -s / (4 * r ** 3)],
    ])


def softplus_sum(x):
    return np.sum(np.log1p(np.exp(x)))


def softplus_sum_gradient(x):
    return 1 / (1 + np.exp(-x))


def softplus_sum_hessian(x):
    s = 1 / (1 + np.exp(-x))
    return np.diag(s * (1 - s))


def trig_ratio(x):
    return dt.atan2(x[1], x[0]) + dt.tanh(x[0] * x[1]) / dt.cosh(x[1])


def trig_ratio_gradient(x):
    r2 = x[0] ** 2 + x[1] ** 2
    t, ch, sh = math.tanh(x[0] * x[1]), math.cosh(x[1]), math.sinh(x[1])
    sech2 = 1 - t ** 2
    return np.array([
        -x[1] / r2 + x[1] * sech2 / ch,
        x[0] / r2 + x[0] * sech2 / ch - t * sh / ch ** 2,
    ])


SCALAR_CASES = [
    ("rosenbrock", rosenbrock, rosenbrock_gradient, rosenbrock_hessian, [-1.2, 1.0]),
    ("mixed", mixed, mixed_gradient, mixed_hessian, [0.7, -1.3, 2.5]),
    ("softplus_sum", softplus_sum, softplus_sum_gradient, softplus_sum_hessian, [-2.0, 0.1, 0.5, 3.0]),
]


def vector_function(x):
    return np.array([x[0] * x[1], dt.sin(x[0]) + x[2] ** 3, dt.exp(x[1] - x[2]), x[2] / x[0]])


def vector_function_jacobian(x):
    e = math.exp(x[1] - x[2])
    return np.array([
        [x[1], x[0], 0.0],
        [math.cos(x[0]), 0.0, 3 * x[2] ** 2],
        [0.0, e, -e],
        [-x[2] / x[0] ** 2, 0.0, 1 / x[0]],
    ])


# -- closed forms ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, f, gradient, hessian, x", SCALAR_CASES)
def test_grad_matches_closed_form(name, f, gradient, hessian, x):
    x = np.array(x)
    np.testing.assert_allclose(dt.grad(f)(x), gradient(x), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name, f, gradient, hessian, x", SCALAR_CASES)
def test_value_and_grad_matches_closed_form(name, f, gradient, hessian, x):
    x = np.array(x)
    value, g = dt.value_and_grad(f)(x)
    assert isinstance(value, float)
    assert value == pytest.approx(float(f(x)), rel=1e-14)
    np.testing.assert_allclose(g, gradient(x), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name, f, gradient, hessian, x", SCALAR_CASES)
def test_hessian_matches_closed_form(name, f, gradient, hessian, x):
    x = np.array(x)
    H = dt.hessian(f)(x)
    np.testing.assert_allclose(H, hessian(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(H, H.T)


@pytest.mark.parametrize("name, f, gradient, hessian, x", SCALAR_CASES)
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_scalar_is_gradient(name, f, gradient, hessian, x, mode):
    x = np.array(x)
    np.testing.assert_allclose(dt.jacobian(f, mode=mode)(x), gradient(x), rtol=1e-13, atol=1e-13)


def test_grad_of_trig_ratio():
    x = np.array([0.4, -0.9])
    np.testing.assert_allclose(dt.grad(trig_ratio)(x), trig_ratio_gradient(x), rtol=1e-13)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_matches_closed_form(mode):
    x = np.array([0.8, -0.4, 1.3])
    J = dt.jacobian(vector_function, mode=mode)(x)
    assert J.shape == (4, 3)
    np.testing.assert_allclose(J, vector_function_jacobian(x), rtol=1e-14, atol=1e-15)


def test_jvp_and_vjp_match_closed_form():
    x = np.array([0.8, -0.4, 1.3])
    v = np.array([0.3, -1.0, 2.0])
    w = np.array([1.0, -2.0, 0.5, 4.0])
    J = vector_function_jacobian(x)
    value, product = dt.jvp(vector_function, x, v)
    np.testing.assert_allclose(value, vector_function(x), rtol=1e-15)
    np.testing.assert_allclose(product, J @ v, rtol=1e-13)
    value, product = dt.vjp(vector_function, x, w)
    np.testing.assert_allclose(value, vector_function(x), rtol=1e-15)
    np.testing.assert_allclose(product, w @ J, rtol=1e-13)


def test_hessian_of_vector_function_per_output():
    x = np.array([0.5, 2.0])
    H = dt.hessian(lambda x: np.array([x[0] ** 2 * x[1], dt.sin(x[0] * x[1])]))(x)
    assert H.shape == (2, 2, 2)
    np.testing.assert_allclose(H[0], [[2 * x[1], 2 * x[0]], [2 * x[0], 0.0]], rtol=1e-14)
    s, c = math.sin(x[0] * x[1]), math.cos(x[0] * x[1])
    expected = [[-x[1] ** 2 * s, c - x[0] * x[1] * s], [c - x[0] * x[1] * s, -x[0] ** 2 * s]]
    np.testing.assert_allclose(H[1], expected, rtol=1e-13)


# -- forward and reverse mode agree --------------------------------------------------------

def dense_layer(x):
    W = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
    hidden = np.tanh(W @ x)
    return np.array([dt.exp(hidden[0]) * hidden[1], dt.hypot(hidden[0], x[2]), dt.log1p(x[0] ** 2)])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_dot_product_identity(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=3)
    t = rng.normal(size=3)
    c = rng.normal(size=3)
    _, Jt = dt.jvp(dense_layer, x, t)
    _, JTc = dt.vjp(dense_layer, x, c)
    assert np.dot(Jt, c) == pytest.approx(np.dot(t, JTc), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("seed", [0, 1])
def test_forward_and_reverse_jacobians_agree(seed):
    x = np.random.default_rng(seed).normal(size=3)
    forward = dt.jacobian(dense_layer, mode="forward")(x)
    reverse = dt.jacobian(dense_layer, mode="reverse")(x)
    np.testing.assert_allclose(forward, reverse, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("seed", [0, 1])
def test_jvp_against_central_differences(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=3)
    t = rng.normal(size=3)
    h = 1e-6
    estimate = (dense_layer(x + h * t) - dense_layer(x - h * t)) / (2 * h)
    _, Jt = dt.jvp(dense_layer, x, t)
    np.testing.assert_allclose(Jt, estimate.astype(float), rtol=1e-7, atol=1e-8)


# -- Python control flow on real values ----------------------------------------------------

def piecewise(x):
    if x[0] > 0:
        return dt.sin(x[0]) * x[1]
    return x[0] * x[1] ** 2


def test_if_follows_the_value():
    np.testing.assert_allclose(dt.grad(piecewise)(np.array([1.0, 2.0])), [math.cos(1.0) * 2.0, math.sin(1.0)])
    np.testing.assert_allclose(dt.grad(piecewise)(np.array([-1.0, 2.0])), [4.0, -4.0])


def newton_sqrt(a):
    # Babylonian iteration until converged: the loop count depends on the value.
    y = a
    while abs(y * y - a) > 1e-14 * a:
        y = 0.5 * (y + a / y)
    return y


def test_while_loop_derivative_is_exact():
    a = 7.0
    derivative = dt.grad(newton_sqrt)(a)
    assert isinstance(derivative, float)
    assert derivative == pytest.approx(0.5 / math.sqrt(a), rel=1e-12)


def test_for_loop_over_value_dependent_count():
    def power_by_loop(x):
        result = 1.0
        for _ in range(int(x[1].value)):
            result = result * x[0]
        return result

    np.testing.assert_allclose(dt.grad(power_by_loop)(np.array([1.5, 4.0])), [4 * 1.5 ** 3, 0.0])


def test_comparison_result_works_in_where_and_if():
    def f(x):
        positive = x > 0
        assert bool(positive) == (x.value > 0)
        return dt.where(positive, x ** 3, -x)

    assert dt.grad(f)(2.0) == pytest.approx(12.0)
    assert dt.grad(f)(-2.0) == pytest.approx(-1.0)


def test_symbol_prints_its_value():
    seen = []

    def f(x):
        seen.append(f"{x[0]:.2f}")
        seen.append(repr(x[0]))
        return x[0] * 2

    dt.grad(f)(np.array([1.25]))
    assert seen[0] == "1.25"
    assert "1.25" in seen[1]


def test_compiled_trace_still_rejects_if():
    with pytest.raises(dt.TracingError, match="dt.where"):
        dt.trace(piecewise, 2)


# -- argnums --------------------------------------------------------------------------------

def weighted(w, x, scale):
    return scale * dt.sin(w[0] * x[0] + w[1] * x[1])


def test_argnums_single_position():
    w, x = np.array([0.3, -0.2]), np.array([1.0, 2.0])
    z = 0.3 * 1.0 - 0.2 * 2.0
    np.testing.assert_allclose(dt.grad(weighted, argnums=1)(w, x, 3.0), 3.0 * math.cos(z) * w, rtol=1e-14)


def test_argnums_tuple_gives_tuple():
    w, x = np.array([0.3, -0.2]), np.array([1.0, 2.0])
    z = 0.3 * 1.0 - 0.2 * 2.0
    gw, gx = dt.grad(weighted, argnums=(0, 1))(w, x, 3.0)
    np.testing.assert_allclose(gw, 3.0 * math.cos(z) * x, rtol=1e-14)
    np.testing.assert_allclose(gx, 3.0 * math.cos(z) * w, rtol=1e-14)


def test_argnums_negative_and_scalar_argument():
    g = dt.grad(weighted, argnums=-1)(np.array([0.3, -0.2]), np.array([1.0, 2.0]), 3.0)
    assert isinstance(g, float)
    assert g == pytest.approx(math.sin(0.3 - 0.4))


def test_argnums_hessian_blocks():
    H = dt.hessian(lambda a, b: a * a * b + b ** 3, argnums=(0, 1))(2.0, 3.0)
    assert H == ((6.0, 4.0), (4.0, 18.0))


def test_argnums_jacobian_blocks():
    Ja, Jb = dt.jacobian(lambda a, b: np.array([a[0] * b, a[1] + b]), argnums=(0, 1))(np.array([1.0, 2.0]), 5.0)
    np.testing.assert_array_equal(Ja, [[5.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(Jb, [1.0, 1.0])


def test_keyword_arguments_pass_through():
    g = dt.grad(lambda x, power=2: x ** power)(3.0, power=3)
    assert g == pytest.approx(27.0)


# -- shapes and dtypes ------------------------------------------------------------------------

def test_two_dimensional_input_keeps_shape():
    X = np.arange(1.0, 7.0).reshape(3, 2)
    g = dt.grad(lambda X: np.sum(X ** 2) + X[1, 0] * X[2, 1])(X)
    expected = 2 * X
    expected[1, 0] += X[2, 1]
    expected[2, 1] += X[1, 0]
    assert g.shape == (3, 2)
    np.testing.assert_array_equal(g, expected)
    assert dt.hessian(lambda X: np.sum(X ** 3))(X).shape == (3, 2, 3, 2)
    assert dt.jacobian(lambda X: X[:, 0] * X[:, 1])(X).shape == (3, 3, 2)


def test_integer_input_promoted_to_float64():
    g = dt.grad(lambda x: x[0] / x[1])(np.array([1, 3]))
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [1 / 3, -1 / 9], rtol=1e-15)


def test_float32_computed_in_float64():
    x32 = np.array([0.1, 0.7], dtype=np.float32)
    g32 = dt.grad(rosenbrock)(x32)
    g64 = dt.grad(rosenbrock)(x32.astype(np.float64))
    assert g32.dtype == np.float64
    np.testing.assert_array_equal(g32, g64)


def test_list_input_accepted():
    np.testing.assert_allclose(dt.grad(rosenbrock)([-1.2, 1.0]), rosenbrock_gradient(np.array([-1.2, 1.0])))


def test_numpy_scalar_operands():
    def f(x):
        return np.float64(2.0) * x[0] + np.array(3.0) * x[1] + np.float32(0.5) * x[0] ** 2 - np.int64(1)

    np.testing.assert_array_equal(dt.grad(f)(np.array([4.0, 1.0])), [6.0, 3.0])
    np.testing.assert_array_equal(dt.grad(lambda x: np.sum(np.array([2.0, 3.0]) * x))(np.ones(2)), [2.0, 3.0])
    tape = dt.trace(f, 2)
    np.testing.assert_array_equal(tape.gradient(np.array([4.0, 1.0])), [6.0, 3.0])


def test_function_returning_constant_has_zero_gradient():
    np.testing.assert_array_equal(dt.grad(lambda x: 5.0)(np.array([1.0, 2.0])), [0.0, 0.0])


# -- points without a derivative -------------------------------------------------------------

def dual_gradient(f, x):
    n = x.size
    X = np.array([dt.Dual(float(x[i]), np.eye(n)[i]) for i in range(n)], dtype=object)
    return np.asarray(f(X).tangent, dtype=float)


SINGULAR_CASES = [
    ("norm_at_zero", lambda x: dt.norm(x), [0.0, 0.0], [0.0, 0.0]),
    ("sqrt_at_zero", lambda x: dt.sqrt(x[0]) + x[1], [0.0, 1.0], [0.0, 1.0]),
    ("max_tie_follows_first", lambda x: dt.maximum(x[0], x[1]), [1.5, 1.5], [1.0, 0.0]),
    ("min_tie_follows_first", lambda x: dt.minimum(x[1], x[0]), [1.5, 1.5], [0.0, 1.0]),
    ("abs_at_zero", lambda x: dt.abs(x[0]) + 2 * x[1], [0.0, 1.0], [0.0, 2.0]),
    ("hypot_at_origin", lambda x: dt.hypot(x[0], x[1]), [0.0, 0.0], [0.0, 0.0]),
]


@pytest.mark.parametrize("name, f, x, expected", SINGULAR_CASES)
def test_singular_point_reverse(name, f, x, expected):
    np.testing.assert_array_equal(dt.grad(f)(np.array(x)), expected)


@pytest.mark.parametrize("name, f, x, expected", SINGULAR_CASES)
def test_singular_point_forward(name, f, x, expected):
    np.testing.assert_array_equal(dt.jacobian(f, mode="forward")(np.array(x)), expected)


@pytest.mark.parametrize("name, f, x, expected", SINGULAR_CASES)
def test_singular_point_dual(name, f, x, expected):
    np.testing.assert_array_equal(dual_gradient(f, np.array(x)), expected)


@pytest.mark.parametrize("name, f, x, expected", SINGULAR_CASES)
def test_singular_point_compiled_tape(name, f, x, expected):
    tape = dt.trace(f, 2)
    np.testing.assert_array_equal(tape.gradient(np.array(x)), expected)


def test_singular_point_hessian_finite():
    H = dt.hessian(lambda x: dt.norm(x))(np.zeros(2))
    assert np.all(np.isfinite(H))


def test_where_with_nan_branch_has_finite_gradient():
    def f(x):
        return dt.where(x[0] > 0, dt.sqrt(x[0]) * dt.log(x[0]), x[0] ** 2) + x[1]

    g = dt.grad(f)(np.array([-1.0, 3.0]))
    np.testing.assert_array_equal(g, [-2.0, 1.0])
    H = dt.hessian(f)(np.array([-1.0, 3.0]))
    np.testing.assert_array_equal(H, [[2.0, 0.0], [0.0, 0.0]])


# -- values of the recorder match the C++ operation table -------------------------------------

UNARY_OPERATIONS = ["Sqrt", "Exp", "Log", "Log1p", "Expm1", "Sin", "Cos", "Tan", "Asin", "Acos",
                    "Atan", "Sinh", "Cosh", "Tanh", "Abs", "Sign", "Neg", "Square"]
BINARY_OPERATIONS = ["Add", "Sub", "Mul", "Div", "Pow", "Atan2", "Min", "Max", "Hypot",
                     "Lt", "Le", "Gt", "Ge", "Eq", "Ne"]
POINTS = [-2.5, -1.0, -0.0, 0.0, 0.3, 1.0, 800.0, math.inf, -math.inf]


def recorded_and_tape_values(op, arguments, k=0.0):
    recorder = EagerRecorder(len(arguments))
    slots = [recorder.input(i, value).slot for i, value in enumerate(arguments)]
    slots += [-1] * (3 - len(slots))
    result = recorder.emit(op, *slots, k=k)
    tape = _core.Tape.from_lists(len(arguments), 0, *recorder.instructions(), [result.slot])
    return result.value, float(tape.evaluate(np.array(arguments, dtype=float), np.zeros(0))[0])


def assert_same_float(a, b):
    if math.isnan(b):
        assert math.isnan(a)
    else:
        assert a == b
        assert math.copysign(1.0, a) == math.copysign(1.0, b)


@pytest.mark.parametrize("op", UNARY_OPERATIONS)
def test_recorded_unary_values_match_tape(op):
    for a in POINTS:
        recorded, evaluated = recorded_and_tape_values(op, [a])
        assert_same_float(recorded, evaluated)


@pytest.mark.parametrize("op", BINARY_OPERATIONS)
def test_recorded_binary_values_match_tape(op):
    for a in POINTS:
        for b in POINTS:
            recorded, evaluated = recorded_and_tape_values(op, [a, b])
            assert_same_float(recorded, evaluated)


@pytest.mark.parametrize("k", [-1.0, 0.5, 3.0, 1.0 / 3.0])
def test_recorded_power_values_match_tape(k):
    for a in POINTS:
        recorded, evaluated = recorded_and_tape_values("PowConst", [a], k)
        assert_same_float(recorded, evaluated)


def test_recorded_where_values_match_tape():
    for condition in [0.0, 1.0, -0.0, math.nan]:
        recorder = EagerRecorder(3)
        a, b, c = (recorder.input(i, v).slot for i, v in enumerate([2.0, 3.0, condition]))
        result = recorder.emit("Where", a, b, c)
        tape = _core.Tape.from_lists(3, 0, *recorder.instructions(), [result.slot])
        assert result.value == tape.evaluate(np.array([2.0, 3.0, condition]), np.zeros(0))[0]


# -- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("transform", [dt.grad, dt.value_and_grad, dt.jacobian, dt.hessian])
def test_non_callable_rejected(transform):
    with pytest.raises(TypeError, match="callable"):
        transform(3.0)


def test_jvp_vjp_non_callable_rejected():
    with pytest.raises(TypeError, match="callable"):
        dt.jvp("f", np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="callable"):
        dt.vjp(None, np.ones(2), np.ones(2))


def test_complex_input_rejected():
    with pytest.raises(TypeError, match="complex"):
        dt.grad(rosenbrock)(np.array([1.0 + 1j, 2.0]))


def test_boolean_and_string_input_rejected():
    with pytest.raises(TypeError, match="dtype bool"):
        dt.grad(rosenbrock)(np.array([True, False]))
    with pytest.raises(TypeError, match="dtype <U"):
        dt.grad(rosenbrock)(np.array(["a", "b"]))


def test_nan_input_rejected():
    with pytest.raises(ValueError, match=r"nan at index \(1,\)"):
        dt.grad(rosenbrock)(np.array([1.0, np.nan]))


def test_empty_input_rejected():
    with pytest.raises(ValueError, match="empty"):
        dt.grad(lambda x: 1.0)(np.zeros(0))


def test_grad_of_vector_output_points_to_jacobian():
    with pytest.raises(ValueError, match=r"shape \(4,\).*dt.jacobian"):
        dt.grad(vector_function)(np.array([1.0, 2.0, 3.0]))


def test_jvp_tangent_shape_checked():
    with pytest.raises(ValueError, match=r"v must have shape \(3,\)"):
        dt.jvp(vector_function, np.ones(3), np.ones(2))


def test_vjp_cotangent_shape_checked():
    with pytest.raises(ValueError, match=r"w must have shape \(4,\)"):
        dt.vjp(vector_function, np.ones(3), np.ones(3))


def test_invalid_mode_rejected():
    with pytest.raises(ValueError, match="mode"):
        dt.jacobian(rosenbrock, mode="backward")


def test_invalid_argnums_rejected():
    with pytest.raises(TypeError, match="argnums"):
        dt.grad(weighted, argnums="w")
    with pytest.raises(TypeError, match="argnums"):
        dt.grad(weighted, argnums=())
    with pytest.raises(IndexError, match="argnums entry 5"):
        dt.grad(weighted, argnums=5)(np.ones(2), np.ones(2), 1.0)
    with pytest.raises(ValueError, match="same argument twice"):
        dt.grad(weighted, argnums=(0, -3))(np.ones(2), np.ones(2), 1.0)


class CustomFailure(Exception):
    pass


def test_exception_in_function_propagates():
    def failing(x):
        raise CustomFailure("from inside f")

    with pytest.raises(CustomFailure, match="from inside f"):
        dt.grad(failing)(np.ones(2))


def test_function_returning_wrong_type_rejected():
    with pytest.raises(TypeError, match="str"):
        dt.grad(lambda x: "nope")(np.ones(2))
    with pytest.raises(TypeError, match="complex"):
        dt.jacobian(lambda x: np.array([1j, 2j]))(np.ones(2))
    with pytest.raises(ValueError, match="empty"):
        dt.jacobian(lambda x: np.zeros(0))(np.ones(2))


def test_not_finite_gradient_rejected():
    with pytest.raises(ValueError, match="not finite"):
        dt.grad(lambda x: dt.log(x))(0.0)
    with pytest.raises(ValueError, match="not finite"):
        dt.grad(lambda x: dt.asin(x))(1.0)


def test_float_of_symbol_rejected():
    with pytest.raises(TypeError, match="drop its derivative"):
        dt.grad(lambda x: math.sin(x[0]))(np.ones(2))


def test_symbol_used_after_return_rejected():
    kept = []

    def keep(x):
        kept.append(x[0])
        return x[0] * 2

    dt.grad(keep)(np.ones(1))
    with pytest.raises(dt.TracingError, match="finished"):
        kept[0] * 3


def test_nested_grad_rejected():
    with pytest.raises(TypeError, match="nested"):
        dt.grad(lambda x: dt.grad(lambda y: y ** 2)(x))(2.0)


def test_check_gradient_uses_grad():
    x = np.array([[0.3, -0.8], [1.1, 0.4]])
    result = dt.check_gradient(lambda X: np.sum(X ** 3) * X[0, 1] + dt.exp(X[1, 0]), x)
    assert result.ad_source == "dualtape.grad"
    assert result.passed
    assert result.ad.shape == (2, 2)


def test_derivative_second_order_is_exact():
    # d²/dx² sin(x)·eˣ = 2 cos(x) eˣ
    assert dt.derivative(lambda x: dt.sin(x) * dt.exp(x), 0.7, order=2) == pytest.approx(
        2 * math.cos(0.7) * math.exp(0.7), rel=1e-14)
