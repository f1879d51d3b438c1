"""Ready-made element energies of geometry processing.

Each factory takes a mesh (rest vertex positions and an index array of edges,
faces, tetrahedra, hinges or quads), validates it, precomputes the rest state as
per-element parameters and returns an `ElementEnergy`, ready for `Objective` and
`minimize`. Energies of a deformed 3-D shape take x as a #V by 3 array; the planar
maps (`symmetric_dirichlet`, `arap`) take x as a #V by 2 array.

Distortion energies (symmetric Dirichlet, ARAP, mass-spring, bending) are invariant
under rigid motions of x and take their minimum at the rest state, where their
gradient is zero.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _math as dm
from .elements import ElementEnergy
from .geometry import dihedral_angle

__all__ = ["symmetric_dirichlet", "symmetric_dirichlet_tets", "arap", "arap_tets", "mass_spring",
           "surface_area", "discrete_shells", "quad_planarity", "triangle_rest_frames",
           "tet_rest_frames", "mesh_edges", "mesh_hinges"]


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


# -- validation helpers --------------------------------------------------------


def _check_dimension(V: np.ndarray, dimensions, what: str) -> None:
    if V.shape[1] not in dimensions:
        expected = " or ".join(f"#V by {d}" for d in dimensions)
        raise ValueError(f"vertices must be a {expected} array for {what}; got shape {V.shape}")


def _check_distinct(F: np.ndarray, what: str) -> None:
    """Reject elements that list a vertex twice."""
    for i in range(F.shape[1]):
        for j in range(i + 1, F.shape[1]):
            repeated = F[:, i] == F[:, j]
            if np.any(repeated):
                row = int(np.flatnonzero(repeated)[0])
                raise ValueError(f"{what}[{row}] = {F[row].tolist()} repeats vertex {F[row, i]}; "
                                 "each element needs distinct vertices")


def _as_stiffness(stiffness, n_elements: int, what: str) -> np.ndarray:
    """Return a positive per-element stiffness (length n_elements) from a scalar or an array."""
    if isinstance(stiffness, numbers.Real) and not isinstance(stiffness, bool):
        values = np.full(n_elements, float(stiffness))
    else:
        values = np.asarray(stiffness)
        if values.dtype == object or values.dtype.kind not in "iuf":
            raise TypeError(f"stiffness must be a positive number or a float array of length "
                            f"{n_elements} (one per {what}); got dtype {values.dtype}")
        if values.shape != (n_elements,):
            raise ValueError(f"stiffness must be a number or an array of shape ({n_elements},), one per "
                             f"{what}; got shape {values.shape}")
        values = values.astype(np.float64)
    bad = ~np.isfinite(values) | (values <= 0)
    if np.any(bad):
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(f"stiffness must be finite and > 0; got {values[index]} for {what} {index}")
    return values


def _scale(V: np.ndarray) -> float:
    """Return a length scale of the mesh, for relative degeneracy tolerances."""
    return float(max(np.max(np.abs(V)), np.max(np.ptp(V, axis=0)), 1e-300))


# -- tetrahedra ------------------------------------------------------------------


def tet_rest_frames(vertices, tets):
    """Compute each tetrahedron's rest edge matrix inverse and its rest volume.

    Parameters
    ----------
    vertices : (#V, 3) float array
        Rest positions.
    tets : (#T, 4) int array
        Tetrahedra; either orientation is accepted.

    Returns
    -------
    inverse : (#T, 3, 3) array
        Inverse of D = [x₁ − x₀, x₂ − x₀, x₃ − x₀] at rest, so J = D(x) D⁻¹ is the
        Jacobian of the map from rest to deformed tetrahedron (J = I at rest).
    volume : (#T,) array
        Unsigned rest volumes (> 0).

    Raises
    ------
    ValueError
        When a rest tetrahedron has zero volume, naming the first such one.
    """
    V, T = _as_mesh(vertices, tets, 4, "tets")
    _check_dimension(V, (3,), "tetrahedra")
    _check_distinct(T, "tets")
    D = np.stack([V[T[:, 1]] - V[T[:, 0]], V[T[:, 2]] - V[T[:, 0]], V[T[:, 3]] - V[T[:, 0]]], axis=2)
    volume = np.linalg.det(D) / 6.0
    scale = _scale(V)
    degenerate = np.abs(volume) <= 1e-14 * scale ** 3
    if np.any(degenerate):
        tet = int(np.flatnonzero(degenerate)[0])
        raise ValueError(f"tet {tet} (vertices {T[tet].tolist()}) has zero rest volume; "
                         "remove degenerate tetrahedra before building the energy")
    return np.linalg.inv(D), np.abs(volume)


def _tet_jacobian(x, p):
    # p = (rest volume, D⁻¹ row-major); J = [x₁ − x₀, x₂ − x₀, x₃ − x₀] D⁻¹.
    inverse = np.array([[p[1], p[2], p[3]], [p[4], p[5], p[6]], [p[7], p[8], p[9]]], dtype=object)
    edges = np.empty((3, 3), dtype=object)
    for row in range(3):
        for column in range(3):
            edges[row, column] = x[column + 1, row] - x[0, row]
    return edges @ inverse


def _frobenius_squared(matrix) -> object:
    total = 0.0
    for value in matrix.reshape(-1):
        total = total + value * value
    return total


def _cofactor_squared(J) -> object:
    # ‖cof J‖²_F, the sum of the squared 2×2 minors of J; ‖J⁻¹‖²_F = ‖cof J‖²_F / det(J)².
    total = 0.0
    for rows in ((1, 2), (0, 2), (0, 1)):
        for columns in ((1, 2), (0, 2), (0, 1)):
            minor = (J[rows[0], columns[0]] * J[rows[1], columns[1]]
                     - J[rows[0], columns[1]] * J[rows[1], columns[0]])
            total = total + minor * minor
    return total


def _symmetric_dirichlet_tet(x, p):
    J = _tet_jacobian(x, p)
    det = dm.det(J)
    energy = p[0] * (_frobenius_squared(J) + _cofactor_squared(J) / (det * det))
    return dm.where(det > 0.0, energy, np.inf)


def _tet_params(vertices, tets):
    inverse, volume = tet_rest_frames(vertices, tets)
    _, T = _as_mesh(vertices, tets, 4, "tets")
    return T, np.column_stack([volume, inverse.reshape(-1, 9)])


def symmetric_dirichlet_tets(vertices, tets) -> ElementEnergy:
    """Build the symmetric Dirichlet energy of a deformed tetrahedral mesh.

    E(x) = Σ_t V_t (‖J_t‖²_F + ‖J_t⁻¹‖²_F), where J_t maps the rest tetrahedron t
    to its image in x (#V by 3) and V_t is its rest volume. Each term is at least
    6 V_t, with equality exactly for a rotation, so the rest state is a minimum
    with zero gradient. An inverted or flat image (det J ≤ 0) has energy +inf, so
    a line search that rejects non-finite values never inverts a tetrahedron.

    Parameters
    ----------
    vertices : (#V, 3) float array
        Rest positions.
    tets : (#T, 4) int array
        Tetrahedra, in either orientation.
    """
    T, params = _tet_params(vertices, tets)
    return ElementEnergy(_symmetric_dirichlet_tet, T, 3, params)


# Newton steps for the sum of signed singular values; see `_signed_singular_sum`.
_ROTATION_ITERATIONS = 14


def _signed_singular_sum(J):
    """Return σ₁ + σ₂ + sign(det J) σ₃ = max over rotations R of tr(Rᵀ J), for 3×3 J.

    The sum p of the signed singular values is the largest root of

        p⁴ − 2 I p² − 8 det(J) p + 2 ‖C‖²_F − I² = 0,   C = JᵀJ, I = tr C,

    from the invariants of C. Newton's method started at the upper bound
    p₀ = √(I + 2 √(II + 2 √(3 I) |det J|)) (II = ½ (I² − ‖C‖²_F)) decreases
    monotonically to that root, because the quartic is convex and increasing
    right of it. The steps are unrolled into the tape, so the derivative of the
    last iterate is the derivative of the root by the implicit function theorem.
    """
    C = J.T @ J
    trace = C[0, 0] + C[1, 1] + C[2, 2]
    squared = _frobenius_squared(C)
    second = 0.5 * (trace * trace - squared)
    det = dm.det(J)
    p = dm.sqrt(trace + 2.0 * dm.sqrt(second + 2.0 * dm.sqrt(3.0 * trace) * dm.abs(det)))
    for _ in range(_ROTATION_ITERATIONS):
        value = p ** 4 - 2.0 * trace * p * p - 8.0 * det * p + 2.0 * squared - trace * trace
        slope = 4.0 * p ** 3 - 4.0 * trace * p - 8.0 * det
        p = p - value / dm.where(slope > 0.0, slope, 1.0)
    return p


def _arap_tet(x, p):
    J = _tet_jacobian(x, p)
    # ‖J − R‖²_F = ‖J‖²_F − 2 tr(RᵀJ) + 3, minimized over rotations R.
    return p[0] * (_frobenius_squared(J) - 2.0 * _signed_singular_sum(J) + 3.0)


def arap_tets(vertices, tets) -> ElementEnergy:
    """Build the as-rigid-as-possible (ARAP) energy of a deformed tetrahedral mesh.

    E(x) = Σ_t V_t min_{R ∈ SO(3)} ‖J_t − R‖²_F, where J_t maps the rest
    tetrahedron t to its image in x (#V by 3) and V_t is its rest volume.

    The rotation is eliminated in closed form instead of by local/global steps:
    the minimum is ‖J‖²_F − 2 (σ₁ + σ₂ + sign(det J) σ₃) + 3, with σᵢ the singular
    values of J (the polar decomposition J = R S gives tr(RᵀJ) = tr S). The sum of
    signed singular values is computed inside the tape as the root of a quartic in
    the invariants of JᵀJ (no SVD), so value, gradient and Hessian are those of
    the exact energy. Since the minimizing R makes the derivative with respect to
    R vanish, the gradient equals 2 V_t (J − R) with R held fixed.

    NOTE: an inverted tetrahedron whose two smallest singular values are equal
    has no unique closest rotation. There the energy is not differentiable, and
    the Newton iteration inside the tape converges only linearly, so its value
    is accurate to about 1e-5 relative.

    Parameters
    ----------
    vertices : (#V, 3) float array
        Rest positions.
    tets : (#T, 4) int array
        Tetrahedra, in either orientation.
    """
    T, params = _tet_params(vertices, tets)
    return ElementEnergy(_arap_tet, T, 3, params)


# -- planar ARAP -------------------------------------------------------------------


def _arap_triangle(x, p):
    area = p[0]
    inverse = np.array([[p[1], p[2]], [p[3], p[4]]], dtype=object)
    edges = np.array([[x[1, 0] - x[0, 0], x[2, 0] - x[0, 0]],
                      [x[1, 1] - x[0, 1], x[2, 1] - x[0, 1]]], dtype=object)
    J = edges @ inverse
    # The rotation by angle φ maximizing tr(RᵀJ) = (J₀₀ + J₁₁) cos φ + (J₁₀ − J₀₁) sin φ
    # attains the value hypot(J₀₀ + J₁₁, J₁₀ − J₀₁).
    rotation_trace = dm.hypot(J[0, 0] + J[1, 1], J[1, 0] - J[0, 1])
    return area * (_frobenius_squared(J) - 2.0 * rotation_trace + 2.0)


def arap(vertices, faces) -> ElementEnergy:
    """Build the as-rigid-as-possible (ARAP) energy of a planar map of a triangle mesh.

    E(x) = Σ_f A_f min_{R ∈ SO(2)} ‖J_f − R‖²_F, where J_f maps the rest triangle f
    (from ``vertices``, 2-D or 3-D) to its image in x (#V by 2) and A_f is its rest
    area. The closest rotation (the rotation factor of the polar decomposition) is
    eliminated in closed form: the minimum is ‖J‖²_F − 2 hypot(J₀₀ + J₁₁, J₁₀ − J₀₁)
    + 2, which the tape differentiates exactly, so no local/global alternation is
    needed. The energy is 0 exactly for rotations and has no barrier against
    inverted triangles. At J₀₀ + J₁₁ = J₁₀ − J₀₁ = 0 (for example a triangle
    collapsed to a point) the rotation is not unique and the gradient of hypot is
    taken as 0.

    Parameters
    ----------
    vertices : (#V, 3) or (#V, 2) float array
        Rest positions.
    faces : (#F, 3) int array
        Triangles.
    """
    inverse, area = triangle_rest_frames(vertices, faces)
    _, F = _as_mesh(vertices, faces, 3, "faces")
    params = np.column_stack([area, inverse.reshape(-1, 4)])
    return ElementEnergy(_arap_triangle, F, 2, params)


# -- edges -------------------------------------------------------------------------


def mesh_edges(elements, tets: bool = False) -> np.ndarray:
    """Return the unique undirected edges of a mesh as a sorted #E by 2 int array.

    ``elements`` is a #F by k array of polygons (k = 3 triangles, k = 4 quads),
    whose edges join cyclically consecutive vertices, or with ``tets=True`` a
    #T by 4 array of tetrahedra, whose edges join every pair of its vertices.
    A #E by 2 array is returned deduplicated. Each row (i, j) has i < j.
    """
    F = np.asarray(elements)
    if F.dtype == object or F.dtype.kind not in "iu":
        raise TypeError(f"elements must be an integer array; got dtype {F.dtype}")
    if F.ndim != 2 or F.shape[1] < 2 or F.shape[0] == 0:
        raise ValueError(f"elements must be a non-empty #F by k array (k >= 2); got shape {F.shape}")
    if tets and F.shape[1] != 4:
        raise ValueError(f"tets=True needs a #T by 4 array; got shape {F.shape}")
    F = F.astype(np.int64)
    k = F.shape[1]
    if tets:
        pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    elif k == 2:
        pairs = [(0, 1)]
    else:
        pairs = [(i, (i + 1) % k) for i in range(k)]
    edges = np.concatenate([F[:, list(pair)] for pair in pairs])
    return np.unique(np.sort(edges, axis=1), axis=0)


def _spring(x, p):
    # p = (stiffness k, rest length L).
    return 0.5 * p[0] * (dm.norm(x[1] - x[0]) - p[1]) ** 2


def mass_spring(vertices, edges, stiffness=1.0) -> ElementEnergy:
    """Build the mass-spring energy on the edge lengths of a mesh.

    E(x) = Σ_e ½ k_e (‖x_j − x_i‖ − L_e)², with L_e the rest length of edge
    e = (i, j) in ``vertices``. Zero with zero gradient at the rest state and at
    every rigid motion of it. Build edges of a triangle or quad mesh with
    `mesh_edges`.

    Parameters
    ----------
    vertices : (#V, 2) or (#V, 3) float array
        Rest positions; x has the same shape.
    edges : (#E, 2) int array
        Springs.
    stiffness : float or (#E,) float array
        Spring constants k_e > 0.
    """
    V, E = _as_mesh(vertices, edges, 2, "edges")
    _check_distinct(E, "edges")
    length = np.linalg.norm(V[E[:, 1]] - V[E[:, 0]], axis=1)
    degenerate = length <= 1e-14 * _scale(V)
    if np.any(degenerate):
        edge = int(np.flatnonzero(degenerate)[0])
        raise ValueError(f"edge {edge} (vertices {E[edge].tolist()}) has zero rest length; "
                         "merge its vertices or remove the edge")
    k = _as_stiffness(stiffness, E.shape[0], "edge")
    return ElementEnergy(_spring, E, V.shape[1], np.column_stack([k, length]))


# -- surfaces ----------------------------------------------------------------------


def _triangle_area(x):
    return 0.5 * dm.norm(dm.cross(x[1] - x[0], x[2] - x[0]))


def surface_area(vertices, faces) -> ElementEnergy:
    """Build the total area Σ_f ½ ‖(x₁ − x₀) × (x₂ − x₀)‖ of a triangle mesh in 3-D.

    Its gradient at a vertex is the area gradient ½ N × e summed over the incident
    triangles (see `dualtape.geometry.triangle_area_gradient`), which is the
    discrete mean curvature normal times the vertex area; minimizing it with a
    fixed boundary gives a discrete minimal surface. The rest ``vertices`` only fix
    the number of vertices and the dimension; a triangle of zero area is allowed
    (its area gradient is 0).

    Parameters
    ----------
    vertices : (#V, 3) float array
        Positions (the energy does not depend on them).
    faces : (#F, 3) int array
        Triangles.
    """
    V, F = _as_mesh(vertices, faces, 3, "faces")
    _check_dimension(V, (3,), "surface_area")
    _check_distinct(F, "faces")
    return ElementEnergy(_triangle_area, F, 3)


def mesh_hinges(faces) -> np.ndarray:
    """Return the interior edges of a consistently oriented manifold triangle mesh.

    Returns
    -------
    (#H, 4) int array
        Row (a, b, c, d): the edge (a, b), the triangle (a, b, c) and the triangle
        (b, a, d) on its other side, the order `dualtape.geometry.dihedral_angle`
        takes.

    Raises
    ------
    ValueError
        When an edge is used twice in the same direction (inconsistent orientation
        or a non-manifold edge), naming the faces.
    """
    F = np.asarray(faces)
    if F.dtype == object or F.dtype.kind not in "iu":
        raise TypeError(f"faces must be an integer array; got dtype {F.dtype}")
    if F.ndim != 2 or F.shape[1] != 3 or F.shape[0] == 0:
        raise ValueError(f"faces must be a non-empty #F by 3 array; got shape {F.shape}")
    opposite = {}
    owner = {}
    for face, (i, j, k) in enumerate(F.tolist()):
        for a, b, c in ((i, j, k), (j, k, i), (k, i, j)):
            if (a, b) in opposite:
                raise ValueError(f"the directed edge ({a}, {b}) belongs to faces {owner[(a, b)]} and "
                                 f"{face}; the mesh must be manifold and consistently oriented")
            opposite[(a, b)] = c
            owner[(a, b)] = face
    hinges = [(a, b, c, opposite[(b, a)]) for (a, b), c in opposite.items()
              if a < b and (b, a) in opposite]
    return np.array(hinges, dtype=np.int64).reshape(-1, 4)


def _bending(x, p):
    # p = (weight 3 k ‖ē‖² / (Ā₁ + Ā₂), rest angle θ̄).
    angle = dihedral_angle(x[0], x[1], x[2], x[3])
    return p[0] * (angle - p[1]) ** 2


def discrete_shells(vertices, faces, stiffness=1.0) -> ElementEnergy:
    """Build the discrete-shells bending energy on the dihedral angles of a surface.

    E(x) = Σ_e k_e · 3 ‖ē‖² / (Ā₁ + Ā₂) · (θ_e − θ̄_e)², summed over the interior
    edges e of the mesh, where θ_e is the signed dihedral angle of the two
    triangles at e (`dualtape.geometry.dihedral_angle`), and the rest length ‖ē‖,
    the rest areas Ā₁, Ā₂ of the two triangles and the rest angle θ̄_e come from
    ``vertices``. The weight ‖ē‖² / (Ā₁ + Ā₂) makes the sum converge to a bending
    energy ∫ (H − H̄)² dA under refinement. Zero with zero gradient at the rest
    state and invariant under rigid motions.

    Parameters
    ----------
    vertices : (#V, 3) float array
        Rest positions.
    faces : (#F, 3) int array
        Consistently oriented manifold triangles (see `mesh_hinges`).
    stiffness : float or (#H,) float array
        Bending stiffness k_e > 0, per hinge in the order of `mesh_hinges`.

    Raises
    ------
    ValueError
        When the mesh has no interior edge, or a triangle next to one has zero
        rest area (naming the face).
    """
    V, F = _as_mesh(vertices, faces, 3, "faces")
    _check_dimension(V, (3,), "discrete_shells")
    _check_distinct(F, "faces")
    double_area = np.linalg.norm(np.cross(V[F[:, 1]] - V[F[:, 0]], V[F[:, 2]] - V[F[:, 0]]), axis=1)
    degenerate = double_area <= 1e-14 * _scale(V) ** 2
    if np.any(degenerate):
        face = int(np.flatnonzero(degenerate)[0])
        raise ValueError(f"face {face} (vertices {F[face].tolist()}) has zero rest area; "
                         "remove degenerate triangles before building the energy")
    H = mesh_hinges(F)
    if H.shape[0] == 0:
        raise ValueError("the mesh has no interior edge, so it has no dihedral angle to bend")
    k = _as_stiffness(stiffness, H.shape[0], "hinge")
    a, b, c, d = (V[H[:, i]] for i in range(4))
    area1 = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    area2 = 0.5 * np.linalg.norm(np.cross(d - a, b - a), axis=1)
    length_squared = np.einsum("ij,ij->i", b - a, b - a)
    # The rest angles by the formula of `dihedral_angle`, vectorized over hinges.
    normal1 = np.cross(b - a, c - a)
    normal2 = np.cross(d - a, b - a)
    sine = np.einsum("ij,ij->i", np.cross(normal1, normal2), b - a) / np.sqrt(length_squared)
    rest_angle = np.arctan2(sine, np.einsum("ij,ij->i", normal1, normal2))
    weight = 3.0 * k * length_squared / (area1 + area2)
    return ElementEnergy(_bending, H, 3, np.column_stack([weight, rest_angle]))


# -- quads -------------------------------------------------------------------------


def _quad_planarity(x, p):
    # p = (k / L̄², L̄ the mean rest diagonal length). The distance between the lines
    # through the diagonals (x₀, x₂) and (x₁, x₃) is |(x₁ − x₀) · n| with n the unit
    # normal to both diagonals; it is 0 exactly when the quad is planar.
    normal = dm.cross(x[2] - x[0], x[3] - x[1])
    distance = dm.dot(x[1] - x[0], normal) / dm.norm(normal)
    return p[0] * distance * distance


def quad_planarity(vertices, quads, stiffness=1.0) -> ElementEnergy:
    """Build the planarity energy of a quad mesh in 3-D.

    E(x) = Σ_q k_q (d_q / L̄_q)², where d_q is the distance between the two diagonal
    lines of quad q = (x₀, x₁, x₂, x₃), d = |(x₁ − x₀) · n| with n the unit vector
    along (x₂ − x₀) × (x₃ − x₁), and L̄_q the mean length of the rest diagonals. The
    energy is 0 exactly on planar quads, invariant under rigid motions, and does
    not change when the mesh is scaled together with its rest state.

    Parameters
    ----------
    vertices : (#V, 3) float array
        Rest positions (they set L̄_q; the rest quads need not be planar).
    quads : (#Q, 4) int array
        Quads, vertices in cyclic order.
    stiffness : float or (#Q,) float array
        Weights k_q > 0.

    Raises
    ------
    ValueError
        When the rest diagonals of a quad are parallel or of zero length (naming
        the quad), since the distance between the diagonals is then undefined.
    """
    V, Q = _as_mesh(vertices, quads, 4, "quads")
    _check_dimension(V, (3,), "quad_planarity")
    _check_distinct(Q, "quads")
    first = V[Q[:, 2]] - V[Q[:, 0]]
    second = V[Q[:, 3]] - V[Q[:, 1]]
    mean_diagonal = 0.5 * (np.linalg.norm(first, axis=1) + np.linalg.norm(second, axis=1))
    cross = np.linalg.norm(np.cross(first, second), axis=1)
    degenerate = cross <= 1e-10 * mean_diagonal ** 2
    if np.any(degenerate):
        quad = int(np.flatnonzero(degenerate)[0])
        raise ValueError(f"quad {quad} (vertices {Q[quad].tolist()}) has parallel or zero-length "
                         "rest diagonals; its planarity is undefined")
    k = _as_stiffness(stiffness, Q.shape[0], "quad")
    return ElementEnergy(_quad_planarity, Q, 3, (k / mean_diagonal ** 2).reshape(-1, 1))
