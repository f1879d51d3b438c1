"""The catenary: a hanging chain of N rigid links between two fixed points.

The chain has vertices v_0..v_N, with v_0 = A and v_N = B fixed, and N links of
length ℓ = L / N and uniform mass per length. Its potential energy (g = 1) and
the length constraints are

    U(v) = Σ_i ℓ (y_i + y_{i+1}) / 2,    h_i(v) = ‖v_{i+1} − v_i‖ − ℓ = 0.

The example minimizes U subject to h = 0 by the augmented Lagrangian method, with
U as an `ElementEnergy` over the links and h as one vector `Equality` with a
sparse Jacobian. The continuous chain of length L through A and B is the catenary
y = a cosh((x − x₀)/a) + c, where

    √(L² − Δy²) = 2 a sinh(Δx / (2a)),   x₀ = x_m − a artanh(Δy / L),
    c = y_A − a cosh((x_A − x₀)/a),

with x_m the midpoint abscissa. The example prints the largest distance of the
chain's vertices to this curve for N and 2N links and writes catenary.png.

Run: ``python -m dualtape.examples.catenary [-o DIR] [--links N]``
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.optimize import brentq, minimize_scalar

import dualtape as dt
from dualtape.optimize import Equality
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

START = (0.0, 0.0)
END = (1.0, 0.3)
LENGTH = 1.6


def _link_potential(v, p):
    # p = (link length ℓ,): the link's mass ℓ at the mean height of its ends.
    return p[0] * 0.5 * (v[0, 1] + v[1, 1])


def catenary_parameters(start=START, end=END, length=LENGTH):
    """Return (a, x₀, c) of the catenary of the given length through start and end."""
    width, rise = end[0] - start[0], end[1] - start[1]
    if length <= math.hypot(width, rise):
        raise ValueError(f"length must exceed the distance between the ends, {math.hypot(width, rise)}; "
                         f"got {length}")
    span = math.sqrt(length ** 2 - rise ** 2)
    # 2 a sinh(Δx / (2a)) falls from ∞ to Δx as a grows, so the root is unique.
    a = brentq(lambda a: 2.0 * a * math.sinh(width / (2.0 * a)) - span, width * 1e-3, width * 1e6, xtol=1e-15)
    x0 = 0.5 * (start[0] + end[0]) - a * math.atanh(rise / length)
    c = start[1] - a * math.cosh((start[0] - x0) / a)
    return a, x0, c


def distance_to_catenary(points: np.ndarray, a: float, x0: float, c: float) -> np.ndarray:
    """Return the Euclidean distance of each point to the curve y = a cosh((x − x₀)/a) + c."""
    def squared(x, point):
        return (x - point[0]) ** 2 + (a * math.cosh((x - x0) / a) + c - point[1]) ** 2

    distances = np.empty(len(points))
    for i, point in enumerate(points):
        # The nearest curve point lies within the vertical distance of the point.
        reach = abs(a * math.cosh((point[0] - x0) / a) + c - point[1]) + 1e-12
        best = minimize_scalar(squared, bounds=(point[0] - reach, point[0] + reach), args=(point,),
                               method="bounded", options={"xatol": 1e-14})
        distances[i] = math.sqrt(min(best.fun, squared(point[0], point)))
    return distances


def link_constraint(n_links: int, link_length: float) -> Equality:
    """Return the equality h_i(v) = ‖v_{i+1} − v_i‖ − ℓ = 0 of all N links, with its sparse Jacobian."""
    rows = np.repeat(np.arange(n_links), 4)
    columns = (2 * np.arange(n_links)[:, None] + np.arange(4)[None, :]).reshape(-1)

    def residual(v):
        return np.linalg.norm(np.diff(v, axis=0), axis=1) - link_length

    def jacobian(v):
        # ∂h_i/∂v_{i+1} = u_i and ∂h_i/∂v_i = −u_i, with u_i the unit link direction.
        links = np.diff(v, axis=0)
        units = links / np.linalg.norm(links, axis=1, keepdims=True)
        values = np.column_stack([-units, units]).reshape(-1)
        return sp.csr_matrix((values, (rows, columns)), shape=(n_links, 2 * (n_links + 1)))

    return Equality(residual, jac=jacobian)


def solve(n_links: int, start=START, end=END, length=LENGTH):
    """Hang a chain of N links; return (vertices, OptimizeResult)."""
    link_length = length / n_links
    links = np.column_stack([np.arange(n_links), np.arange(1, n_links + 1)])
    potential = dt.ElementEnergy(_link_potential, links, 2, np.full(n_links, link_length))
    # Start from a parabola through the ends that sags by a third of the slack.
    t = np.linspace(0.0, 1.0, n_links + 1)
    chord = np.outer(1.0 - t, start) + np.outer(t, end)
    sag = (length - math.dist(start, end)) / 3.0
    chain0 = chord - np.column_stack([np.zeros_like(t), 4.0 * sag * t * (1.0 - t)])
    result = dt.minimize(dt.Objective([potential]), chain0, method="augmented-lagrangian",
                         fixed=[0, n_links], constraints=[link_constraint(n_links, link_length)],
                         gtol=1e-7, ctol=1e-9, maxiter=100)
    if not result.success:
        raise RuntimeError(f"the augmented Lagrangian did not converge for N = {n_links}: {result.message}")
    return result.x, result


def plot(chains, a: float, x0: float, c: float, start=START, end=END):
    figure = new_figure((7, 5))
    axes = figure.add_subplot()
    x = np.linspace(start[0], end[0], 400)
    axes.plot(x, a * np.cosh((x - x0) / a) + c, "k-", lw=2.5, alpha=0.3,
              label=f"a cosh((x − x₀)/a) + c, a = {a:.5f}")
    for chain in chains:
        axes.plot(chain[:, 0], chain[:, 1], "o-", ms=3, lw=1, label=f"chain of {len(chain) - 1} links")
    axes.set_aspect("equal")
    axes.set_title(f"Catenary of length {LENGTH} between {START} and {END}")
    axes.legend(fontsize=8)
    return figure


def main(argv=None):
    """Run the example; return the distances to the catenary for N and 2N links."""
    parser = make_parser("catenary", __doc__, "catenary.png")
    parser.add_argument("--links", type=int, default=20,
                        help="number of links N of the coarser chain (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.links < 3:
        parser.error(f"--links must be at least 3; got {args.links}")

    a, x0, c = catenary_parameters()
    print(f"catenary of length {LENGTH} through {START} and {END}: a = {a:.10f}, x0 = {x0:.10f}, c = {c:.10f}")
    runs = []
    chains = []
    for n_links in (args.links, 2 * args.links):
        chain, result = solve(n_links)
        distance = float(distance_to_catenary(chain, a, x0, c).max())
        violation = float(np.abs(np.linalg.norm(np.diff(chain, axis=0), axis=1) - LENGTH / n_links).max())
        runs.append({"links": n_links, "max_distance": distance, "max_length_error": violation,
                     "potential": result.fun, "outer_iterations": result.nit})
        chains.append(chain)
        print(f"N = {n_links:4d}: max distance to the catenary {distance:.3e}, "
              f"max link length error {violation:.1e}, potential {result.fun:.10f}")

    write_plot(output_path(args.output_dir, "catenary.png"), plot, chains, a, x0, c)
    return {"a": a, "x0": x0, "c": c, "runs": runs}


if __name__ == "__main__":
    main()
