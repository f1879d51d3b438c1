"""Paths of seven optimizers on the Rosenbrock function, drawn over its contour plot.

f(x, y) = (1 − x)² + 100 (y − x²)² has its minimum f = 0 at (1, 1) at the end of a
curved, narrow valley. Every method starts at (−1.2, 1). The example counts the
iterations until max(|x − 1|, |y − 1|) ≤ 1e-6 and writes ``optimizer_paths.png``.

Run: ``python -m dualtape.examples.optimizer_paths [-o DIR]``
"""

from __future__ import annotations


import numpy as np

from dualtape.optimize import Problem, run
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

START = (-1.2, 1.0)
MINIMUM = np.array([1.0, 1.0])
TOLERANCE = 1e-6

# Method, options and the plotting label. The first-order learning rates were tuned
# by hand on this function: larger ones diverge or oscillate across the valley.
METHODS = [
    ("gd", {"line_search": "armijo", "maxiter": 20000, "gtol": 0, "xtol": 0, "ftol": 0},
     "gradient descent (Armijo)"),
    ("momentum", {"lr": 1e-3, "momentum": 0.9, "maxiter": 20000, "gtol": 0}, "momentum"),
    ("nesterov", {"lr": 1e-3, "momentum": 0.9, "maxiter": 20000, "gtol": 0}, "Nesterov"),
    ("rmsprop", {"lr": 1e-3, "schedule": "exponential", "decay_rate": 0.5, "decay_steps": 2000,
                 "maxiter": 20000, "gtol": 0}, "RMSProp (exponential decay)"),
    ("adam", {"lr": 1e-2, "maxiter": 20000, "gtol": 0}, "Adam"),
    ("newton", {"gtol": 0, "xtol": 0, "ftol": 0}, "Newton"),
    ("lbfgs", {"gtol": 0, "xtol": 0, "ftol": 0}, "L-BFGS"),
]


def rosenbrock(x):
    return (1.0 - x[0]) ** 2 + 100.0 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_gradient(x):
    return np.array([-2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] ** 2),
                     200.0 * (x[1] - x[0] ** 2)])


def rosenbrock_hessian(x):
    return np.array([[2.0 - 400.0 * (x[1] - 3.0 * x[0] ** 2), -400.0 * x[0]],
                     [-400.0 * x[0], 200.0]])


def trace_method(method, options):
    """Run one method from START; return (path, iterations to TOLERANCE or None, result)."""
    problem = Problem.from_function(rosenbrock, START, grad=rosenbrock_gradient,
                                    hess=rosenbrock_hessian)
    path = []

    def record(state):
        path.append(np.array(state["x"]))
        return np.max(np.abs(state["x"] - MINIMUM)) <= TOLERANCE

    result = run(method, problem, options=options, callback=record)
    reached = np.max(np.abs(path[-1] - MINIMUM)) <= TOLERANCE
    return np.array(path), (len(path) - 1 if reached else None), result


def plot(paths):
    """Draw the paths over log-spaced contours of f and return the figure."""
    figure = new_figure((8, 6))
    axes = figure.add_subplot()
    x, y = np.meshgrid(np.linspace(-1.6, 1.6, 400), np.linspace(-0.6, 2.2, 400))
    levels = np.logspace(-2, 3.5, 20)
    axes.contour(x, y, rosenbrock(np.array([x, y])), levels=levels, colors="0.75", linewidths=0.7)
    for label, path in paths.items():
        axes.plot(path[:, 0], path[:, 1], ".-", markersize=2, linewidth=1, label=label)
    axes.plot(*START, "ks", label="start (-1.2, 1)")
    axes.plot(*MINIMUM, "k*", markersize=12, label="minimum (1, 1)")
    axes.set_xlim(-1.6, 1.6)
    axes.set_ylim(-0.6, 2.2)
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    axes.set_title("Optimizer paths on the Rosenbrock function")
    # Beside the axes: inside, the nine entries would reach down to the paths near the minimum.
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return figure


def main(argv=None):
    """Run the example; return {method: iterations to reach 1e-6 of the minimum, or None}."""
    parser = make_parser("optimizer_paths", __doc__, "optimizer_paths.png")
    args = parser.parse_args(argv)

    iterations = {}
    paths = {}
    print(f"{'method':<30} {'iterations to 1e-6':>18} {'f(x)':>12}")
    for method, options, label in METHODS:
        path, count, result = trace_method(method, options)
        iterations[method] = count
        paths[label] = path
        shown = count if count is not None else f"> {result.nit}"
        print(f"{label:<30} {shown:>18} {result.fun:>12.3e}")

    write_plot(output_path(args.output_dir, "optimizer_paths.png"), plot, paths)
    return iterations


if __name__ == "__main__":
    main()
