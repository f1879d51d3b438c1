"""Synthetic bundle adjustment: cameras and 3-D points refined from reprojection residuals.

Scene: n_points 3-D points uniform in the cube [−1, 1]³ and n_cameras cameras on a
ring of radius 5 around it, each looking at the origin (seeded). A camera has 7
variables: an angle-axis rotation ω (3), a translation t (3) and a focal length f;
a point has its 3 coordinates. Each point is seen by `views` cameras, and each
observation is one residual element with two residuals, the reprojection error

    P = R(ω) X + t,   r = f · (P_x / P_z, P_y / P_z) − (u, v),

where R(ω) is Rodrigues' rotation, R(ω) X = X cos θ + (k × X) sin θ + k (k·X)(1 − cos θ)
with θ = ‖ω‖ and k = ω / θ. The observations carry Gaussian noise of 0.5 pixels;
the start perturbs every rotation by 0.02 rad, translation by 0.05, focal length by
2 % and point by 0.05. Camera 0 is held fixed; the remaining gauge freedom (the
scale of the scene) leaves JᵀJ singular and is handled by the Levenberg-Marquardt
damping.

All variables form one vector with block size 1; an element lists the 7 camera and
3 point variables it reads, so J has 2 rows of 10 entries per observation. Writes
``bundle_adjustment.png`` with the sparsity pattern of J (spy plot) and the
convergence of the cost.

Run: ``python -m dualtape.examples.bundle_adjustment [-o DIR] [--points 2000]``
"""

from __future__ import annotations

import time

import numpy as np
from scipy.spatial.transform import Rotation

import dualtape as dt
from dualtape.examples._output import make_parser, new_figure, output_path, plot_cost_history, write_plot

CAMERA_SIZE = 7
POINT_SIZE = 3


def rotate(omega, X):
    """Rotate the point X by the angle-axis vector omega (Rodrigues), in dualtape math.

    Below θ² = 1e-12 the first-order form X + ω × X is selected with dt.where, so
    θ = 0 gives finite values and derivatives. Written on scalars, so it traces
    into one straight-line tape.
    """
    w0, w1, w2 = omega
    x0, x1, x2 = X
    theta2 = w0 * w0 + w1 * w1 + w2 * w2
    small = theta2 < 1e-12
    theta = dt.sqrt(dt.where(small, 1.0, theta2))
    k0, k1, k2 = w0 / theta, w1 / theta, w2 / theta
    cos_theta, sin_theta = dt.cos(theta), dt.sin(theta)
    k_dot_X = k0 * x0 + k1 * x1 + k2 * x2
    k_cross_X = (k1 * x2 - k2 * x1, k2 * x0 - k0 * x2, k0 * x1 - k1 * x0)
    w_cross_X = (w1 * x2 - w2 * x1, w2 * x0 - w0 * x2, w0 * x1 - w1 * x0)
    rotated = []
    for x, k, kx, wx in zip((x0, x1, x2), (k0, k1, k2), k_cross_X, w_cross_X):
        rodrigues = x * cos_theta + kx * sin_theta + k * (k_dot_X * (1.0 - cos_theta))
        rotated.append(dt.where(small, x + wx, rodrigues))
    return rotated


def reprojection_residual(v, p):
    """Return the two reprojection residuals of one observation.

    v: 10×1 object array: ω (3), t (3), f, then the point X (3). p: observed (u, v).
    """
    values = v[:, 0]
    omega, translation, focal, X = values[0:3], values[3:6], values[6], values[7:10]
    P = [rotated + shift for rotated, shift in zip(rotate(omega, X), translation)]
    return [focal * P[0] / P[2] - p[0], focal * P[1] / P[2] - p[1]]


def project_numpy(cameras, points, camera_index, point_index):
    """Project points with numpy (cameras: #C by 7, points: #P by 3) for data generation."""
    rotations = Rotation.from_rotvec(cameras[camera_index, :3])
    P = rotations.apply(points[point_index]) + cameras[camera_index, 3:6]
    return cameras[camera_index, 6:7] * P[:, :2] / P[:, 2:3]


def make_problem(n_cameras=16, n_points=2000, views=5, seed=0):
    """Return the true cameras and points, the observations and their (camera, point) indices."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1.0, 1.0, (n_points, 3))
    cameras = np.empty((n_cameras, CAMERA_SIZE))
    for c in range(n_cameras):
        angle = 2 * np.pi * c / n_cameras
        center = np.array([5.0 * np.cos(angle), 5.0 * np.sin(angle), 0.5 * np.sin(3 * angle)])
        forward = -center / np.linalg.norm(center)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        world_to_camera = np.vstack([right, down, forward])
        cameras[c, :3] = Rotation.from_matrix(world_to_camera).as_rotvec()
        cameras[c, 3:6] = -world_to_camera @ center
        cameras[c, 6] = 500.0 * (1.0 + 0.1 * rng.uniform(-1.0, 1.0))
    camera_index = np.concatenate([rng.choice(n_cameras, views, replace=False) for _ in range(n_points)])
    point_index = np.repeat(np.arange(n_points), views)
    observed = project_numpy(cameras, points, camera_index, point_index)
    observed += 0.5 * rng.standard_normal(observed.shape)
    return cameras, points, observed, camera_index, point_index


def perturb(cameras, points, seed=1):
    rng = np.random.default_rng(seed)
    start_cameras = cameras.copy()
    start_cameras[:, :3] += 0.02 * rng.standard_normal((len(cameras), 3))
    start_cameras[:, 3:6] += 0.05 * rng.standard_normal((len(cameras), 3))
    start_cameras[:, 6] *= 1.0 + 0.02 * rng.standard_normal(len(cameras))
    start_cameras[0] = cameras[0]
    return start_cameras, points + 0.05 * rng.standard_normal(points.shape)


def bundle_residuals(n_cameras, n_points, observed, camera_index, point_index) -> dt.Residuals:
    """Build the reprojection residuals over x = (all cameras, then all points), block size 1."""
    camera_columns = camera_index[:, None] * CAMERA_SIZE + np.arange(CAMERA_SIZE)
    point_columns = n_cameras * CAMERA_SIZE + point_index[:, None] * POINT_SIZE + np.arange(POINT_SIZE)
    elements = np.hstack([camera_columns, point_columns])
    return dt.Residuals(reprojection_residual, elements, dim=1, params=observed,
                        n_vars=n_cameras * CAMERA_SIZE + n_points * POINT_SIZE)


def plot(jacobian, costs, max_rows=400):
    figure = new_figure((11, 4.8))
    left = figure.add_subplot(1, 2, 1)
    rows = jacobian[:max_rows]
    used = np.unique(rows.indices)
    left.spy(rows[:, used], markersize=0.6, aspect="auto")
    left.set_title(f"J: first {rows.shape[0]} of {jacobian.shape[0]} rows\n"
                   f"({used.size} used columns shown; cameras left, points right)", fontsize=9)
    plot_cost_history(figure.add_subplot(1, 2, 2), costs, "cost ½‖r‖² (pixels²)")
    figure.tight_layout()
    return figure


def main(argv=None):
    """Run the example; return the RMS reprojection errors, counts and timings."""
    parser = make_parser("bundle_adjustment", __doc__, "bundle_adjustment.png")
    parser.add_argument("--cameras", type=int, default=16, help="number of cameras (default: 16)")
    parser.add_argument("--points", type=int, default=2000, help="number of 3-D points (default: 2000)")
    parser.add_argument("--views", type=int, default=5, help="cameras that see each point (default: 5)")
    parser.add_argument("--verbose", type=int, default=0, help="solver progress lines: 0 or 1 (default: 0)")
    args = parser.parse_args(argv)

    cameras, points, observed, camera_index, point_index = make_problem(args.cameras, args.points, args.views)
    start_cameras, start_points = perturb(cameras, points)
    x0 = np.concatenate([start_cameras.ravel(), start_points.ravel()])
    x_true = np.concatenate([cameras.ravel(), points.ravel()])

    build_start = time.perf_counter()
    resid = bundle_residuals(args.cameras, args.points, observed, camera_index, point_index)
    build_seconds = time.perf_counter() - build_start
    fixed = np.zeros(x0.size, dtype=bool)
    fixed[:CAMERA_SIZE] = True
    result = dt.least_squares(resid, x0, fixed=fixed, maxiter=100, verbose=args.verbose)

    n_observations = observed.shape[0]
    numbers = {
        "observations": n_observations,
        "variables": x0.size,
        "jacobian_nnz": resid.jacobian_nnz,
        "start_rms": float(np.sqrt(2 * resid.cost(x0) / (2 * n_observations))),
        "final_rms": float(np.sqrt(2 * result.cost / (2 * n_observations))),
        "true_rms": float(np.sqrt(2 * resid.cost(x_true) / (2 * n_observations))),
        "iterations": result.nit,
        "success": result.success,
        "message": result.message,
        "build_seconds": build_seconds,
        "solve_seconds": result.time,
    }
    print(f"{args.cameras} cameras, {args.points} points, {n_observations} observations, "
          f"{x0.size} variables, J: {resid.n_residuals} x {resid.n} with {resid.jacobian_nnz} entries")
    print(f"RMS reprojection error: start {numbers['start_rms']:.3f} px, final {numbers['final_rms']:.4f} px "
          f"(true scene: {numbers['true_rms']:.4f} px)")
    print(f"{result.nit} iterations in {result.time:.2f} s (tracing and pattern {build_seconds:.2f} s): "
          f"{result.message}")

    costs = list(result.history["cost"]) + [result.cost]
    write_plot(output_path(args.output_dir, "bundle_adjustment.png"), plot, result.jac, costs)
    return numbers


if __name__ == "__main__":
    main()
