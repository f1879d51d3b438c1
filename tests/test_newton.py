"""Projected Newton (dt.minimize) and the scipy.optimize interface of Objective,
on problems with known minima."""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse
from numpy.testing import assert_allclose, assert_array_equal

import dualtape as dt

from conftest import grid_mesh


def chain_edges(count):
    return np.column_stack([np.arange(count - 1), np.arange(1, count)])


def spring_problem(count=12, dim=2, seed=0):
    """f = Σ_edges ½ w ‖xᵢ − xⱼ‖² + Σ_v ½ ‖x_v − a_v‖² on a chain.

    Returns the objective, a start point and the minimizer, the solution of
    (L ⊗ I + I) x = a with L the weighted graph Laplacian.
    """
    rng = np.random.default_rng(seed)
    edges = chain_edges(count)
    weights = rng.uniform(0.5, 2.0, len(edges))
    anchors = rng.standard_normal((count, dim))
    springs = dt.ElementEnergy(lambda x, p: 0.5 * p[0] * dt.dot(x[0] - x[1], x[0] - x[1]),
                               edges, dim, weights[:, None])
    pins = dt.ElementEnergy(lambda x, p: 0.5 * dt.dot(x[0] - p, x[0] - p),
                            np.arange(count)[:, None], dim, anchors)
    laplacian = np.zeros((count, count))
    for (i, j), w in zip(edges, weights):
        laplacian[[i, j], [i, j]] += w
        laplacian[i, j] -= w
        laplacian[j, i] -= w
    minimizer = np.linalg.solve(laplacian + np.eye(count), anchors)
    return dt.Objective([springs, pins]), rng.standard_normal((count, dim)), minimizer


def exp_problem(count=10, seed=1):
    """f = Σᵢ (exp(xᵢ − cᵢ) − xᵢ) + Σ_edges (xᵢ − xⱼ − cᵢ + cⱼ)⁴ with minimizer x = c.

    Strictly convex and not quadratic; f* = Σᵢ (1 − cᵢ).
    """
    rng = np.random.default_rng(seed)
    c = rng.uniform(-1.0, 1.0, count)
    singles = dt.ElementEnergy(lambda x, p: dt.exp(x[0, 0] - p[0]) - x[0, 0], np.arange(count)[:, None], 1,
                               c[:, None])
    edges = chain_edges(count)
    couplings = dt.ElementEnergy(lambda x, p: (x[0, 0] - x[1, 0] - p[0]) ** 4, edges, 1,
                                 (c[edges[:, 0]] - c[edges[:, 1]])[:, None])
    return dt.Objective([singles, (3.0, couplings)]), np.zeros(count), c, float(np.sum(1.0 - c))


def rosenbrock_problem(count=6):
    """The chained Rosenbrock function Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², minimum 0 at x = 1."""
    energy = dt.ElementEnergy(lambda x: 100.0 * (x[1, 0] - x[0, 0] ** 2) ** 2 + (1.0 - x[0, 0]) ** 2,
                              chain_edges(count), 1)
    x0 = np.tile([-1.2, 1.0], count // 2)
    return dt.Objective([energy]), x0


def assert_monotone(history):
    values = np.asarray(history["fun"])
    assert np.all(np.diff(values) <= 0.0), f"energy increased: {values}"


def test_newton_quadratic_springs():
    objective, x0, minimizer = spring_problem()
    result = dt.minimize(objective, x0, method="newton")
    assert result.success, result.message
    assert result.x.shape == x0.shape
    assert result.grad.shape == x0.shape
    assert_allclose(result.x, minimizer, rtol=1e-8, atol=1e-8)
    # A quadratic: one Newton step, then the stopping test.
    assert result.nit <= 2
    assert_monotone(result.history)


def test_newton_flat_start_keeps_flat_shape():
    objective, x0, minimizer = spring_problem()
    result = dt.minimize(objective, x0.reshape(-1))
    assert result.x.shape == (x0.size,)
    assert_allclose(result.x, minimizer.reshape(-1), rtol=1e-8, atol=1e-8)


def test_newton_nonquadratic_convex():
    objective, x0, minimizer, minimum = exp_problem()
    result = dt.minimize(objective, x0, method="newton", tol=1e-14, gtol=1e-10)
    assert result.success, result.message
    assert_allclose(result.x, minimizer, rtol=1e-7, atol=1e-7)
    assert result.fun == pytest.approx(minimum, rel=1e-12, abs=1e-12)
    assert np.linalg.norm(result.grad) < 1e-6
    assert_monotone(result.history)
    assert len(result.history["fun"]) == result.nit + 1
    assert result.nfev >= result.nit


@pytest.mark.parametrize("projection", ["clamp", "abs"])
def test_newton_rosenbrock_with_projection(projection):
    objective, x0 = rosenbrock_problem()
    result = dt.minimize(objective, x0, projection=projection, maxiter=200, gtol=1e-9)
    assert result.success, result.message
    assert_allclose(result.x, 1.0, rtol=1e-6, atol=1e-6)
    assert result.fun < 1e-12
    assert_monotone(result.history)


def test_newton_element_energy_directly():
    objective, x0 = rosenbrock_problem(4)
    energy = objective.terms[0][1]
    result = dt.minimize(energy, x0, maxiter=200)
    assert result.success, result.message
    assert_allclose(result.x, 1.0, rtol=1e-6, atol=1e-6)


def test_newton_fixed_variables_stay():
    objective, x0, _ = spring_problem()
    result = dt.minimize(objective, x0, fixed=[0, 5])
    assert result.success, result.message
    assert_array_equal(result.x[[0, 5]], x0[[0, 5]])
    assert_array_equal(result.grad[[0, 5]], 0.0)
    # The free variables minimize f with the fixed ones held: check ∇f there.
    _, gradient = objective.value_and_gradient(result.x)
    free = np.ones(len(x0), dtype=bool)
    free[[0, 5]] = False
    assert np.abs(gradient[free]).max() < 1e-8


@pytest.mark.parametrize("method", ["newton", "lbfgs", "gd"])
@pytest.mark.parametrize("extra_fixed", [[5], np.isin(np.arange(12), [5])[:, None].repeat(2, axis=1)])
def test_minimize_fixed_joins_objective_fixed(method, extra_fixed):
    objective, x0, _ = spring_problem()
    own = dt.Objective(objective.terms, fixed=[0])

    result = dt.minimize(own, x0, method=method, fixed=extra_fixed)

    assert result.success, result.message
    assert_array_equal(result.x[0], x0[0])
    assert_array_equal(result.x[5], x0[5])
    assert_array_equal(result.grad[[0, 5]], 0.0)
    # The free variables minimize f with rows 0 and 5 held.
    _, gradient = objective.value_and_gradient(result.x)
    free = np.ones(len(x0), dtype=bool)
    free[[0, 5]] = False
    assert np.abs(gradient[free]).max() < 1e-5


def test_newton_planar_dirichlet_reaches_isometry():
    # For a planar rest mesh the symmetric Dirichlet energy is at least 4 A per
    # triangle, with equality for a rigid motion. Its +inf barrier must keep every
    # iterate free of inverted triangles.
    vertices, faces = grid_mesh(4, 5)
    energy = dt.energies.symmetric_dirichlet(vertices, faces)
    rest_area = 0.5 * len(faces)  # unit squares split into two triangles
    rng = np.random.default_rng(2)
    x0 = vertices @ np.array([[1.5, 0.3], [0.0, 0.7]]).T + 0.05 * rng.uniform(-1, 1, vertices.shape)

    def signed_areas(x):
        e1 = x[faces[:, 1]] - x[faces[:, 0]]
        e2 = x[faces[:, 2]] - x[faces[:, 0]]
        return 0.5 * (e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])

    assert signed_areas(x0).min() > 0
    smallest_area = []

    def callback(state):
        smallest_area.append(signed_areas(state["x"]).min())

    result = dt.minimize(energy, x0, callback=callback, tol=1e-12)
    assert result.success, result.message
    assert result.fun == pytest.approx(4.0 * rest_area, rel=1e-9)
    assert min(smallest_area) > 0
    assert_monotone(result.history)
    # The minimizer is a rigid motion: every edge keeps its rest length.
    for i, j in ((0, 1), (1, 2), (2, 0)):
        lengths = np.linalg.norm(result.x[faces[:, j]] - result.x[faces[:, i]], axis=1)
        rest_lengths = np.linalg.norm(vertices[faces[:, j]] - vertices[faces[:, i]], axis=1)
        assert_allclose(lengths, rest_lengths, rtol=1e-5)


def test_newton_callback_stop():
    objective, x0 = rosenbrock_problem()
    calls = []

    def callback(state):
        calls.append(state["nit"])
        return len(calls) >= 2

    result = dt.minimize(objective, x0, callback=callback)
    assert result.status == dt.Status.CALLBACK_STOP
    assert not result.success
    assert calls == [1, 2]
    assert result.nit == 2


def test_newton_stop_request():
    objective, x0 = rosenbrock_problem()

    def callback(state):
        raise dt.StopRequest

    result = dt.minimize(objective, x0, callback=callback)
    assert result.status == dt.Status.CALLBACK_STOP
    assert result.nit == 1


def test_newton_callback_error_propagates():
    objective, x0 = rosenbrock_problem()

    def callback(state):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        dt.minimize(objective, x0, callback=callback)


def test_newton_iteration_limit():
    objective, x0 = rosenbrock_problem()
    result = dt.minimize(objective, x0, maxiter=3)
    assert result.status == dt.Status.MAX_ITERATIONS
    assert result.nit == 3
    assert result.message.startswith("iteration limit reached: maxiter = 3, final ‖g‖₂ = ")
    assert result.message.endswith(" > gtol = 1.000e-08. Raise maxiter to run longer.")


def test_newton_verbose_prints_table(capsys):
    objective, x0, _ = spring_problem()
    dt.minimize(objective, x0, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["iter", "f", "|g|"]
    assert lines[1].split()[0] == "0"
    assert "converged" in lines[-1]


def progress_rows(output):
    """Split the progress table of verbose=1 into dicts of column name to cell."""
    lines = output.splitlines()
    header = lines[0].split()
    return [dict(zip(header, line.split())) for line in lines[1:-1]]


def test_newton_verbose_iteration_limit_row(capsys):
    objective, x0 = rosenbrock_problem()
    dt.minimize(objective, x0, maxiter=3, verbose=1)

    rows = progress_rows(capsys.readouterr().out)

    assert len(rows) == 4
    # The last row stops on the limit before solving for a direction or stepping.
    for name in ("decrement", "step", "ls", "reg"):
        assert rows[-1][name] == "-", rows[-1]
        assert rows[0][name] != "-", rows[0]
    assert float(rows[0]["decrement"]) > 0.0


def test_newton_verbose_decrement_stop_row(capsys):
    objective, x0, _ = spring_problem()
    result = dt.minimize(objective, x0, gtol=0.0, verbose=1)

    rows = progress_rows(capsys.readouterr().out)

    assert result.status == dt.Status.CONVERGED_DECREMENT, result.message
    # The last row computes the decrement that stops the run, and takes no step.
    assert float(rows[-1]["decrement"]) == pytest.approx(result.history["decrement"][-1], rel=1e-3)
    assert rows[-1]["step"] == "-"
    assert rows[-1]["ls"] == "-"


def test_newton_silent_by_default(capsys):
    objective, x0, _ = spring_problem()
    dt.minimize(objective, x0)
    assert capsys.readouterr().out == ""


def test_newton_message_shows_threshold():
    objective, x0, _, _ = exp_problem()
    result = dt.minimize(objective, x0, tol=0.0, gtol=1e-8)
    assert result.status == dt.Status.CONVERGED_GRADIENT
    assert result.message.endswith("<= gtol = 1.000e-08")


# -- scipy.optimize interface ------------------------------------------------------


def test_scipy_trust_ncg_hessp():
    objective, x0, minimizer, minimum = exp_problem()
    result = scipy.optimize.minimize(objective.fun, x0, jac=objective.jac, hessp=objective.hessp,
                                     method="trust-ncg", options={"gtol": 1e-8})
    assert result.success, result.message
    assert_allclose(result.x, minimizer, rtol=1e-7, atol=1e-7)
    assert result.fun == pytest.approx(minimum, rel=1e-12)


@pytest.mark.xfail(strict=True, raises=(ValueError, scipy.sparse.SparseEfficiencyWarning), reason=(
    "scipy.optimize (1.17) converts every sparse Hessian that hess returns to a "
    "scipy.sparse.csr_array, and trust-ncg then computes H·p as np.dot(H, p), which "
    "treats a sparse array as one object; a csr_matrix subclass does not survive the "
    "conversion, so pass hessp=objective.hessp instead"))
def test_scipy_trust_ncg_hess():
    objective, x0, minimizer, _ = exp_problem()
    result = scipy.optimize.minimize(objective.fun, x0, jac=objective.jac, hess=objective.hess,
                                     method="trust-ncg", options={"gtol": 1e-10})
    assert_allclose(result.x, minimizer, rtol=1e-7, atol=1e-7)


def test_scipy_newton_cg_hess():
    objective, x0, minimizer, minimum = exp_problem()
    result = scipy.optimize.minimize(objective.fun, x0, jac=objective.jac, hess=objective.hess,
                                     method="Newton-CG", options={"xtol": 1e-12})
    assert result.success, result.message
    assert_allclose(result.x, minimizer, rtol=1e-7, atol=1e-7)
    assert result.fun == pytest.approx(minimum, rel=1e-12)


def test_scipy_trust_constr_hess():
    objective, x0, minimizer, minimum = exp_problem()
    result = scipy.optimize.minimize(objective.fun, x0, jac=objective.jac, hess=objective.hess,
                                     method="trust-constr", options={"gtol": 1e-10, "xtol": 1e-14})
    assert result.success, result.message
    assert_allclose(result.x, minimizer, rtol=1e-7, atol=1e-7)
    assert result.fun == pytest.approx(minimum, rel=1e-12)


def test_scipy_newton_cg_hessp():
    objective, x0, minimizer = spring_problem()
    # At xtol = 1e-12 the line search works at the rounding level of f and may stop
    # with scipy's precision-loss warning at the minimum; 1e-9 is still far inside
    # the tolerance checked below.
    result = scipy.optimize.minimize(objective.fun, x0.reshape(-1), jac=objective.jac, hessp=objective.hessp,
                                     method="Newton-CG", options={"xtol": 1e-9})
    assert result.success, result.message
    assert_allclose(result.x, minimizer.reshape(-1), rtol=1e-7, atol=1e-7)


def test_scipy_callables_match_objective():
    objective, x0, _ = spring_problem()
    x = x0.reshape(-1)
    v = np.random.default_rng(4).standard_normal(x.shape)
    value, gradient, H = objective.value_gradient_hessian(x)
    assert objective.fun(x) == value
    assert objective.jac(x).shape == x.shape
    assert_array_equal(objective.jac(x), gradient)
    assert_array_equal(objective.hess(x).toarray(), H.toarray())
    assert_allclose(objective.hessp(x, v), H @ v, rtol=1e-14)


def test_newton_unprojected_uses_regularization():
    # Without projection the Hessian of the chained Rosenbrock function is
    # indefinite along the way, so the Cholesky factorization needs H + τI. The
    # run ends at a local minimum (the function has one near x₀ = −1 besides x = 1).
    objective, x0 = rosenbrock_problem()
    result = dt.minimize(objective, x0, projection=None, maxiter=200)
    assert result.success, result.message
    assert max(result.history["regularization"]) > 0.0
    assert np.linalg.norm(result.grad) < 1e-4
    assert np.linalg.eigvalsh(objective.hessian(result.x).toarray()).min() > 0.0
    assert_monotone(result.history)


def test_newton_zero_iterations_returns_start():
    objective, x0 = rosenbrock_problem()
    result = dt.minimize(objective, x0, maxiter=0)
    assert result.status == dt.Status.MAX_ITERATIONS
    assert result.nit == 0
    assert_array_equal(result.x, x0)
    assert result.fun == objective.value(x0)


def test_newton_infinite_start_is_reported():
    # A start with an inverted triangle has energy +inf: the run must stop at once
    # and say so, not return it as a minimum.
    vertices, faces = grid_mesh(2, 2)
    energy = dt.energies.symmetric_dirichlet(vertices, faces)
    x0 = vertices.copy()
    x0[4] = [5.0, 5.0]
    assert energy.value(x0) == np.inf
    result = dt.minimize(energy, x0)
    assert result.status == dt.Status.NON_FINITE
    assert not result.success
    assert "not finite" in result.message
