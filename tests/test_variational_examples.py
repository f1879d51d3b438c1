"""Closed-form checks of the variational examples at small resolutions."""

import math

import numpy as np
import pytest

import dualtape as dt
from dualtape.examples import brachistochrone, catenary, elastica, minimal_surface, volumetric_deformation

pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Evaluate elements on one thread: these problems are too small to gain from more."""
    dt.set_num_threads(1)
    yield
    dt.set_num_threads(0)


def test_cycloid_passes_through_end():
    radius, phi, time = brachistochrone.cycloid()
    width, height = brachistochrone.END
    assert radius * (phi - math.sin(phi)) == pytest.approx(width, rel=1e-12)
    assert -radius * (1.0 - math.cos(phi)) == pytest.approx(height, rel=1e-12)
    assert time == pytest.approx(phi * math.sqrt(radius / brachistochrone.GRAVITY), rel=1e-15)


def test_brachistochrone_approaches_cycloid(tmp_path):
    numbers = brachistochrone.main(["-o", str(tmp_path), "--points", "16"])
    coarse, fine = numbers["runs"]
    # A polyline is an admissible curve, so its exact descent time exceeds the optimum.
    assert coarse["time"] > numbers["optimal_time"]
    assert fine["time"] > numbers["optimal_time"]
    assert coarse["time_error"] < 2e-3
    assert fine["time_error"] < coarse["time_error"] / 2.5
    assert coarse["max_distance"] < 3e-3
    assert fine["max_distance"] < coarse["max_distance"] / 2.5
    assert (tmp_path / "brachistochrone.png").stat().st_size > 0


def test_brachistochrone_ends_stay_fixed(tmp_path):
    points, _, result = brachistochrone.solve(8)
    assert result.success
    np.testing.assert_array_equal(points[0], [0.0, 0.0])
    np.testing.assert_array_equal(points[-1], brachistochrone.END)
    assert np.all(points[1:-1, 1] < 0.0)


def test_catenary_parameters_fit_ends_and_length():
    a, x0, c = catenary.catenary_parameters()
    (xa, ya), (xb, yb) = catenary.START, catenary.END
    assert a * math.cosh((xa - x0) / a) + c == pytest.approx(ya, abs=1e-13)
    assert a * math.cosh((xb - x0) / a) + c == pytest.approx(yb, abs=1e-13)
    arc = a * (math.sinh((xb - x0) / a) - math.sinh((xa - x0) / a))
    assert arc == pytest.approx(catenary.LENGTH, rel=1e-13)


def test_catenary_parameters_reject_short_chain():
    with pytest.raises(ValueError, match="length must exceed"):
        catenary.catenary_parameters(length=1.0)


def test_catenary_chain_converges(tmp_path):
    numbers = catenary.main(["-o", str(tmp_path), "--links", "8"])
    coarse, fine = numbers["runs"]
    assert coarse["max_length_error"] < 1e-8
    assert fine["max_length_error"] < 1e-8
    assert coarse["max_distance"] < 1e-2
    # Second order in the link length: halving it divides the distance by about 4.
    assert 3.0 < coarse["max_distance"] / fine["max_distance"] < 5.0
    assert (tmp_path / "catenary.png").stat().st_size > 0


def test_elastica_closed_form_small_buckling():
    # For small k the clamped rod's first mode has energy 4π² k² / L and height 2 k L / π.
    modulus, energy, height = elastica.closed_form(0.999)
    assert energy == pytest.approx(4 * math.pi ** 2 * modulus ** 2, rel=2e-3)
    assert height == pytest.approx(2 * modulus / math.pi, rel=2e-3)


def test_elastica_energy_converges(tmp_path):
    numbers = elastica.main(["-o", str(tmp_path), "--segments", "10", "--distances", "0.7"])
    coarse, fine = numbers["runs"]
    assert abs(coarse["energy_error"]) < 0.05
    # Second order in the segment length.
    assert 3.5 < coarse["energy_error"] / fine["energy_error"] < 4.5
    assert fine["height_error"] < coarse["height_error"] / 3.0
    assert (tmp_path / "elastica.png").stat().st_size > 0


def test_elastica_shape_meets_clamps():
    points, _, _ = elastica.solve(12, 0.5)
    np.testing.assert_allclose(points[-1], [0.5, 0.0], atol=1e-8)
    segments = np.linalg.norm(np.diff(points, axis=0), axis=1)
    np.testing.assert_allclose(segments, 1.0 / 12, rtol=1e-14)


def test_catenoid_parameter_solves_ring_equation():
    a = minimal_surface.catenoid_parameter()
    assert a * math.cosh(minimal_surface.HALF_HEIGHT / a) == pytest.approx(minimal_surface.RING_RADIUS, rel=1e-14)
    with pytest.raises(ValueError, match="too far apart"):
        minimal_surface.catenoid_parameter(radius=1.0, half_height=0.7)


def test_minimal_surfaces_converge(tmp_path):
    numbers = minimal_surface.main(["-o", str(tmp_path / "new" / "dir"), "--resolution", "4"])
    coarse, fine = numbers["catenoid"]
    assert coarse["max_radius_error"] < 1e-2
    assert 3.0 < coarse["max_radius_error"] / fine["max_radius_error"] < 5.0
    coarse, fine = numbers["plateau"]
    assert coarse["max_distance"] < 5e-2
    assert fine["max_distance"] < coarse["max_distance"] / 2.0
    assert (tmp_path / "new" / "dir" / "minimal_surface.png").stat().st_size > 0


def test_volumetric_rigid_handles_and_twist(tmp_path):
    numbers = volumetric_deformation.main(["-o", str(tmp_path / "volume"), "--cells", "3", "--steps", "2"])
    assert numbers["rigid_error"] < 1e-6
    assert numbers["rigid_energy"] == pytest.approx(numbers["rest_energy"], rel=1e-10)
    assert numbers["inverted"] == 0
    assert numbers["min_det"] > 0.0
    assert numbers["energy"] > numbers["rest_energy"]
    rest, tets = numbers["rest"], numbers["tets"]
    bottom, top = volumetric_deformation.handles(rest)
    np.testing.assert_array_equal(numbers["x"][bottom], rest[bottom])
    expected_top = volumetric_deformation.twist(rest, math.pi / 2, 0.2)[top]
    np.testing.assert_allclose(numbers["x"][top], expected_top, atol=1e-14)
    assert (tmp_path / "volume" / "volumetric_deformation.png").stat().st_size > 0


def test_volumetric_plot_symmetric_colorbar():
    rest, tets = volumetric_deformation.cube_mesh(2)
    x = volumetric_deformation.twist(rest, math.pi / 2, 0.2)

    figure = volumetric_deformation.plot(x, tets, rest, "twist")

    colorbars = [axes for axes in figure.axes if axes.get_label() == "<colorbar>"]
    assert len(colorbars) == 1
    low, high = colorbars[0].get_ylim()
    assert low == pytest.approx(-high)
    assert high > 0.0
    assert colorbars[0].get_ylabel() == "log(deformed area / rest area)"


def test_cube_mesh_is_positive():
    rest, tets = volumetric_deformation.cube_mesh(2)
    assert tets.shape == (48, 4)
    volumes = volumetric_deformation.tet_determinants(rest, tets) / 6.0
    assert np.all(volumes > 0)
    assert volumes.sum() == pytest.approx(1.0, rel=1e-14)


def test_read_tet_mesh_cube_48k(mesh_dir):
    rest, tets = volumetric_deformation.read_tet_mesh(mesh_dir / "cube_48k.obj")
    assert rest.shape == (9261, 3)
    assert tets.shape == (48000, 4)
    assert np.all(volumetric_deformation.tet_determinants(rest, tets) > 0)


def test_read_tet_mesh_rejects_triangles(tmp_path):
    path = tmp_path / "triangle.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    with pytest.raises(ValueError, match="contain 4 vertex indices"):
        volumetric_deformation.read_tet_mesh(path)
    with pytest.raises(FileNotFoundError):
        volumetric_deformation.read_tet_mesh(tmp_path / "missing.obj")
