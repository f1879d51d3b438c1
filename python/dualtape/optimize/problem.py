"""The problem protocol that every solver of `dualtape.optimize` works on.

A `Problem` presents an objective as a function of a flat float64 vector ``z`` of
the *free* variables. It maps ``z`` to the caller's full array ``x`` (fixed
variables keep their initial values), checks what the user's functions return,
and counts evaluations.

Mini-batches. A problem made of elements (an `Objective`, or `Problem.from_sum`)
has ``n_elements`` set, and ``value_and_gradient_batch(z, element_indices)`` scales
the plain batch sum into the unbiased estimate of the full sum

    f_B(z) = (n_elements / |B|) · Σ_{e ∈ B} f_e(z)

with its gradient, so that the expectation of f_B over uniformly drawn batches B
equals f. The stochastic solvers rely on this scaling: a learning rate tuned on
full batches keeps its meaning on mini-batches.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp

from .._checks import check_finite

__all__ = ["Problem"]


def _as_start(x0, argument="x0"):
    """Convert a start point to a float64 array and reject bad input."""
    if isinstance(x0, np.ndarray) and x0.dtype == object:
        raise TypeError(f"{argument} must be a float array, got an object array")
    array = np.asarray(x0)
    if np.iscomplexobj(array):
        raise TypeError(f"{argument} must be real, got dtype {array.dtype}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{argument} must be a numeric array, got dtype {array.dtype}")
    array = np.array(array, dtype=np.float64)
    if array.size == 0:
        raise ValueError(f"{argument} must not be empty, got shape {array.shape}")
    check_finite(array, argument)
    return array


def _free_indices(fixed, shape, block_size):
    """Return the sorted flat indices of the free variables, or None if all are free.

    ``fixed`` is None, a boolean mask shaped like x (or flat of the same size), or
    an integer array of variable-block indices. A block is a row of a 2-D x, or
    ``block_size`` consecutive entries of a flat x.
    """
    size = int(np.prod(shape))
    if fixed is None:
        return None

    fixed = np.asarray(fixed)
    if fixed.dtype == bool:
        if fixed.shape != tuple(shape) and fixed.shape != (size,):
            raise ValueError(
                f"fixed: a boolean mask must have the shape of x {tuple(shape)} or ({size},), "
                f"got {fixed.shape}")
        mask = fixed.ravel().copy()
    else:
        if fixed.size == 0:
            return None
        if fixed.dtype.kind not in "iu":
            raise TypeError(
                f"fixed must be a boolean mask or an integer array of block indices, "
                f"got dtype {fixed.dtype}")
        if fixed.ndim != 1:
            raise ValueError(f"fixed: block indices must be a 1-D array, got shape {fixed.shape}")
        n_blocks = size // block_size
        if fixed.min() < 0 or fixed.max() >= n_blocks:
            bad = fixed[(fixed < 0) | (fixed >= n_blocks)][0]
            raise IndexError(
                f"fixed: block index {bad} is out of range for {n_blocks} blocks of size "
                f"{block_size}; expected 0 <= index < {n_blocks}")
        mask = np.zeros(size, dtype=bool)
        for offset in range(block_size):
            mask[fixed * block_size + offset] = True

    free = np.flatnonzero(~mask)
    if free.size == 0:
        raise ValueError("fixed: every variable is fixed, so there is nothing to optimize")
    if free.size == size:
        return None
    return free


def _as_value(value, name):
    """Convert what a user function returned as the objective value to a float."""
    if isinstance(value, (float, int, np.floating, np.integer)):
        return float(value)
    array = np.asarray(value)
    if array.ndim != 0:
        if array.shape == (1,):
            array = array.reshape(())
        else:
            raise ValueError(f"{name} must return a scalar, got an array of shape {array.shape}")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must return a real number, got {array.dtype}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must return a real number, got {type(value).__name__}")
    return float(array)


def _as_gradient(gradient, shape, name):
    """Convert a returned gradient to a flat float64 array of the size of x."""
    array = np.asarray(gradient)
    size = int(np.prod(shape))
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must return a real gradient, got dtype {array.dtype}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must return a float array as gradient, got dtype {array.dtype}")
    if array.shape != tuple(shape) and array.shape != (size,):
        raise ValueError(
            f"{name} returned a gradient of shape {array.shape}, expected {tuple(shape)} "
            f"(the shape of x) or ({size},)")
    return np.array(array, dtype=np.float64).ravel()


def _as_hessian(matrix, size, name):
    """Check a returned Hessian: a dense (n, n) array or a scipy.sparse matrix."""
    if sp.issparse(matrix):
        if matrix.shape != (size, size):
            raise ValueError(f"{name} returned a sparse matrix of shape {matrix.shape}, "
                             f"expected ({size}, {size})")
        return sp.csr_matrix(matrix, dtype=np.float64)
    array = np.asarray(matrix)
    if np.iscomplexobj(array) or array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must return a real matrix, got dtype {array.dtype}")
    if size == 1 and array.size == 1:
        return array.astype(np.float64).reshape(1, 1)
    if array.shape != (size, size):
        raise ValueError(f"{name} returned a matrix of shape {array.shape}, expected ({size}, {size})")
    return np.array(array, dtype=np.float64)


def _check_element_indices(element_indices, n_elements):
    indices = np.asarray(element_indices)
    if indices.ndim != 1 or indices.size == 0:
        raise ValueError(f"element_indices must be a non-empty 1-D array, got shape {indices.shape}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"element_indices must be integers, got dtype {indices.dtype}")
    if indices.min() < 0 or indices.max() >= n_elements:
        bad = indices[(indices < 0) | (indices >= n_elements)][0]
        raise IndexError(f"element_indices: index {bad} is out of range for {n_elements} elements")
    return indices.astype(np.int64)


class Problem:
    """An objective seen by the solvers: a function of the free variables ``z``.

    Build one with `from_function`, `from_sum` or `from_objective`. ``z`` is always a
    flat float64 vector of length `n`. `to_full` turns it into the caller's
    array ``x`` (shape `shape`), with fixed variables at their start values.

    Attributes
    ----------
    shape : tuple
        Shape of the caller's x.
    n : int
        Number of free variables.
    n_elements : int or None
        Number of elements whose sum is the objective, or None for a plain function.
    nfev, njev, nhev : int
        Counts of objective, gradient and Hessian evaluations (mini-batch ones included).
    """

    def __init__(self, x0, free, value_fn, value_and_gradient_fn, hessian_fn=None,
                 n_elements=None, batch_fn=None, batch_scaled=True, name="fun",
                 start_value_and_gradient_fn=None):
        self._base = _as_start(x0)
        self.shape = self._base.shape
        self._free = free
        self.n = self._base.size if free is None else int(free.size)
        self._value_fn = value_fn
        self._value_and_gradient_fn = value_and_gradient_fn
        # Used instead at the start point, where it raises on a value that is not finite.
        self._start_value_and_gradient_fn = start_value_and_gradient_fn
        self._hessian_fn = hessian_fn
        self.n_elements = n_elements
        self._batch_fn = batch_fn
        self._batch_scaled = batch_scaled
        self._name = name
        self.nfev = 0
        self.njev = 0
        self.nhev = 0

    # -- constructors ------------------------------------------------------------

    @classmethod
    def from_function(cls, f, x0, grad=None, hess=None, fixed=None):
        """Wrap a plain Python function ``f(x) -> float``.

        Parameters
        ----------
        f : callable
            The objective; it receives a float64 array shaped like ``x0``.
        x0 : array_like
            Start point; fixes the shape of x.
        grad : callable, True or None
            ``grad(x)`` returns the gradient shaped like x (or flat). True means
            that ``f`` returns ``(value, gradient)``. None differentiates ``f`` with
            ``dualtape.value_and_grad``: then a value or gradient that is not
            finite raises ValueError at the start point, and at any other point
            makes the solvers reject it (a line search backtracks).
        hess : callable, optional
            ``hess(x)`` returns the (x.size, x.size) Hessian, dense or scipy.sparse.
            Only the method "newton" needs it.
        fixed : array_like, optional
            Flat indices or a boolean mask shaped like x of the variables held
            at their ``x0`` values.
        """
        if not callable(f):
            raise TypeError(f"f must be callable, got {type(f).__name__}")
        x0 = _as_start(x0)
        shape = x0.shape

        start_value_and_gradient = None
        if grad is True:
            def value_and_gradient(x):
                out = f(x)
                if not isinstance(out, tuple) or len(out) != 2:
                    raise ValueError("grad=True means f returns (value, gradient), "
                                     f"but f returned {type(out).__name__}")
                return _as_value(out[0], "f"), _as_gradient(out[1], shape, "f")

            def value(x):
                return value_and_gradient(x)[0]
        else:
            def value(x):
                return _as_value(f(x), "f")

            if grad is None:
                value_and_gradient = _tape_value_and_grad(f, shape)

                def start_value_and_gradient(x):
                    value0, gradient0 = value_and_gradient(x)
                    _check_finite_start(value0, gradient0)
                    return value0, gradient0
            elif callable(grad):
                def value_and_gradient(x):
                    return value(x), _as_gradient(grad(x), shape, "grad")
            else:
                raise TypeError(f"grad must be a callable, True or None, got {type(grad).__name__}")

        hessian = None
        if hess is not None:
            if not callable(hess):
                raise TypeError(f"hess must be callable, got {type(hess).__name__}")

            def hessian(x):
                return _as_hessian(hess(x), x.size, "hess")
        elif grad is None:
            # Without user derivatives, the Hessian comes from the tape as well
            # (forward-over-reverse on a recording of f at x).
            from .. import autodiff

            tape_hessian = autodiff.hessian(f)

            def hessian(x):
                return _as_hessian(tape_hessian(x), x.size, "f")

        free = _free_indices(fixed, shape, 1)
        return cls(x0, free, value, value_and_gradient, hessian, name="f",
                   start_value_and_gradient_fn=start_value_and_gradient)

    @classmethod
    def from_sum(cls, fun, n_elements, x0, hess=None, fixed=None):
        """Wrap an objective that is a sum of ``n_elements`` terms (elements).

        Parameters
        ----------
        fun : callable
            ``fun(x, element_indices) -> (value, gradient)``: the sum of the listed
            elements and its gradient shaped like x. The full objective is
            ``fun(x, arange(n_elements))``; a mini-batch B is scaled by
            ``n_elements / len(B)``.
        n_elements : int
            Number of elements.
        x0 : array_like
            Start point.
        hess : callable, optional
            ``hess(x)`` returns the Hessian of the full sum.
        fixed : array_like, optional
            As in `from_function`.
        """
        if not callable(fun):
            raise TypeError(f"fun must be callable, got {type(fun).__name__}")
        if isinstance(n_elements, bool) or not isinstance(n_elements, (int, np.integer)) \
                or n_elements < 1:
            raise ValueError(f"n_elements must be a positive integer, got {n_elements!r}")
        n_elements = int(n_elements)
        x0 = _as_start(x0)
        shape = x0.shape
        everything = np.arange(n_elements)

        def batch(x, indices):
            out = fun(x, indices)
            if not isinstance(out, tuple) or len(out) != 2:
                raise ValueError(f"fun must return (value, gradient), got {type(out).__name__}")
            return _as_value(out[0], "fun"), _as_gradient(out[1], shape, "fun")

        def value_and_gradient(x):
            return batch(x, everything)

        def value(x):
            return batch(x, everything)[0]

        hessian = None
        if hess is not None:
            if not callable(hess):
                raise TypeError(f"hess must be callable, got {type(hess).__name__}")

            def hessian(x):
                return _as_hessian(hess(x), x.size, "hess")

        free = _free_indices(fixed, shape, 1)
        return cls(x0, free, value, value_and_gradient, hessian, n_elements=n_elements,
                   batch_fn=batch, batch_scaled=False, name="fun")

    @classmethod
    def from_objective(cls, obj, x0, fixed=None):
        """Wrap a `dualtape.Objective` (or any object with the same methods).

        Uses ``obj.value(x)``, ``obj.value_and_gradient(x)``, ``obj.n_elements`` and
        ``obj.value_and_gradient_batch(x, element_indices)`` on full-shape x. The
        batch method returns the plain sum Σ_{e∈B} f_e over the listed elements, and
        this problem scales it by ``n_elements / len(B)``. ``obj.hessian(x)`` is
        used when present.

        ``fixed`` holds variable blocks at their ``x0`` values: a boolean mask shaped
        like x, or integer block indices. A block is a row of a 2-D ``x0``; for a
        flat ``x0`` it is ``obj.dim`` consecutive entries (1 when ``obj`` has no
        ``dim``). When ``fixed`` is None, the variables that ``obj`` itself fixes
        (``obj.free`` is False) are held instead.
        """
        for method in ("value", "value_and_gradient"):
            if not callable(getattr(obj, method, None)):
                raise TypeError(f"obj must have a method {method}(x); got {type(obj).__name__}")
        x0 = _as_start(x0)
        shape = x0.shape

        def value(x):
            return _as_value(obj.value(x), "obj.value")

        def value_and_gradient(x):
            out = obj.value_and_gradient(x)
            return (_as_value(out[0], "obj.value_and_gradient"),
                    _as_gradient(out[1], shape, "obj.value_and_gradient"))

        hessian = None
        if callable(getattr(obj, "hessian", None)):
            def hessian(x):
                return _as_hessian(obj.hessian(x), x.size, "obj.hessian")

        n_elements = getattr(obj, "n_elements", None)
        batch = None
        if n_elements is not None and callable(getattr(obj, "value_and_gradient_batch", None)):
            n_elements = int(n_elements)

            def batch(x, indices):
                out = obj.value_and_gradient_batch(x, indices)
                return (_as_value(out[0], "obj.value_and_gradient_batch"),
                        _as_gradient(out[1], shape, "obj.value_and_gradient_batch"))
        else:
            n_elements = None

        own_free = getattr(obj, "free", None)
        if fixed is None and own_free is not None and not np.all(own_free):
            fixed = ~np.asarray(own_free, dtype=bool).reshape(-1)

        if x0.ndim == 2:
            block_size = 1 if fixed is not None and np.asarray(fixed).dtype == bool else x0.shape[1]
        else:
            block_size = int(getattr(obj, "dim", 1) or 1)
        free = _free_indices(fixed, shape, block_size)
        return cls(x0, free, value, value_and_gradient, hessian, n_elements=n_elements,
                   batch_fn=batch, batch_scaled=False, name="obj")

    # -- free <-> full ------------------------------------------------------------

    @property
    def x0(self):
        """Start point as a flat vector of free variables."""
        return self.to_free(self._base)

    def at(self, x0):
        """Return a copy that starts at ``x0`` (fixed variables take its values), with zero counts."""
        problem = copy.copy(self)
        problem.nfev = problem.njev = problem.nhev = 0
        if x0 is None:
            return problem
        x0 = _as_start(x0)
        if x0.size != self._base.size:
            raise ValueError(f"x0 has {x0.size} entries (shape {x0.shape}), but the problem "
                             f"has {self._base.size} variables (shape {self.shape})")
        problem._base = x0.reshape(self.shape)
        return problem

    def to_full(self, z):
        """Return the caller's array x (shape `shape`) for the free variables ``z``."""
        if self._free is None:
            return np.array(z, dtype=np.float64).reshape(self.shape)
        x = self._base.copy().ravel()
        x[self._free] = z
        return x.reshape(self.shape)

    def to_free(self, x):
        """Return the flat vector of free variables of a full array ``x``."""
        flat = np.asarray(x, dtype=np.float64).ravel()
        if self._free is None:
            return flat.copy()
        return flat[self._free].copy()

    def pullback(self, z, full_gradient):
        """Map a gradient with respect to x (flat or shaped) to one with respect to ``z``."""
        flat = np.asarray(full_gradient, dtype=np.float64).ravel()
        if self._free is None:
            return flat.copy()
        return flat[self._free].copy()

    def result_gradient(self, z, gradient):
        """Return the gradient to report for ``z``: shaped like x, 0 at fixed variables."""
        if self._free is None:
            return np.array(gradient, dtype=np.float64).reshape(self.shape)
        full = np.zeros(self._base.size)
        full[self._free] = gradient
        return full.reshape(self.shape)

    # -- evaluation ------------------------------------------------------------------

    def _check_z(self, z):
        z = np.asarray(z, dtype=np.float64)
        if z.shape != (self.n,):
            raise ValueError(f"z must be a flat vector of the {self.n} free variables, got shape {z.shape}")
        return z

    def value(self, z):
        """Return f at the free variables ``z``."""
        x = self.to_full(self._check_z(z))
        self.nfev += 1
        return self._value_fn(x)

    def value_and_gradient(self, z):
        """Return f and its gradient with respect to ``z`` (flat, length `n`).

        A value or gradient that is not finite is returned as it is, so that the
        solvers reject the point. For a function differentiated through the tape,
        one that is not finite at the start point raises ValueError instead.
        """
        x = self.to_full(self._check_z(z))
        self.nfev += 1
        self.njev += 1
        evaluate = self._value_and_gradient_fn
        if self._start_value_and_gradient_fn is not None and np.array_equal(x, self._base):
            evaluate = self._start_value_and_gradient_fn
        f, g = evaluate(x)
        return f, self.pullback(z, g)

    @property
    def has_hessian(self):
        return self._hessian_fn is not None

    def hessian(self, z):
        """Return the Hessian with respect to ``z``: (n, n) ndarray or scipy.sparse CSR."""
        if self._hessian_fn is None:
            raise ValueError("this problem has no Hessian; pass hess= to Problem.from_function")
        x = self.to_full(self._check_z(z))
        self.nhev += 1
        matrix = self._hessian_fn(x)
        if self._free is None:
            return matrix
        if sp.issparse(matrix):
            return matrix[self._free][:, self._free].tocsr()
        return matrix[np.ix_(self._free, self._free)]

    def value_and_gradient_batch(self, z, element_indices):
        """Return the mini-batch estimate (n_elements / |B|) Σ_{e∈B} f_e and its gradient."""
        if self.n_elements is None:
            raise ValueError("this problem is not made of elements, so it has no mini-batches; "
                             "use batch_size=None (full batch)")
        indices = _check_element_indices(element_indices, self.n_elements)
        x = self.to_full(self._check_z(z))
        self.nfev += 1
        self.njev += 1
        f, g = self._batch_fn(x, indices)
        if not self._batch_scaled:
            scale = self.n_elements / indices.size
            f, g = f * scale, g * scale
        return f, self.pullback(z, g)


def _tape_value_and_grad(f, shape):
    """Differentiate ``f`` by recording it at each x, as ``dualtape.value_and_grad`` does.

    A value or gradient that is not finite is returned as it is, so that a line
    search can reject the point.
    """
    from .. import autodiff

    def value_and_gradient(x):
        recording = autodiff._record(f, (x,), {}, (0,), "dt.value_and_grad")
        value, gradient = recording.value_and_gradient(check_finite=False)
        return _as_value(value, "f"), _as_gradient(gradient, shape, "dualtape.value_and_grad(f)")

    return value_and_gradient


def _check_finite_start(value, gradient):
    """Raise ValueError unless f and its gradient are finite at the start point x0."""
    if not np.isfinite(value):
        raise ValueError(f"f(x0) = {value} is not finite; start from a point x0 where f is finite")
    bad = np.flatnonzero(~np.isfinite(gradient))
    if bad.size:
        raise ValueError(f"the gradient of f at x0 is not finite (entry {int(bad[0])} of the flattened gradient "
                         f"is {gradient.reshape(-1)[bad[0]]}); start from a point x0 where f is differentiable")
