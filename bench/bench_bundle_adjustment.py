"""Time synthetic bundle adjustment: dualtape against scipy.optimize.least_squares and JAX.

Problem: `dualtape.examples.bundle_adjustment` (cameras with angle-axis rotation,
translation and focal length; 3-D points; two reprojection residuals per
observation; camera 0 fixed). For each size it reports

- the solve time of dt.least_squares (Levenberg-Marquardt, C++ loop);
- scipy.optimize.least_squares(method="trf", jac_sparsity=...) on a NumPy residual
  function (finite-difference Jacobian grouped by the sparsity pattern);
- scipy.optimize.least_squares(method="trf", jac=dualtape's sparse Jacobian);
- scipy.optimize.least_squares(method="lm", jac=dualtape's Jacobian as a dense array),
  only where that array takes at most --lm-megabytes (default 300): MINPACK's LM
  works on dense matrices, and at 2,000 points J is 20,000 × 6,105 doubles (about
  1 GB);
- the time of one residual + Jacobian evaluation: dualtape against JAX (jit of vmap
  of jacfwd over observations), median of 20 runs after a warm-up. dualtape is timed
  with its thread count (`dt.get_num_threads()`) and on one thread, with the
  process CPU time beside the wall-clock time. With GCC's OpenMP, worker threads
  spin after a parallel region unless OMP_WAIT_POLICY=passive is set; on a loaded
  machine that spinning competes with the main thread for the cores.

All solvers use xtol = ftol = gtol = 1e-8 and at most 100 iterations; the final
cost is printed so that runs are compared at equal accuracy.

Run: ``PYTHONPATH=python python bench/bench_bundle_adjustment.py [--sizes 500,2000,8000]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import scipy.optimize
import scipy.sparse as sp

import dualtape as dt
from dualtape.examples import bundle_adjustment as ba


def numpy_residuals(n_cameras, observed, camera_index, point_index):
    from scipy.spatial.transform import Rotation

    def fun(x):
        cameras = x[:n_cameras * ba.CAMERA_SIZE].reshape(-1, ba.CAMERA_SIZE)
        points = x[n_cameras * ba.CAMERA_SIZE:].reshape(-1, ba.POINT_SIZE)
        P = Rotation.from_rotvec(cameras[camera_index, :3]).apply(points[point_index]) + cameras[camera_index, 3:6]
        return (cameras[camera_index, 6:7] * P[:, :2] / P[:, 2:3] - observed).ravel()

    return fun


def jax_jacobian_timer(n_cameras, observed, camera_index, point_index, x):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def rotate(omega, X):
        theta = jnp.sqrt(jnp.dot(omega, omega))
        k = omega / theta
        return (X * jnp.cos(theta) + jnp.cross(k, X) * jnp.sin(theta)
                + k * jnp.dot(k, X) * (1.0 - jnp.cos(theta)))

    def residual(local, uv):
        P = rotate(local[0:3], local[7:10]) + local[3:6]
        return local[6] * P[:2] / P[2] - uv

    both = jax.jit(jax.vmap(lambda local, uv: (residual(local, uv), jax.jacfwd(residual)(local, uv))))
    cameras = x[:n_cameras * ba.CAMERA_SIZE].reshape(-1, ba.CAMERA_SIZE)
    points = x[n_cameras * ba.CAMERA_SIZE:].reshape(-1, ba.POINT_SIZE)
    local = jnp.asarray(np.hstack([cameras[camera_index], points[point_index]]))
    uv = jnp.asarray(observed)

    def run():
        r, J = both(local, uv)
        r.block_until_ready()
        J.block_until_ready()

    return run


def median_seconds(function, repeats=20):
    function()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return float(np.median(times))


def median_wall_and_cpu(function, repeats=20):
    """Return the median wall-clock and process CPU seconds of one call."""
    function()
    wall, cpu = [], []
    for _ in range(repeats):
        began, began_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return float(np.median(wall)), float(np.median(cpu))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000,8000", help="numbers of points (default: 500,2000,8000)")
    parser.add_argument("--cameras", type=int, default=16, help="number of cameras (default: 16)")
    parser.add_argument("--no-jax", action="store_true", help="skip the JAX evaluation timing")
    parser.add_argument("--lm-megabytes", type=float, default=300.0,
                        help="largest dense Jacobian, in MB, for which scipy's method='lm' runs (default: 300)")
    args = parser.parse_args(argv)
    threads = dt.get_num_threads()
    print(f"machine: {platform.processor() or platform.machine()}, dualtape threads: {threads}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, "
          f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())} at the start")
    print("| points | observations | variables | dualtape LM (s) | cost | scipy trf + jac_sparsity (s) | cost |"
          " scipy trf + dualtape J (s) | cost | scipy lm + dualtape J, dense (s) | cost |"
          f" eval r+J dualtape, {threads} threads: wall / CPU (ms) |"
          " eval r+J dualtape, 1 thread: wall / CPU (ms) | eval r+J JAX (ms) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n_points in [int(size) for size in args.sizes.split(",")]:
        cameras, points, observed, camera_index, point_index = ba.make_problem(args.cameras, n_points)
        start_cameras, start_points = ba.perturb(cameras, points)
        x0 = np.concatenate([start_cameras.ravel(), start_points.ravel()])
        resid = ba.bundle_residuals(args.cameras, n_points, observed, camera_index, point_index)
        fixed = np.zeros(x0.size, dtype=bool)
        fixed[:ba.CAMERA_SIZE] = True
        free = ~fixed

        began = time.perf_counter()
        ours = dt.least_squares(resid, x0, fixed=fixed, maxiter=100)
        ours_seconds = time.perf_counter() - began

        fun = numpy_residuals(args.cameras, observed, camera_index, point_index)
        pattern = resid.jacobian(x0)[:, free]
        pattern.data[:] = 1.0

        def fun_free(z):
            x = x0.copy()
            x[free] = z
            return fun(x)

        began = time.perf_counter()
        trf = scipy.optimize.least_squares(fun_free, x0[free], jac_sparsity=pattern, method="trf",
                                           x_scale="jac", max_nfev=100)
        trf_seconds = time.perf_counter() - began

        def resid_free(z):
            x = x0.copy()
            x[free] = z
            return resid.residuals(x)

        def jac_free(z):
            x = x0.copy()
            x[free] = z
            return sp.csr_matrix(resid.jacobian(x)[:, free])

        began = time.perf_counter()
        trf_exact = scipy.optimize.least_squares(resid_free, x0[free], jac=jac_free, method="trf", x_scale="jac",
                                                 max_nfev=100)
        trf_exact_seconds = time.perf_counter() - began

        lm_cell = "- | -"
        if 8 * resid.n_residuals * int(free.sum()) <= args.lm_megabytes * 1e6:
            began = time.perf_counter()
            lm = scipy.optimize.least_squares(resid_free, x0[free], jac=lambda z: jac_free(z).toarray(), method="lm",
                                              x_scale="jac", max_nfev=100)
            lm_cell = f"{time.perf_counter() - began:.2f} | {lm.cost:.6g}"

        eval_ours = median_wall_and_cpu(lambda: resid.residuals_and_jacobian(x0))
        dt.set_num_threads(1)
        eval_single = median_wall_and_cpu(lambda: resid.residuals_and_jacobian(x0))
        dt.set_num_threads(threads)
        eval_jax = float("nan")
        if not args.no_jax:
            eval_jax = median_seconds(jax_jacobian_timer(args.cameras, observed, camera_index, point_index, x0))
        print(f"| {n_points} | {observed.shape[0]} | {int(free.sum())} | {ours_seconds:.2f} | {ours.cost:.6g} |"
              f" {trf_seconds:.2f} | {trf.cost:.6g} | {trf_exact_seconds:.2f} | {trf_exact.cost:.6g} | {lm_cell} |"
              f" {1e3 * eval_ours[0]:.2f} / {1e3 * eval_ours[1]:.2f} | {1e3 * eval_single[0]:.2f} /"
              f" {1e3 * eval_single[1]:.2f} | {1e3 * eval_jax:.2f} |", flush=True)
    print(f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
