"""Line fit by the normal equations, gradient descent and mini-batch SGD.

Data: n = 200 points t_i uniform in [0, 10] and y_i = 2.5 t_i − 1 + noise with
standard deviation 1 (seeded). The model y ≈ w₀ + w₁ t minimizes the mean squared
error

    f(w) = (1 / 2n) Σ_i (w₀ + w₁ t_i − y_i)²  =  (1 / 2n) ‖X w − y‖²,

a sum of n elements, so SGD can draw mini-batches of points. The normal equations
XᵀX w = Xᵀy give the exact minimizer; gradient descent (Armijo line search) should
match it to the gradient tolerance, and SGD (batches of 10, inverse-time decay) to
within its noise. Writes ``linear_regression.png``.

Run: ``python -m dualtape.examples.linear_regression [-o DIR]``
"""

from __future__ import annotations


import numpy as np

from dualtape.optimize import Problem, run
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

N_POINTS = 200
TRUE_W = np.array([-1.0, 2.5])


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, 10.0, size=N_POINTS)
    y = TRUE_W[0] + TRUE_W[1] * t + rng.normal(0.0, 1.0, size=N_POINTS)
    return t, y


def design_matrix(t):
    return np.column_stack([np.ones_like(t), t])


def squared_error_sum(X, y):
    """Return fun(w, indices) -> (Σ_{i ∈ indices} r_i² / 2n, gradient) for Problem.from_sum."""
    n = y.size

    def fun(w, indices):
        residual = X[indices] @ w - y[indices]
        return 0.5 * float(residual @ residual) / n, X[indices].T @ residual / n

    return fun


def plot(t, y, fits, curves):
    figure = new_figure((11, 4.5))
    left = figure.add_subplot(1, 2, 1)
    left.plot(t, y, ".", color="0.6", markersize=4, label="data")
    grid = np.linspace(0.0, 10.0, 2)
    for (label, w), style in zip(fits.items(), ["-", "--", ":"]):
        left.plot(grid, w[0] + w[1] * grid, style, linewidth=2,
                  label=f"{label}: y = {w[1]:.3f} t {w[0]:+.3f}")
    left.set_xlabel("t")
    left.set_ylabel("y")
    left.set_title("Line fit")
    left.legend(fontsize=8)

    right = figure.add_subplot(1, 2, 2)
    for label, (x_axis, values) in curves.items():
        right.semilogy(x_axis, values, label=label)
    right.set_xlabel("iteration (gradient descent), epoch (SGD)")
    right.set_ylabel("f(w) − f(w*)")
    right.set_title("Convergence")
    right.legend(fontsize=8)
    figure.tight_layout()
    return figure


def main(argv=None):
    """Run the example; return the three fits and their distances to the exact one."""
    parser = make_parser("linear_regression", __doc__, "linear_regression.png")
    args = parser.parse_args(argv)

    t, y = make_data()
    X = design_matrix(t)
    exact = np.linalg.solve(X.T @ X, X.T @ y)
    fun = squared_error_sum(X, y)
    problem = Problem.from_sum(fun, N_POINTS, np.zeros(2))
    f_exact = fun(exact, np.arange(N_POINTS))[0]

    gd = run("gd", problem, options={"line_search": "armijo", "gtol": 1e-9, "maxiter": 20000,
                                     "xtol": 0, "ftol": 0})
    sgd = run("sgd", problem, options={"batch_size": 10, "epochs": 100, "lr": 0.04,
                                       "schedule": "inverse-time", "decay_rate": 1.0,
                                       "decay_steps": 2000, "seed": 0})
    fits = {"normal equations": exact, "gradient descent": gd.x, "SGD": sgd.x}
    numbers = {
        "exact": exact,
        "gd": gd.x,
        "sgd": sgd.x,
        "gd_error": float(np.max(np.abs(gd.x - exact))),
        "sgd_error": float(np.max(np.abs(sgd.x - exact))),
        "gd_iterations": gd.nit,
        "sgd_epochs": len(sgd.history["epoch_fun"]) - 1,
    }

    print(f"{'method':<18} {'w0':>10} {'w1':>10} {'max |w - w_exact|':>18}")
    for label, w in fits.items():
        print(f"{label:<18} {w[0]:>10.6f} {w[1]:>10.6f} {np.max(np.abs(w - exact)):>18.3e}")
    print(f"gradient descent: {gd.nit} iterations; SGD: {numbers['sgd_epochs']} epochs of "
          f"{N_POINTS // 10} batches")

    gd_excess = np.maximum(np.array(gd.history["fun"]) - f_exact, 1e-300)
    sgd_excess = np.maximum(np.array(sgd.history["epoch_fun"]) - f_exact, 1e-300)
    curves = {"gradient descent": (np.arange(gd_excess.size), gd_excess),
              "SGD (end of each epoch)": (np.arange(sgd_excess.size), sgd_excess)}

    write_plot(output_path(args.output_dir, "linear_regression.png"), plot, t, y, fits, curves)
    return numbers


if __name__ == "__main__":
    main()
