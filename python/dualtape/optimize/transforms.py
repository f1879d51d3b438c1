"""Reparametrizations x = T(u) that turn simple constraints into unconstrained problems.

A solver minimizes g(u) = f(T(u)) over unconstrained u and reports x = T(u). The
chain rule gives

    ∇g(u)  = J(u)ᵀ ∇f(x)                         (`Transform.vjp`)
    ∇²g(u) = J(u)ᵀ ∇²f(x) J(u) + Σ_i ∂f/∂x_i ∇²T_i(u)   (`Transform.hessian`)

with J = ∂T/∂u. The transforms act on the flat vector of free variables.

- `Positive`: x > 0 by x = eᵘ ("exp"), x = log(1 + eᵘ) ("softplus"), or x ≥ 0 by
  x = u² ("square").
- `Interval`: low < x < high by x = low + (high − low) σ(u) with σ(u) = 1 / (1 + e⁻ᵘ).
- `Simplex`: x_i > 0, Σ x_i = 1 by x = softmax(u).

A transform maps the boundary to infinity (exp, softplus, sigmoid, softmax), so a
minimizer on the boundary is approached as u diverges and never reached exactly.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

__all__ = ["Transform", "Positive", "Interval", "Simplex"]


def _as_vector(x, argument):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{argument} must be a flat vector, got shape {x.shape}")
    return x


class Transform:
    """Base class: a map x = T(u) from unconstrained u to constrained x.

    Elementwise transforms (``elementwise = True``) implement `forward`, `inverse`,
    `derivative` (dx_i/du_i) and `second_derivative` (d²x_i/du_i²); the chain-rule
    methods follow from those.
    """

    elementwise = True

    def forward(self, u):
        """Return x = T(u)."""
        raise NotImplementedError

    def inverse(self, x):
        """Return u with T(u) = x; raise ValueError when x is outside the set."""
        raise NotImplementedError

    def derivative(self, u):
        raise NotImplementedError

    def second_derivative(self, u):
        raise NotImplementedError

    def vjp(self, u, gx):
        """Return J(u)ᵀ gx, the gradient with respect to u of a function with gradient gx in x."""
        return self.derivative(u) * gx

    def hessian(self, u, gx, hx):
        """Return the Hessian in u of a function with gradient ``gx`` and Hessian ``hx`` in x."""
        d = self.derivative(u)
        curvature = gx * self.second_derivative(u)
        if sp.issparse(hx):
            scale = sp.diags(d)
            return (scale @ hx @ scale + sp.diags(curvature)).tocsr()
        return d[:, None] * hx * d[None, :] + np.diag(curvature)

    def for_size(self, n, to_free=None, full_size=None):
        """Return this transform prepared for a free vector of length ``n``."""
        return self


class Positive(Transform):
    """Positive variables: x = eᵘ, x = log(1 + eᵘ) (softplus) or x = u² (x ≥ 0).

    "square" has dx/du = 0 at u = 0, so a start at x = 0 does not move.
    """

    KINDS = ("exp", "softplus", "square")

    def __init__(self, kind="exp"):
        if kind not in self.KINDS:
            raise ValueError(f"Positive: kind must be one of {self.KINDS}, got {kind!r}")
        self.kind = kind

    def __repr__(self):
        return f"Positive({self.kind!r})"

    def forward(self, u):
        with np.errstate(over="ignore"):
            if self.kind == "exp":
                return np.exp(u)
            if self.kind == "softplus":
                return np.logaddexp(0.0, u)
            return u * u

    def inverse(self, x):
        x = _as_vector(x, "x")
        if self.kind == "square":
            if np.any(x < 0):
                raise ValueError(f"Positive('square'): x must be >= 0, got min(x) = {x.min()}")
            return np.sqrt(x)
        if np.any(x <= 0):
            raise ValueError(f"Positive({self.kind!r}): x must be > 0, got min(x) = {x.min()}")
        if self.kind == "exp":
            return np.log(x)
        # u = log(eˣ − 1) = x + log(1 − e⁻ˣ), written to stay finite for large x.
        return x + np.log(-np.expm1(-x))

    def derivative(self, u):
        with np.errstate(over="ignore"):
            if self.kind == "exp":
                return np.exp(u)
            if self.kind == "softplus":
                return expit(u)
            return 2.0 * u

    def second_derivative(self, u):
        with np.errstate(over="ignore"):
            if self.kind == "exp":
                return np.exp(u)
            if self.kind == "softplus":
                s = expit(u)
                return s * (1.0 - s)
            return np.full_like(u, 2.0)


class Interval(Transform):
    """Bounded variables low < x < high by x = low + (high − low) σ(u).

    ``low`` and ``high`` are scalars or arrays with one entry per free variable (or
    per variable of the full x, which `for_size` maps to the free ones).
    """

    def __init__(self, low, high):
        low = np.asarray(low, dtype=np.float64)
        high = np.asarray(high, dtype=np.float64)
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError("Interval: low and high must be finite; use Positive for x > low")
        if np.any(np.broadcast_to(low, np.broadcast(low, high).shape) >=
                  np.broadcast_to(high, np.broadcast(low, high).shape)):
            raise ValueError(f"Interval: need low < high everywhere, got low = {low}, high = {high}")
        self.low = low
        self.high = high

    def __repr__(self):
        return f"Interval({self.low}, {self.high})"

    def for_size(self, n, to_free=None, full_size=None):
        bounds = []
        for name, value in (("low", self.low), ("high", self.high)):
            if value.ndim == 0 or value.size == n and value.ndim == 1:
                bounds.append(value)
            elif value.size == full_size and to_free is not None:
                bounds.append(to_free(value))
            else:
                raise ValueError(f"Interval: {name} has shape {value.shape}; expected a scalar, "
                                 f"({n},) for the free variables or the shape of x")
        return Interval(*bounds)

    def forward(self, u):
        return self.low + (self.high - self.low) * expit(u)

    def inverse(self, x):
        x = _as_vector(x, "x")
        if np.any(x <= self.low) or np.any(x >= self.high):
            raise ValueError("Interval: x must lie strictly between low and high; got "
                             f"x in [{x.min()}, {x.max()}] for low = {self.low}, high = {self.high}")
        t = (x - self.low) / (self.high - self.low)
        return np.log(t) - np.log1p(-t)

    def derivative(self, u):
        s = expit(u)
        return (self.high - self.low) * s * (1.0 - s)

    def second_derivative(self, u):
        s = expit(u)
        return (self.high - self.low) * s * (1.0 - s) * (1.0 - 2.0 * s)


class Simplex(Transform):
    """The probability simplex x_i > 0, Σ x_i = 1 by x = softmax(u).

    J = diag(x) − x xᵀ, so Jᵀg = x ⊙ (g − ⟨x, g⟩). `inverse` returns the u with
    Σ u_i = 0 (softmax is invariant to adding a constant to u).
    """

    elementwise = False

    def __repr__(self):
        return "Simplex()"

    def forward(self, u):
        shifted = np.exp(u - np.max(u))
        return shifted / shifted.sum()

    def inverse(self, x):
        x = _as_vector(x, "x")
        if np.any(x <= 0):
            raise ValueError(f"Simplex: x must be > 0, got min(x) = {x.min()}")
        total = x.sum()
        if abs(total - 1.0) > 1e-8 * x.size:
            raise ValueError(f"Simplex: x must sum to 1, got sum(x) = {total!r}")
        u = np.log(x)
        return u - u.mean()

    def vjp(self, u, gx):
        x = self.forward(u)
        return x * (gx - x @ gx)

    def hessian(self, u, gx, hx):
        # With c = ⟨x, g⟩: ∂²(gᵀx)/∂u_j∂u_k = δ_jk x_j (g_j − c) − x_j x_k (g_j + g_k − 2c).
        x = self.forward(u)
        centered = gx - x @ gx
        curvature = np.diag(x * centered) - np.outer(x, x) * (centered[:, None] + centered[None, :])
        jacobian = np.diag(x) - np.outer(x, x)
        hx = hx.toarray() if sp.issparse(hx) else hx
        return jacobian @ hx @ jacobian + curvature


class TransformedProblem:
    """A problem in the unconstrained variable u of ``transform``, with x_free = T(u).

    Presents the `Problem` interface. `result_gradient` returns the gradient with
    respect to x (not u), reusing the last few evaluations when possible.
    """

    _CACHE_SIZE = 4

    def __init__(self, problem, transform):
        if not isinstance(transform, Transform):
            raise TypeError(f"transform must be a dualtape.optimize.transforms.Transform "
                            f"(Positive, Interval, Simplex), got {type(transform).__name__}")
        self.base = problem
        self.transform = transform.for_size(problem.n, problem.to_free, int(np.prod(problem.shape)))
        self.shape = problem.shape
        self.n = problem.n
        self.n_elements = problem.n_elements
        self._x0 = self.transform.inverse(problem.x0)
        self._cache = []

    nfev = property(lambda self: self.base.nfev)
    njev = property(lambda self: self.base.njev)
    nhev = property(lambda self: self.base.nhev)

    @property
    def x0(self):
        return self._x0.copy()

    @property
    def has_hessian(self):
        return self.base.has_hessian

    def _remember(self, u, gx):
        self._cache.append((u.copy(), gx))
        del self._cache[:-self._CACHE_SIZE]

    def to_full(self, u):
        return self.base.to_full(self.transform.forward(u))

    def to_free(self, x):
        return self.transform.inverse(self.base.to_free(x))

    def pullback(self, u, full_gradient):
        return self.transform.vjp(u, self.base.pullback(self.transform.forward(u), full_gradient))

    def value(self, u):
        return self.base.value(self.transform.forward(u))

    def value_and_gradient(self, u):
        f, gx = self.base.value_and_gradient(self.transform.forward(u))
        self._remember(u, gx)
        return f, self.transform.vjp(u, gx)

    def value_and_gradient_batch(self, u, element_indices):
        f, gx = self.base.value_and_gradient_batch(self.transform.forward(u), element_indices)
        return f, self.transform.vjp(u, gx)

    def hessian(self, u):
        x = self.transform.forward(u)
        _, gx = self.base.value_and_gradient(x)
        return self.transform.hessian(u, gx, self.base.hessian(x))

    def result_gradient(self, u, gradient):
        """Return ∇f with respect to x at T(u), shaped like x (``gradient`` is in u)."""
        for cached_u, gx in reversed(self._cache):
            if np.array_equal(cached_u, u):
                return self.base.result_gradient(self.transform.forward(u), gx)
        _, gx = self.base.value_and_gradient(self.transform.forward(u))
        return self.base.result_gradient(self.transform.forward(u), gx)
