"""Surface parametrization by the symmetric Dirichlet energy and projected Newton.

Reads a disk-topology triangle mesh, maps it to the plane by a Tutte embedding with
the boundary on a circle, then minimizes the symmetric Dirichlet energy. Writes the
mesh with texture coordinates (OBJ) and a picture of the 2-D layout (PNG) into the
output directory, named after the mesh file: the mesh ``bunny_cut.obj`` gives
``bunny_cut.obj`` and ``bunny_cut.png``, and the generated disk gives
``parametrization.obj`` and ``parametrization.png``. An output path ending in
``.obj`` or ``.png`` names the two files instead, so ``-o out/bunny.obj`` writes
``out/bunny.obj`` and ``out/bunny.png``.

    python -m dualtape.examples.parametrization [MESH] [-o DIR]
"""

from __future__ import annotations

import os
import sys

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import dualtape as dt
from dualtape.examples._meshes import ring_disk
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

# Suffixes that make -o name the output files instead of their directory.
_FILE_SUFFIXES = (".obj", ".png")


def disk_mesh(rings: int = 12):
    """Build a triangulated, gently curved 3-D disk (a spherical cap) with `rings` rings."""
    xy, faces, _ = ring_disk(rings)
    z = 0.5 * (xy ** 2).sum(axis=1)
    return np.column_stack([xy, z]), faces


def read_mesh(path: str):
    """Read a triangle mesh with libigl; return (#V by 3 vertices, #F by 3 faces)."""
    try:
        import igl
    except ImportError as error:
        raise SystemExit("reading a mesh needs libigl: pip install 'dualtape[mesh]'") from error
    if not os.path.exists(path):
        raise SystemExit(f"mesh file not found: {path}")
    try:
        V, F = igl.read_triangle_mesh(path)
    except RuntimeError as error:  # libigl's error for an unknown format or a failed read
        raise SystemExit(f"{path}: cannot read the mesh: {error}") from error
    if F.ndim != 2 or F.shape[1] != 3 or F.shape[0] == 0:
        raise SystemExit(f"{path}: expected a triangle mesh, got faces of shape {F.shape}")
    return np.asarray(V, dtype=np.float64), np.asarray(F, dtype=np.int64)


def boundary_loop(F: np.ndarray) -> np.ndarray:
    """Return the vertices of the single boundary loop of a disk-topology mesh, in order."""
    try:
        import igl
        loop = np.asarray(igl.boundary_loop(F), dtype=np.int64)
        if loop.size >= 3:
            return loop
    except ImportError:
        pass
    edges = np.concatenate([F[:, [0, 1]], F[:, [1, 2]], F[:, [2, 0]]])
    keys = {}
    for a, b in edges:
        keys[(a, b)] = keys.get((a, b), 0) + 1
    following = {a: b for (a, b) in keys if (b, a) not in keys}
    if not following:
        raise ValueError("the mesh has no boundary; a disk-topology mesh is needed")
    start = next(iter(following))
    loop = [start]
    while following[loop[-1]] != start:
        loop.append(following[loop[-1]])
        if len(loop) > len(following):
            raise ValueError("the mesh boundary is not a single loop; a disk-topology mesh is needed")
    return np.array(loop, dtype=np.int64)


def tutte_embedding(V: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Map the mesh to the unit disk: boundary on the circle by arc length, interior
    vertices at the average of their neighbors (uniform Laplacian). The result has
    no inverted triangle (Tutte's theorem, for a convex boundary)."""
    loop = boundary_loop(F)
    lengths = np.linalg.norm(V[np.roll(loop, -1)] - V[loop], axis=1)
    angles = 2.0 * np.pi * np.concatenate([[0.0], np.cumsum(lengths)[:-1]]) / lengths.sum()
    n = V.shape[0]
    uv = np.zeros((n, 2))
    uv[loop] = np.column_stack([np.cos(angles), np.sin(angles)])

    edges = np.concatenate([F[:, [0, 1]], F[:, [1, 2]], F[:, [2, 0]]])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    A = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    A = (A + A.T).tocsr()
    L = sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A
    interior = np.setdiff1d(np.arange(n), loop)
    L_ii = L[interior][:, interior].tocsc()
    L_ib = L[interior][:, loop]
    rhs = -(L_ib @ uv[loop])
    solve = spla.factorized(L_ii)
    uv[interior, 0] = solve(np.ascontiguousarray(rhs[:, 0]))
    uv[interior, 1] = solve(np.ascontiguousarray(rhs[:, 1]))

    # Orient counterclockwise: the sum of signed areas must be positive.
    if signed_areas(uv, F).sum() < 0:
        uv[:, 1] = -uv[:, 1]
    return uv


def signed_areas(uv: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Return the signed area of every triangle of the 2-D layout (> 0 if counterclockwise)."""
    e1 = uv[F[:, 1]] - uv[F[:, 0]]
    e2 = uv[F[:, 2]] - uv[F[:, 0]]
    return 0.5 * (e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])


def write_obj(path: str, V: np.ndarray, uv: np.ndarray, F: np.ndarray) -> None:
    """Write the mesh with one texture coordinate per vertex."""
    with open(path, "w") as out:
        out.write("# written by dualtape.examples.parametrization\n")
        for v in V:
            out.write(f"v {v[0]:.9g} {v[1]:.9g} {v[2]:.9g}\n")
        for t in uv:
            out.write(f"vt {t[0]:.9g} {t[1]:.9g}\n")
        for f in F + 1:
            out.write(f"f {f[0]}/{f[0]} {f[1]}/{f[1]} {f[2]}/{f[2]}\n")


def plot_layout(uv: np.ndarray, F: np.ndarray, title: str):
    """Draw the 2-D layout with a checkerboard texture and return the figure."""
    from matplotlib.collections import PolyCollection

    span = uv.max(axis=0) - uv.min(axis=0)
    cell = max(span) / 20.0
    centers = uv[F].mean(axis=1)
    checker = (np.floor(centers[:, 0] / cell) + np.floor(centers[:, 1] / cell)) % 2
    colors = np.where(checker[:, None] > 0, [0.93, 0.55, 0.25], [0.98, 0.95, 0.88])
    figure = new_figure((8, 8))
    axes = figure.add_subplot()
    axes.add_collection(PolyCollection(uv[F], facecolors=colors, edgecolors=(0, 0, 0, 0.25), linewidths=0.1))
    axes.set_xlim(uv[:, 0].min(), uv[:, 0].max())
    axes.set_ylim(uv[:, 1].min(), uv[:, 1].max())
    axes.set_aspect("equal")
    axes.set_title(title)
    axes.axis("off")
    return figure


def output_prefix(output: str, mesh) -> str:
    """Create the output directory and return the path of the output files without suffix.

    `output` is a directory, and the files are named after `mesh` (or
    "parametrization" when `mesh` is None). A path that ends in .obj or .png (any
    case) names the files instead.
    """
    stem, suffix = os.path.splitext(output)
    if suffix.lower() in _FILE_SUFFIXES:
        return output_path(os.path.dirname(stem) or ".", os.path.basename(stem))
    name = os.path.splitext(os.path.basename(mesh))[0] if mesh else "parametrization"
    return output_path(output, name)


def parametrize(V: np.ndarray, F: np.ndarray, verbose: int = 1, tol: float = 1e-2, maxiter: int = 200):
    """Run the whole pipeline; return (uv, OptimizeResult)."""
    uv0 = tutte_embedding(V, F)
    energy = dt.energies.symmetric_dirichlet(V, F)
    objective = dt.Objective([energy], n_vars=V.shape[0])
    # Backtracking by 0.8 per rejected step takes longer steps near the barrier of
    # inverted triangles than halving does.
    result = dt.minimize(objective, uv0, method="newton", projection="clamp", eps=1e-9, tol=tol,
                         gtol=0.0, shrink=0.8, maxiter=maxiter, verbose=verbose)
    return result.x, result


def main(argv=None):
    parser = make_parser("parametrization", __doc__,
                         "MESH.obj and MESH.png (named after the mesh file, or parametrization.obj and "
                         "parametrization.png for the generated disk)",
                         extra_help="A path ending in .obj or .png names the two files instead.",
                         file_suffixes=_FILE_SUFFIXES)
    parser.add_argument("mesh", nargs="?", help="triangle mesh file (OBJ, OFF, PLY, STL); "
                        "without it a generated disk mesh is used")
    parser.add_argument("--tol", type=float, default=1e-2,
                        help="stop when the Newton decrement falls below this (default: %(default)s)")
    parser.add_argument("--maxiter", type=int, default=200, help="maximum Newton iterations (default: %(default)s)")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print the iteration table")
    args = parser.parse_args(argv)

    if args.mesh:
        V, F = read_mesh(args.mesh)
        name = os.path.basename(args.mesh)
    else:
        V, F = disk_mesh()
        name = "generated disk"
    print(f"mesh: {name}, {V.shape[0]} vertices, {F.shape[0]} triangles")
    try:
        boundary_loop(F)
    except ValueError as error:
        raise SystemExit(f"{name}: {error}") from None
    # Create the output directory before the solve, so that a bad path fails at once.
    prefix = output_prefix(args.output_dir, args.mesh)
    uv, result = parametrize(V, F, verbose=0 if args.quiet else 1, tol=args.tol, maxiter=args.maxiter)
    if not np.isfinite(result.fun):
        # An infinite energy at the start means an inverted or degenerate triangle in
        # the Tutte embedding, which a triangulated disk does not have.
        raise SystemExit(f"{name}: the energy of the Tutte embedding is not finite ({result.message}); "
                         "a triangle mesh of disk topology is needed")
    areas = signed_areas(uv, F)
    inverted = int(np.sum(areas <= 0))
    print(f"final energy: {result.fun:.6f}")
    print(f"iterations: {result.nit}, status: {result.message}")
    print(f"inverted triangles: {inverted}")

    write_obj(prefix + ".obj", V, uv, F)
    print(f"wrote {prefix}.obj")
    write_plot(prefix + ".png", plot_layout, uv, F, f"{name}: symmetric Dirichlet {result.fun:.3f}", dpi=150)
    return {"energy": result.fun, "iterations": result.nit, "inverted": inverted, "success": result.success,
            "result": result}


if __name__ == "__main__":
    main()
    sys.exit(0)
