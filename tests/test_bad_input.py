"""Bad input at every public entry point: each error names the argument, and
Fortran-ordered or strided arrays give the results of contiguous ones."""

import math

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import dualtape as dt

from conftest import grid_mesh


def product(x):
    return x[0] * x[1] + dt.sin(x[2]) * x[3]


@pytest.fixture
def tape():
    return dt.trace(product, 4)


@pytest.fixture
def param_tape():
    return dt.trace(lambda x, p: p[0] * x[0] ** 2 + p[1] * x[1], 2, 2)


@pytest.fixture
def vector_tape():
    return dt.trace(lambda x: np.array([x[0] * x[1], x[1] - x[0]]), 2)


def edge_energy():
    """Squared edge lengths on a path of three 2-D blocks, with a weight per edge."""
    return dt.ElementEnergy(lambda x, p: p[0] * dt.dot(x[1] - x[0], x[1] - x[0]),
                            np.array([[0, 1], [1, 2]]), 2, np.array([[1.0], [2.0]]))


@pytest.fixture
def objective():
    return dt.Objective([edge_energy()])


X = np.array([[0.0, 1.0], [2.0, 0.5], [1.0, -1.0]])


# -- dt.trace ---------------------------------------------------------------------


def test_trace_rejects_non_callable():
    with pytest.raises(TypeError, match="fn must be callable; got int"):
        dt.trace(3, 2)


@pytest.mark.parametrize("name, kwargs", [
    ("n_inputs", {"n_inputs": -1}), ("n_inputs", {"n_inputs": 2.0}), ("n_inputs", {"n_inputs": True}),
    ("n_inputs", {"n_inputs": None}), ("n_params", {"n_inputs": 2, "n_params": -3}),
])
def test_trace_rejects_bad_counts(name, kwargs):
    with pytest.raises(ValueError, match=f"{name} must be a non-negative integer"):
        dt.trace(lambda x, p: x[0], **kwargs)


def test_trace_rejects_matrix_output():
    with pytest.raises(ValueError, match=r"returned an array of shape \(2, 2\)"):
        dt.trace(lambda x: np.array([[x[0], x[1]], [x[1], x[0]]]), 2)


def test_trace_rejects_empty_output():
    with pytest.raises(ValueError, match="returned an empty array"):
        dt.trace(lambda x: [], 1)


@pytest.mark.parametrize("value, type_name", [(None, "NoneType"), ("text", "str"), (1j, "complex")])
def test_trace_rejects_non_numeric_output(value, type_name):
    with pytest.raises(TypeError, match=f"returned {type_name}"):
        dt.trace(lambda x: value, 1)


@pytest.mark.parametrize("fn", [
    lambda x: x[0] if x[0] > 0 else -x[0],
    lambda x: (x[0] > 0) and x[0],
    lambda x: [x[0] for _ in range(2) if x[0]][0],
    lambda x: bool(x[0]) * 1.0,
], ids=["if", "and", "comprehension_if", "bool"])
def test_trace_branch_on_symbol_names_where(fn):
    with pytest.raises(dt.TracingError, match=r"dt\.where"):
        dt.trace(fn, 1)


def test_trace_math_module_on_symbol():
    with pytest.raises(dt.TracingError, match=r"float\(\) and math\.\* functions"):
        dt.trace(lambda x: math.sqrt(x[0]), 1)


def test_trace_unsupported_ufunc():
    with pytest.raises(dt.TracingError, match="floor"):
        dt.trace(lambda x: np.floor(x[0]), 1)


def test_trace_symbol_leaks_into_other_trace():
    kept = []
    dt.trace(lambda x: kept.append(x[0]) or x[0], 1)
    with pytest.raises(dt.TracingError, match="another trace"):
        dt.trace(lambda x: x[0] + kept[0], 1)
    with pytest.raises(dt.TracingError, match="another trace"):
        dt.trace(lambda x: dt.where(x[0] > 0, kept[0], x[0]), 1)


def test_trace_symbol_used_after_trace():
    kept = []
    dt.trace(lambda x: kept.append(x[0]) or x[0], 1)
    with pytest.raises(dt.TracingError, match="trace that has finished"):
        kept[0] * 2.0


def test_trace_error_inside_function_propagates():
    with pytest.raises(ZeroDivisionError):
        dt.trace(lambda x: 1 / 0, 1)


@pytest.mark.parametrize("fn, value, gradient", [
    (lambda x: np.float64(2.0) * x[0], 5.0, [2.0, 0.0]),
    (lambda x: np.float64(2.0) + x[0], 4.5, [1.0, 0.0]),
    (lambda x: np.int64(2) - x[0], -0.5, [-1.0, 0.0]),
    (lambda x: np.float32(2.0) / x[0], 0.8, [-0.32, 0.0]),
    (lambda x: (np.array([1.0, 2.0]) * x[0])[1], 5.0, [2.0, 0.0]),
    (lambda x: dt.dot(np.array([1.0, 2.0]), x), 8.5, [1.0, 2.0]),
    (lambda x: (np.float64(2.0) < x[0]) * x[1], 3.0, [0.0, 1.0]),
    (lambda x: np.array(2.0) ** x[0], 2.0 ** 2.5, [np.log(2.0) * 2.0 ** 2.5, 0.0]),
], ids=["float64_mul", "float64_add", "int64_sub", "float32_div", "array_mul", "dot_float_array",
        "float64_less", "zero_d_array_pow"])
def test_trace_numpy_operand_on_left(fn, value, gradient):
    # NumPy scalars come from indexing float arrays, so they meet symbols often.
    try:
        tape = dt.trace(fn, 2)
    except RecursionError:
        # Without the traceback: formatting a thousand frames takes seconds.
        pytest.fail("dt.trace raised RecursionError", pytrace=False)
    x = np.array([2.5, 3.0])
    assert tape.value(x) == pytest.approx(value, rel=1e-14)
    assert np.allclose(tape.gradient(x), gradient, rtol=1e-14, atol=0)


def test_trace_one_argument_function_with_params():
    with pytest.raises(TypeError, match=r"fn takes 1 positional argument\(s\), but with n_params = 2"):
        dt.trace(lambda x: x[0], 1, 2)
    with pytest.raises(TypeError, match="n_params = 1"):
        dt.ElementEnergy(lambda x: x[0, 0], ELEMENTS, 2, np.ones((2, 1)))


# -- Tape methods ------------------------------------------------------------------


TAPE_METHODS = ["value", "gradient", "value_and_gradient", "hessian", "jacobian"]


@pytest.mark.parametrize("method", TAPE_METHODS)
def test_tape_wrong_length_x(tape, method):
    with pytest.raises(ValueError, match=r"^x\b.*\b4\b.*\bgot 3"):
        getattr(tape, method)(np.ones(3))


@pytest.mark.parametrize("method", TAPE_METHODS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_tape_non_finite_x(tape, method, bad):
    x = np.ones(4)
    x[2] = bad
    with pytest.raises(ValueError, match="x contains NaN or inf at index 2"):
        getattr(tape, method)(x)


@pytest.mark.parametrize("method", TAPE_METHODS)
@pytest.mark.parametrize("dtype", [complex, object, str])
def test_tape_wrong_dtype_x(tape, method, dtype):
    with pytest.raises(TypeError, match="x must be a real float array; got dtype"):
        getattr(tape, method)(np.ones(4).astype(dtype))


@pytest.mark.parametrize("method", TAPE_METHODS)
def test_tape_wrong_params(param_tape, method):
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^p\b.*\b2\b.*\bgot 3"):
        getattr(param_tape, method)(x, np.ones(3))
    with pytest.raises(ValueError, match="p contains NaN or inf at index 1"):
        getattr(param_tape, method)(x, np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match=r"^p\b.*\b2\b"):
        getattr(param_tape, method)(x)
    with pytest.raises(TypeError, match="p must be a real float array"):
        getattr(param_tape, method)(x, np.ones(2, dtype=complex))


def test_tape_vector_output_needs_jacobian(vector_tape):
    for method in ("gradient", "value_and_gradient"):
        with pytest.raises(ValueError, match=r"needs a scalar function.*tape\.jacobian"):
            getattr(vector_tape, method)(np.ones(2))


def test_tape_jacobian_bad_mode(tape):
    with pytest.raises(ValueError, match="mode must be 'forward' or 'reverse'; got 'sideways'"):
        tape.jacobian(np.ones(4), mode="sideways")


def test_tape_jvp_vjp_bad_vectors(vector_tape):
    with pytest.raises(ValueError, match="v must have 2 entries; got 1"):
        vector_tape.jvp(np.ones(2), np.ones(1))
    with pytest.raises(ValueError, match="v contains NaN or inf"):
        vector_tape.jvp(np.ones(2), np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="w must have 2 entries; got 3"):
        vector_tape.vjp(np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match="w must be a real float array"):
        vector_tape.vjp(np.ones(2), np.ones(2, dtype=complex))


@pytest.mark.parametrize("output", [2, -1, 1.0, True, "0"])
def test_tape_hessian_output_out_of_range(vector_tape, output):
    with pytest.raises(IndexError, match=r"output must be an integer in \[0, 2\); got"):
        vector_tape.hessian(np.ones(2), output=output)


def test_tape_scalar_hessian_rejects_output(tape):
    with pytest.raises(IndexError, match=r"output must be an integer in \[0, 1\); got 3"):
        tape.hessian(np.ones(4), output=3)


# -- ElementEnergy -----------------------------------------------------------------


def spring(x):
    return dt.dot(x[1] - x[0], x[1] - x[0])


ELEMENTS = np.array([[0, 1], [1, 2]])


def test_element_energy_rejects_non_callable():
    with pytest.raises(TypeError, match="fn must be callable; got NoneType"):
        dt.ElementEnergy(None, ELEMENTS, 2)


@pytest.mark.parametrize("elements, error, fragment", [
    (ELEMENTS.astype(float), TypeError, "elements must be an integer array"),
    (ELEMENTS.astype(bool), TypeError, "elements must be an integer array"),
    (ELEMENTS.astype(object), TypeError, "elements must be an integer array"),
    (np.array([0, 1]), ValueError, r"elements must be a 2-D array .* got shape \(2,\)"),
    (np.zeros((1, 2, 2), dtype=int), ValueError, "elements must be a 2-D array"),
    (np.zeros((0, 2), dtype=int), ValueError, "elements is empty"),
    (np.zeros((2, 0), dtype=int), ValueError, "elements has no columns"),
    (np.array([[0, 1], [2, -1]]), IndexError, r"elements\[1, 1\] = -1 is negative"),
    (np.array([[0, 2 ** 40]]), IndexError, "elements contains index 1099511627776"),
])
def test_element_energy_bad_elements(elements, error, fragment):
    with pytest.raises(error, match=fragment):
        dt.ElementEnergy(spring, elements, 2)


@pytest.mark.parametrize("dim", [0, -1, 2.0, True, None])
def test_element_energy_bad_dim(dim):
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        dt.ElementEnergy(spring, ELEMENTS, dim)


@pytest.mark.parametrize("params, error, fragment", [
    (np.ones((3, 1)), ValueError, "params has 3 rows, but elements has 2"),
    (np.array([[1.0], [np.nan]]), ValueError, "params row 1 contains NaN or inf"),
    (np.array([[np.inf], [1.0]]), ValueError, "params row 0 contains NaN or inf"),
    (np.ones((2, 1), dtype=complex), TypeError, "params must be a real float array"),
    (np.ones((2, 1), dtype=object), TypeError, "params must be a real float array"),
    (np.ones((2, 1, 1)), ValueError, "params must be a 2-D array"),
])
def test_element_energy_bad_params(params, error, fragment):
    with pytest.raises(error, match=fragment):
        dt.ElementEnergy(lambda x, p: p[0] * spring(x), ELEMENTS, 2, params)


@pytest.mark.parametrize("fn, got", [
    (lambda x: x[0], r"\(2,\)"),
    (lambda x: x, r"\(2, 2\)"),
    (lambda x: [x[0, 0], x[1, 0]], "list"),
    (lambda x: None, "NoneType"),
], ids=["row", "matrix", "list", "none"])
def test_element_energy_function_must_return_scalar(fn, got):
    with pytest.raises(ValueError, match=f"energy function must return a scalar; got {got}"):
        dt.ElementEnergy(fn, ELEMENTS, 2)


def test_element_energy_function_branch_on_symbol():
    with pytest.raises(dt.TracingError, match=r"dt\.where"):
        dt.ElementEnergy(lambda x: x[0, 0] if x[0, 0] > 0 else x[1, 0], ELEMENTS, 2)


@pytest.mark.parametrize("x, error, fragment", [
    (np.zeros(5), ValueError, r"x has shape \(5,\); expected \(3, 2\) or \(6,\)"),
    (np.zeros((2, 3)), ValueError, r"x has shape \(2, 3\)"),
    (np.full((3, 2), np.nan), ValueError,
     r"x must contain only finite numbers, but x\[0, 0\] = nan \(flat index 0, the first of 6 non-finite entries\)"),
    (np.zeros((3, 2), dtype=complex), TypeError, "x must be a real float array"),
    (np.zeros((3, 2), dtype=object), TypeError, "x must be a real float array; got dtype object"),
])
def test_element_energy_bad_x(x, error, fragment):
    energy = edge_energy()
    for method in (energy.value, energy.value_and_gradient, energy.hessian, energy.element_values):
        with pytest.raises(error, match=fragment):
            method(x)


# -- Objective ---------------------------------------------------------------------


def test_objective_n_vars_too_small():
    with pytest.raises(IndexError, match="an element refers to block 2, but n_vars is 2"):
        dt.Objective([edge_energy()], n_vars=2)


def test_objective_stray_huge_index():
    # Inferring n_vars from index 10⁹ would allocate tens of GB for the pattern.
    energy = dt.ElementEnergy(lambda x, p: dt.dot(x[1] - x[0], x[1] - x[0]),
                              np.array([[0, 1], [1, 10**9]]), 2)
    with pytest.raises(ValueError, match=r"Objective: element 1 refers to block 1000000000, but the elements "
                                         r"use only 3 distinct blocks"):
        dt.Objective([energy])


def test_residuals_stray_huge_index():
    with pytest.raises(ValueError, match=r"Residuals: element 0 refers to block 2000000, but the elements "
                                         r"use only 2 distinct blocks"):
        dt.Residuals(lambda x, p: x[1] - x[0], np.array([[0, 2_000_000]]), 1)


@pytest.mark.parametrize("fn, message", [
    (lambda x, p: None, "the residual function fn must return a 1-D vector of residuals; got NoneType"),
    (lambda x, p: "r", "the residual function fn must return a 1-D vector of residuals; got str"),
    (lambda x, p: [x[1, 0] - x[0, 0], None],
     "the residual function fn must return a 1-D vector of residuals; entry 1 is NoneType, expected a number"),
])
def test_residuals_fn_returns_no_vector(fn, message):
    with pytest.raises(TypeError) as error:
        dt.Residuals(fn, np.array([[0, 1]]), 1)
    assert str(error.value) == message


def test_objective_large_n_vars_given_explicitly():
    # An explicit n_vars is trusted: the variables past the elements are free.
    energy = dt.ElementEnergy(lambda x, p: (x[1] - x[0]) ** 2, np.array([[0, 1_500_000]]), 1)
    objective = dt.Objective([energy], n_vars=1_500_001)
    assert objective.n == 1_500_001


@pytest.mark.parametrize("n_vars", [0, -1, 3.0, True, "3"])
def test_objective_bad_n_vars(n_vars):
    with pytest.raises(ValueError, match="n_vars must be a positive integer"):
        dt.Objective([edge_energy()], n_vars=n_vars)


@pytest.mark.parametrize("fixed, error, fragment", [
    ([3], IndexError, r"fixed contains block index 3, outside \[0, 3\)"),
    ([0, -1], IndexError, "fixed contains block index -1"),
    (np.zeros(5, dtype=bool), ValueError, r"fixed as a boolean mask must be shaped like x.*got \(5,\)"),
    (np.zeros((3, 1), dtype=bool), ValueError, "fixed as a boolean mask must be shaped like x"),
    ([1.0], TypeError, "fixed must be integer block indices or a boolean mask; got dtype float64"),
    ("a", TypeError, "fixed must be integer block indices or a boolean mask"),
])
def test_objective_bad_fixed(fixed, error, fragment):
    with pytest.raises(error, match=fragment):
        dt.Objective([edge_energy()], fixed=fixed)


def test_objective_mismatched_dims():
    other = dt.ElementEnergy(lambda x: x[0, 0] ** 2, ELEMENTS, 3)
    with pytest.raises(ValueError, match=r"all terms must have the same dim; got \[2, 3\]"):
        dt.Objective([edge_energy(), other])


@pytest.mark.parametrize("weight, error, fragment", [
    ("2", TypeError, "weight must be a real number; got str"),
    (True, TypeError, "weight must be a real number; got bool"),
    (None, TypeError, "weight must be a real number"),
    (np.nan, ValueError, "weight must be finite; got nan"),
    (np.inf, ValueError, "weight must be finite; got inf"),
])
def test_objective_bad_weight(weight, error, fragment):
    with pytest.raises(error, match=fragment):
        dt.Objective([(weight, edge_energy())])


@pytest.mark.parametrize("terms, error, fragment", [
    ([], ValueError, "terms must be a non-empty list"),
    ({}, ValueError, "terms must be a non-empty list"),
    ([3], TypeError, r"terms\[0\] must be an ElementEnergy"),
    ([(1.0, "energy")], TypeError, r"terms\[0\] must be an ElementEnergy"),
])
def test_objective_bad_terms(terms, error, fragment):
    with pytest.raises(error, match=fragment):
        dt.Objective(terms)


@pytest.mark.parametrize("projection", ["bogus", "Clamp", True, 1])
def test_hessian_bad_projection(objective, projection):
    with pytest.raises(ValueError, match="projection must be None, 'clamp' or 'abs'"):
        objective.hessian(X, projection=projection)


@pytest.mark.parametrize("eps", [-1.0, np.nan, np.inf, "1e-9"])
def test_hessian_bad_eps(objective, eps):
    with pytest.raises(ValueError, match="eps must be a finite number >= 0"):
        objective.hessian(X, projection="clamp", eps=eps)


@pytest.mark.parametrize("method", ["value", "value_and_gradient", "hessian", "value_gradient_hessian",
                                    "fun", "jac", "hess"])
def test_objective_bad_x(objective, method):
    call = getattr(objective, method)
    with pytest.raises(ValueError, match=r"x has shape \(5,\); expected \(3, 2\) or \(6,\)"):
        call(np.zeros(5))
    with pytest.raises(ValueError, match=r"x must contain only finite numbers, but x\[3\] = inf$"):
        call(np.array([0.0, 1.0, 2.0, np.inf, 1.0, 0.0]))
    with pytest.raises(TypeError, match="x must be a real float array; got dtype complex128"):
        call(np.zeros(6, dtype=complex))


def test_batch_bad_indices(objective):
    with pytest.raises(IndexError, match=r"element index 2 is outside \[0, 2\)"):
        objective.value_and_gradient_batch(X, [0, 2])
    with pytest.raises(IndexError, match="element index -1 is outside"):
        objective.value_and_gradient_batch(X, [-1])
    with pytest.raises(TypeError, match="element_indices must be integers; got dtype float64"):
        objective.value_and_gradient_batch(X, [0.5])


def test_hessp_bad_vector(objective):
    with pytest.raises(ValueError, match=r"v must have 6 entries; got shape \(5,\)"):
        objective.hessp(X.reshape(-1), np.zeros(5))
    with pytest.raises(ValueError, match="v contains NaN or inf"):
        objective.hessp(X.reshape(-1), np.full(6, np.nan))
    with pytest.raises(TypeError, match="v must be a real float array; got dtype complex128"):
        objective.hessp(X.reshape(-1), np.zeros(6, dtype=complex))


# -- minimize ----------------------------------------------------------------------


@pytest.mark.parametrize("options, error, fragment", [
    ({"bogus": 1}, TypeError, r"unknown option\(s\) for method 'newton': \['bogus'\]"),
    ({"maxiter": -1}, ValueError, "maxiter must be an integer >= 0; got -1"),
    ({"maxiter": 1.5}, ValueError, "maxiter must be an integer >= 0"),
    ({"maxiter": True}, ValueError, "maxiter must be an integer >= 0"),
    ({"tol": np.nan}, ValueError, "tol must be a finite number >= 0"),
    ({"gtol": -1.0}, ValueError, "gtol must be a finite number >= 0"),
    ({"gtol": True}, ValueError, "gtol must be a finite number >= 0"),
    ({"eps": np.inf}, ValueError, "eps must be a finite number >= 0"),
    ({"armijo": "0.1"}, ValueError, "armijo must be a finite number >= 0"),
    ({"shrink": 1.5}, ValueError, r"shrink must be in \(0, 1\)"),
    ({"shrink": 0.0}, ValueError, r"shrink must be in \(0, 1\)"),
    ({"projection": "bogus"}, ValueError, "projection must be None, 'clamp' or 'abs'"),
    ({"max_line_search": 0}, ValueError, "max_line_search must be an integer >= 1"),
    ({"max_line_search": True}, ValueError, "max_line_search must be an integer >= 1"),
])
def test_minimize_bad_options(objective, options, error, fragment):
    with pytest.raises(error, match=fragment):
        dt.minimize(objective, X, method="newton", **options)


def test_minimize_bad_arguments(objective):
    with pytest.raises(ValueError, match="method must be one of"):
        dt.minimize(objective, X, method="bogus")
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2; got -1"):
        dt.minimize(objective, X, verbose=-1)
    with pytest.raises(TypeError, match="fun must be an Objective, an ElementEnergy or a callable"):
        dt.minimize(3, X)
    with pytest.raises(TypeError, match="callback must be callable; got int"):
        dt.minimize(objective, X, callback=3)
    with pytest.raises(IndexError, match="fixed contains block index 9"):
        dt.minimize(objective, X, fixed=[9])


@pytest.mark.parametrize("x0, error, fragment", [
    (np.zeros(5), ValueError, r"x0 has shape \(5,\)"),
    (np.full((3, 2), np.nan), ValueError, r"x0 must contain only finite numbers, but x0\[0, 0\] = nan"),
    (np.zeros((3, 2), dtype=complex), TypeError, "x0 must be a real float array"),
])
def test_minimize_bad_start(objective, x0, error, fragment):
    with pytest.raises(error, match=fragment):
        dt.minimize(objective, x0)


def edge_length_sum(x):
    """The energy of `edge_energy` as a plain function of x (3 × 2)."""
    return dt.dot(x[1] - x[0], x[1] - x[0]) + 2.0 * dt.dot(x[2] - x[1], x[2] - x[1])


NON_FINITE_START_MESSAGE = ("x0 must contain only finite numbers, but x0[1, 1] = inf "
                            "(flat index 3, the first of 2 non-finite entries)")


@pytest.mark.parametrize("method", ["newton", "lbfgs", "gd", "sgd", "momentum", "nesterov", "rmsprop",
                                    "adam", "penalty", "augmented-lagrangian"])
@pytest.mark.parametrize("kind", ["objective", "function"])
def test_minimize_non_finite_start_same_error(objective, method, kind):
    fun = objective if kind == "objective" else edge_length_sum
    constraints = None
    if method in ("penalty", "augmented-lagrangian"):
        constraints = [dt.Equality(lambda x: x[0, 0] - 1.0)]
    x0 = X.copy()
    x0[1, 1] = np.inf
    x0[2, 0] = np.nan
    with pytest.raises(ValueError) as error:
        dt.minimize(fun, x0, method=method, constraints=constraints)
    assert str(error.value) == NON_FINITE_START_MESSAGE


@pytest.mark.parametrize("method", ["lm", "gauss-newton"])
def test_least_squares_non_finite_start(method):
    resid = dt.Residuals(lambda x, p: x[1] - x[0] - p, np.array([[0, 1], [1, 2]]), 2,
                         np.array([[1.0, 0.0], [0.0, 1.0]]))
    x0 = X.copy()
    x0[1, 1] = np.inf
    x0[2, 0] = np.nan
    with pytest.raises(ValueError) as error:
        dt.least_squares(resid, x0, method=method)
    assert str(error.value) == NON_FINITE_START_MESSAGE


@pytest.mark.parametrize("x0, message", [
    (np.array([1.0, np.nan]), "x0 must contain only finite numbers, but x0[1] = nan"),
    (np.array([np.inf, 0.0, -np.inf]),
     "x0 must contain only finite numbers, but x0[0] = inf (the first of 2 non-finite entries)"),
    (np.float64(np.nan), "x0 must contain only finite numbers, but x0 = nan"),
])
def test_minimize_non_finite_start_shapes(x0, message):
    with pytest.raises(ValueError) as error:
        dt.minimize(lambda x: (x * x).sum(), x0, method="lbfgs")
    assert str(error.value) == message


# -- package functions, energies, geometry ---------------------------------------


@pytest.mark.parametrize("count", [-1, "2", 1.5, True])
def test_set_num_threads_bad_count(count, restore_threads):
    with pytest.raises(ValueError, match=r"count must be an integer >= 0 \(0 for the default, one thread per core\)"):
        dt.set_num_threads(count)


def test_set_num_threads_too_large(restore_threads):
    with pytest.raises(ValueError, match="count must be at most 2147483647; got 2147483648"):
        dt.set_num_threads(2**31)


def test_set_num_threads_numpy_integer_and_zero(restore_threads):
    dt.set_num_threads(np.int64(1))
    assert dt.get_num_threads() == 1

    dt.set_num_threads(count=0)
    assert dt.get_num_threads() >= 1


def test_symmetric_dirichlet_bad_mesh():
    vertices, faces = grid_mesh(1, 1)
    with pytest.raises(TypeError, match="faces must be an integer array; got dtype float64"):
        dt.energies.symmetric_dirichlet(vertices, faces.astype(float))
    with pytest.raises(IndexError, match=r"faces\[0, 2\] = 4 is outside \[0, 4\)"):
        dt.energies.symmetric_dirichlet(vertices, np.array([[0, 1, 4]]))
    with pytest.raises(ValueError, match=r"face 0 \(vertices \[0, 1, 1\]\) has zero rest area"):
        dt.energies.symmetric_dirichlet(vertices, np.array([[0, 1, 1]]))
    with pytest.raises(ValueError, match="vertices row 2 contains NaN or inf"):
        dt.energies.symmetric_dirichlet(np.where(np.arange(4)[:, None] == 2, np.nan, vertices), faces)
    with pytest.raises(ValueError, match="faces must be a #F by 3 array"):
        dt.energies.symmetric_dirichlet(vertices, faces[:, :2])
    with pytest.raises(ValueError, match="faces is empty"):
        dt.energies.symmetric_dirichlet(vertices, np.zeros((0, 3), dtype=int))


def test_geometry_bad_points():
    with pytest.raises(ValueError, match="points must have the same dimension"):
        dt.geometry.edge_length([0.0, 0.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="c must be a point in 2-D or 3-D"):
        dt.geometry.triangle_area([0.0, 0.0], [1.0, 1.0], [1.0])


# -- memory order and strides -----------------------------------------------------


def test_tape_strided_and_fortran_x(tape):
    contiguous = np.array([0.3, -1.2, 0.8, 2.5])
    strided = np.zeros(8)
    strided[::2] = contiguous
    view = strided[::2]
    assert not view.flags.c_contiguous
    fortran = np.asfortranarray(contiguous.reshape(2, 2))
    for x in (view, fortran):
        assert tape.value(x) == tape.value(contiguous)
        assert_array_equal(tape.gradient(x), tape.gradient(contiguous))
        assert_array_equal(tape.hessian(x), tape.hessian(contiguous))
        assert_array_equal(tape.jacobian(x, mode="forward"), tape.jacobian(contiguous, mode="forward"))


def test_tape_strided_params(param_tape):
    x = np.array([1.5, -0.5])
    p = np.array([2.0, 3.0])
    strided = np.array([2.0, 9.0, 3.0, 9.0])[::2]
    assert param_tape.value(x, strided) == param_tape.value(x, p)
    assert_array_equal(param_tape.gradient(x, strided), param_tape.gradient(x, p))


def test_element_energy_fortran_and_strided_arrays():
    vertices, faces = grid_mesh(2, 3)
    rng = np.random.default_rng(11)
    params = rng.uniform(0.5, 2.0, (len(faces), 2))
    x = vertices + 0.1 * rng.standard_normal(vertices.shape)

    def fn(x_local, p):
        return p[0] * dt.geometry.triangle_area(x_local[0], x_local[1], x_local[2]) ** 2 + p[1] * spring(x_local)

    reference = dt.Objective([dt.ElementEnergy(fn, faces, 2, params)], fixed=[0])
    f_ref, g_ref, H_ref = reference.value_gradient_hessian(x, projection="clamp")

    wide_faces = np.zeros((len(faces), 6), dtype=np.int64)
    wide_faces[:, ::2] = faces
    wide_params = np.zeros((len(faces), 4))
    wide_params[:, ::2] = params
    variants = {
        "fortran": (np.asfortranarray(faces), np.asfortranarray(params)),
        "strided": (wide_faces[:, ::2], wide_params[:, ::2]),
        "int32": (faces.astype(np.int32), params),
    }
    for name, (elements, element_params) in variants.items():
        objective = dt.Objective([dt.ElementEnergy(fn, elements, 2, element_params)], fixed=[0])
        f, g, H = objective.value_gradient_hessian(x, projection="clamp")
        assert f == f_ref, name
        assert_array_equal(g, g_ref, err_msg=name)
        assert_array_equal(H.toarray(), H_ref.toarray(), err_msg=name)


def test_objective_fortran_and_strided_x(objective):
    wide = np.zeros((6, 4))
    wide[::2, ::2] = X
    variants = {"fortran": np.asfortranarray(X), "strided": wide[::2, ::2],
                "flat_strided": np.repeat(X.reshape(-1), 2)[::2]}
    f_ref, g_ref, H_ref = objective.value_gradient_hessian(X)
    for name, x in variants.items():
        f, g, H = objective.value_gradient_hessian(x)
        assert f == f_ref, name
        assert g.shape == x.shape, name
        assert_array_equal(g.reshape(-1), g_ref.reshape(-1), err_msg=name)
        assert_array_equal(H.toarray(), H_ref.toarray(), err_msg=name)


def test_fixed_mask_fortran_order():
    mask = np.zeros((3, 2), dtype=bool)
    mask[0, 1] = True
    mask[2, 0] = True
    reference = dt.Objective([edge_energy()], fixed=mask)
    fortran = dt.Objective([edge_energy()], fixed=np.asfortranarray(mask))
    assert_array_equal(fortran.fixed_mask, reference.fixed_mask)
    assert_array_equal(fortran.value_and_gradient(X)[1], reference.value_and_gradient(X)[1])


def test_minimize_fortran_start(objective):
    reference = dt.minimize(objective, X, fixed=[0])
    fortran = dt.minimize(objective, np.asfortranarray(X), fixed=[0])
    assert_array_equal(fortran.x, reference.x)
    assert fortran.fun == reference.fun
