"""Geometric quantities of points, edges, triangles and tetrahedra.

Every function takes its points as 1-D vectors (floats, NumPy arrays, or object
arrays of traced symbols or Dual numbers) and is built from `dualtape` math, so
it can be traced and differentiated. Orientation conventions:

- A 2-D triangle (a, b, c) is positive when counterclockwise.
- A 3-D triangle (a, b, c) has the normal (b − a) × (c − a) (right-hand rule).
- A tetrahedron (a, b, c, d) is positive when d lies on the side of the normal
  of the triangle (a, b, c).
"""

from __future__ import annotations

import numpy as np

from . import _math as dm

__all__ = ["edge_length", "triangle_area", "triangle_normal", "triangle_area_gradient",
           "dihedral_angle", "cotangent", "tet_volume"]


def _vector(point, name: str, dimensions=(2, 3)) -> np.ndarray:
    array = point if isinstance(point, np.ndarray) else np.asarray(point)
    if array.ndim != 1 or array.shape[0] not in dimensions:
        lengths = " or ".join(str(d) for d in dimensions)
        where = "2-D or 3-D" if dimensions == (2, 3) else f"{dimensions[0]}-D"
        raise ValueError(f"{name} must be a point in {where} (a vector of length {lengths}); "
                         f"got shape {array.shape}")
    if array.dtype != object and array.dtype.kind not in "biufc":
        raise TypeError(f"{name} must contain numbers; got dtype {array.dtype}")
    return array


def _same_dimension(*named):
    sizes = {name: vector.shape[0] for name, vector in named}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"points must have the same dimension; got {sizes}")


def _points(names, values, dimensions=(2, 3)):
    vectors = [_vector(value, name, dimensions) for name, value in zip(names, values)]
    _same_dimension(*zip(names, vectors))
    return vectors


def _safe_divisor(value):
    # 1 where value is 0, so x / value stays finite. `where` gives the unselected
    # branch a zero derivative, so the substitute never leaks into derivatives.
    return dm.where(value > 0.0, value, 1.0)


def edge_length(a, b):
    """Compute the length ‖b − a‖ of the edge from a to b.

    Its gradient with respect to b is (b − a)/‖b − a‖, and 0 when a = b.
    """
    a, b = _vector(a, "a"), _vector(b, "b")
    _same_dimension(("a", a), ("b", b))
    return dm.norm(b - a)


def triangle_area(a, b, c):
    """Compute the area of the triangle (a, b, c).

    In 2-D the area is signed: ½ (b − a) × (c − a), positive for counterclockwise
    vertices. In 3-D it is ½ ‖(b − a) × (c − a)‖ ≥ 0. A degenerate triangle has
    area 0, with gradient 0 in 3-D (never NaN).
    """
    a, b, c = _vector(a, "a"), _vector(b, "b"), _vector(c, "c")
    _same_dimension(("a", a), ("b", b), ("c", c))
    normal = dm.cross(b - a, c - a)
    if a.shape[0] == 2:
        return 0.5 * normal
    return 0.5 * dm.norm(normal)


def triangle_normal(a, b, c):
    """Compute the unit normal N = n / ‖n‖ of a 3-D triangle, n = (b − a) × (c − a).

    Derivative rule: dN = (I − N Nᵀ) dn / ‖n‖, the change of n projected onto the
    plane of the triangle. A degenerate triangle (n = 0) has the normal (0, 0, 0)
    with zero derivative.

    Returns
    -------
    (3,) array
        Float array for float input, object array for symbols or Dual numbers.
    """
    a, b, c = _points("abc", (a, b, c), dimensions=(3,))
    normal = dm.cross(b - a, c - a)
    divisor = _safe_divisor(dm.norm(normal))
    # Component by component, since NumPy cannot divide an object array by a
    # traced scalar directly.
    return np.array([component / divisor for component in normal], dtype=normal.dtype)


def triangle_area_gradient(a, b, c):
    """Compute the gradient of `triangle_area` with respect to a, b and c.

    In 3-D, ∇ₚA = ½ N × e for each corner p, where N is the unit normal and e the
    opposite edge, oriented counterclockwise around N (e = c − b for p = a,
    a − c for p = b, b − a for p = c). In 2-D, for the signed area, the same rule
    with N = (0, 0, 1) gives ∇ₚA = ½ (−e_y, e_x). A degenerate 3-D triangle has the
    gradient 0, as the automatic derivative of `triangle_area` has.

    Returns
    -------
    (3, dim) array
        Row i is the gradient with respect to the i-th point.
    """
    a, b, c = _points("abc", (a, b, c))
    edges = (c - b, a - c, b - a)
    if a.shape[0] == 2:
        rows = [[-0.5 * e[1], 0.5 * e[0]] for e in edges]
    else:
        normal = triangle_normal(a, b, c)
        rows = [list(0.5 * dm.cross(normal, e)) for e in edges]
    dtype = object if any(v.dtype == object for v in (a, b, c)) else np.result_type(a, b, c, float)
    return np.array(rows, dtype=dtype)


def dihedral_angle(a, b, c, d):
    """Compute the signed bending angle at the edge (a, b) of two 3-D triangles.

    The triangles are (a, b, c) and (b, a, d), consistently oriented, with
    normals n₁ = (b − a) × (c − a) and n₂ = (d − a) × (b − a). The angle between
    them is

        θ = atan2((n₁ × n₂) · e / ‖e‖, n₁ · n₂),   e = b − a,

    in (−π, π]: 0 when the triangles are coplanar (flat), positive when they fold
    away from their normals (a convex edge, as every edge of a convex polyhedron
    with outward normals), and ±π when they fold onto each other. Both atan2
    arguments carry the factor ‖n₁‖ ‖n₂‖, so no normal is normalized and θ and its
    derivatives stay accurate near 0 and π, where an arccos of the normals' dot
    product would lose half its digits and have an infinite derivative.

    Derivative rule (atan2): with s and c the two arguments above,
    dθ = (c ds − s dc) / (s² + c²). A degenerate triangle (n₁ = 0 or n₂ = 0)
    gives θ = 0 with gradient 0.
    """
    a, b, c, d = _points("abcd", (a, b, c, d), dimensions=(3,))
    edge = b - a
    normal1 = dm.cross(edge, c - a)
    normal2 = dm.cross(d - a, edge)
    edge_length_ = dm.norm(edge)
    sine = dm.dot(dm.cross(normal1, normal2), edge) / _safe_divisor(edge_length_)
    cosine = dm.dot(normal1, normal2)
    return dm.atan2(sine, cosine)


def cotangent(a, b, c):
    """Compute the cotangent of the triangle's angle at corner a.

    cot α = (u · v) / ‖u × v‖ with u = b − a and v = c − a, in 2-D or 3-D (in 2-D
    ‖u × v‖ is the absolute value of the scalar cross product, so the angle is
    unsigned, in [0, π]). Its derivative follows the quotient rule. A degenerate
    triangle (u × v = 0) gives ±inf or NaN for floats; the caller checks its
    triangles, since a traced value has no number to check.
    """
    a, b, c = _points("abc", (a, b, c))
    u, v = b - a, c - a
    cross = dm.cross(u, v)
    sine = dm.abs(cross) if a.shape[0] == 2 else dm.norm(cross)
    return dm.dot(u, v) / sine


def tet_volume(a, b, c, d):
    """Compute the signed volume of the tetrahedron (a, b, c, d).

    V = det[b − a, c − a, d − a] / 6 = ((b − a) × (c − a)) · (d − a) / 6, positive
    when d lies on the side of the normal (b − a) × (c − a). Derivative rule: the
    gradient with respect to a corner is one third of the area of the opposite
    face times that face's unit normal pointing toward the corner; for d it is
    (b − a) × (c − a) / 6.
    """
    a, b, c, d = _points("abcd", (a, b, c, d), dimensions=(3,))
    return dm.dot(dm.cross(b - a, c - a), d - a) / 6.0
