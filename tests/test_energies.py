"""Tests of dualtape.energies: rigid-motion invariance, rest states, derivatives, bad meshes."""

import math

import numpy as np
import pytest

import dualtape as dt
from dualtape import energies
from dualtape.numdiff import gradient as numeric_gradient

from conftest import grid_mesh


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Evaluate elements on one thread: these meshes are too small to gain from more."""
    dt.set_num_threads(1)
    yield
    dt.set_num_threads(0)


def read_obj(path):
    """Read the `v` lines and the `f` lines (all of one arity) of an OBJ file."""
    vertices, elements = [], []
    with open(path) as source:
        for line in source:
            fields = line.split()
            if not fields:
                continue
            if fields[0] == "v":
                vertices.append([float(value) for value in fields[1:4]])
            elif fields[0] == "f":
                elements.append([int(field.split("/")[0]) - 1 for field in fields[1:]])
    return np.array(vertices), np.array(elements, dtype=np.int64)


def random_rotation(rng, dim):
    q, r = np.linalg.qr(rng.normal(size=(dim, dim)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def cube_tets(n):
    """Tetrahedralize an n×n×n grid of unit cubes, 6 tetrahedra per cube, all positive."""
    coordinates = np.arange(n + 1, dtype=float) / n
    x, y, z = np.meshgrid(coordinates, coordinates, coordinates, indexing="ij")
    vertices = np.column_stack([x.ravel(), y.ravel(), z.ravel()])

    def index(i, j, k):
        return (i * (n + 1) + j) * (n + 1) + k

    tets = []
    for i in range(n):
        for j in range(n):
            for k in range(n):
                corner = [index(i + (c >> 2 & 1), j + (c >> 1 & 1), k + (c & 1)) for c in range(8)]
                # The six tetrahedra around the diagonal from corner 0 to corner 7.
                for a, b in ((4, 6), (6, 2), (2, 3), (3, 1), (1, 5), (5, 4)):
                    tet = [corner[0], corner[a], corner[b], corner[7]]
                    d = vertices[tet[1:]] - vertices[tet[0]]
                    if np.linalg.det(d) < 0:
                        tet[1], tet[2] = tet[2], tet[1]
                    tets.append(tet)
    return vertices, np.array(tets, dtype=np.int64)


@pytest.fixture(scope="module")
def sphere(request):
    from conftest import MESH_DIR

    path = MESH_DIR / "sphere.obj"
    if not path.is_file():
        pytest.skip(f"test mesh not found: {path}")
    return read_obj(path)


@pytest.fixture(scope="module")
def bunny_quads():
    from conftest import MESH_DIR

    path = MESH_DIR / "bunny.obj"
    if not path.is_file():
        pytest.skip(f"test mesh not found: {path}")
    return read_obj(path)


@pytest.fixture(scope="module")
def cube_tets_mesh():
    """The first 3000 tetrahedra of cube_48k.obj, with their vertices renumbered."""
    from conftest import MESH_DIR

    path = MESH_DIR / "cube_48k.obj"
    if not path.is_file():
        pytest.skip(f"test mesh not found: {path}")
    vertices, tets = read_obj(path)
    tets = tets[:3000]
    used, renumbered = np.unique(tets, return_inverse=True)
    return vertices[used], renumbered.reshape(tets.shape)


def bumped_grid():
    vertices, faces = grid_mesh(4, 5)
    height = 0.3 * np.sin(vertices[:, 0]) * np.cos(0.7 * vertices[:, 1])
    return np.column_stack([vertices, height]), faces


def make_cases(sphere, bunny_quads, cube_tets_mesh):
    """Return (name, energy, rest x, dim, minimum value at rest or None) for each energy."""
    grid_vertices, grid_faces = bumped_grid()
    planar, planar_faces = grid_mesh(3, 4)
    tet_vertices, tets = cube_tets_mesh
    sphere_vertices, sphere_faces = sphere
    quad_vertices, quads = bunny_quads
    tet_volume = np.abs([np.linalg.det(tet_vertices[t[1:]] - tet_vertices[t[0]]) / 6 for t in tets]).sum()
    return [
        ("symmetric_dirichlet", energies.symmetric_dirichlet(grid_vertices, grid_faces), None, 2, None),
        ("symmetric_dirichlet_tets", energies.symmetric_dirichlet_tets(tet_vertices, tets), tet_vertices, 3,
         6.0 * tet_volume),
        ("arap", energies.arap(planar, planar_faces), planar, 2, 0.0),
        ("arap_tets", energies.arap_tets(tet_vertices, tets), tet_vertices, 3, 0.0),
        ("mass_spring", energies.mass_spring(sphere_vertices, energies.mesh_edges(sphere_faces)),
         sphere_vertices, 3, 0.0),
        ("surface_area", energies.surface_area(sphere_vertices, sphere_faces), sphere_vertices, 3, None),
        ("discrete_shells", energies.discrete_shells(sphere_vertices, sphere_faces), sphere_vertices, 3, 0.0),
        ("quad_planarity", energies.quad_planarity(quad_vertices, quads), quad_vertices, 3, None),
    ]


@pytest.fixture(scope="module")
def cases(sphere, bunny_quads, cube_tets_mesh):
    return make_cases(sphere, bunny_quads, cube_tets_mesh)


def deformed(energy, rest, dim, rng, amount=0.003):
    """Return a random deformation of the rest state, or of a grid layout for planar maps."""
    if rest is None:
        rest = grid_mesh(4, 5)[0]
    scale = np.ptp(rest, axis=0).max()
    return rest + amount * scale * rng.normal(size=rest.shape)


@pytest.mark.parametrize("name", ["symmetric_dirichlet", "symmetric_dirichlet_tets", "arap", "arap_tets",
                                  "mass_spring", "surface_area", "discrete_shells", "quad_planarity"])
def test_energy_rigid_motion_invariance(cases, name):
    _, energy, rest, dim, _ = next(case for case in cases if case[0] == name)
    rng = np.random.default_rng(10)
    x = deformed(energy, rest, dim, rng)
    rotation = random_rotation(rng, dim)
    moved = x @ rotation.T + rng.normal(size=dim)
    value, gradient = energy.value_and_gradient(x)
    moved_value, moved_gradient = energy.value_and_gradient(moved)
    assert np.isfinite(value)
    assert moved_value == pytest.approx(value, rel=1e-11, abs=1e-12)
    scale = np.abs(gradient).max()
    np.testing.assert_allclose(moved_gradient, gradient @ rotation.T, rtol=0, atol=1e-9 * scale)


@pytest.mark.parametrize("name", ["symmetric_dirichlet_tets", "arap", "arap_tets", "mass_spring",
                                  "discrete_shells"])
def test_distortion_energy_minimum_at_rest(cases, name):
    _, energy, rest, dim, minimum = next(case for case in cases if case[0] == name)
    value, gradient = energy.value_and_gradient(rest)
    assert value == pytest.approx(minimum, rel=1e-12, abs=1e-12)
    assert np.abs(gradient).max() < 1e-10
    rng = np.random.default_rng(11)
    for _ in range(3):
        assert energy.value(deformed(energy, rest, dim, rng, amount=3e-4)) > value


def test_symmetric_dirichlet_minimum_on_rotated_layout():
    vertices, faces = bumped_grid()
    energy = energies.symmetric_dirichlet(vertices, faces)
    inverse, area = energies.triangle_rest_frames(vertices, faces)
    # A developable rest mesh (flat grid) maps isometrically onto the plane.
    flat = grid_mesh(4, 5)[0]
    flat_energy = energies.symmetric_dirichlet(flat, faces)
    angle = 0.7
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    value, gradient = flat_energy.value_and_gradient(flat @ rotation.T + 3.0)
    assert value == pytest.approx(4.0 * 20 * 2 * 0.5, rel=1e-13)
    assert np.abs(gradient).max() < 1e-12
    assert area.min() > 0
    assert energy.value(flat) > 4.0 * area.sum()


@pytest.mark.parametrize("name", ["symmetric_dirichlet_tets", "arap", "arap_tets", "mass_spring",
                                  "surface_area", "discrete_shells", "quad_planarity"])
def test_energy_gradient_central_differences(name):
    rng = np.random.default_rng(12)
    vertices, faces = bumped_grid()
    tet_vertices, tets = cube_tets(1)
    quad_vertices = vertices
    quads = np.array([[0, 1, 7, 6], [1, 2, 8, 7], [7, 8, 14, 13]])
    builders = {
        "symmetric_dirichlet_tets": (lambda: energies.symmetric_dirichlet_tets(tet_vertices, tets), tet_vertices),
        "arap": (lambda: energies.arap(vertices, faces), vertices[:, :2] * 1.1),
        "arap_tets": (lambda: energies.arap_tets(tet_vertices, tets), tet_vertices),
        "mass_spring": (lambda: energies.mass_spring(vertices, energies.mesh_edges(faces)), vertices),
        "surface_area": (lambda: energies.surface_area(vertices, faces), vertices),
        "discrete_shells": (lambda: energies.discrete_shells(vertices, faces), vertices),
        "quad_planarity": (lambda: energies.quad_planarity(quad_vertices, quads), quad_vertices[:15]),
    }
    build, rest = builders[name]
    energy = build()
    x = rest + 0.05 * rng.normal(size=rest.shape)
    _, gradient = energy.value_and_gradient(x)
    numeric = numeric_gradient(lambda y: energy.value(y), x.ravel())
    np.testing.assert_allclose(gradient.ravel(), numeric, rtol=1e-6, atol=1e-7)
    hessian = energy.hessian(x).toarray()
    np.testing.assert_allclose(hessian, hessian.T, rtol=0, atol=1e-10 * np.abs(hessian).max())
    direction = rng.normal(size=x.size)
    step = 1e-6
    difference = (energy.value_and_gradient(x.ravel() + step * direction)[1]
                  - energy.value_and_gradient(x.ravel() - step * direction)[1]) / (2 * step)
    np.testing.assert_allclose(hessian @ direction, difference, rtol=1e-5, atol=1e-6)


def test_arap_tets_matches_svd():
    rng = np.random.default_rng(13)
    vertices = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    energy = energies.arap_tets(vertices, np.array([[0, 1, 2, 3]]))
    for scale in (0.05, 0.3, 1.0):
        for _ in range(20):
            x = vertices @ np.diag(rng.uniform(0.3, 3.0, 3)) + scale * rng.normal(size=(4, 3))
            J = (x[1:] - x[0]).T
            u, sigma, vt = np.linalg.svd(J)
            rotation = u @ np.diag([1.0, 1.0, np.sign(np.linalg.det(J))]) @ vt
            value, gradient = energy.value_and_gradient(x)
            assert value == pytest.approx(np.sum((J - rotation) ** 2) / 6.0, rel=1e-10, abs=1e-13)
            # ∂E/∂J = 2 V (J − R); x_i for i ≥ 1 enters column i − 1 of J (rest D = I).
            expected = 2.0 / 6.0 * (J - rotation)
            np.testing.assert_allclose(gradient[1:], expected.T, rtol=1e-8, atol=1e-10)


def test_arap_planar_matches_svd():
    rng = np.random.default_rng(14)
    vertices = np.array([[0.0, 0], [1, 0], [0, 1]])
    energy = energies.arap(vertices, np.array([[0, 1, 2]]))
    for _ in range(30):
        x = rng.normal(size=(3, 2))
        J = (x[1:] - x[0]).T
        u, sigma, vt = np.linalg.svd(J)
        rotation = u @ np.diag([1.0, np.sign(np.linalg.det(J))]) @ vt
        assert energy.value(x) == pytest.approx(0.5 * np.sum((J - rotation) ** 2), rel=1e-12)


def test_symmetric_dirichlet_tets_inverted_is_inf():
    vertices = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    energy = energies.symmetric_dirichlet_tets(vertices, np.array([[0, 1, 2, 3]]))
    flipped = vertices.copy()
    flipped[3, 2] = -0.5
    assert energy.value(flipped) == math.inf
    stretched = vertices @ np.diag([2.0, 1.0, 1.0])
    # ‖J‖² = 6, ‖J⁻¹‖² = 2.25 for J = diag(2, 1, 1).
    assert energy.value(stretched) == pytest.approx((6.0 + 2.25) / 6.0, rel=1e-14)


def test_mass_spring_closed_form():
    vertices = np.array([[0.0, 0.0], [2.0, 0.0]])
    energy = energies.mass_spring(vertices, np.array([[0, 1]]), stiffness=3.0)
    assert energy.value(np.array([[0.0, 0.0], [0.0, 2.5]])) == pytest.approx(0.5 * 3.0 * 0.25, rel=1e-15)


def test_surface_area_of_sphere(sphere):
    vertices, faces = sphere
    energy = energies.surface_area(vertices, faces)
    radius = np.linalg.norm(vertices, axis=1).mean()
    # An inscribed triangulation of 5120 faces has slightly less area than the sphere.
    area = energy.value(vertices)
    assert 0.99 * 4 * math.pi * radius ** 2 < area < 4 * math.pi * radius ** 2
    _, gradient = energy.value_and_gradient(vertices)
    # The area gradient of a sphere points inward: it is the mean curvature normal.
    assert np.all(np.einsum("ij,ij->i", gradient, vertices) > 0)


def test_discrete_shells_bending_grows_with_angle():
    vertices = np.array([[0.0, 0, 0], [1, 0, 0], [0.5, 1, 0], [0.5, -1, 0]])
    faces = np.array([[0, 1, 2], [1, 0, 3]])
    energy = energies.discrete_shells(vertices, faces, stiffness=2.0)
    assert energy.n_elements == 1
    folded = vertices.copy()
    folded[3] = [0.5, -math.cos(0.4), math.sin(0.4)]
    # weight 3 k ‖e‖² / (A₁ + A₂) = 3 · 2 · 1 / 1 with the fold angle θ = 0.4.
    assert energy.value(folded) == pytest.approx(6.0 * 0.4 ** 2, rel=1e-13)


def test_quad_planarity_zero_on_planar_quads(bunny_quads):
    vertices, quads = bunny_quads
    energy = energies.quad_planarity(vertices, quads)
    assert energy.value(vertices) > 0
    flattened = vertices.copy()
    flattened[:, 2] = 0.0
    assert energy.value(flattened) < 1e-25


def test_mesh_hinges_of_closed_sphere(sphere):
    vertices, faces = sphere
    hinges = energies.mesh_hinges(faces)
    assert hinges.shape == (3 * faces.shape[0] // 2, 4)
    assert energies.mesh_edges(faces).shape[0] == hinges.shape[0]


# -- bad meshes ---------------------------------------------------------------------

TET = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])
TRIANGLES = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])


@pytest.mark.parametrize("factory, vertices, elements", [
    (energies.symmetric_dirichlet_tets, TET, np.array([[0, 1, 2, 5]])),
    (energies.arap_tets, TET, np.array([[0, 1, 2, -1]])),
    (energies.arap, TRIANGLES, np.array([[0, 1, 4]])),
    (energies.mass_spring, TRIANGLES, np.array([[0, 7]])),
    (energies.surface_area, TRIANGLES, np.array([[0, 1, 9]])),
    (energies.discrete_shells, TRIANGLES, np.array([[0, 1, 2], [1, 0, 4]])),
    (energies.quad_planarity, TRIANGLES, np.array([[0, 1, 3, 4]])),
])
def test_energy_rejects_out_of_range_index(factory, vertices, elements):
    with pytest.raises(IndexError, match="outside"):
        factory(vertices, elements)


@pytest.mark.parametrize("factory, vertices, elements", [
    (energies.symmetric_dirichlet_tets, TET, np.array([[0, 1, 2]])),
    (energies.arap_tets, TET, np.array([[0, 1, 2, 3, 4]])),
    (energies.arap, TRIANGLES, np.array([[0, 1, 2, 3]])),
    (energies.mass_spring, TRIANGLES, np.array([[0, 1, 2]])),
    (energies.surface_area, TRIANGLES, np.array([[0, 1]])),
    (energies.discrete_shells, TRIANGLES, np.array([[0, 1, 2, 3]])),
    (energies.quad_planarity, TRIANGLES, np.array([[0, 1, 2]])),
])
def test_energy_rejects_wrong_arity(factory, vertices, elements):
    with pytest.raises(ValueError, match="array of vertex indices"):
        factory(vertices, elements)


def test_degenerate_tet_named():
    vertices = np.vstack([TET, [[0.5, 0.5, 0.0]]])
    tets = np.array([[0, 1, 2, 3], [0, 1, 2, 5]])
    for factory in (energies.symmetric_dirichlet_tets, energies.arap_tets):
        with pytest.raises(ValueError, match=r"tet 1 \(vertices \[0, 1, 2, 5\]\) has zero rest volume"):
            factory(vertices, tets)


def test_degenerate_triangle_named():
    vertices = np.vstack([TRIANGLES, [[2.0, 0, 0]]])
    faces = np.array([[0, 1, 2], [0, 1, 4]])
    with pytest.raises(ValueError, match=r"face 1 .* zero rest area"):
        energies.arap(vertices, faces)
    with pytest.raises(ValueError, match=r"face 1 .* zero rest area"):
        energies.discrete_shells(vertices, np.array([[0, 1, 2], [1, 0, 4]]))


def test_degenerate_edge_named():
    vertices = np.vstack([TRIANGLES, [[1.0, 0, 0]]])
    with pytest.raises(ValueError, match=r"edge 1 \(vertices \[1, 4\]\) has zero rest length"):
        energies.mass_spring(vertices, np.array([[0, 1], [1, 4]]))


def test_degenerate_quad_named():
    vertices = np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError, match=r"quad 0 .* parallel or zero-length"):
        energies.quad_planarity(vertices, np.array([[0, 1, 2, 3]]))


def test_repeated_vertex_rejected():
    with pytest.raises(ValueError, match="repeats vertex 1"):
        energies.surface_area(TRIANGLES, np.array([[0, 1, 1]]))
    with pytest.raises(ValueError, match="repeats vertex 0"):
        energies.mass_spring(TRIANGLES, np.array([[0, 0]]))


def test_tet_energy_rejects_planar_vertices():
    with pytest.raises(ValueError, match="#V by 3"):
        energies.arap_tets(TRIANGLES[:, :2], np.array([[0, 1, 2, 3]]))


def test_discrete_shells_rejects_inconsistent_orientation():
    faces = np.array([[0, 1, 2], [0, 1, 3]])
    with pytest.raises(ValueError, match=r"directed edge \(0, 1\) belongs to faces 0 and 1"):
        energies.discrete_shells(TRIANGLES, faces)


def test_discrete_shells_rejects_mesh_without_interior_edge():
    with pytest.raises(ValueError, match="no interior edge"):
        energies.discrete_shells(TRIANGLES, np.array([[0, 1, 2]]))


def test_stiffness_validated():
    edges = np.array([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="stiffness must be finite and > 0"):
        energies.mass_spring(TRIANGLES, edges, stiffness=-1.0)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        energies.mass_spring(TRIANGLES, edges, stiffness=np.ones(3))
    with pytest.raises(ValueError, match="edge 1"):
        energies.mass_spring(TRIANGLES, edges, stiffness=np.array([1.0, np.nan]))


def test_vertices_with_nan_rejected():
    vertices = TET.copy()
    vertices[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        energies.symmetric_dirichlet_tets(vertices, np.array([[0, 1, 2, 3]]))


def test_float_faces_rejected():
    with pytest.raises(TypeError, match="integer"):
        energies.surface_area(TRIANGLES, np.array([[0.0, 1.0, 2.0]]))
