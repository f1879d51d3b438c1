"""Dual numbers by hand: derivatives of a polynomial and of sin(x)·eˣ.

A dual number x + ẋε with ε² = 0 carries a value and a derivative. Arithmetic on it
follows from ε² = 0, for example (a + ȧε)(b + ḃε) = ab + (ȧb + aḃ)ε, and a smooth
function maps x + ẋε to f(x) + f'(x)ẋε. Seeding x + 1ε and running ordinary code
therefore returns f(x) + f'(x)ε. This example does that for

    p(x) = 2x⁴ − 3x³ + x − 5,      p'(x) = 8x³ − 9x² + 1,
    g(x) = sin(x)·eˣ,               g'(x) = (sin x + cos x)·eˣ,

prints the results against the closed forms, and writes ``dual_numbers.png`` with the
curves of p, p', g and g'.

Run: ``python -m dualtape.examples.dual_numbers [-o DIR]``
"""

from __future__ import annotations

import math

import numpy as np

import dualtape as dt
from dualtape.dual import Dual
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

POINTS = [-1.0, 0.0, 0.5, 1.0, 2.0]


def polynomial(x):
    """Evaluate p(x) = 2x⁴ − 3x³ + x − 5 by Horner's rule."""
    return ((2 * x - 3) * x * x + 1) * x - 5


def polynomial_derivative(x):
    return 8 * x ** 3 - 9 * x ** 2 + 1


def sin_exp(x):
    """Evaluate g(x) = sin(x)·eˣ; the dualtape functions accept floats and Dual numbers."""
    return dt.sin(x) * dt.exp(x)


def sin_exp_derivative(x):
    return (math.sin(x) + math.cos(x)) * math.exp(x)


def show_steps(x0):
    """Print the intermediate dual numbers of p at x0 and return p(x0 + ε)."""
    x = Dual(x0, 1.0)
    print(f"seed x = {x}")
    step = 2 * x - 3
    print(f"  2x − 3                   = {step}")
    step = step * x * x
    print(f"  (2x − 3)·x²              = {step}")
    step = (step + 1) * x
    print(f"  ((2x − 3)·x² + 1)·x      = {step}")
    result = step - 5
    print(f"  p(x) = … − 5             = {result}")
    print(f"  closed form: p({x0}) = {polynomial(x0)}, p'({x0}) = {polynomial_derivative(x0)}")
    return result


def differentiate(f, exact, points):
    """Run f on x + 1ε at each point; return (values, dual derivatives, exact, max error)."""
    values, derivatives = [], []
    for x0 in points:
        y = f(Dual(x0, 1.0))
        values.append(y.value)
        derivatives.append(y.tangent)
    exact_values = [exact(x0) for x0 in points]
    error = max(abs(a - b) for a, b in zip(derivatives, exact_values))
    return np.array(values), np.array(derivatives), np.array(exact_values), error


def print_table(title, points, values, derivatives, exact):
    print(f"\n{title}")
    print(f"{'x':>6} {'f(x)':>14} {'f′(x) (Dual)':>16} {'f′(x) (exact)':>16} {'abs error':>10}")
    for x0, value, derivative, reference in zip(points, values, derivatives, exact):
        print(f"{x0:6.2f} {value:14.8f} {derivative:16.10f} {reference:16.10f} "
              f"{abs(derivative - reference):10.2e}")


def curves(f, grid):
    """Return the values and derivatives of f on a grid, one Dual evaluation per point."""
    results = [f(Dual(float(x0), 1.0)) for x0 in grid]
    return np.array([y.value for y in results]), np.array([y.tangent for y in results])


def plot():
    figure = new_figure((11, 4.5))
    cases = [
        ("p(x) = 2x⁴ − 3x³ + x − 5", polynomial, polynomial_derivative, np.linspace(-1.2, 2.0, 200)),
        ("g(x) = sin(x)·eˣ", sin_exp, sin_exp_derivative, np.linspace(-3.0, 2.5, 200)),
    ]
    for index, (title, f, exact, grid) in enumerate(cases, start=1):
        values, derivatives = curves(f, grid)
        axes = figure.add_subplot(1, 2, index)
        axes.plot(grid, values, linewidth=2, label="f (value part)")
        axes.plot(grid, derivatives, linewidth=2, label="f′ (tangent part)")
        axes.plot(grid[::12], [exact(x0) for x0 in grid[::12]], "k.", label="f′ closed form")
        axes.axhline(0.0, color="0.8", linewidth=0.8)
        axes.set_xlabel("x")
        axes.set_title(title)
        axes.legend(fontsize=8)
    figure.tight_layout()
    return figure


def main(argv=None):
    """Run the example; return the values, derivatives and errors at POINTS."""
    parser = make_parser("dual_numbers", __doc__, "dual_numbers.png")
    args = parser.parse_args(argv)

    steps = show_steps(1.5)

    numbers = {"points": np.array(POINTS), "steps": (steps.value, steps.tangent)}
    for key, title, f, exact in [
        ("polynomial", "p(x) = 2x⁴ − 3x³ + x − 5", polynomial, polynomial_derivative),
        ("sin_exp", "g(x) = sin(x)·eˣ", sin_exp, sin_exp_derivative),
    ]:
        values, derivatives, exact_values, error = differentiate(f, exact, POINTS)
        print_table(title, POINTS, values, derivatives, exact_values)
        numbers[key] = {"values": values, "derivatives": derivatives, "exact": exact_values,
                        "max_error": error}

    numbers["png"] = write_plot(output_path(args.output_dir, "dual_numbers.png"), plot)
    return numbers


if __name__ == "__main__":
    main()
