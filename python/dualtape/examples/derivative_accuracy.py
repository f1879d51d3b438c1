"""Error of finite differences, the complex step and AD against the step size h.

The test function f(x) = eˣ / √(sin³x + cos³x) at x = 1.5 has the exact derivative

    f'(x) = f(x)·(1 − (3 sin²x cos x − 3 cos²x sin x) / (2 (sin³x + cos³x))).

For h = 10⁻¹ … 10⁻¹⁶ the example computes the relative error of

- forward differences  (f(x + h) − f(x)) / h: truncation error O(h) for large h,
  rounding error about ε/h for small h, since two nearly equal values are subtracted;
- central differences  (f(x + h) − f(x − h)) / 2h: truncation O(h²), rounding ε/h;
- the complex step     Im f(x + ih) / h: truncation O(h²) and no subtraction, so the
  error falls to machine precision and stays there;
- forward-mode AD with a Dual number, which has no step at all.

It prints the table, the errors of `dualtape.numdiff.gradient` at its default steps,
and writes ``derivative_accuracy.png`` (log-log).

Run: ``python -m dualtape.examples.derivative_accuracy [-o DIR]``
"""

from __future__ import annotations

import math

import numpy as np

import dualtape as dt
from dualtape import numdiff
from dualtape.dual import derivative
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

X0 = 1.5
STEPS = 10.0 ** -np.arange(1, 17)


def f(x):
    """Evaluate eˣ / √(sin³x + cos³x) on floats, complex numbers or Dual numbers."""
    return dt.exp(x) / dt.sqrt(dt.sin(x) ** 3 + dt.cos(x) ** 3)


def exact_derivative(x):
    s, c = math.sin(x), math.cos(x)
    denominator = s ** 3 + c ** 3
    value = math.exp(x) / math.sqrt(denominator)
    return value * (1.0 - (3 * s * s * c - 3 * c * c * s) / (2.0 * denominator))


def step_errors(x0, steps):
    """Return the relative errors of the three difference quotients for every step."""
    exact = exact_derivative(x0)
    errors = {"forward": [], "central": [], "complex": []}
    for h in steps:
        forward = (f(x0 + h) - f(x0)) / h
        central = (f(x0 + h) - f(x0 - h)) / (2 * h)
        complex_step = np.imag(f(complex(x0, h))) / h
        for name, estimate in (("forward", forward), ("central", central), ("complex", complex_step)):
            errors[name].append(abs(float(estimate) - exact) / abs(exact))
    return {name: np.array(values) for name, values in errors.items()}


def default_step_errors(x0):
    """Return the relative error of numdiff.gradient at its default step, per method."""
    exact = exact_derivative(x0)
    point = np.array([x0])
    return {method: abs(float(numdiff.gradient(lambda v: f(v[0]), point, method=method)[0]) - exact)
            / abs(exact) for method in ("forward", "central", "complex")}


def plot(steps, errors, ad_error):
    # log axes cannot show 0; an exact result is drawn at the bottom edge instead
    floor = 1e-18
    figure = new_figure((9, 5))
    axes = figure.add_subplot(1, 1, 1)
    styles = {"forward": "o-", "central": "s-", "complex": "^-"}
    labels = {"forward": "forward difference", "central": "central difference",
              "complex": "complex step"}
    for name, values in errors.items():
        axes.loglog(steps, np.maximum(values, floor), styles[name], label=labels[name])
    axes.loglog(steps, np.full(steps.size, max(ad_error, floor)), "k--", label="AD (Dual number)")
    axes.axhline(np.finfo(float).eps, color="0.6", linewidth=1.5, linestyle=":", label="machine ε")
    # The notes go into the legend, and the legend beside the axes, because text
    # inside the axes covered the curves or the tick labels.
    axes.plot([], [], " ", label="an error of exactly 0 is drawn at 10⁻¹⁸")
    axes.invert_xaxis()
    axes.set_ylim(floor / 2, 10.0)
    axes.set_xlabel("step h")
    axes.set_ylabel("relative error of f′(1.5)")
    axes.set_title("f(x) = eˣ / √(sin³x + cos³x) at x = 1.5")
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    figure.tight_layout()
    return figure


def main(argv=None):
    """Run the example; return the steps, the relative errors per method and of AD."""
    parser = make_parser("derivative_accuracy", __doc__, "derivative_accuracy.png")
    args = parser.parse_args(argv)

    exact = exact_derivative(X0)
    errors = step_errors(X0, STEPS)
    ad_error = abs(derivative(f, X0) - exact) / abs(exact)
    defaults = default_step_errors(X0)

    print(f"f'({X0}) = {exact!r}")
    print(f"{'h':>8} {'forward':>12} {'central':>12} {'complex':>12} {'AD':>12}")
    for i, h in enumerate(STEPS):
        print(f"{h:8.0e} {errors['forward'][i]:12.3e} {errors['central'][i]:12.3e} "
              f"{errors['complex'][i]:12.3e} {ad_error:12.3e}")
    print("numdiff.gradient at its default steps: "
          + ", ".join(f"{method} {error:.3e}" for method, error in defaults.items()))

    numbers = {"steps": STEPS.copy(), "exact": exact, "ad": ad_error, "defaults": defaults, **errors}

    numbers["png"] = write_plot(output_path(args.output_dir, "derivative_accuracy.png"), plot,
                                STEPS, errors, ad_error)
    return numbers


if __name__ == "__main__":
    main()
