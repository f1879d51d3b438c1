"""Penalty, augmented Lagrangian and the KKT solver on problems with known solutions."""

import numpy as np
import pytest
import scipy.sparse as sp

from dualtape.optimize import (Equality, Inequality, KKTSingularError, Positive, Problem, Status,
                               run, solve_kkt)

METHODS = ["augmented-lagrangian", "penalty"]


def linear_objective(x0=(0.5, 0.5)):
    """f(x) = x₀."""
    return Problem.from_function(lambda x: float(x[0]), list(x0), grad=lambda x: np.array([1.0, 0.0]))


CIRCLE = Equality(lambda x: x[0] ** 2 + x[1] ** 2 - 1.0, jac=lambda x: 2 * x)


@pytest.mark.parametrize("method", METHODS)
def test_circle_minimum_and_multiplier(method):
    result = run(method, linear_objective(), constraints=[CIRCLE])

    tolerance = 1e-6 if method == "augmented-lagrangian" else 1e-5
    assert result.success, result.message
    assert result.status == Status.CONVERGED_CONSTRAINTS
    assert np.allclose(result.x, [-1.0, 0.0], atol=tolerance)
    assert result.multipliers[0] == pytest.approx(0.5, abs=tolerance)
    assert result.constraint_violation <= (1e-8 if method == "augmented-lagrangian" else 1e-6)


def test_flipped_constraint_flips_multiplier():
    flipped = Equality(lambda x: 1.0 - x[0] ** 2 - x[1] ** 2, jac=lambda x: -2 * x)

    result = run("augmented-lagrangian", linear_objective(), constraints=[flipped])

    assert result.multipliers[0] == pytest.approx(-0.5, abs=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_contradictory_inequalities_infeasible(method):
    # x₀ ≥ 1 and x₀ ≤ 0, written as 1 − x₀ ≤ 0 and x₀ ≤ 0.
    problem = Problem.from_function(lambda x: float(x @ x), [0.3, 0.2], grad=lambda x: 2 * x)
    constraints = [Inequality(lambda x: 1.0 - x[0], jac=lambda x: np.array([-1.0, 0.0])),
                   Inequality(lambda x: x[0], jac=lambda x: np.array([1.0, 0.0]))]

    result = run(method, problem, constraints=constraints)

    assert not result.success
    assert result.status == Status.INFEASIBLE, result.message
    assert result.constraint_violation == pytest.approx(0.5, abs=1e-2)
    assert "infeasible" in result.message


@pytest.mark.parametrize("method", METHODS)
def test_active_inequality(method):
    # min (x − 2)² s.t. x ≤ 1: x = 1 with μ = 2.
    problem = Problem.from_function(lambda x: float((x[0] - 2.0) ** 2), [0.0],
                                    grad=lambda x: 2 * (x - 2.0))
    constraint = Inequality(lambda x: x[0] - 1.0, jac=lambda x: np.array([1.0]))

    result = run(method, problem, constraints=[constraint])

    assert result.success, result.message
    assert result.x[0] == pytest.approx(1.0, abs=1e-5)
    assert result.multipliers[0] == pytest.approx(2.0, abs=1e-4)


def test_inactive_inequality_zero_multiplier():
    problem = Problem.from_function(lambda x: float((x[0] - 2.0) ** 2), [0.0],
                                    grad=lambda x: 2 * (x - 2.0))
    constraint = Inequality(lambda x: x[0] - 5.0, jac=lambda x: np.array([1.0]))

    result = run("augmented-lagrangian", problem, constraints=[constraint])

    assert result.success, result.message
    assert result.x[0] == pytest.approx(2.0, abs=1e-6)
    assert result.multipliers[0] == 0.0


def test_vector_equality_matches_kkt():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(4, 4))
    A = M @ M.T + 4 * np.eye(4)
    b = rng.normal(size=4)
    C = rng.normal(size=(2, 4))
    d = rng.normal(size=2)
    problem = Problem.from_function(lambda x: float(0.5 * x @ A @ x - b @ x), np.zeros(4),
                                    grad=lambda x: A @ x - b)
    constraint = Equality(lambda x: C @ x - d, jac=lambda x: C)

    result = run("augmented-lagrangian", problem, constraints=[constraint])
    x_kkt, lam_kkt = solve_kkt(A, b, C, d)

    assert result.success, result.message
    assert np.allclose(result.x, x_kkt, atol=1e-6)
    assert np.allclose(result.multipliers[0], lam_kkt, atol=1e-5)


def test_sparse_jacobian_accepted():
    constraint = Equality(lambda x: np.array([x[0] + x[1] - 1.0]),
                          jac=lambda x: sp.csr_matrix([[1.0, 1.0]]))
    problem = Problem.from_function(lambda x: float(x @ x), [0.0, 0.0], grad=lambda x: 2 * x)

    result = run("augmented-lagrangian", problem, constraints=[constraint])

    assert np.allclose(result.x, [0.5, 0.5], atol=1e-7)
    assert result.multipliers[0] == pytest.approx([-1.0], abs=1e-6)


@pytest.mark.parametrize("inner_method", ["gd", "adam"])
def test_other_inner_methods(inner_method):
    options = {"inner_method": inner_method}
    if inner_method == "adam":
        options["inner_options"] = {"lr": 1e-2, "maxiter": 20000}

    result = run("augmented-lagrangian", linear_objective(), constraints=[CIRCLE], options=options)

    assert np.allclose(result.x, [-1.0, 0.0], atol=1e-4), result.message


def test_constraints_with_transform():
    # min Σ x_i s.t. x₀ x₁ = 1 on x > 0: x = (1, 1), λ = −1.
    problem = Problem.from_function(lambda x: float(x.sum()), [2.0, 3.0],
                                    grad=lambda x: np.ones(2))
    constraint = Equality(lambda x: x[0] * x[1] - 1.0, jac=lambda x: np.array([x[1], x[0]]))

    result = run("augmented-lagrangian", problem, constraints=[constraint], transform=Positive())

    assert result.success, result.message
    assert np.allclose(result.x, [1.0, 1.0], atol=1e-6)
    assert result.multipliers[0] == pytest.approx(-1.0, abs=1e-5)


def test_outer_progress_lines(capsys):
    run("augmented-lagrangian", linear_objective(), constraints=[CIRCLE], verbose=1)

    output = capsys.readouterr().out
    assert "violation" in output.splitlines()[0]
    assert "converged: constraints satisfied" in output


# -- validation --------------------------------------------------------------------

def test_constraints_need_constrained_method():
    with pytest.raises(ValueError, match="augmented-lagrangian"):
        run("lbfgs", linear_objective(), constraints=[CIRCLE])


def test_constrained_method_needs_constraints():
    with pytest.raises(ValueError, match="needs constraints"):
        run("penalty", linear_objective())


def test_constraint_of_wrong_shape_rejected():
    bad = Equality(lambda x: np.zeros((2, 2)), jac=lambda x: np.zeros((4, 2)))

    with pytest.raises(ValueError, match="scalar or a 1-D array"):
        run("augmented-lagrangian", linear_objective(), constraints=[bad])


def test_constraint_jacobian_of_wrong_shape_rejected():
    bad = Equality(lambda x: x[0] - 1.0, jac=lambda x: np.zeros(3))

    with pytest.raises(ValueError, match="jac returned shape"):
        run("augmented-lagrangian", linear_objective(), constraints=[bad])


def test_non_constraint_rejected():
    with pytest.raises(TypeError, match="Equality or Inequality"):
        run("penalty", linear_objective(), constraints=[lambda x: x[0]])


def test_unknown_inner_method_rejected():
    with pytest.raises(ValueError, match="inner_method"):
        run("augmented-lagrangian", linear_objective(), constraints=[CIRCLE],
            options={"inner_method": "bfgs"})


# -- KKT ---------------------------------------------------------------------------

def random_qp(n=6, m=2, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    return M @ M.T + np.eye(n), rng.normal(size=n), rng.normal(size=(m, n)), rng.normal(size=m)


@pytest.mark.parametrize("sparse", [False, True])
def test_kkt_optimality_conditions(sparse):
    A, b, C, d = random_qp()
    A_in, C_in = (sp.csr_matrix(A), sp.csc_matrix(C)) if sparse else (A, C)

    x, lam = solve_kkt(A_in, b, C_in, d)

    assert np.allclose(C @ x, d, atol=1e-12)
    assert np.allclose(A @ x - b + C.T @ lam, 0.0, atol=1e-10)


def test_kkt_minimizer_beats_feasible_points():
    A, b, C, d = random_qp(seed=1)
    x, _ = solve_kkt(A, b, C, d)
    null_space = np.linalg.svd(C)[2][C.shape[0]:].T
    rng = np.random.default_rng(2)

    def f(y):
        return 0.5 * y @ A @ y - b @ y

    for _ in range(20):
        assert f(x) <= f(x + null_space @ rng.normal(size=null_space.shape[1]))


def test_kkt_without_constraints_solves_system():
    A, b, _, _ = random_qp()

    x, lam = solve_kkt(A, b, np.zeros((0, 6)), np.zeros(0))

    assert np.allclose(A @ x, b)
    assert lam.shape == (0,)


def test_kkt_dependent_constraints_singular():
    A, b, C, _ = random_qp()
    C = np.vstack([C, C[0] * 2.0])

    with pytest.raises(KKTSingularError, match="full row rank"):
        solve_kkt(A, b, C, np.zeros(3))


def test_kkt_more_constraints_than_variables():
    with pytest.raises(KKTSingularError, match="rows"):
        solve_kkt(np.eye(2), np.zeros(2), np.eye(3)[:, :2], np.zeros(3))


def test_kkt_singular_is_linalg_error():
    A = np.diag([1.0, 0.0, 0.0])
    C = np.array([[1.0, 0.0, 0.0]])

    with pytest.raises(np.linalg.LinAlgError):
        solve_kkt(A, np.ones(3), C, np.ones(1))


def test_kkt_saddle_rejected():
    with pytest.raises(ValueError, match="no minimum"):
        solve_kkt(np.diag([-1.0, 1.0]), np.ones(2), np.array([[0.0, 1.0]]), np.ones(1))


def test_kkt_saddle_accepted_on_request():
    x, lam = solve_kkt(np.diag([-1.0, 1.0]), np.ones(2), np.array([[0.0, 1.0]]), np.ones(1),
                       check_minimum=False)

    assert np.allclose(x, [-1.0, 1.0])
    assert np.allclose(lam, [0.0])


@pytest.mark.parametrize("args, error, match", [
    ((np.eye(2), np.ones(3), np.ones((1, 2)), np.ones(1)), ValueError, "b has shape"),
    ((np.eye(2), np.ones(2), np.ones((1, 3)), np.ones(1)), ValueError, "C has shape"),
    ((np.eye(2), np.ones(2), np.ones((1, 2)), np.ones(2)), ValueError, "d has shape"),
    ((np.ones((2, 3)), np.ones(2), np.ones((1, 2)), np.ones(1)), ValueError, "square"),
    ((np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones(2), np.ones((1, 2)), np.ones(1)), ValueError,
     "symmetric"),
    ((np.eye(2), np.array([1.0, np.nan]), np.ones((1, 2)), np.ones(1)), ValueError, "NaN"),
    ((np.eye(2) * 1j, np.ones(2), np.ones((1, 2)), np.ones(1)), TypeError, "real"),
])
def test_kkt_invalid_input_rejected(args, error, match):
    with pytest.raises(error, match=match):
        solve_kkt(*args)
