"""Draw a tape as a computation graph: Graphviz DOT text, and SVG/PNG/PDF through `dot`.

Each instruction of the tape is one node (after the tape's dead-code removal and
the merging of duplicate constants), and each argument an edge into it. At a given
point, each node also shows its value from the forward sweep and its adjoint from
the reverse sweep: the derivative of wᵀf, where w weights the outputs (w = 1 for
a scalar function, so the adjoints of the input nodes are the gradient).
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import numpy as np

from . import _core

__all__ = ["to_dot", "render"]

_RENDER_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}

# Label of each operation in the picture; operations not listed use their lower-case name.
_SYMBOLS = {
    "Add": "+", "Sub": "−", "Mul": "×", "Div": "÷", "Neg": "negate", "Square": "square",
    "Min": "min", "Max": "max", "Lt": "<", "Le": "≤", "Gt": ">", "Ge": "≥", "Eq": "=",
    "Ne": "≠",
}

# Operations whose argument order matters get labelled edges.
_ORDERED = {"Sub", "Div", "Pow", "Atan2", "Min", "Max", "Lt", "Le", "Gt", "Ge", "Eq", "Ne"}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _number(value: float) -> str:
    return f"{value:.4g}"


def _names(names, count: int, default: str, argument: str) -> list[str]:
    if names is None:
        return [f"{default}[{i}]" for i in range(count)]
    if isinstance(names, str) or len(names) != count:
        got = repr(names) if isinstance(names, str) else f"{len(names)} names"
        raise ValueError(f"{argument} must be a sequence of {count} names; got {got}")
    return [str(name) for name in names]


def _operation_label(op: str, k: float, names_x: list[str], names_p: list[str], index: int) -> str:
    if op == "Input":
        return names_x[index]
    if op == "Param":
        return names_p[index]
    if op == "Const":
        return _number(k)
    if op == "PowConst":
        return f"pow {_number(k)}"
    return _SYMBOLS.get(op, op.lower())


def _edge_labels(op: str, arity: int) -> list[str]:
    if op == "Where":
        return ["if true", "if false", "condition"]
    if op in _ORDERED:
        return ["a", "b"]
    return [""] * arity


def to_dot(tape, x=None, p=None, w=None, input_names=None, param_names=None) -> str:
    """Return the Graphviz DOT text of a tape's computation graph.

    Parameters
    ----------
    tape : dualtape.Tape
        The recorded program.
    x, p : array_like, optional
        A point (``n_inputs`` variables and ``n_params`` parameters). When x is
        given, each node shows its value and its adjoint at that point.
    w : array_like, optional
        Weights of the outputs for the reverse sweep (length ``n_outputs``);
        ones by default, so for a scalar function the adjoints are derivatives of f.
    input_names, param_names : sequence of str, optional
        Labels of the input and parameter nodes; ``x[i]`` and ``p[j]`` by default.
    """
    names_x = _names(input_names, tape.n_inputs, "x", "input_names")
    names_p = _names(param_names, tape.n_params, "p", "param_names")
    ops, a, b, c, k = tape._core.code
    outputs = list(tape._core.outputs)

    values = adjoints = None
    if x is not None:
        values, adjoints = _sweep(tape, x, p, w)

    lines = [
        "digraph tape {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    arguments = (a, b, c)
    for i, code in enumerate(ops):
        op = _core.OP_NAMES[int(code)]
        label = [_operation_label(op, float(k[i]), names_x, names_p, int(a[i]))]
        if values is not None:
            if op != "Const":
                label.append(f"value = {_number(values[i])}")
            label.append(f"adjoint = {_number(adjoints[i])}")
        for position, slot in enumerate(outputs):
            if slot == i:
                label.append(f"output {position}" if len(outputs) > 1 else "output")
        lines.append(f"  s{i} [label={_quote(chr(10).join(label))}{_node_style(op, i in outputs)}];")

        arity = _arity(op)
        edge_labels = _edge_labels(op, arity)
        for position in range(arity):
            source = int(arguments[position][i])
            text = edge_labels[position]
            attributes = f" [label={_quote(text)}]" if text else ""
            lines.append(f"  s{source} -> s{i}{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_BINARY_OPS = {"Add", "Sub", "Mul", "Div", "Pow", "Atan2", "Min", "Max", "Hypot",
               "Lt", "Le", "Gt", "Ge", "Eq", "Ne"}


def _arity(op: str) -> int:
    """Number of slot arguments, as in the C++ operation table."""
    if op in ("Input", "Param", "Const"):
        return 0
    if op == "Where":
        return 3
    return 2 if op in _BINARY_OPS else 1


def _node_style(op: str, is_output: bool) -> str:
    style = ""
    if op == "Input":
        style = ", shape=ellipse, fillcolor=lightblue"
    elif op == "Param":
        style = ", shape=ellipse, fillcolor=lightyellow"
    elif op == "Const":
        style = ", shape=plaintext, style=solid"
    if is_output:
        style += ", peripheries=2"
    return style


def _sweep(tape, x, p, w):
    from .tracing import _as_point

    x = _as_point(x, tape.n_inputs, "x")
    p = _as_point(p, tape.n_params, "p")
    w = np.ones(tape.n_outputs) if w is None else _as_point(w, tape.n_outputs, "w")
    return tape._core.sweep(x, p, w)


def render(tape, path, x=None, p=None, w=None, input_names=None, param_names=None,
           timeout: float = 60.0) -> pathlib.Path:
    """Write the computation graph to an SVG, PNG or PDF file with Graphviz's ``dot``.

    The format follows the file's suffix (``.svg``, ``.png`` or ``.pdf``); the other
    arguments are those of `to_dot`. Returns the path written.

    Raises
    ------
    RuntimeError
        If the ``dot`` program is not installed (install Graphviz, for example
        ``apt-get install graphviz``), fails, or runs longer than ``timeout`` seconds.
    ValueError
        If the suffix is not one of the supported formats.
    """
    path = pathlib.Path(path)
    output_format = _RENDER_FORMATS.get(path.suffix.lower())
    if output_format is None:
        raise ValueError(f"path must end in .svg, .png or .pdf to choose the format; got {str(path)!r}")
    text = to_dot(tape, x, p, w, input_names, param_names)

    program = shutil.which("dot")
    if program is None:
        raise RuntimeError(
            f"cannot write {str(path)!r}: the Graphviz program `dot` is not installed or not on "
            "PATH; install Graphviz (Debian/Ubuntu: apt-get install graphviz, macOS: brew install "
            "graphviz), or save tape.to_dot() to a .dot file and render it elsewhere")
    try:
        completed = subprocess.run([program, f"-T{output_format}", "-o", str(path)], input=text,
                                   capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"`dot` did not finish writing {str(path)!r} within {timeout} s") from None
    if completed.returncode != 0:
        raise RuntimeError(f"`dot` failed with exit status {completed.returncode} while writing "
                           f"{str(path)!r}: {completed.stderr.strip()}")
    return path
