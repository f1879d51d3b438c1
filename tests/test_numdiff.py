"""Tests of dualtape.numdiff: finite differences, complex step and check_gradient."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualtape
from dualtape import _math as dm
from dualtape import numdiff
from dualtape.dual import Dual
from dualtape.numdiff import (GradientCheckError, NotComplexAnalyticError, check_gradient, gradient, hessian,
                              jacobian)

METHODS = ("central", "forward", "complex")

# Largest accepted ‖estimate − exact‖∞ / max(‖exact‖∞, 1) at the default steps.
GRADIENT_TOLERANCES = {
    (np.float64, "central"): 1e-8,
    (np.float64, "forward"): 1e-6,
    (np.float64, "complex"): 1e-14,
    (np.float32, "central"): 1e-3,
    (np.float32, "forward"): 2e-2,
    (np.float32, "complex"): 1e-6,
}
HESSIAN_TOLERANCES = {"central": 1e-6, "forward": 1e-3, "complex": 1e-8}


def relative_error(estimate, exact):
    estimate = np.asarray(estimate, dtype=np.float64)
    return np.max(np.abs(estimate - exact)) / max(np.max(np.abs(exact)), 1.0)


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_gradient(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                     200 * (x[1] - x[0] ** 2)])


def rosenbrock_hessian(x):
    return np.array([[2 - 400 * x[1] + 1200 * x[0] ** 2, -400 * x[0]],
                     [-400 * x[0], 200.0]])


def trig_exp(x):
    return np.sum(np.sin(x) * np.exp(x[::-1])) + x[0] ** 3 * x[1]


def trig_exp_gradient(x):
    g = np.cos(x) * np.exp(x[::-1]) + (np.sin(x) * np.exp(x[::-1]))[::-1]
    g[0] += 3 * x[0] ** 2 * x[1]
    g[1] += x[0] ** 3
    return g


def mixed(x):
    return x[0] ** 2 * x[1] + dm.sin(x[1]) * x[2] ** 3 + dm.log(x[2])


def mixed_gradient(x):
    return np.array([2 * x[0] * x[1], x[0] ** 2 + np.cos(x[1]) * x[2] ** 3,
                     3 * np.sin(x[1]) * x[2] ** 2 + 1 / x[2]])


def mixed_hessian(x):
    c = 3 * np.cos(x[1]) * x[2] ** 2
    return np.array([[2 * x[1], 2 * x[0], 0.0],
                     [2 * x[0], -np.sin(x[1]) * x[2] ** 3, c],
                     [0.0, c, 6 * np.sin(x[1]) * x[2] - 1 / x[2] ** 2]])


GRADIENT_CASES = [
    ("rosenbrock", rosenbrock, rosenbrock_gradient, np.array([-1.2, 1.0])),
    ("trig_exp", trig_exp, trig_exp_gradient, np.array([0.3, -1.2, 2.0])),
    ("mixed", mixed, mixed_gradient, np.array([1.5, 0.4, 2.5])),
    ("large_x", mixed, mixed_gradient, np.array([300.0, -2.0, 40.0])),
]
GRADIENT_IDS = [case[0] for case in GRADIENT_CASES]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", GRADIENT_CASES, ids=GRADIENT_IDS)
def test_gradient_accuracy_default_step(case, method, dtype):
    _, f, exact_gradient, x = case
    x = x.astype(dtype)
    estimate = gradient(f, x, method=method)
    assert estimate.dtype == dtype
    assert estimate.shape == x.shape
    exact = exact_gradient(x.astype(np.float64))
    assert relative_error(estimate, exact) <= GRADIENT_TOLERANCES[(dtype, method)]


@pytest.mark.parametrize("method", METHODS)
def test_gradient_keeps_2d_shape(method):
    x = np.array([[1.0, 2.0], [0.5, -0.3], [2.0, 0.1]])

    def energy(v):
        return np.sum(v ** 2) * v[0, 0] + dm.exp(v[2, 1])

    exact = 2 * x * x[0, 0]
    exact[0, 0] += np.sum(x ** 2)
    exact[2, 1] += np.exp(x[2, 1])
    estimate = gradient(energy, x, method=method)
    assert estimate.shape == (3, 2)
    assert relative_error(estimate, exact) <= GRADIENT_TOLERANCES[(np.float64, method)]


def test_gradient_accepts_integers_and_lists():
    estimate = gradient(lambda v: v[0] ** 2 + 3 * v[1], [2, 5], method="complex")
    assert estimate.dtype == np.float64
    np.testing.assert_allclose(estimate, [4.0, 3.0], rtol=1e-15)


def test_gradient_does_not_modify_x():
    x = np.array([1.0, 2.0])
    gradient(rosenbrock, x, method="forward")
    gradient(rosenbrock, x, method="complex")
    assert x.tolist() == [1.0, 2.0]


def residuals(x):
    return np.array([x[0] * x[1] - 1.0, dm.exp(x[2]) * x[0], dm.sin(x[1]), x[2] ** 2])


def residuals_jacobian(x):
    return np.array([[x[1], x[0], 0.0],
                     [np.exp(x[2]), 0.0, np.exp(x[2]) * x[0]],
                     [0.0, np.cos(x[1]), 0.0],
                     [0.0, 0.0, 2 * x[2]]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", METHODS)
def test_jacobian_accuracy(method, dtype):
    x = np.array([0.7, -1.1, 0.4], dtype=dtype)
    estimate = jacobian(residuals, x, method=method)
    assert estimate.shape == (4, 3)
    assert estimate.dtype == dtype
    exact = residuals_jacobian(x.astype(np.float64))
    assert relative_error(estimate, exact) <= GRADIENT_TOLERANCES[(dtype, method)]


def test_jacobian_2d_x_column_order():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    estimate = jacobian(lambda v: np.array([v[0, 1], 2 * v[1, 0]]), x, method="complex")
    np.testing.assert_array_equal(estimate, [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]])


HESSIAN_CASES = [
    ("rosenbrock", rosenbrock, rosenbrock_hessian, np.array([-1.2, 1.0])),
    ("mixed", mixed, mixed_hessian, np.array([1.5, 0.4, 2.5])),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", HESSIAN_CASES, ids=[case[0] for case in HESSIAN_CASES])
def test_hessian_accuracy(case, method):
    _, f, exact_hessian, x = case
    estimate = hessian(f, x, method=method)
    assert estimate.shape == (x.size, x.size)
    np.testing.assert_array_equal(estimate, estimate.T)
    assert relative_error(estimate, exact_hessian(x)) <= HESSIAN_TOLERANCES[method]


def test_hessian_float32():
    x = np.array([1.5, 0.4, 2.5], dtype=np.float32)
    estimate = hessian(mixed, x, method="complex")
    assert estimate.dtype == np.float32
    assert relative_error(estimate, mixed_hessian(x.astype(np.float64))) <= 1e-3


def test_hessian_with_explicit_step():
    x = np.array([-1.2, 1.0])
    estimate = hessian(rosenbrock, x, method="central", step=1e-3)
    # Rosenbrock is a quartic: the four-point formula has O(h²) truncation error
    assert relative_error(estimate, rosenbrock_hessian(x)) <= 1e-5


def test_step_explicit_scalar_and_array():
    x = np.array([0.3, -1.2, 2.0])
    exact = trig_exp_gradient(x)
    coarse = gradient(trig_exp, x, method="forward", step=1e-2)
    fine = gradient(trig_exp, x, method="forward", step=np.full(3, 1e-7))
    assert relative_error(coarse, exact) > 1e-4
    assert relative_error(fine, exact) < 1e-6
    complex_step = gradient(trig_exp, x, method="complex", step=1e-20)
    assert relative_error(complex_step, exact) < 1e-14


def test_step_too_small_raises():
    with pytest.raises(ValueError, match="too small"):
        gradient(rosenbrock, np.array([1.0, 2.0]), method="forward", step=1e-20)
    with pytest.raises(ValueError, match="too small"):
        gradient(rosenbrock, np.array([1.0, 2.0], dtype=np.float32), step=1e-9)


@pytest.mark.parametrize("step,error", [
    (0.0, ValueError), (-1e-3, ValueError), (math.nan, ValueError), (math.inf, ValueError),
    (np.array([1e-3, 0.0]), ValueError), (np.array([1e-3, 1e-3, 1e-3]), ValueError),
    (True, TypeError), (1e-3j, TypeError), ("a", TypeError),
])
def test_step_rejects_invalid(step, error):
    with pytest.raises(error, match="step"):
        gradient(rosenbrock, np.array([1.0, 2.0]), step=step)


@pytest.mark.parametrize("x,error,match", [
    (1.0, ValueError, "1-D vector or a 2-D array"),
    (np.zeros((2, 2, 2)), ValueError, "1-D vector or a 2-D array"),
    (np.zeros(0), ValueError, "empty"),
    (np.array([1.0, math.nan]), ValueError, r"x\[1\] = nan"),
    (np.array([[1.0, 2.0], [math.inf, 0.0]]), ValueError, r"x\[1, 0\] = inf"),
    (np.array([1.0 + 1j, 2.0]), TypeError, "complex"),
    (np.array([True, False]), TypeError, "bool"),
    (np.array(["a", "b"]), TypeError, "convertible"),
    (np.array([Dual(1.0, 1.0), Dual(2.0, 1.0)], dtype=object), TypeError, "convertible"),
    (Dual(1.0, 1.0), TypeError, "Dual"),
])
def test_x_rejects_invalid(x, error, match):
    for function in (gradient, hessian, check_gradient):
        with pytest.raises(error, match=match):
            function(rosenbrock, x)
    with pytest.raises(error, match=match):
        jacobian(residuals, x)


def test_f_rejects_invalid():
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match="callable"):
        gradient(None, x)
    with pytest.raises(ValueError, match="method"):
        gradient(rosenbrock, x, method="backward")
    with pytest.raises(ValueError, match="must return a scalar"):
        gradient(lambda v: v * 2, x)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        jacobian(lambda v: v[0], x)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        jacobian(lambda v: np.outer(v, v), x)
    with pytest.raises(ValueError, match="non-finite"):
        gradient(lambda v: math.inf * v[0], x)
    with pytest.raises(TypeError, match="complex values for real input"):
        gradient(lambda v: v[0] * 1j, x)
    with pytest.raises(TypeError, match="dtype"):
        gradient(lambda v: "text", x)
    with pytest.raises(TypeError, match="Dual"):
        gradient(lambda v: Dual(1.0, 1.0), x)


def test_f_non_finite_at_perturbed_point():
    def f(v):
        # NaN outside the domain x₀ ≥ 0, as a function may return it there
        return (math.nan if v[0] < 0 else math.sqrt(v[0])) + v[1]

    with pytest.raises(ValueError, match=r"x\[0\] - "):
        gradient(f, np.array([1e-12, 1.0]), method="central", step=1e-3)


def test_check_gradient_non_finite_at_x():
    with pytest.raises(ValueError) as error, np.errstate(invalid="ignore"):
        check_gradient(lambda v: dualtape.log(v[0]), np.array([-1.0]))

    message = str(error.value)
    assert message.startswith("f returned a non-finite value nan at x itself")
    assert "smaller step" not in message


def test_check_gradient_f_returns_none():
    with pytest.raises(TypeError) as error:
        check_gradient(lambda v: None, np.array([1.0, 2.0]))

    assert str(error.value).startswith("f returned None at x; expected a float")


def test_jacobian_f_returns_none():
    with pytest.raises(TypeError, match=r"f returned None at x with x\[0\] \+ .*; expected a 1-D float array"):
        jacobian(lambda v: None, np.array([1.0, 2.0]))


def test_f_output_length_must_not_change():
    def growing(v):
        return np.ones(3) if v[0] > 1.0 else np.ones(2)

    with pytest.raises(ValueError, match="output length"):
        jacobian(growing, np.array([1.0, 2.0]), method="forward")


# Complex-step detection

NOT_ANALYTIC = [
    ("dt.abs", lambda v: dm.abs(v[0]) + v[1]),
    ("dt.minimum", lambda v: dm.minimum(v[0], v[1])),
    ("dt.maximum", lambda v: dm.maximum(v[0], 2.0) * v[1]),
    ("dt.sign", lambda v: dm.sign(v[0]) * v[1] ** 2),
    ("dt.where", lambda v: dm.where(True, v[0] ** 2, v[1])),
    ("python if", lambda v: v[0] if v[0] > 0 else -v[0]),
    ("python abs", lambda v: abs(v[0]) * v[1]),
    ("python max", lambda v: max(v[0], v[1])),
    ("equality", lambda v: v[0] ** 2 if v[0] == 0 else v[0]),
    ("np.abs", lambda v: np.sum(np.abs(v))),
    ("np.maximum", lambda v: np.sum(np.maximum(v, 0.0))),
    ("np.max", lambda v: np.max(v)),
    ("np.sign", lambda v: np.sum(np.sign(v) * v)),
    ("np.floor", lambda v: np.sum(np.floor(v))),
    ("dt.hypot", lambda v: dm.hypot(v[0], v[1])),
    ("float()", lambda v: float(v[0]) * v[1]),
    ("math.sin", lambda v: math.sin(v[0])),
    ("real cast", lambda v: np.asarray(v, dtype=float).sum()),
    ("real result", lambda v: 3.0),
    ("real part", lambda v: np.real(v[0] * v[1])),
    (".real", lambda v: v[0].real * v[1] + v[1] ** 2),
    (".imag", lambda v: v.imag.sum() + v[0]),
]


@pytest.mark.parametrize("f", [case[1] for case in NOT_ANALYTIC], ids=[case[0] for case in NOT_ANALYTIC])
def test_complex_step_detects_not_analytic(f):
    x = np.array([0.7, 1.3])
    with pytest.raises(NotComplexAnalyticError):
        gradient(f, x, method="complex")


def test_not_analytic_error_is_value_error():
    assert issubclass(NotComplexAnalyticError, ValueError)
    with pytest.raises(ValueError, match="method='central'"):
        gradient(lambda v: dm.abs(v[0]), np.array([1.0]), method="complex")


def test_complex_step_allows_unperturbed_branches():
    parameter = np.array([-3.0, 2.0])

    def f(v):
        scale = dm.abs(parameter[0]) + np.max(parameter)
        if v.shape[0] > 1 and parameter[1] > 0:
            return scale * v[0] ** 2 + dm.where(parameter[0] < 0, v[1], -v[1])
        return v[0]

    # dt.where rejects complex branches on principle, even with a constant condition
    with pytest.raises(NotComplexAnalyticError, match="where"):
        gradient(f, np.array([1.5, 0.5]), method="complex")

    def g(v):
        scale = dm.abs(parameter[0]) + np.max(parameter)
        if v.shape[0] > 1 and parameter[1] > 0:
            return scale * v[0] ** 2 + v[1]
        return v[0]

    np.testing.assert_allclose(gradient(g, np.array([1.5, 0.5]), method="complex"),
                               [2 * 5.0 * 1.5, 1.0], rtol=1e-15)


def test_complex_step_allows_printing_and_dt_norm(capsys):
    def f(v):
        print(v, v[0], f"{v[1]:.2f}", repr(v))
        return dm.norm(v) * v[0]

    x = np.array([0.7, 1.3])
    radius = math.hypot(0.7, 1.3)
    # d/dx₀ (|x| x₀) = x₀² / |x| + |x|, d/dx₁ = x₀ x₁ / |x|
    expected = [0.49 / radius + radius, 0.7 * 1.3 / radius]
    np.testing.assert_allclose(gradient(f, x, method="complex"), expected, rtol=1e-15)
    assert "1.30" in capsys.readouterr().out


def test_complex_step_check_inactive_outside():
    with pytest.raises(NotComplexAnalyticError):
        gradient(lambda v: dm.abs(v[0]), np.array([1.0]), method="complex")
    assert dm.abs(3 + 4j) == 5.0
    assert dm.maximum(np.array([1 + 1j]), np.array([2 + 0j]))[0] == 2.0


def test_complex_step_keeps_other_type_errors():
    def broken(v):
        raise TypeError("unrelated failure")

    with pytest.raises(TypeError, match="unrelated failure"):
        gradient(broken, np.array([1.0]), method="complex")


def test_hessian_complex_detects_not_analytic():
    with pytest.raises(NotComplexAnalyticError):
        hessian(lambda v: dm.abs(v[0]) * v[1], np.array([1.0, 2.0]), method="complex")


# check_gradient

def without_tape_grad(monkeypatch):
    monkeypatch.delattr(dualtape, "grad", raising=False)


def test_check_gradient_passes_forward_mode(monkeypatch):
    without_tape_grad(monkeypatch)
    result = check_gradient(mixed, np.array([1.5, 0.4, 2.5]))
    assert result.passed
    assert result.reference == "complex step"
    assert result.ad_source == "forward-mode Dual"
    np.testing.assert_allclose(result.ad, mixed_gradient(np.array([1.5, 0.4, 2.5])), rtol=1e-14)
    assert result.max_rel_error <= 1e-13


def test_check_gradient_fails_wrong_entry():
    x = np.array([1.5, 0.4, 2.5])
    wrong = mixed_gradient(x)
    wrong[1] *= 1 + 1e-6
    result = check_gradient(mixed, x, grad=wrong, raise_on_failure=False)
    assert not result.passed
    assert not result
    assert result.entry_passed.tolist() == [True, False, True]
    assert result.ad_source == "grad argument"
    assert result.worst_index == (1,)


def test_check_gradient_raises_by_default():
    x = np.array([1.5, 0.4, 2.5])
    wrong = mixed_gradient(x)
    wrong[1] *= 1 + 1e-6
    wrong[2] *= 1 + 1e-3
    with pytest.raises(GradientCheckError) as error:
        check_gradient(mixed, x, grad=wrong)
    assert isinstance(error.value, AssertionError)
    lines = str(error.value).splitlines()
    assert lines[0].startswith("gradient check FAILED: max rel error ")
    assert f"at entry [2] (AD {wrong[2]:.9e}, complex step " in lines[0]
    assert "2 of 3 entries failed" in lines[0]
    assert lines[1].split()[0] == "entry"
    # Only the failed entries, worst first.
    assert [line.split()[0] for line in lines[2:4]] == ["[2]", "[1]"]
    assert all(line.endswith("NO") for line in lines[2:4])
    assert lines[4] == "Pass raise_on_failure=False to get the result instead of this error."
    assert error.value.result.entry_passed.tolist() == [True, False, False]


def test_check_gradient_error_lists_at_most_ten():
    x = np.linspace(0.5, 2.0, 15)
    wrong = 3 * x ** 2 * (1 + np.arange(1, 16) * 1e-3)
    with pytest.raises(GradientCheckError) as error:
        check_gradient(lambda v: np.sum(v ** 3), x, grad=wrong)
    lines = str(error.value).splitlines()
    rows = [line for line in lines if line.endswith("NO")]
    assert len(rows) == 10
    # The relative error grows with the index, so the worst entry is the last one.
    assert rows[0].split()[0] == "[14]"
    assert rows[-1].split()[0] == "[5]"
    assert "... and 5 more failed entries (print the result for all)" in lines
    assert len(str(error.value.result).splitlines()) == 1 + 15 + 1


def test_check_gradient_repr_names_worst_entry():
    x = np.array([[1.0, 2.0], [0.5, -0.3]])
    exact = 3 * x ** 2
    wrong = exact.copy()
    wrong[1, 0] *= 1.01
    result = check_gradient(lambda v: np.sum(v ** 3), x, grad=wrong, raise_on_failure=False)
    text = repr(result)
    assert text.startswith("GradientCheckResult(gradient check FAILED: max rel error 9.901e-03 > tolerance")
    assert f"at entry [1, 0] (AD {wrong[1, 0]:.9e}, complex step {exact[1, 0]:.9e})" in text
    assert "1 of 4 entries failed" in text
    assert str(result).splitlines()[-1] == result.summary()

    passed = check_gradient(lambda v: np.sum(v ** 3), x, grad=exact)
    assert passed
    assert repr(passed).startswith("GradientCheckResult(gradient check passed: max rel error ")


def test_check_gradient_verbose_prints_before_raising(capsys):
    x = np.array([1.5, 0.4, 2.5])
    with pytest.raises(GradientCheckError):
        check_gradient(mixed, x, grad=mixed_gradient(x) * 1.5, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 3 + 1
    assert lines[-1].startswith("gradient check FAILED")


@pytest.mark.parametrize("flag", [None, 1, "yes"])
def test_check_gradient_rejects_bad_raise_flag(flag):
    with pytest.raises(TypeError, match=f"raise_on_failure must be True or False; got {flag!r}"):
        check_gradient(mixed, np.array([1.5, 0.4, 2.5]), raise_on_failure=flag)


def test_check_gradient_falls_back_to_central():
    def f(v):
        return dm.abs(v[0]) * v[1] + v[1] ** 3

    x = np.array([-2.0, 1.5])
    exact = np.array([-1.5, 2.0 + 3 * 1.5 ** 2])
    result = check_gradient(f, x)
    assert result.passed
    assert result.reference == "central difference"
    assert np.all(np.isnan(result.complex_step))
    assert "abs" in result.complex_step_error
    np.testing.assert_allclose(result.ad, exact, rtol=1e-14)

    wrong = check_gradient(f, x, grad=lambda v: exact * np.array([1.0, 1.001]), raise_on_failure=False)
    assert not wrong.passed
    with pytest.raises(GradientCheckError, match="Reference: central difference"):
        check_gradient(f, x, grad=lambda v: exact * np.array([1.0, 1.001]))


def test_check_gradient_at_stationary_point(monkeypatch):
    without_tape_grad(monkeypatch)
    result = check_gradient(rosenbrock, np.array([1.0, 1.0]))
    assert result.passed
    np.testing.assert_array_equal(result.ad, [0.0, 0.0])

    result = check_gradient(lambda v: dm.abs(v[0] - 1.0) * 0.0 + 1e6 * (v[1] - 2.0) ** 2 + 1e6,
                            np.array([1.0, 2.0]))
    assert result.reference == "central difference"
    assert result.passed


def test_check_gradient_zero_scale_mistake_fails():
    # a gradient of magnitude 1e-9 that is off by 10% must fail despite its size
    x = np.array([0.3, 0.8])
    exact = 1e-9 * np.array([2 * 0.3, 1.0])
    result = check_gradient(lambda v: 1e-9 * (v[0] ** 2 + v[1]), x, grad=exact * 1.1, raise_on_failure=False)
    assert not result.passed


def test_check_gradient_uses_tape_grad_when_present(monkeypatch):
    calls = []

    def fake_grad(f):
        def evaluate(x):
            calls.append(x.copy())
            return mixed_gradient(x)
        return evaluate

    monkeypatch.setattr(dualtape, "grad", fake_grad, raising=False)
    result = check_gradient(mixed, np.array([1.5, 0.4, 2.5]))
    assert result.ad_source == "dualtape.grad"
    assert result.passed
    assert len(calls) == 1


def test_check_gradient_verbose_table(capsys, monkeypatch):
    without_tape_grad(monkeypatch)
    x = np.array([[1.0, 2.0], [0.5, -0.3]])
    result = check_gradient(lambda v: np.sum(v ** 2) * v[0, 0], x, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["entry", "AD", "complex", "step", "central", "abs", "error",
                                "rel", "error", "ok"]
    assert len(lines) == 1 + 4 + 1
    assert lines[1].lstrip().startswith("[0, 0]")
    assert lines[4].lstrip().startswith("[1, 1]")
    assert all(line.endswith("yes") for line in lines[1:5])
    assert lines[-1].startswith("gradient check passed")
    widths = {len(line) for line in lines[1:5]}
    assert len(widths) == 1
    assert str(result) == "\n".join(lines)


def test_check_gradient_float32(monkeypatch):
    without_tape_grad(monkeypatch)
    x = np.array([1.5, 0.4, 2.5], dtype=np.float32)
    result = check_gradient(mixed, x)
    assert result.passed
    assert result.tolerance == 1e-4
    assert result.ad.shape == (3,)


@pytest.mark.parametrize("grad,error,match", [
    (np.zeros(2), ValueError, "shape"),
    (np.array([1.0, math.nan, 0.0]), ValueError, "not finite"),
    (lambda v: np.zeros((3, 1)), ValueError, "shape"),
    (np.array(["a", "b", "c"]), TypeError, "dtype"),
])
def test_check_gradient_rejects_bad_grad(grad, error, match):
    with pytest.raises(error, match=match):
        check_gradient(mixed, np.array([1.5, 0.4, 2.5]), grad=grad)


@pytest.mark.parametrize("tolerance", [0.0, -1.0, math.nan, True, "1e-6"])
def test_check_gradient_rejects_bad_tolerance(tolerance):
    with pytest.raises(ValueError, match="tolerance"):
        check_gradient(mixed, np.array([1.5, 0.4, 2.5]), tolerance=tolerance)


def test_check_gradient_reports_dual_failure(monkeypatch):
    without_tape_grad(monkeypatch)
    with pytest.raises(TypeError, match="grad="):
        check_gradient(lambda v: math.exp(v[0]), np.array([1.0]))


# Properties over random inputs

@settings(derandomize=True, max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 6))
def test_quadratic_gradient_all_methods(seed, n):
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((n, n))
    matrix = matrix + matrix.T
    offset = rng.standard_normal(n)
    x = rng.uniform(-3, 3, n)

    def quadratic(v):
        return 0.5 * v @ matrix @ v + offset @ v

    exact = matrix @ x + offset
    for method in METHODS:
        estimate = gradient(quadratic, x, method=method)
        assert relative_error(estimate, exact) <= GRADIENT_TOLERANCES[(np.float64, method)]
    hessian_estimate = hessian(quadratic, x, method="central")
    assert relative_error(hessian_estimate, matrix) <= HESSIAN_TOLERANCES["central"]


@settings(derandomize=True, max_examples=40, deadline=None)
@given(x0=st.floats(-2, 2), x1=st.floats(0.2, 3))
def test_dual_and_complex_step_agree(x0, x1):
    def f(v):
        return dm.exp(v[0] * v[1]) * dm.atan(v[0]) + dm.sqrt(v[1]) * dm.cosh(v[0] / 3)

    x = np.array([x0, x1])
    result = check_gradient(f, x)
    assert result.passed
    assert np.max(np.abs(result.ad - result.complex_step)) <= 1e-12 * max(1.0, np.max(np.abs(result.ad)))


def test_module_exports():
    for name in ("gradient", "jacobian", "hessian", "check_gradient", "GradientCheckResult",
                 "GradientCheckError", "NotComplexAnalyticError"):
        assert hasattr(numdiff, name)
