"""Reparametrizations x = T(u): inverses, chain-rule derivatives and constrained runs."""

import numpy as np
import pytest

from dualtape.optimize import Interval, Positive, Problem, Simplex, run

TRANSFORMS = [Positive("exp"), Positive("softplus"), Positive("square"),
              Interval(-1.0, 3.0), Interval(np.array([0.0, -2.0, 1.0, 0.0]), 5.0), Simplex()]


def sample_u(seed=0):
    return np.random.default_rng(seed).normal(size=4)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=repr)
def test_inverse_undoes_forward(transform):
    u = sample_u()
    if isinstance(transform, Positive) and transform.kind == "square":
        u = np.abs(u)
    if isinstance(transform, Simplex):
        u = u - u.mean()

    assert np.allclose(transform.inverse(transform.forward(u)), u, atol=1e-10)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=repr)
def test_vjp_matches_central_differences(transform):
    u = sample_u(1)
    weights = np.random.default_rng(2).normal(size=4)
    step = 1e-6
    expected = np.array([
        (weights @ transform.forward(u + step * e) - weights @ transform.forward(u - step * e))
        / (2 * step) for e in np.eye(4)])

    assert np.allclose(transform.vjp(u, weights), expected, atol=1e-7)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=repr)
def test_hessian_matches_differences_of_gradient(transform):
    # g(u) = f(T(u)) with f(x) = ½ xᵀM x + cᵀx.
    rng = np.random.default_rng(3)
    M = rng.normal(size=(4, 4))
    M = M + M.T
    c = rng.normal(size=4)
    u = sample_u(4)

    def gradient_u(v):
        x = transform.forward(v)
        return transform.vjp(v, M @ x + c)

    x = transform.forward(u)
    step = 1e-6
    expected = np.column_stack([(gradient_u(u + step * e) - gradient_u(u - step * e)) / (2 * step)
                                for e in np.eye(4)])

    assert np.allclose(transform.hessian(u, M @ x + c, M), expected, atol=1e-6)


def test_positive_run_returns_positive_minimizer():
    # f(x) = Σ (x_i − log x_i) has its minimum at x = 1 on x > 0.
    problem = Problem.from_function(lambda x: float(np.sum(x - np.log(x))), [0.2, 3.0],
                                    grad=lambda x: 1 - 1 / x)

    result = run("lbfgs", problem, transform=Positive("exp"))

    assert result.success, result.message
    assert np.allclose(result.x, 1.0, atol=1e-6)
    assert np.allclose(result.grad, 0.0, atol=1e-6)


def test_interval_run_approaches_bound():
    problem = Problem.from_function(lambda x: float(np.sum((x - 2.0) ** 2)), [0.5],
                                    grad=lambda x: 2 * (x - 2.0))

    result = run("lbfgs", problem, transform=Interval(0.0, 1.0), options={"maxiter": 200})

    assert 0.999 < result.x[0] < 1.0
    assert result.grad[0] == pytest.approx(2 * (result.x[0] - 2.0))


def test_simplex_run_maximum_likelihood():
    # max Σ w_i log x_i on the simplex has the solution x = w / Σ w.
    w = np.array([1.0, 2.0, 3.0, 4.0])
    problem = Problem.from_function(lambda x: -float(w @ np.log(x)), np.full(4, 0.25),
                                    grad=lambda x: -w / x, hess=lambda x: np.diag(w / x ** 2))

    for method in ("lbfgs", "newton"):
        result = run(method, problem, transform=Simplex())

        assert result.success, (method, result.message)
        assert np.allclose(result.x, w / w.sum(), atol=1e-6)
        assert result.x.sum() == pytest.approx(1.0)


def test_newton_with_positive_transform():
    problem = Problem.from_function(lambda x: float(np.sum(x - np.log(x))), [0.2, 3.0],
                                    grad=lambda x: 1 - 1 / x, hess=lambda x: np.diag(1 / x ** 2))

    result = run("newton", problem, transform=Positive("softplus"))

    assert result.success, result.message
    assert np.allclose(result.x, 1.0, atol=1e-8)


def test_transform_with_fixed_variables():
    problem = Problem.from_function(lambda x: float(np.sum(x - np.log(x))), [0.2, 3.0, 0.5],
                                    grad=lambda x: 1 - 1 / x, fixed=[1])

    result = run("lbfgs", problem, transform=Positive())

    assert np.allclose(result.x, [1.0, 3.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("transform, x0, match", [
    (Positive("exp"), [0.0, 1.0], "> 0"),
    (Positive("square"), [-1.0], ">= 0"),
    (Interval(0.0, 1.0), [1.0], "strictly between"),
    (Simplex(), [0.5, 0.6], "sum to 1"),
    (Simplex(), [1.5, -0.5], "> 0"),
])
def test_start_outside_set_rejected(transform, x0, match):
    problem = Problem.from_function(lambda x: float(x @ x), x0, grad=lambda x: 2 * x)

    with pytest.raises(ValueError, match=match):
        run("lbfgs", problem, transform=transform)


def test_invalid_transform_arguments_rejected():
    with pytest.raises(ValueError, match="kind"):
        Positive("cube")
    with pytest.raises(ValueError, match="low < high"):
        Interval(1.0, 1.0)
    with pytest.raises(TypeError, match="transform must be"):
        run("lbfgs", Problem.from_function(lambda x: float(x @ x), [1.0], grad=lambda x: 2 * x),
            transform="exp")


def test_interval_bounds_of_wrong_size_rejected():
    problem = Problem.from_function(lambda x: float(x @ x), [0.5, 0.5], grad=lambda x: 2 * x)

    with pytest.raises(ValueError, match="low has shape"):
        run("lbfgs", problem, transform=Interval(np.zeros(3), 1.0))
