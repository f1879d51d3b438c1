"""The Problem protocol: free/fixed variables, output checks, objectives, mini-batches."""

import numpy as np
import pytest
import scipy.sparse as sp

from dualtape.optimize import Problem, run


def quadratic(x):
    return 0.5 * float(np.sum((x - 1.0) ** 2))


def quadratic_grad(x):
    return x - 1.0


class FakeObjective:
    """An Objective stand-in: f(x) = Σ_e ½‖x_{i_e} − t_e‖² over edges of a 2-D x."""

    def __init__(self, n_vertices=5, dim=2, seed=0):
        rng = np.random.default_rng(seed)
        self.dim = dim
        self.targets = rng.normal(size=(n_vertices, dim))
        self.n_elements = n_vertices
        self.batches = []

    def _terms(self, x, indices):
        x = np.asarray(x).reshape(-1, self.dim)
        residual = x[indices] - self.targets[indices]
        gradient = np.zeros_like(x)
        gradient[indices] = residual
        return 0.5 * float(np.sum(residual ** 2)), gradient

    def value(self, x):
        return self.value_and_gradient(x)[0]

    def value_and_gradient(self, x):
        f, g = self._terms(x, np.arange(self.n_elements))
        return f, g.reshape(np.shape(x))

    def value_and_gradient_batch(self, x, element_indices):
        self.batches.append(np.array(element_indices))
        f, g = self._terms(x, element_indices)
        return f, g.reshape(np.shape(x))

    def hessian(self, x):
        return sp.identity(np.size(x), format="csr")


# -- free and fixed variables --------------------------------------------------------

def test_fixed_mask_keeps_values():
    x0 = np.array([5.0, 6.0, 7.0, 8.0])
    problem = Problem.from_function(quadratic, x0, grad=quadratic_grad,
                                    fixed=np.array([True, False, False, True]))

    result = run("lbfgs", problem)

    assert problem.n == 2
    assert np.allclose(result.x, [5.0, 1.0, 1.0, 8.0])
    assert result.grad[0] == 0.0
    assert result.grad[3] == 0.0


def test_fixed_flat_indices():
    problem = Problem.from_function(quadratic, [5.0, 6.0, 7.0], grad=quadratic_grad, fixed=[1])

    result = run("gd", problem)

    assert np.allclose(result.x, [1.0, 6.0, 1.0])


def test_fixed_values_taken_from_run_x0():
    problem = Problem.from_function(quadratic, [5.0, 6.0, 7.0], grad=quadratic_grad, fixed=[1])

    result = run("lbfgs", problem, x0=[0.0, -3.0, 0.0])

    assert np.allclose(result.x, [1.0, -3.0, 1.0])


def test_objective_fixed_blocks_of_2d_x():
    objective = FakeObjective()
    x0 = np.zeros((5, 2))

    result = run("lbfgs", Problem.from_objective(objective, x0, fixed=np.array([0, 3])))

    assert result.x.shape == (5, 2)
    assert np.array_equal(result.x[[0, 3]], np.zeros((2, 2)))
    assert np.allclose(result.x[[1, 2, 4]], objective.targets[[1, 2, 4]], atol=1e-6)


def test_objective_fixed_blocks_of_flat_x_use_dim():
    objective = FakeObjective()
    x0 = np.zeros(10)

    result = run("lbfgs", Problem.from_objective(objective, x0, fixed=np.array([4])))

    assert result.x.shape == (10,)
    assert np.array_equal(result.x[8:], [0.0, 0.0])
    assert np.allclose(result.x[:8], objective.targets[:4].ravel(), atol=1e-6)


def test_objective_fixed_boolean_mask():
    objective = FakeObjective()
    mask = np.zeros((5, 2), dtype=bool)
    mask[2, 1] = True

    result = run("newton", Problem.from_objective(objective, np.zeros((5, 2)), fixed=mask))

    assert result.success, result.message
    assert result.x[2, 1] == 0.0
    assert result.x[2, 0] == pytest.approx(objective.targets[2, 0])


def test_objective_minibatches_use_its_scaling():
    objective = FakeObjective(n_vertices=6)
    problem = Problem.from_objective(objective, np.zeros((6, 2)))

    result = run("sgd", problem, options={"batch_size": 2, "epochs": 200, "lr": 0.05, "seed": 0})

    assert problem.n_elements == 6
    assert result.success, result.message
    assert len(objective.batches) == 3 * len(result.history["epoch_fun"][1:])
    assert np.allclose(result.x, objective.targets, atol=1e-5)


def test_objective_batch_scaled_by_problem():
    objective = FakeObjective(n_vertices=6)
    problem = Problem.from_objective(objective, np.zeros((6, 2)))
    z = np.random.default_rng(1).normal(size=12)

    f_batch, g_batch = problem.value_and_gradient_batch(z, [1, 4])
    f_plain, g_plain = objective.value_and_gradient_batch(z.reshape(6, 2), [1, 4])

    assert f_batch == pytest.approx(3.0 * f_plain)
    assert np.allclose(g_batch, 3.0 * g_plain.ravel())


def test_x_keeps_caller_shape():
    problem = Problem.from_function(lambda x: quadratic(x), np.zeros((2, 3)), grad=quadratic_grad)

    result = run("lbfgs", problem)

    assert result.x.shape == (2, 3)
    assert result.grad.shape == (2, 3)


# -- input validation ----------------------------------------------------------------

@pytest.mark.parametrize("x0, error, match", [
    ([1.0, float("nan")], ValueError, "finite"),
    ([], ValueError, "empty"),
    ([1 + 2j], TypeError, "real"),
    (np.array(["a"]), TypeError, "numeric"),
    (np.array([object()]), TypeError, "object"),
])
def test_invalid_start_rejected(x0, error, match):
    with pytest.raises(error, match=match):
        Problem.from_function(quadratic, x0, grad=quadratic_grad)


def test_function_returning_array_rejected():
    problem = Problem.from_function(lambda x: x, [1.0, 2.0], grad=quadratic_grad)

    with pytest.raises(ValueError, match="scalar"):
        run("gd", problem)


def test_gradient_of_wrong_shape_rejected():
    problem = Problem.from_function(quadratic, [1.0, 2.0], grad=lambda x: np.zeros(3))

    with pytest.raises(ValueError, match=r"gradient of shape \(3,\)"):
        run("gd", problem)


def test_hessian_of_wrong_shape_rejected():
    problem = Problem.from_function(quadratic, [1.0, 2.0], grad=quadratic_grad,
                                    hess=lambda x: np.eye(3))

    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        run("newton", problem)


def test_grad_true_means_value_and_gradient():
    problem = Problem.from_function(lambda x: (quadratic(x), quadratic_grad(x)), [3.0], grad=True)

    result = run("lbfgs", problem)

    assert result.x[0] == pytest.approx(1.0)


@pytest.mark.parametrize("fixed, error, match", [
    ([5], IndexError, "out of range"),
    ([-1], IndexError, "out of range"),
    ([0.5], TypeError, "integer"),
    (np.array([True, False]), ValueError, "shape"),
    ([0, 1, 2], ValueError, "every variable is fixed"),
])
def test_invalid_fixed_rejected(fixed, error, match):
    with pytest.raises(error, match=match):
        Problem.from_function(quadratic, [1.0, 2.0, 3.0], grad=quadratic_grad, fixed=fixed)


def test_run_x0_of_wrong_size_rejected():
    problem = Problem.from_function(quadratic, [1.0, 2.0], grad=quadratic_grad)

    with pytest.raises(ValueError, match="x0 has 3 entries"):
        run("gd", problem, x0=[1.0, 2.0, 3.0])


def test_missing_gradient_uses_automatic_differentiation():
    problem = Problem.from_function(lambda x: 0.5 * ((x[0] - 1.0) ** 2 + (x[1] - 1.0) ** 2), [3.0, -2.0])

    f, g = problem.value_and_gradient(problem.x0)

    assert f == 6.5
    np.testing.assert_allclose(g, [2.0, -3.0], rtol=0, atol=1e-15)


def test_batch_indices_validated():
    problem = Problem.from_objective(FakeObjective(), np.zeros((5, 2)))

    with pytest.raises(IndexError, match="out of range"):
        problem.value_and_gradient_batch(problem.x0, [0, 5])
    with pytest.raises(ValueError, match="non-empty"):
        problem.value_and_gradient_batch(problem.x0, [])


def test_from_sum_rejects_bad_element_count():
    with pytest.raises(ValueError, match="n_elements"):
        Problem.from_sum(lambda x, i: (0.0, x), 0, [1.0])


def test_plain_function_has_no_batches():
    problem = Problem.from_function(quadratic, [1.0], grad=quadratic_grad)

    with pytest.raises(ValueError, match="not made of elements"):
        problem.value_and_gradient_batch(problem.x0, [0])


def test_counts_reset_per_run():
    problem = Problem.from_function(quadratic, [3.0, 4.0], grad=quadratic_grad)

    first = run("lbfgs", problem)
    second = run("lbfgs", problem)

    assert first.nfev == second.nfev
    assert problem.nfev == 0


def test_real_objective_minibatches_and_fixed_vertex():
    import dualtape as dt

    if not hasattr(dt, "ElementEnergy"):
        pytest.skip("this build has no dualtape.ElementEnergy")

    def spring(x, p):
        d = x[1] - x[0]
        return (dt.sqrt(d[0] * d[0] + d[1] * d[1]) - 1.0) ** 2

    edges = np.array([[i, i + 1] for i in range(9)])
    objective = dt.Objective([dt.ElementEnergy(spring, edges, 2)])
    rng = np.random.default_rng(0)
    x0 = np.column_stack([np.arange(10) * 0.7, rng.normal(size=10) * 0.1])
    problem = Problem.from_objective(objective, x0, fixed=np.array([0]))

    result = run("adam", problem, options={"lr": 1e-2, "batch_size": 3, "epochs": 300, "seed": 0})

    lengths = np.linalg.norm(np.diff(result.x, axis=0), axis=1)
    assert result.success, result.message
    assert np.allclose(lengths, 1.0, atol=1e-5)
    assert np.array_equal(result.x[0], x0[0])
    assert problem.n_elements == 9
