"""Meshes that the examples generate themselves."""

from __future__ import annotations

import math

import numpy as np


def ring_disk(n_rings: int, radius: float = 1.0):
    """Triangulate a disk of `radius` with n_rings rings of 6 k vertices around a center.

    Returns (#V by 2 points, #F by 3 counterclockwise faces, indices of the outer
    ring, which is the boundary, in counterclockwise order).
    """
    points = [(0.0, 0.0)]
    starts = [0]
    for ring in range(1, n_rings + 1):
        starts.append(len(points))
        count = 6 * ring
        for j in range(count):
            angle = 2.0 * math.pi * j / count
            points.append((radius * ring / n_rings * math.cos(angle), radius * ring / n_rings * math.sin(angle)))
    faces = []
    for ring in range(1, n_rings + 1):
        inner_count, outer_count = 6 * (ring - 1), 6 * ring
        inner, outer = starts[ring - 1], starts[ring]
        for j in range(outer_count):
            a, b = outer + j, outer + (j + 1) % outer_count
            if ring == 1:
                faces.append((0, a, b))
                continue
            # Each outer edge (a, b) forms a triangle with the inner vertex under a,
            # at position j·(k−1)/k of the inner ring, and each inner edge forms one
            # with the outer vertex b.
            i0 = inner + (j * inner_count) // outer_count
            i1 = inner + ((j + 1) * inner_count // outer_count) % inner_count
            faces.append((i0, a, b))
            if i1 != i0:
                faces.append((i0, b, i1))
    boundary = np.arange(starts[n_rings], len(points))
    return np.array(points), np.array(faces, dtype=np.int64), boundary
