"""Tests of the examples backprop_graph and forward_vs_reverse."""

import math
import shutil

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from dualtape.examples import backprop_graph, forward_vs_reverse  # noqa: E402


def test_backprop_graph_matches_closed_form(tmp_path, capsys):
    numbers = backprop_graph.main(["-o", str(tmp_path)])
    sigma = 1 / (1 + math.exp(-1.0))
    assert numbers["value"] == pytest.approx(sigma, rel=1e-15)
    local = sigma * (1 - sigma)
    # ∂f/∂(w0, w1, w2, x0, x1) = σ'(z)·(x0, x1, 1, w0, w1) with z = 1
    np.testing.assert_allclose(numbers["closed_form"], local * np.array([-1.0, -2.0, 1.0, 2.0, -3.0]),
                               rtol=1e-15)
    assert numbers["tape_error"] <= 1e-15
    assert numbers["eager_error"] <= 1e-15
    assert "closed form" in capsys.readouterr().out


def test_backprop_graph_writes_dot_with_adjoints(tmp_path):
    numbers = backprop_graph.main(["-o", str(tmp_path)])
    with open(numbers["dot"], encoding="utf-8") as file:
        text = file.read()
    assert text.startswith("digraph tape {")
    assert "w0\\nvalue = 2\\nadjoint = -0.1966" in text
    assert "value = 0.7311\\nadjoint = 1\\noutput" in text


def test_backprop_graph_without_dot(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    numbers = backprop_graph.main(["-o", str(tmp_path)])
    assert numbers["png"] is None
    assert "not installed" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_backprop_graph_writes_png(tmp_path):
    numbers = backprop_graph.main(["-o", str(tmp_path)])
    with open(numbers["png"], "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"


def test_forward_vs_reverse_small_sweep(tmp_path, capsys):
    numbers = forward_vs_reverse.main(["-o", str(tmp_path), "--sizes", "2", "4", "8",
                                       "--fixed", "4", "--repeats", "1"])
    assert numbers["sizes"] == [2, 4, 8]
    for key in ("vary_n", "vary_m"):
        assert numbers[key]["forward"].shape == (3,)
        assert numbers[key]["reverse"].shape == (3,)
        assert np.all(numbers[key]["forward"] > 0)
    assert numbers["max_difference"] <= 1e-14
    with open(numbers["png"], "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "crossing" in capsys.readouterr().out


def test_forward_vs_reverse_crossing_interpolation():
    # forward/reverse = size / 4 crosses 1 at size 4 exactly
    sizes = [1, 2, 8, 16]
    assert forward_vs_reverse.crossing(sizes, [s / 4 for s in sizes], [1.0] * 4) == pytest.approx(4.0)
    assert forward_vs_reverse.crossing(sizes, [1.0] * 4, [2.0] * 4) is None


def test_forward_vs_reverse_rejects_bad_sizes(tmp_path):
    with pytest.raises(SystemExit):
        forward_vs_reverse.main(["-o", str(tmp_path), "--sizes", "0", "4"])
