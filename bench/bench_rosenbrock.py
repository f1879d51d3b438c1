"""Time one gradient of the 2-D Rosenbrock function per call, in dualtape and its peers.

f(x) = (1 − x₀)² + 100 (x₁ − x₀²)² at x = (−1.2, 1.0). Every library computes the
same gradient (checked against the closed form before timing); what is timed is one
Python call that returns it:

- dualtape ``tape.gradient``: the function traced once by ``dt.trace``, then one
  reverse sweep in C++ per call.
- dualtape ``dt.grad``: the function recorded afresh at every call with real values
  (eager, so Python control flow on x works). The operators of the eager symbols
  record into a C++ program, which becomes a tape for one reverse sweep.
- JAX ``jit(grad(f))``, PyTorch autograd (tensor with requires_grad, backward) and
  HIPS autograd ``grad(f)``, each when importable; the others are skipped.

Each number is the median over --repeat runs of the mean time of --number calls.
``--clock process`` measures the CPU time of this process instead of wall-clock time,
which counts less of the time spent waiting for a core on a machine that other jobs
keep busy (caches shared with those jobs still slow it down).

Run: ``PYTHONPATH=python python bench/bench_rosenbrock.py``
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import timeit

import numpy as np

import dualtape as dt

X0 = np.array([-1.2, 1.0])


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def exact_gradient(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def dualtape_cases():
    tape = dt.trace(rosenbrock, 2)
    grad = dt.grad(rosenbrock)
    return [
        ("dualtape tape.gradient (traced once)", lambda: tape.gradient(X0)),
        ("dualtape dt.grad (recorded per call)", lambda: grad(X0)),
    ]


def jax_cases():
    try:
        import jax
    except ImportError:
        return [], "jax is not installed"
    jax.config.update("jax_enable_x64", True)
    x = jax.numpy.asarray(X0)
    jitted = jax.jit(jax.grad(rosenbrock))
    return [("JAX jit(grad(f))", lambda: jitted(x).block_until_ready())], None


def torch_cases():
    try:
        import torch
    except ImportError:
        return [], "torch is not installed"

    def gradient():
        x = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
        rosenbrock(x).backward()
        return x.grad.numpy()

    return [("PyTorch autograd (backward)", gradient)], None


def autograd_cases():
    try:
        import autograd
    except ImportError:
        return [], "autograd is not installed"
    grad = autograd.grad(rosenbrock)
    return [("HIPS autograd grad(f)", lambda: grad(X0))], None


def per_call_microseconds(function, number: int, repeat: int, timer) -> float:
    times = timeit.repeat(function, number=number, repeat=repeat, timer=timer)
    return statistics.median(times) / number * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per timed run (default: 2000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs; the median counts (default: 15)")
    parser.add_argument("--clock", choices=["wall", "process"], default="wall",
                        help="wall-clock time or CPU time of this process (default: wall)")
    args = parser.parse_args(argv)
    if args.number < 1 or args.repeat < 1:
        parser.error("--number and --repeat must be positive integers")

    cases = dualtape_cases()
    skipped = []
    for make in (jax_cases, torch_cases, autograd_cases):
        found, reason = make()
        cases += found
        if reason:
            skipped.append(reason)

    timer = time.perf_counter if args.clock == "wall" else time.process_time
    expected = exact_gradient(X0)
    results = {}
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {platform.machine()}, "
          f"{args.clock} clock")
    print(f"{'case':<42} {'µs per call':>12}")
    for name, function in cases:
        gradient = np.asarray(function(), dtype=float)
        if not np.allclose(gradient, expected, rtol=1e-12, atol=1e-12):
            raise RuntimeError(f"{name} returned {gradient}, expected {expected}")
        results[name] = per_call_microseconds(function, args.number, args.repeat, timer)
        print(f"{name:<42} {results[name]:12.2f}")
    for reason in skipped:
        print(f"skipped: {reason}")
    return results


if __name__ == "__main__":
    main()
