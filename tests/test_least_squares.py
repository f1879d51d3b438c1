"""Residual elements, their sparse Jacobians, and the least-squares solvers."""

import io
import re

import numpy as np
import pytest
import scipy.optimize

import dualtape as dt
from dualtape import nist
from dualtape.result import Status


def rosenbrock_residuals():
    return dt.Residuals(lambda x: [10.0 * (x[0, 1] - x[0, 0] ** 2), 1.0 - x[0, 0]],
                        np.zeros((1, 1), dtype=int), dim=2)


def circle_residuals(points):
    # Variables: one block (cx, cy, radius); one element per point.
    def residual(block, p):
        c = block[0]
        return [dt.sqrt((p[0] - c[0]) ** 2 + (p[1] - c[1]) ** 2) - c[2]]

    return dt.Residuals(residual, np.zeros((len(points), 1), dtype=int), dim=3, params=points)


def noisy_circle(seed=3, n=40):
    rng = np.random.default_rng(seed)
    angles = rng.uniform(0, 2 * np.pi, n)
    points = np.column_stack([1.5 + 2.0 * np.cos(angles), -0.5 + 2.0 * np.sin(angles)])
    return points + 0.05 * rng.standard_normal(points.shape)


def decay_data(seed=5, n=60):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4, n)
    y = 3.0 * np.exp(-1.3 * t) + 0.5 + 0.02 * rng.standard_normal(n)
    y[::9] += 1.5  # outliers
    return t, y


def decay_residuals(t, y):
    def residual(block, p):
        a, k, c = block[0]
        return [a * dt.exp(-k * p[0]) + c - p[1]]

    return dt.Residuals(residual, np.zeros((len(t), 1), dtype=int), dim=3, params=np.column_stack([t, y]))


def decay_numpy(b, t, y):
    return b[0] * np.exp(-b[1] * t) + b[2] - y


def chain_residuals(n=6, seed=0):
    # Springs between consecutive 2-D points, two residuals per element.
    rng = np.random.default_rng(seed)
    elements = np.column_stack([np.arange(n - 1), np.arange(1, n)])
    params = rng.uniform(0.5, 1.5, (n - 1, 2))

    def residual(x, p):
        d = x[1] - x[0]
        return [d[0] - p[0], d[1] * d[0] - p[1], dt.sin(d[1]) + x[0, 0] ** 2]

    return dt.Residuals(residual, elements, dim=2, params=params)


# ---------------------------------------------------------------- residuals and Jacobians

def test_residuals_values_and_cost():
    resid = rosenbrock_residuals()
    r = resid.residuals(np.array([-1.2, 1.0]))
    np.testing.assert_allclose(r, [10 * (1 - 1.44), 2.2])
    assert resid.cost([-1.2, 1.0]) == pytest.approx(0.5 * (r @ r))
    assert resid.n_residuals == 2
    assert resid.n_outputs == 2


def test_jacobian_matches_central_differences():
    resid = chain_residuals()
    rng = np.random.default_rng(1)
    x = rng.standard_normal(resid.n)
    J = resid.jacobian(x).toarray()
    step = 1e-6
    numeric = np.empty_like(J)
    for j in range(resid.n):
        e = np.zeros(resid.n)
        e[j] = step
        numeric[:, j] = (resid.residuals(x + e) - resid.residuals(x - e)) / (2 * step)
    np.testing.assert_allclose(J, numeric, rtol=1e-7, atol=1e-8)


def test_jacobian_forward_equals_reverse():
    rng = np.random.default_rng(2)
    x = rng.standard_normal(12)
    base = chain_residuals()
    forward = dt.Residuals(base.fn, base.elements, 2, base.params, mode="forward")
    reverse = dt.Residuals(base.fn, base.elements, 2, base.params, mode="reverse")
    assert forward.jacobian_mode == "forward"
    assert reverse.jacobian_mode == "reverse"
    np.testing.assert_allclose(forward.jacobian(x).toarray(), reverse.jacobian(x).toarray(), rtol=1e-14, atol=0)


def test_jacobian_mode_auto_picks_cheaper_sweep():
    # r = 3 outputs from N = 4 inputs: reverse; one input and three outputs: forward.
    assert chain_residuals().jacobian_mode == "reverse"
    many = dt.Residuals(lambda x: [x[0, 0], x[0, 0] ** 2, dt.exp(x[0, 0])], np.arange(4).reshape(4, 1), dim=1)
    assert many.jacobian_mode == "forward"
    np.testing.assert_allclose(many.jacobian(np.full(4, 0.5)).toarray()[:3, 0], [1.0, 1.0, np.exp(0.5)])


def test_jacobian_dot_product_identity():
    resid = chain_residuals(n=9, seed=4)
    rng = np.random.default_rng(6)
    x = rng.standard_normal(resid.n)
    t = rng.standard_normal(resid.n)
    c = rng.standard_normal(resid.n_residuals)
    J = resid.jacobian(x)
    assert c @ (J @ t) == pytest.approx(t @ (J.T @ c), rel=1e-13)


def test_jacobian_pattern_is_fixed_and_sparse():
    resid = chain_residuals(n=7)
    J1 = resid.jacobian(np.zeros(resid.n))
    J2 = resid.jacobian(np.ones(resid.n))
    np.testing.assert_array_equal(J1.indptr, J2.indptr)
    np.testing.assert_array_equal(J1.indices, J2.indices)
    # each element reads 4 variables, so each of its 3 rows stores 4 entries
    assert J1.nnz == 6 * 3 * 4
    assert resid.jacobian_nnz == J1.nnz


def test_jacobian_repeated_block_sums_entries():
    # The element names block 0 twice: d/dx (x·x) = 2x in one stored entry.
    resid = dt.Residuals(lambda x: [x[0, 0] * x[1, 0]], np.array([[0, 0]]), dim=1)
    J = resid.jacobian(np.array([3.0]))
    assert J.nnz == 1
    assert J[0, 0] == pytest.approx(6.0)


def test_jacobian_shape_with_unused_variables():
    resid = dt.Residuals(lambda x: [x[0, 0] - 1.0], np.array([[2]]), dim=1, n_vars=5)
    J = resid.jacobian(np.zeros(5))
    assert J.shape == (1, 5)
    assert J[0, 2] == 1.0


# ---------------------------------------------------------------- solvers

@pytest.mark.parametrize("method", ["lm", "gauss-newton"])
def test_rosenbrock_reaches_minimum(method):
    result = dt.least_squares(rosenbrock_residuals(), np.array([-1.2, 1.0]), method=method,
                              gtol=1e-12, xtol=1e-14, ftol=1e-14)
    assert result.success, result.message
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-9)
    assert result.cost < 1e-20
    assert result.fun.shape == (2,)
    assert result.jac.shape == (2, 2)


@pytest.mark.parametrize("damping", ["trust-region", "nielsen"])
@pytest.mark.parametrize("acceleration", [False, True])
def test_lm_variants_reach_rosenbrock_minimum(damping, acceleration):
    result = dt.least_squares(rosenbrock_residuals(), np.array([-1.2, 1.0]), damping=damping,
                              geodesic_acceleration=acceleration, gtol=1e-12, xtol=1e-14, ftol=1e-14)
    assert result.success, result.message
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-9)
    assert result.cost < 1e-20


@pytest.mark.parametrize("damping", ["trust-region", "nielsen"])
@pytest.mark.parametrize("acceleration", [False, True])
def test_lm_variants_match_scipy_circle(damping, acceleration):
    points = noisy_circle()
    result = dt.least_squares(circle_residuals(points), np.array([0.0, 0.0, 1.0]), damping=damping,
                              geodesic_acceleration=acceleration, gtol=1e-12, xtol=1e-12, ftol=1e-12)
    reference = scipy.optimize.least_squares(
        lambda b: np.hypot(points[:, 0] - b[0], points[:, 1] - b[1]) - b[2], [0.0, 0.0, 1.0],
        method="lm", xtol=1e-12, ftol=1e-12, gtol=1e-12)
    assert result.success, result.message
    np.testing.assert_allclose(result.x, reference.x, rtol=1e-8, atol=1e-10)


def test_trust_region_bounds_first_step():
    # r = x − c has J = I, so D = I and the first step is at most 1.1 Δ₀ = 1.1 · 0.01 · ‖x0‖.
    target = np.array([3.0, -4.0, 12.0])
    resid = dt.Residuals(lambda x, p: [x[0, 0] - p[0], x[0, 1] - p[1], x[0, 2] - p[2]],
                         np.zeros((1, 1), dtype=int), dim=3, params=target[None, :])
    x0 = np.array([1.0, 1.0, 1.0])
    result = dt.least_squares(resid, x0, initial_step_bound=0.01, gtol=1e-12)
    first_step = result.history["step_norm"][0]
    assert first_step <= 1.1 * 0.01 * np.linalg.norm(x0)
    assert first_step >= 0.9 * 0.01 * np.linalg.norm(x0)
    assert result.success, result.message
    np.testing.assert_allclose(result.x, target, atol=1e-10)

    unbounded = dt.least_squares(resid, x0, gtol=1e-12)
    assert unbounded.history["step_norm"][0] == pytest.approx(np.linalg.norm(target - x0))
    assert unbounded.nit == 1


def test_trust_region_solves_mgh10_first_start():
    # Nielsen's update reaches no solution from here in 5000 iterations.
    problem = nist.load("MGH10")
    result = dt.least_squares(problem.residuals(), problem.starts[0], gtol=1e-15, xtol=1e-15, ftol=1e-15,
                              maxiter=1000)
    assert nist.lre(result.x, problem.certified).min() >= 6, result.message
    assert nist.lre(2 * result.cost, problem.certified_rss) >= 6
    nielsen = dt.least_squares(problem.residuals(), problem.starts[0], damping="nielsen", maxiter=1000)
    assert nist.lre(nielsen.x, problem.certified).min() < 1


def test_geodesic_acceleration_avoids_boxbod_plateau():
    # Without the acceleration, the first step takes b2 from 1 to about 110, where
    # exp(−b2 x) ≈ 0 at every data point (x ≥ 1) and the gradient along b2 vanishes.
    problem = nist.load("BoxBOD")
    settings = {"gtol": 1e-15, "xtol": 1e-15, "ftol": 1e-15, "maxiter": 1000}
    plain = dt.least_squares(problem.residuals(), problem.starts[0], **settings)
    assert plain.x[1] > 20
    assert nist.lre(plain.x, problem.certified).min() < 1
    assert plain.rejected_accelerations == 0

    result = dt.least_squares(problem.residuals(), problem.starts[0], geodesic_acceleration=True, **settings)
    assert nist.lre(result.x, problem.certified).min() >= 6, result.message
    assert nist.lre(2 * result.cost, problem.certified_rss) >= 6
    assert result.rejected_accelerations >= 1
    assert result.njev > result.nit


def test_trust_region_gauge_freedom_factorizations():
    # Bundle adjustment with one camera fixed keeps a scale freedom, so JᵀJ is
    # singular. The trust-region update should still need about one sparse
    # factorization per iteration, not a Newton iteration on a noisy step length.
    from dualtape.examples import bundle_adjustment as ba

    cameras, points, observed, camera_index, point_index = ba.make_problem(8, 100, 4)
    start_cameras, start_points = ba.perturb(cameras, points)
    x0 = np.concatenate([start_cameras.ravel(), start_points.ravel()])
    resid = ba.bundle_residuals(8, 100, observed, camera_index, point_index)
    fixed = np.zeros(x0.size, dtype=bool)
    fixed[:ba.CAMERA_SIZE] = True
    result = dt.least_squares(resid, x0, fixed=fixed)
    nielsen = dt.least_squares(resid, x0, fixed=fixed, damping="nielsen")
    assert result.success, result.message
    assert result.factorizations <= 2 * result.nit
    assert result.cost == pytest.approx(nielsen.cost, rel=1e-6)


def test_default_iteration_limit_follows_minpack():
    # 100 (n + 1) iterations for n = 3 variables; this run needs about 750.
    problem = nist.load("Bennett5")
    result = dt.least_squares(problem.residuals(), problem.starts[0], gtol=1e-15, xtol=1e-15, ftol=1e-15)
    assert result.status == Status.MAX_ITERATIONS, result.message
    assert result.nit == 400


def test_result_fields_are_consistent():
    resid = circle_residuals(noisy_circle())
    result = dt.least_squares(resid, np.array([0.0, 0.0, 1.0]))
    assert result.success, result.message
    np.testing.assert_allclose(result.fun, resid.residuals(result.x))
    assert result.cost == pytest.approx(0.5 * result.fun @ result.fun, rel=1e-14)
    np.testing.assert_allclose(result.jac.toarray(), resid.jacobian(result.x).toarray())
    np.testing.assert_allclose(result.grad, result.jac.T @ result.fun, atol=1e-14)
    assert result.nfev >= result.njev >= 1
    assert len(result.history["cost"]) == result.nit
    assert all(np.diff(np.array(result.history["cost"])[np.array(result.history["accepted"])]) <= 0)


def test_circle_fit_matches_scipy():
    points = noisy_circle()
    resid = circle_residuals(points)
    result = dt.least_squares(resid, np.array([0.0, 0.0, 1.0]), gtol=1e-12, xtol=1e-14, ftol=1e-14)

    def fun(b):
        return np.hypot(points[:, 0] - b[0], points[:, 1] - b[1]) - b[2]

    reference = scipy.optimize.least_squares(fun, [0.0, 0.0, 1.0], xtol=1e-14, ftol=1e-14, gtol=1e-14)
    np.testing.assert_allclose(result.x, reference.x, rtol=1e-8)
    assert result.cost == pytest.approx(reference.cost, rel=1e-10)


@pytest.mark.parametrize("loss", ["linear", "huber", "soft_l1", "cauchy"])
def test_robust_loss_matches_scipy(loss):
    t, y = decay_data()
    resid = decay_residuals(t, y)
    x0 = np.array([1.0, 1.0, 0.0])
    result = dt.least_squares(resid, x0, loss=loss, f_scale=0.1, gtol=1e-12, xtol=1e-14, ftol=1e-15,
                              maxiter=500)
    assert result.success, result.message
    reference = scipy.optimize.least_squares(decay_numpy, x0, args=(t, y), loss=loss, f_scale=0.1,
                                             xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=5000)
    np.testing.assert_allclose(result.x, reference.x, rtol=1e-6)
    assert result.cost == pytest.approx(reference.cost, rel=1e-9)


def test_robust_loss_resists_outliers():
    t, y = decay_data()
    resid = decay_residuals(t, y)
    x0 = np.array([1.0, 1.0, 0.0])
    plain = dt.least_squares(resid, x0)
    robust = dt.least_squares(resid, x0, loss="cauchy", f_scale=0.05, maxiter=300)
    truth = np.array([3.0, 1.3, 0.5])
    assert np.linalg.norm(robust.x - truth) < 0.2 * np.linalg.norm(plain.x - truth)


def test_start_at_solution_returns_at_once():
    result = dt.least_squares(rosenbrock_residuals(), np.array([1.0, 1.0]))
    assert result.status == Status.CONVERGED_GRADIENT
    assert result.success
    assert result.nit == 0
    assert result.nfev == 1
    np.testing.assert_array_equal(result.x, [1.0, 1.0])


@pytest.mark.parametrize("method", ["lm", "gauss-newton"])
def test_rank_deficient_jacobian_converges(method):
    # r = x0 + x1 − 2 twice: J has rank 1 everywhere.
    resid = dt.Residuals(lambda x: [x[0, 0] + x[0, 1] - 2.0, 2.0 * (x[0, 0] + x[0, 1] - 2.0)],
                         np.zeros((1, 1), dtype=int), dim=2)
    result = dt.least_squares(resid, np.array([5.0, -1.0]), method=method)
    assert result.success, result.message
    assert result.x.sum() == pytest.approx(2.0, abs=1e-7)
    if method == "gauss-newton":
        assert result.shifted_solves >= 1


def test_non_finite_residual_at_start_reports_status():
    resid = dt.Residuals(lambda x: [dt.log(x[0, 0])], np.zeros((1, 1), dtype=int), dim=1)
    result = dt.least_squares(resid, np.array([-1.0]))
    assert result.status == Status.NON_FINITE
    assert not result.success
    assert "residual 0" in result.message
    assert "x0" in result.message


@pytest.mark.parametrize("method", ["lm", "gauss-newton"])
def test_nan_residual_at_start_message_says_nan(method):
    # log(-1) is a NaN with its sign bit set on x86-64, which C printf writes as "-nan".
    resid = dt.Residuals(lambda x: [dt.log(x[0, 0])], np.zeros((1, 1), dtype=int), dim=1)

    result = dt.least_squares(resid, np.array([-1.0]), method=method)

    assert result.message == "cannot start: at x0, residual 0 (element 0, output 0) is nan"


def test_non_finite_trial_step_is_rejected():
    # The first full step lands at x < 0 where sqrt is NaN; LM must back off.
    resid = dt.Residuals(lambda x: [dt.sqrt(x[0, 0]) - 0.1], np.zeros((1, 1), dtype=int), dim=1)
    result = dt.least_squares(resid, np.array([4.0]), initial_damping=1e-8, gtol=1e-14)
    assert result.success, result.message
    assert result.x[0] == pytest.approx(0.01, rel=1e-8)
    assert not all(result.history["accepted"])


def test_gauss_newton_line_search_failure_status():
    # The cost has its minimum where a residual is NaN on one side: from the
    # left, every step into x > 1 is NaN and the Gauss-Newton model keeps asking for it.
    resid = dt.Residuals(lambda x: [x[0, 0] - 2.0 + 0.0 * dt.sqrt(1.0 - x[0, 0])],
                         np.zeros((1, 1), dtype=int), dim=1)
    result = dt.least_squares(resid, np.array([0.0]), method="gauss-newton", xtol=1e-300)
    assert result.status in (Status.LINE_SEARCH_FAILED, Status.CONVERGED_STEP)
    assert result.x[0] <= 1.0
    assert np.isfinite(result.cost)


def test_fixed_variables_keep_their_values():
    resid = circle_residuals(noisy_circle())
    x0 = np.array([0.0, 0.0, 2.0])
    result = dt.least_squares(resid, x0, fixed=np.array([False, False, True]), gtol=1e-12, xtol=1e-15,
                              ftol=1e-15)
    assert result.success, result.message
    assert result.x[2] == 2.0
    assert result.grad[2] == 0.0
    full_gradient = resid.gradient(result.x)
    np.testing.assert_allclose(full_gradient[:2], 0.0, atol=1e-7)
    assert full_gradient[2] != 0.0


def test_fixed_block_indices():
    # Two points pulled toward targets; block 1 is fixed.
    resid = dt.Residuals(lambda x, p: x[0] - p, np.array([[0], [1]]), dim=2,
                         params=np.array([[1.0, 2.0], [3.0, 4.0]]))
    result = dt.least_squares(resid, np.zeros((2, 2)), fixed=[1])
    assert result.x.shape == (2, 2)
    np.testing.assert_allclose(result.x[0], [1.0, 2.0])
    np.testing.assert_array_equal(result.x[1], [0.0, 0.0])


def test_all_variables_fixed_returns_start():
    result = dt.least_squares(rosenbrock_residuals(), np.array([-1.2, 1.0]), fixed=[0])
    assert result.success, result.message
    assert result.nit == 0
    np.testing.assert_array_equal(result.x, [-1.2, 1.0])
    np.testing.assert_array_equal(result.grad, [0.0, 0.0])


def test_iteration_limit_status():
    result = dt.least_squares(rosenbrock_residuals(), np.array([-1.2, 1.0]), maxiter=2)
    assert result.status == Status.MAX_ITERATIONS
    assert result.message.startswith("iteration limit reached: maxiter = 2, final max |g_i| = ")
    assert "Raise maxiter" in result.message


def test_messages_report_measured_value_and_threshold():
    result = dt.least_squares(circle_residuals(noisy_circle()), np.array([0.0, 0.0, 1.0]))
    assert result.success
    assert "<=" in result.message
    assert any(word in result.message for word in ("gtol", "xtol", "ftol"))


def test_callback_can_stop():
    seen = []

    def callback(state):
        seen.append(state["cost"])
        return len(seen) >= 2

    result = dt.least_squares(rosenbrock_residuals(), np.array([-1.2, 1.0]), callback=callback)
    assert result.status == Status.CALLBACK_STOP
    assert len(seen) == 2


def test_callback_exception_propagates():
    def callback(state):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        dt.least_squares(rosenbrock_residuals(), np.array([-1.2, 1.0]), callback=callback)


def test_verbose_prints_fixed_columns(capsys):
    dt.least_squares(rosenbrock_residuals(), np.array([-1.2, 1.0]), verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:3] == ["iter", "cost", "|g|inf"]
    widths = {len(line) for line in lines[1:-1]}
    assert len(widths) == 1
    assert "converged" in lines[-1]


def test_as_energy_gives_half_squared_norm():
    resid = chain_residuals()
    energy = resid.as_energy()
    rng = np.random.default_rng(7)
    x = rng.standard_normal(resid.n)
    f, g = energy.value_and_gradient(x)
    assert f == pytest.approx(resid.cost(x), rel=1e-13)
    np.testing.assert_allclose(g, resid.gradient(x), rtol=1e-12, atol=1e-13)


def test_newton_on_energy_matches_least_squares():
    resid = circle_residuals(noisy_circle())
    x0 = np.array([0.0, 0.0, 1.0])
    lsq = dt.least_squares(resid, x0, gtol=1e-12, xtol=1e-15, ftol=1e-15)
    newton = dt.minimize(dt.Objective([resid.as_energy()]), x0, method="newton", gtol=1e-12, tol=1e-24)
    assert newton.success, newton.message
    np.testing.assert_allclose(newton.x, lsq.x, rtol=1e-8)


# ---------------------------------------------------------------- bad input

def test_fn_returning_matrix_raises():
    with pytest.raises(ValueError, match="1-D"):
        dt.Residuals(lambda x: np.array([[x[0, 0], x[0, 0]]]), np.zeros((1, 1), dtype=int), dim=1)


def test_fn_returning_wrong_length_raises():
    with pytest.raises(ValueError, match="returned 2 residuals per element, but n_residuals is 3"):
        dt.Residuals(lambda x: [x[0, 0], x[0, 0]], np.zeros((1, 1), dtype=int), dim=1, n_residuals=3)


def test_params_rows_mismatch_raises():
    with pytest.raises(ValueError, match="params has 2 rows, but elements has 3"):
        dt.Residuals(lambda x, p: [x[0, 0] - p[0]], np.zeros((3, 1), dtype=int), dim=1, params=np.ones((2, 1)))


def test_bad_elements_raise():
    with pytest.raises(IndexError, match="negative"):
        dt.Residuals(lambda x: [x[0, 0]], np.array([[-1]]), dim=1)
    with pytest.raises(TypeError, match="integer"):
        dt.Residuals(lambda x: [x[0, 0]], np.array([[0.5]]), dim=1)
    with pytest.raises(IndexError, match="n_vars is 1"):
        dt.Residuals(lambda x: [x[0, 0]], np.array([[3]]), dim=1, n_vars=1)


def test_bad_x_raises():
    resid = rosenbrock_residuals()
    with pytest.raises(ValueError, match="shape"):
        resid.residuals(np.zeros(3))
    with pytest.raises(ValueError, match=r"x must contain only finite numbers, but x\[0\] = nan"):
        resid.jacobian(np.array([np.nan, 1.0]))
    with pytest.raises(TypeError, match="complex"):
        resid.residuals(np.zeros(2, dtype=complex))


@pytest.mark.parametrize("options, error, match", [
    ({"method": "trf"}, ValueError, "method"),
    ({"loss": "arctan"}, ValueError, "loss"),
    ({"f_scale": 0.0}, ValueError, "f_scale"),
    ({"xtol": -1.0}, ValueError, "xtol"),
    ({"gtol": float("nan")}, ValueError, "gtol"),
    ({"maxiter": 1.5}, ValueError, "maxiter"),
    ({"damping": "marquardt"}, ValueError, "damping"),
    ({"initial_damping": 0.0}, ValueError, "initial_damping"),
    ({"initial_step_bound": -1.0}, ValueError, "initial_step_bound"),
    ({"initial_step_bound": float("inf")}, ValueError, "initial_step_bound"),
    ({"geodesic_acceleration": "yes"}, TypeError, "geodesic_acceleration"),
    ({"verbose": -1}, ValueError, "verbose"),
    ({"callback": 3}, TypeError, "callback"),
    ({"fixed": [5]}, IndexError, "fixed"),
])
def test_bad_options_raise(options, error, match):
    with pytest.raises(error, match=match):
        dt.least_squares(rosenbrock_residuals(), np.array([-1.2, 1.0]), **options)


def test_bad_x0_and_resid_raise():
    with pytest.raises(ValueError, match="x0"):
        dt.least_squares(rosenbrock_residuals(), np.array([np.inf, 1.0]))
    with pytest.raises(ValueError, match="x0"):
        dt.least_squares(rosenbrock_residuals(), np.zeros(5))
    with pytest.raises(TypeError, match="Residuals"):
        dt.least_squares(lambda x: x, np.zeros(2))


# ---------------------------------------------------------------- NIST StRD

@pytest.mark.parametrize("name", nist.PROBLEMS)
def test_nist_model_reproduces_certified_rss(name):
    problem = nist.load(name)
    rss = problem.rss(problem.certified)
    # Lanczos1 fits its data to 13 digits: at the certified parameters, rounded to
    # 11 digits, the RSS is near 4e-21 instead of the certified 1.4e-25.
    if name == "Lanczos1":
        assert rss < 1e-20
    else:
        assert nist.lre(rss, problem.certified_rss) >= 6


@pytest.mark.parametrize("name", nist.DIFFICULTY["lower"])
@pytest.mark.parametrize("start", [0, 1])
def test_nist_lower_difficulty_certified_digits(name, start):
    problem = nist.load(name)
    result = dt.least_squares(problem.residuals(), problem.starts[start], gtol=1e-15, xtol=1e-15, ftol=1e-15,
                              maxiter=2000)
    parameter_lre = nist.lre(result.x, problem.certified)
    assert parameter_lre.min() >= 6, (result.message, parameter_lre)
    assert nist.lre(2 * result.cost, problem.certified_rss) >= 6


@pytest.mark.parametrize("name", nist.DIFFICULTY["average"] + nist.DIFFICULTY["higher"])
@pytest.mark.parametrize("start", [0, 1])
def test_nist_harder_problems_with_acceleration(name, start):
    problem = nist.load(name)
    result = dt.least_squares(problem.residuals(), problem.starts[start], geodesic_acceleration=True,
                              gtol=1e-15, xtol=1e-15, ftol=1e-15, maxiter=5000)
    parameter_lre = nist.lre(result.x, problem.certified)
    assert parameter_lre.min() >= 6, (result.message, parameter_lre)
    # Lanczos1's certified RSS, 1.4e-25, depends on data digits that are lost when
    # the data are rounded to double, so only its parameters are checked here;
    # test_nist_all_problems_double_double checks its RSS on the data as written.
    if name != "Lanczos1":
        assert nist.lre(2 * result.cost, problem.certified_rss) >= 6


@pytest.mark.parametrize("name", nist.PROBLEMS)
@pytest.mark.parametrize("start", [0, 1])
def test_nist_all_problems_double_double(name, start):
    # With the residuals evaluated in double-double on the data as written, every
    # run reaches 6 digits of every parameter and of the RSS, Lanczos1 included.
    problem = nist.load(name)
    result = dt.least_squares(problem.residuals(precision="double-double"), problem.starts[start],
                              geodesic_acceleration=True, gtol=1e-15, xtol=1e-15, ftol=1e-15, maxiter=5000)
    parameter_lre = nist.lre(result.x, problem.certified)
    assert parameter_lre.min() >= 6, (result.message, parameter_lre)
    assert nist.lre(2 * result.cost, problem.certified_rss) >= 6, (result.message, 2 * result.cost)


def test_lanczos1_rss_needs_double_double():
    # Lanczos1's residuals are 1e-13 of its data, so the data rounded to double
    # leave about 3 correct digits of the RSS; the low parts of the data restore it.
    problem = nist.load("Lanczos1")
    plain = dt.least_squares(problem.residuals(), problem.starts[1], gtol=1e-15, xtol=1e-15, ftol=1e-15)
    precise = dt.least_squares(problem.residuals(precision="double-double"), problem.starts[1],
                               gtol=1e-15, xtol=1e-15, ftol=1e-15)
    assert nist.lre(2 * plain.cost, problem.certified_rss) < 4
    assert nist.lre(2 * precise.cost, problem.certified_rss) >= 6
    # Without the low parts, the double-double evaluation uses the rounded data.
    rounded = problem.residuals(precision="double-double")
    rounded_data = dt.Residuals(rounded.fn, rounded.elements, rounded.dim, params=rounded.params,
                                precision="double-double")
    assert nist.lre(2 * rounded_data.cost(precise.x), problem.certified_rss) < 4
    assert nist.lre(2 * rounded.cost(precise.x), problem.certified_rss) >= 6


def test_nist_data_low_restores_decimals():
    import decimal

    problem = nist.load("Nelson")
    low = problem.data_low()
    assert low.shape == (128, 3)
    row = problem.data_text[7]
    with decimal.localcontext() as context:
        context.prec = 40
        for j, text in enumerate(row[1:]):
            exact = decimal.Decimal(text)
            assert abs(decimal.Decimal(problem.x[7, j]) + decimal.Decimal(low[7, j]) - exact) <= abs(exact) * decimal.Decimal("1e-30")
        log_y = decimal.Decimal(row[0]).ln()
        assert abs(decimal.Decimal(problem.response[7]) + decimal.Decimal(low[7, 2]) - log_y) <= abs(log_y) * decimal.Decimal("1e-30")


def test_nist_parser_reads_structure():
    problem = nist.load("Nelson")
    assert problem.x.shape == (128, 2)
    assert problem.starts.shape == (2, 3)
    assert problem.certified_rss == pytest.approx(3.7976833176)
    assert len(problem.data_text) == 128
    assert all(len(row) == 3 for row in problem.data_text)
    np.testing.assert_array_equal([float(v) for v in problem.data_text[5]],
                                  [problem.y[5], problem.x[5, 0], problem.x[5, 1]])
    with pytest.raises(ValueError, match="unknown NIST"):
        nist.load("Misra9")


# ---------------------------------------------------------------- examples at small sizes

def test_example_line_fit_matches_closed_form(tmp_path):
    from dualtape.examples import line_fit_gauss_newton

    numbers = line_fit_gauss_newton.main(["-o", str(tmp_path), "-n", "30"])
    assert (tmp_path / "line_fit_gauss_newton.png").stat().st_size > 0
    assert numbers["max_difference"] < 1e-10
    assert numbers["iterations"] <= 2


def test_example_circle_fit_improves_on_algebraic(tmp_path):
    from dualtape.examples import circle_fit

    numbers = circle_fit.main(["-o", str(tmp_path), "-n", "40"])
    assert (tmp_path / "circle_fit.png").stat().st_size > 0
    assert numbers["success"]
    assert numbers["cost"] < numbers["start_cost"]
    assert numbers["fit_error"] < 0.15


def test_example_robust_fit_beats_plain(tmp_path):
    from dualtape.examples import robust_curve_fit

    numbers = robust_curve_fit.main(["-o", str(tmp_path), "-n", "64"])
    assert (tmp_path / "robust_curve_fit.png").stat().st_size > 0
    for loss in ("soft_l1", "cauchy"):
        assert numbers[loss]["success"]
        assert numbers[loss]["error"] < 0.5 * numbers["plain"]["error"]
    assert numbers["cauchy"]["error"] < 0.1


def test_example_bundle_adjustment_small(tmp_path):
    from dualtape.examples import bundle_adjustment

    numbers = bundle_adjustment.main(["-o", str(tmp_path), "--cameras", "6", "--points", "120", "--views", "4"])
    assert (tmp_path / "bundle_adjustment.png").stat().st_size > 0
    assert numbers["success"], numbers["message"]
    assert numbers["start_rms"] > 5.0
    assert numbers["final_rms"] < 0.6
    assert numbers["final_rms"] <= numbers["true_rms"]


# ---------------------------------------------------------------- double-double residuals

def _split(value):
    """A 50-digit mpmath number as (double, the rest rounded to double)."""
    import mpmath

    high = float(value)
    return high, float(value - mpmath.mpf(high))


_DOUBLE_DOUBLE_CASES = {
    "exp": (dt.exp, "exp", [-700.0, -3.7, -0.3, 1e-9, 0.4, 2.5, 100.3, 709.5]),
    "expm1": (dt.expm1, "expm1", [-3.7, -0.3, 1e-9, -1e-12, 0.4, 0.6, 30.0]),
    "log": (dt.log, "log", [1e-310, 1e-300, 0.3, 2.5, 1e5, 1.7e308]),
    "log1p": (dt.log1p, "log1p", [-0.9, -0.3, 1e-9, 0.4, 0.6, 30.0]),
    "sqrt": (dt.sqrt, "sqrt", [1e-300, 0.3, 2.0, 1e5, 1e300]),
    "sin": (dt.sin, "sin", [-1e5, -3.7, -0.3, 1e-9, 0.4, 1.5707963267948966, 3.141592653589793, 100.3]),
    "cos": (dt.cos, "cos", [-1e5, -3.7, -0.3, 1e-9, 0.4, 1.5707963267948966, 100.3]),
    "tan": (dt.tan, "tan", [-3.7, -0.3, 1e-9, 0.4, 1.5, 2.5]),
    "atan": (dt.atan, "atan", [-1e10, -3.7, -0.3, 1e-9, 0.4, 2.5]),
    "asin": (dt.asin, "asin", [-1.0, -0.99999, -0.3, 1e-9, 0.4, 0.9]),
    "acos": (dt.acos, "acos", [-1.0, -0.99999, -0.3, 1e-9, 0.4, 0.9, 1.0]),
    "sinh": (dt.sinh, "sinh", [-50.0, -3.7, -0.3, 1e-9, 0.4, 2.5, 45.0]),
    "cosh": (dt.cosh, "cosh", [-50.0, -3.7, -0.3, 1e-9, 0.4, 2.5, 45.0]),
    "tanh": (dt.tanh, "tanh", [-50.0, -3.7, -0.3, 1e-9, 0.4, 2.5, 45.0]),
    "power 2.5": (lambda x: x ** 2.5, lambda m, x: x ** m.mpf(2.5), [1e-5, 0.3, 2.0, 1e5]),
    "power -3": (lambda x: x ** -3, lambda m, x: x ** -3, [-2.5, 0.3, 2.0, 1e5]),
    "power x^(0.3 x)": (lambda x: x ** (x * 0.3), lambda m, x: x ** (x * m.mpf(0.3)), [0.3, 2.0, 7.5]),
    "division": (lambda x: 1 / (x + 0.1), lambda m, x: 1 / (x + m.mpf(0.1)), [0.3, 2.0, -7.5]),
    "hypot": (lambda x: dt.hypot(x, 0.3), lambda m, x: m.hypot(x, m.mpf(0.3)), [1e-300, 0.3, 2.0, 1e300]),
    "atan2": (lambda x: dt.atan2(x, -0.3), lambda m, x: m.atan2(x, m.mpf(-0.3)), [-1e-9, 0.3, -2.0, 7.5]),
}


@pytest.mark.parametrize("name", sorted(_DOUBLE_DOUBLE_CASES))
def test_double_double_matches_50_digits(name):
    # The residual f(x) − (high + low), with high + low a 50-digit value of f(x), is
    # the double-double error of f. In double it would be about 1e-16 of f(x).
    import mpmath

    fn, exact_fn, points = _DOUBLE_DOUBLE_CASES[name]
    with mpmath.workdps(50):
        for x in points:
            exact = getattr(mpmath, exact_fn)(mpmath.mpf(x)) if isinstance(exact_fn, str) else exact_fn(mpmath, mpmath.mpf(x))
            high, low = _split(exact)
            resid = dt.Residuals(lambda b, p: [fn(b[0, 0]) - p[0]], np.zeros((1, 1), dtype=int), dim=1,
                                 params=[[high]], precision="double-double", params_low=[[low]])
            error = abs(resid.residuals([x])[0])
            assert error <= 1e-27 * abs(high), (name, x, error / abs(high))


def test_double_double_keeps_jacobian():
    points = noisy_circle()
    plain = circle_residuals(points)
    precise = dt.Residuals(plain.fn, plain.elements, 3, params=points, precision="double-double")
    x = np.array([0.3, -0.2, 1.7])
    r, J = precise.residuals_and_jacobian(x)
    np.testing.assert_array_equal(r, precise.residuals(x))
    np.testing.assert_allclose(r, plain.residuals(x), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(J.toarray(), plain.jacobian(x).toarray())
    assert precise.cost(x) == pytest.approx(plain.cost(x), rel=1e-13)
    result = dt.least_squares(precise, x)
    reference = dt.least_squares(plain, x)
    assert result.success, result.message
    np.testing.assert_allclose(result.x, reference.x, rtol=1e-9)
    assert "precision='double-double'" in repr(precise)


def test_double_double_non_finite_status():
    resid = dt.Residuals(lambda x: [dt.log(x[0, 0])], np.zeros((1, 1), dtype=int), dim=1,
                         precision="double-double")
    assert np.isnan(resid.residuals([-1.0])[0])
    assert resid.residuals([0.0])[0] == -np.inf
    result = dt.least_squares(resid, np.array([-1.0]))
    assert result.status == Status.NON_FINITE
    assert result.message == ("cannot start: at x0, residual 0 (element 0, output 0) is nan "
                              "in double-double arithmetic")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"precision": "quad"}, ValueError, "precision must be one of"),
    ({"params_low": [[0.0, 0.0]] * 3}, ValueError, "pass precision='double-double'"),
    ({"precision": "double-double", "params_low": [[0.0]] * 3}, ValueError, r"shape of params, \(3, 2\)"),
    ({"precision": "double-double", "params_low": [[0.0, np.nan]] * 3}, ValueError, "params_low row 0"),
    ({"precision": "double-double", "params_low": [["a", "b"]] * 3}, TypeError, "params_low must be a real"),
])
def test_double_double_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        dt.Residuals(lambda x, p: [x[0, 0] - p[0] * p[1]], np.zeros((3, 1), dtype=int), dim=1,
                     params=np.ones((3, 2)), **kwargs)


def test_double_double_params_low_needs_params():
    with pytest.raises(ValueError, match="no params"):
        dt.Residuals(lambda x: [x[0, 0]], np.zeros((3, 1), dtype=int), dim=1, precision="double-double",
                     params_low=np.zeros((3, 0)))


@pytest.mark.parametrize("tolerances, status, pattern", [
    ({"xtol": 1e-2, "ftol": 0.0, "gtol": 0.0}, Status.CONVERGED_STEP,
     r"converged: step size: ‖δ‖₂ = \S+ <= xtol \(‖x‖₂ \+ xtol\) = \S+$"),
    ({"xtol": 0.0, "ftol": 1e-1, "gtol": 0.0}, Status.CONVERGED_FUNCTION,
     r"converged: function change: decrease \S+ and predicted decrease \S+ <= ftol \* cost = \S+$"),
    ({"xtol": 0.0, "ftol": 0.0, "gtol": 1e-6}, Status.CONVERGED_GRADIENT,
     r"converged: gradient norm: max \|g_i\| = \S+ <= gtol = \S+$"),
])
def test_stopping_messages_value_and_threshold(tolerances, status, pattern):
    # Every convergence message starts with its status name, as in dt.minimize.
    points = noisy_circle()
    result = dt.least_squares(circle_residuals(points), np.array([0.3, -0.2, 1.7]), **tolerances)
    assert result.status == status, result.message
    assert result.message.startswith(Status.NAMES[status])
    assert re.match(pattern, result.message), result.message


def test_stopping_message_cost_rounding():
    # A zero-residual fit ends when a step's predicted decrease is below the
    # rounding error of the cost.
    resid = dt.Residuals(lambda x, p: [x[0, 0] * p[0] - p[1]], np.zeros((3, 1), dtype=int), dim=1,
                         params=[[1.0, 0.1], [2.0, 0.2], [3.0, 0.3]])
    result = dt.least_squares(resid, np.array([5.0]), xtol=0.0, ftol=0.0, gtol=0.0, maxiter=200)
    assert result.status == Status.CONVERGED_FUNCTION, result.message
    assert re.match(r"converged: function change: predicted decrease \S+ <= 10 eps \* cost = \S+, "
                    r"the rounding error of the cost$", result.message), result.message
    assert result.x[0] == pytest.approx(0.1, rel=1e-14)


def test_double_double_overflowed_denominator_gives_zero():
    # A steep logistic model: exp(790 − 158 x) overflows at x = 0, and 1 / inf is 0
    # in double-double as in double.
    x_data = np.linspace(0.0, 10.0, 11)
    params = np.column_stack([x_data, 1.0 / (1.0 + np.exp(3.0 - x_data))])

    def logistic(b, p):
        return [b[0, 0] / (1.0 + dt.exp(b[0, 1] - b[0, 2] * p[0])) - p[1]]

    plain = dt.Residuals(logistic, np.zeros((11, 1), dtype=int), dim=3, params=params)
    precise = dt.Residuals(logistic, np.zeros((11, 1), dtype=int), dim=3, params=params, precision="double-double")
    steep = np.array([1.5, 790.0, 158.0])
    np.testing.assert_allclose(precise.residuals(steep), plain.residuals(steep), rtol=1e-15)
    # From the steep start both evaluations take the same path to the same cost.
    assert dt.least_squares(precise, steep).cost == pytest.approx(dt.least_squares(plain, steep).cost, rel=1e-12)
    result = dt.least_squares(precise, np.array([1.5, 40.0, 8.0]))
    assert result.success, result.message
    np.testing.assert_allclose(result.x, [1.0, 3.0, 1.0], rtol=1e-7)


def test_double_double_large_sine_arguments():
    # Beyond 1.1e15, sin, cos and tan fall back to the double functions.
    resid = dt.Residuals(lambda b: [dt.sin(b[0, 0]), dt.cos(b[0, 0]), dt.tan(b[0, 0])],
                         np.zeros((1, 1), dtype=int), dim=1, precision="double-double")
    for x in [1e15, 3e17, 1e18, 1e22, -1e30]:
        np.testing.assert_allclose(resid.residuals([x]), [np.sin(x), np.cos(x), np.tan(x)], rtol=1e-12, atol=1e-15)


def test_double_double_large_sine_with_low_part():
    # The low part of an angle beyond 2^53 can exceed 1: sin(1e20 + 1) and sin(2^53 + 1).
    import mpmath

    for high, low in [(1e20, 1.0), (2.0 ** 53, 1.0), (123456789012345678901.5, -5066.5)]:
        resid = dt.Residuals(lambda b, p: [dt.sin(p[0]) + 0.0 * b[0, 0], dt.cos(p[0])], np.zeros((1, 1), dtype=int),
                             dim=1, params=[[high]], precision="double-double", params_low=[[low]])
        with mpmath.workdps(50):
            angle = mpmath.mpf(high) + mpmath.mpf(low)
            expected = [float(mpmath.sin(angle)), float(mpmath.cos(angle))]
        np.testing.assert_allclose(resid.residuals([0.0]), expected, rtol=1e-12, atol=1e-15)


def test_double_double_negative_zero():
    resid = dt.Residuals(lambda b: [-0.0 * b[0, 0], -3.0 / dt.exp(710.0 * b[0, 0])], np.zeros((1, 1), dtype=int),
                         dim=1, precision="double-double")
    values = resid.residuals([1.0])
    np.testing.assert_array_equal(values, [0.0, 0.0])
    assert np.all(np.signbit(values))


def test_double_double_comparisons_use_low_parts():
    # 1 + 1e-20 and 1 + 2e-20 are both 1.0 as doubles.
    def fn(b, p):
        small, large = p[0], p[1]
        return [dt.minimum(large, small) - small, dt.maximum(small, large) - large,
                dt.where(large > small, 1.0, 0.0), dt.where(small < large, small - large, large - small),
                dt.where(small == large, 1.0, 0.0) + b[0, 0]]

    resid = dt.Residuals(fn, np.zeros((1, 1), dtype=int), dim=1, params=[[1.0, 1.0]], precision="double-double",
                         params_low=[[1e-20, 2e-20]])
    np.testing.assert_array_equal(resid.residuals([0.0]), [0.0, 0.0, 1.0, -1e-20, 0.0])


def test_split_double_double_inputs():
    import decimal
    import fractions

    high, low = dt.split_double_double(["0.1", "2.5134"])
    with decimal.localcontext() as context:
        context.prec = 40
        exact = decimal.Decimal("0.1")
        assert abs(decimal.Decimal(high[0]) + decimal.Decimal(low[0]) - exact) < decimal.Decimal("1e-33")
    np.testing.assert_array_equal(high, [0.1, 2.5134])
    assert dt.split_double_double([decimal.Decimal("0.1")])[1][0] == low[0]
    assert dt.split_double_double([fractions.Fraction(1, 10)])[1][0] == low[0]
    big = 2 ** 60 + 1
    big_high, big_low = dt.split_double_double(np.array([big]))
    assert int(big_high[0]) + int(big_low[0]) == big
    float_high, float_low = dt.split_double_double(np.array([[0.5, 0.1]]))
    assert float_high.shape == (1, 2)
    np.testing.assert_array_equal(float_low, [[0.0, 0.0]])
    # A float keeps its binary value next to a string, and a 0-d input gives 0-d arrays.
    mixed_high, mixed_low = dt.split_double_double(["0.1", 1 / 3])
    assert mixed_high[1] == 1 / 3
    assert mixed_low[1] == 0.0
    scalar_high, scalar_low = dt.split_double_double(0.5)
    assert scalar_high.shape == ()
    assert scalar_low.shape == ()
    assert dt.split_double_double(["1e-400"])[0][0] == 0.0
    if np.finfo(np.longdouble).nmant > 52:
        tenth = np.longdouble(1) / np.longdouble(10)
        long_high, long_low = dt.split_double_double(np.array([tenth]))
        assert long_low[0] != 0.0
        assert np.longdouble(long_high[0]) + np.longdouble(long_low[0]) == tenth


@pytest.mark.parametrize("values, error, match", [
    ([], ValueError, "must not be empty"),
    (["0.1", "abc"], ValueError, r"values\[1\] = 'abc' is not a number"),
    ([["0.1", "x"]], ValueError, r"values\[0, 1\] = 'x' is not a number"),
    (["nan"], ValueError, "is not finite"),
    (np.array([0.5, np.inf]), ValueError, r"values\[1\] = np.float64\(inf\) is not finite"),
    (np.array([True]), TypeError, "dtype bool"),
    ([True, "1"], TypeError, r"values\[0\] = True is a bool"),
    (["1e400"], ValueError, "outside the range of a double"),
    ([10 ** 400], ValueError, "outside the range of a double"),
    ([["0.1", "0.2"], ["0.3"]], ValueError, "rectangular array"),
    ((value for value in [1.0]), TypeError, "expected an array_like"),
])
def test_split_double_double_bad_input(values, error, match):
    with pytest.raises(error, match=match):
        dt.split_double_double(values)


@pytest.mark.skipif(np.finfo(np.longdouble).nmant <= 52, reason="long double is double on this platform")
@pytest.mark.parametrize("as_list", [False, True])
def test_double_double_long_double_params_split(as_list):
    third = np.longdouble(1) / np.longdouble(3)
    data = [[third]] if as_list else np.array([[third]])
    resid = dt.Residuals(lambda b, p: [p[0] * 3.0 - 1.0 + b[0, 0]], np.zeros((1, 1), dtype=int), dim=1,
                         params=data, precision="double-double")
    assert resid.params_low[0, 0] != 0.0
    assert abs(resid.residuals([0.0])[0]) < 1e-18


def test_double_double_bool_params_low_rejected():
    with pytest.raises(TypeError, match="params_low must be a real"):
        dt.Residuals(lambda x, p: [x[0, 0] - p[0]], np.zeros((2, 1), dtype=int), dim=1, params=np.ones((2, 1)),
                     precision="double-double", params_low=np.zeros((2, 1), dtype=bool))


def test_nist_lre_exact_zero_and_missing_text():
    assert nist.lre(0.0, 0.0) == 11.0
    problem = nist.load("Misra1a")
    problem.data_text = []
    with pytest.raises(ValueError, match="data_text has 0 rows"):
        problem.data_low()


def test_gauss_newton_shortened_step_is_not_convergence():
    # From (1, -3, 0) the line search cuts Gauss-Newton steps to tiny fractions far
    # from the minimum. Such a step must not pass the step or function tests.
    rng = np.random.default_rng(0)
    t = np.linspace(0.0, 5.0, 60)
    y = 2.0 * np.exp(-1.3 * t) + 0.5 + 0.03 * rng.standard_normal(60)
    resid = dt.Residuals(lambda b, p: [b[0, 0] * dt.exp(-b[0, 1] * p[0]) + b[0, 2] - p[1]],
                         np.zeros((60, 1), dtype=int), dim=3, params=np.column_stack([t, y]))
    result = dt.least_squares(resid, np.array([1.0, -3.0, 0.0]), method="gauss-newton", maxiter=100)
    largest_gradient = np.abs(result.grad).max()
    if result.success:
        assert largest_gradient <= 1e-3, result.message
    good = dt.least_squares(resid, np.array([1.0, 1.0, 0.0]), method="gauss-newton")
    assert good.success, good.message
    np.testing.assert_allclose(good.x, [2.0, 1.3, 0.5], atol=0.05)


def test_least_squares_rejects_acceleration_with_gauss_newton():
    with pytest.raises(ValueError, match="geodesic_acceleration=True needs method='lm'"):
        dt.least_squares(rosenbrock_residuals(), np.array([-1.2, 1.0]), method="gauss-newton",
                         geodesic_acceleration=True)


@pytest.mark.parametrize("verbose", [3, -1, True, "1"])
def test_least_squares_rejects_bad_verbose(verbose):
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2"):
        dt.least_squares(rosenbrock_residuals(), np.array([-1.2, 1.0]), verbose=verbose)
