"""Line fit by Gauss-Newton, checked against the closed form of linear least squares.

Data: n = 50 points t_i uniform in [0, 10] and y_i = 0.8 t_i + 2 + noise with
standard deviation 0.5 (seeded). The model y ≈ w₀ + w₁ t has one residual element
per point, r_i(w) = w₀ + w₁ t_i − y_i, and the cost ½‖r‖² = ½‖B w − y‖² with the
design matrix B = [1, t]. Its minimizer has the closed form

    w = (BᵀB)⁻¹ Bᵀ y.

The residuals are linear in w, so the Gauss-Newton model is exact and one step from
any start lands on the closed form, up to rounding. A second iteration, if any,
only confirms the gradient test. Writes ``line_fit_gauss_newton.png``.

Run: ``python -m dualtape.examples.line_fit_gauss_newton [-o DIR]``
"""

from __future__ import annotations


import numpy as np

import dualtape as dt
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

TRUE_W = np.array([2.0, 0.8])


def make_data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, 10.0, size=n))
    y = TRUE_W[0] + TRUE_W[1] * t + rng.normal(0.0, 0.5, size=n)
    return t, y


def line_residuals(t, y) -> dt.Residuals:
    """Build r_i(w) = w₀ + w₁ t_i − y_i: one element per point, the block w of size 2."""

    def residual(block, p):
        w = block[0]
        return [w[0] + w[1] * p[0] - p[1]]

    return dt.Residuals(residual, np.zeros((t.size, 1), dtype=int), dim=2, params=np.column_stack([t, y]))


def plot(t, y, w_gauss_newton, w_closed):
    figure = new_figure((6, 4.5))
    axes = figure.add_subplot(1, 1, 1)
    axes.plot(t, y, ".", color="0.5", label="data")
    grid = np.array([t.min(), t.max()])
    axes.plot(grid, w_closed[0] + w_closed[1] * grid, "-", linewidth=3, alpha=0.5,
              label=f"closed form: y = {w_closed[1]:.4f} t + {w_closed[0]:.4f}")
    axes.plot(grid, w_gauss_newton[0] + w_gauss_newton[1] * grid, "--", color="k",
              label=f"Gauss-Newton: y = {w_gauss_newton[1]:.4f} t + {w_gauss_newton[0]:.4f}")
    axes.set_xlabel("t")
    axes.set_ylabel("y")
    axes.set_title("Line fit: Gauss-Newton against (BᵀB)⁻¹Bᵀy")
    axes.legend(fontsize=8)
    figure.tight_layout()
    return figure


def main(argv=None):
    """Run the example; return both fits, their distance and the iteration count."""
    parser = make_parser("line_fit_gauss_newton", __doc__, "line_fit_gauss_newton.png")
    parser.add_argument("-n", "--points", type=int, default=50, help="number of data points (default: 50)")
    args = parser.parse_args(argv)

    t, y = make_data(args.points)
    B = np.column_stack([np.ones_like(t), t])
    w_closed = np.linalg.solve(B.T @ B, B.T @ y)
    result = dt.least_squares(line_residuals(t, y), np.zeros(2), method="gauss-newton", gtol=1e-10)
    numbers = {
        "w_gauss_newton": result.x,
        "w_closed": w_closed,
        "max_difference": float(np.max(np.abs(result.x - w_closed))),
        "iterations": result.nit,
        "cost": result.cost,
        "message": result.message,
    }
    print(f"closed form   w = {w_closed}")
    print(f"Gauss-Newton  w = {result.x} after {result.nit} iterations ({result.message})")
    print(f"max |w_gn - w_closed| = {numbers['max_difference']:.3e}")

    write_plot(output_path(args.output_dir, "line_fit_gauss_newton.png"), plot, t, y, result.x, w_closed)
    return numbers


if __name__ == "__main__":
    main()
