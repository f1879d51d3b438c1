"""Time the symmetric Dirichlet energy and the parametrization Newton run from Python.

For each mesh, the evaluation point is the Tutte embedding of the parametrization
example. The script times ``dt.Objective.value``, ``value_and_gradient`` and
``value_gradient_hessian`` with projection None and "clamp" (each returns f, ∇f
and the CSR matrix), on one thread and on all cores. Then it times the whole
projected Newton run of the example. When JAX is
installed it also times a JAX version of the same energy for orientation (jit and
vmap: value and gradient, and the clamped element Hessians assembled into the same
CSR value array); otherwise that part is skipped.

    PYTHONPATH=python python bench/bench_python.py [--seconds S] [--no-newton] [--no-jax] [MESH ...]

Without MESH it uses bunny_cut and armadillo_cut_low from ../shared/data/meshes.
Each time is the median of repeated calls within a budget of S seconds (at least
5 calls) after one warm-up call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

import dualtape as dt
from dualtape.examples.parametrization import read_mesh, signed_areas, tutte_embedding

DEFAULT_MESHES = ("bunny_cut.obj", "armadillo_cut_low.obj")
MESH_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "meshes"))


def median_ms(fn, seconds: float) -> tuple[float, int]:
    """Return the median wall time of fn() in milliseconds and the number of calls timed."""
    fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < 500:
        t0 = time.perf_counter()
        fn()
        samples.append(1e3 * (time.perf_counter() - t0))
        if len(samples) >= 5 and time.perf_counter() - start > seconds:
            break
    return statistics.median(samples), len(samples)


def print_table(title: str, header: tuple, rows: list) -> None:
    """Print a Markdown table."""
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def time_objective(objective: dt.Objective, uv: np.ndarray, threads: int, seconds: float) -> dict:
    """Time the four evaluations of the objective with the given thread count (0: all cores)."""
    dt.set_num_threads(threads)
    times = {
        "value": median_ms(lambda: objective.value(uv), seconds),
        "value + gradient": median_ms(lambda: objective.value_and_gradient(uv), seconds),
        "value + gradient + Hessian (CSR)": median_ms(
            lambda: objective.value_gradient_hessian(uv, projection=None), seconds),
        "... with projection=\"clamp\"": median_ms(
            lambda: objective.value_gradient_hessian(uv, projection="clamp"), seconds),
    }
    dt.set_num_threads(0)
    return times


def run_newton(objective: dt.Objective, uv: np.ndarray, threads: int):
    """Run the example's projected Newton minimization; return (result, seconds)."""
    dt.set_num_threads(threads)
    start = time.perf_counter()
    result = dt.minimize(objective, uv, method="newton", projection="clamp", eps=1e-9, tol=1e-2, gtol=0.0,
                         maxiter=200, verbose=0)
    seconds = time.perf_counter() - start
    dt.set_num_threads(0)
    return result, seconds


# ---------------------------------------------------------------------------
# JAX, for orientation


def jax_available() -> bool:
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def csr_scatter_map(H, faces: np.ndarray) -> np.ndarray:
    """Return the #F by 36 positions of each element's 6×6 Hessian entries in H.data."""
    n = H.shape[0]
    rows = np.repeat(np.arange(n), np.diff(H.indptr))
    keys = rows.astype(np.int64) * n + H.indices
    local = (2 * faces[:, :, None] + np.arange(2)[None, None, :]).reshape(-1, 6)
    global_rows = np.repeat(local, 6, axis=1)
    global_cols = np.tile(local, (1, 6))
    positions = np.searchsorted(keys, global_rows.astype(np.int64) * n + global_cols)
    if not np.array_equal(keys[positions], global_rows.astype(np.int64) * n + global_cols):
        raise RuntimeError("an element Hessian entry is missing from the CSR pattern")
    return positions


def time_jax(energy: dt.ElementEnergy, uv: np.ndarray, H, seconds: float) -> dict:
    """Time a JAX version of the energy: jit(vmap) value+gradient and clamped CSR Hessian."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    faces = np.asarray(energy.elements)
    params = jnp.asarray(energy.params)
    positions = jnp.asarray(csr_scatter_map(H, faces))
    nnz = H.nnz
    n = uv.size

    def element(x_local, p):
        # x_local: 6 = (u0, v0, u1, v1, u2, v2); p = (area, M⁻¹ row-major).
        d = jnp.array([[x_local[2] - x_local[0], x_local[4] - x_local[0]],
                       [x_local[3] - x_local[1], x_local[5] - x_local[1]]])
        J = d @ p[1:].reshape(2, 2)
        det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
        frobenius = jnp.sum(J * J)
        return jnp.where(det > 0.0, p[0] * (frobenius + frobenius / (det * det)), jnp.inf)

    def gather(x):
        return x.reshape(-1, 2)[faces].reshape(-1, 6)

    def total(x):
        return jnp.sum(jax.vmap(element)(gather(x), params))

    value_and_grad = jax.jit(jax.value_and_grad(total))

    def clamp(h):
        w, v = jnp.linalg.eigh(h)
        return (v * jnp.maximum(w, 1e-9)) @ v.T

    @jax.jit
    def projected_hessian(x):
        local = gather(x)
        hessians = jax.vmap(jax.hessian(element))(local, params)
        projected = jax.vmap(clamp)(hessians)
        return jnp.zeros(nnz).at[positions.reshape(-1)].add(projected.reshape(-1))

    x = jnp.asarray(uv.reshape(n))
    f, g = value_and_grad(x)
    reference_f, reference_g = energy._as_objective().value_and_gradient(uv.reshape(n))
    if not np.isclose(float(f), reference_f, rtol=1e-12) or not np.allclose(np.asarray(g), reference_g, rtol=1e-9,
                                                                              atol=1e-9 * np.abs(reference_g).max()):
        raise RuntimeError("the JAX energy disagrees with dualtape's")
    return {
        "value + gradient": median_ms(lambda: jax.block_until_ready(value_and_grad(x)), seconds),
        "clamped Hessian (CSR values)": median_ms(lambda: jax.block_until_ready(projected_hessian(x)), seconds),
    }


# ---------------------------------------------------------------------------


def bench_mesh(path: str, seconds: float, newton: bool, use_jax: bool) -> None:
    name = os.path.splitext(os.path.basename(path))[0]
    V, F = read_mesh(path)
    uv = tutte_embedding(V, F)
    if np.any(signed_areas(uv, F) <= 0):
        raise SystemExit(f"{path}: the Tutte embedding has inverted triangles")

    start = time.perf_counter()
    energy = dt.energies.symmetric_dirichlet(V, F)
    objective = dt.Objective([energy], n_vars=V.shape[0])
    build_ms = 1e3 * (time.perf_counter() - start)
    print(f"\n## {name}: {V.shape[0]} vertices, {F.shape[0]} triangles, "
          f"tape of {energy.tape.n_operations} operations")
    print(f"\nbuilding the energy and objective (tracing, coloring, CSR pattern): {build_ms:.1f} ms")

    all_cores = os.cpu_count() or 1
    single = time_objective(objective, uv, 1, seconds)
    parallel = time_objective(objective, uv, 0, seconds)
    rows = [(quantity, f"{single[quantity][0]:.3f}", f"{parallel[quantity][0]:.3f}",
             f"{single[quantity][0] / parallel[quantity][0]:.2f}x") for quantity in single]
    print_table(f"{name}: dt.Objective from Python (median ms; load average {os.getloadavg()[0]:.2f})",
                ("quantity", "1 thread", f"{all_cores} threads", "speed-up"), rows)

    if newton:
        rows = []
        for threads in (1, 0):
            result, total = run_newton(objective, uv, threads)
            inverted = int(np.sum(signed_areas(np.asarray(result.x).reshape(-1, 2), F) <= 0))
            label = "1" if threads == 1 else str(all_cores)
            rows.append((label, str(result.nit), f"{1e3 * total:.0f}", f"{1e3 * total / max(result.nit, 1):.1f}",
                         f"{result.nfev}", f"{result.fun:.3f}", str(inverted), result.message))
        print_table(f"{name}: projected Newton run of the parametrization example (tol=1e-2 on the decrement)",
                    ("threads", "iterations", "total ms", "ms per iteration", "f evaluations", "final energy",
                     "inverted", "status"), rows)

    if use_jax:
        if not jax_available():
            print("\nJAX is not installed: skipping the JAX comparison")
            return
        import jax

        H = objective.hessian(uv)
        jax_times = time_jax(energy, uv, H, seconds)
        rows = [(quantity, f"{ms:.3f}") for quantity, (ms, _) in jax_times.items()]
        print_table(f"{name}: JAX {jax.__version__} (jit + vmap, float64, its default threading; median ms)",
                    ("quantity", "ms"), rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("meshes", nargs="*", help="disk-topology OBJ meshes (default: bunny_cut and "
                        "armadillo_cut_low from ../shared/data/meshes)")
    parser.add_argument("--seconds", type=float, default=2.0, help="time budget per measurement in seconds "
                        "(default: %(default)s)")
    parser.add_argument("--no-newton", action="store_true", help="skip the Newton runs")
    parser.add_argument("--no-jax", action="store_true", help="skip the JAX comparison even if JAX is installed")
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        parser.error(f"--seconds must be > 0; got {args.seconds}")

    meshes = args.meshes or [os.path.join(MESH_DIR, name) for name in DEFAULT_MESHES]
    print(f"dualtape {dt.__version__}, numpy {np.__version__}, {os.cpu_count()} cores")
    for mesh in meshes:
        bench_mesh(mesh, args.seconds, not args.no_newton, not args.no_jax)
    return 0


if __name__ == "__main__":
    sys.exit(main())
