// Projected Newton: sparse Cholesky on the assembled, per-element projected Hessian.
#pragma once

#include "dualtape/stopping.hpp"
#include "dualtape/objective.hpp"

#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace dualtape {

struct NewtonOptions {
  int max_iterations = 100;
  /// Stop when the Newton decrement ½ dᵀH d = −½ gᵀd falls below this (units of f).
  double decrement_tolerance = 1e-10;
  /// Stop when ‖g‖₂ falls below this.
  double gradient_tolerance = 1e-8;
  Projection projection = Projection::Clamp;
  double eps = 1e-9;
  /// Armijo condition f(x + s d) ≤ f(x) + armijo · s · gᵀd.
  double armijo = 1e-4;
  /// Step factor after a rejected step.
  double shrink = 0.5;
  int max_line_search = 64;
};

using NewtonStatus = SolverStatus;

struct NewtonIteration {
  int iteration = 0;
  double f = 0.0;
  double gradient_norm = 0.0;
  double decrement = 0.0;
  double step = 0.0;
  int line_search_steps = 0;
  double regularization = 0.0;
  double seconds = 0.0;
};

struct NewtonResult {
  Eigen::VectorXd x;
  Eigen::VectorXd gradient;
  double f = 0.0;
  NewtonStatus status = NewtonStatus::MaxIterations;
  std::string message;
  int iterations = 0;
  int function_evaluations = 0;
  int hessian_evaluations = 0;
  std::vector<NewtonIteration> history;
};

/// Callback after each iteration: 0 to continue, 1 to stop, 2 for an interrupt.
using NewtonCallback = std::function<int(const NewtonIteration&, const Eigen::VectorXd&)>;

/// Minimize the objective from x0 by Newton's method with per-element projected
/// Hessians. Each iteration solves H d = −g with a sparse Cholesky factorization
/// whose symbolic analysis is computed once; if the numeric factorization fails
/// (H not positive definite, e.g. without projection), H + τI is tried with
/// τ = 1e-8 · mean |Hᵢᵢ| growing tenfold up to 20 times. The step length comes from
/// Armijo backtracking in which a non-finite f counts as a rejected step, so an
/// energy that is +inf outside its domain acts as a barrier. Stops when the Newton
/// decrement or the gradient norm falls below its tolerance, or after
/// max_iterations.
inline NewtonResult newton(const Objective& objective, Eigen::VectorXd x, const NewtonOptions& options,
                           const NewtonCallback& callback) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const CsrPattern& pattern = objective.pattern();
  const Eigen::Index n = objective.n();

  // The pattern is symmetric, so its CSR arrays are also the CSC arrays of the
  // same matrix: the Hessian is assembled straight into this matrix's values.
  Eigen::SparseMatrix<double, Eigen::ColMajor, std::int32_t> H(n, n);
  H.resizeNonZeros(pattern.nnz());
  std::copy(pattern.row_ptr.begin(), pattern.row_ptr.end(), H.outerIndexPtr());
  std::copy(pattern.col.begin(), pattern.col.end(), H.innerIndexPtr());
  Eigen::SimplicialLLT<Eigen::SparseMatrix<double, Eigen::ColMajor, std::int32_t>, Eigen::Lower> cholesky;
  cholesky.analyzePattern(H);

  NewtonResult result;
  Eigen::VectorXd g(n), d(n), x_trial(n);
  std::vector<double> diagonal_backup(n);

  auto finish = [&](NewtonStatus status, std::string message) {
    result.status = status;
    result.message = std::move(message);
    result.x = x;
    result.gradient = g;
    return result;
  };

  for (int iteration = 0;; ++iteration) {
    result.f = objective.hessian(x.data(), options.projection, options.eps, g.data(), H.valuePtr());
    result.function_evaluations++;
    result.hessian_evaluations++;
    result.iterations = iteration;
    if (!std::isfinite(result.f) || !g.allFinite())
      return finish(NewtonStatus::NonFinite, "objective or gradient is not finite at iteration " + std::to_string(iteration));
    const double gradient_norm = g.norm();

    NewtonIteration info;
    info.iteration = iteration;
    info.f = result.f;
    info.gradient_norm = gradient_norm;

    if (gradient_norm <= options.gradient_tolerance) {
      info.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      result.history.push_back(info);
      if (callback) callback(info, x);
      return finish(NewtonStatus::ConvergedGradient, "converged: gradient norm: ‖g‖₂ = " + format_number(gradient_norm) +
                                                         " <= gtol = " + format_number(options.gradient_tolerance));
    }
    if (iteration >= options.max_iterations) {
      info.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      result.history.push_back(info);
      if (callback) callback(info, x);
      return finish(NewtonStatus::MaxIterations, iteration_limit_message(options.max_iterations, "‖g‖₂", gradient_norm,
                                                                          options.gradient_tolerance));
    }

    // Factor H, adding τI to the diagonal while the factorization fails.
    double tau = 0.0;
    cholesky.factorize(H);
    if (cholesky.info() != Eigen::Success) {
      double mean_diagonal = 0.0;
      for (Eigen::Index r = 0; r < n; ++r) {
        diagonal_backup[r] = H.valuePtr()[pattern.diagonal[r]];
        mean_diagonal += std::abs(diagonal_backup[r]);
      }
      mean_diagonal = n > 0 ? mean_diagonal / double(n) : 1.0;
      tau = 1e-8 * (mean_diagonal > 0.0 ? mean_diagonal : 1.0);
      bool factored = false;
      for (int attempt = 0; attempt < 20 && !factored; ++attempt, tau *= 10.0) {
        for (Eigen::Index r = 0; r < n; ++r) H.valuePtr()[pattern.diagonal[r]] = diagonal_backup[r] + tau;
        cholesky.factorize(H);
        factored = cholesky.info() == Eigen::Success;
        if (factored) break;
      }
      if (!factored)
        return finish(NewtonStatus::LinearSolveFailed,
                      "sparse Cholesky factorization failed at iteration " + std::to_string(iteration) +
                          " even with regularization " + format_number(tau / 10.0) + " on the diagonal");
    }
    d = cholesky.solve(-g);
    const double slope = g.dot(d);
    const double decrement = -0.5 * slope;
    info.decrement = decrement;
    info.regularization = tau;

    if (!d.allFinite() || slope >= 0.0) {
      return finish(NewtonStatus::LinearSolveFailed,
                    "the Newton direction is not a descent direction at iteration " + std::to_string(iteration) +
                        " (gᵀd = " + format_number(slope) + ")");
    }
    if (decrement < options.decrement_tolerance) {
      info.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      result.history.push_back(info);
      if (callback) callback(info, x);
      return finish(NewtonStatus::ConvergedDecrement, "converged: Newton decrement: ½ gᵀH̃⁻¹g = " + format_number(decrement) +
                                                          " < tol = " + format_number(options.decrement_tolerance));
    }

    // Armijo backtracking; a non-finite f is a rejected step.
    double step = 1.0;
    bool accepted = false;
    int tries = 0;
    for (; tries < options.max_line_search; ++tries) {
      x_trial = x + step * d;
      const double f_trial = objective.value(x_trial.data());
      result.function_evaluations++;
      if (std::isfinite(f_trial) && f_trial <= result.f + options.armijo * step * slope) {
        accepted = true;
        break;
      }
      step *= options.shrink;
    }
    info.step = step;
    info.line_search_steps = tries + 1;
    info.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.history.push_back(info);
    if (!accepted) {
      return finish(NewtonStatus::LineSearchFailed, "line search found no decrease after " +
                                                        std::to_string(options.max_line_search) +
                                                        " steps at iteration " + std::to_string(iteration));
    }
    x = x_trial;
    if (callback) {
      const int request = callback(info, x);
      if (request == 1) {
        result.f = objective.value_and_gradient(x.data(), g.data());
        result.iterations = iteration + 1;
        return finish(NewtonStatus::CallbackStop, "stopped by callback at iteration " + std::to_string(iteration + 1));
      }
      if (request == 2) {
        result.f = objective.value_and_gradient(x.data(), g.data());
        result.iterations = iteration + 1;
        return finish(NewtonStatus::Interrupted, "interrupted at iteration " + std::to_string(iteration + 1));
      }
    }
  }
}

}  // namespace dualtape
