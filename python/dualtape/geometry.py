"""Geometric quantities of points, edges and triangles.

Every function takes its points as 1-D vectors (floats, NumPy arrays, or object
arrays of traced symbols or Dual numbers) and is built from `dualtape` math, so
it can be traced and differentiated.
"""

from __future__ import annotations

import numpy as np

from . import _math as dm

__all__ = ["edge_length", "triangle_area"]


def _vector(point, name: str) -> np.ndarray:
    array = point if isinstance(point, np.ndarray) else np.asarray(point)
    if array.ndim != 1 or array.shape[0] not in (2, 3):
        raise ValueError(f"{name} must be a point in 2-D or 3-D (a vector of length 2 or 3); "
                         f"got shape {array.shape}")
    return array


def _same_dimension(*named):
    sizes = {name: vector.shape[0] for name, vector in named}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"points must have the same dimension; got {sizes}")


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
