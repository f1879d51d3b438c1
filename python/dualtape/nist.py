"""The NIST StRD nonlinear regression problems: parser, models and accuracy measure.

The Statistical Reference Datasets of NIST (https://www.itl.nist.gov/div898/strd/)
give 27 nonlinear least-squares problems, each with data, a model with parameters
b1..bk, two starting points and certified values of the parameters and of the
residual sum of squares (RSS) to 11 significant digits.

Each data point is one residual element: the variable block is the whole parameter
vector b (``dim = k``, ``elements = zeros((n, 1))``) and the element parameters are
the observation's predictors followed by its response.

>>> problem = load("Misra1a")                                      # doctest: +SKIP
>>> result = dt.least_squares(problem.residuals(), problem.starts[0])   # doctest: +SKIP
"""

from __future__ import annotations

import decimal
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _math as dm
from .residuals import Residuals

__all__ = ["NistProblem", "PROBLEMS", "DIFFICULTY", "MODELS", "load", "lre", "data_directory"]

#: Problem names by level of difficulty, as NIST lists them.
DIFFICULTY = {
    "lower": ["Misra1a", "Chwirut2", "Chwirut1", "Lanczos3", "Gauss1", "Gauss2", "DanWood", "Misra1b"],
    "average": ["Kirby2", "Hahn1", "Nelson", "MGH17", "Lanczos1", "Lanczos2", "Gauss3", "Misra1c",
                "Misra1d", "Roszman1", "ENSO"],
    "higher": ["MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4", "Rat43", "Bennett5"],
}

#: All 27 problem names.
PROBLEMS = [name for names in DIFFICULTY.values() for name in names]

_PI = math.pi


def _exponential_decay(b, x):
    # b1 (1 − exp(−b2 x))
    return b[0] * (1.0 - dm.exp(-b[1] * x[0]))


def _chwirut(b, x):
    return dm.exp(-b[0] * x[0]) / (b[1] + b[2] * x[0])


def _lanczos(b, x):
    t = x[0]
    return b[0] * dm.exp(-b[1] * t) + b[2] * dm.exp(-b[3] * t) + b[4] * dm.exp(-b[5] * t)


def _gauss(b, x):
    t = x[0]
    return (b[0] * dm.exp(-b[1] * t) + b[2] * dm.exp(-(t - b[3]) ** 2 / b[4] ** 2)
            + b[5] * dm.exp(-(t - b[6]) ** 2 / b[7] ** 2))


def _cubic_over_cubic(b, x):
    t = x[0]
    return (b[0] + b[1] * t + b[2] * t ** 2 + b[3] * t ** 3) / (1.0 + b[4] * t + b[5] * t ** 2 + b[6] * t ** 3)


def _kirby2(b, x):
    t = x[0]
    return (b[0] + b[1] * t + b[2] * t ** 2) / (1.0 + b[3] * t + b[4] * t ** 2)


def _danwood(b, x):
    return b[0] * x[0] ** b[1]


def _misra1b(b, x):
    return b[0] * (1.0 - (1.0 + b[1] * x[0] / 2.0) ** -2)


def _misra1c(b, x):
    return b[0] * (1.0 - (1.0 + 2.0 * b[1] * x[0]) ** -0.5)


def _misra1d(b, x):
    return b[0] * b[1] * x[0] * (1.0 + b[1] * x[0]) ** -1


def _nelson(b, x):
    # The model of log(y); the residual uses log(y), see `NistProblem.response`.
    return b[0] - b[1] * x[0] * dm.exp(-b[2] * x[1])


def _mgh17(b, x):
    t = x[0]
    return b[0] + b[1] * dm.exp(-t * b[3]) + b[2] * dm.exp(-t * b[4])


def _roszman1(b, x):
    t = x[0]
    return b[0] - b[1] * t - dm.atan(b[2] / (t - b[3])) / _PI


def _enso(b, x):
    t = x[0]
    return (b[0] + b[1] * dm.cos(2 * _PI * t / 12) + b[2] * dm.sin(2 * _PI * t / 12)
            + b[4] * dm.cos(2 * _PI * t / b[3]) + b[5] * dm.sin(2 * _PI * t / b[3])
            + b[7] * dm.cos(2 * _PI * t / b[6]) + b[8] * dm.sin(2 * _PI * t / b[6]))


def _mgh09(b, x):
    t = x[0]
    return b[0] * (t ** 2 + t * b[1]) / (t ** 2 + t * b[2] + b[3])


def _rat42(b, x):
    return b[0] / (1.0 + dm.exp(b[1] - b[2] * x[0]))


def _mgh10(b, x):
    return b[0] * dm.exp(b[1] / (x[0] + b[2]))


def _eckerle4(b, x):
    return (b[0] / b[1]) * dm.exp(-0.5 * ((x[0] - b[2]) / b[1]) ** 2)


def _rat43(b, x):
    return b[0] / (1.0 + dm.exp(b[1] - b[2] * x[0])) ** (1.0 / b[3])


def _bennett5(b, x):
    return b[0] * (b[1] + x[0]) ** (-1.0 / b[2])


#: Model function of each problem: ``model(b, x) -> y`` for one observation, with
#: b the parameters and x the predictors. Written with dualtape math, so it works
#: on floats and on traced symbols alike.
MODELS = {
    "Misra1a": _exponential_decay, "BoxBOD": _exponential_decay,
    "Chwirut1": _chwirut, "Chwirut2": _chwirut,
    "Lanczos1": _lanczos, "Lanczos2": _lanczos, "Lanczos3": _lanczos,
    "Gauss1": _gauss, "Gauss2": _gauss, "Gauss3": _gauss,
    "Hahn1": _cubic_over_cubic, "Thurber": _cubic_over_cubic,
    "Kirby2": _kirby2, "DanWood": _danwood, "Misra1b": _misra1b, "Misra1c": _misra1c,
    "Misra1d": _misra1d, "Nelson": _nelson, "MGH17": _mgh17, "Roszman1": _roszman1,
    "ENSO": _enso, "MGH09": _mgh09, "Rat42": _rat42, "MGH10": _mgh10, "Eckerle4": _eckerle4,
    "Rat43": _rat43, "Bennett5": _bennett5,
}


@dataclass
class NistProblem:
    """One StRD problem as read from its .dat file.

    Attributes
    ----------
    name : str
    difficulty : str
        "lower", "average" or "higher".
    x : (n, d) float array
        Predictors of the n observations (d = 2 for Nelson, else 1).
    y : (n,) float array
        Responses.
    starts : (2, k) float array
        Start 1 and start 2.
    certified : (k,) float array
        Certified parameter values.
    certified_sd : (k,) float array
        Certified standard deviations of the parameters.
    certified_rss : float
        Certified residual sum of squares.
    data_text : list of list of str
        The data rows as written in the file (response first, then the
        predictors), for evaluations in more than double precision: the
        certified values are exact for these decimals, not for their roundings
        to double in ``x`` and ``y``.
    """

    name: str
    difficulty: str
    x: np.ndarray
    y: np.ndarray
    starts: np.ndarray
    certified: np.ndarray
    certified_sd: np.ndarray
    certified_rss: float
    data_text: list = field(default_factory=list)

    @property
    def n_params(self) -> int:
        return self.certified.shape[0]

    @property
    def n_observations(self) -> int:
        return self.y.shape[0]

    @property
    def model(self):
        return MODELS[self.name]

    @property
    def response(self) -> np.ndarray:
        """The fitted response: log(y) for Nelson, whose model is for log y; y otherwise."""
        return np.log(self.y) if self.name == "Nelson" else self.y

    def residuals(self, mode: str = "auto", precision: str = "double") -> Residuals:
        """Build the residuals r_i(b) = response_i − model(b, x_i), one element per observation.

        With precision="double-double" the residuals are evaluated in double-double
        arithmetic on the data as written in the file (`data_low` gives the digits
        that the doubles in ``x`` and ``y`` lose), so an RSS far below the size of
        the data, like Lanczos1's 1.4e-25, keeps its certified digits.
        """
        model = self.model
        n_predictors = self.x.shape[1]

        def residual(block, p):
            return [p[n_predictors] - model(block[0], p[:n_predictors])]

        params = np.column_stack([self.x, self.response])
        params_low = self.data_low() if precision == "double-double" else None
        return Residuals(residual, np.zeros((self.n_observations, 1), dtype=np.int64), self.n_params,
                         params=params, mode=mode, precision=precision, params_low=params_low)

    def data_low(self) -> np.ndarray:
        """Return the low parts of the element parameters (predictors, then response).

        Entry [i, j] is the decimal value of the file minus the double that
        `residuals` uses for it. For Nelson, the response is log y, taken to 40
        digits. Double + low part then represents the data to about 32 digits.
        """
        if len(self.data_text) != self.n_observations:
            raise ValueError(f"{self.name}: data_text has {len(self.data_text)} rows for {self.n_observations} "
                             "observations; load the problem with nist.load to get the data as written")
        with decimal.localcontext() as context:
            context.prec = 40
            low = np.zeros((self.n_observations, self.x.shape[1] + 1))
            response = self.response
            for i, row in enumerate(self.data_text):
                exact_response = decimal.Decimal(row[0])
                if self.name == "Nelson":
                    exact_response = exact_response.ln()
                for j, text in enumerate(row[1:]):
                    low[i, j] = float(decimal.Decimal(text) - decimal.Decimal(float(self.x[i, j])))
                low[i, -1] = float(exact_response - decimal.Decimal(float(response[i])))
        return low

    def rss(self, b) -> float:
        """Evaluate the residual sum of squares Σ (response_i − model(b, x_i))² in floats."""
        b = np.asarray(b, dtype=np.float64)
        total = 0.0
        for xi, yi in zip(self.x, self.response):
            total += (yi - float(self.model(b, xi))) ** 2
        return total


def data_directory() -> Path:
    """Return the folder of the .dat files.

    That is $DUALTAPE_NIST_DIR when set, else shared/data/nist-strd beside the
    source checkout that contains this package, else ../shared/data/nist-strd
    relative to the current directory (for an installed package, run from the
    repository root).
    """
    configured = os.environ.get("DUALTAPE_NIST_DIR")
    if configured:
        return Path(configured)
    # In a source checkout the package is in python/dualtape. An installed package
    # is not, so then look beside the current directory, which is the repository
    # root when the commands of the README run.
    beside_source = Path(__file__).resolve().parents[3] / "shared" / "data" / "nist-strd"
    if beside_source.is_dir():
        return beside_source
    return Path.cwd().resolve().parent / "shared" / "data" / "nist-strd"


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _line_range(header: str, label: str, path: Path) -> tuple[int, int]:
    match = re.search(label + r"\s*\(lines\s+(\d+)\s+to\s+(\d+)\)", header)
    if not match:
        raise ValueError(f"{path}: no '{label} (lines A to B)' entry in the header")
    return int(match.group(1)), int(match.group(2))


def load(name: str, directory=None) -> NistProblem:
    """Read one problem from ``<directory>/<name>.dat``.

    Parameters
    ----------
    name : str
        One of `PROBLEMS`, for example "Misra1a".
    directory : path, optional
        Folder of the .dat files; defaults to `data_directory()`.
    """
    if name not in MODELS:
        raise ValueError(f"unknown NIST StRD problem {name!r}; expected one of {PROBLEMS}")
    path = Path(directory if directory is not None else data_directory()) / f"{name}.dat"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; set DUALTAPE_NIST_DIR to the folder of the NIST .dat files")
    lines = path.read_text().splitlines()
    header = "\n".join(lines[:40])
    start_first, start_last = _line_range(header, "Starting Values", path)
    certified_first, certified_last = _line_range(header, "Certified Values", path)
    data_first, data_last = _line_range(header, "Data", path)

    starts, certified, certified_sd = [], [], []
    for line in lines[start_first - 1:start_last]:
        fields = re.findall(_NUMBER, line.split("=", 1)[1])
        if len(fields) != 4:
            raise ValueError(f"{path}: parameter line {line!r} should hold start 1, start 2, value and sd")
        starts.append([float(fields[0]), float(fields[1])])
        certified.append(float(fields[2]))
        certified_sd.append(float(fields[3]))

    rss = None
    for line in lines[start_last:certified_last]:
        if line.strip().startswith("Residual Sum of Squares"):
            rss = float(re.findall(_NUMBER, line.split(":", 1)[1])[0])
    if rss is None:
        raise ValueError(f"{path}: no 'Residual Sum of Squares' line in lines {start_last + 1}-{certified_last}")

    text_rows = [re.findall(_NUMBER, line) for line in lines[data_first - 1:data_last] if line.strip()]
    data = np.array([[float(v) for v in row] for row in text_rows])
    difficulty = next(level for level, names in DIFFICULTY.items() if name in names)
    return NistProblem(name=name, difficulty=difficulty, x=data[:, 1:], y=data[:, 0],
                       starts=np.array(starts).T.copy(), certified=np.array(certified),
                       certified_sd=np.array(certified_sd), certified_rss=rss, data_text=text_rows)


def lre(estimate, certified, digits: float = 11.0):
    """Return the log relative error −log10(|estimate − certified| / |certified|).

    It counts the correct significant digits; the result is capped at ``digits``
    (11, the digits NIST certifies), is ``digits`` for an exact match and 0 when
    the estimate is not finite or the error exceeds the certified value.
    """
    estimate = np.asarray(estimate, dtype=np.float64)
    certified = np.asarray(certified, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.abs(estimate - certified) / np.abs(certified)
        value = np.where(estimate == certified, digits, -np.log10(error))
    value = np.where(np.isfinite(estimate), np.clip(value, 0.0, digits), 0.0) + 0.0  # + 0.0 turns −0 into 0
    return value if value.ndim else float(value)
