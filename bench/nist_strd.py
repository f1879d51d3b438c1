"""Run dt.least_squares on the 27 NIST StRD nonlinear regression problems from both starts.

For each problem and start, the log relative error (LRE, the number of correct
significant digits, capped at the 11 that NIST certifies) is measured for every
parameter and for the residual sum of squares RSS = 2·cost. A run passes when every
one of them reaches at least 6. Prints a Markdown table and the pass count; with
``--scipy`` it also runs scipy.optimize.least_squares(method="lm") with the exact
Jacobian from dualtape on the same residuals, at the same tolerances.

Run: ``PYTHONPATH=python python bench/nist_strd.py [--scipy] [--problems Misra1a,MGH09]``
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import dualtape as dt
from dualtape import nist

SETTINGS = {"method": "lm", "xtol": 1e-15, "ftol": 1e-15, "gtol": 1e-15, "maxiter": 5000}
PASS_DIGITS = 6.0


def run_dualtape(problem, start):
    resid = problem.residuals()
    began = time.perf_counter()
    result = dt.least_squares(resid, problem.starts[start], **SETTINGS)
    seconds = time.perf_counter() - began
    return result.x, 2.0 * result.cost, result.nit, result.status, seconds


def run_scipy(problem, start):
    import scipy.optimize

    resid = problem.residuals()
    began = time.perf_counter()
    result = scipy.optimize.least_squares(resid.residuals, problem.starts[start], jac=lambda b: resid.jacobian(b).toarray(),
                                          method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000)
    seconds = time.perf_counter() - began
    return result.x, 2.0 * result.cost, result.nfev, result.status, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scipy", action="store_true", help="also run scipy.optimize.least_squares(method='lm')")
    parser.add_argument("--problems", default="", help="comma-separated problem names (default: all 27)")
    args = parser.parse_args(argv)
    names = [name for name in args.problems.split(",") if name] or nist.PROBLEMS

    solvers = {"dualtape": run_dualtape}
    if args.scipy:
        solvers["scipy lm"] = run_scipy
    passes = {label: 0 for label in solvers}
    total = 0
    header = "| problem | difficulty | start |"
    rule = "|---|---|---|"
    for label in solvers:
        header += f" {label}: min LRE b | LRE RSS | iterations | time (ms) | pass |"
        rule += "---|---|---|---|---|"
    print(header)
    print(rule)
    for name in names:
        problem = nist.load(name)
        for start in (0, 1):
            total += 1
            row = f"| {name} | {problem.difficulty} | {start + 1} |"
            for label, solve in solvers.items():
                x, rss, iterations, status, seconds = solve(problem, start)
                parameter_lre = float(np.min(nist.lre(x, problem.certified)))
                rss_lre = float(nist.lre(rss, problem.certified_rss))
                passed = parameter_lre >= PASS_DIGITS and rss_lre >= PASS_DIGITS
                passes[label] += passed
                row += (f" {parameter_lre:.1f} | {rss_lre:.1f} | {iterations} | {1e3 * seconds:.1f} |"
                        f" {'yes' if passed else 'no'} |")
            print(row, flush=True)
    print()
    for label, count in passes.items():
        print(f"{label}: {count} of {total} runs with LRE >= {PASS_DIGITS:g} on every parameter and the RSS")
    print(f"settings: {SETTINGS}; machine: {platform.processor() or platform.machine()}, "
          f"{dt.get_num_threads()} threads")


if __name__ == "__main__":
    main()
