"""Circle fit to noisy points by Levenberg-Marquardt (geometric distance).

Data: n = 60 points on an arc of 240° of the circle with center (1.5, −0.5) and
radius 2, with Gaussian noise of standard deviation 0.1 in both coordinates
(seeded). Each point is one residual element: the signed distance of the point to
the circle,

    r_i(c_x, c_y, R) = √((x_i − c_x)² + (y_i − c_y)²) − R,

with the variable block (c_x, c_y, R). The start is the algebraic (Kåsa) fit, which
minimizes Σ (‖p_i − c‖² − R²)² by one linear solve and is biased on a partial arc;
Levenberg-Marquardt then minimizes ½‖r‖², the geometric fit. Writes
``circle_fit.png`` with both circles and the convergence of the cost.

Run: ``python -m dualtape.examples.circle_fit [-o DIR]``
"""

from __future__ import annotations


import numpy as np

import dualtape as dt
from dualtape.examples._output import make_parser, new_figure, output_path, plot_cost_history, write_plot

TRUE_CIRCLE = np.array([1.5, -0.5, 2.0])


def make_points(n=60, noise=0.1, seed=1):
    rng = np.random.default_rng(seed)
    angles = rng.uniform(0.0, np.deg2rad(240.0), n)
    points = TRUE_CIRCLE[:2] + TRUE_CIRCLE[2] * np.column_stack([np.cos(angles), np.sin(angles)])
    return points + noise * rng.standard_normal(points.shape)


def algebraic_fit(points):
    """Return (c_x, c_y, R) of the Kåsa fit: x² + y² = 2 c·p + (R² − ‖c‖²), linear in its unknowns."""
    A = np.column_stack([2.0 * points, np.ones(len(points))])
    b = np.sum(points ** 2, axis=1)
    (cx, cy, k), *_ = np.linalg.lstsq(A, b, rcond=None)
    return np.array([cx, cy, np.sqrt(k + cx ** 2 + cy ** 2)])


def circle_residuals(points) -> dt.Residuals:
    """Build r_i = ‖p_i − c‖ − R: one element per point, the block (c_x, c_y, R)."""

    def residual(block, p):
        cx, cy, radius = block[0]
        return [dt.hypot(p[0] - cx, p[1] - cy) - radius]

    return dt.Residuals(residual, np.zeros((len(points), 1), dtype=int), dim=3, params=points)


def plot(points, start, fit, costs):
    figure = new_figure((10, 4.5))
    left = figure.add_subplot(1, 2, 1)
    left.plot(points[:, 0], points[:, 1], ".", color="0.4", label="points")
    angles = np.linspace(0, 2 * np.pi, 200)
    for circle, style, label in ((TRUE_CIRCLE, ":", "true"), (start, "--", "algebraic (start)"),
                                 (fit, "-", "geometric (LM)")):
        left.plot(circle[0] + circle[2] * np.cos(angles), circle[1] + circle[2] * np.sin(angles), style, label=label)
    left.set_aspect("equal")
    left.set_title("Circle fit")
    left.legend(fontsize=8)
    plot_cost_history(figure.add_subplot(1, 2, 2), costs)
    figure.tight_layout()
    return figure


def main(argv=None):
    """Run the example; return the start, the fit, its error against the true circle and the counts."""
    parser = make_parser("circle_fit", __doc__, "circle_fit.png")
    parser.add_argument("-n", "--points", type=int, default=60, help="number of points (default: 60)")
    args = parser.parse_args(argv)

    points = make_points(args.points)
    start = algebraic_fit(points)
    resid = circle_residuals(points)
    result = dt.least_squares(resid, start, gtol=1e-12)
    numbers = {
        "start": start,
        "fit": result.x,
        "start_error": float(np.max(np.abs(start - TRUE_CIRCLE))),
        "fit_error": float(np.max(np.abs(result.x - TRUE_CIRCLE))),
        "start_cost": resid.cost(start),
        "cost": result.cost,
        "iterations": result.nit,
        "success": result.success,
    }
    print(f"algebraic fit  (cx, cy, R) = {np.round(start, 5)}, cost {numbers['start_cost']:.6f}")
    print(f"geometric fit  (cx, cy, R) = {np.round(result.x, 5)}, cost {result.cost:.6f}, "
          f"{result.nit} iterations: {result.message}")

    costs = list(result.history["cost"]) + [result.cost]
    write_plot(output_path(args.output_dir, "circle_fit.png"), plot, points, start, result.x, costs)
    return numbers


if __name__ == "__main__":
    main()
