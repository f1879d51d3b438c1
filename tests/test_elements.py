"""ElementEnergy and Objective: assembly against a dense brute-force sum over the
elements, fixed variables, per-element projection, threads and the shape of x."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import dualtape as dt

from conftest import grid_mesh

RTOL = 1e-11


def stretch_energy(x, p):
    """(‖x₁ − x₀‖² − L²)² for an edge of rest length L = p[0]; indefinite when compressed."""
    d = x[1] - x[0]
    return (dt.dot(d, d) - p[0] ** 2) ** 2


def curved_grid(rows=3, columns=4):
    """A grid lifted onto a bump in 3-D, with its faces and its edges."""
    vertices, faces = grid_mesh(rows, columns)
    z = 0.3 * np.sin(vertices[:, 0]) * np.cos(0.7 * vertices[:, 1])
    rest = np.column_stack([vertices, z])
    edges = np.unique(np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]),
                              axis=1), axis=0)
    return rest, faces, edges


def deformed_layout(vertices_2d, seed=3, amount=0.15):
    """Shear, scale and jitter a planar layout without inverting any triangle."""
    rng = np.random.default_rng(seed)
    A = np.array([[1.3, 0.4], [-0.2, 0.8]])
    return vertices_2d @ A.T + amount * rng.uniform(-1.0, 1.0, vertices_2d.shape)


def project_dense(H, projection, eps):
    """Reference projection of a small symmetric matrix by NumPy's eigh."""
    if projection is None or H.size == 0:
        return H
    eigenvalues, eigenvectors = np.linalg.eigh(H)
    if projection == "abs":
        eigenvalues = np.abs(eigenvalues)
    eigenvalues = np.maximum(eigenvalues, eps)
    return eigenvectors @ np.diag(eigenvalues) @ eigenvectors.T


def brute_force(terms, x, n_vars, dim, fixed_mask=None, projection=None, eps=1e-9):
    """Dense f, ∇f and Hessian summed element by element from single-point tape calls.

    terms is a list of (weight, ElementEnergy); fixed_mask is a flat boolean array.
    Fixed rows and columns are dropped from each element Hessian before it is
    projected, and the assembled Hessian has 1 on their diagonal.
    """
    n = n_vars * dim
    x = np.asarray(x, dtype=float).reshape(-1)
    fixed = np.zeros(n, dtype=bool) if fixed_mask is None else np.asarray(fixed_mask).reshape(-1)
    f = 0.0
    g = np.zeros(n)
    H = np.zeros((n, n))
    for weight, energy in terms:
        for e in range(energy.n_elements):
            variables = (energy.elements[e][:, None] * dim + np.arange(dim)).reshape(-1)
            p = energy.params[e]
            value, gradient = energy.tape.value_and_gradient(x[variables], p)
            local_hessian = weight * energy.tape.hessian(x[variables], p)
            f += weight * value
            free = ~fixed[variables]
            np.add.at(g, variables[free], weight * gradient[free])
            block = project_dense(local_hessian[np.ix_(free, free)], projection, eps)
            np.add.at(H, np.ix_(variables[free], variables[free]), block)
    H[fixed, fixed] = 1.0
    return f, g, H


@pytest.fixture
def mesh_terms():
    """Two terms on one curved grid: symmetric Dirichlet on the triangles (weight
    2) and an edge stretch energy (weight 0.5); returns (terms, layout, n_vars)."""
    rest, faces, edges = curved_grid()
    dirichlet = dt.energies.symmetric_dirichlet(rest, faces)
    lengths = np.linalg.norm(rest[edges[:, 1]] - rest[edges[:, 0]], axis=1)
    stretch = dt.ElementEnergy(stretch_energy, edges, 2, lengths[:, None])
    layout = deformed_layout(rest[:, :2])
    return [(2.0, dirichlet), (0.5, stretch)], layout, rest.shape[0]


def test_single_term_matches_brute_force(mesh_terms):
    terms, layout, n_vars = mesh_terms
    energy = terms[0][1]
    f, g, H = brute_force([(1.0, energy)], layout, n_vars, 2)
    value, gradient = energy.value_and_gradient(layout)
    assert value == pytest.approx(f, rel=RTOL)
    assert_allclose(gradient.reshape(-1), g, rtol=RTOL, atol=RTOL)
    assert_allclose(energy.hessian(layout).toarray(), H, rtol=RTOL, atol=RTOL)
    assert energy.value(layout) == pytest.approx(f, rel=RTOL)
    assert np.sum(energy.element_values(layout)) == pytest.approx(f, rel=RTOL)


def test_weighted_terms_match_brute_force(mesh_terms):
    terms, layout, n_vars = mesh_terms
    objective = dt.Objective(terms)
    f, g, H = brute_force(terms, layout, n_vars, 2)
    value, gradient, hessian = objective.value_gradient_hessian(layout)
    assert value == pytest.approx(f, rel=RTOL)
    assert objective.value(layout) == pytest.approx(f, rel=RTOL)
    assert_allclose(gradient.reshape(-1), g, rtol=RTOL, atol=RTOL)
    assert_allclose(objective.value_and_gradient(layout)[1].reshape(-1), g, rtol=RTOL, atol=RTOL)
    assert_allclose(hessian.toarray(), H, rtol=RTOL, atol=RTOL)


def test_gradient_matches_central_differences(mesh_terms):
    terms, layout, _ = mesh_terms
    objective = dt.Objective(terms)
    x = layout.reshape(-1)
    gradient = objective.value_and_gradient(x)[1]
    step = 1e-6
    expected = np.empty_like(x)
    for i in range(x.shape[0]):
        e = np.zeros_like(x)
        e[i] = step
        expected[i] = (objective.value(x + e) - objective.value(x - e)) / (2 * step)
    assert_allclose(gradient, expected, rtol=1e-6, atol=1e-5)


def test_hessian_matches_gradient_differences(mesh_terms):
    terms, layout, _ = mesh_terms
    objective = dt.Objective(terms)
    x = layout.reshape(-1)
    H = objective.hessian(x).toarray()
    step = 1e-6
    for j in range(0, x.shape[0], 5):
        e = np.zeros_like(x)
        e[j] = step
        column = (objective.value_and_gradient(x + e)[1] - objective.value_and_gradient(x - e)[1]) / (2 * step)
        assert_allclose(H[:, j], column, rtol=1e-5, atol=1e-4, err_msg=f"column {j}")


def test_hessian_csr_structure(mesh_terms):
    terms, layout, n_vars = mesh_terms
    H = dt.Objective(terms).hessian(layout)
    assert isinstance(H, sp.csr_matrix)
    assert H.shape == (2 * n_vars, 2 * n_vars)
    assert H.has_sorted_indices
    assert (H != H.T).nnz == 0
    # Every pair of variables that share an element is in the pattern, plus the diagonal.
    rest, faces, edges = curved_grid()
    expected = np.zeros((2 * n_vars, 2 * n_vars), dtype=bool)
    np.fill_diagonal(expected, True)
    for element in list(faces) + list(edges):
        variables = (np.asarray(element)[:, None] * 2 + np.arange(2)).reshape(-1)
        expected[np.ix_(variables, variables)] = True
    structural = sp.csr_matrix((np.ones_like(H.data), H.indices, H.indptr), shape=H.shape).toarray() > 0
    assert_array_equal(structural, expected)


def test_repeated_evaluation_does_not_accumulate(mesh_terms):
    terms, layout, _ = mesh_terms
    objective = dt.Objective(terms)
    first = objective.value_gradient_hessian(layout, projection="clamp")
    second = objective.value_gradient_hessian(layout, projection="clamp")
    assert first[0] == second[0]
    assert_array_equal(first[1], second[1])
    assert_array_equal(first[2].data, second[2].data)


@pytest.mark.parametrize("projection", ["clamp", "abs"])
def test_projection_matches_brute_force(mesh_terms, projection):
    terms, layout, n_vars = mesh_terms
    objective = dt.Objective(terms)
    _, _, H = brute_force(terms, layout, n_vars, 2, projection=projection, eps=1e-6)
    assert_allclose(objective.hessian(layout, projection=projection, eps=1e-6).toarray(), H,
                    rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("projection", ["clamp", "abs"])
def test_projected_hessian_is_psd(mesh_terms, projection):
    terms, layout, _ = mesh_terms
    objective = dt.Objective(terms)
    # Compress the layout so that the stretch terms are indefinite.
    compressed = 0.6 * layout
    unprojected = objective.hessian(compressed).toarray()
    assert np.linalg.eigvalsh(unprojected).min() < -1e-3, "the test needs an indefinite Hessian"
    projected = objective.hessian(compressed, projection=projection).toarray()
    # V Λ Vᵀ of a projected element Hessian is symmetric only to rounding.
    assert_allclose(projected, projected.T, rtol=0, atol=1e-13 * np.abs(projected).max())
    assert np.linalg.eigvalsh(projected).min() >= -1e-10


def test_projection_keeps_positive_definite_elements():
    # f = Σᵢ xᵢ² + (Σᵢ xᵢ)² per triangle: the element Hessian 2I + 2·11ᵀ has
    # eigenvalues 2 and 14, and is not diagonally dominant, so the eigenvalue path runs.
    def fn(x):
        total = x[0, 0] + x[0, 1] + x[1, 0] + x[1, 1] + x[2, 0] + x[2, 1]
        return dt.dot(x.reshape(-1), x.reshape(-1)) + total ** 2

    _, faces = grid_mesh(2, 3)
    energy = dt.ElementEnergy(fn, faces, 2)
    x = np.random.default_rng(5).standard_normal((faces.max() + 1, 2))
    unprojected = energy.hessian(x).toarray()
    for projection in ("clamp", "abs"):
        assert_allclose(energy.hessian(x, projection=projection).toarray(), unprojected, rtol=1e-13, atol=1e-13)


# -- fixed variables ------------------------------------------------------------------


FIXED_BLOCKS = np.array([0, 7, 13])


def fixed_mask_for(blocks, n_vars, dim):
    mask = np.zeros((n_vars, dim), dtype=bool)
    mask[blocks] = True
    return mask


@pytest.mark.parametrize("form", ["indices", "list", "mask", "flat_mask"])
def test_fixed_variables_match_brute_force(mesh_terms, form):
    terms, layout, n_vars = mesh_terms
    mask = fixed_mask_for(FIXED_BLOCKS, n_vars, 2)
    fixed = {"indices": FIXED_BLOCKS, "list": FIXED_BLOCKS.tolist(), "mask": mask,
             "flat_mask": mask.reshape(-1)}[form]
    objective = dt.Objective(terms, fixed=fixed)
    f, g, H = brute_force(terms, layout, n_vars, 2, fixed_mask=mask)
    value, gradient, hessian = objective.value_gradient_hessian(layout)
    assert value == pytest.approx(f, rel=RTOL)
    assert_allclose(gradient.reshape(-1), g, rtol=RTOL, atol=RTOL)
    assert_allclose(hessian.toarray(), H, rtol=RTOL, atol=RTOL)

    flat_mask = mask.reshape(-1)
    assert np.all(gradient[mask] == 0.0)
    assert np.all(objective.value_and_gradient(layout)[1][mask] == 0.0)
    dense = hessian.toarray()
    assert_array_equal(dense[flat_mask], np.eye(2 * n_vars)[flat_mask])
    assert_array_equal(dense[:, flat_mask], np.eye(2 * n_vars)[:, flat_mask])
    assert_array_equal(objective.free, ~flat_mask)


def test_fixed_single_coordinates_by_mask(mesh_terms):
    # A mask shaped like x may fix one coordinate of a block and leave the other free.
    terms, layout, n_vars = mesh_terms
    mask = np.zeros((n_vars, 2), dtype=bool)
    mask[[1, 4, 9], 0] = True
    mask[[4, 11], 1] = True
    objective = dt.Objective(terms, fixed=mask)
    _, g, H = brute_force(terms, layout, n_vars, 2, fixed_mask=mask, projection="clamp")
    value, gradient, hessian = objective.value_gradient_hessian(layout, projection="clamp")
    assert_allclose(gradient.reshape(-1), g, rtol=RTOL, atol=RTOL)
    assert_allclose(hessian.toarray(), H, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("projection", ["clamp", "abs"])
def test_fixed_rows_dropped_before_projection(projection):
    # f = x0·x1 with x0 fixed. The full element Hessian [[0, 1], [1, 0]] has
    # eigenvalues ±1; projected first, its free entry would be 0.5 (clamp) or 1 (abs).
    # Dropped first, the free 1×1 block is [0], which projects to eps.
    energy = dt.ElementEnergy(lambda x: x[0, 0] * x[1, 0], np.array([[0, 1]]), 1)
    eps = 1e-3
    for fixed in ([0], np.array([True, False])):
        objective = dt.Objective([energy], fixed=fixed)
        H = objective.hessian(np.array([2.0, 3.0]), projection=projection, eps=eps).toarray()
        assert_allclose(H, [[1.0, 0.0], [0.0, eps]], rtol=1e-14, atol=1e-14)


def test_infinite_derivative_of_fixed_variable_stays_out():
    # f = asin(y) · x² with y fixed at 1, where ∂f/∂y = x²/√(1 − y²) = inf and
    # ∂²f/∂x∂y = inf. The free block ∂²f/∂x² = 2 asin(1) = π must stay finite.
    energy = dt.ElementEnergy(lambda v: dt.asin(v[0, 0]) * v[1, 0] ** 2, np.array([[0, 1]]), 1)
    objective = dt.Objective([energy], fixed=[0])
    x = np.array([1.0, 0.5])
    for projection in (None, "clamp", "abs"):
        value, gradient, H = objective.value_gradient_hessian(x, projection=projection)
        assert value == pytest.approx(np.pi / 2 * 0.25)
        assert_allclose(gradient, [0.0, np.pi / 2], rtol=1e-14)
        assert_allclose(H.toarray(), [[1.0, 0.0], [0.0, np.pi]], rtol=1e-14, atol=0)
    assert_array_equal(objective.value_and_gradient(x)[1], [0.0, np.pi / 2 * 1.0])


def test_all_variables_of_element_fixed():
    energy = dt.ElementEnergy(lambda x: (x[0, 0] - x[1, 0]) ** 2, np.array([[0, 1], [1, 2]]), 1)
    objective = dt.Objective([energy], fixed=[0, 1])
    value, gradient, H = objective.value_gradient_hessian(np.array([1.0, 3.0, 4.0]), projection="clamp")
    assert value == pytest.approx(5.0)
    assert_allclose(gradient, [0.0, 0.0, 2.0])
    assert_allclose(H.toarray(), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])


# -- threads and the shape of x -----------------------------------------------------


def test_results_identical_for_one_and_two_threads(restore_threads):
    rest, faces, _ = curved_grid(12, 14)
    objective = dt.Objective([dt.energies.symmetric_dirichlet(rest, faces)], fixed=[0, 5])
    layout = deformed_layout(rest[:, :2], amount=0.05)
    results = {}
    for threads in (1, 2):
        dt.set_num_threads(threads)
        assert dt.get_num_threads() == threads
        value, gradient = objective.value_and_gradient(layout)
        _, hessian_gradient, H = objective.value_gradient_hessian(layout, projection="clamp")
        results[threads] = (value, gradient, hessian_gradient, H.data)
    assert results[1][0] == results[2][0]
    for i in range(1, 4):
        assert_array_equal(results[1][i], results[2][i])


def test_flat_and_block_x_agree(mesh_terms):
    terms, layout, n_vars = mesh_terms
    objective = dt.Objective(terms)
    flat = layout.reshape(-1)
    value_block, gradient_block = objective.value_and_gradient(layout)
    value_flat, gradient_flat = objective.value_and_gradient(flat)
    assert gradient_block.shape == (n_vars, 2)
    assert gradient_flat.shape == (2 * n_vars,)
    assert value_block == value_flat
    assert_array_equal(gradient_block.reshape(-1), gradient_flat)
    _, g_block, H_block = objective.value_gradient_hessian(layout)
    _, g_flat, H_flat = objective.value_gradient_hessian(flat)
    assert g_block.shape == (n_vars, 2)
    assert g_flat.shape == (2 * n_vars,)
    assert_array_equal(H_block.toarray(), H_flat.toarray())
    assert objective.value(layout) == objective.value(flat)


def test_dim_one_accepts_column_vector():
    energy = dt.ElementEnergy(lambda x: (x[0, 0] - 2.0 * x[1, 0]) ** 2, np.array([[0, 1], [1, 2]]), 1)
    x = np.array([1.0, 2.0, 0.5])
    value, gradient = energy.value_and_gradient(x[:, None])
    assert gradient.shape == (3, 1)
    assert value == energy.value(x)
    assert_array_equal(gradient[:, 0], energy.value_and_gradient(x)[1])


def test_n_vars_larger_than_elements_need():
    # Blocks that no element touches get zero gradient entries and zero Hessian rows.
    energy = dt.ElementEnergy(lambda x: (x[0, 0] - x[1, 0]) ** 2, np.array([[0, 1]]), 1)
    objective = dt.Objective([energy], n_vars=4)
    value, gradient, H = objective.value_gradient_hessian(np.array([1.0, 3.0, 5.0, 7.0]))
    assert value == pytest.approx(4.0)
    assert_allclose(gradient, [-4.0, 4.0, 0.0, 0.0])
    assert_allclose(H.toarray()[:2, :2], [[2.0, -2.0], [-2.0, 2.0]])
    assert_allclose(H.toarray()[2:, :], 0.0)


def ring_energy(x):
    """Σᵢ sin(vᵢ) vᵢ₊₁² + exp(0.1 vᵢ vᵢ₊₂) over the flattened block values, cyclically."""
    v = x.reshape(-1)
    total = 0.0
    for i in range(len(v)):
        total = total + dt.sin(v[i]) * v[(i + 1) % len(v)] ** 2 + dt.exp(0.1 * v[i] * v[(i + 2) % len(v)])
    return total


@pytest.mark.parametrize("arity, dim", [(2, 1), (5, 1), (7, 1), (5, 2), (13, 1)])
def test_element_sizes_match_brute_force(arity, dim):
    # Local sizes 5, 7, 10 and 13 take the runtime-sized Dual path of the Hessian.
    rng = np.random.default_rng(arity * 10 + dim)
    n_vars = 20
    elements = np.array([rng.choice(n_vars, arity, replace=False) for _ in range(9)])
    energy = dt.ElementEnergy(ring_energy, elements, dim)
    x = rng.standard_normal((n_vars, dim))
    mask = np.zeros((n_vars, dim), dtype=bool)
    mask[3] = True
    objective = dt.Objective([energy], n_vars=n_vars, fixed=[3])
    for projection in (None, "clamp"):
        f, g, H = brute_force([(1.0, energy)], x, n_vars, dim, fixed_mask=mask, projection=projection)
        value, gradient, hessian = objective.value_gradient_hessian(x, projection=projection)
        assert value == pytest.approx(f, rel=RTOL)
        assert_allclose(gradient.reshape(-1), g, rtol=RTOL, atol=RTOL)
        assert_allclose(hessian.toarray(), H, rtol=1e-9, atol=1e-9)


def test_element_with_repeated_block():
    # An element may list one block twice; both local copies add to the same entries.
    energy = dt.ElementEnergy(lambda x: x[0, 0] ** 2 * x[1, 0] + x[1, 0] ** 3, np.array([[0, 0], [0, 1]]), 1)
    x = np.array([1.5, -0.5])
    value, gradient, H = dt.Objective([energy]).value_gradient_hessian(x)
    # f = x0³ + x0³ + x0² x1 + x1³
    assert value == pytest.approx(2 * 1.5 ** 3 + 1.5 ** 2 * -0.5 + (-0.5) ** 3, rel=RTOL)
    assert_allclose(gradient, [6 * 1.5 ** 2 + 2 * 1.5 * -0.5, 1.5 ** 2 + 3 * 0.25], rtol=RTOL)
    assert_allclose(H.toarray(), [[12 * 1.5 + 2 * -0.5, 2 * 1.5], [2 * 1.5, 6 * -0.5]], rtol=RTOL)


def test_batch_matches_brute_force(mesh_terms):
    # Element indices run over the terms in order: the 24 triangles, then the edges.
    terms, layout, n_vars = mesh_terms
    objective = dt.Objective(terms)
    everything = np.arange(objective.n_elements)
    value, gradient = objective.value_and_gradient_batch(layout, everything)
    assert value == pytest.approx(objective.value(layout), rel=RTOL)
    assert_allclose(gradient, objective.value_and_gradient(layout)[1], rtol=RTOL, atol=RTOL)

    (dirichlet_weight, dirichlet), (stretch_weight, stretch) = terms
    triangles = np.array([1, 5, 17])
    edges = np.array([0, 9, 30])
    batch = np.concatenate([triangles, dirichlet.n_elements + edges])
    rest, faces, _ = curved_grid()
    subset = [(dirichlet_weight, dt.energies.symmetric_dirichlet(rest, faces[triangles])),
              (stretch_weight, dt.ElementEnergy(stretch_energy, stretch.elements[edges], 2, stretch.params[edges]))]
    f, g, _ = brute_force(subset, layout, n_vars, 2)
    value, gradient = objective.value_and_gradient_batch(layout, batch)
    assert gradient.shape == layout.shape
    assert value == pytest.approx(f, rel=RTOL)
    assert_allclose(gradient.reshape(-1), g, rtol=RTOL, atol=RTOL)
