// Nonlinear least squares: Levenberg-Marquardt and Gauss-Newton on the normal
// equations, with a sparse Cholesky factorization whose symbolic analysis is
// computed once.
//
// The problem is   minimize F(x) = ½ Σ_k C² ρ(r_k(x)² / C²)   over the free variables,
// with ρ(s) = s for the linear loss (then F = ½‖r‖²) and C the loss scale f_scale.
// Robust losses enter by iteratively reweighted residuals: at x, with weights
// w_k = ρ'(r_k² / C²), the model of F is ½‖W^½ (r + J δ)‖², so each iteration solves
//
//     (JᵀWJ + μ D) δ = −JᵀWr                  (Levenberg-Marquardt, μ > 0)
//     JᵀWJ δ = −JᵀWr                          (Gauss-Newton)
//
// where g = JᵀWr is the exact gradient of F. D is diag(JᵀWJ) with each entry
// replaced by the largest value it has taken so far, as in the scaling of MINPACK's
// lmder. A variable whose column of J has been zero at every iterate gets 1. This
// clamps D from below and keeps μD positive definite.
#pragma once

#include "dualtape/stopping.hpp"
#include "dualtape/residuals.hpp"

#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace dualtape {

enum class LeastSquaresMethod { LevenbergMarquardt, GaussNewton };

/// Rule by which Levenberg-Marquardt sets the damping μ of each iteration.
enum class DampingUpdate {
  /// A bound Δ on the scaled step length ‖D^½ δ‖₂, updated from the gain ratio; μ
  /// solves ‖D^½ δ(μ)‖₂ = Δ to 10 %, as in MINPACK's lmder and lmpar.
  TrustRegion,
  /// μ scaled directly by the gain ratio (Nielsen's update).
  Nielsen,
};

inline DampingUpdate parse_damping_update(const std::string& name) {
  if (name == "trust-region") return DampingUpdate::TrustRegion;
  if (name == "nielsen") return DampingUpdate::Nielsen;
  throw std::invalid_argument("damping must be 'trust-region' or 'nielsen'; got '" + name + "'");
}

/// Loss ρ(s) of a squared, scaled residual s = r² / C².
enum class Loss {
  Linear,  ///< ρ(s) = s
  Huber,   ///< ρ(s) = s for s ≤ 1, 2√s − 1 otherwise
  SoftL1,  ///< ρ(s) = 2(√(1 + s) − 1)
  Cauchy,  ///< ρ(s) = log(1 + s)
};

inline Loss parse_loss(const std::string& name) {
  if (name == "linear") return Loss::Linear;
  if (name == "huber") return Loss::Huber;
  if (name == "soft_l1") return Loss::SoftL1;
  if (name == "cauchy") return Loss::Cauchy;
  throw std::invalid_argument("loss must be 'linear', 'huber', 'soft_l1' or 'cauchy'; got '" + name + "'");
}

/// ρ(s) and ρ'(s) of a loss.
inline void loss_value(Loss loss, double s, double& rho, double& derivative) {
  switch (loss) {
    case Loss::Linear:
      rho = s;
      derivative = 1.0;
      return;
    case Loss::Huber:
      if (s <= 1.0) {
        rho = s;
        derivative = 1.0;
      } else {
        const double root = std::sqrt(s);
        rho = 2.0 * root - 1.0;
        derivative = 1.0 / root;
      }
      return;
    case Loss::SoftL1: {
      const double root = std::sqrt(1.0 + s);
      rho = 2.0 * (root - 1.0);
      derivative = 1.0 / root;
      return;
    }
    case Loss::Cauchy:
      rho = std::log1p(s);
      derivative = 1.0 / (1.0 + s);
      return;
  }
}

struct LeastSquaresOptions {
  LeastSquaresMethod method = LeastSquaresMethod::LevenbergMarquardt;
  int max_iterations = 100;
  /// Gradient test: ‖JᵀWr‖∞ ≤ gtol.
  double gtol = 1e-8;
  /// Step test: ‖δ‖₂ ≤ xtol (‖x‖₂ + xtol).
  double xtol = 1e-8;
  /// Cost test on an accepted step: both the actual and the predicted decrease of F
  /// are at most ftol · F.
  double ftol = 1e-8;
  Loss loss = Loss::Linear;
  double f_scale = 1.0;
  DampingUpdate damping = DampingUpdate::TrustRegion;
  /// Nielsen: μ at the first iteration, relative to the scaled normal matrix (whose diagonal is ≤ 1).
  double initial_damping = 1e-3;
  /// Trust region: Δ₀ = initial_step_bound · ‖D^½ x0‖₂, or initial_step_bound itself if
  /// that norm is 0 (MINPACK's `factor`, whose documented default is 100).
  double initial_step_bound = 100.0;
  /// LM: add the geodesic acceleration ½a to the step (Transtrum and Sethna, 2012).
  bool geodesic_acceleration = false;
  /// Geodesic acceleration: J(x + h δ) is evaluated at h = acceleration_probe to
  /// estimate the second directional derivative of r along δ.
  double acceleration_probe = 0.02;
  /// Geodesic acceleration: a step with 2‖D^½ a‖ / ‖D^½ δ‖ above this is rejected.
  double max_acceleration_ratio = 0.75;
  /// Gauss-Newton: halvings of the step before the line search gives up.
  int max_backtracks = 40;
};

using LeastSquaresStatus = SolverStatus;

struct LeastSquaresIteration {
  int iteration = 0;
  double cost = 0.0;
  double gradient_norm = 0.0;  ///< ‖g‖∞ at the iterate before the step
  double step_norm = 0.0;      ///< ‖δ‖₂ of the step tried
  double damping = 0.0;        ///< μ (LM), or the Levenberg shift of a rank-deficient Gauss-Newton solve
  double gain_ratio = 0.0;     ///< actual / predicted decrease of F (LM), step length (Gauss-Newton)
  bool accepted = false;
  double seconds = 0.0;
};

struct LeastSquaresResult {
  Eigen::VectorXd x;
  Eigen::VectorXd residuals;       ///< r(x), unweighted
  std::vector<double> jacobian;    ///< CSR values of J(x), unweighted, fixed columns included
  Eigen::VectorXd gradient;        ///< JᵀWr over all variables, 0 at fixed ones
  double cost = 0.0;
  LeastSquaresStatus status = LeastSquaresStatus::MaxIterations;
  std::string message;
  int iterations = 0;
  int function_evaluations = 0;
  int jacobian_evaluations = 0;
  int shifted_solves = 0;  ///< Gauss-Newton solves that needed a Levenberg shift
  int factorizations = 0;  ///< sparse Cholesky factorizations of the normal equations
  /// LM steps rejected because the geodesic acceleration was too large against the step
  int rejected_accelerations = 0;
  std::vector<LeastSquaresIteration> history;
};

/// Callback after each iteration: 0 to continue, 1 to stop, 2 for an interrupt.
using LeastSquaresCallback = std::function<int(const LeastSquaresIteration&, const Eigen::VectorXd&)>;

namespace detail {

/// JᵀWJ and JᵀWr over the free variables, assembled into a pattern fixed at
/// construction. Row i of JᵀWJ sums w_k J_ki J_kj over the rows k of J with an
/// entry in free column i. Rows are assembled in parallel and each is written by
/// one thread, so the result does not depend on the thread count.
class NormalEquations {
 public:
  NormalEquations(const JacobianPattern& jacobian, const std::vector<std::uint8_t>& fixed) : jacobian_(jacobian) {
    const std::int64_t n = jacobian.cols;
    free_index_.assign(size_t(n), -1);
    for (std::int64_t j = 0; j < n; ++j)
      if (!fixed[j]) free_index_[j] = std::int32_t(n_free_++);

    // The entries of each free column of J, in row order: row k and position in J's values.
    column_ptr_.assign(size_t(n_free_) + 1, 0);
    for (std::int32_t c : jacobian.col)
      if (free_index_[c] >= 0) column_ptr_[free_index_[c] + 1]++;
    for (int i = 0; i < n_free_; ++i) column_ptr_[i + 1] += column_ptr_[i];
    column_row_.resize(column_ptr_[n_free_]);
    column_position_.resize(column_ptr_[n_free_]);
    std::vector<std::int64_t> next(column_ptr_.begin(), column_ptr_.end() - 1);
    for (std::int64_t k = 0; k < jacobian.rows; ++k)
      for (std::int32_t p = jacobian.row_ptr[k]; p < jacobian.row_ptr[k + 1]; ++p) {
        const std::int32_t i = free_index_[jacobian.col[p]];
        if (i < 0) continue;
        column_row_[next[i]] = k;
        column_position_[next[i]] = p;
        next[i]++;
      }

    // Pattern of JᵀWJ: the free columns that share a row of J, plus the diagonal.
    // `seen[j] == i` marks column j as already in row i, so only distinct columns
    // are sorted (a camera of bundle adjustment shares thousands of rows).
    row_ptr_.assign(size_t(n_free_) + 1, 0);
    std::vector<std::int32_t> row;
    std::vector<std::int32_t> seen(size_t(n_free_), -1);
    for (int i = 0; i < n_free_; ++i) {
      row.clear();
      row.push_back(i);
      seen[i] = i;
      for (std::int64_t q = column_ptr_[i]; q < column_ptr_[i + 1]; ++q) {
        const std::int64_t k = column_row_[q];
        for (std::int32_t p = jacobian.row_ptr[k]; p < jacobian.row_ptr[k + 1]; ++p) {
          const std::int32_t j = free_index_[jacobian.col[p]];
          if (j >= 0 && seen[j] != i) {
            seen[j] = i;
            row.push_back(j);
          }
        }
      }
      std::sort(row.begin(), row.end());
      if (std::int64_t(col_.size()) + std::int64_t(row.size()) > std::int64_t(std::numeric_limits<std::int32_t>::max()))
        throw std::invalid_argument("JᵀJ has more than 2**31 - 1 nonzero entries");
      col_.insert(col_.end(), row.begin(), row.end());
      row_ptr_[i + 1] = std::int32_t(col_.size());
    }
    diagonal_.resize(n_free_);
    for (int i = 0; i < n_free_; ++i)
      diagonal_[i] = std::int32_t(std::lower_bound(col_.begin() + row_ptr_[i], col_.begin() + row_ptr_[i + 1], i) - col_.begin());
  }

  int n_free() const { return n_free_; }
  std::int64_t nnz() const { return std::int64_t(col_.size()); }
  const std::vector<std::int32_t>& free_index() const { return free_index_; }
  const std::vector<std::int32_t>& row_ptr() const { return row_ptr_; }
  const std::vector<std::int32_t>& col() const { return col_; }
  const std::vector<std::int32_t>& diagonal() const { return diagonal_; }

  /// Assemble A = JᵀWJ into the value array of the pattern and g = JᵀWr (free variables).
  void assemble(const double* J, const double* weights, const double* r, double* A, double* g) const {
    // Starting a parallel region costs more than assembling a small system.
    const int threads = jacobian_.nnz() >= 8192 ? thread_count() : 1;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
      std::vector<std::int32_t> position(size_t(n_free_), -1);
#pragma omp for schedule(dynamic, 64)
      for (int i = 0; i < n_free_; ++i) {
        for (std::int32_t q = row_ptr_[i]; q < row_ptr_[i + 1]; ++q) {
          position[col_[q]] = q;
          A[q] = 0.0;
        }
        double gi = 0.0;
        for (std::int64_t q = column_ptr_[i]; q < column_ptr_[i + 1]; ++q) {
          const std::int64_t k = column_row_[q];
          const double a = weights[k] * J[column_position_[q]];
          gi += a * r[k];
          for (std::int32_t p = jacobian_.row_ptr[k]; p < jacobian_.row_ptr[k + 1]; ++p) {
            const std::int32_t j = free_index_[jacobian_.col[p]];
            if (j >= 0) A[position[j]] += a * J[p];
          }
        }
        g[i] = gi;
      }
    }
  }

 private:
  const JacobianPattern& jacobian_;
  int n_free_ = 0;
  std::vector<std::int32_t> free_index_;  ///< variable → free index, −1 if fixed
  std::vector<std::int64_t> column_ptr_, column_row_;
  std::vector<std::int32_t> column_position_;
  std::vector<std::int32_t> row_ptr_, col_, diagonal_;
};

/// Returns the message of the step-size test, with the step and its threshold.
inline std::string step_size_message(double step_norm, double threshold) {
  return "converged: step size: ‖δ‖₂ = " + format_number(step_norm) + " <= xtol (‖x‖₂ + xtol) = " +
         format_number(threshold);
}

}  // namespace detail

/// Minimize F(x) (see the top of this file) from x0 over the variables whose
/// `fixed` flag is 0, by Levenberg-Marquardt or Gauss-Newton.
///
/// Levenberg-Marquardt: each iteration solves the damped normal equations, scaled
/// by S = D^(−½) to (S JᵀWJ S + μI) y = −S g, δ = S y, and computes the gain ratio
/// ϱ = (F(x) − F(x + δ)) / (L(0) − L(δ)) with the decrease of the Gauss-Newton
/// model L(0) − L(δ) = −gᵀδ − ½ δᵀJᵀWJδ. Note ‖y‖₂ = ‖D^½ δ‖₂. μ comes from one of:
///
/// - trust region (default), after MINPACK's lmder: the step bound Δ starts at
///   initial_step_bound · ‖D^½ x0‖₂ and is capped by ‖y‖₂ after the first step.
///   μ = 0 if the Gauss-Newton step has ‖y‖₂ ≤ 1.1 Δ; otherwise μ solves the
///   secular equation ‖y(μ)‖₂ = Δ to 10 % by at most 10 safeguarded Newton steps
///   on φ(μ) = ‖y(μ)‖₂ − Δ, each one factorization. Every solve, also at μ = 0,
///   scales the diagonal of JᵀWJ by 1 + 1e-15. A step with ϱ ≥ 1e-4 is
///   accepted. ϱ ≤ 1/4 shrinks Δ by a factor t in [0.1, 0.5] (from a quadratic
///   fit to F along δ), and ϱ ≥ 3/4, or μ = 0, sets Δ = 2 ‖y‖₂.
/// - Nielsen's update: a step with ϱ > 0 and finite residuals is accepted and
///   μ ← μ · max(1/3, 1 − (2ϱ − 1)³), ν ← 2; otherwise μ ← μ·ν, ν ← 2ν.
///
/// A rank-deficient JᵀWJ is handled by the damping. With geodesic_acceleration
/// (Transtrum and Sethna, "Improvements to the Levenberg-Marquardt algorithm for
/// nonlinear least-squares minimization", 2012), the step is δ + ½a with
/// (JᵀWJ + μD) a = −JᵀW r_δδ, where the second directional derivative
/// r_δδ ≈ (J(x + hδ) − J(x)) δ / h costs one Jacobian evaluation. A step with
/// 2‖D^½ a‖₂ > max_acceleration_ratio · ‖D^½ δ‖₂ is rejected without evaluating
/// F: there the quadratic model of r is not trusted along δ. This keeps LM from
/// jumping onto a plateau of F where the model is flat.
///
/// Gauss-Newton: the undamped system; if its Cholesky factorization fails (JᵀWJ
/// singular), the Levenberg shift μ = 1e-12 is added to the scaled system and
/// raised tenfold until it succeeds. The step is halved until F decreases by the
/// Armijo condition F(x + αδ) ≤ F(x) + 1e-4 α gᵀδ.
///
/// Stopping tests, each reported with its measured value and threshold:
/// gradient ‖g‖∞ ≤ gtol; step ‖δ‖₂ ≤ xtol (‖x‖₂ + xtol); cost change, on an
/// accepted step, actual and predicted decrease ≤ ftol · F, or, on a rejected LM
/// step with finite residuals, predicted decrease ≤ 10 ε F (below the rounding
/// error of F, so the gain ratio is noise).
inline LeastSquaresResult least_squares(const Residuals& residuals, Eigen::VectorXd x,
                                        const std::vector<std::uint8_t>& fixed, const LeastSquaresOptions& options,
                                        const LeastSquaresCallback& callback) {
  using Clock = std::chrono::steady_clock;
  using SparseMatrix = Eigen::SparseMatrix<double, Eigen::ColMajor, std::int32_t>;
  const auto start = Clock::now();
  const bool lm = options.method == LeastSquaresMethod::LevenbergMarquardt;
  const std::int64_t n = residuals.n_variables();
  const std::int64_t m = residuals.n_residuals();
  const JacobianPattern& pattern = residuals.pattern();
  const detail::NormalEquations normal(pattern, fixed);
  const int n_free = normal.n_free();
  const double C2 = options.f_scale * options.f_scale;

  LeastSquaresResult result;
  Eigen::VectorXd r(m), r_trial(m), weights(m), x_trial(n);
  std::vector<double> J(size_t(pattern.nnz()));
  std::vector<double> A(size_t(normal.nnz()));
  Eigen::VectorXd g(n_free), delta(n_free), scale(n_free), D = Eigen::VectorXd::Zero(n_free);
  Eigen::VectorXd y(n_free);     // scaled step D^½ δ
  Eigen::VectorXd step(n_free);  // the step tried: δ, or δ + ½a with geodesic acceleration

  // The normal matrix has a symmetric pattern, so its CSR arrays are also the CSC
  // arrays of the same matrix. The scaled, damped system is written into M.
  SparseMatrix M(n_free, n_free);
  M.resizeNonZeros(normal.nnz());
  std::copy(normal.row_ptr().begin(), normal.row_ptr().end(), M.outerIndexPtr());
  std::copy(normal.col().begin(), normal.col().end(), M.innerIndexPtr());
  Eigen::SimplicialLLT<SparseMatrix, Eigen::Lower> cholesky;
  if (n_free > 0) cholesky.analyzePattern(M);

  // F and the IRLS weights from the residuals; F is +inf when a residual is not finite.
  auto cost_of = [&](const Eigen::VectorXd& res, Eigen::VectorXd* w) {
    double total = 0.0;
    for (std::int64_t k = 0; k < m; ++k) {
      if (!std::isfinite(res[k])) return std::numeric_limits<double>::infinity();
      double rho = 0.0, derivative = 1.0;
      if (options.loss == Loss::Linear) {
        rho = res[k] * res[k] / C2;
      } else {
        loss_value(options.loss, res[k] * res[k] / C2, rho, derivative);
      }
      if (w) (*w)[k] = derivative;
      total += rho;
    }
    return 0.5 * C2 * total;
  };

  // F(x) − F(x + δ) from the residuals at both points, summed element by element:
  // ½ Σ (r_k − r'_k)(r_k + r'_k) for the linear loss. Unlike the difference of the
  // two sums, it stays accurate when the decrease is near the rounding error of F.
  auto decrease = [&](const Eigen::VectorXd& before, const Eigen::VectorXd& after) {
    double total = 0.0;
    for (std::int64_t k = 0; k < m; ++k) {
      if (!std::isfinite(after[k])) return -std::numeric_limits<double>::infinity();
      if (options.loss == Loss::Linear) {
        total += (before[k] - after[k]) * (before[k] + after[k]);
      } else {
        double rho_before = 0.0, rho_after = 0.0, unused = 0.0;
        loss_value(options.loss, before[k] * before[k] / C2, rho_before, unused);
        loss_value(options.loss, after[k] * after[k] / C2, rho_after, unused);
        total += C2 * (rho_before - rho_after);
      }
    }
    return 0.5 * total;
  };

  auto gather_free = [&](const Eigen::VectorXd& full, Eigen::VectorXd& out) {
    for (std::int64_t j = 0; j < n; ++j)
      if (normal.free_index()[j] >= 0) out[normal.free_index()[j]] = full[j];
  };
  auto add_free = [&](const Eigen::VectorXd& base, const Eigen::VectorXd& step, double alpha, Eigen::VectorXd& out) {
    out = base;
    for (std::int64_t j = 0; j < n; ++j)
      if (normal.free_index()[j] >= 0) out[j] += alpha * step[normal.free_index()[j]];
  };
  auto free_norm = [&](const Eigen::VectorXd& full) {
    Eigen::VectorXd values(n_free);
    gather_free(full, values);
    return values.norm();
  };

  auto finish = [&](LeastSquaresStatus status, std::string message) {
    result.status = status;
    result.message = std::move(message);
    result.x = x;
    result.residuals = r;
    result.jacobian = J;
    result.gradient = Eigen::VectorXd::Zero(n);
    for (std::int64_t j = 0; j < n; ++j)
      if (normal.free_index()[j] >= 0) result.gradient[j] = g[normal.free_index()[j]];
    return result;
  };

  // Evaluate r, J, F, the weights, JᵀWJ and g at x; false if r or J is not finite.
  std::string non_finite;
  auto linearize = [&]() {
    residuals.residuals_and_jacobian(x.data(), r.data(), J.data());
    result.function_evaluations++;
    result.jacobian_evaluations++;
    result.cost = cost_of(r, &weights);
    for (std::int64_t k = 0; k < m; ++k)
      if (!std::isfinite(r[k])) {
        non_finite = "residual " + std::to_string(k) + " (element " + std::to_string(k / residuals.n_outputs()) +
                     ", output " + std::to_string(k % residuals.n_outputs()) + ") is " + format_number(r[k]) +
                     (residuals.double_double() ? " in double-double arithmetic" : "");
        return false;
      }
    for (std::int64_t k = 0; k < m; ++k)
      for (std::int32_t p = pattern.row_ptr[k]; p < pattern.row_ptr[k + 1]; ++p)
        if (!std::isfinite(J[p])) {
          non_finite = "Jacobian entry (" + std::to_string(k) + ", " + std::to_string(pattern.col[p]) + ") is " +
                       format_number(J[p]);
          return false;
        }
    normal.assemble(J.data(), weights.data(), r.data(), A.data(), g.data());
    for (int i = 0; i < n_free; ++i) D[i] = std::max(D[i], A[normal.diagonal()[i]]);
    return true;
  };

  // Write S A S + μI into M, with S = D^(−½) (D entries that are still 0 count as 1).
  // The trust-region update also scales the diagonal by 1 + 1e-15, a damping at the
  // rounding error of each pivot. Without it, a null direction of JᵀWJ (a gauge
  // freedom, as in bundle adjustment) gets a pivot of rounding-error size even at
  // μ = 0, and its step component, and with it ‖y‖₂, is noise that the Newton
  // iteration for μ cannot converge on.
  // NOTE: 1e-15 is measured, not derived. A factor of 1 + 2.2e-14 (100 ε) stops
  // the NIST problem MGH10 from its first start short of the minimum.
  const bool trust_region = lm && options.damping == DampingUpdate::TrustRegion;
  const double diagonal_factor = trust_region ? 1.0 + 1e-15 : 1.0;
  auto load_scaled = [&](double mu) {
    for (int i = 0; i < n_free; ++i) scale[i] = D[i] > 0.0 ? 1.0 / std::sqrt(D[i]) : 1.0;
    double* values = M.valuePtr();
    for (int i = 0; i < n_free; ++i)
      for (std::int32_t q = normal.row_ptr()[i]; q < normal.row_ptr()[i + 1]; ++q)
        values[q] = A[q] * scale[i] * scale[normal.col()[q]];
    for (int i = 0; i < n_free; ++i) {
      double& diagonal = values[normal.diagonal()[i]];
      diagonal = diagonal * diagonal_factor + mu;
    }
  };
  // y and δ = S y from the scaled system; false if the factorization fails.
  auto solve_scaled = [&](double mu) {
    load_scaled(mu);
    cholesky.factorize(M);
    result.factorizations++;
    if (cholesky.info() != Eigen::Success) return false;
    y = cholesky.solve(-scale.cwiseProduct(g));
    delta = scale.cwiseProduct(y);
    return delta.allFinite();
  };

  // Trust-region damping: μ ≥ 0 with ‖y(μ)‖₂ within 10 % of Δ, or μ = 0 when the
  // Gauss-Newton step is shorter than 1.1 Δ. Newton's method on φ(μ) = ‖y(μ)‖₂ − Δ
  // uses φ'(μ) = −yᵀ(SAS + μI)⁻¹y / ‖y‖₂ and keeps μ inside a bracket [lower, upper]
  // with upper = ‖Sg‖₂ / Δ (where ‖y‖₂ ≤ ‖Sg‖₂ / μ ≤ Δ). Each trial μ costs one
  // factorization. Returns false if no factorization succeeds.
  auto trust_region_damping = [&](double radius, double& mu) {
    for (int i = 0; i < n_free; ++i) scale[i] = D[i] > 0.0 ? 1.0 / std::sqrt(D[i]) : 1.0;
    const double scaled_gradient_norm = scale.cwiseProduct(g).norm();
    const double tiny = std::numeric_limits<double>::min();
    double upper = scaled_gradient_norm / radius;
    if (upper == 0.0) upper = tiny / std::min(radius, 0.1);
    double lower = 0.0;
    double y_norm = std::numeric_limits<double>::infinity();
    double phi = y_norm;
    // The Newton step for μ from the current factorization.
    auto newton_step = [&]() { return mu + phi / radius * y_norm * y_norm / y.dot(cholesky.solve(y)); };

    // The previous μ often still meets the 10 % test, and then one factorization
    // suffices. If its step is too long, so is the Gauss-Newton step.
    bool current = false;  // y, φ and the factorization belong to mu
    if (mu > 0.0 && mu < upper && solve_scaled(mu)) {
      y_norm = y.norm();
      phi = y_norm - radius;
      if (std::abs(phi) <= 0.1 * radius) return true;
      current = true;
      if (phi > 0.0) lower = mu;
    }
    if (!current || phi < 0.0) {
      const double next_mu = current ? newton_step() : mu;
      if (current) upper = mu;
      if (solve_scaled(0.0)) {
        const double gauss_newton_norm = y.norm();
        const double gauss_newton_phi = gauss_newton_norm - radius;
        if (gauss_newton_phi <= 0.1 * radius) {
          mu = 0.0;
          return true;
        }
        // φ is convex and decreasing in μ, so the Newton step from μ = 0 is a lower bound.
        lower = std::max(lower, gauss_newton_phi / radius * gauss_newton_norm * gauss_newton_norm /
                                    y.dot(cholesky.solve(y)));
        if (!current) {
          y_norm = gauss_newton_norm;
          phi = gauss_newton_phi;
        }
      }
      mu = std::min(std::max(next_mu, lower), upper);
      if (mu == 0.0) mu = std::isfinite(y_norm) ? scaled_gradient_norm / y_norm : 1e-3 * upper;
      current = false;
    }

    for (int k = 0; k < 10; ++k) {
      const double previous_phi = phi;
      if (!current) {
        if (mu == 0.0) mu = std::max(tiny, 1e-3 * upper);
        bool solved = solve_scaled(mu);
        for (int attempt = 0; attempt < 40 && !solved; ++attempt) {
          lower = std::max(lower, mu);
          mu *= 10.0;
          solved = solve_scaled(mu);
        }
        if (!solved) return false;
        y_norm = y.norm();
        phi = y_norm - radius;
      }
      current = false;
      // Without a lower bound (JᵀWJ singular), a step that is already inside the
      // bound and no longer grows is taken.
      if (std::abs(phi) <= 0.1 * radius || (lower == 0.0 && phi <= previous_phi && previous_phi < 0.0) || k == 9)
        break;
      const double next_mu = newton_step();
      if (phi > 0.0) lower = std::max(lower, mu);
      if (phi < 0.0) upper = std::min(upper, mu);
      mu = std::max(lower, next_mu);
    }
    return true;
  };

  // Compute the geodesic acceleration a of the step δ from the current factorization,
  // with r_δδ ≈ (J(x + hδ) − J(x)) δ / h. Returns ‖D^½ a‖₂, which is +inf if
  // J(x + hδ) or a is not finite, so that the step is rejected.
  Eigen::VectorXd r_probe(m), x_probe(n), delta_full(n), second_derivative(m), acceleration(n_free);
  std::vector<double> J_probe(size_t(pattern.nnz()));
  auto geodesic_acceleration = [&]() {
    const double h = options.acceleration_probe;
    delta_full.setZero();
    for (std::int64_t j = 0; j < n; ++j)
      if (normal.free_index()[j] >= 0) delta_full[j] = delta[normal.free_index()[j]];
    x_probe = x + h * delta_full;
    residuals.residuals_and_jacobian(x_probe.data(), r_probe.data(), J_probe.data());
    result.function_evaluations++;
    result.jacobian_evaluations++;
    for (std::int64_t k = 0; k < m; ++k) {
      double change = 0.0;
      for (std::int32_t p = pattern.row_ptr[k]; p < pattern.row_ptr[k + 1]; ++p)
        change += (J_probe[p] - J[p]) * delta_full[pattern.col[p]];
      second_derivative[k] = weights[k] * change / h;
    }
    // b = −S JᵀW r_δδ over the free variables.
    Eigen::VectorXd b = Eigen::VectorXd::Zero(n_free);
    for (std::int64_t k = 0; k < m; ++k)
      for (std::int32_t p = pattern.row_ptr[k]; p < pattern.row_ptr[k + 1]; ++p) {
        const std::int32_t i = normal.free_index()[pattern.col[p]];
        if (i >= 0) b[i] -= J[p] * second_derivative[k];
      }
    b = scale.cwiseProduct(b);
    const Eigen::VectorXd y_acceleration = cholesky.solve(b);
    acceleration = scale.cwiseProduct(y_acceleration);
    return y_acceleration.allFinite() ? y_acceleration.norm() : std::numeric_limits<double>::infinity();
  };

  // L(0) − L(δ) = −gᵀδ − ½ δᵀ JᵀWJ δ, the decrease of the Gauss-Newton model of F.
  auto model_decrease = [&](const Eigen::VectorXd& step) {
    double quadratic = 0.0;
    for (int i = 0; i < n_free; ++i) {
      double row = 0.0;
      for (std::int32_t q = normal.row_ptr()[i]; q < normal.row_ptr()[i + 1]; ++q) row += A[q] * step[normal.col()[q]];
      quadratic += step[i] * row;
    }
    return -g.dot(step) - 0.5 * quadratic;
  };

  auto report = [&](LeastSquaresIteration& info) -> int {
    info.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.history.push_back(info);
    return callback ? callback(info, x) : 0;
  };

  if (!linearize()) {
    return finish(LeastSquaresStatus::NonFinite, "cannot start: at x0, " + non_finite);
  }
  if (n_free == 0) {
    return finish(LeastSquaresStatus::ConvergedGradient, "converged: every variable is fixed, so the gradient is empty");
  }

  double mu = trust_region ? 0.0 : options.initial_damping;
  double nu = 2.0;
  double radius = 0.0;  // Δ, the bound on ‖D^½ δ‖₂ of the trust-region update
  if (trust_region) {
    for (int i = 0; i < n_free; ++i) scale[i] = D[i] > 0.0 ? 1.0 / std::sqrt(D[i]) : 1.0;
    Eigen::VectorXd x_free(n_free);
    gather_free(x, x_free);
    const double scaled_norm = x_free.cwiseQuotient(scale).norm();
    radius = scaled_norm > 0.0 ? options.initial_step_bound * scaled_norm : options.initial_step_bound;
  }
  for (int iteration = 0;; ++iteration) {
    result.iterations = iteration;
    const double gradient_norm = g.lpNorm<Eigen::Infinity>();
    if (gradient_norm <= options.gtol) {
      return finish(LeastSquaresStatus::ConvergedGradient, "converged: gradient norm: max |g_i| = " + format_number(gradient_norm) +
                                                               " <= gtol = " + format_number(options.gtol));
    }
    if (iteration >= options.max_iterations) {
      return finish(LeastSquaresStatus::MaxIterations,
                    iteration_limit_message(options.max_iterations, "max |g_i|", gradient_norm, options.gtol));
    }

    LeastSquaresIteration info;
    info.iteration = iteration;
    info.cost = result.cost;
    info.gradient_norm = gradient_norm;

    // Step: damped (LM) or, for Gauss-Newton, shifted only when JᵀWJ is singular.
    if (trust_region) {
      if (!trust_region_damping(radius, mu))
        return finish(LeastSquaresStatus::LinearSolveFailed,
                      "sparse Cholesky factorization of the normal equations failed at iteration " +
                          std::to_string(iteration) + " even with damping " + format_number(mu));
      if (iteration == 0) radius = std::min(radius, y.norm());
      info.damping = mu;
    } else {
      const double requested_shift = lm ? mu : 0.0;
      double shift = requested_shift;
      bool solved = solve_scaled(shift);
      for (int attempt = 0; attempt < 40 && !solved; ++attempt) {
        shift = shift == 0.0 ? 1e-12 : 10.0 * shift;
        solved = solve_scaled(shift);
      }
      if (!solved)
        return finish(LeastSquaresStatus::LinearSolveFailed,
                      "sparse Cholesky factorization of the normal equations failed at iteration " +
                          std::to_string(iteration) + " even with damping " + format_number(shift));
      if (shift != requested_shift) {
        if (lm) mu = shift;
        else result.shifted_solves++;
      }
      info.damping = shift;
    }

    double x_norm = free_norm(x);
    double step_norm = delta.norm();
    info.step_norm = step_norm;
    const double step_threshold = options.xtol * (x_norm + options.xtol);

    bool accepted = false;
    bool full_step = true;  // false after the Gauss-Newton line search shortened the step
    double actual = 0.0;
    double predicted = 0.0;
    if (lm) {
      const double scaled_step_norm = y.norm();
      step = delta;
      bool acceleration_rejected = false;
      if (options.geodesic_acceleration) {
        const double scaled_acceleration_norm = geodesic_acceleration();
        if (2.0 * scaled_acceleration_norm <= options.max_acceleration_ratio * scaled_step_norm) {
          step += 0.5 * acceleration;
          step_norm = step.norm();
          info.step_norm = step_norm;
        } else {
          acceleration_rejected = true;
          result.rejected_accelerations++;
        }
      }
      predicted = model_decrease(delta);
      if (acceleration_rejected) {
        actual = -std::numeric_limits<double>::infinity();
      } else {
        add_free(x, step, 1.0, x_trial);
        residuals.residuals(x_trial.data(), r_trial.data());
        result.function_evaluations++;
        actual = decrease(r, r_trial);
      }
      const double gain = std::isfinite(actual) && predicted > 0.0 ? actual / predicted : -1.0;
      info.gain_ratio = gain;
      if (trust_region) {
        accepted = gain >= 1e-4;
        if (gain <= 0.25) {
          // Shrink Δ by t, the minimizer of the quadratic in the step length that
          // matches F(x), the slope gᵀδ and F(x + δ), kept within [0.1, 0.5].
          // A step rejected for its acceleration halves Δ.
          double t = 0.5;
          if (!acceleration_rejected && (!std::isfinite(actual) || actual <= -99.0 * result.cost)) {
            t = 0.1;
          } else if (!acceleration_rejected && actual < 0.0) {
            const double slope = g.dot(delta);
            t = 0.5 * slope / (slope + actual);
          }
          if (!(t >= 0.1)) t = 0.1;
          radius = t * std::min(radius, 10.0 * scaled_step_norm);
          mu /= t;
        } else if (mu == 0.0 || gain >= 0.75) {
          radius = 2.0 * scaled_step_norm;
          mu *= 0.5;
        }
      } else if (gain > 0.0) {
        accepted = true;
        const double t = 2.0 * gain - 1.0;
        mu *= std::max(1.0 / 3.0, 1.0 - t * t * t);
        nu = 2.0;
      } else {
        mu *= nu;
        nu *= 2.0;
      }
    } else {
      // Armijo: F(x + αδ) ≤ F(x) + 1e-4 α gᵀδ, with gᵀδ < 0.
      const double slope = g.dot(delta);
      double alpha = 1.0;
      for (int tries = 0; tries <= options.max_backtracks; ++tries, alpha *= 0.5) {
        add_free(x, delta, alpha, x_trial);
        residuals.residuals(x_trial.data(), r_trial.data());
        result.function_evaluations++;
        actual = decrease(r, r_trial);
        if (std::isfinite(actual) && actual >= -1e-4 * alpha * slope) {
          accepted = true;
          break;
        }
      }
      if (accepted) {
        delta *= alpha;
        step_norm = delta.norm();
        info.step_norm = step_norm;
        predicted = model_decrease(delta);
        full_step = alpha == 1.0;
      }
      info.gain_ratio = accepted ? alpha : 0.0;
    }
    info.accepted = accepted;

    if (!accepted) {
      const int request = report(info);
      // Below this decrease of the model, the change of F is lost in the rounding
      // error of F, so no later, more damped step can be judged either.
      const double rounding_threshold = 10.0 * std::numeric_limits<double>::epsilon() * result.cost;
      if (lm && std::isfinite(actual) && predicted <= rounding_threshold) {
        result.iterations = iteration + 1;
        return finish(LeastSquaresStatus::ConvergedFunction,
                      "converged: function change: predicted decrease " + format_number(predicted) +
                          " <= 10 eps * cost = " + format_number(rounding_threshold) +
                          ", the rounding error of the cost");
      }
      if (step_norm <= step_threshold) {
        result.iterations = iteration + 1;
        return finish(LeastSquaresStatus::ConvergedStep, detail::step_size_message(step_norm, step_threshold));
      }
      if (!lm) {
        result.iterations = iteration + 1;
        return finish(LeastSquaresStatus::LineSearchFailed,
                      "the Gauss-Newton step gave no decrease of the cost after " +
                          std::to_string(options.max_backtracks) + " halvings at iteration " + std::to_string(iteration) +
                          " (step norm " + format_number(step_norm) + "); try method='lm'");
      }
      if (request == 1) {
        result.iterations = iteration + 1;
        return finish(LeastSquaresStatus::CallbackStop, "stopped by callback at iteration " + std::to_string(iteration + 1));
      }
      if (request == 2) {
        result.iterations = iteration + 1;
        return finish(LeastSquaresStatus::Interrupted, "interrupted at iteration " + std::to_string(iteration + 1));
      }
      continue;
    }

    const double previous_cost = result.cost;
    x = x_trial;
    if (!linearize()) {
      result.iterations = iteration + 1;
      report(info);
      return finish(LeastSquaresStatus::NonFinite, "stopped at iteration " + std::to_string(iteration + 1) + ": " + non_finite);
    }
    const int request = report(info);
    result.iterations = iteration + 1;

    // A step that the line search shortened is small because the Gauss-Newton model
    // is poor there, not because x has converged, so it is not tested.
    const double cost_threshold = options.ftol * previous_cost;
    if (full_step && step_norm <= step_threshold) {
      return finish(LeastSquaresStatus::ConvergedStep, detail::step_size_message(step_norm, step_threshold));
    }
    if (full_step && std::abs(actual) <= cost_threshold && std::abs(predicted) <= cost_threshold) {
      return finish(LeastSquaresStatus::ConvergedFunction,
                    "converged: function change: decrease " + format_number(actual) + " and predicted decrease " +
                        format_number(predicted) + " <= ftol * cost = " + format_number(cost_threshold));
    }
    if (request == 1)
      return finish(LeastSquaresStatus::CallbackStop, "stopped by callback at iteration " + std::to_string(iteration + 1));
    if (request == 2)
      return finish(LeastSquaresStatus::Interrupted, "interrupted at iteration " + std::to_string(iteration + 1));
  }
}

}  // namespace dualtape
