"""First-order methods: gradient descent and the stochastic methods of machine learning.

Each update uses the gradient g_k at the current iterate x_k (a mini-batch estimate
when ``batch_size`` is set) and the learning rate η_k of the schedule:

- gd, sgd:   x ← x − η g
- momentum:  v ← μ v − η g,  x ← x + v                     (heavy ball, Polyak)
- nesterov:  v ← μ v − η g,  x ← x + μ v − η g
  This is Sutskever's form v ← μ v − η ∇f(θ + μ v), θ ← θ + v written in the
  variable x = θ + μ v, so that the gradient is taken at the reported iterate.
- rmsprop:   s ← ρ s + (1 − ρ) g²,  x ← x − η g / (√s + ε)
- adam:      m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
             m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ),  x ← x − η m̂ / (√v̂ + ε).
  The bias correction makes the first step η·g/(|g| + ε),
  which is close to η in every coordinate.

"gd" also takes ``line_search="armijo"`` or ``"wolfe"``; then the step along −g is
chosen by `dualtape.optimize.line_search` and ``lr`` is not used.

Stopping: the fixed-step methods ("sgd", "momentum", "nesterov", "rmsprop", "adam"
and "gd" with ``line_search="fixed"``) default to ``xtol = ftol = 0``, so only the
gradient test and the iteration limits end them. A fixed step that jumps back and
forth across the minimizer keeps f and ‖dx‖ unchanged, which the function and
step tests would take for convergence. "gd" with a line search decreases f in
every iteration and uses all three tests.

Mini-batches: with ``batch_size`` set and a problem made of elements, each epoch
draws a random permutation of the elements (generator seeded by ``seed``). It walks
through the permutation in batches of ``batch_size``, so one epoch touches every
element once, and the last batch of an epoch may be smaller. The per-iteration ``fun`` and
``grad_norm`` are then the mini-batch estimates at the iterate before the step. The
stopping tests use the full objective, evaluated at the end of each epoch and
recorded in ``history["epoch_fun"]`` and ``history["epoch_grad_norm"]``.
"""

from __future__ import annotations

import math

import numpy as np

from ..result import Status
from . import line_search as ls
from ._driver import (COMMON_DEFAULTS, Recorder, StoppingTests, callback_stop_message,
                      check_float, check_int, check_options, is_finite,
                      max_iterations_message, non_finite_message, norm_inf)

__all__ = ["gd", "sgd", "momentum", "nesterov", "rmsprop", "adam", "make_schedule"]

_SCHEDULE_DEFAULTS = {"lr": 1e-3, "schedule": "constant", "decay_rate": 0.5, "decay_steps": 100}
# A fixed step that jumps back and forth across a minimizer leaves f and |dx|
# unchanged from one iteration to the next, so the function and step tests would
# report convergence there. The fixed-step methods therefore test only the gradient
# unless the caller sets ftol or xtol.
_STOCHASTIC_DEFAULTS = {**COMMON_DEFAULTS, **_SCHEDULE_DEFAULTS, "maxiter": None,
                        "xtol": 0.0, "ftol": 0.0, "batch_size": None, "epochs": None,
                        "seed": None}


def make_schedule(lr, schedule="constant", decay_rate=0.5, decay_steps=100):
    """Return the learning rate η_k as a function of the iteration k = 0, 1, ...

    - "constant":     η_k = lr
    - "inverse-time": η_k = lr / (1 + decay_rate · k / decay_steps)
    - "exponential":  η_k = lr · decay_rate^(k / decay_steps)
    - a callable ``schedule(k) -> float`` is used as given; ``lr`` is ignored.
    """
    lr = check_float("lr", lr, low=0.0, low_open=True)
    if callable(schedule):
        def rate(k):
            value = schedule(k)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
                    or not math.isfinite(value) or value <= 0:
                raise ValueError(f"the schedule returned {value!r} at iteration {k}; "
                                 "expected a positive finite learning rate")
            return float(value)
        return rate

    decay_steps = check_float("decay_steps", decay_steps, low=0.0, low_open=True)
    if schedule == "constant":
        return lambda k: lr
    if schedule == "inverse-time":
        decay_rate = check_float("decay_rate", decay_rate, low=0.0)
        return lambda k: lr / (1.0 + decay_rate * k / decay_steps)
    if schedule == "exponential":
        decay_rate = check_float("decay_rate", decay_rate, low=0.0, high=1.0, low_open=True)
        return lambda k: lr * decay_rate ** (k / decay_steps)
    raise ValueError(f"option schedule must be 'constant', 'inverse-time', 'exponential' or "
                     f"a callable of the iteration, got {schedule!r}")


# -- update rules: each returns the step dz from the gradient g and rate lr ----------

class _Plain:
    columns = []

    def __init__(self, n, options):
        pass

    def step(self, g, lr):
        return -lr * g


class _Momentum:
    nesterov = False

    def __init__(self, n, options):
        self.mu = check_float("momentum", options["momentum"], low=0.0, high=1.0, high_open=True)
        self.v = np.zeros(n)

    def step(self, g, lr):
        self.v = self.mu * self.v - lr * g
        if self.nesterov:
            return self.mu * self.v - lr * g
        return self.v.copy()


class _Nesterov(_Momentum):
    nesterov = True


class _RMSProp:
    def __init__(self, n, options):
        self.rho = check_float("rho", options["rho"], low=0.0, high=1.0, high_open=True)
        self.eps = check_float("eps", options["eps"], low=0.0)
        self.s = np.zeros(n)

    def step(self, g, lr):
        self.s = self.rho * self.s + (1.0 - self.rho) * g * g
        return -lr * g / (np.sqrt(self.s) + self.eps)


class _Adam:
    def __init__(self, n, options):
        self.beta1 = check_float("beta1", options["beta1"], low=0.0, high=1.0, high_open=True)
        self.beta2 = check_float("beta2", options["beta2"], low=0.0, high=1.0, high_open=True)
        self.eps = check_float("eps", options["eps"], low=0.0)
        self.m = np.zeros(n)
        self.v = np.zeros(n)
        self.t = 0

    def step(self, g, lr):
        self.t += 1
        self.m = self.beta1 * self.m + (1.0 - self.beta1) * g
        self.v = self.beta2 * self.v + (1.0 - self.beta2) * g * g
        m_hat = self.m / (1.0 - self.beta1 ** self.t)
        v_hat = self.v / (1.0 - self.beta2 ** self.t)
        return -lr * m_hat / (np.sqrt(v_hat) + self.eps)


_RULES = {
    "sgd": (_Plain, {}),
    "momentum": (_Momentum, {"momentum": 0.9}),
    "nesterov": (_Nesterov, {"momentum": 0.9}),
    "rmsprop": (_RMSProp, {"rho": 0.9, "eps": 1e-8}),
    "adam": (_Adam, {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
}

# Methods that divide the step by a running root mean square of g, so that one step
# moves each variable by about lr whatever the scale of the gradient.
_NORMALIZED_STEP_NAMES = {"adam": "Adam", "rmsprop": "RMSProp"}

_COLUMNS = [("lr", "10.3e")]
_BATCH_COLUMNS = [("epoch", "6d"), ("lr", "10.3e")]


def _iteration_limits(options, mini_batch):
    """Return (maxiter, epochs); None means unlimited. Neither set: maxiter = 1000."""
    maxiter, epochs = options["maxiter"], options["epochs"]
    if epochs is not None:
        epochs = check_int("epochs", epochs, low=1)
        if not mini_batch:
            raise ValueError("option epochs needs batch_size (mini-batches); with a full batch "
                             "one epoch is one iteration, so use maxiter")
    if maxiter is None and epochs is None:
        maxiter = COMMON_DEFAULTS["maxiter"]
    return maxiter, epochs


def _batch_size(options, problem):
    size = options["batch_size"]
    if size is None:
        return None
    size = check_int("batch_size", size, low=1)
    if problem.n_elements is None:
        raise ValueError("option batch_size needs a problem made of elements (an Objective or "
                         "Problem.from_sum); a plain function is always evaluated on its "
                         "full batch, so leave batch_size=None")
    if size > problem.n_elements:
        raise ValueError(f"option batch_size = {size} exceeds the number of elements "
                         f"{problem.n_elements}")
    return size


def _stochastic(method, problem, options, callback, verbose):
    """Run one of the update rules of ``_RULES`` on full batches or mini-batches."""
    rule_class, rule_defaults = _RULES[method]
    options = check_options(method, options, {**_STOCHASTIC_DEFAULTS, **rule_defaults})
    rule = rule_class(problem.n, options)
    schedule = make_schedule(options["lr"], options["schedule"], options["decay_rate"],
                             options["decay_steps"])
    batch_size = _batch_size(options, problem)
    maxiter, epochs = _iteration_limits(options, batch_size is not None)
    if options["seed"] is not None:
        check_int("seed", options["seed"], low=0)
    tests = StoppingTests(options["gtol"], options["xtol"], options["ftol"])

    if batch_size is None:
        return _full_batch(method, problem, rule, schedule, maxiter, tests, callback, verbose)
    return _mini_batch(method, problem, rule, schedule, maxiter, epochs, batch_size,
                       options["seed"], tests, callback, verbose)


def _start(recorder, problem, z, extra_row):
    """Evaluate the start point; return (f, g, finished result or None)."""
    f, g = problem.value_and_gradient(z)
    if not is_finite(f, g):
        message = non_finite_message("at the start point", f, g)
        return f, g, recorder.result(z, f, g, Status.NON_FINITE, message, nit=0)
    stop = recorder.iteration(0, z, f, g, math.nan, **extra_row)
    return f, g, None if not stop else recorder.result(
        z, f, g, Status.CALLBACK_STOP, callback_stop_message(0), nit=0)


def _full_batch(method, problem, rule, schedule, maxiter, tests, callback, verbose):
    recorder = Recorder(method, problem, callback, verbose, _COLUMNS)
    z = problem.x0
    f, g, done = _start(recorder, problem, z, {"lr": schedule(0)})
    if done is not None:
        return done
    met = tests.gradient(norm_inf(g))
    if met:
        return recorder.result(z, f, g, *met, nit=0)

    for k in range(maxiter):
        lr = schedule(k)
        dz = rule.step(g, lr)
        z_new = z + dz
        f_new, g_new = problem.value_and_gradient(z_new)
        if not is_finite(f_new, g_new):
            message = non_finite_message(f"at iteration {k + 1}; x is the last finite iterate",
                                         f_new, g_new)
            return recorder.result(z, f, g, Status.NON_FINITE, message, nit=k)

        stop = recorder.iteration(k + 1, z_new, f_new, g_new, norm_inf(dz), lr=lr)
        met = tests.after_step(f, f_new, dz, z_new, norm_inf(g_new))
        z, f, g = z_new, f_new, g_new
        if met:
            return recorder.result(z, f, g, *met, nit=k + 1)
        if stop:
            return recorder.result(z, f, g, Status.CALLBACK_STOP, callback_stop_message(k + 1),
                                   nit=k + 1)

    message = max_iterations_message(f"maxiter = {maxiter}", norm_inf(g), tests.gtol,
                                     _fixed_step_advice(method, "maxiter", schedule(maxiter - 1)))
    return recorder.result(z, f, g, Status.MAX_ITERATIONS, message, nit=maxiter)


def _fixed_step_advice(method, limit_option, last_lr):
    """Return what to change when a fixed-step method reaches its iteration limit."""
    advice = f"Raise {limit_option}, or tune lr (the last step used lr = {last_lr:.3e})."
    if method in _NORMALIZED_STEP_NAMES:
        advice += f" {_NORMALIZED_STEP_NAMES[method]} moves each variable by about lr per iteration."
    return advice


def _mini_batch(method, problem, rule, schedule, maxiter, epochs, batch_size, seed, tests,
                callback, verbose):
    recorder = Recorder(method, problem, callback, verbose, _BATCH_COLUMNS)
    recorder.history["epoch_fun"] = []
    recorder.history["epoch_grad_norm"] = []
    rng = np.random.default_rng(seed)
    n_elements = problem.n_elements

    z = problem.x0
    f, g, done = _start(recorder, problem, z, {"epoch": 0, "lr": schedule(0)})
    if done is not None:
        return done
    recorder.history["epoch_fun"].append(f)
    recorder.history["epoch_grad_norm"].append(norm_inf(g))
    met = tests.gradient(norm_inf(g))
    if met:
        return recorder.result(z, f, g, *met, nit=0)

    k = 0
    epoch = 0
    while epochs is None or epoch < epochs:
        epoch += 1
        z_epoch, f_epoch = z, f
        order = rng.permutation(n_elements)
        for begin in range(0, n_elements, batch_size):
            if maxiter is not None and k >= maxiter:
                break
            f_batch, g_batch = problem.value_and_gradient_batch(z, order[begin:begin + batch_size])
            if not is_finite(f_batch, g_batch):
                message = non_finite_message(
                    f"in the mini-batch at iteration {k + 1}; x is the last iterate whose full "
                    f"objective was finite (end of epoch {epoch - 1})", f_batch, g_batch)
                return recorder.result(z_epoch, f_epoch, g, Status.NON_FINITE, message, nit=k)

            lr = schedule(k)
            dz = rule.step(g_batch, lr)
            z = z + dz
            k += 1
            if recorder.iteration(k, z, f_batch, g_batch, norm_inf(dz), epoch=epoch, lr=lr):
                f, g = problem.value_and_gradient(z)
                return recorder.result(z, f, g, Status.CALLBACK_STOP, callback_stop_message(k),
                                       nit=k)

        f_new, g_new = problem.value_and_gradient(z)
        if not is_finite(f_new, g_new):
            message = non_finite_message(
                f"in the full objective after epoch {epoch}; x is the iterate of the end of "
                f"epoch {epoch - 1}", f_new, g_new)
            return recorder.result(z_epoch, f_epoch, g, Status.NON_FINITE, message, nit=k)
        recorder.history["epoch_fun"].append(f_new)
        recorder.history["epoch_grad_norm"].append(norm_inf(g_new))

        met = tests.after_step(f_epoch, f_new, z - z_epoch, z, norm_inf(g_new))
        f, g = f_new, g_new
        if met:
            return recorder.result(z, f, g, *met, nit=k)
        if maxiter is not None and k >= maxiter:
            message = max_iterations_message(f"maxiter = {maxiter}", norm_inf(g), tests.gtol,
                                             _fixed_step_advice(method, "maxiter", schedule(k - 1)))
            return recorder.result(z, f, g, Status.MAX_ITERATIONS, message, nit=k)

    message = max_iterations_message(f"epochs = {epochs} ({k} iterations)", norm_inf(g), tests.gtol,
                                     _fixed_step_advice(method, "epochs", schedule(k - 1)))
    return recorder.result(z, f, g, Status.MAX_ITERATIONS, message, nit=k)


def sgd(problem, options=None, callback=None, verbose=0):
    """Minimize by (stochastic) gradient descent x ← x − η g with a learning-rate schedule."""
    return _stochastic("sgd", problem, options, callback, verbose)


def momentum(problem, options=None, callback=None, verbose=0):
    """Minimize by gradient descent with heavy-ball momentum (option ``momentum`` = μ, 0.9)."""
    return _stochastic("momentum", problem, options, callback, verbose)


def nesterov(problem, options=None, callback=None, verbose=0):
    """Minimize by Nesterov's accelerated gradient (option ``momentum`` = μ, 0.9)."""
    return _stochastic("nesterov", problem, options, callback, verbose)


def rmsprop(problem, options=None, callback=None, verbose=0):
    """Minimize by RMSProp (options ``rho`` 0.9, ``eps`` 1e-8, ``lr`` 1e-3).

    Like Adam, RMSProp moves each variable by about ``lr`` per iteration, so the
    guidance on ``lr`` and ``maxiter`` in `adam` applies here too.
    """
    return _stochastic("rmsprop", problem, options, callback, verbose)


def adam(problem, options=None, callback=None, verbose=0):
    """Minimize by Adam with bias correction (lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8).

    The defaults are the conventional ones: ``torch.optim.Adam`` uses the same
    (PyTorch 2.1). They suit training a model on mini-batches, where small steps
    average out the noise of the gradient, and are slow on small deterministic
    problems. While g keeps its sign, the bias-corrected step m̂ / (√v̂ + ε) is
    close to ±1 in every variable, so one iteration moves each variable by about
    ``lr`` whatever the scale of the gradient. Reaching a minimizer at distance D
    in some variable therefore takes about D / lr iterations or more, and the
    defaults (lr 1e-3, maxiter 1000) cover a distance of about 1. For example, on
    f(x) = (x₀ − 3)² + 2 (x₁ + 1)² from x = 0 the defaults stop at x₀ ≈ 0.92 on
    the iteration limit, while ``lr=0.1`` converges to gtol = 1e-6 in 280
    iterations. So:

    - set ``lr`` to a few percent of the distance that x has to travel, or raise
      ``maxiter`` (``epochs`` with mini-batches);
    - with mini-batches, let ``schedule`` ("inverse-time" or "exponential") decay
      ``lr`` to settle into the minimum;
    - on a smooth deterministic objective prefer "lbfgs" or "newton", which need
      no learning rate and far fewer iterations.

    A run that stops on ``maxiter`` or ``epochs`` has ``success`` False, and its
    message states the limit and the final max |g_i| against gtol.
    """
    return _stochastic("adam", problem, options, callback, verbose)


_GD_DEFAULTS = {**COMMON_DEFAULTS, **_SCHEDULE_DEFAULTS, "line_search": "armijo",
                "c1": 1e-4, "c2": 0.9, "max_line_search": 50}


def gd(problem, options=None, callback=None, verbose=0):
    """Minimize by full-batch gradient descent along d = −g.

    Options: ``line_search`` is "armijo" (default), "wolfe" or "fixed". A fixed step
    uses ``lr`` and its ``schedule`` as "sgd" does. The searches try
    t₀ = t_{k−1} ‖g_{k−1}‖² / ‖g_k‖² first (t₀ = 1/‖g₀‖₂, at most 1, on the first
    iteration), with constants ``c1`` and ``c2`` and at most ``max_line_search``
    trials per iteration.
    """
    user_options = options or {}
    options = check_options("gd", options, _GD_DEFAULTS)
    kind = options["line_search"]
    if kind == "fixed":
        fixed = {key: options[key] for key in ("maxiter", "gtol", "lr", "schedule", "decay_rate",
                                               "decay_steps")}
        fixed["xtol"] = options["xtol"] if "xtol" in user_options else 0.0
        fixed["ftol"] = options["ftol"] if "ftol" in user_options else 0.0
        rule = _Plain(problem.n, fixed)
        schedule = make_schedule(fixed["lr"], fixed["schedule"], fixed["decay_rate"],
                                 fixed["decay_steps"])
        tests = StoppingTests(fixed["gtol"], fixed["xtol"], fixed["ftol"])
        return _full_batch("gd", problem, rule, schedule, fixed["maxiter"], tests, callback, verbose)
    if kind not in ("armijo", "wolfe"):
        raise ValueError(f"option line_search must be 'fixed', 'armijo' or 'wolfe', got {kind!r}")

    c1 = check_float("c1", options["c1"], low=0.0, high=1.0, low_open=True, high_open=True)
    c2 = check_float("c2", options["c2"], low=c1, high=1.0, low_open=True, high_open=True)
    max_trials = check_int("max_line_search", options["max_line_search"], low=1)
    maxiter = options["maxiter"]
    tests = StoppingTests(options["gtol"], options["xtol"], options["ftol"])

    def search(z, f, g, d, t0):
        if kind == "armijo":
            return ls.armijo(problem, z, f, g, d, t0=t0, c1=c1, max_trials=max_trials)
        return ls.strong_wolfe(problem, z, f, g, d, t0=t0, c1=c1, c2=c2, max_trials=max_trials)

    return descent_loop("gd", problem, lambda z, g: -g, search, maxiter, tests, callback, verbose)


def _first_trial_step(d):
    """Return min(1, 1/‖d‖₂), so that the first trial moves x by at most 1."""
    return min(1.0, 1.0 / max(float(np.linalg.norm(d)), 1e-300))


def descent_loop(method, problem, direction, search, maxiter, tests, callback, verbose,
                 unit_step=False, on_step=None, on_failure=None):
    """Run x ← x + t d with d = direction(z, g) and t from ``search``.

    The first trial step is t = 1 when ``unit_step`` (quasi-Newton directions are
    scaled already), else t_{k−1} g_{k−1}ᵀd_{k−1} / g_kᵀd_k.

    ``on_step(z, g, z_new, g_new)`` is called after every accepted step (L-BFGS stores its pair
    there). ``on_failure()`` is called when a search fails; returning True retries the
    iteration once (L-BFGS then restarts from steepest descent).
    """
    recorder = Recorder(method, problem, callback, verbose, [("alpha", "10.3e")])
    z = problem.x0
    f, g, done = _start(recorder, problem, z, {})
    if done is not None:
        return done
    met = tests.gradient(norm_inf(g))
    if met:
        return recorder.result(z, f, g, *met, nit=0)

    previous = None
    for k in range(maxiter):
        d = direction(z, g)
        slope = float(g @ d)
        if previous is None:
            t0 = _first_trial_step(d)
        elif unit_step:
            t0 = 1.0
        else:
            # Expect the same first-order decrease t·gᵀd as in the previous iteration.
            t_prev, slope_prev = previous
            t0 = t_prev * slope_prev / slope
        result = search(z, f, g, d, t0)
        if not result.success and on_failure is not None and on_failure():
            d = direction(z, g)
            slope = float(g @ d)
            result = search(z, f, g, d, _first_trial_step(d))
        if not result.success:
            status = Status.NON_FINITE if result.all_non_finite else Status.LINE_SEARCH_FAILED
            message = f"{Status.NAMES[status]} at iteration {k + 1}: {result.message}"
            return recorder.result(z, f, g, status, message, nit=k)

        z_new, f_new, g_new = result.z, result.f, result.g
        dz = z_new - z
        if on_step is not None:
            on_step(z, g, z_new, g_new)
        stop = recorder.iteration(k + 1, z_new, f_new, g_new, norm_inf(dz), alpha=result.step)
        met = tests.after_step(f, f_new, dz, z_new, norm_inf(g_new))
        previous = (result.step, slope)
        z, f, g = z_new, f_new, g_new
        if met:
            return recorder.result(z, f, g, *met, nit=k + 1)
        if stop:
            return recorder.result(z, f, g, Status.CALLBACK_STOP, callback_stop_message(k + 1),
                                   nit=k + 1)

    return recorder.result(z, f, g, Status.MAX_ITERATIONS,
                           max_iterations_message(f"maxiter = {maxiter}", norm_inf(g), tests.gtol),
                           nit=maxiter)
