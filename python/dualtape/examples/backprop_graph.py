"""Reverse mode on a computation graph: one sigmoid neuron, drawn with its adjoints.

The neuron is

    f(w, x) = σ(z) = 1 / (1 + e⁻ᶻ),   z = w₀x₀ + w₁x₁ + w₂,

at w = (2, −3, −3) and x = (−1, −2). The forward sweep computes each node's value
(z = 1, f = σ(1) ≈ 0.7311); the reverse sweep starts from the adjoint 1 at the output
and multiplies by each node's local derivative on the way back, so every node ends
up with ∂f/∂(node). Since σ'(z) = σ(z)(1 − σ(z)), the gradient has the closed form

    ∂f/∂w = σ(z)(1 − σ(z))·(x₀, x₁, 1),   ∂f/∂x = σ(z)(1 − σ(z))·(w₀, w₁),

which the example checks against the tape and against ``dt.grad``. It writes the
graph as ``backprop_graph.dot`` and, when Graphviz's ``dot`` is installed, as
``backprop_graph.png``.

Run: ``python -m dualtape.examples.backprop_graph [-o DIR]``
"""

from __future__ import annotations

import math
import shutil

import numpy as np

import dualtape as dt
from dualtape.examples._output import make_parser, output_path

W = np.array([2.0, -3.0, -3.0])
X = np.array([-1.0, -2.0])
NAMES = ["w0", "w1", "w2", "x0", "x1"]


def neuron(w, x):
    """Evaluate σ(w₀x₀ + w₁x₁ + w₂)."""
    z = w[0] * x[0] + w[1] * x[1] + w[2]
    return 1 / (1 + dt.exp(-z))


def closed_form_gradient(w, x):
    """Return (∂f/∂w, ∂f/∂x) from σ'(z) = σ(z)(1 − σ(z))."""
    z = w[0] * x[0] + w[1] * x[1] + w[2]
    sigma = 1 / (1 + math.exp(-z))
    local = sigma * (1 - sigma)
    return local * np.array([x[0], x[1], 1.0]), local * w[:2]


def main(argv=None):
    """Run the example; return the value, the gradients, their error and the files written."""
    parser = make_parser("backprop_graph", __doc__, "backprop_graph.dot and backprop_graph.png")
    args = parser.parse_args(argv)

    # One tape over all five numbers, so the picture shows the adjoints of w and x.
    tape = dt.trace(lambda v: neuron(v[:3], v[3:]), 5)
    point = np.concatenate([W, X])
    value, tape_gradient = tape.value_and_gradient(point)
    eager_w, eager_x = dt.grad(neuron, argnums=(0, 1))(W, X)
    exact_w, exact_x = closed_form_gradient(W, X)
    exact = np.concatenate([exact_w, exact_x])
    tape_error = float(np.max(np.abs(tape_gradient - exact)))
    eager_error = float(np.max(np.abs(np.concatenate([eager_w, eager_x]) - exact)))

    print(f"f(w, x) = σ(w·x + w₂) at w = {W.tolist()}, x = {X.tolist()}: {value:.6f}")
    print(f"{'':>4} {'tape (reverse)':>16} {'dt.grad':>16} {'closed form':>16} {'abs error':>10}")
    eager = np.concatenate([eager_w, eager_x])
    for name, a, b, c in zip(NAMES, tape_gradient, eager, exact):
        print(f"{name:>4} {a:16.12f} {b:16.12f} {c:16.12f} {max(abs(a - c), abs(b - c)):10.2e}")

    dot_path = output_path(args.output_dir, "backprop_graph.dot")
    with open(dot_path, "w", encoding="utf-8") as file:
        file.write(tape.to_dot(point, input_names=NAMES))
    png_path = None
    if shutil.which("dot") is not None:
        png_path = str(tape.render(output_path(args.output_dir, "backprop_graph.png"), point,
                                   input_names=NAMES))
        print(f"wrote {png_path} and {dot_path}")
    else:
        print(f"wrote {dot_path}; Graphviz's `dot` is not installed, so no PNG was drawn "
              "(apt-get install graphviz, then: dot -Tpng backprop_graph.dot -o backprop_graph.png)")

    return {
        "value": value,
        "gradient": tape_gradient,
        "eager_gradient": eager,
        "closed_form": exact,
        "tape_error": tape_error,
        "eager_error": eager_error,
        "dot": dot_path,
        "png": png_path,
    }


if __name__ == "__main__":
    main()
