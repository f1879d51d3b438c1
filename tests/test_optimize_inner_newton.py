"""Newton on plain functions with tape Hessians, and inside the augmented Lagrangian."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import dualtape as dt


def test_newton_plain_function_uses_tape_hessian():
    result = dt.minimize(lambda x: (x[0] - 1.0) ** 4 + (x[0] * x[1] - 2.0) ** 2,
                         np.array([0.5, 0.5]), method="newton")
    assert result.success, result.message
    assert_allclose(result.x, [1.0, 2.0], atol=2e-3)


def test_augmented_lagrangian_inner_newton_circle():
    result = dt.minimize(lambda x: x[0], np.array([0.5, -0.5]), method="augmented-lagrangian",
                         constraints=[dt.Equality(lambda x: x[0] ** 2 + x[1] ** 2 - 1.0)],
                         inner_method="newton")
    assert result.success, result.message
    assert_allclose(result.x, [-1.0, 0.0], atol=1e-7)
    assert result.extra["multipliers"][0] == pytest.approx(0.5, abs=1e-6)


def test_augmented_lagrangian_inner_newton_inequality():
    result = dt.minimize(lambda x: x @ x, np.array([2.0, 1.0]), method="augmented-lagrangian",
                         constraints=[dt.Inequality(lambda x: 1.0 - x[0])], inner_method="newton")
    assert result.success, result.message
    assert_allclose(result.x, [1.0, 0.0], atol=1e-7)


def test_augmented_lagrangian_inner_newton_residual_constraint():
    targets = np.array([[3.0, 0.0], [0.0, -2.0]])
    circle = dt.Residuals(lambda x: [x[0, 0] ** 2 + x[0, 1] ** 2 - 1.0], np.arange(2).reshape(-1, 1), 2)

    def distance(x):
        return 0.5 * np.sum((x - targets.reshape(-1)) ** 2)

    result = dt.minimize(distance, np.tile([0.6, 0.8], 2), method="augmented-lagrangian",
                         constraints=[dt.Equality(circle)], inner_method="newton")
    assert result.success, result.message
    assert_allclose(result.x.reshape(2, 2), [[1.0, 0.0], [0.0, -1.0]], atol=1e-6)
