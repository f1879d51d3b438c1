"""Unconstrained solvers of dualtape.optimize on plain functions with known minima."""

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp

import dualtape as dt
from dualtape.optimize import Problem, Status, StopRequest, make_schedule, run
from dualtape.optimize import line_search as ls

# -- test problems -----------------------------------------------------------------

A_QUAD = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
B_QUAD = np.array([1.0, -1.0, 2.0])
X_QUAD = np.linalg.solve(A_QUAD, B_QUAD)


def quadratic_problem(x0=(2.0, 3.0, -1.0)):
    return Problem.from_function(lambda x: 0.5 * x @ A_QUAD @ x - B_QUAD @ x, x0,
                                 grad=lambda x: A_QUAD @ x - B_QUAD, hess=lambda x: A_QUAD)


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def rosenbrock_hess(x):
    return np.array([[2 - 400 * (x[1] - 3 * x[0] ** 2), -400 * x[0]], [-400 * x[0], 200.0]])


def rosenbrock_problem():
    return Problem.from_function(rosenbrock, [-1.2, 1.0], grad=rosenbrock_grad, hess=rosenbrock_hess)


def quartic_problem(x0):
    """f(x) = x⁴/4 − x²/2: minima at ±1, a maximum at 0."""
    return Problem.from_function(lambda x: x[0] ** 4 / 4 - x[0] ** 2 / 2, [x0],
                                 grad=lambda x: np.array([x[0] ** 3 - x[0]]),
                                 hess=lambda x: np.array([[3 * x[0] ** 2 - 1]]))


# -- convergence on known minima -----------------------------------------------------

QUADRATIC_CASES = [
    ("newton", {}, 2),
    ("lbfgs", {}, 15),
    ("lbfgs", {"line_search": "armijo"}, 20),
    ("gd", {}, 100),
    ("gd", {"line_search": "wolfe"}, 100),
    ("gd", {"line_search": "fixed", "lr": 0.3}, 200),
    ("sgd", {"lr": 0.3}, 200),
    ("momentum", {"lr": 0.05}, 600),
    ("nesterov", {"lr": 0.05}, 400),
    ("rmsprop", {"lr": 0.05, "schedule": "exponential", "decay_rate": 0.5,
                 "decay_steps": 300, "maxiter": 6000}, 6000),
    ("adam", {"lr": 0.05}, 1000),
]


@pytest.mark.parametrize("method, options, budget", QUADRATIC_CASES)
def test_quadratic_reaches_minimum(method, options, budget):
    result = run(method, quadratic_problem(), options=options)

    assert result.nit <= budget, result.message
    assert np.allclose(result.x, X_QUAD, atol=1e-5), (result.x, result.message)
    assert result.success, result.message
    assert result.extra["method"] == method


ROSENBROCK_CASES = [
    ("newton", {}, 40),
    ("lbfgs", {}, 60),
    ("lbfgs", {"line_search": "armijo"}, 80),
    ("gd", {"maxiter": 20000, "ftol": 0, "xtol": 0}, 15000),
    ("gd", {"maxiter": 20000, "ftol": 0, "xtol": 0, "line_search": "wolfe"}, 15000),
    ("momentum", {"lr": 1e-3, "maxiter": 10000}, 5000),
    ("nesterov", {"lr": 1e-3, "maxiter": 10000}, 5000),
    ("rmsprop", {"lr": 1e-3, "schedule": "exponential", "decay_rate": 0.5,
                 "decay_steps": 2000, "maxiter": 20000, "gtol": 1e-4}, 20000),
    ("adam", {"lr": 1e-2, "maxiter": 10000}, 8000),
]


@pytest.mark.parametrize("method, options, budget", ROSENBROCK_CASES)
def test_rosenbrock_reaches_one_one(method, options, budget):
    result = run(method, rosenbrock_problem(), options=options)

    assert result.nit <= budget, result.message
    assert np.allclose(result.x, [1.0, 1.0], atol=1e-4), (result.x, result.message)
    if method != "rmsprop":
        assert result.status == Status.CONVERGED_GRADIENT, result.message


def test_adam_first_step_is_lr():
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=5)
    shift = rng.normal(size=5) * 10
    problem = Problem.from_function(lambda x: 0.5 * np.sum((x - shift) ** 2), x0,
                                    grad=lambda x: x - shift)

    result = run("adam", problem, options={"maxiter": 1, "lr": 1e-3})

    step = result.x - x0
    assert np.allclose(np.abs(step), 1e-3, rtol=1e-6)
    assert np.array_equal(np.sign(step), np.sign(shift - x0))


def test_lbfgs_armijo_quartic_reaches_one():
    result = run("lbfgs", quartic_problem(0.1), options={"line_search": "armijo"})

    assert result.success, result.message
    assert result.x[0] == pytest.approx(1.0, abs=1e-6)
    assert all(f_next <= f for f, f_next in zip(result.history["fun"], result.history["fun"][1:]))


def test_newton_projection_quartic_reaches_one():
    result = run("newton", quartic_problem(0.3))

    assert result.success, result.message
    assert result.x[0] == pytest.approx(1.0, abs=1e-8)
    assert result.history["min_eig"][1] == pytest.approx(3 * 0.3 ** 2 - 1)


@pytest.mark.parametrize("projection", ["abs", "clamp", "shift"])
def test_newton_projections_avoid_maximum(projection):
    result = run("newton", quartic_problem(0.3), options={"projection": projection})

    assert result.success, result.message
    assert abs(result.x[0]) == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("method", ["newton", "lbfgs", "gd", "sgd", "momentum", "nesterov",
                                    "rmsprop", "adam"])
def test_start_at_minimum_returns_at_once(method):
    problem = quadratic_problem(X_QUAD)

    result = run(method, problem)

    assert result.success
    assert result.status == Status.CONVERGED_GRADIENT
    assert result.nit == 0
    assert result.nfev == 1
    assert np.array_equal(result.x, X_QUAD)


def test_newton_leaves_maximum_start():
    result = run("newton", quartic_problem(0.0))

    assert result.success, result.message
    assert abs(result.x[0]) == pytest.approx(1.0, abs=1e-8)
    assert result.nit >= 1


def test_newton_saddle_without_iterations_not_minimum():
    result = run("newton", quartic_problem(0.0), options={"maxiter": 0})

    assert not result.success
    assert result.status == Status.NOT_A_MINIMUM
    assert "-1.000e+00" in result.message


def test_newton_saddle_2d_escapes():
    # f = x² − y² + y⁴/4 has a saddle at 0 and minima at (0, ±√2).
    problem = Problem.from_function(
        lambda x: x[0] ** 2 - x[1] ** 2 + x[1] ** 4 / 4, [0.0, 0.0],
        grad=lambda x: np.array([2 * x[0], -2 * x[1] + x[1] ** 3]),
        hess=lambda x: np.array([[2.0, 0.0], [0.0, -2 + 3 * x[1] ** 2]]))

    result = run("newton", problem)

    assert result.success, result.message
    assert np.allclose(np.abs(result.x), [0.0, math.sqrt(2)], atol=1e-8)


def test_newton_sparse_chained_rosenbrock():
    n = 30

    def f(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    def grad(x):
        g = np.zeros(n)
        r = x[1:] - x[:-1] ** 2
        g[:-1] += -400 * x[:-1] * r - 2 * (1 - x[:-1])
        g[1:] += 200 * r
        return g

    def hess(x):
        diagonal = np.zeros(n)
        diagonal[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
        diagonal[1:] += 200
        off = -400 * x[:-1]
        return sp.diags([off, diagonal, off], [-1, 0, 1], format="csr")

    x0 = np.linspace(-1.0, 1.0, n)
    result = run("newton", Problem.from_function(f, x0, grad=grad, hess=hess),
                 options={"maxiter": 500})

    assert result.success, result.message
    assert np.allclose(result.x, 1.0, atol=1e-6)
    assert np.nanmax(result.history["shift"][1:]) > 0


# -- non-finite values ------------------------------------------------------------

def test_nan_at_start_fails():
    problem = Problem.from_function(lambda x: float("nan"), [1.0, 2.0], grad=lambda x: x)

    result = run("lbfgs", problem)

    assert not result.success
    assert result.status == Status.NON_FINITE
    assert result.nit == 0
    assert np.array_equal(result.x, [1.0, 2.0])


@pytest.mark.parametrize("method, options", [
    ("gd", {"line_search": "fixed", "lr": 10.0}),
    ("sgd", {"lr": 10.0}),
    ("momentum", {"lr": 10.0}),
    ("nesterov", {"lr": 10.0}),
    ("rmsprop", {"lr": 10.0}),
    ("adam", {"lr": 10.0}),
])
def test_nan_during_run_returns_last_finite(method, options):
    # log(x) is NaN for x < 0, and every method's first step jumps there.
    problem = Problem.from_function(lambda x: x[0] - np.log(x[0]), [0.5],
                                    grad=lambda x: np.array([1 - 1 / x[0]]))
    seen = []

    result = run(method, problem, options=options, callback=lambda state: seen.append(state["x"]))

    assert not result.success
    assert result.status == Status.NON_FINITE
    assert np.all(np.isfinite(result.x))
    assert math.isfinite(result.fun)
    assert result.fun == pytest.approx(result.x[0] - math.log(result.x[0]))
    assert "non-finite" in result.message


@pytest.mark.parametrize("method", ["gd", "lbfgs", "newton"])
def test_nan_everywhere_but_start_fails(method):
    start = np.array([0.5])

    def f(x):
        return 0.5 * float(x @ x) if np.array_equal(x, start) else float("nan")

    problem = Problem.from_function(f, start, grad=lambda x: x, hess=lambda x: np.eye(1))

    result = run(method, problem)

    assert not result.success
    assert result.status == Status.NON_FINITE, result.message
    assert np.array_equal(result.x, start)


def test_line_search_backs_off_nan_region():
    # f is undefined (NaN) for x > 1.5; the minimizer 1 lies inside the domain.
    def f(x):
        return float("nan") if x[0] > 1.5 else (x[0] - 1.0) ** 2

    problem = Problem.from_function(f, [-3.0], grad=lambda x: 2 * (x - 1.0))

    result = run("lbfgs", problem)

    assert result.success, result.message
    assert result.x[0] == pytest.approx(1.0, abs=1e-6)


def log_squared_plus_quadratic(x):
    """f(x) = log(x)² + 100 x², NaN for x < 0. Its minimizer solves 2 log(x)/x + 200 x = 0."""
    return dt.log(x[0]) ** 2 + 100 * x[0] ** 2


def log_squared_plus_quadratic_inf(x):
    """The same function, +inf for x <= 0 through dt.where."""
    return dt.where(x[0] > 0, dt.log(x[0]) ** 2 + 100 * x[0] ** 2, math.inf)


LOG_QUADRATIC_MINIMIZER = scipy.optimize.brentq(lambda x: 2 * math.log(x) / x + 200 * x, 0.01, 1.0,
                                                xtol=1e-15)


@pytest.mark.parametrize("f", [log_squared_plus_quadratic, log_squared_plus_quadratic_inf])
@pytest.mark.parametrize("method, options", [
    ("lbfgs", {}),
    ("lbfgs", {"line_search": "armijo"}),
    ("gd", {}),
    ("gd", {"line_search": "wolfe"}),
    ("newton", {}),
])
def test_taped_function_backtracks_from_nan(f, method, options):
    # The first trial step of L-BFGS and gd from 0.5 lands at x = -0.5, outside the domain of log.
    result = dt.minimize(f, np.array([0.5]), method=method, **options)

    assert result.success, result.message
    assert result.x[0] == pytest.approx(LOG_QUADRATIC_MINIMIZER, abs=1e-7)


@pytest.mark.parametrize("method", ["lbfgs", "gd", "newton"])
def test_taped_function_nan_at_start_raises(method):
    with pytest.raises(ValueError, match=r"f\(x0\) = nan is not finite; start from a point x0 where f is finite"):
        dt.minimize(log_squared_plus_quadratic, np.array([-1.0]), method=method)


def test_taped_function_infinite_gradient_at_start_raises():
    # asin(x) is π/2 at x = 1, where its derivative 1/√(1 − x²) is infinite.
    with pytest.raises(ValueError, match=r"the gradient of f at x0 is not finite \(entry 1 of the flattened "
                                         r"gradient is -inf\)"):
        dt.minimize(lambda x: x[0] ** 2 - dt.asin(x[1]), np.array([0.5, 1.0]), method="lbfgs")


def test_taped_function_fixed_step_nan_returns_last_finite():
    result = dt.minimize(log_squared_plus_quadratic, np.array([0.5]), method="gd", line_search="fixed",
                         lr=0.01)

    assert result.status == Status.NON_FINITE
    assert result.x[0] == 0.5
    assert "at iteration 1; x is the last finite iterate" in result.message


# -- mini-batches and reproducibility -----------------------------------------------

def least_squares_sum(n_elements=40, seed=0, log=None):
    """f(x) = Σ_i (a_iᵀx − b_i)² as a problem of n_elements elements."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n_elements, 3))
    b = a @ np.array([1.0, -2.0, 0.5]) + 0.01 * rng.normal(size=n_elements)

    def fun(x, indices):
        if log is not None:
            log.append(np.array(indices))
        r = a[indices] @ x - b[indices]
        return float(r @ r), 2 * a[indices].T @ r

    return Problem.from_sum(fun, n_elements, np.zeros(3)), a, b


def test_from_sum_batch_scaling_unbiased():
    problem, a, b = least_squares_sum()
    x = np.array([0.3, 0.1, -0.2])
    batch = np.array([3, 7, 11, 30])

    f_batch, g_batch = problem.value_and_gradient_batch(x, batch)

    r = a[batch] @ x - b[batch]
    assert f_batch == pytest.approx(40 / 4 * float(r @ r))
    assert np.allclose(g_batch, 40 / 4 * 2 * a[batch].T @ r)


def test_epoch_touches_every_element_once():
    log = []
    problem, _, _ = least_squares_sum(n_elements=23, log=log)

    run("sgd", problem, options={"batch_size": 5, "epochs": 1, "lr": 1e-3, "seed": 3})

    batches = [indices for indices in log if indices.size != 23]
    assert [indices.size for indices in batches] == [5, 5, 5, 5, 3]
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(23))


@pytest.mark.parametrize("method", ["sgd", "momentum", "nesterov", "rmsprop", "adam"])
def test_minibatch_converges_near_solution(method):
    problem, a, b = least_squares_sum(n_elements=64)
    solution = np.linalg.lstsq(a, b, rcond=None)[0]
    lr = {"sgd": 2e-3, "momentum": 5e-4, "nesterov": 5e-4, "rmsprop": 2e-2, "adam": 5e-2}[method]

    result = run(method, problem, options={"batch_size": 8, "epochs": 60, "lr": lr, "seed": 1,
                                           "schedule": "inverse-time", "decay_rate": 1.0,
                                           "decay_steps": 50})

    assert np.allclose(result.x, solution, atol=0.05), (result.x, solution)
    assert result.nit == 60 * 8
    assert len(result.history["epoch_fun"]) == 61
    assert result.history["epoch_fun"][-1] < 0.1 * result.history["epoch_fun"][0]


def test_sgd_reproducible_with_seed():
    options = {"batch_size": 4, "epochs": 3, "lr": 1e-2, "seed": 42}

    first = run("sgd", least_squares_sum()[0], options=options)
    second = run("sgd", least_squares_sum()[0], options=options)
    other = run("sgd", least_squares_sum()[0], options={**options, "seed": 7})

    assert np.array_equal(first.x, second.x)
    assert first.history["fun"] == second.history["fun"]
    assert not np.array_equal(first.x, other.x)


def test_batch_size_on_plain_function_rejected():
    with pytest.raises(ValueError, match="batch_size"):
        run("adam", quadratic_problem(), options={"batch_size": 2})


def test_batch_size_larger_than_elements_rejected():
    with pytest.raises(ValueError, match="exceeds"):
        run("sgd", least_squares_sum()[0], options={"batch_size": 41})


def test_epochs_without_batches_rejected():
    with pytest.raises(ValueError, match="epochs"):
        run("sgd", quadratic_problem(), options={"epochs": 3})


# -- callback, verbose, stopping messages, options ----------------------------------

@pytest.mark.parametrize("method", ["gd", "lbfgs", "newton", "adam"])
def test_callback_true_stops_run(method):
    states = []

    def callback(state):
        states.append(state)
        return state["nit"] == 3

    result = run(method, rosenbrock_problem(), callback=callback)

    assert result.status == Status.CALLBACK_STOP
    assert not result.success
    assert result.nit == 3
    assert [state["nit"] for state in states] == [0, 1, 2, 3]
    assert set(states[-1]) >= {"x", "fun", "grad", "grad_norm", "step", "method", "nit"}
    assert np.array_equal(states[-1]["x"], result.x)


def test_callback_stop_request_stops_run():
    def callback(state):
        if state["nit"] == 2:
            raise StopRequest

    result = run("lbfgs", rosenbrock_problem(), callback=callback)

    assert result.status == Status.CALLBACK_STOP
    assert result.nit == 2


def test_verbose_prints_fixed_columns(capsys):
    run("lbfgs", rosenbrock_problem(), verbose=1)

    lines = capsys.readouterr().out.rstrip("\n").splitlines()
    header, rows, final = lines[0], lines[1:-1], lines[-1]
    assert header.split()[:4] == ["iter", "fun", "grad_norm", "step"]
    assert len(rows) > 10
    assert {len(row) for row in rows} == {len(header)}
    assert final.startswith("converged: gradient norm")


def test_verbose_start_row_has_no_step(capsys):
    run("lbfgs", rosenbrock_problem(), verbose=1, options={"maxiter": 2})

    lines = capsys.readouterr().out.splitlines()
    start = dict(zip(lines[0].split(), lines[1].split()))
    first = dict(zip(lines[0].split(), lines[2].split()))
    assert start["step"] == "-"
    assert start["alpha"] == "-"
    assert float(first["step"]) > 0.0


def test_silent_by_default(capsys):
    run("gd", quadratic_problem())

    assert capsys.readouterr().out == ""


def test_stopping_messages_state_measured_values():
    gradient = run("lbfgs", quadratic_problem(), options={"gtol": 1e-3})
    step = run("gd", quadratic_problem(), options={"gtol": 0, "ftol": 0, "xtol": 1e-4})
    function = run("gd", quadratic_problem(), options={"gtol": 0, "xtol": 0, "ftol": 1e-6})
    limit = run("gd", quadratic_problem(), options={"maxiter": 2})

    assert gradient.status == Status.CONVERGED_GRADIENT
    assert "<= gtol = 1.000e-03" in gradient.message
    assert step.status == Status.CONVERGED_STEP
    assert "xtol" in step.message
    assert function.status == Status.CONVERGED_FUNCTION
    assert "ftol" in function.message
    assert limit.status == Status.MAX_ITERATIONS
    assert "maxiter = 2" in limit.message
    assert limit.nit == 2


SHIFTED_MINIMUM = np.array([3.0, -1.0])


def shifted_quadratic(x):
    """f(x) = (x₀ − 3)² + 2 (x₁ + 1)², minimum 0 at (3, −1)."""
    return (x[0] - 3.0) ** 2 + 2.0 * (x[1] + 1.0) ** 2


def shifted_quadratic_grad(x):
    return np.array([2.0 * (x[0] - 3.0), 4.0 * (x[1] + 1.0)])


def shifted_quadratic_problem():
    return Problem.from_function(shifted_quadratic, [0.0, 0.0], grad=shifted_quadratic_grad,
                                 hess=lambda x: np.diag([2.0, 4.0]))


def test_adam_defaults_stop_short_of_minimum():
    # Adam moves each variable by about lr = 1e-3 per iteration, so 1000 iterations
    # cover a distance of about 1, and the minimum is 3 away in x₀.
    result = run("adam", shifted_quadratic_problem())

    assert not result.success
    assert result.status == Status.MAX_ITERATIONS
    assert result.nit == 1000
    assert 0.9 < result.x[0] < 1.0
    final_norm = np.max(np.abs(shifted_quadratic_grad(result.x)))
    assert final_norm > 1.0
    assert result.message.startswith(f"iteration limit reached: maxiter = 1000, final max |g_i| = "
                                     f"{final_norm:.3e} > gtol = 1.000e-06.")
    assert "tune lr (the last step used lr = 1.000e-03)" in result.message
    assert "Adam moves each variable by about lr per iteration" in result.message


def test_adam_larger_lr_reaches_minimum():
    result = run("adam", shifted_quadratic_problem(), options={"lr": 0.1})

    assert result.success
    assert result.status == Status.CONVERGED_GRADIENT
    assert result.nit < 1000
    np.testing.assert_allclose(result.x, SHIFTED_MINIMUM, atol=1e-6)


@pytest.mark.parametrize("method, options", [
    ("gd", {}),
    ("gd", {"line_search": "wolfe"}),
    ("gd", {"line_search": "fixed", "lr": 0.01}),
    ("sgd", {}),
    ("momentum", {}),
    ("nesterov", {}),
    ("rmsprop", {}),
    ("adam", {}),
    ("lbfgs", {}),
    ("newton", {}),
])
def test_iteration_limit_reports_failure(method, options):
    problem = rosenbrock_problem()

    result = run(method, problem, options={**options, "maxiter": 3})

    assert not result.success
    assert result.status == Status.MAX_ITERATIONS
    assert result.nit == 3
    assert len(result.history["fun"]) == 4
    final_norm = np.max(np.abs(rosenbrock_grad(result.x)))
    assert final_norm > 1e-6
    assert result.message.startswith(f"iteration limit reached: maxiter = 3, final max |g_i| = "
                                     f"{final_norm:.3e} > gtol = 1.000e-06. Raise maxiter")


@pytest.mark.parametrize("method", ["sgd", "momentum", "nesterov", "rmsprop", "adam"])
@pytest.mark.parametrize("limit", ["epochs", "maxiter"])
def test_minibatch_limit_reports_failure(method, limit):
    problem, a, b = least_squares_sum(n_elements=40)
    options = {"batch_size": 8, "seed": 0, "lr": 1e-4}
    options.update({"epochs": 2} if limit == "epochs" else {"maxiter": 7})

    result = run(method, problem, options=options)

    assert not result.success
    assert result.status == Status.MAX_ITERATIONS
    final_norm = np.max(np.abs(2 * a.T @ (a @ result.x - b)))
    if limit == "epochs":
        assert result.nit == 10
        expected = "epochs = 2 (10 iterations)"
    else:
        assert result.nit == 7
        expected = "maxiter = 7"
    assert result.message.startswith(f"iteration limit reached: {expected}, final max |g_i| = "
                                     f"{final_norm:.3e} > gtol = 1.000e-06. Raise {limit}, or tune lr")


def test_result_fields_consistent():
    result = run("lbfgs", rosenbrock_problem())

    assert result.fun == pytest.approx(rosenbrock(result.x))
    assert np.allclose(result.grad, rosenbrock_grad(result.x))
    assert len(result.history["fun"]) == result.nit + 1
    assert result.njev == result.nfev
    assert result.time >= 0


@pytest.mark.parametrize("method, options, match", [
    ("gd", {"learning_rate": 0.1}, "unknown option"),
    ("gd", {"line_search": "exact"}, "line_search"),
    ("adam", {"lr": -1.0}, "lr"),
    ("adam", {"beta1": 1.0}, "beta1"),
    ("lbfgs", {"m": 0}, "m must be"),
    ("lbfgs", {"c1": 0.95, "c2": 0.9}, "c2"),
    ("newton", {"projection": "square"}, "projection"),
    ("sgd", {"schedule": "cosine"}, "schedule"),
    ("gd", {"maxiter": -1}, "maxiter"),
    ("gd", {"gtol": float("nan")}, "gtol"),
])
def test_invalid_options_rejected(method, options, match):
    with pytest.raises(ValueError, match=match):
        run(method, quadratic_problem(), options=options)


def test_unknown_method_rejected():
    with pytest.raises(ValueError, match="method must be one of"):
        run("bfgs", quadratic_problem())


def test_newton_without_hessian_rejected():
    problem = Problem.from_function(rosenbrock, [-1.2, 1.0], grad=rosenbrock_grad)

    with pytest.raises(ValueError, match="hess="):
        run("newton", problem)


def test_schedules():
    inverse = make_schedule(0.1, "inverse-time", decay_rate=0.5, decay_steps=10)
    exponential = make_schedule(0.1, "exponential", decay_rate=0.5, decay_steps=10)
    custom = make_schedule(0.1, lambda k: 1.0 / (k + 1))

    assert inverse(0) == pytest.approx(0.1)
    assert inverse(20) == pytest.approx(0.05)
    assert exponential(20) == pytest.approx(0.025)
    assert custom(3) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="schedule returned"):
        make_schedule(0.1, lambda k: -1.0)(0)


def test_callable_schedule_used_by_run():
    result = run("sgd", quadratic_problem(), options={"schedule": lambda k: 0.1 / (k + 1),
                                                      "maxiter": 5})

    assert result.history["lr"][1:] == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025, 0.02])


# -- line searches -----------------------------------------------------------------

def test_strong_wolfe_conditions_hold():
    problem = rosenbrock_problem()
    z = np.array([-1.2, 1.0])
    f, g = problem.value_and_gradient(z)
    d = -g / np.linalg.norm(g)

    found = ls.strong_wolfe(problem, z, f, g, d, t0=1.0, c1=1e-4, c2=0.1)

    assert found.success, found.message
    slope0 = g @ d
    assert found.f <= f + 1e-4 * found.step * slope0
    assert abs(found.g @ d) <= 0.1 * abs(slope0)


def test_armijo_sufficient_decrease_holds():
    problem = rosenbrock_problem()
    z = np.array([-1.2, 1.0])
    f, g = problem.value_and_gradient(z)

    found = ls.armijo(problem, z, f, g, -g, t0=1.0, c1=1e-4)

    assert found.success
    assert found.step < 1.0
    assert found.f <= f + 1e-4 * found.step * (g @ -g)


def test_line_search_rejects_ascent_direction():
    problem = rosenbrock_problem()
    z = np.array([-1.2, 1.0])
    f, g = problem.value_and_gradient(z)

    assert not ls.strong_wolfe(problem, z, f, g, g).success
    assert not ls.armijo(problem, z, f, g, g).success
