// Residual elements: one tape with r outputs, evaluated for every element, and the
// sparse Jacobian of all residuals with a pattern fixed at construction.
#pragma once

#include "dualtape/element_energy.hpp"
#include "dualtape/interpreter.hpp"
#include "dualtape/objective.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace dualtape {

/// How the rows of an element Jacobian are computed.
enum class JacobianMode {
  Auto,     ///< reverse mode when r ≤ N (outputs ≤ inputs), forward mode otherwise
  Reverse,  ///< one reverse sweep per output
  Forward,  ///< one forward sweep on Dual numbers with N directions
};

inline JacobianMode parse_jacobian_mode(const std::string& name) {
  if (name == "auto" || name.empty()) return JacobianMode::Auto;
  if (name == "reverse") return JacobianMode::Reverse;
  if (name == "forward") return JacobianMode::Forward;
  throw std::invalid_argument("mode must be 'auto', 'reverse' or 'forward'; got '" + name + "'");
}

/// Pattern of a rectangular sparse matrix in CSR form.
struct JacobianPattern {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::int32_t> row_ptr;  ///< rows + 1 offsets into col
  std::vector<std::int32_t> col;      ///< sorted column indices of each row
  std::int64_t nnz() const { return std::int64_t(col.size()); }
};

/// The residual vector r(x) of a set of elements: element e contributes the r
/// outputs of the tape at its local variables, as rows e·r .. e·r + r − 1.
///
/// The Jacobian J = ∂r/∂x (#E·r by n_blocks·dim) is stored in CSR form. All rows of
/// one element share the sorted list of the distinct variables the element reads;
/// `local_rank` maps each of the element's N local variables to its position in
/// that list, so an element whose index row names one block twice sums the two
/// contributions into one entry. Elements write disjoint rows, so they are
/// evaluated in parallel without coloring.
class Residuals {
 public:
  /// Fewest elements evaluated on more than one thread.
  static constexpr int kParallelElements = 256;

  /// elements: the tape (r outputs) with its index array and parameters;
  /// n_blocks: number of variable blocks of x (at least max_block + 1).
  /// double_double: evaluate the residual values in double-double arithmetic (see
  /// double_double()); params_low: see set_params_low (empty for none).
  Residuals(std::shared_ptr<const ElementEnergy> elements, int n_blocks, JacobianMode mode = JacobianMode::Auto,
            bool double_double = false, std::vector<double> params_low = {})
      : elements_(std::move(elements)), n_blocks_(n_blocks), double_double_(double_double) {
    if (!elements_) throw std::invalid_argument("elements are missing");
    if (n_blocks_ < 1) throw std::invalid_argument("n_vars must be >= 1; got " + std::to_string(n_blocks_));
    if (elements_->max_block() >= n_blocks_)
      throw std::out_of_range("element index " + std::to_string(elements_->max_block()) + " is out of range for " +
                              std::to_string(n_blocks_) + " variable blocks");
    const std::int64_t n = std::int64_t(n_blocks_) * elements_->dim();
    if (n > std::int64_t(std::numeric_limits<std::int32_t>::max()))
      throw std::invalid_argument("too many variables for 32-bit sparse indices: " + std::to_string(n));
    const int r = elements_->tape().n_outputs();
    const int N = elements_->n_locals();
    use_reverse_ = mode == JacobianMode::Reverse || (mode == JacobianMode::Auto && r <= N);
    set_params_low(std::move(params_low));
    build_pattern();
  }

  /// Low parts of the parameters, one per parameter value (#E·m, row-major), or
  /// empty for none: the double-double evaluation then takes parameter j of
  /// element e as params(e)[j] + low[e·m + j]. Data written with more digits than
  /// a double can represent keep them this way (low = decimal value − its double).
  void set_params_low(std::vector<double> low) {
    const ElementEnergy& energy = *elements_;
    const size_t expected = size_t(energy.n_elements()) * size_t(energy.n_params());
    if (!low.empty() && low.size() != expected)
      throw std::invalid_argument("params_low: expected " + std::to_string(energy.n_elements()) + " rows of " +
                                  std::to_string(energy.n_params()) + " values, got " + std::to_string(low.size()) +
                                  " values");
    for (size_t i = 0; i < low.size(); ++i)
      if (!std::isfinite(low[i]))
        throw std::invalid_argument("params_low[" + std::to_string(i / size_t(energy.n_params())) + ", " +
                                    std::to_string(i % size_t(energy.n_params())) + "] is not finite");
    params_low_ = std::move(low);
  }

  /// Returns true if every evaluation of the residual values (residuals(),
  /// residuals_and_jacobian(), and so the solvers) runs the tape in double-double
  /// arithmetic. Each residual is then rounded to double. It stays accurate when it
  /// is the difference of data and a model value that agree to many digits, while
  /// the Jacobian is computed in double.
  bool double_double() const { return double_double_; }
  const std::vector<double>& params_low() const { return params_low_; }

  const ElementEnergy& elements() const { return *elements_; }
  int n_blocks() const { return n_blocks_; }
  int dim() const { return elements_->dim(); }
  std::int64_t n_variables() const { return std::int64_t(n_blocks_) * elements_->dim(); }
  int n_elements() const { return elements_->n_elements(); }
  /// Residuals per element (outputs of the tape).
  int n_outputs() const { return elements_->tape().n_outputs(); }
  std::int64_t n_residuals() const { return std::int64_t(n_elements()) * n_outputs(); }
  const JacobianPattern& pattern() const { return pattern_; }
  /// Whether Jacobian rows come from reverse sweeps (else from forward mode).
  bool uses_reverse_mode() const { return use_reverse_; }

  /// r(x) into r (length n_residuals).
  void residuals(const double* x, double* r) const { evaluate(x, r, nullptr); }

  /// r(x) into r and the Jacobian into the CSR value array (length nnz).
  void residuals_and_jacobian(const double* x, double* r, double* values) const { evaluate(x, r, values); }

 private:
  struct Buffers {
    std::vector<double> values, da, db, adjoints, seeds;
    void resize(size_t size, size_t seed_count) {
      if (values.size() < size) {
        values.resize(size);
        da.resize(size);
        db.resize(size);
        adjoints.resize(size);
      }
      if (seeds.size() < seed_count) seeds.resize(seed_count);
    }
  };

  // The sorted distinct variables of each element become the columns of its rows.
  void build_pattern() {
    const ElementEnergy& energy = *elements_;
    const int E = energy.n_elements();
    const int N = energy.n_locals();
    const int r = n_outputs();
    pattern_.rows = std::int64_t(E) * r;
    pattern_.cols = n_variables();
    local_rank_.resize(size_t(E) * N);
    pattern_.row_ptr.assign(size_t(pattern_.rows) + 1, 0);

    std::vector<std::int64_t> sorted(N);
    std::int64_t offset = 0;
    for (int e = 0; e < E; ++e) {
      for (int i = 0; i < N; ++i) sorted[i] = energy.variable(e, i);
      std::sort(sorted.begin(), sorted.end());
      const int count = int(std::unique(sorted.begin(), sorted.end()) - sorted.begin());
      for (int i = 0; i < N; ++i) {
        const auto it = std::lower_bound(sorted.begin(), sorted.begin() + count, energy.variable(e, i));
        local_rank_[size_t(e) * N + i] = std::int32_t(it - sorted.begin());
      }
      for (int o = 0; o < r; ++o) {
        for (int j = 0; j < count; ++j) pattern_.col.push_back(std::int32_t(sorted[j]));
        offset += count;
        if (offset > std::int64_t(std::numeric_limits<std::int32_t>::max()))
          throw std::invalid_argument("the Jacobian has more than 2**31 - 1 nonzero entries");
        pattern_.row_ptr[size_t(e) * r + o + 1] = std::int32_t(offset);
      }
    }
  }

  // Load the inputs and parameters of elements [first, first + count) into the
  // lanes of V; lanes past count repeat the last element.
  void gather(const double* x, int first, int count, double* V) const {
    const ElementEnergy& energy = *elements_;
    const int N = energy.n_locals();
    const int m = energy.n_params();
    for (int l = 0; l < kLanes; ++l) {
      const int e = first + std::min(l, count - 1);
      for (int i = 0; i < N; ++i) V[std::ptrdiff_t(i) * kLanes + l] = x[energy.variable(e, i)];
      const double* p = energy.params(e);
      for (int j = 0; j < m; ++j) V[std::ptrdiff_t(N + j) * kLanes + l] = p[j];
    }
  }

  // Residuals of one block of elements, and with `values` their Jacobian rows by
  // one reverse sweep per output (seed: the unit adjoint of that output).
  void reverse_block_rows(const double* x, int first, int count, double* r_out, double* values,
                          Buffers& buffers) const {
    const Tape& tape = elements_->tape();
    const int r = n_outputs();
    const int N = elements_->n_locals();
    const size_t slots = size_t(tape.size()) * kLanes;
    buffers.resize(slots, size_t(r) * kLanes);
    double* V = buffers.values.data();
    gather(x, first, count, V);
    if (!values) {
      forward_block<kLanes, false>(tape, V, nullptr, nullptr);
    } else {
      forward_block<kLanes, true>(tape, V, buffers.da.data(), buffers.db.data());
    }
    for (int l = 0; l < count; ++l)
      for (int o = 0; o < r; ++o)
        r_out[std::int64_t(first + l) * r + o] = V[std::ptrdiff_t(tape.outputs()[o]) * kLanes + l];
    if (!values) return;

    double* ADJ = buffers.adjoints.data();
    double* seeds = buffers.seeds.data();
    for (int o = 0; o < r; ++o) {
      // Seed output o with 1 in every lane and the other outputs with 0.
      std::fill(seeds, seeds + std::ptrdiff_t(r) * kLanes, 0.0);
      std::fill(seeds + std::ptrdiff_t(o) * kLanes, seeds + std::ptrdiff_t(o + 1) * kLanes, 1.0);
      reverse_block_checked<kLanes>(tape, buffers.da.data(), buffers.db.data(), seeds, ADJ);
      for (int l = 0; l < count; ++l) {
        const int e = first + l;
        double* row = values + pattern_.row_ptr[std::int64_t(e) * r + o];
        const std::int32_t* rank = local_rank_.data() + size_t(e) * N;
        const int width = pattern_.row_ptr[std::int64_t(e) * r + o + 1] - pattern_.row_ptr[std::int64_t(e) * r + o];
        std::fill(row, row + width, 0.0);
        for (int i = 0; i < N; ++i) row[rank[i]] += ADJ[std::ptrdiff_t(i) * kLanes + l];
      }
    }
  }

  // Residuals and Jacobian rows of one element by a forward sweep on Dual numbers
  // with one direction per local variable: the tangent of output o is row o.
  template <int S>
  void forward_element_rows(const double* x, int e, double* r_out, double* values,
                            std::vector<Dual<double, S>>& V) const {
    using D = Dual<double, S>;
    const ElementEnergy& energy = *elements_;
    const Tape& tape = energy.tape();
    const int N = energy.n_locals();
    const int r = n_outputs();
    V.assign(tape.size(), D(0.0, D::Tangent::Zero(N)));
    for (int i = 0; i < N; ++i) V[i] = D::variable(x[energy.variable(e, i)], i, N);
    const double* p = energy.params(e);
    for (int j = 0; j < energy.n_params(); ++j) V[N + j].v = p[j];
    forward_dual<S>(tape, V, N);
    const std::int32_t* rank = local_rank_.data() + size_t(e) * N;
    for (int o = 0; o < r; ++o) {
      const D& out = V[tape.outputs()[o]];
      const std::int64_t row_index = std::int64_t(e) * r + o;
      r_out[row_index] = out.v;
      double* row = values + pattern_.row_ptr[row_index];
      std::fill(row, row + (pattern_.row_ptr[row_index + 1] - pattern_.row_ptr[row_index]), 0.0);
      for (int i = 0; i < N; ++i) row[rank[i]] += out.g[i];
    }
  }

  // Residual values of element e in double-double arithmetic, rounded to double.
  void double_double_element(const double* x, int e, double* r_out, std::vector<DoubleDouble>& V) const {
    const ElementEnergy& energy = *elements_;
    const Tape& tape = energy.tape();
    const int N = energy.n_locals();
    const int m = energy.n_params();
    V.assign(size_t(tape.size()), DoubleDouble());
    for (int i = 0; i < N; ++i) V[i] = DoubleDouble(x[energy.variable(e, i)]);
    const double* p = energy.params(e);
    for (int j = 0; j < m; ++j)
      V[N + j] = params_low_.empty() ? DoubleDouble(p[j]) : dd::two_sum(p[j], params_low_[size_t(e) * m + j]);
    forward_double_double(tape, V);
    const int r = n_outputs();
    for (int o = 0; o < r; ++o) r_out[std::int64_t(e) * r + o] = V[tape.outputs()[o]].to_double();
  }

  void evaluate(const double* x, double* r_out, double* values) const {
    const int E = n_elements();
    if (double_double_) {
      // The Jacobian (when asked for) comes from the double sweeps below, whose
      // residual values the double-double ones then replace.
      if (values) evaluate_double(x, r_out, values);
      const int threads = E >= kParallelElements ? thread_count() : 1;
#pragma omp parallel num_threads(threads) if (threads > 1)
      {
        std::vector<DoubleDouble> V;
#pragma omp for schedule(static)
        for (int e = 0; e < E; ++e) double_double_element(x, e, r_out, V);
      }
      return;
    }
    evaluate_double(x, r_out, values);
  }

  void evaluate_double(const double* x, double* r_out, double* values) const {
    const int E = n_elements();
    // Starting a parallel region costs more than a few hundred small elements.
    // NOTE: with libgomp's default wait policy the worker threads spin after the
    // region. On a machine without an idle core that spinning takes CPU time from
    // the working thread: 2 threads then took 17 ms where 1 thread took 1.6 ms
    // (bundle adjustment, 2,500 elements, load average 6 on 2 cores), and
    // OMP_WAIT_POLICY=passive removed the difference.
    const int threads = E >= kParallelElements ? thread_count() : 1;
    if (values && !use_reverse_) {
      dispatch_size(elements_->n_locals(), [&](auto size_tag) {
        constexpr int S = decltype(size_tag)::value;
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
          std::vector<Dual<double, S>> V;
#pragma omp for schedule(static)
          for (int e = 0; e < E; ++e) forward_element_rows<S>(x, e, r_out, values, V);
        }
      });
      return;
    }
    const int n_blocks = (E + kLanes - 1) / kLanes;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
      Buffers buffers;
#pragma omp for schedule(static)
      for (int block = 0; block < n_blocks; ++block) {
        const int first = block * kLanes;
        const int count = std::min(kLanes, E - first);
        reverse_block_rows(x, first, count, r_out, values, buffers);
      }
    }
  }

  std::shared_ptr<const ElementEnergy> elements_;
  int n_blocks_ = 0;
  bool use_reverse_ = true;
  bool double_double_ = false;
  std::vector<double> params_low_;  ///< empty, or #E by m low parts of the parameters
  JacobianPattern pattern_;
  std::vector<std::int32_t> local_rank_;  ///< #E by N positions in the element's column list
};

}  // namespace dualtape
