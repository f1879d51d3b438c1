"""Ready-made element energies of geometry processing."""

from __future__ import annotations

import numpy as np

from . import _math as dm
from .elements import ElementEnergy

__all__ = ["symmetric_dirichlet", "triangle_rest_frames"]


def _as_mesh(vertices, faces, arity: int, what: str):
    V = np.asarray(vertices)
    if V.dtype == object or V.dtype.kind not in "biuf":
        raise TypeError(f"vertices must be a real float array; got dtype {V.dtype}")
    if V.ndim != 2 or V.shape[1] not in (2, 3) or V.shape[0] == 0:
        raise ValueError(f"vertices must be a non-empty #V by 2 or #V by 3 array; got shape {V.shape}")
    V = np.ascontiguousarray(V, dtype=np.float64)
    if not np.all(np.isfinite(V)):
        raise ValueError(f"vertices row {int(np.argwhere(~np.isfinite(V))[0][0])} contains NaN or inf")
    F = np.asarray(faces)
    if F.dtype == object or F.dtype.kind not in "iu":
        raise TypeError(f"{what} must be an integer array; got dtype {F.dtype}")
    if F.ndim != 2 or F.shape[1] != arity:
        raise ValueError(f"{what} must be a #F by {arity} array of vertex indices; got shape {F.shape}")
    if F.shape[0] == 0:
        raise ValueError(f"{what} is empty")
    bad = (F < 0) | (F >= V.shape[0])
    if np.any(bad):
        row, column = np.argwhere(bad)[0]
        raise IndexError(f"{what}[{row}, {column}] = {F[row, column]} is outside [0, {V.shape[0]})")
    return V, np.ascontiguousarray(F, dtype=np.int64)


def triangle_rest_frames(vertices, faces):
    """Compute each triangle's rest shape in its own 2-D frame.

    Returns
    -------
    inverse : (#F, 2, 2) array
        Inverse of the rest edge matrix M = [e₁ e₂] (edges from vertex 0, in a frame
        whose first axis is e₁), so J = [x₁ − x₀, x₂ − x₀] M⁻¹ is the Jacobian of the
        map from rest to deformed triangle.
    area : (#F,) array
        Rest areas (> 0).

    Raises
    ------
    ValueError
        When a rest triangle has zero area, naming the first such face.
    """
    V, F = _as_mesh(vertices, faces, 3, "faces")
    if V.shape[1] == 2:
        V = np.hstack([V, np.zeros((V.shape[0], 1))])
    e1 = V[F[:, 1]] - V[F[:, 0]]
    e2 = V[F[:, 2]] - V[F[:, 0]]
    length1 = np.linalg.norm(e1, axis=1)
    normal = np.cross(e1, e2)
    double_area = np.linalg.norm(normal, axis=1)
    scale = np.maximum(np.max(np.abs(V)), 1.0)
    degenerate = double_area <= 1e-14 * scale * scale
    if np.any(degenerate):
        face = int(np.flatnonzero(degenerate)[0])
        raise ValueError(f"face {face} (vertices {F[face].tolist()}) has zero rest area; "
                         "remove degenerate triangles before building the energy")
    u = e1 / length1[:, None]
    v = np.cross(normal / double_area[:, None], u)
    M = np.empty((F.shape[0], 2, 2))
    M[:, 0, 0] = length1
    M[:, 1, 0] = 0.0
    M[:, 0, 1] = np.einsum("ij,ij->i", e2, u)
    M[:, 1, 1] = np.einsum("ij,ij->i", e2, v)
    return np.linalg.inv(M), 0.5 * double_area


def _symmetric_dirichlet_triangle(x, p):
    # p = (rest area, M⁻¹ row-major).
    area = p[0]
    inverse = np.array([[p[1], p[2]], [p[3], p[4]]], dtype=object)
    edges = np.array([[x[1, 0] - x[0, 0], x[2, 0] - x[0, 0]],
                      [x[1, 1] - x[0, 1], x[2, 1] - x[0, 1]]], dtype=object)
    J = edges @ inverse
    det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
    frobenius = J[0, 0] ** 2 + J[0, 1] ** 2 + J[1, 0] ** 2 + J[1, 1] ** 2
    # ‖J⁻¹‖²_F = ‖J‖²_F / det(J)² for 2×2 matrices.
    energy = area * (frobenius + frobenius / (det * det))
    return dm.where(det > 0.0, energy, np.inf)


def symmetric_dirichlet(vertices, faces) -> ElementEnergy:
    """Build the symmetric Dirichlet energy of a planar map of a triangle mesh.

    E(x) = Σ_f A_f (‖J_f‖²_F + ‖J_f⁻¹‖²_F), where J_f maps the rest triangle f (from
    ``vertices``, 2-D or 3-D) to its image in x (#V by 2) and A_f is its rest area.
    Each term is at least 4 A_f, with equality for a rotation. An inverted or
    degenerate image triangle (det J ≤ 0) has energy +inf, so a line search that
    rejects non-finite values keeps every iterate free of inversions.

    Parameters
    ----------
    vertices : (#V, 3) or (#V, 2) float array
        Rest positions.
    faces : (#F, 3) int array
        Triangles, counterclockwise in the parametrization.
    """
    inverse, area = triangle_rest_frames(vertices, faces)
    params = np.column_stack([area, inverse.reshape(-1, 4)])
    _, F = _as_mesh(vertices, faces, 3, "faces")
    return ElementEnergy(_symmetric_dirichlet_triangle, F, 2, params)
