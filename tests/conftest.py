"""Shared fixtures of the test suite: test meshes, small meshes built in code,
derivative tolerances and the thread-count setting."""

import os
from pathlib import Path

import numpy as np
import pytest

import dualtape as dt

# The shared test meshes live beside the repository, in ../shared/data/meshes.
MESH_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "meshes"
# The NIST StRD files also live there; dualtape.nist reads this variable.
os.environ.setdefault("DUALTAPE_NIST_DIR",
                      str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nist-strd"))

# Tolerances for comparing derivatives with a reference computed in the given dtype
# (closed forms or complex step). The tape always computes in float64, so the
# float32 row covers the rounding error of the reference, not of the tape.
TOLERANCES = {
    np.dtype(np.float64): {"rtol": 1e-10, "atol": 1e-12},
    np.dtype(np.float32): {"rtol": 2e-5, "atol": 2e-6},
}

# Central differences of an exact gradient with step 1e-5 have a truncation error
# of about h² |f''''| and a rounding error of about 1e-16 / h.
CENTRAL_DIFFERENCE_TOLERANCE = {"rtol": 1e-6, "atol": 1e-7}


@pytest.fixture
def tolerance():
    """Return the assert_allclose keyword arguments for a reference dtype."""

    def lookup(dtype):
        return TOLERANCES[np.dtype(dtype)]

    return lookup


@pytest.fixture
def mesh_dir() -> Path:
    """Directory of the shared test meshes; skips the test when it is missing."""
    if not MESH_DIR.is_dir():
        pytest.skip(f"test meshes not found at {MESH_DIR} (expected ../shared/data/meshes "
                    "beside the repository)")
    return MESH_DIR


@pytest.fixture
def bunny_cut_path(mesh_dir) -> Path:
    """Path of bunny_cut.obj, a disk-topology mesh; skips the test when it is missing."""
    path = mesh_dir / "bunny_cut.obj"
    if not path.is_file():
        pytest.skip(f"test mesh not found: {path}")
    return path


def grid_mesh(rows: int, columns: int):
    """Build a triangulated rectangle grid of (rows + 1) × (columns + 1) vertices.

    Returns #V by 2 vertex positions and #F by 3 counterclockwise triangles; every
    interior vertex is shared by six triangles.
    """
    u, v = np.meshgrid(np.arange(columns + 1, dtype=float), np.arange(rows + 1, dtype=float))
    vertices = np.column_stack([u.ravel(), v.ravel()])
    faces = []
    for r in range(rows):
        for c in range(columns):
            a = r * (columns + 1) + c
            b = a + 1
            d = a + columns + 1
            e = d + 1
            faces.append((a, b, e))
            faces.append((a, e, d))
    return vertices, np.array(faces, dtype=np.int64)


@pytest.fixture
def small_grid():
    """A 3 × 4 grid: 20 vertices, 24 triangles, as (vertices, faces)."""
    return grid_mesh(3, 4)


@pytest.fixture
def restore_threads():
    """Reset the thread count of element evaluation to its default (all cores) after the test."""
    yield
    dt.set_num_threads(0)
