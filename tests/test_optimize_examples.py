"""The optimization examples run, write their PNG and print the numbers they promise."""

import math

import numpy as np
import pytest

from dualtape.optimize import Status

pytest.importorskip("matplotlib")


def test_optimizer_paths_iterations(tmp_path):
    from dualtape.examples import optimizer_paths

    iterations = optimizer_paths.main(["-o", str(tmp_path)])

    assert (tmp_path / "optimizer_paths.png").stat().st_size > 0
    assert set(iterations) == {"gd", "momentum", "nesterov", "rmsprop", "adam", "newton", "lbfgs"}
    assert all(count is not None for count in iterations.values()), iterations
    assert iterations["newton"] <= 30
    assert iterations["lbfgs"] <= 50
    assert iterations["gd"] > 50 * iterations["lbfgs"]


def test_step_size_table(tmp_path):
    from dualtape.examples import step_size

    table = step_size.main(["-o", str(tmp_path)])

    assert (tmp_path / "step_size.png").stat().st_size > 0
    for kappa in (10.0, 100.0):
        assert table[kappa]["step 3/L (too large)"][1] == Status.NON_FINITE
        assert table[kappa]["Armijo line search"][1] > 0
        assert table[kappa]["step 2/(L+mu) (best fixed)"][1] > 0
    best_10 = table[10.0]["step 2/(L+mu) (best fixed)"][0]
    best_100 = table[100.0]["step 2/(L+mu) (best fixed)"][0]
    # Iterations of the best fixed step grow like κ: expect a factor near 10.
    assert 5 < best_100 / best_10 < 20
    assert table[100.0]["Armijo line search"][0] > 5 * table[10.0]["Armijo line search"][0]
    assert table[100.0]["step 0.1/L (too small)"][1] == Status.MAX_ITERATIONS


def test_linear_regression_fits(tmp_path):
    from dualtape.examples import linear_regression

    numbers = linear_regression.main(["-o", str(tmp_path)])

    assert (tmp_path / "linear_regression.png").stat().st_size > 0
    assert numbers["gd_error"] < 1e-6
    assert numbers["sgd_error"] < 0.05
    assert np.allclose(numbers["exact"], [-1.0, 2.5], atol=0.3)


def test_logistic_regression_accuracy(tmp_path):
    pytest.importorskip("sklearn")
    from dualtape.examples import logistic_regression

    numbers = logistic_regression.main(["-o", str(tmp_path)])

    assert (tmp_path / "logistic_regression.png").stat().st_size > 0
    for method in ("sgd", "adam", "newton"):
        loss, accuracy = numbers[method]
        assert accuracy > 0.93, (method, accuracy)
        assert loss < 0.1, (method, loss)
    assert numbers["newton"][0] <= min(numbers["sgd"][0], numbers["adam"][0])


def test_dido_regular_polygon(tmp_path):
    from dualtape.examples import dido

    numbers = dido.main(["-o", str(tmp_path), "--vertices", "8"])

    assert (tmp_path / "dido.png").stat().st_size > 0
    assert numbers["success"]
    assert numbers["relative_area_error"] < 1e-8
    assert numbers["side_spread"] < 1e-4
    assert numbers["multiplier"] == pytest.approx(numbers["expected_multiplier"], rel=1e-6)
    assert numbers["regular_area"] == pytest.approx(1.0 / (32 * math.tan(math.pi / 8)))
