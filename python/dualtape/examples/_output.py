"""Command line and output files shared by the examples.

Every example takes ``-o DIR`` (default: the current directory), creates DIR if it
is missing and writes its files into it, named after the example. The
parametrization example names them after its mesh instead.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from typing import Callable, Optional

import numpy as np


def make_parser(name: str, doc: str, outputs: str, extra_help: str = "",
                file_suffixes: tuple = ()) -> argparse.ArgumentParser:
    """Create the parser of example `name` with its ``-o/--output-dir`` option.

    The description is the first line of `doc`. The help text of ``-o`` names
    `outputs`, the files that the example writes there, and ends with `extra_help`.
    An existing file given as ``-o`` is rejected before the example runs, unless
    its name ends in one of `file_suffixes` (an example that accepts file names).
    """
    def output_dir(value: str) -> str:
        if (os.path.exists(value) and not os.path.isdir(value)
                and not value.lower().endswith(tuple(file_suffixes))):
            raise argparse.ArgumentTypeError(f"{value} exists and is not a directory; expected an output directory")
        return value

    parser = argparse.ArgumentParser(prog=f"python -m dualtape.examples.{name}",
                                     description=doc.strip().splitlines()[0])
    parser.add_argument("-o", "--output-dir", default=".", metavar="DIR", type=output_dir,
                        help=f"output directory for {outputs}, created if missing (default: the "
                             f"current directory). {extra_help}".rstrip())
    return parser


def output_path(directory: str, filename: str) -> str:
    """Create `directory` if it is missing and return the path of `filename` in it."""
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, filename)


def new_figure(figsize: tuple):
    """Create a matplotlib Figure with an Agg canvas, so that pyplot's global state is not used."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure


def plot_cost_history(axes, costs, ylabel: str = "cost ½‖r‖²") -> None:
    """Plot the cost of each Levenberg-Marquardt iteration into `axes`.

    The y axis is logarithmic when the cost falls by more than a factor of 10, and
    linear otherwise, where a log axis would label its few ticks in scientific
    notation.
    """
    from matplotlib.ticker import MaxNLocator

    costs = np.asarray(costs, dtype=float)
    iterations = np.arange(costs.size)
    if costs.min() > 0 and costs.max() > 10 * costs.min():
        axes.semilogy(iterations, costs, "o-")
    else:
        axes.plot(iterations, costs, "o-")
        axes.ticklabel_format(axis="y", style="plain", useOffset=False)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("iteration")
    axes.set_ylabel(ylabel)
    axes.set_title("Levenberg-Marquardt")


def write_plot(filename: str, plot: Callable, *args, dpi: int = 120) -> Optional[str]:
    """Save the figure returned by ``plot(*args)`` as `filename` and print its path.

    Returns the path. Without matplotlib, nothing is drawn, the printed line names
    the package to install, and the return value is None.
    """
    if importlib.util.find_spec("matplotlib") is None:
        print(f"skipped {os.path.basename(filename)}: matplotlib is missing (pip install matplotlib)")
        return None
    figure = plot(*args)
    figure.savefig(filename, dpi=dpi, bbox_inches="tight")
    print(f"wrote {filename}")
    return filename
