// Projection of small symmetric matrices (element Hessians) to positive definite.
#pragma once

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <cmath>
#include <stdexcept>
#include <string>

namespace dualtape {

enum class Projection {
  None,   ///< keep the Hessian as it is
  Clamp,  ///< eigenvalues λ < eps become eps
  Abs,    ///< eigenvalues become max(|λ|, eps)
};

inline Projection parse_projection(const std::string& name) {
  if (name == "none" || name.empty()) return Projection::None;
  if (name == "clamp") return Projection::Clamp;
  if (name == "abs") return Projection::Abs;
  throw std::invalid_argument("projection must be None, 'clamp' or 'abs'; got '" + name + "'");
}

/// Whether every eigenvalue of the symmetric matrix H is at least eps, by
/// Gershgorin's theorem: λ ≥ min over rows of (Hᵢᵢ − Σⱼ≠ᵢ |Hᵢⱼ|). A cheap sufficient
/// test that spares the eigendecomposition when the projection changes nothing.
template <typename Matrix>
bool gershgorin_at_least(const Matrix& H, double eps) {
  for (Eigen::Index i = 0; i < H.rows(); ++i) {
    double off_diagonal = 0.0;
    for (Eigen::Index j = 0; j < H.cols(); ++j)
      if (j != i) off_diagonal += std::abs(H(i, j));
    if (H(i, i) - off_diagonal < eps) return false;
  }
  return true;
}

/// Project the symmetric matrix H in place: H = V max(Λ, eps) Vᵀ for Clamp, or
/// V max(|Λ|, eps) Vᵀ for Abs. Returns false when H contains inf or NaN (left as is).
template <typename Matrix>
bool project_positive_definite(Matrix& H, Projection projection, double eps) {
  if (projection == Projection::None) return true;
  if (!H.allFinite()) return false;
  if (gershgorin_at_least(H, eps)) return true;

  Eigen::SelfAdjointEigenSolver<Matrix> solver(H);
  auto eigenvalues = solver.eigenvalues();
  bool changed = false;
  for (Eigen::Index i = 0; i < eigenvalues.size(); ++i) {
    double lambda = eigenvalues[i];
    if (projection == Projection::Abs) lambda = std::abs(lambda);
    if (lambda < eps) lambda = eps;
    changed = changed || lambda != eigenvalues[i];
    eigenvalues[i] = lambda;
  }
  if (!changed) return true;
  H = solver.eigenvectors() * eigenvalues.asDiagonal() * solver.eigenvectors().transpose();
  return true;
}

}  // namespace dualtape
