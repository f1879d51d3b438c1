"""Run dt.least_squares on the 27 NIST StRD nonlinear regression problems from both starts.

For each problem and start, the log relative error (LRE, the number of correct
significant digits, capped at the 11 that NIST certifies) is measured for every
parameter and for the residual sum of squares RSS = 2·cost. A run passes when every
one of them reaches at least 6.

Solvers: dt.least_squares(method="lm") with its default trust-region damping, and
the same with geodesic_acceleration=True, each with the residuals evaluated in
double and in double-double arithmetic (``Residuals(precision="double-double")``
on the data as written in the file); with ``--nielsen`` also damping="nielsen";
with ``--scipy`` also scipy.optimize.least_squares(method="lm") with the exact
Jacobian from dualtape on the same residuals, at the same tolerances.

The RSS is the one the solver reports, 2·cost. In double precision it is computed
from the data rounded to double, while the certified values refer to the data as
written in the .dat file; the double-double runs use the data as written. For
runs whose RSS has fewer than 6 correct digits, a second table gives the RSS at
the same fitted parameters, evaluated with mpmath at 50 significant digits on the
data as written. It measures how close the fitted parameters are to the certified
minimum; it is not what dualtape returns.

Run: ``PYTHONPATH=python python bench/nist_strd.py [--scipy] [--nielsen] [--problems Misra1a,MGH09]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import dualtape as dt
from dualtape import nist
from dualtape._math import Differentiable

TOLERANCES = {"xtol": 1e-15, "ftol": 1e-15, "gtol": 1e-15}
MAX_ITERATIONS = 5000
PASS_DIGITS = 6.0
PRECISE_DIGITS = 50


def dualtape_solver(precision="double", **options):
    def run(problem, start):
        resid = problem.residuals(precision=precision)
        began = time.perf_counter()
        result = dt.least_squares(resid, problem.starts[start], method="lm", maxiter=MAX_ITERATIONS,
                                  **TOLERANCES, **options)
        seconds = time.perf_counter() - began
        return result.x, 2.0 * result.cost, result.nit, seconds

    return run


def run_scipy(problem, start):
    import scipy.optimize

    resid = problem.residuals()
    began = time.perf_counter()
    result = scipy.optimize.least_squares(resid.residuals, problem.starts[start], jac=lambda b: resid.jacobian(b).toarray(),
                                          method="lm", max_nfev=20000, **TOLERANCES)
    seconds = time.perf_counter() - began
    return result.x, 2.0 * result.cost, result.nfev, seconds


class _Precise(Differentiable):
    """An mpmath number that the dualtape math functions dispatch to mpmath."""

    __dt_priority__ = 1

    def __init__(self, value):
        import mpmath

        self.value = value if isinstance(value, mpmath.mpf) else mpmath.mpf(value)

    @staticmethod
    def _unwrap(other):
        return other.value if isinstance(other, _Precise) else other

    def __add__(self, other):
        return _Precise(self.value + self._unwrap(other))

    def __radd__(self, other):
        return _Precise(self._unwrap(other) + self.value)

    def __sub__(self, other):
        return _Precise(self.value - self._unwrap(other))

    def __rsub__(self, other):
        return _Precise(self._unwrap(other) - self.value)

    def __mul__(self, other):
        return _Precise(self.value * self._unwrap(other))

    def __rmul__(self, other):
        return _Precise(self._unwrap(other) * self.value)

    def __truediv__(self, other):
        return _Precise(self.value / self._unwrap(other))

    def __rtruediv__(self, other):
        return _Precise(self._unwrap(other) / self.value)

    def __pow__(self, other):
        return _Precise(self.value ** self._unwrap(other))

    def __rpow__(self, other):
        return _Precise(self._unwrap(other) ** self.value)

    def __neg__(self):
        return _Precise(-self.value)

    def __dt_function__(self, name, args):
        import mpmath

        functions = {"exp": mpmath.exp, "log": mpmath.log, "sin": mpmath.sin, "cos": mpmath.cos,
                     "atan": mpmath.atan, "sqrt": mpmath.sqrt}
        if name not in functions:
            raise NotImplementedError(f"no mpmath evaluation of dualtape.{name}")
        return _Precise(functions[name](*(self._unwrap(arg) for arg in args)))


def precise_rss(problem, b) -> float:
    """Evaluate the RSS at b in PRECISE_DIGITS digits on the decimal data of the file.

    The models use π rounded to double (Roszman1, ENSO); that changes their
    values by about 1e-16 relative, far below the digits compared here.
    """
    import mpmath

    with mpmath.workdps(PRECISE_DIGITS):
        parameters = [_Precise(float(value)) for value in b]
        total = mpmath.mpf(0)
        for row in problem.data_text:
            response = mpmath.mpf(row[0])
            if problem.name == "Nelson":
                response = mpmath.log(response)
            predictors = [_Precise(mpmath.mpf(value)) for value in row[1:]]
            total += (response - problem.model(parameters, predictors).value) ** 2
        return float(total)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scipy", action="store_true", help="also run scipy.optimize.least_squares(method='lm')")
    parser.add_argument("--nielsen", action="store_true", help="also run dt.least_squares(damping='nielsen')")
    parser.add_argument("--problems", default="", help="comma-separated problem names (default: all 27)")
    args = parser.parse_args(argv)
    names = [name for name in args.problems.split(",") if name] or nist.PROBLEMS

    solvers = {"dualtape lm": dualtape_solver(),
               "dualtape lm + acceleration": dualtape_solver(geodesic_acceleration=True),
               "dualtape lm, double-double": dualtape_solver(precision="double-double"),
               "dualtape lm + acceleration, double-double": dualtape_solver(precision="double-double",
                                                                            geodesic_acceleration=True)}
    if args.nielsen:
        solvers["dualtape lm nielsen"] = dualtape_solver(damping="nielsen")
    if args.scipy:
        solvers["scipy lm"] = run_scipy
    passes = {label: 0 for label in solvers}
    total = 0
    header = "| problem | difficulty | start |"
    rule = "|---|---|---|"
    for label in solvers:
        count = "nfev" if label.startswith("scipy") else "iterations"
        header += f" {label}: min LRE b | LRE RSS | {count} | time (ms) | pass |"
        rule += "---|---|---|---|---|"
    print(header)
    print(rule)
    imprecise = []
    for name in names:
        problem = nist.load(name)
        for start in (0, 1):
            total += 1
            row = f"| {name} | {problem.difficulty} | {start + 1} |"
            for label, solve in solvers.items():
                x, rss, iterations, seconds = solve(problem, start)
                parameter_lre = float(np.min(nist.lre(x, problem.certified)))
                rss_lre = float(nist.lre(rss, problem.certified_rss))
                passed = parameter_lre >= PASS_DIGITS and rss_lre >= PASS_DIGITS
                passes[label] += passed
                if parameter_lre >= PASS_DIGITS and rss_lre < PASS_DIGITS:
                    imprecise.append((name, start, label, x, rss, rss_lre, problem))
                row += (f" {parameter_lre:.1f} | {rss_lre:.1f} | {iterations} | {1e3 * seconds:.1f} |"
                        f" {'yes' if passed else 'no'} |")
            print(row, flush=True)

    if imprecise:
        print()
        print(f"RSS of the runs above whose parameters pass but whose RSS does not, at the same fitted b, "
              f"evaluated in {PRECISE_DIGITS} digits on the decimal data:")
        print()
        print("| problem | start | solver | RSS in double | LRE | RSS in 50 digits | LRE |")
        print("|---|---|---|---|---|---|---|")
        for name, start, label, x, rss, rss_lre, problem in imprecise:
            precise = precise_rss(problem, x)
            precise_lre = float(nist.lre(precise, problem.certified_rss))
            print(f"| {name} | {start + 1} | {label} | {rss:.5e} | {rss_lre:.1f} | {precise:.5e} | {precise_lre:.1f} |")

    print()
    for label, count in passes.items():
        print(f"{label}: {count} of {total} runs with LRE >= {PASS_DIGITS:g} on every parameter and the RSS")
    print(f"tolerances: {TOLERANCES}; at most {MAX_ITERATIONS} iterations (scipy: 20000 evaluations); "
          f"machine: {platform.processor() or platform.machine()}, {dt.get_num_threads()} threads, "
          f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
