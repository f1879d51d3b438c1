"""Euler's elastica (1744): an inextensible rod with clamped ends, buckled by end shortening.

A rod of length L = 1 and bending stiffness 1 has both ends clamped horizontally,
at (0, 0) and (d, 0) with d < L. It is discretized by N segments of length ℓ = L/N
with tangent angles θ_1..θ_N, which makes it exactly inextensible; the clamped
tangents are θ_0 = θ_{N+1} = 0, held by `fixed=`. The bending energy ½ ∫ θ'² ds
becomes

    E(θ) = Σ_k (θ_{k+1} − θ_k)² / (2 ℓ_k),

with ℓ_k = ℓ between two segments and ℓ/2 at the clamps (the joint's share of
the rod), minimized subject to the end position: Σ ℓ cos θ_i = d and
Σ ℓ sin θ_i = 0, by the augmented Lagrangian method.

The continuous solution of the first (symmetric) buckling mode is one full period
of the pendulum equation θ'' + λ sin θ = 0. With the modulus k = sin(θ_max/2) and
the complete elliptic integrals K(k), E(k):

    d / L = 2 E(k) / K(k) − 1,   E* = 32 K (E − (1 − k²) K) / L,   y_max = k L / K.

The example prints the discrete energy and the midpoint height against these for
several end distances at N and 2N segments, and writes elastica.png with the shapes.

Run: ``python -m dualtape.examples.elastica [-o DIR] [--segments N]``
"""

from __future__ import annotations


import numpy as np
from scipy.optimize import brentq
from scipy.special import ellipe, ellipk

import dualtape as dt
from dualtape.optimize import Equality
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

LENGTH = 1.0
END_DISTANCES = (0.9, 0.7, 0.5, 0.3)


def _joint_bending(theta, p):
    # p = (1 / ℓ_k,): the joint's share of ½ ∫ θ'² ds.
    return 0.5 * p[0] * (theta[1, 0] - theta[0, 0]) ** 2


def closed_form(distance: float, length: float = LENGTH):
    """Return (k, energy, midpoint height) of the clamped elastica with ends `distance` apart."""
    ratio = distance / length
    if not -1.0 < ratio < 1.0:
        raise ValueError(f"the end distance must be in (−L, L) = (−{length}, {length}); got {distance}")
    modulus = brentq(lambda k: 2.0 * ellipe(k * k) / ellipk(k * k) - 1.0 - ratio, 1e-12, 1.0 - 1e-15, xtol=1e-15)
    K, E = ellipk(modulus ** 2), ellipe(modulus ** 2)
    energy = 32.0 * K * (E - (1.0 - modulus ** 2) * K) / length
    return modulus, energy, modulus * length / K


def end_constraint(n_segments: int, distance: float, segment: float) -> Equality:
    """Return the equality (Σ ℓ cos θ_i − d, Σ ℓ sin θ_i) = 0 over the segment angles."""
    def residual(theta):
        angles = theta[1:-1]
        return np.array([segment * np.cos(angles).sum() - distance, segment * np.sin(angles).sum()])

    def jacobian(theta):
        rows = np.zeros((2, n_segments + 2))
        angles = theta[1:-1]
        rows[0, 1:-1] = -segment * np.sin(angles)
        rows[1, 1:-1] = segment * np.cos(angles)
        return rows

    return Equality(residual, jac=jacobian)


def shape(theta: np.ndarray, segment: float) -> np.ndarray:
    """Return the rod's N + 1 vertices from its segment angles θ_1..θ_N."""
    steps = segment * np.column_stack([np.cos(theta), np.sin(theta)])
    return np.vstack([np.zeros(2), np.cumsum(steps, axis=0)])


def solve(n_segments: int, distance: float, length: float = LENGTH):
    """Buckle the rod to end distance d; return (vertices, energy, OptimizeResult)."""
    segment = length / n_segments
    joints = np.column_stack([np.arange(n_segments + 1), np.arange(1, n_segments + 2)])
    inverse_length = np.full(n_segments + 1, 1.0 / segment)
    inverse_length[[0, -1]] = 2.0 / segment
    energy = dt.ElementEnergy(_joint_bending, joints, 1, inverse_length)
    # Start on the first buckling mode θ = α sin(2π s / L), whose shortening is about
    # α² / 4 of the length for small α.
    middle = (np.arange(n_segments) + 0.5) * segment
    amplitude = min(2.0 * np.sqrt(1.0 - distance / length), 2.5)
    theta0 = np.concatenate([[0.0], amplitude * np.sin(2.0 * np.pi * middle / length), [0.0]])
    # The straight rod is a stationary point of the energy where the constraint's
    # Jacobian vanishes. A large initial penalty keeps the first inner solve from
    # straightening the rod, where the method could not leave it again.
    result = dt.minimize(dt.Objective([energy]), theta0, method="augmented-lagrangian",
                         fixed=[0, n_segments + 1], constraints=[end_constraint(n_segments, distance, segment)],
                         gtol=1e-6, ctol=1e-9, maxiter=100, rho=1e3)
    if not result.success:
        raise RuntimeError(f"the augmented Lagrangian did not converge for N = {n_segments}, d = {distance}: "
                           f"{result.message}")
    return shape(result.x[1:-1], segment), result.fun, result


def plot(shapes):
    figure = new_figure((8, 5))
    axes = figure.add_subplot()
    for distance, points in shapes:
        axes.plot(points[:, 0], points[:, 1], "-", lw=2, label=f"d / L = {distance}")
        axes.plot(points[[0, -1], 0], points[[0, -1], 1], "ks", ms=4)
    axes.set_aspect("equal")
    axes.set_title("Clamped elastica buckled by end shortening")
    axes.legend(fontsize=8)
    return figure


def main(argv=None):
    """Run the example; return the energies and heights against the closed form."""
    parser = make_parser("elastica", __doc__, "elastica.png")
    parser.add_argument("--segments", type=int, default=40,
                        help="number of segments N of the coarser rod (default: %(default)s)")
    parser.add_argument("--distances", type=float, nargs="+", default=list(END_DISTANCES),
                        help="end distances d / L in (0, 1) (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.segments < 4:
        parser.error(f"--segments must be at least 4; got {args.segments}")
    for distance in args.distances:
        if not 0.0 < distance < 1.0:
            parser.error(f"every end distance must be in (0, 1); got {distance}")

    runs = []
    shapes = []
    for distance in args.distances:
        modulus, energy_star, height_star = closed_form(distance * LENGTH)
        print(f"d / L = {distance}: k = {modulus:.8f}, closed form energy {energy_star:.10f}, "
              f"midpoint height {height_star:.10f}")
        for n_segments in (args.segments, 2 * args.segments):
            points, energy, result = solve(n_segments, distance * LENGTH)
            height = float(points[:, 1].max())
            runs.append({"distance": distance, "segments": n_segments, "energy": energy,
                         "closed_form_energy": energy_star, "energy_error": (energy - energy_star) / energy_star,
                         "height": height, "closed_form_height": height_star,
                         "height_error": abs(height - height_star), "outer_iterations": result.nit})
            print(f"  N = {n_segments:4d}: energy {energy:.10f} (relative error {runs[-1]['energy_error']:+.3e}), "
                  f"height error {runs[-1]['height_error']:.3e}")
        shapes.append((distance, points))

    write_plot(output_path(args.output_dir, "elastica.png"), plot, shapes)
    return {"runs": runs}


if __name__ == "__main__":
    main()
