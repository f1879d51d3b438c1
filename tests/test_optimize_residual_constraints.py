"""Per-element constraints given as a dt.Residuals."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import dualtape as dt


def unit_circle_constraints(n_points):
    # One residual per point: |x_i|² − 1 = 0.
    return dt.Residuals(lambda x: [x[0, 0] ** 2 + x[0, 1] ** 2 - 1.0],
                        np.arange(n_points).reshape(-1, 1), 2)


def test_residual_equality_projects_points_onto_circle():
    rng = np.random.default_rng(7)
    targets = rng.normal(size=(5, 2)) * 2.0

    def distance(x):
        return 0.5 * np.sum((x - targets.reshape(-1)) ** 2)

    x0 = np.tile([0.6, 0.8], 5)
    result = dt.minimize(distance, x0, method="augmented-lagrangian",
                         constraints=[dt.Equality(unit_circle_constraints(5))])
    expected = targets / np.linalg.norm(targets, axis=1, keepdims=True)
    assert result.success, result.message
    assert_allclose(result.x.reshape(5, 2), expected, atol=1e-6)


def test_residual_inequality_keeps_points_inside_disk():
    targets = np.array([[3.0, 0.0], [0.2, 0.1]])

    def distance(x):
        return 0.5 * np.sum((x - targets.reshape(-1)) ** 2)

    result = dt.minimize(distance, np.zeros(4), method="augmented-lagrangian",
                         constraints=[dt.Inequality(unit_circle_constraints(2))])
    assert result.success, result.message
    assert_allclose(result.x.reshape(2, 2), [[1.0, 0.0], [0.2, 0.1]], atol=1e-6)


def test_residual_constraint_rejects_jac():
    with pytest.raises(TypeError, match="jac must be None for a dt.Residuals"):
        dt.Equality(unit_circle_constraints(2), jac=lambda x: None)
