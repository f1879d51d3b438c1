"""Per-element energies and objectives: one traced tape evaluated over many elements."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from . import _core
from ._blocks import resolve_n_vars
from ._checks import check_finite
from .tracing import Recorder, Symbol, Tape, _call_traced, _symbols

__all__ = ["ElementEnergy", "Objective", "as_variables"]


def _as_elements(elements) -> np.ndarray:
    array = np.asarray(elements)
    if array.dtype == object or array.dtype.kind not in "iu":
        raise TypeError(f"elements must be an integer array (#E by k block indices); got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"elements must be a 2-D array (#E by k block indices); got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError("elements is empty; an energy needs at least one element")
    if array.shape[1] == 0:
        raise ValueError("elements has no columns; each element needs at least one variable block")
    if array.min() < 0:
        row, column = np.argwhere(array < 0)[0]
        raise IndexError(f"elements[{row}, {column}] = {array[row, column]} is negative; "
                         "block indices must be >= 0")
    if array.max() > np.iinfo(np.int32).max:
        raise IndexError(f"elements contains index {array.max()}, larger than 2**31 - 1")
    return np.ascontiguousarray(array, dtype=np.int32)


def _as_params(params, n_elements: int) -> np.ndarray:
    if params is None:
        return np.zeros((n_elements, 0))
    array = np.asarray(params)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise TypeError(f"params must be a real float array (#E by m); got dtype {array.dtype}")
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise ValueError(f"params must be a 2-D array (#E by m); got shape {array.shape}")
    if array.shape[0] != n_elements:
        raise ValueError(f"params has {array.shape[0]} rows, but elements has {n_elements}; "
                         "expected one row of parameters per element")
    array = np.ascontiguousarray(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        row = int(np.argwhere(~np.isfinite(array))[0][0])
        raise ValueError(f"params row {row} contains NaN or inf")
    return array


def _check_residual_entry(item, index) -> None:
    """Raise TypeError unless `item` is a number.

    `index` is the position of `item` in fn's result, or None when `item` is the whole result.
    """
    if isinstance(item, (Symbol, numbers.Real)) or (isinstance(item, np.ndarray) and item.ndim == 0):
        return
    if index is None:
        raise TypeError(f"the residual function fn must return a 1-D vector of residuals; "
                        f"got {type(item).__name__}")
    raise TypeError(f"the residual function fn must return a 1-D vector of residuals; "
                    f"entry {index} is {type(item).__name__}, expected a number")


def _trace_element(fn, arity: int, dim: int, n_params: int, vector_output: bool) -> Tape:
    recorder = Recorder(arity * dim, n_params)
    x = _symbols(recorder, "Input", arity * dim).reshape(arity, dim)
    p = _symbols(recorder, "Param", n_params)
    try:
        result = _call_traced(fn, x, p, n_params)
        if vector_output:
            if isinstance(result, (list, tuple)):
                result = np.array(result, dtype=object)
            if not isinstance(result, np.ndarray):
                _check_residual_entry(result, None)
                result = np.array([result], dtype=object)
            if result.ndim != 1 or result.size == 0:
                raise ValueError(f"the residual function must return a non-empty 1-D array; "
                                 f"got shape {result.shape}")
            for index, item in enumerate(result):
                _check_residual_entry(item, index)
            outputs = [recorder.lift(item).slot for item in result]
            shape = result.shape
        else:
            if isinstance(result, np.ndarray) and result.size == 1:
                result = result.reshape(())[()]
            if not isinstance(result, (Symbol, numbers.Real)):
                shape = getattr(result, "shape", type(result).__name__)
                raise ValueError(f"the energy function must return a scalar; got {shape}. "
                                 "Sum the terms, or use dt.Residuals for vector outputs")
            outputs = [recorder.lift(result).slot]
            shape = ()
    finally:
        recorder.closed = True
    core = _core.Tape(
        recorder.n_inputs, recorder.n_params,
        np.asarray(recorder.ops, dtype=np.int32), np.asarray(recorder.args_a, dtype=np.int32),
        np.asarray(recorder.args_b, dtype=np.int32), np.asarray(recorder.args_c, dtype=np.int32),
        np.asarray(recorder.constants, dtype=np.float64), outputs)
    return Tape(core, shape)


def as_variables(x, n_blocks: int, dim: int, name: str = "x", context: str = ""):
    """Validate x as (n_blocks, dim) or flat; return the flat float64 copy and x's shape.

    `context` is appended to the shape error, to say where the expected size comes from.
    """
    if isinstance(x, np.ndarray) and x.dtype == object:
        raise TypeError(f"{name} must be a real float array; got dtype object")
    array = np.asarray(x)
    if np.iscomplexobj(array) or array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real float array; got dtype {array.dtype}")
    n = n_blocks * dim
    if array.shape not in ((n_blocks, dim), (n,)):
        expected = f"({n_blocks}, {dim}) or ({n},)" if dim > 1 else f"({n},) or ({n}, 1)"
        if not (dim == 1 and array.shape == (n, 1)):
            raise ValueError(f"{name} has shape {array.shape}; expected {expected}{context}")
    flat = np.ascontiguousarray(array, dtype=np.float64).reshape(-1)
    check_finite(flat.reshape(array.shape), name)
    return flat, array.shape


class ElementArrays:
    """Sizes shared by every per-element function: `elements` (E, k) and `params` (E, m)."""

    @property
    def n_elements(self) -> int:
        return self.elements.shape[0]

    @property
    def arity(self) -> int:
        return self.elements.shape[1]

    @property
    def n_params(self) -> int:
        return self.params.shape[1]


class ElementEnergy(ElementArrays):
    """A sum over elements of one energy function, traced once and run in C++.

    Parameters
    ----------
    fn : callable
        ``fn(x_local, p) -> scalar`` (or ``fn(x_local)`` without parameters). x_local
        is a k×dim object array of symbols, row i being the variable block
        ``elements[e, i]``; p is the row of ``params`` of the element.
    elements : (E, k) int array
        Variable-block indices of each element (for example triangle vertices).
    dim : int
        Size of one variable block (2 for planar vertex positions).
    params : (E, m) float array, optional
        Per-element constants (rest shapes, weights).
    """

    _vector_output = False

    def __init__(self, fn, elements, dim: int, params=None):
        if not callable(fn):
            raise TypeError(f"fn must be callable; got {type(fn).__name__}")
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"dim must be a positive integer; got {dim!r}")
        self.elements = _as_elements(elements)
        self.dim = int(dim)
        self.params = _as_params(params, self.elements.shape[0])
        self.fn = fn
        self.tape = _trace_element(fn, self.arity, self.dim, self.n_params, self._vector_output)
        self._core = _core.ElementEnergy(self.tape._core, self.elements, self.dim, self.params)
        self._objective = None


    @property
    def n_blocks(self) -> int:
        """Number of variable blocks the elements refer to (largest index + 1)."""
        return int(self.elements.max()) + 1

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_elements={self.n_elements}, arity={self.arity}, "
                f"dim={self.dim}, n_params={self.n_params}, n_operations={self.tape.n_operations})")

    def _as_objective(self) -> "Objective":
        if self._objective is None:
            self._objective = Objective([self])
        return self._objective

    def value(self, x) -> float:
        """Evaluate the energy, Σ_e fn(x_e, p_e)."""
        return self._as_objective().value(x)

    def value_and_gradient(self, x):
        """Evaluate the energy and its gradient (shaped like x)."""
        return self._as_objective().value_and_gradient(x)

    def hessian(self, x, projection=None, eps: float = 1e-9) -> sp.csr_matrix:
        """Assemble the sparse Hessian; see `Objective.hessian`."""
        return self._as_objective().hessian(x, projection=projection, eps=eps)

    def element_values(self, x) -> np.ndarray:
        """Evaluate every element's energy at x (length E)."""
        flat, _ = as_variables(x, self.n_blocks, self.dim)
        result = np.empty(self.n_elements)
        local = flat.reshape(-1, self.dim)[self.elements].reshape(self.n_elements, -1)
        for e in range(self.n_elements):
            result[e] = self.tape._core.evaluate(local[e], self.params[e])[0]
        return result


def _as_fixed(fixed, n_blocks: int, dim: int) -> np.ndarray:
    mask = np.zeros(n_blocks * dim, dtype=np.uint8)
    if fixed is None:
        return mask
    array = np.asarray(fixed)
    if array.dtype == bool:
        if array.shape not in ((n_blocks, dim), (n_blocks * dim,)):
            raise ValueError(f"fixed as a boolean mask must be shaped like x, ({n_blocks}, {dim}) or "
                             f"({n_blocks * dim},); got {array.shape}")
        mask[:] = array.reshape(-1)
        return mask
    if array.size == 0:
        return mask
    if array.dtype.kind not in "iu":
        raise TypeError(f"fixed must be integer block indices or a boolean mask; got dtype {array.dtype}")
    array = array.reshape(-1)
    bad = (array < 0) | (array >= n_blocks)
    if np.any(bad):
        raise IndexError(f"fixed contains block index {array[bad][0]}, outside [0, {n_blocks})")
    blocks = mask.reshape(n_blocks, dim)
    blocks[array, :] = 1
    return mask


def _as_weight(weight) -> float:
    if not isinstance(weight, numbers.Real) or isinstance(weight, bool):
        raise TypeError(f"a term weight must be a real number; got {type(weight).__name__}")
    if not np.isfinite(weight):
        raise ValueError(f"a term weight must be finite; got {weight}")
    return float(weight)


class Objective:
    """A weighted sum of element energies over one variable vector.

    Parameters
    ----------
    terms : list
        Energies, each an `ElementEnergy` (weight 1) or a ``(weight, energy)`` pair.
        All terms share the block size ``dim``.
    n_vars : int, optional
        Number of variable blocks (rows of an (n, dim) x). Defaults to the largest
        block index in any term plus one.
    fixed : int array or bool array, optional
        Variable blocks held at their current values (indices of rows of x), or a
        boolean mask shaped like x. Fixed variables get a zero gradient, and their
        Hessian rows and columns are dropped from each element Hessian before it
        is projected; the assembled Hessian has 1 on their diagonal.

    Notes
    -----
    ``x`` may be given as an (n, dim) array or a flat vector; gradients come back
    in the caller's shape and Hessians as n·dim × n·dim `scipy.sparse.csr_matrix`
    in the flat (row-major) variable order.
    """

    def __init__(self, terms, n_vars=None, fixed=None):
        if isinstance(terms, (ElementEnergy,)) or (isinstance(terms, tuple) and len(terms) == 2
                                                  and isinstance(terms[1], ElementEnergy)):
            terms = [terms]
        if not isinstance(terms, (list, tuple)) or len(terms) == 0:
            raise ValueError("terms must be a non-empty list of energies or (weight, energy) pairs")
        pairs = []
        for i, term in enumerate(terms):
            if isinstance(term, ElementEnergy):
                pairs.append((1.0, term))
            elif isinstance(term, tuple) and len(term) == 2 and isinstance(term[1], ElementEnergy):
                pairs.append((_as_weight(term[0]), term[1]))
            else:
                raise TypeError(f"terms[{i}] must be an ElementEnergy or a (weight, ElementEnergy) pair; "
                                f"got {type(term).__name__}")
        dims = {energy.dim for _, energy in pairs}
        if len(dims) != 1:
            raise ValueError(f"all terms must have the same dim; got {sorted(dims)}")
        self.dim = dims.pop()
        self.n_vars = resolve_n_vars(n_vars, [energy.elements for _, energy in pairs], "Objective")
        self.terms = pairs
        self.fixed_mask = _as_fixed(fixed, self.n_vars, self.dim)
        self._core = _core.Objective([(energy._core, weight) for weight, energy in pairs],
                                     self.n_vars, self.dim, self.fixed_mask)

    @property
    def n(self) -> int:
        """Number of scalar variables, n_vars · dim."""
        return self.n_vars * self.dim

    @property
    def n_elements(self) -> int:
        """Total number of elements over all terms."""
        return int(self._core.n_elements)

    @property
    def free(self) -> np.ndarray:
        """Boolean mask (flat) of the variables that are not fixed."""
        return self.fixed_mask == 0

    def __repr__(self) -> str:
        return (f"Objective(n_vars={self.n_vars}, dim={self.dim}, terms={len(self.terms)}, "
                f"n_elements={self.n_elements}, fixed={int(self.fixed_mask.sum())})")

    def _x(self, x, name="x"):
        context = (f" (the objective has n_vars={self.n_vars} blocks of dim {self.dim}: "
                   "n_vars= if given, else one more than the largest index in the elements)")
        return as_variables(x, self.n_vars, self.dim, name, context)

    def value(self, x) -> float:
        """Evaluate f(x)."""
        flat, _ = self._x(x)
        return self._core.value(flat)

    def value_and_gradient(self, x):
        """Evaluate f(x) and ∇f(x); the gradient has x's shape and 0 at fixed variables."""
        flat, shape = self._x(x)
        f, g = self._core.value_and_gradient(flat)
        return f, g.reshape(shape)

    def value_and_gradient_batch(self, x, element_indices):
        """Evaluate the weighted sum over the listed elements only, and its gradient.

        ``element_indices`` number the elements of all terms in order (term 0
        first). The result is the plain sum over the batch, not rescaled.
        """
        flat, shape = self._x(x)
        indices = np.asarray(element_indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"element_indices must be integers; got dtype {indices.dtype}")
        indices = np.ascontiguousarray(indices.reshape(-1), dtype=np.int64)
        f, g = self._core.value_and_gradient_batch(flat, indices)
        return f, g.reshape(shape)

    def hessian(self, x, projection=None, eps: float = 1e-9) -> sp.csr_matrix:
        """Assemble the sparse Hessian at x.

        Parameters
        ----------
        projection : None, "clamp" or "abs"
            Per-element projection before assembly: "clamp" raises eigenvalues
            below ``eps`` to ``eps``, "abs" replaces each eigenvalue λ by
            max(|λ|, eps).
        eps : float
            Smallest eigenvalue after projection (> 0 for a positive definite sum).
        """
        return self.value_gradient_hessian(x, projection, eps)[2]

    def value_gradient_hessian(self, x, projection=None, eps: float = 1e-9):
        """Evaluate f, ∇f (shaped like x) and the sparse Hessian in one pass."""
        mode = _projection_name(projection)
        if not isinstance(eps, numbers.Real) or not np.isfinite(eps) or eps < 0:
            raise ValueError(f"eps must be a finite number >= 0; got {eps!r}")
        flat, shape = self._x(x)
        f, g, (data, indices, indptr) = self._core.hessian(flat, mode, float(eps))
        H = sp.csr_matrix((data, indices, indptr), shape=(self.n, self.n))
        return f, g.reshape(shape), H

    # scipy.optimize interface: flat vectors.
    def fun(self, x) -> float:
        """f(x) for scipy.optimize (x flat)."""
        return self.value(x)

    def jac(self, x) -> np.ndarray:
        """∇f(x) as a flat vector for scipy.optimize."""
        return self.value_and_gradient(np.asarray(x).reshape(-1))[1]

    def hess(self, x) -> sp.csr_matrix:
        """Compute the unprojected sparse Hessian for scipy.optimize.

        Methods that accept a sparse Hessian, such as "Newton-CG" and "trust-constr",
        take ``hess=objective.hess``.

        NOTE: scipy.optimize (1.17) converts a sparse Hessian to a csr_array, and
        methods "trust-ncg" and "trust-krylov" then multiply it by np.dot, which
        fails for sparse arrays. Pass ``hessp=objective.hessp`` to them instead.
        """
        return self.hessian(np.asarray(x).reshape(-1))

    def hessp(self, x, v) -> np.ndarray:
        """Hessian-vector product H(x)·v for scipy.optimize."""
        v = np.asarray(v)
        if np.iscomplexobj(v) or v.dtype.kind not in "biuf":
            raise TypeError(f"v must be a real float array; got dtype {v.dtype}")
        v = np.asarray(v, dtype=np.float64).reshape(-1)
        if v.shape != (self.n,):
            raise ValueError(f"v must have {self.n} entries; got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"v contains NaN or inf at index {int(np.flatnonzero(~np.isfinite(v))[0])}")
        return self.hess(x) @ v


def _projection_name(projection) -> str:
    if projection is None:
        return "none"
    if projection in ("clamp", "abs"):
        return projection
    raise ValueError(f"projection must be None, 'clamp' or 'abs'; got {projection!r}")

