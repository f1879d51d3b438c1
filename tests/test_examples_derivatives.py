"""Tests of the examples dual_numbers and derivative_accuracy."""

import math

import matplotlib
import numpy as np

matplotlib.use("Agg")

from dualtape.examples import derivative_accuracy, dual_numbers  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    with open(path, "rb") as file:
        assert file.read(8) == PNG_SIGNATURE


def test_dual_numbers_matches_closed_forms(tmp_path, capsys):
    numbers = dual_numbers.main(["-o", str(tmp_path)])
    assert numbers["polynomial"]["max_error"] == 0.0
    assert numbers["sin_exp"]["max_error"] <= 1e-14
    # p(1.5) = 2·1.5⁴ − 3·1.5³ + 1.5 − 5 = −3.5 and p'(1.5) = 8·1.5³ − 9·1.5² + 1 = 7.75
    assert numbers["steps"] == (-3.5, 7.75)
    np.testing.assert_allclose(numbers["sin_exp"]["values"],
                               [math.sin(x) * math.exp(x) for x in dual_numbers.POINTS],
                               rtol=1e-15)
    assert "p(x) = 2x⁴ − 3x³ + x − 5" in capsys.readouterr().out


def test_dual_numbers_writes_png(tmp_path):
    numbers = dual_numbers.main(["-o", str(tmp_path / "nested")])
    assert numbers["png"] == str(tmp_path / "nested" / "dual_numbers.png")
    assert_png(numbers["png"])


def test_derivative_accuracy_error_curves(tmp_path):
    numbers = derivative_accuracy.main(["-o", str(tmp_path)])
    steps = numbers["steps"]
    # NumPy's power and Python's may differ in the last bit (NumPy 2.4.6 gives
    # 9.999999999999999e-06 for 10.0 ** -5), so compare to one rounding error.
    np.testing.assert_allclose(steps, [10.0 ** -k for k in range(1, 17)], rtol=2 * np.finfo(float).eps)
    assert abs(numbers["exact"] - 4.05342789389862) <= 1e-14

    forward, central, complex_step = numbers["forward"], numbers["central"], numbers["complex"]
    # truncation regime: forward error O(h), central and complex step O(h²)
    assert 5 <= forward[1] / forward[2] <= 20
    assert 50 <= central[1] / central[2] <= 200
    assert 50 <= complex_step[1] / complex_step[2] <= 200
    # rounding regime: the differences lose all digits at h = 1e-16, the complex step none
    assert forward[-1] >= 0.5
    assert central[-1] >= 0.5
    assert np.all(complex_step[7:] <= 1e-15)
    # best steps sit near √ε for forward and ∛ε for central differences
    assert 6 <= int(np.argmin(forward)) + 1 <= 9
    assert 4 <= int(np.argmin(central)) + 1 <= 7
    assert numbers["ad"] <= 1e-15


def test_derivative_accuracy_default_steps(tmp_path):
    numbers = derivative_accuracy.main(["-o", str(tmp_path)])
    defaults = numbers["defaults"]
    assert defaults["forward"] <= 1e-6
    assert defaults["central"] <= 1e-9
    assert defaults["complex"] <= 1e-15
    assert_png(numbers["png"])
