"""Measure how many digits of Lanczos1's certified RSS double precision can reach.

Lanczos1 fits data generated to 13 digits, so its certified residual sum of squares
(RSS) is 1.4307867721e-25, with residuals near 1e-13. This script evaluates the RSS
at several parameter vectors. The data are taken as written in the .dat file
(decimal), rounded to double, parsed as x87 long double, or as a double plus the
low part that dualtape's double-double evaluation adds to it
(``NistProblem.data_low``). The arithmetic is double, long double (NumPy's
longdouble, a 64-bit mantissa on x86-64), double-double
(``Residuals(precision="double-double")``) or 50-digit mpmath. The fits at higher precision are Gauss-Newton iterations started from
dualtape's solution.

Run: ``PYTHONPATH=python python bench/nist_lanczos1_precision.py``
"""

from __future__ import annotations

import mpmath
import numpy as np

import dualtape as dt
from dualtape import nist

mpmath.mp.dps = 50
CERTIFIED_RSS = mpmath.mpf("1.4307867721E-25")
CERTIFIED_B = [mpmath.mpf(value) for value in ("9.5100000027E-02", "1.0000000001E+00", "8.6070000013E-01",
                                                "3.0000000002E+00", "1.5575999998E+00", "5.0000000001E+00")]


def lre(estimate) -> float:
    """Return the LRE of an RSS, clipped to [0, 11] as `dualtape.nist.lre` does."""
    error = abs(mpmath.mpf(estimate) - CERTIFIED_RSS) / CERTIFIED_RSS
    return 11.0 if error == 0 else float(min(11, max(0, -mpmath.log10(error))))


def model(b, x, exp):
    return b[0] * exp(-b[1] * x) + b[2] * exp(-b[3] * x) + b[4] * exp(-b[5] * x)


def jacobian_columns(b, x, exp):
    e1, e2, e3 = exp(-b[1] * x), exp(-b[3] * x), exp(-b[5] * x)
    return [-e1, b[0] * x * e1, -e2, b[2] * x * e2, -e3, b[4] * x * e3]


def rss_mp(b, xs, ys):
    return mpmath.fsum((y - model(b, x, mpmath.exp)) ** 2 for x, y in zip(xs, ys))


def fit_mp(b, xs, ys, iterations=30):
    """Gauss-Newton in 50 digits on the normal equations."""
    b = [mpmath.mpf(value) for value in b]
    for _ in range(iterations):
        J = mpmath.matrix(len(xs), 6)
        r = mpmath.matrix(len(xs), 1)
        for i, (x, y) in enumerate(zip(xs, ys)):
            r[i] = y - model(b, x, mpmath.exp)
            for j, column in enumerate(jacobian_columns(b, x, mpmath.exp)):
                J[i, j] = column
        step = mpmath.lu_solve(J.T * J, -(J.T * r))
        b = [b[k] + step[k] for k in range(6)]
    return b


def fit_long_double(b, xs, ys, iterations=10):
    """Gauss-Newton with residuals in long double and the linear solve in double."""
    b = np.array(b, dtype=np.longdouble)
    for _ in range(iterations):
        r = ys - model(b, xs, np.exp)
        J = np.stack(jacobian_columns(b, xs, np.exp), axis=1).astype(np.float64)
        step = np.linalg.lstsq(J, -r.astype(np.float64), rcond=None)[0]
        b = b + step.astype(np.longdouble)
    return b, float(np.sum((ys - model(b, xs, np.exp)) ** 2))


def main():
    problem = nist.load("Lanczos1")
    y_text = [row[0] for row in problem.data_text]
    x_text = [row[1] for row in problem.data_text]
    x_decimal, y_decimal = [mpmath.mpf(v) for v in x_text], [mpmath.mpf(v) for v in y_text]
    x_double, y_double = [mpmath.mpf(float(v)) for v in x_text], [mpmath.mpf(float(v)) for v in y_text]
    x_long = np.array([np.longdouble(v) for v in x_text])
    y_long = np.array([np.longdouble(v) for v in y_text])

    rows = []
    value = problem.rss(problem.certified)
    rows.append(("certified b (11 digits)", "double", "double", value))
    rows.append(("certified b (11 digits)", "decimal", "50 digits", rss_mp(CERTIFIED_B, x_decimal, y_decimal)))

    result = dt.least_squares(problem.residuals(), problem.starts[0], xtol=1e-15, ftol=1e-15, gtol=1e-15,
                              maxiter=5000)
    fitted = [mpmath.mpf(float(v)) for v in result.x]
    rows.append(("dt.least_squares b, start 1", "double", "double", 2 * result.cost))
    rows.append(("dt.least_squares b, start 1", "double", "50 digits", rss_mp(fitted, x_double, y_double)))
    rows.append(("dt.least_squares b, start 1", "decimal", "50 digits", rss_mp(fitted, x_decimal, y_decimal)))

    for start in (0, 1):
        resid = problem.residuals(precision="double-double")
        precise = dt.least_squares(resid, problem.starts[start], xtol=1e-15, ftol=1e-15, gtol=1e-15, maxiter=5000)
        fitted = [mpmath.mpf(float(v)) for v in precise.x]
        label = f"dt.least_squares b, double-double residuals, start {start + 1}"
        rows.append((label, "double + low part", "double-double", 2 * precise.cost))
        rows.append((label, "decimal", "50 digits", rss_mp(fitted, x_decimal, y_decimal)))

    exact = fit_mp(result.x, x_decimal, y_decimal)
    rows.append(("50-digit fit to the decimal data", "decimal", "50 digits", rss_mp(exact, x_decimal, y_decimal)))
    exact_double = [mpmath.mpf(float(v)) for v in exact]
    rows.append(("that fit rounded to double", "decimal", "50 digits", rss_mp(exact_double, x_decimal, y_decimal)))
    rows.append(("that fit rounded to double", "double", "double", problem.rss(np.array([float(v) for v in exact]))))
    rounded_data_fit = fit_mp(result.x, x_double, y_double)
    rows.append(("50-digit fit to the data rounded to double", "double", "50 digits",
                 rss_mp(rounded_data_fit, x_double, y_double)))
    _, value = fit_long_double(result.x, x_long, y_long)
    rows.append(("long double fit to the long double data", "long double", "long double", value))
    x_long_rounded = np.array([np.longdouble(float(v)) for v in x_text])
    y_long_rounded = np.array([np.longdouble(float(v)) for v in y_text])
    _, value = fit_long_double(result.x, x_long_rounded, y_long_rounded)
    rows.append(("long double fit to the data rounded to double", "double", "long double", value))

    print(f"certified RSS {mpmath.nstr(CERTIFIED_RSS, 11)}")
    print()
    print("| parameters | data | arithmetic | RSS | LRE |")
    print("|---|---|---|---|---|")
    for parameters, data, arithmetic, value in rows:
        print(f"| {parameters} | {data} | {arithmetic} | {mpmath.nstr(mpmath.mpf(value), 6)} | {lre(value):.1f} |")


if __name__ == "__main__":
    main()
