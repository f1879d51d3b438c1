"""Dido's problem: the polygon of N vertices and perimeter P with the largest area.

The variables are the N vertices v_i = (x_i, y_i), counterclockwise. The area
(shoelace formula) and the perimeter are

    A(v) = ½ Σ_i (x_i y_{i+1} − x_{i+1} y_i),    P(v) = Σ_i ‖v_{i+1} − v_i‖,

with indices mod N. The example minimizes −A subject to the equality P(v) − P = 0
by the augmented Lagrangian method (L-BFGS inside), from a perturbed ellipse
(seeded). The maximizer is the regular N-gon, of area P² / (4 N tan(π/N)). The
multiplier is λ = dA*/dP = P / (2 N tan(π/N)). The example prints the relative area
error, the spread of the side lengths and λ, and writes ``dido.png``.

Run: ``python -m dualtape.examples.dido [-o DIR] [--vertices N]``
"""

from __future__ import annotations

import math

import numpy as np

from dualtape.optimize import Equality, Problem, run
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

PERIMETER = 1.0


def negative_area(v):
    x, y = v[:, 0], v[:, 1]
    return -0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def negative_area_gradient(v):
    # ∂A/∂x_i = ½ (y_{i+1} − y_{i−1}),  ∂A/∂y_i = ½ (x_{i−1} − x_{i+1}).
    x, y = v[:, 0], v[:, 1]
    gradient = np.column_stack([np.roll(y, -1) - np.roll(y, 1), np.roll(x, 1) - np.roll(x, -1)])
    return -0.5 * gradient


def perimeter_residual(v):
    edges = np.roll(v, -1, axis=0) - v
    return float(np.sum(np.linalg.norm(edges, axis=1))) - PERIMETER


def perimeter_gradient(v):
    # Edge e_i = v_{i+1} − v_i with unit vector u_i: ∂P/∂v_i = u_{i−1} − u_i.
    edges = np.roll(v, -1, axis=0) - v
    units = edges / np.linalg.norm(edges, axis=1, keepdims=True)
    return np.roll(units, 1, axis=0) - units


def start_polygon(n_vertices, seed=0):
    """Return a counterclockwise, perturbed ellipse of about the right size."""
    rng = np.random.default_rng(seed)
    angles = np.sort(2 * np.pi * (np.arange(n_vertices) + 0.3 * rng.uniform(-1, 1, n_vertices))
                     / n_vertices)
    radius = PERIMETER / (2 * np.pi)
    return np.column_stack([1.6 * radius * np.cos(angles), 0.6 * radius * np.sin(angles)])


def regular_polygon_area(n_vertices):
    return PERIMETER ** 2 / (4 * n_vertices * math.tan(math.pi / n_vertices))


def plot(start, result):
    figure = new_figure((6, 6))
    axes = figure.add_subplot()
    for polygon, style, label in ((start, "o--", "start"), (result, "o-", "augmented Lagrangian")):
        closed = np.vstack([polygon, polygon[:1]])
        axes.plot(closed[:, 0], closed[:, 1], style, label=label)
    center = result.mean(axis=0)
    radius = np.mean(np.linalg.norm(result - center, axis=1))
    circle = np.linspace(0, 2 * np.pi, 200)
    axes.plot(center[0] + radius * np.cos(circle), center[1] + radius * np.sin(circle), ":",
              color="0.5", label="circumscribed circle")
    axes.set_aspect("equal")
    axes.set_title(f"Dido's problem, N = {len(result)}, perimeter {PERIMETER:g}")
    axes.legend(fontsize=8)
    return figure


def main(argv=None):
    """Run the example; return the area error, side-length spread and multiplier."""
    parser = make_parser("dido", __doc__, "dido.png")
    parser.add_argument("--vertices", type=int, default=12, help="number of vertices N (default: 12)")
    args = parser.parse_args(argv)
    if args.vertices < 3:
        parser.error(f"--vertices must be at least 3, got {args.vertices}")

    start = start_polygon(args.vertices)
    problem = Problem.from_function(negative_area, start, grad=negative_area_gradient)
    constraint = Equality(perimeter_residual, jac=perimeter_gradient)
    result = run("augmented-lagrangian", problem, constraints=[constraint],
                 options={"gtol": 1e-8, "ctol": 1e-10})

    polygon = result.x
    area = -negative_area(polygon)
    best = regular_polygon_area(args.vertices)
    sides = np.linalg.norm(np.roll(polygon, -1, axis=0) - polygon, axis=1)
    expected_multiplier = PERIMETER / (2 * args.vertices * math.tan(math.pi / args.vertices))
    numbers = {
        "area": area,
        "regular_area": best,
        "relative_area_error": abs(area - best) / best,
        "side_spread": float((sides.max() - sides.min()) / sides.mean()),
        "perimeter_error": abs(perimeter_residual(polygon)),
        "multiplier": result.multipliers[0],
        "expected_multiplier": expected_multiplier,
        "success": result.success,
    }

    print(f"N = {args.vertices}, perimeter {PERIMETER:g}: {result.message}")
    print(f"area {area:.12f}, regular {args.vertices}-gon {best:.12f}, "
          f"relative error {numbers['relative_area_error']:.3e}")
    print(f"side lengths: (max - min) / mean = {numbers['side_spread']:.3e}; "
          f"perimeter error {numbers['perimeter_error']:.3e}")
    print(f"multiplier {numbers['multiplier']:.10f}, expected dA/dP = {expected_multiplier:.10f}")

    write_plot(output_path(args.output_dir, "dido.png"), plot, start, polygon)
    return numbers


if __name__ == "__main__":
    main()
