"""Forward versus reverse mode: the cost of a full Jacobian as n and m vary.

For f: Rⁿ → Rᵐ evaluated by a program of P operations, forward mode gets the m × n
Jacobian from one pass that carries n tangent directions (cost ∝ n·P), and reverse
mode from m reverse sweeps, one per output (cost ∝ m·P). Forward mode therefore wins
when n < m, reverse mode when n > m, and the two cost about the same near n = m.

The example times both on a small two-layer network with fixed random weights,

    f(x) = sin(B tanh(A x)),   A: k × n,  B: m × k,  k = 32 hidden units,

traced once into a tape (``tape.jacobian(x, mode=...)``). It sweeps n at fixed m and
m at fixed n, writes ``forward_vs_reverse.png`` (time against the varying size,
log-log), and prints where the forward/reverse time ratio crosses 1. The constant
factors of the two modes differ (a forward pass moves n-vectors of tangents, a
reverse sweep one adjoint per slot), so the measured crossing lies near n = m but not
exactly on it.

Run: ``python -m dualtape.examples.forward_vs_reverse [-o DIR]``
"""

from __future__ import annotations

import time

import numpy as np

import dualtape as dt
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

HIDDEN = 32
FIXED = 16
SIZES = [1, 2, 4, 8, 16, 32, 64, 128]


def network(n: int, m: int, seed: int = 0):
    """Return f(x) = sin(B tanh(A x)) with seeded weights A (HIDDEN × n) and B (m × HIDDEN)."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(HIDDEN, n)) / np.sqrt(n)
    B = rng.normal(size=(m, HIDDEN)) / np.sqrt(HIDDEN)

    def f(x):
        return np.sin(B @ np.tanh(A @ x))

    return f


def best_time(function, repeats: int) -> float:
    """Return the shortest of `repeats` wall-clock times of function(), in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def time_jacobians(n: int, m: int, repeats: int):
    """Time the full Jacobian at a random point in both modes; check that they agree."""
    tape = dt.trace(network(n, m), n)
    x = np.random.default_rng(1).normal(size=n)
    forward = tape.jacobian(x, mode="forward")
    reverse = tape.jacobian(x, mode="reverse")
    difference = float(np.max(np.abs(forward - reverse)))
    forward_time = best_time(lambda: tape.jacobian(x, mode="forward"), repeats)
    reverse_time = best_time(lambda: tape.jacobian(x, mode="reverse"), repeats)
    return forward_time, reverse_time, difference


def crossing(sizes, forward, reverse):
    """Return the size where forward/reverse time crosses 1 (log-linear interpolation), or None."""
    ratio = np.log(np.asarray(forward) / np.asarray(reverse))
    log_sizes = np.log(np.asarray(sizes, dtype=float))
    for i in range(len(sizes) - 1):
        if ratio[i] == 0.0:
            return float(sizes[i])
        if ratio[i] * ratio[i + 1] < 0.0:
            t = ratio[i] / (ratio[i] - ratio[i + 1])
            return float(np.exp(log_sizes[i] + t * (log_sizes[i + 1] - log_sizes[i])))
    return None


def sweep(sizes, fixed: int, vary: str, repeats: int):
    """Time both modes with n (vary='n') or m (vary='m') running over sizes."""
    forward, reverse, differences = [], [], []
    for size in sizes:
        n, m = (size, fixed) if vary == "n" else (fixed, size)
        f_time, r_time, difference = time_jacobians(n, m, repeats)
        forward.append(f_time)
        reverse.append(r_time)
        differences.append(difference)
    return np.array(forward), np.array(reverse), max(differences)


def plot(sizes, fixed, results):
    figure = new_figure((11, 4.5))
    for index, (vary, other) in enumerate((("n", "m"), ("m", "n")), start=1):
        forward, reverse, cross = results[vary]
        axes = figure.add_subplot(1, 2, index)
        axes.loglog(sizes, np.asarray(forward) * 1e6, "o-", label="forward mode (n directions)")
        axes.loglog(sizes, np.asarray(reverse) * 1e6, "s-", label="reverse mode (m sweeps)")
        axes.axvline(fixed, color="0.6", linestyle="--", linewidth=1, label=f"{vary} = {other} = {fixed}")
        if cross is not None:
            axes.axvline(cross, color="C3", linewidth=1, label=f"measured crossing {vary} ≈ {cross:.1f}")
        axes.set_xlabel(f"{vary} ({'inputs' if vary == 'n' else 'outputs'})")
        axes.set_ylabel("time of the full Jacobian [µs]")
        axes.set_title(f"{other} = {fixed} fixed, {vary} varies")
        axes.legend(fontsize=8)
    figure.tight_layout()
    return figure


def main(argv=None):
    """Run the example; return the timings, the crossings and the largest mode disagreement."""
    parser = make_parser("forward_vs_reverse", __doc__, "forward_vs_reverse.png")
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES,
                        help="values of the varying n or m (default: 1 2 4 ... 128)")
    parser.add_argument("--fixed", type=int, default=FIXED,
                        help="value of the size held fixed (default: 16)")
    parser.add_argument("--repeats", type=int, default=20,
                        help="timed runs per measurement; the shortest counts (default: 20)")
    args = parser.parse_args(argv)
    if any(size < 1 for size in args.sizes) or args.fixed < 1:
        parser.error("--sizes and --fixed must be positive integers")
    if args.repeats < 1:
        parser.error("--repeats must be a positive integer")
    sizes = sorted(set(args.sizes))
    # Create the output directory before the timings, so that a bad path fails at once.
    png = output_path(args.output_dir, "forward_vs_reverse.png")

    results = {}
    largest_difference = 0.0
    for vary in ("n", "m"):
        forward, reverse, difference = sweep(sizes, args.fixed, vary, args.repeats)
        results[vary] = (forward, reverse, crossing(sizes, forward, reverse))
        largest_difference = max(largest_difference, difference)

        other = "m" if vary == "n" else "n"
        print(f"\n{other} = {args.fixed} fixed, {vary} varies (times in µs, best of {args.repeats})")
        print(f"{vary:>6} {'forward':>12} {'reverse':>12} {'forward/reverse':>16}")
        for size, f_time, r_time in zip(sizes, forward, reverse):
            print(f"{size:6d} {f_time * 1e6:12.1f} {r_time * 1e6:12.1f} {f_time / r_time:16.2f}")
        cross = results[vary][2]
        where = f"{vary} ≈ {cross:.1f}" if cross is not None else "not within the sizes"
        print(f"crossing: {where} (theory: {vary} = {other} = {args.fixed})")

    print(f"\nlargest |forward − reverse| Jacobian entry difference: {largest_difference:.1e}")
    png = write_plot(png, plot, sizes, args.fixed, results)
    return {
        "sizes": sizes,
        "fixed": args.fixed,
        "vary_n": {"forward": results["n"][0], "reverse": results["n"][1], "crossing": results["n"][2]},
        "vary_m": {"forward": results["m"][0], "reverse": results["m"][1], "crossing": results["m"][2]},
        "max_difference": largest_difference,
        "png": png,
    }


if __name__ == "__main__":
    main()
