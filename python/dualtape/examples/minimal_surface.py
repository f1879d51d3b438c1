"""Minimal surfaces (Lagrange 1762): triangle meshes of least area with a fixed boundary.

Two problems, each solved by Newton on the total triangle area with the boundary
vertices fixed.

A triangle mesh's area is unchanged to first order when vertices slide along the
surface, and without a restriction they slide until triangles degenerate (as
`dualtape.energies.surface_area`, which moves vertices freely, allows). Both
problems therefore move each vertex along one fixed direction only: the
catenoid's vertices along their rays from the axis, the Plateau surface's
vertically. Each triangle's area is then an `ElementEnergy` of three scalars,
the Hessian is nonsingular, and Newton converges quadratically.

1. Catenoid. A tube spanning two coaxial rings of radius R at z = ±H, minimized
   over the vertex radii. The minimal surface of revolution is the catenoid
   r(z) = a cosh(z/a), with a the larger root of a cosh(H/a) = R (the stable
   one). The example prints the largest deviation of the vertex radii from
   a cosh(z/a), at each vertex's own height.
2. Plateau's problem on a non-planar wire: the boundary is the image of the circle
   |w| = ρ under Enneper's surface X(u, v) = (u − u³/3 + u v², v − v³/3 + v u²,
   u² − v²), a saddle-shaped space curve. For ρ < 1 Enneper's patch is the
   minimal surface it spans, and a graph over the xy-plane, so the example
   minimizes the area over the vertex heights and prints the largest distance of
   the mesh vertices to Enneper's surface.

Halving the mesh size divides the catenoid's error by 4.0 (measured at 8 to 16
rings) and the Plateau surface's by 2.9 to 3.3 (8 to 32 rings), approaching the
second order of the discretization. Writes minimal_surface.png.

Run: ``python -m dualtape.examples.minimal_surface [-o DIR] [--resolution N]``
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq, least_squares

import dualtape as dt
from dualtape.examples._meshes import ring_disk
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

RING_RADIUS = 1.0
HALF_HEIGHT = 0.5
ENNEPER_RADIUS = 0.8


# -- catenoid ------------------------------------------------------------------------


def tube_mesh(n_around: int, n_along: int, radius: float = RING_RADIUS, half_height: float = HALF_HEIGHT):
    """Build a cylinder of n_along + 1 rings of n_around vertices, outward-facing triangles.

    Returns (#V by 3 vertices, #F by 3 faces, indices of the two boundary rings).
    Each quad is split along alternating diagonals so the mesh has no preferred twist.
    """
    angles = 2.0 * np.pi * np.arange(n_around) / n_around
    heights = np.linspace(-half_height, half_height, n_along + 1)
    vertices = np.array([(radius * math.cos(t), radius * math.sin(t), z) for z in heights for t in angles])
    faces = []
    for ring in range(n_along):
        for j in range(n_around):
            a = ring * n_around + j
            b = ring * n_around + (j + 1) % n_around
            c = a + n_around
            d = b + n_around
            if (ring + j) % 2 == 0:
                faces += [(a, b, d), (a, d, c)]
            else:
                faces += [(a, b, c), (b, d, c)]
    boundary = np.concatenate([np.arange(n_around), n_along * n_around + np.arange(n_around)])
    return vertices, np.array(faces, dtype=np.int64), boundary


def catenoid_parameter(radius: float = RING_RADIUS, half_height: float = HALF_HEIGHT) -> float:
    """Return the larger a with a cosh(H/a) = R (the stable catenoid through both rings)."""
    # a cosh(H/a) has its minimum over a at H/a = t*, t* tanh t* = 1; larger a are stable.
    critical = brentq(lambda t: t * math.tanh(t) - 1.0, 0.5, 2.0)
    a_critical = half_height / critical
    if a_critical * math.cosh(critical) > radius:
        raise ValueError(f"no catenoid spans rings of radius {radius} at distance {2 * half_height}: "
                         f"the rings are too far apart (needs H/R < {critical / math.cosh(critical):.4f})")
    return brentq(lambda a: a * math.cosh(half_height / a) - radius, a_critical, 10.0 * radius + half_height)


def _radial_triangle_area(r, p):
    # r: 3×1 radii; p = (cos θ, sin θ, z) of the three vertices, fixed.
    points = [np.array([r[k, 0] * p[3 * k], r[k, 0] * p[3 * k + 1], p[3 * k + 2]], dtype=object)
              for k in range(3)]
    return dt.geometry.triangle_area(*points)


def solve_catenoid(n_around: int, n_along: int):
    """Minimize the tube's area over the vertex radii; return (x, faces, max radius error, a, result).

    Each vertex keeps its angle θ and height z and moves along its ray from the
    axis, x = (r cos θ, r sin θ, z). Area alone has a null space of tangential
    motions, in which vertices slide until triangles degenerate. Fixing θ and z
    removes it.
    """
    vertices, faces, boundary = tube_mesh(n_around, n_along)
    angle = np.arctan2(vertices[:, 1], vertices[:, 0])
    frames = np.column_stack([np.cos(angle), np.sin(angle), vertices[:, 2]])
    energy = dt.ElementEnergy(_radial_triangle_area, faces, 1, frames[faces].reshape(len(faces), 9))
    radius0 = np.hypot(vertices[:, 0], vertices[:, 1])
    result = dt.minimize(dt.Objective([energy]), radius0, method="newton", fixed=boundary,
                         projection=None, tol=1e-14, gtol=1e-10, maxiter=200)
    if not result.success:
        raise RuntimeError(f"Newton did not converge for the catenoid: {result.message}")
    a = catenoid_parameter()
    x = np.column_stack([result.x * frames[:, 0], result.x * frames[:, 1], frames[:, 2]])
    error = float(np.max(np.abs(result.x - a * np.cosh(frames[:, 2] / a))))
    return x, faces, error, a, result


# -- Enneper -------------------------------------------------------------------------


def enneper(u, v):
    """Evaluate Enneper's minimal surface at parameters (u, v); returns (..., 3)."""
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    return np.stack([u - u ** 3 / 3 + u * v * v, v - v ** 3 / 3 + v * u * u, u * u - v * v], axis=-1)


def distance_to_enneper(points: np.ndarray, uv_guess: np.ndarray) -> np.ndarray:
    """Return the distance of each point to Enneper's surface, searching near uv_guess."""
    distances = np.empty(len(points))
    for i, (point, guess) in enumerate(zip(points, uv_guess)):
        fit = least_squares(lambda w: enneper(w[0], w[1]) - point, guess, xtol=1e-15, ftol=1e-15, gtol=1e-15)
        distances[i] = float(np.linalg.norm(fit.fun))
    return distances


def _graph_triangle_area(z, p):
    # z: 3×1 heights; p = (x₀, y₀, x₁, y₁, x₂, y₂), the fixed ground positions.
    ex, ey, ez = p[2] - p[0], p[3] - p[1], z[1, 0] - z[0, 0]
    fx, fy, fz = p[4] - p[0], p[5] - p[1], z[2, 0] - z[0, 0]
    normal = np.array([ey * fz - ez * fy, ez * fx - ex * fz, ex * fy - ey * fx], dtype=object)
    return 0.5 * dt.norm(normal)


def solve_plateau(n_rings: int, radius: float = ENNEPER_RADIUS):
    """Span the Enneper wire by a mesh of least area; return (x, faces, max distance, result).

    For ρ < 1 the projection of Enneper's surface to the xy-plane is one-to-one
    (its Jacobian determinant is 1 − |w|⁴ > 0), so the spanning surface is a graph
    z(x, y). The mesh keeps the x and y of its vertices at the images of a disk
    mesh in the uv-plane and minimizes the area over the heights alone. The area
    of each triangle is then a convex function of its three heights, so projected
    Newton converges quadratically and no vertex slides along the surface. The
    start is the cone from the origin to the wire: each interior vertex at the
    wire's height in its direction, scaled by its distance from the center.
    """
    uv, faces, boundary = ring_disk(n_rings, radius)
    ground = enneper(uv[:, 0], uv[:, 1])[:, :2]
    rho = np.hypot(uv[:, 0], uv[:, 1])
    angle = np.arctan2(uv[:, 1], uv[:, 0])
    wire_height = enneper(radius * np.cos(angle), radius * np.sin(angle))[:, 2]
    start = (rho / radius) ** 2 * wire_height
    params = ground[faces].reshape(len(faces), 6)
    energy = dt.ElementEnergy(_graph_triangle_area, faces, 1, params)
    result = dt.minimize(dt.Objective([energy]), start, method="newton", fixed=boundary,
                         tol=1e-14, gtol=1e-10, maxiter=200)
    if not result.success:
        raise RuntimeError(f"Newton did not converge for the Plateau problem: {result.message}")
    x = np.column_stack([ground, result.x])
    distance = float(distance_to_enneper(x, uv).max())
    return x, faces, distance, result


# -- output --------------------------------------------------------------------------


def plot(catenoid, plateau, a: float):
    """Draw the catenoid, its radius profile and the Plateau surface, and return the figure."""
    figure = new_figure((15, 4.8))
    # The 3-D panels draw their tick labels outside their boxes, so the panels need
    # more room between them than the default spacing.
    figure.subplots_adjust(wspace=0.5)

    x, faces = catenoid
    axes = figure.add_subplot(1, 3, 1, projection="3d")
    axes.plot_trisurf(x[:, 0], x[:, 1], x[:, 2], triangles=faces, color="#7fa7d9", edgecolor="k",
                      linewidth=0.15, alpha=0.9)
    axes.set_title("catenoid between two rings")
    axes.set_box_aspect((1, 1, 2 * HALF_HEIGHT / (2 * RING_RADIUS)))
    # The z axis is half as long as the others, so it gets three ticks only.
    _set_3d_ticks(axes, [-RING_RADIUS, 0.0, RING_RADIUS], [-HALF_HEIGHT, 0.0, HALF_HEIGHT])

    axes = figure.add_subplot(1, 3, 2)
    z = np.linspace(-HALF_HEIGHT, HALF_HEIGHT, 200)
    axes.plot(a * np.cosh(z / a), z, "k-", lw=2.5, alpha=0.3, label=f"a cosh(z/a), a = {a:.5f}")
    axes.plot(np.hypot(x[:, 0], x[:, 1]), x[:, 2], ".", ms=2, label="mesh vertices")
    axes.set_xlabel("radius r")
    axes.set_ylabel("height z")
    axes.set_title("radius profile")
    axes.legend(fontsize=8, loc="center right")

    x, faces = plateau
    axes = figure.add_subplot(1, 3, 3, projection="3d")
    axes.plot_trisurf(x[:, 0], x[:, 1], x[:, 2], triangles=faces, cmap="viridis", edgecolor="k",
                      linewidth=0.1)
    angle = np.linspace(0, 2 * np.pi, 300)
    wire = enneper(ENNEPER_RADIUS * np.cos(angle), ENNEPER_RADIUS * np.sin(angle))
    axes.plot(wire[:, 0], wire[:, 1], wire[:, 2], "k-", lw=1.5)
    axes.set_title(f"Plateau surface on Enneper's wire, ρ = {ENNEPER_RADIUS}")
    _set_3d_ticks(axes, [-0.5, 0.0, 0.5], [-0.5, 0.0, 0.5])
    return figure


def _set_3d_ticks(axes, xy_ticks, z_ticks) -> None:
    """Set a few ticks on a 3-D axes and label its axes, so that tick labels do not overlap."""
    axes.set_xticks(xy_ticks)
    axes.set_yticks(xy_ticks)
    axes.set_zticks(z_ticks)
    axes.tick_params(labelsize=8)
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    axes.set_zlabel("z")


def main(argv=None):
    """Run both problems at resolution N and 2N; return the errors against the closed forms."""
    parser = make_parser("minimal_surface", __doc__, "minimal_surface.png")
    parser.add_argument("--resolution", type=int, default=12,
                        help="rings along the tube and of the disk at the coarser level; the tube has "
                             "4 N vertices around (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.resolution < 2:
        parser.error(f"--resolution must be at least 2; got {args.resolution}")

    numbers = {"catenoid": [], "plateau": []}
    for level in (args.resolution, 2 * args.resolution):
        x, faces, error, a, result = solve_catenoid(4 * level, level)
        numbers["catenoid"].append({"resolution": level, "max_radius_error": error, "area": result.fun,
                                    "iterations": result.nit})
        print(f"catenoid, {4 * level} x {level} quads: area {result.fun:.8f}, "
              f"max |r - a cosh(z/a)| = {error:.3e} (a = {a:.8f}, {result.nit} Newton iterations)")
        catenoid = (x, faces)
    for level in (args.resolution, 2 * args.resolution):
        x, faces, distance, result = solve_plateau(level)
        numbers["plateau"].append({"resolution": level, "max_distance": distance, "area": result.fun,
                                   "iterations": result.nit})
        print(f"Plateau on Enneper's wire, {level} rings: area {result.fun:.8f}, "
              f"max distance to Enneper's surface {distance:.3e} ({result.nit} Newton iterations)")
        plateau = (x, faces)
    numbers["catenoid_parameter"] = a

    write_plot(output_path(args.output_dir, "minimal_surface.png"), plot, catenoid, plateau, a)
    return numbers


if __name__ == "__main__":
    main()
