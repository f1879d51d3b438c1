"""Tests of computation-graph output: Tape.to_dot and Tape.render."""

import math
import re
import shutil

import numpy as np
import pytest

import dualtape as dt


def neuron(v):
    w0, w1, w2, x0, x1 = v
    return 1 / (1 + dt.exp(-(w0 * x0 + w1 * x1 + w2)))


POINT = np.array([2.0, -3.0, -3.0, -1.0, -2.0])
NAMES = ["w0", "w1", "w2", "x0", "x1"]


def node_lines(text):
    return [line for line in text.splitlines() if re.match(r"\s+s\d+ \[label=", line)]


def edge_lines(text):
    return [line for line in text.splitlines() if "->" in line]


def test_to_dot_one_node_per_instruction():
    tape = dt.trace(neuron, 5)
    text = tape.to_dot()
    assert text.startswith("digraph tape {")
    assert text.rstrip().endswith("}")
    assert len(node_lines(text)) == tape._core.size


def test_to_dot_edges_follow_arguments():
    tape = dt.trace(neuron, 5)
    ops, a, b, c, _ = tape._core.code
    names = list(dt._core.OP_NAMES)
    expected = set()
    for i, code in enumerate(ops):
        name = names[int(code)]
        arity = 0 if name in ("Input", "Param", "Const") else (2 if name in ("Add", "Mul", "Div", "Sub") else 1)
        for position in range(arity):
            expected.add((int((a, b, c)[position][i]), i))
    text = tape.to_dot()
    found = {tuple(int(s) for s in re.findall(r"s(\d+)", line)) for line in edge_lines(text)}
    assert found == expected
    assert len(edge_lines(text)) == len(expected)


def test_to_dot_labels_operations_and_constants():
    tape = dt.trace(lambda x: 2.5 * dt.exp(x[0]) - x[1] ** 3, 2)
    text = tape.to_dot()
    assert '"exp"' in text
    assert '"2.5"' in text
    assert '"pow 3"' in text
    assert '[label="a"]' in text and '[label="b"]' in text
    assert "x[0]" in text and "x[1]" in text


def test_to_dot_values_and_adjoints_at_point():
    tape = dt.trace(neuron, 5)
    text = tape.to_dot(POINT, input_names=NAMES)
    z = 2.0 * -1.0 + -3.0 * -2.0 - 3.0
    sigma = 1 / (1 + math.exp(-z))
    local = sigma * (1 - sigma)
    gradient = local * np.array([-1.0, -2.0, 1.0, 2.0, -3.0])
    for name, value, adjoint in zip(NAMES, POINT, gradient):
        assert f'{name}\\nvalue = {value:.4g}\\nadjoint = {adjoint:.4g}' in text
    assert f"value = {sigma:.4g}\\nadjoint = 1\\noutput" in text


def test_to_dot_marks_each_output():
    tape = dt.trace(lambda x: np.array([x[0] * x[1], x[0] + x[1]]), 2)
    text = tape.to_dot([1.0, 2.0], w=[1.0, 0.0])
    assert "output 0" in text and "output 1" in text
    assert "x[0]\\nvalue = 1\\nadjoint = 2" in text


def test_to_dot_where_edges_named():
    tape = dt.trace(lambda x: dt.where(x[0] > 0, x[0], -x[0]), 1)
    text = tape.to_dot()
    for label in ("if true", "if false", "condition"):
        assert f'[label="{label}"]' in text


def test_to_dot_escapes_names():
    tape = dt.trace(lambda x: x[0] * 2, 1)
    text = tape.to_dot(input_names=['say "hi"\\'])
    assert 'say \\"hi\\"\\\\' in text


def test_to_dot_bad_arguments():
    tape = dt.trace(neuron, 5)
    with pytest.raises(ValueError, match="x must have 5 entries"):
        tape.to_dot(np.ones(3))
    with pytest.raises(ValueError, match="NaN or inf"):
        tape.to_dot(np.array([1.0, np.nan, 0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="input_names must be a sequence of 5 names"):
        tape.to_dot(input_names=["a", "b"])
    with pytest.raises(ValueError, match="w must have 1 entries"):
        tape.to_dot(POINT, w=[1.0, 2.0])


def test_render_without_dot_names_program(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    tape = dt.trace(neuron, 5)
    with pytest.raises(RuntimeError, match=r"`dot`.*apt-get install graphviz"):
        tape.render(tmp_path / "graph.svg", POINT)
    assert not (tmp_path / "graph.svg").exists()


def test_render_rejects_unknown_suffix(tmp_path):
    tape = dt.trace(neuron, 5)
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.pdf"):
        tape.render(tmp_path / "graph.jpeg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_writes_svg_and_png(tmp_path):
    tape = dt.trace(neuron, 5)
    svg = tape.render(tmp_path / "graph.svg", POINT, input_names=NAMES)
    assert "<svg" in svg.read_text()
    png = tape.render(tmp_path / "graph.png", POINT)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tape_gradient_fast_path_checks_input():
    tape = dt.trace(neuron, 5)
    expected = tape.vjp(POINT, [1.0])
    np.testing.assert_array_equal(tape.gradient(POINT), expected)
    np.testing.assert_array_equal(tape.gradient(list(POINT)), expected)
    with pytest.raises(ValueError, match="x must have 5 entries; got 2"):
        tape.gradient(np.ones(2))
    with pytest.raises(ValueError, match="NaN or inf at index 1"):
        tape.gradient(np.array([1.0, np.inf, 0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="NaN or inf at index 2"):
        tape.gradient(np.array([1.0, 0.0, np.nan, 0.0, 0.0]).astype(np.float32))
    with pytest.raises(TypeError, match="real float array; got dtype complex128"):
        tape.gradient(POINT + 0j)
    with pytest.raises(TypeError, match="real float array; got dtype object"):
        tape.gradient(np.array(list(POINT), dtype=object))


def test_tape_gradient_converts_other_layouts():
    tape = dt.trace(neuron, 5)
    expected = tape.vjp(POINT, [1.0])
    strided = np.zeros(10)
    strided[::2] = POINT
    byte_swapped = POINT.astype(">f8")
    unaligned = np.frombuffer(b"\0" + POINT.tobytes(), dtype=np.float64, offset=1)
    assert not unaligned.flags.aligned
    for x in (strided[::2], byte_swapped, unaligned, POINT.astype(np.float32).astype(np.float64),
              POINT.reshape(5, 1), np.round(POINT).astype(np.int64)):
        converted = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
        np.testing.assert_array_equal(tape.gradient(x), tape.vjp(converted, [1.0]))
    np.testing.assert_array_equal(tape.gradient(strided[::2]), expected)
    np.testing.assert_array_equal(tape.gradient(byte_swapped), expected)
    np.testing.assert_array_equal(tape.gradient(unaligned), expected)


def test_tape_gradient_result_is_a_new_array():
    tape = dt.trace(neuron, 5)
    first = tape.gradient(POINT)
    second = tape.gradient(POINT + 1.0)
    assert first is not second
    np.testing.assert_array_equal(first, tape.vjp(POINT, [1.0]))
    vector_tape = dt.trace(lambda x: np.array([x[0], x[1]]), 2)
    with pytest.raises(ValueError, match="tape.jacobian"):
        vector_tape.gradient(np.ones(2))
