"""Tests of dualtape.geometry: closed forms, derivatives and input validation."""

import math

import numpy as np
import pytest

import dualtape as dt
from dualtape import geometry
from dualtape.dual import Dual
from dualtape.numdiff import gradient as numeric_gradient

CENTRAL = {"rtol": 1e-6, "atol": 1e-8}


def traced_gradient(function, points):
    """Return the tape gradient of function(*points) at the flattened points."""
    sizes = [len(point) for point in points]
    offsets = np.cumsum([0] + sizes)

    def flat_function(x):
        return function(*(x[offsets[i]:offsets[i + 1]] for i in range(len(sizes))))

    tape = dt.trace(flat_function, int(offsets[-1]))
    x = np.concatenate(points)
    return tape.value(x), tape.gradient(x).reshape(len(points), -1)


def random_rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def hinge(angle):
    """Return a hinge (a, b, c, d) on the edge a = 0, b = e_x whose bending angle is `angle`.

    The triangle (a, b, c) lies in the xy-plane with c on the +y side. Seen along
    the x axis, d lies at the angle π − `angle` from c, measured toward −z.
    """
    a = np.zeros(3)
    b = np.array([1.0, 0.0, 0.0])
    c = np.array([0.4, 1.0, 0.0])
    phi = math.pi - angle
    d = np.array([0.6, math.cos(phi), -math.sin(phi)])
    return a, b, c, d


def test_triangle_area_gradient_matches_ad_3d():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b, c = rng.normal(size=(3, 3))
        _, ad = traced_gradient(geometry.triangle_area, [a, b, c])
        closed = geometry.triangle_area_gradient(a, b, c)
        np.testing.assert_allclose(closed, ad, rtol=1e-12, atol=1e-14)


def test_triangle_area_gradient_is_half_normal_cross_edge():
    a, b, c = np.array([0.0, 0, 0]), np.array([2.0, 0, 0]), np.array([0.0, 1, 0])
    gradient = geometry.triangle_area_gradient(a, b, c)
    normal = np.array([0.0, 0.0, 1.0])
    np.testing.assert_allclose(gradient[0], 0.5 * np.cross(normal, c - b))
    np.testing.assert_allclose(gradient[1], 0.5 * np.cross(normal, a - c))
    np.testing.assert_allclose(gradient[2], 0.5 * np.cross(normal, b - a))
    # Translation invariance: the three gradients sum to zero.
    np.testing.assert_allclose(gradient.sum(axis=0), 0.0, atol=1e-15)


def test_triangle_area_gradient_matches_ad_2d():
    rng = np.random.default_rng(1)
    for _ in range(20):
        a, b, c = rng.normal(size=(3, 2))
        _, ad = traced_gradient(geometry.triangle_area, [a, b, c])
        np.testing.assert_allclose(geometry.triangle_area_gradient(a, b, c), ad, rtol=1e-12, atol=1e-14)


def test_triangle_area_gradient_degenerate_is_zero():
    a = np.array([0.0, 0, 0])
    b = np.array([1.0, 1, 1])
    c = np.array([2.0, 2, 2])
    np.testing.assert_array_equal(geometry.triangle_area_gradient(a, b, c), np.zeros((3, 3)))
    _, ad = traced_gradient(geometry.triangle_area, [a, b, c])
    np.testing.assert_array_equal(ad, np.zeros((3, 3)))


def test_triangle_area_gradient_traced():
    rng = np.random.default_rng(2)
    a, b, c = rng.normal(size=(3, 3))
    tape = dt.trace(lambda x: geometry.triangle_area_gradient(x[0:3], x[3:6], x[6:9]).reshape(-1), 9)
    values = tape.value(np.concatenate([a, b, c]))
    np.testing.assert_allclose(values.reshape(3, 3), geometry.triangle_area_gradient(a, b, c), rtol=1e-13)


def test_triangle_normal_unit_and_orthogonal():
    rng = np.random.default_rng(3)
    for _ in range(10):
        a, b, c = rng.normal(size=(3, 3))
        normal = geometry.triangle_normal(a, b, c)
        assert abs(np.linalg.norm(normal) - 1.0) < 1e-14
        assert abs(normal @ (b - a)) < 1e-13
        assert abs(normal @ (c - a)) < 1e-13
        assert np.linalg.det(np.array([b - a, c - a, normal])) > 0


def test_triangle_normal_derivative_is_projected():
    rng = np.random.default_rng(4)
    a, b, c = rng.normal(size=(3, 3))
    x = np.concatenate([a, b, c])
    tape = dt.trace(lambda x: geometry.triangle_normal(x[0:3], x[3:6], x[6:9]), 9)
    jacobian = tape.jacobian(x)
    for row in range(3):
        numeric = numeric_gradient(lambda y: geometry.triangle_normal(y[0:3], y[3:6], y[6:9])[row], x)
        np.testing.assert_allclose(jacobian[row], numeric, **CENTRAL)
    # dN is orthogonal to N: Nᵀ J = 0.
    normal = geometry.triangle_normal(a, b, c)
    np.testing.assert_allclose(normal @ jacobian, 0.0, atol=1e-12)


def test_triangle_normal_degenerate_is_zero():
    a = np.zeros(3)
    normal = geometry.triangle_normal(a, a, np.array([1.0, 0, 0]))
    np.testing.assert_array_equal(normal, np.zeros(3))


@pytest.mark.parametrize("angle", [0.0, 1e-9, 0.3, math.pi / 2, 2.5, math.pi - 1e-9, -0.7, -(math.pi - 1e-6)])
def test_dihedral_angle_closed_form(angle):
    a, b, c, d = hinge(angle)
    assert abs(geometry.dihedral_angle(a, b, c, d) - angle) < 1e-14


def test_dihedral_angle_flat_is_zero():
    a, b = np.zeros(3), np.array([1.0, 0, 0])
    c, d = np.array([0.5, 1.0, 0]), np.array([0.5, -1.0, 0])
    assert geometry.dihedral_angle(a, b, c, d) == 0.0


def test_dihedral_angle_convex_polyhedron_positive():
    # Regular tetrahedron with outward normals: every edge bends by π − arccos(1/3).
    vertices = np.array([[1.0, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    faces = np.array([[0, 1, 2], [0, 3, 1], [0, 2, 3], [1, 3, 2]])
    hinges = dt.energies.mesh_hinges(faces)
    assert hinges.shape == (6, 4)
    centroid = vertices.mean(axis=0)
    for face in faces:
        normal = np.cross(*(vertices[face[1:]] - vertices[face[0]]))
        assert normal @ (vertices[face[0]] - centroid) > 0
    expected = math.pi - math.acos(1.0 / 3.0)
    for row in hinges:
        assert abs(geometry.dihedral_angle(*vertices[row]) - expected) < 1e-14


@pytest.mark.parametrize("angle", [1e-7, 0.4, math.pi / 2, math.pi - 1e-4])
def test_dihedral_angle_gradient_near_limits(angle):
    a, b, c, d = hinge(angle)
    points = [a, b, c, d]
    value, ad = traced_gradient(geometry.dihedral_angle, points)
    assert abs(value - angle) < 1e-14
    assert np.all(np.isfinite(ad))
    numeric = numeric_gradient(lambda x: geometry.dihedral_angle(x[0:3], x[3:6], x[6:9], x[9:12]),
                               np.concatenate(points))
    np.testing.assert_allclose(ad.reshape(-1), numeric, **CENTRAL)
    # Moving d along the opposite triangle's normal changes θ at the rate 1 / h_d,
    # with h_d the distance of d from the edge line (the x axis).
    height = math.hypot(d[1], d[2])
    normal2 = np.cross(d - a, b - a)
    normal2 /= np.linalg.norm(normal2)
    assert abs(abs(ad[3] @ normal2) - 1.0 / height) < 1e-10


def test_dihedral_angle_rigid_invariance():
    rng = np.random.default_rng(5)
    points = rng.normal(size=(4, 3))
    rotation = random_rotation(rng)
    moved = points @ rotation.T + rng.normal(size=3)
    assert abs(geometry.dihedral_angle(*points) - geometry.dihedral_angle(*moved)) < 1e-12


def test_dihedral_angle_degenerate_is_zero():
    a, b, c = np.zeros(3), np.array([1.0, 0, 0]), np.array([2.0, 0, 0])
    value, ad = traced_gradient(geometry.dihedral_angle, [a, b, c, np.array([0.5, 1.0, 0])])
    assert value == 0.0
    assert np.all(ad == 0.0)


def test_cotangent_closed_forms():
    a, b = np.zeros(2), np.array([1.0, 0])
    assert abs(geometry.cotangent(a, b, np.array([0.0, 2]))) < 1e-16
    assert abs(geometry.cotangent(a, b, np.array([0.5, math.sqrt(3) / 2])) - 1 / math.sqrt(3)) < 1e-15
    assert abs(geometry.cotangent(a, b, np.array([-1.0, 1])) + 1.0) < 1e-15
    # Clockwise order gives the same unsigned angle.
    assert abs(geometry.cotangent(a, np.array([0.5, -math.sqrt(3) / 2]), b) - 1 / math.sqrt(3)) < 1e-15
    a3, b3, c3 = np.zeros(3), np.array([1.0, 0, 0]), np.array([1.0, 1.0, 1.0])
    assert abs(geometry.cotangent(a3, b3, c3) - 1 / math.sqrt(2)) < 1e-15


def test_cotangent_gradient():
    rng = np.random.default_rng(6)
    points = list(rng.normal(size=(3, 3)))
    _, ad = traced_gradient(geometry.cotangent, points)
    numeric = numeric_gradient(lambda x: geometry.cotangent(x[0:3], x[3:6], x[6:9]), np.concatenate(points))
    np.testing.assert_allclose(ad.reshape(-1), numeric, **CENTRAL)


def test_tet_volume_sign_and_value():
    a, b, c, d = np.zeros(3), np.eye(3)[0], np.eye(3)[1], np.eye(3)[2]
    assert geometry.tet_volume(a, b, c, d) == pytest.approx(1 / 6, rel=1e-15)
    assert geometry.tet_volume(a, c, b, d) == pytest.approx(-1 / 6, rel=1e-15)
    assert geometry.tet_volume(a, b, c, np.array([0.3, 0.2, 0.0])) == 0.0


def test_tet_volume_gradient_is_face_area_over_three():
    rng = np.random.default_rng(7)
    points = list(rng.normal(size=(4, 3)))
    _, ad = traced_gradient(geometry.tet_volume, points)
    a, b, c, d = points
    np.testing.assert_allclose(ad[3], np.cross(b - a, c - a) / 6.0, rtol=1e-13)
    np.testing.assert_allclose(ad[0], np.cross(d - b, c - b) / 6.0, rtol=1e-13)
    np.testing.assert_allclose(ad.sum(axis=0), 0.0, atol=1e-14)


def test_geometry_on_dual_numbers():
    # Forward mode through plain Python: the tangent is the directional derivative.
    rng = np.random.default_rng(8)
    points = list(rng.normal(size=(4, 3)))
    direction = rng.normal(size=(4, 3))
    for function in (geometry.triangle_area, geometry.cotangent, geometry.tet_volume, geometry.dihedral_angle):
        count = 4 if function in (geometry.tet_volume, geometry.dihedral_angle) else 3
        duals = [np.array([Dual(points[i][k], direction[i][k]) for k in range(3)], dtype=object)
                 for i in range(count)]
        result = function(*duals)
        _, ad = traced_gradient(function, points[:count])
        assert abs(result.value - function(*points[:count])) < 1e-14
        assert abs(result.tangent - np.sum(ad * direction[:count])) < 1e-12


def test_normal_and_area_gradient_on_dual_numbers():
    rng = np.random.default_rng(9)
    points = rng.normal(size=(3, 3))
    direction = rng.normal(size=(3, 3))
    duals = [np.array([Dual(points[i][k], direction[i][k]) for k in range(3)], dtype=object) for i in range(3)]
    normal = geometry.triangle_normal(*duals)
    gradient = geometry.triangle_area_gradient(*duals)
    step = 1e-6

    def moved(sign):
        return [points[i] + sign * step * direction[i] for i in range(3)]

    normal_rate = (geometry.triangle_normal(*moved(1)) - geometry.triangle_normal(*moved(-1))) / (2 * step)
    gradient_rate = (geometry.triangle_area_gradient(*moved(1))
                     - geometry.triangle_area_gradient(*moved(-1))) / (2 * step)
    np.testing.assert_allclose([item.tangent for item in normal], normal_rate, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.vectorize(lambda item: item.tangent)(gradient), gradient_rate,
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function, count", [
    (geometry.triangle_normal, 3), (geometry.dihedral_angle, 4), (geometry.tet_volume, 4),
])
def test_three_d_functions_reject_2d_points(function, count):
    with pytest.raises(ValueError, match="3-D"):
        function(*([np.zeros(2)] * count))


def test_geometry_rejects_mixed_dimensions():
    with pytest.raises(ValueError, match="same dimension"):
        geometry.triangle_area_gradient(np.zeros(2), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="same dimension"):
        geometry.cotangent(np.zeros(2), np.zeros(3), np.zeros(3))


def test_geometry_rejects_matrix_point():
    with pytest.raises(ValueError, match="shape"):
        geometry.triangle_normal(np.zeros((3, 3)), np.zeros(3), np.zeros(3))


def test_geometry_rejects_string_point():
    with pytest.raises(TypeError, match="numbers"):
        geometry.tet_volume(np.array(["a", "b", "c"]), np.zeros(3), np.zeros(3), np.zeros(3))
