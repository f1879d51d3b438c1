"""Layout of the example figures: no two labels overlap, and no legend covers a data point.

Each example runs at a small size with its `write_plot` replaced by a function that
keeps the figure, which is then drawn and measured in display coordinates.
"""

import importlib
import itertools

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.text import Text  # noqa: E402

import dualtape as dt  # noqa: E402
from dualtape.examples._output import new_figure  # noqa: E402
from test_examples_output import EXAMPLES  # noqa: E402

EXAMPLE_RUNS = [
    ("backprop_graph", None),
    ("brachistochrone", ["--points", "8"]),
    ("bundle_adjustment", ["--cameras", "6", "--points", "120", "--views", "4"]),
    ("catenary", ["--links", "4"]),
    ("circle_fit", []),
    ("derivative_accuracy", []),
    ("dido", ["--vertices", "8"]),
    ("dual_numbers", []),
    ("elastica", ["--segments", "6", "--distances", "0.7", "0.3"]),
    ("forward_vs_reverse", ["--sizes", "1", "4", "16", "--repeats", "1"]),
    ("line_fit_gauss_newton", []),
    ("linear_regression", []),
    ("logistic_regression", []),
    ("minimal_surface", ["--resolution", "4"]),
    ("optimizer_paths", []),
    ("parametrization", ["-q"]),
    ("robust_curve_fit", []),
    ("step_size", []),
    ("volumetric_deformation", ["--cells", "3"]),
]
# Labels that touch by at most this many pixels do not count as overlapping.
OVERLAP_PIXELS = 1.0


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    dt.set_num_threads(1)
    yield
    dt.set_num_threads(0)


def example_figure(name, argv, tmp_path, monkeypatch):
    """Run example `name` and return the figure that it would have saved."""
    module = importlib.import_module(f"dualtape.examples.{name}")
    figures = []

    def keep_figure(filename, plot, *args, dpi=120):
        figures.append(plot(*args))
        return filename

    monkeypatch.setattr(module, "write_plot", keep_figure)
    if module.main(["-o", str(tmp_path)] + argv) is None:
        pytest.skip(f"{name} did not run (a package it needs is missing)")
    assert len(figures) == 1
    figures[0].canvas.draw()
    return figures[0]


def drawn_texts(figure):
    """Return the visible, non-empty texts of `figure`, with tick labels inside the view only.

    Matplotlib keeps label objects for ticks outside the view limits but does not
    draw them, so those are left out.
    """
    tick_label_ids = set()
    texts = []
    for axes in figure.axes:
        axes_axes = [getattr(axes, name) for name in ("xaxis", "yaxis", "zaxis") if hasattr(axes, name)]
        for axis in axes_axes:
            low, high = sorted(axis.get_view_interval())
            margin = 1e-9 * (high - low)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                inside = low - margin <= tick.get_loc() <= high + margin
                for label in (tick.label1, tick.label2):
                    tick_label_ids.add(id(label))
                    if inside and label.get_visible() and label.get_text().strip():
                        texts.append(label)
    for text in figure.findobj(Text):
        if id(text) not in tick_label_ids and text.get_visible() and text.get_text().strip():
            texts.append(text)
    return texts


def overlapping_texts(figure):
    """Return the pairs of drawn texts whose boxes overlap by more than OVERLAP_PIXELS."""
    renderer = figure.canvas.get_renderer()
    boxes = [(text.get_text(), text.get_window_extent(renderer)) for text in drawn_texts(figure)]
    pairs = []
    for (first, a), (second, b) in itertools.combinations(boxes, 2):
        width = min(a.x1, b.x1) - max(a.x0, b.x0)
        height = min(a.y1, b.y1) - max(a.y0, b.y0)
        if width > 2 * OVERLAP_PIXELS and height > 2 * OVERLAP_PIXELS:
            pairs.append((first, second))
    return pairs


def points_under_legends(figure):
    """Return (line label, count) for every line with data points under its axes' legend."""
    renderer = figure.canvas.get_renderer()
    covered = []
    for axes in figure.axes:
        legend = axes.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        for line in axes.get_lines():
            xy = np.asarray(line.get_xydata(), dtype=float)
            if xy.size == 0:
                continue
            points = axes.transData.transform(xy)
            inside = ((points[:, 0] > box.x0) & (points[:, 0] < box.x1)
                      & (points[:, 1] > box.y0) & (points[:, 1] < box.y1))
            if inside.any():
                covered.append((line.get_label(), int(inside.sum())))
    return covered


@pytest.mark.parametrize("name, argv", [run for run in EXAMPLE_RUNS if run[1] is not None],
                         ids=[run[0] for run in EXAMPLE_RUNS if run[1] is not None])
def test_example_figure_layout(name, argv, tmp_path, monkeypatch):
    if name == "parametrization":
        pytest.importorskip("igl")
    figure = example_figure(name, argv, tmp_path, monkeypatch)

    assert overlapping_texts(figure) == []
    assert points_under_legends(figure) == []


def test_every_example_is_listed():
    # backprop_graph draws with Graphviz, not matplotlib, so its row has no arguments.
    assert [name for name, _ in EXAMPLE_RUNS] == EXAMPLES


def test_overlap_check_finds_crowded_labels():
    figure = new_figure((2, 2))
    axes = figure.add_subplot()
    axes.set_xticks(np.linspace(0.0, 1.0, 40))
    figure.canvas.draw()

    assert overlapping_texts(figure) != []


def test_legend_check_finds_covered_curve():
    figure = new_figure((3, 3))
    axes = figure.add_subplot()
    axes.plot(np.linspace(0, 1, 50), np.zeros(50), label="flat line")
    axes.set_ylim(-0.01, 0.01)
    axes.legend(loc="center")
    figure.canvas.draw()

    covered = points_under_legends(figure)
    assert [label for label, _ in covered] == ["flat line"]
    assert covered[0][1] > 0
