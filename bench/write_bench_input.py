"""Write the input of the C++ benchmark bench_symmetric_dirichlet.

For each mesh, this script reads the OBJ with libigl, computes the Tutte embedding
of the parametrization example (the starting point of its Newton run), builds
``dt.energies.symmetric_dirichlet`` and writes one text file that contains the traced
tape (the instruction list of ``tape._core.code``), the triangles, the per-element
parameters (rest area A and the rest inverse M⁻¹, row-major) and the evaluation
point. The C++ benchmark rebuilds the same tape from that file, so it times the tape
the Python front end produced.

    PYTHONPATH=python python bench/write_bench_input.py OUT_DIR [MESH ...]

Without MESH it uses bunny_cut and armadillo_cut_low from ../shared/data/meshes.

File layout (whitespace separated, one record per line):

    dualtape-bench-input 1
    mesh NAME
    tape N_INPUTS N_PARAMS SIZE N_OUTPUTS OUTPUT...
    SIZE lines: OP_NAME A B C K
    vertices N_VERTICES DIM
    N_VERTICES lines: the evaluation point x (one vertex per line)
    elements N_ELEMENTS ARITY N_PARAMS
    N_ELEMENTS lines: ARITY vertex indices, then N_PARAMS parameters
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import dualtape as dt
from dualtape import _core
from dualtape.examples.parametrization import read_mesh, signed_areas, tutte_embedding

DEFAULT_MESHES = ("bunny_cut.obj", "armadillo_cut_low.obj")
MESH_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "meshes"))


def write_input(path: str, name: str, energy: dt.ElementEnergy, x: np.ndarray) -> None:
    """Write the tape, elements, parameters and evaluation point of one mesh to path."""
    core = energy.tape._core
    ops, a, b, c, k = core.code
    outputs = list(core.outputs)
    with open(path, "w") as out:
        out.write("dualtape-bench-input 1\n")
        out.write(f"mesh {name}\n")
        out.write(f"tape {core.n_inputs} {core.n_params} {core.size} {len(outputs)} "
                  + " ".join(str(o) for o in outputs) + "\n")
        for i in range(core.size):
            # repr() of a float round-trips exactly and spells infinity as "inf".
            out.write(f"{_core.OP_NAMES[ops[i]]} {a[i]} {b[i]} {c[i]} {float(k[i])!r}\n")
        out.write(f"vertices {x.shape[0]} {x.shape[1]}\n")
        for row in x:
            out.write(" ".join(repr(float(v)) for v in row) + "\n")
        elements, params = energy.elements, energy.params
        out.write(f"elements {elements.shape[0]} {elements.shape[1]} {params.shape[1]}\n")
        for indices, p in zip(elements, params):
            out.write(" ".join(str(int(i)) for i in indices) + " " + " ".join(repr(float(v)) for v in p) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="directory for the NAME.txt input files (created if missing)")
    parser.add_argument("meshes", nargs="*", help="OBJ files (default: bunny_cut and armadillo_cut_low "
                        "from ../shared/data/meshes)")
    args = parser.parse_args(argv)

    meshes = args.meshes or [os.path.join(MESH_DIR, name) for name in DEFAULT_MESHES]
    os.makedirs(args.out_dir, exist_ok=True)
    for mesh in meshes:
        V, F = read_mesh(mesh)
        uv = tutte_embedding(V, F)
        inverted = int(np.sum(signed_areas(uv, F) <= 0))
        if inverted:
            print(f"{mesh}: the Tutte embedding has {inverted} inverted triangles; "
                  "the benchmark needs a point of finite energy", file=sys.stderr)
            return 1
        energy = dt.energies.symmetric_dirichlet(V, F)
        name = os.path.splitext(os.path.basename(mesh))[0]
        path = os.path.join(args.out_dir, name + ".txt")
        write_input(path, name, energy, uv)
        value = dt.Objective([energy], n_vars=V.shape[0]).value(uv)
        print(f"wrote {path}: {V.shape[0]} vertices, {F.shape[0]} triangles, "
              f"tape of {energy.tape.n_operations} operations, energy at the Tutte embedding {value:.9g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
