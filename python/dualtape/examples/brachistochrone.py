"""The brachistochrone (Johann Bernoulli, 1696): the curve of fastest descent.

A bead starts at rest at A = (0, 0) and slides without friction under gravity g to
B = (X, −Y). On a polyline through the points (x_i, y_i), i = 0..N, with fixed
abscissae x_i, the speed at height y is √(−2 g y) by energy conservation, and the
travel time over one straight segment of length ℓ between the depths h₀ = −y_i and
h₁ = −y_{i+1} is exactly

    t = ∫ ds / √(2 g h(s)) = 2 ℓ / (√(2g) (√h₀ + √h₁)).

The example minimizes the total time over the heights y_1..y_{N−1} (y_0 = 0 and
y_N = −Y fixed) by projected Newton. The fixed start has speed 0, so ∂t/∂h₀ is
infinite there; `fixed=` drops that derivative before it can reach the free
variables. The optimum is the cycloid x = a(φ − sin φ), y = −a(1 − cos φ) through
B, with the descent time φ_B √(a/g). The example prints the polyline's time against
it and the largest distance of the points to the cycloid, for N and 2N points, and
writes brachistochrone.png.

Run: ``python -m dualtape.examples.brachistochrone [-o DIR] [--points N]``
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq, minimize_scalar

import dualtape as dt
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

GRAVITY = 9.81
END = (1.0, -0.6)


def _segment_time(y, p):
    # y: 2×1 heights of the segment's ends; p = (Δx, g).
    depth0, depth1 = -y[0, 0], -y[1, 0]
    length = dt.sqrt(p[0] * p[0] + (depth1 - depth0) ** 2)
    time = 2.0 * length / (dt.sqrt(2.0 * p[1]) * (dt.sqrt(depth0) + dt.sqrt(depth1)))
    # Above the start the bead never arrives: the time is +inf there, which the line
    # search rejects.
    valid = (depth0 >= 0.0) * (depth1 >= 0.0) * (depth0 + depth1 > 0.0)
    return dt.where(valid > 0.5, time, math.inf)


def abscissae(n_segments: int, width: float) -> np.ndarray:
    """Return x_0..x_N, graded as (i/N)^(3/2) to resolve the vertical start of the cycloid."""
    return width * (np.arange(n_segments + 1) / n_segments) ** 1.5


def descent_energy(x: np.ndarray, gravity: float = GRAVITY) -> dt.ElementEnergy:
    """Build the travel time over the polyline with abscissae x as an energy of the heights."""
    n_segments = x.size - 1
    segments = np.column_stack([np.arange(n_segments), np.arange(1, n_segments + 1)])
    params = np.column_stack([np.diff(x), np.full(n_segments, gravity)])
    return dt.ElementEnergy(_segment_time, segments, 1, params)


def cycloid(end=END, gravity: float = GRAVITY):
    """Return (a, φ_B, optimal time) of the cycloid from the origin through `end`."""
    width, depth = end[0], -end[1]
    # (φ − sin φ) / (1 − cos φ) grows from 0 to ∞ on (0, 2π), so the root is unique.
    phi = brentq(lambda p: (p - math.sin(p)) / (1.0 - math.cos(p)) - width / depth,
                 1e-6, 2.0 * math.pi - 1e-6, xtol=1e-15)
    radius = depth / (1.0 - math.cos(phi))
    return radius, phi, phi * math.sqrt(radius / gravity)


def distance_to_cycloid(points: np.ndarray, radius: float, phi_end: float) -> np.ndarray:
    """Return the Euclidean distance of each point to the cycloid arc φ ∈ [0, φ_B]."""
    def squared(phi, point):
        return ((radius * (phi - math.sin(phi)) - point[0]) ** 2
                + (-radius * (1.0 - math.cos(phi)) - point[1]) ** 2)

    samples = np.linspace(0.0, phi_end, 4001)
    curve = np.column_stack([radius * (samples - np.sin(samples)), -radius * (1.0 - np.cos(samples))])
    distances = np.empty(len(points))
    for i, point in enumerate(points):
        nearest = int(np.argmin(np.sum((curve - point) ** 2, axis=1)))
        low, high = samples[max(nearest - 1, 0)], samples[min(nearest + 1, samples.size - 1)]
        best = minimize_scalar(squared, bounds=(low, high), args=(point,), method="bounded",
                               options={"xatol": 1e-14})
        distances[i] = math.sqrt(min(best.fun, squared(samples[nearest], point)))
    return distances


def solve(n_segments: int, end=END, gravity: float = GRAVITY):
    """Minimize the descent time over N segments; return (points, time, OptimizeResult)."""
    x = abscissae(n_segments, end[0])
    energy = descent_energy(x, gravity)
    heights = end[1] * x / end[0]
    # The exact Hessian: each segment's Hessian is indefinite, so projecting it per
    # element slows Newton to linear convergence, while the sum is positive
    # definite from the straight line to the optimum.
    result = dt.minimize(dt.Objective([energy]), heights, method="newton", fixed=[0, n_segments],
                         projection=None, tol=1e-14, gtol=1e-11, maxiter=200)
    if not result.success:
        raise RuntimeError(f"Newton did not converge for N = {n_segments}: {result.message}")
    return np.column_stack([x, result.x]), result.fun, result


def plot(curves, radius: float, phi_end: float, end=END):
    figure = new_figure((7, 4.5))
    axes = figure.add_subplot()
    phi = np.linspace(0.0, phi_end, 400)
    axes.plot(radius * (phi - np.sin(phi)), -radius * (1.0 - np.cos(phi)), "k-", lw=2.5, alpha=0.3,
              label="cycloid")
    axes.plot([0.0, end[0]], [0.0, end[1]], ":", color="0.5", label="straight line")
    for points, time in curves:
        axes.plot(points[:, 0], points[:, 1], "o-", ms=3, lw=1,
                  label=f"N = {len(points) - 1}, time {time:.6f} s")
    axes.set_aspect("equal")
    axes.set_xlabel("x (m)")
    axes.set_ylabel("y (m)")
    axes.set_title("Brachistochrone: polyline of least descent time")
    axes.legend(fontsize=8)
    return figure


def main(argv=None):
    """Run the example; return the times and distances to the cycloid for N and 2N segments."""
    parser = make_parser("brachistochrone", __doc__, "brachistochrone.png")
    parser.add_argument("--points", type=int, default=64,
                        help="number of segments N of the coarser polyline (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.points < 2:
        parser.error(f"--points must be at least 2; got {args.points}")

    radius, phi_end, optimal_time = cycloid()
    print(f"cycloid through {END}: a = {radius:.10f}, φ_B = {phi_end:.10f}, "
          f"optimal time {optimal_time:.10f} s")
    runs = []
    for n_segments in (args.points, 2 * args.points):
        points, time, result = solve(n_segments)
        distance = float(distance_to_cycloid(points, radius, phi_end).max())
        runs.append({"segments": n_segments, "time": time, "time_error": (time - optimal_time) / optimal_time,
                     "max_distance": distance, "iterations": result.nit, "points": points})
        print(f"N = {n_segments:5d}: time {time:.10f} s, relative excess {runs[-1]['time_error']:.3e}, "
              f"max distance to the cycloid {distance:.3e} m ({result.nit} Newton iterations)")

    curves = [(run["points"], run["time"]) for run in runs]
    write_plot(output_path(args.output_dir, "brachistochrone.png"), plot, curves, radius, phi_end)
    return {"optimal_time": optimal_time, "radius": radius, "phi_end": phi_end, "runs": runs}


if __name__ == "__main__":
    main()
