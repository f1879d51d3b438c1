"""The command line shared by the examples: -o DIR, file names and the optional plot."""

import importlib
import importlib.util
import pkgutil

import numpy as np
import pytest

import dualtape.examples
from dualtape.examples import _output

EXAMPLES = sorted(module.name for module in pkgutil.iter_modules(dualtape.examples.__path__)
                  if not module.name.startswith("_"))


def test_examples_are_found():
    assert len(EXAMPLES) == 19
    assert "parametrization" in EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_help_documents_output_dir(name, capsys):
    module = importlib.import_module(f"dualtape.examples.{name}")
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"usage: python -m dualtape.examples.{name}" in help_text
    assert "-o DIR, --output-dir DIR" in help_text
    assert "output directory for" in help_text
    assert "created if missing" in help_text
    if name != "parametrization":
        assert f"{name}.png" in help_text


def test_output_path_creates_missing_directories(tmp_path):
    path = _output.output_path(str(tmp_path / "a" / "b"), "name.png")
    assert path == str(tmp_path / "a" / "b" / "name.png")
    assert (tmp_path / "a" / "b").is_dir()
    # An existing directory is fine.
    assert _output.output_path(str(tmp_path / "a" / "b"), "name.png") == path


@pytest.mark.parametrize("name", EXAMPLES)
def test_existing_file_as_output_dir_rejected_before_run(name, tmp_path, capsys):
    module = importlib.import_module(f"dualtape.examples.{name}")
    existing_file = tmp_path / "existing_file"
    existing_file.write_text("")
    with pytest.raises(SystemExit) as exit_info:
        module.main(["-o", str(existing_file)])
    assert exit_info.value.code == 2
    assert f"{existing_file} exists and is not a directory" in capsys.readouterr().err


def test_output_path_rejects_file_as_directory(tmp_path):
    (tmp_path / "taken").write_text("")
    with pytest.raises(OSError):
        _output.output_path(str(tmp_path / "taken"), "name.png")


def test_write_plot_saves_returned_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")

    def plot(values):
        figure = _output.new_figure((3, 2))
        figure.add_subplot().plot(values)
        return figure

    filename = str(tmp_path / "line.png")
    assert _output.write_plot(filename, plot, [1.0, 2.0, 0.5]) == filename
    with open(filename, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out == f"wrote {filename}\n"


def test_write_plot_skips_without_matplotlib(tmp_path, monkeypatch, capsys):
    find_spec = importlib.util.find_spec

    def without_matplotlib(name, *args, **kwargs):
        return None if name == "matplotlib" else find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", without_matplotlib)
    calls = []
    result = _output.write_plot(str(tmp_path / "line.png"), lambda: calls.append(1))
    assert result is None
    assert calls == []
    assert not (tmp_path / "line.png").exists()
    assert "skipped line.png: matplotlib is missing (pip install matplotlib)" in capsys.readouterr().out


@pytest.mark.parametrize("costs, scale", [
    ([0.17799, 0.17771, 0.17771], "linear"),
    ([1e5, 480.0, 420.0, 420.0], "log"),
    ([0.0, 0.0], "linear"),
])
def test_plot_cost_history_picks_scale(costs, scale):
    pytest.importorskip("matplotlib")
    figure = _output.new_figure((3, 2))
    axes = figure.add_subplot()

    _output.plot_cost_history(axes, costs)
    figure.canvas.draw()

    assert axes.get_yscale() == scale
    assert axes.get_ylabel() == "cost ½‖r‖²"
    ticks = axes.get_xticks()
    np.testing.assert_array_equal(ticks, np.round(ticks))
    labels = [label.get_text() for label in axes.get_yticklabels()]
    assert not any("×" in label or "times" in label for label in labels)
