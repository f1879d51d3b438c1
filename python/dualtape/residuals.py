"""Per-element residuals: one traced vector function evaluated over many elements."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _core
from ._blocks import resolve_n_vars
from .elements import ElementArrays, ElementEnergy, _as_elements, _as_params, _trace_element, as_variables
from .tracing import _call_traced

__all__ = ["Residuals"]

_MODES = ("auto", "reverse", "forward")


class Residuals(ElementArrays):
    """The residual vector r(x) of a least-squares problem, traced once and run in C++.

    Element e contributes the r outputs of ``fn`` as the rows ``e·r .. e·r + r − 1``
    of r(x), so ``residuals(x)`` has length E·r. The cost is ½‖r(x)‖².

    Parameters
    ----------
    fn : callable
        ``fn(x_local, p) -> 1-D array of r residuals`` (or ``fn(x_local)`` without
        parameters). x_local is a k×dim object array of symbols, row i being the
        variable block ``elements[e, i]``; p is the row of ``params`` of the element.
    elements : (E, k) int array
        Variable-block indices of each element.
    dim : int
        Size of one variable block.
    params : (E, m) float array, optional
        Per-element constants, for example one data point (x_i, y_i) per row.
    n_vars : int, optional
        Number of variable blocks (rows of an (n, dim) x). Defaults to the largest
        block index plus one.
    n_residuals : int, optional
        Expected number of residuals per element; when given, a function that
        returns a different number raises ValueError.
    mode : {"auto", "reverse", "forward"}
        How Jacobian rows are computed: "auto" uses one reverse sweep per output
        when r ≤ k·dim and forward mode with k·dim directions otherwise.

    Examples
    --------
    Rosenbrock as residuals, one element over both variables:

    >>> resid = Residuals(lambda x: [10 * (x[0, 1] - x[0, 0] ** 2), 1 - x[0, 0]],
    ...                   np.zeros((1, 1), int), dim=2)
    >>> resid.residuals([-1.2, 1.0])
    array([-4.4,  2.2])
    """

    def __init__(self, fn, elements, dim: int, params=None, n_vars=None, n_residuals=None, mode: str = "auto"):
        if not callable(fn):
            raise TypeError(f"fn must be callable; got {type(fn).__name__}")
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"dim must be a positive integer; got {dim!r}")
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}; got {mode!r}")
        self.elements = _as_elements(elements)
        self.dim = int(dim)
        self.params = _as_params(params, self.elements.shape[0])
        self.fn = fn
        self.tape = _trace_element(fn, self.arity, self.dim, self.n_params, vector_output=True)
        if n_residuals is not None:
            if not isinstance(n_residuals, (int, np.integer)) or isinstance(n_residuals, bool) or n_residuals < 1:
                raise ValueError(f"n_residuals must be a positive integer; got {n_residuals!r}")
            if self.tape.n_outputs != n_residuals:
                raise ValueError(f"the residual function returned {self.tape.n_outputs} residuals per element, "
                                 f"but n_residuals is {n_residuals}")
        self.n_vars = resolve_n_vars(n_vars, [self.elements], "Residuals")
        self._elements_core = _core.ElementEnergy(self.tape._core, self.elements, self.dim, self.params)
        self._core = _core.Residuals(self._elements_core, self.n_vars, mode)


    @property
    def n_outputs(self) -> int:
        """Residuals per element (r)."""
        return self.tape.n_outputs

    @property
    def n_residuals(self) -> int:
        """Length of the residual vector, E·r."""
        return self.n_elements * self.n_outputs

    @property
    def n(self) -> int:
        """Number of scalar variables, n_vars · dim."""
        return self.n_vars * self.dim

    @property
    def jacobian_nnz(self) -> int:
        """Number of stored entries of the sparse Jacobian."""
        return int(self._core.nnz)

    @property
    def jacobian_mode(self) -> str:
        """"reverse" or "forward": how the Jacobian rows are computed."""
        return "reverse" if self._core.uses_reverse_mode else "forward"

    def __repr__(self) -> str:
        return (f"Residuals(n_elements={self.n_elements}, arity={self.arity}, dim={self.dim}, "
                f"n_outputs={self.n_outputs}, n_vars={self.n_vars}, n_params={self.n_params}, "
                f"n_operations={self.tape.n_operations})")

    def _x(self, x, name: str = "x"):
        return as_variables(x, self.n_vars, self.dim, name)

    def residuals(self, x) -> np.ndarray:
        """Evaluate the residual vector r(x) (length E·r, element by element)."""
        flat, _ = self._x(x)
        return self._core.residuals(flat)

    def jacobian(self, x) -> sp.csr_matrix:
        """Evaluate the Jacobian ∂r/∂x as an (E·r) × (n_vars·dim) CSR matrix."""
        return self.residuals_and_jacobian(x)[1]

    def residuals_and_jacobian(self, x):
        """Evaluate r(x) and the sparse Jacobian in one pass."""
        flat, _ = self._x(x)
        r, (data, indices, indptr) = self._core.jacobian(flat)
        return r, sp.csr_matrix((data, indices, indptr), shape=(self.n_residuals, self.n))

    def cost(self, x) -> float:
        """Evaluate the cost ½‖r(x)‖²."""
        r = self.residuals(x)
        return 0.5 * float(r @ r)

    def gradient(self, x) -> np.ndarray:
        """Evaluate the gradient Jᵀr of the cost, shaped like x."""
        flat, shape = self._x(x)
        r, J = self.residuals_and_jacobian(flat)
        return (J.T @ r).reshape(shape)

    def as_energy(self) -> ElementEnergy:
        """Return the cost ½‖r‖² as an `ElementEnergy`, traced as ½ Σ_o r_o² per element.

        The energy can enter a `dualtape.Objective`, so Newton or L-BFGS can run on
        a least-squares problem and mix it with other energies.
        """
        fn, n_params = self.fn, self.n_params

        def half_squared_norm(x, p):
            values = np.asarray(_call_traced(fn, x, p, n_params), dtype=object).reshape(-1)
            total = 0.0
            for value in values:
                total = total + value * value
            return 0.5 * total

        return ElementEnergy(half_squared_norm, self.elements, self.dim,
                             self.params if self.n_params > 0 else None)

