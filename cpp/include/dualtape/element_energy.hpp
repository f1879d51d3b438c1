// A per-element energy: one tape evaluated for every element of an index array.
#pragma once

#include "dualtape/tape.hpp"

#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace dualtape {

/// One tape and the elements it is summed over. Element e reads the variable blocks
/// elements[e·k .. e·k + k) (each block of `dim` consecutive variables) and the
/// parameters params[e·m .. e·m + m). The tape has k·dim inputs and m parameters.
class ElementEnergy {
 public:
  /// elements: #E by k list of block indices (row-major); params: #E by m (row-major).
  ElementEnergy(std::shared_ptr<const Tape> tape, std::vector<std::int32_t> elements, int arity, int dim,
                std::vector<double> params, int n_params)
      : tape_(std::move(tape)), elements_(std::move(elements)), params_(std::move(params)),
        arity_(arity), dim_(dim), n_params_(n_params) {
    if (!tape_) throw std::invalid_argument("tape is missing");
    if (arity_ < 1) throw std::invalid_argument("elements must have at least one column; got " + std::to_string(arity_));
    if (dim_ < 1) throw std::invalid_argument("dim must be >= 1; got " + std::to_string(dim_));
    if (elements_.size() % size_t(arity_) != 0)
      throw std::invalid_argument("elements: length " + std::to_string(elements_.size()) + " is not a multiple of the arity " + std::to_string(arity_));
    n_elements_ = int(elements_.size() / size_t(arity_));
    if (tape_->n_inputs() != arity_ * dim_)
      throw std::invalid_argument("the tape has " + std::to_string(tape_->n_inputs()) + " inputs, but elements of " +
                                  std::to_string(arity_) + " blocks of dimension " + std::to_string(dim_) + " need " +
                                  std::to_string(arity_ * dim_));
    if (tape_->n_params() != n_params_)
      throw std::invalid_argument("the tape has " + std::to_string(tape_->n_params()) + " parameters, but params has " +
                                  std::to_string(n_params_) + " columns");
    if (params_.size() != size_t(n_elements_) * size_t(n_params_))
      throw std::invalid_argument("params: expected " + std::to_string(n_elements_) + " rows of " + std::to_string(n_params_) +
                                  " values, got " + std::to_string(params_.size()) + " values");
    for (size_t i = 0; i < elements_.size(); ++i) {
      if (elements_[i] < 0)
        throw std::out_of_range("elements[" + std::to_string(i / arity_) + ", " + std::to_string(i % arity_) + "] = " +
                                std::to_string(elements_[i]) + " is negative");
      max_block_ = std::max(max_block_, int(elements_[i]));
    }
    const int N = arity_ * dim_;
    variables_.resize(size_t(n_elements_) * N);
    for (int e = 0; e < n_elements_; ++e)
      for (int i = 0; i < N; ++i)
        variables_[size_t(e) * N + i] = std::int64_t(element(e)[i / dim_]) * dim_ + i % dim_;
    for (size_t i = 0; i < params_.size(); ++i)
      if (!std::isfinite(params_[i]))
        throw std::invalid_argument("params[" + std::to_string(i / std::max(1, n_params_)) + ", " +
                                    std::to_string(i % std::max(1, n_params_)) + "] is not finite");
  }

  const Tape& tape() const { return *tape_; }
  std::shared_ptr<const Tape> tape_ptr() const { return tape_; }
  int n_elements() const { return n_elements_; }
  int arity() const { return arity_; }
  int dim() const { return dim_; }
  int n_params() const { return n_params_; }
  int n_locals() const { return arity_ * dim_; }
  /// Largest block index used, or −1 without elements.
  int max_block() const { return max_block_; }
  const std::int32_t* element(int e) const { return elements_.data() + std::ptrdiff_t(e) * arity_; }
  const double* params(int e) const { return params_.data() + std::ptrdiff_t(e) * n_params_; }
  /// Index of local variable i (block i / dim, coordinate i % dim) of element e in x.
  std::int64_t variable(int e, int i) const { return variables_[size_t(e) * (arity_ * dim_) + i]; }
  /// The n_locals() variable indices of element e.
  const std::int64_t* variables(int e) const { return variables_.data() + size_t(e) * (arity_ * dim_); }

 private:
  std::shared_ptr<const Tape> tape_;
  std::vector<std::int32_t> elements_;
  std::vector<double> params_;
  std::vector<std::int64_t> variables_;  ///< #E by k·dim indices into x, precomputed
  int arity_ = 0;
  int dim_ = 0;
  int n_params_ = 0;
  int n_elements_ = 0;
  int max_block_ = -1;
};

}  // namespace dualtape
