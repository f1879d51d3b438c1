"""Step size and conditioning: gradient descent on f(x) = ½ (x₀² + κ x₁²).

The Hessian diag(1, κ) has condition number κ, with μ = 1 and L = κ its smallest and
largest eigenvalues. A fixed step η converges when η < 2/L, and each coordinate then
shrinks by |1 − η λ| per iteration, so even the best fixed step 2/(L + μ) needs about
(κ/2) log(1/ε) iterations. The example runs, for κ = 10 and 100, a step 0.1/L (too
small), 2/(L + μ) (the best fixed step), 3/L (too large: the iterates grow until f
overflows) and Armijo and strong-Wolfe line searches, and counts the iterations to
max |∇f| ≤ 1e-8. The start (κ, 1) is the worst case of steepest descent with exact
line search: the iterates zig-zag across the valley and the error falls by only
(κ − 1)/(κ + 1) per iteration. It writes ``step_size.png``.

Run: ``python -m dualtape.examples.step_size [-o DIR]``
"""

from __future__ import annotations


import numpy as np

from dualtape.optimize import Problem, Status, run
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

KAPPAS = (10.0, 100.0)
GTOL = 1e-8
MAXITER = 5000


def strategies(kappa):
    """Return (label, gd options) pairs for the Hessian diag(1, kappa)."""
    largest, smallest = kappa, 1.0
    common = {"gtol": GTOL, "maxiter": MAXITER}
    return [
        ("step 0.1/L (too small)", {**common, "line_search": "fixed", "lr": 0.1 / largest}),
        ("step 2/(L+mu) (best fixed)", {**common, "line_search": "fixed",
                                        "lr": 2.0 / (largest + smallest)}),
        ("step 3/L (too large)", {**common, "line_search": "fixed", "lr": 3.0 / largest}),
        ("Armijo line search", {**common, "line_search": "armijo", "xtol": 0, "ftol": 0}),
        ("strong Wolfe line search", {**common, "line_search": "wolfe", "xtol": 0, "ftol": 0}),
    ]


def quadratic_problem(kappa):
    scales = np.array([1.0, kappa])
    return Problem.from_function(lambda x: 0.5 * float(scales @ (x * x)), [kappa, 1.0],
                                 grad=lambda x: scales * x)


def plot(curves):
    """Plot f against the iteration for each κ and strategy and return the figure."""
    figure = new_figure((11, 4.5))
    for index, kappa in enumerate(KAPPAS):
        axes = figure.add_subplot(1, len(KAPPAS), index + 1)
        for label, values in curves[kappa].items():
            values = np.asarray(values, dtype=float)
            # Diverging runs are drawn until f leaves the axes.
            inside = np.isfinite(values) & (values > 0) & (values < 1e12)
            shown = values[:np.argmin(inside) if not inside.all() else values.size]
            axes.semilogy(shown, label=label)
        axes.set_ylim(1e-20, 1e10)
        axes.set_xlabel("iteration")
        axes.set_ylabel("f(x)")
        axes.set_title(f"condition number κ = {kappa:g}")
        axes.legend(fontsize=7)
    figure.tight_layout()
    return figure


def main(argv=None):
    """Run the example; return {κ: {label: (iterations, status)}}."""
    parser = make_parser("step_size", __doc__, "step_size.png")
    args = parser.parse_args(argv)

    table = {}
    curves = {}
    print(f"{'kappa':>6}  {'strategy':<28} {'iterations':>10}  outcome")
    for kappa in KAPPAS:
        table[kappa] = {}
        curves[kappa] = {}
        for label, options in strategies(kappa):
            result = run("gd", quadratic_problem(kappa), options=options)
            table[kappa][label] = (result.nit, result.status)
            curves[kappa][label] = result.history["fun"]
            outcome = "converged" if result.success else Status.NAMES[result.status]
            print(f"{kappa:>6g}  {label:<28} {result.nit:>10d}  {outcome}")

    write_plot(output_path(args.output_dir, "step_size.png"), plot, curves)
    return table


if __name__ == "__main__":
    main()
