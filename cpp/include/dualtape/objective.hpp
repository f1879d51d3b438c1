// A weighted sum of element energies over one variable vector, with fixed variables,
// evaluated on all cores with a sparse Hessian of fixed pattern.
#pragma once

#include "dualtape/aligned.hpp"
#include "dualtape/element_energy.hpp"
#include "dualtape/interpreter.hpp"
#include "dualtape/projection.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace dualtape {

/// Number of threads used for element evaluation (all cores by default).
inline int& thread_count_setting() {
  static int count = 0;
  return count;
}
inline int thread_count() {
  int count = thread_count_setting();
#ifdef _OPENMP
  if (count <= 0) count = omp_get_max_threads();
#else
  count = 1;
#endif
  return std::max(count, 1);
}
inline void set_thread_count(int count) { thread_count_setting() = count; }

/// Lanes per block of the batched interpreter and of the block Hessian. A build may
/// set another count with -DDUALTAPE_LANES=N (16 measured slower than 32, and 64 no
/// faster for values and gradients).
#ifndef DUALTAPE_LANES
#define DUALTAPE_LANES 32
#endif
constexpr int kLanes = DUALTAPE_LANES;


/// Sparse symmetric matrix pattern in CSR form (both triangles stored).
struct CsrPattern {
  int n = 0;
  std::vector<std::int32_t> row_ptr;
  std::vector<std::int32_t> col;
  std::vector<std::int32_t> diagonal;  ///< position of entry (r, r) of each row
  std::int64_t nnz() const { return std::int64_t(col.size()); }
  std::int32_t find(int row, int column) const {
    const auto begin = col.begin() + row_ptr[row], end = col.begin() + row_ptr[row + 1];
    const auto it = std::lower_bound(begin, end, column);
    return (it != end && *it == column) ? std::int32_t(it - col.begin()) : -1;
  }
};

/// An objective f(x) = Σ_terms weight · Σ_elements energy(x_element, p_element).
///
/// Fixed variables keep their value: their gradient entries are 0, and their rows
/// and columns are dropped from every element Hessian before it is projected. The
/// assembled Hessian has 1 on their diagonal and 0 elsewhere in their rows and
/// columns, so a Newton step never moves them.
///
/// The elements of each term are cut into chunks of kLanes consecutive elements, and
/// the chunks are colored so that no two chunks of one color share a variable block.
/// Colors are processed in order and the chunks of a color in parallel, each writing
/// straight into the gradient and the CSR value array. Every entry thus receives its
/// contributions in the same order for any thread count. Consecutive elements of a
/// mesh usually share vertices, so a chunk reads and writes memory that is close
/// together. When the element order is so scattered that chunks leave too little
/// parallel work per color, single elements are colored instead.
class Objective {
 public:
  Objective(std::vector<std::pair<std::shared_ptr<const ElementEnergy>, double>> terms, int n_blocks, int dim,
            std::vector<std::uint8_t> fixed)
      : n_blocks_(n_blocks), dim_(dim), fixed_(std::move(fixed)) {
    if (terms.empty()) throw std::invalid_argument("an objective needs at least one term");
    if (dim_ < 1) throw std::invalid_argument("dim must be >= 1; got " + std::to_string(dim_));
    if (n_blocks_ < 0) throw std::invalid_argument("n_vars must be >= 0; got " + std::to_string(n_blocks_));
    n_ = std::int64_t(n_blocks_) * dim_;
    if (n_ > std::int64_t(INT32_MAX)) throw std::invalid_argument("too many variables for 32-bit sparse indices");
    if (fixed_.empty()) fixed_.assign(size_t(n_), 0);
    if (std::int64_t(fixed_.size()) != n_)
      throw std::invalid_argument("fixed: expected " + std::to_string(n_) + " flags, got " + std::to_string(fixed_.size()));
    any_fixed_ = std::any_of(fixed_.begin(), fixed_.end(), [](std::uint8_t flag) { return flag != 0; });
    for (size_t t = 0; t < terms.size(); ++t) {
      const auto& [energy, weight] = terms[t];
      if (!energy) throw std::invalid_argument("term " + std::to_string(t) + " has no energy");
      if (energy->tape().n_outputs() != 1)
        throw std::invalid_argument("term " + std::to_string(t) + ": an energy's tape needs one output (the element "
                                    "energy); got " + std::to_string(energy->tape().n_outputs()) + " outputs");
      if (energy->dim() != dim_)
        throw std::invalid_argument("term " + std::to_string(t) + " has dim " + std::to_string(energy->dim()) +
                                    ", but the objective has dim " + std::to_string(dim_));
      if (energy->max_block() >= n_blocks_)
        throw std::out_of_range("term " + std::to_string(t) + ": element index " + std::to_string(energy->max_block()) +
                                " is out of range for " + std::to_string(n_blocks_) + " variable blocks");
      if (!std::isfinite(weight)) throw std::invalid_argument("term " + std::to_string(t) + ": weight is not finite");
      Term term;
      term.energy = energy;
      term.weight = weight;
      color(term);
      terms_.push_back(std::move(term));
    }
    build_pattern();
  }

  std::int64_t n() const { return n_; }
  int n_blocks() const { return n_blocks_; }
  int dim() const { return dim_; }
  const CsrPattern& pattern() const { return pattern_; }
  const std::vector<std::uint8_t>& fixed() const { return fixed_; }
  int n_terms() const { return int(terms_.size()); }
  std::int64_t n_elements() const {
    std::int64_t total = 0;
    for (const auto& term : terms_) total += term.energy->n_elements();
    return total;
  }
  int n_colors(int term) const { return int(terms_.at(term).color_begin.size()) - 1; }
  /// Elements per colored chunk of a term (kLanes, or 1 for a scattered element order).
  int chunk_size(int term) const { return terms_.at(term).chunk; }

  /// f(x).
  double value(const double* x) const { return evaluate(x, nullptr); }

  /// f(x), and ∇f(x) into g (length n).
  double value_and_gradient(const double* x, double* g) const { return evaluate(x, g); }

  /// f(x), ∇f(x) into g, and the (projected) Hessian into the CSR value array.
  double hessian(const double* x, Projection projection, double eps, double* g, double* values) const {
    std::fill(g, g + n_, 0.0);
    std::fill(values, values + pattern_.nnz(), 0.0);
    double total = 0.0;
    for (const Term& term : terms_) total += hessian_term(term, x, projection, eps, g, values);
    for (std::int64_t r = 0; r < n_; ++r)
      if (fixed_[r]) values[pattern_.diagonal[r]] = 1.0;
    return total;
  }

  /// Σ over the listed elements (indices run over the terms in order) of the
  /// weighted element energies, and their gradient into g. Evaluated serially.
  double value_and_gradient_batch(const double* x, const std::int64_t* indices, std::int64_t count, double* g) const {
    std::fill(g, g + n_, 0.0);
    const std::int64_t total_elements = n_elements();
    std::vector<std::vector<std::int32_t>> per_term(terms_.size());
    for (std::int64_t i = 0; i < count; ++i) {
      std::int64_t index = indices[i];
      if (index < 0 || index >= total_elements)
        throw std::out_of_range("element index " + std::to_string(index) + " is outside [0, " + std::to_string(total_elements) + ")");
      size_t t = 0;
      while (index >= terms_[t].energy->n_elements()) index -= terms_[t++].energy->n_elements();
      per_term[t].push_back(std::int32_t(index));
    }
    double total = 0.0;
    BlockBuffers buffers;
    for (size_t t = 0; t < terms_.size(); ++t) {
      const auto& list = per_term[t];
      std::vector<double> energies(list.size());
      for (size_t start = 0; start < list.size(); start += kLanes) {
        const int count_in_block = int(std::min<size_t>(kLanes, list.size() - start));
        gradient_block(terms_[t], x, list.data() + start, count_in_block, energies.data() + start, g, buffers);
      }
      for (double e : energies) total += terms_[t].weight * e;
    }
    return total;
  }

 private:
  /// Up to kLanes elements evaluated together: positions [start, start + count) of
  /// Term::order.
  struct Block {
    std::int64_t start = 0;
    int count = 0;
  };

  struct Term {
    std::shared_ptr<const ElementEnergy> energy;
    double weight = 1.0;
    int chunk = kLanes;                     ///< elements per colored chunk
    std::vector<std::int32_t> order;        ///< elements in evaluation order
    std::vector<Block> blocks;              ///< sorted by color
    std::vector<std::int64_t> color_begin;  ///< offsets into blocks, one past the end last
    std::vector<std::int32_t> scatter;      ///< #E by N×N positions in the CSR value array, −1 if dropped
    /// Per block, in the layout of the interpreter's lanes: N rows of kLanes variable
    /// indices, and m rows of kLanes parameters (lanes past the block's count repeat
    /// its last element), so that loading a block reads memory in sequence.
    AlignedVector<std::int32_t> lane_variables;
    AlignedVector<double> lane_params;
  };

  struct BlockBuffers {
    AlignedVector<double> values, da, db, adjoints;
    void resize(size_t size) {
      if (values.size() < size) {
        values.resize(size);
        da.resize(size);
        db.resize(size);
        adjoints.resize(size);
      }
    }
  };

  // Greedy coloring of chunks of `chunk` consecutive elements: each chunk takes the
  // smallest color not used by a chunk that shares one of its blocks. Returns the
  // color of every chunk and the number of colors.
  std::vector<std::int32_t> color_chunks(const ElementEnergy& energy, int chunk, int& n_colors) const {
    const int E = energy.n_elements();
    const int k = energy.arity();
    const int n_chunks = (E + chunk - 1) / chunk;
    int words = 1;
    std::vector<std::uint64_t> used(size_t(n_blocks_) * words, 0);
    std::vector<std::int32_t> chunk_color(n_chunks, 0);
    n_colors = 0;
    for (int u = 0; u < n_chunks; ++u) {
      const int first = u * chunk, last = std::min(E, first + chunk);
      int chosen = -1;
      for (int w = 0; w < words && chosen < 0; ++w) {
        std::uint64_t taken = 0;
        for (int e = first; e < last; ++e)
          for (int i = 0; i < k; ++i) taken |= used[size_t(energy.element(e)[i]) * words + w];
        if (~taken) chosen = w * 64 + __builtin_ctzll(~taken);
      }
      if (chosen < 0) {
        // All colors so far are taken: widen the masks by one word.
        std::vector<std::uint64_t> wider(size_t(n_blocks_) * (words + 1), 0);
        for (int b = 0; b < n_blocks_; ++b)
          for (int w = 0; w < words; ++w) wider[size_t(b) * (words + 1) + w] = used[size_t(b) * words + w];
        used.swap(wider);
        chosen = words * 64;
        ++words;
      }
      for (int e = first; e < last; ++e)
        for (int i = 0; i < k; ++i)
          used[size_t(energy.element(e)[i]) * words + chosen / 64] |= std::uint64_t(1) << (chosen % 64);
      chunk_color[u] = chosen;
      n_colors = std::max(n_colors, chosen + 1);
    }
    return chunk_color;
  }

  // Colors chunks of kLanes elements, or single elements when chunks would leave
  // fewer than kMinBlocksPerColor blocks per color on average. Then sets the
  // evaluation order and the blocks, sorted by color.
  void color(Term& term) const {
    constexpr int kMinBlocksPerColor = 8;
    const ElementEnergy& energy = *term.energy;
    const int E = energy.n_elements();
    int n_colors = 0;
    term.chunk = kLanes;
    std::vector<std::int32_t> chunk_color = color_chunks(energy, kLanes, n_colors);
    if (E > kLanes && std::int64_t(n_colors) * kMinBlocksPerColor > std::int64_t(chunk_color.size())) {
      term.chunk = 1;
      chunk_color = color_chunks(energy, 1, n_colors);
    }
    const int n_chunks = int(chunk_color.size());
    std::vector<std::int64_t> chunk_begin(n_colors + 1, 0);
    for (int u = 0; u < n_chunks; ++u) chunk_begin[chunk_color[u] + 1]++;
    for (int c = 0; c < n_colors; ++c) chunk_begin[c + 1] += chunk_begin[c];
    std::vector<std::int32_t> chunks_by_color(n_chunks);
    std::vector<std::int64_t> next(chunk_begin.begin(), chunk_begin.end() - 1);
    for (int u = 0; u < n_chunks; ++u) chunks_by_color[next[chunk_color[u]]++] = u;

    term.order.clear();
    term.blocks.clear();
    term.color_begin.assign(1, 0);
    for (int c = 0; c < n_colors; ++c) {
      for (std::int64_t position = chunk_begin[c]; position < chunk_begin[c + 1]; ++position) {
        const int u = chunks_by_color[position];
        for (int e = u * term.chunk; e < std::min(E, (u + 1) * term.chunk); ++e) term.order.push_back(e);
      }
      // Blocks of up to kLanes positions within the color; a chunk of kLanes
      // elements is exactly one block.
      const std::int64_t color_end = std::int64_t(term.order.size());
      std::int64_t start = term.blocks.empty() ? 0 : term.blocks.back().start + term.blocks.back().count;
      while (start < color_end) {
        const int count = int(std::min<std::int64_t>(kLanes, color_end - start));
        if (term.chunk == kLanes) {
          // Keep chunk boundaries: the last chunk of the term may be short.
          const int e = term.order[start];
          const int chunk_count = std::min(kLanes, E - e);
          term.blocks.push_back({start, chunk_count});
          start += chunk_count;
          continue;
        }
        term.blocks.push_back({start, count});
        start += count;
      }
      term.color_begin.push_back(std::int64_t(term.blocks.size()));
    }
    lay_out_blocks(term);
  }

  void lay_out_blocks(Term& term) const {
    const ElementEnergy& energy = *term.energy;
    const int N = energy.n_locals();
    const int m = energy.n_params();
    const size_t n_blocks = term.blocks.size();
    term.lane_variables.resize(n_blocks * N * kLanes);
    term.lane_params.resize(n_blocks * m * kLanes);
    for (size_t b = 0; b < n_blocks; ++b) {
      const Block& block = term.blocks[b];
      std::int32_t* variables = term.lane_variables.data() + b * N * kLanes;
      double* params = term.lane_params.data() + b * m * kLanes;
      for (int l = 0; l < kLanes; ++l) {
        const int e = term.order[block.start + std::min(l, block.count - 1)];
        for (int i = 0; i < N; ++i) variables[i * kLanes + l] = std::int32_t(energy.variable(e, i));
        for (int j = 0; j < m; ++j) params[j * kLanes + l] = energy.params(e)[j];
      }
    }
  }

  // Load block b of a term into the lanes of V: inputs, then parameters.
  void gather_block(const Term& term, std::int64_t b, const double* x, double* V) const {
    const int N = term.energy->n_locals();
    const int m = term.energy->n_params();
    const std::int32_t* variables = term.lane_variables.data() + b * N * kLanes;
    for (int i = 0; i < N * kLanes; ++i) V[i] = x[variables[i]];
    const double* params = term.lane_params.data() + b * m * kLanes;
    std::copy(params, params + m * kLanes, V + N * kLanes);
  }

  // The pattern: every (row, column) pair of free variables that share an element,
  // plus the whole diagonal. Then the scatter map of every term.
  void build_pattern() {
    const int n = int(n_);
    std::vector<std::vector<std::int32_t>> rows(n);
    for (int r = 0; r < n; ++r) rows[r].push_back(r);
    for (const Term& term : terms_) {
      const ElementEnergy& energy = *term.energy;
      const int N = energy.n_locals();
      std::vector<std::int64_t> vars(N);
      for (int e = 0; e < energy.n_elements(); ++e) {
        for (int i = 0; i < N; ++i) vars[i] = energy.variable(e, i);
        for (int i = 0; i < N; ++i) {
          if (fixed_[vars[i]]) continue;
          for (int j = 0; j < N; ++j)
            if (!fixed_[vars[j]]) rows[vars[i]].push_back(std::int32_t(vars[j]));
        }
      }
    }
    pattern_.n = n;
    pattern_.row_ptr.assign(n + 1, 0);
    for (int r = 0; r < n; ++r) {
      auto& row = rows[r];
      std::sort(row.begin(), row.end());
      row.erase(std::unique(row.begin(), row.end()), row.end());
      pattern_.row_ptr[r + 1] = pattern_.row_ptr[r] + std::int32_t(row.size());
    }
    pattern_.col.reserve(pattern_.row_ptr[n]);
    for (int r = 0; r < n; ++r) {
      pattern_.col.insert(pattern_.col.end(), rows[r].begin(), rows[r].end());
      std::vector<std::int32_t>().swap(rows[r]);
    }
    pattern_.diagonal.resize(n);
    for (int r = 0; r < n; ++r) pattern_.diagonal[r] = pattern_.find(r, r);

    for (Term& term : terms_) {
      const ElementEnergy& energy = *term.energy;
      const int N = energy.n_locals();
      term.scatter.assign(size_t(energy.n_elements()) * N * N, -1);
      std::vector<std::int64_t> vars(N);
      for (int e = 0; e < energy.n_elements(); ++e) {
        for (int i = 0; i < N; ++i) vars[i] = energy.variable(e, i);
        std::int32_t* map = term.scatter.data() + size_t(e) * N * N;
        for (int i = 0; i < N; ++i) {
          if (fixed_[vars[i]]) continue;
          for (int j = 0; j < N; ++j)
            if (!fixed_[vars[j]]) map[i * N + j] = pattern_.find(int(vars[i]), int(vars[j]));
        }
      }
    }
  }

  // Load the inputs and parameters of `count` elements into the lanes of V. The
  // lanes past count repeat the last element, so every lane contains valid data.
  void gather(const ElementEnergy& energy, const double* x, const std::int32_t* elements, int count, double* V) const {
    const int N = energy.n_locals();
    const int m = energy.n_params();
    for (int l = 0; l < kLanes; ++l) {
      const int e = elements[std::min(l, count - 1)];
      const std::int64_t* vars = energy.variables(e);
      for (int i = 0; i < N; ++i) V[std::ptrdiff_t(i) * kLanes + l] = x[vars[i]];
      const double* p = energy.params(e);
      for (int j = 0; j < m; ++j) V[std::ptrdiff_t(N + j) * kLanes + l] = p[j];
    }
  }

  // Values of `count` elements into energies; with g, also their gradients
  // scattered into g (fixed entries skipped). The elements are block b of the term
  // (b ≥ 0) or any list of elements (b < 0).
  void gradient_block(const Term& term, const double* x, const std::int32_t* elements, int count, double* energies,
                      double* g, BlockBuffers& buffers, std::int64_t b = -1) const {
    const ElementEnergy& energy = *term.energy;
    const Tape& tape = energy.tape();
    const size_t slots = size_t(tape.size()) * kLanes;
    buffers.resize(slots);
    double* V = buffers.values.data();
    if (b >= 0) gather_block(term, b, x, V);
    else gather(energy, x, elements, count, V);
    const int out = tape.outputs()[0];
    if (!g) {
      forward_block<kLanes, false>(tape, V, nullptr, nullptr);
      for (int l = 0; l < count; ++l) energies[l] = V[std::ptrdiff_t(out) * kLanes + l];
      return;
    }
    forward_block<kLanes, true>(tape, V, buffers.da.data(), buffers.db.data());
    for (int l = 0; l < count; ++l) energies[l] = V[std::ptrdiff_t(out) * kLanes + l];
    double* ADJ = buffers.adjoints.data();
    double seeds[kLanes];
    for (int l = 0; l < kLanes; ++l) seeds[l] = l < count ? term.weight : 0.0;
    reverse_block_checked<kLanes>(tape, buffers.da.data(), buffers.db.data(), seeds, ADJ);
    const int N = energy.n_locals();
    if (b >= 0 && !any_fixed_) {
      const std::int32_t* variables = term.lane_variables.data() + b * N * kLanes;
      for (int i = 0; i < N; ++i)
        for (int l = 0; l < count; ++l) g[variables[i * kLanes + l]] += ADJ[std::ptrdiff_t(i) * kLanes + l];
      return;
    }
    for (int l = 0; l < count; ++l) {
      const std::int64_t* vars = energy.variables(elements[l]);
      if (any_fixed_) {
        for (int i = 0; i < N; ++i)
          if (!fixed_[vars[i]]) g[vars[i]] += ADJ[std::ptrdiff_t(i) * kLanes + l];
      } else {
        for (int i = 0; i < N; ++i) g[vars[i]] += ADJ[std::ptrdiff_t(i) * kLanes + l];
      }
    }
  }

  // Calls body(b, workspace) for every block b of a term, colors in order. Several
  // threads share the blocks of one color, and the barrier after each `omp for`
  // keeps the colors in order. One thread runs the loops without a parallel region.
  template <typename Workspace, typename Body>
  static void for_each_block(const Term& term, int threads, Body&& body) {
    const int n_colors = int(term.color_begin.size()) - 1;
    if (threads <= 1 || term.energy->n_elements() <= 4 * kLanes) {
      Workspace workspace;
      for (std::int64_t b = 0; b < std::int64_t(term.blocks.size()); ++b) body(b, workspace);
      return;
    }
#pragma omp parallel num_threads(threads)
    {
      Workspace workspace;
      for (int c = 0; c < n_colors; ++c) {
#pragma omp for schedule(static)
        for (std::int64_t b = term.color_begin[c]; b < term.color_begin[c + 1]; ++b) body(b, workspace);
      }
    }
  }

  double evaluate(const double* x, double* g) const {
    if (g) std::fill(g, g + n_, 0.0);
    double total = 0.0;
    for (const Term& term : terms_) {
      std::vector<double> energies(term.energy->n_elements());
      for_each_block<BlockBuffers>(term, thread_count(), [&](std::int64_t b, BlockBuffers& buffers) {
        const Block& block = term.blocks[b];
        gradient_block(term, x, term.order.data() + block.start, block.count, energies.data() + block.start, g,
                       buffers, b);
      });
      double sum = 0.0;
      for (double e : energies) sum += e;
      total += term.weight * sum;
    }
    return total;
  }

  // Element Hessians by forward-over-reverse, with fixed rows and columns dropped,
  // projected and scattered into the CSR value array.
  template <int N>
  static void project_and_scatter(double* H_data, int n, const char* is_fixed, bool any_fixed,
                                  Projection projection, double eps, const std::int32_t* map, double* values) {
    if (!any_fixed) {
      if constexpr (N != Eigen::Dynamic) {
        Eigen::Map<Eigen::Matrix<double, N, N, Eigen::RowMajor>> H(H_data);
        Eigen::Matrix<double, N, N> M = H;
        project_positive_definite(M, projection, eps);
        for (int i = 0; i < N; ++i)
          for (int j = 0; j < N; ++j) values[map[i * N + j]] += M(i, j);
        return;
      }
    }
    std::vector<int> free_index;
    for (int i = 0; i < n; ++i)
      if (!is_fixed[i]) free_index.push_back(i);
    const int f = int(free_index.size());
    if (f == 0) return;
    Eigen::MatrixXd M(f, f);
    for (int i = 0; i < f; ++i)
      for (int j = 0; j < f; ++j) M(i, j) = H_data[std::ptrdiff_t(free_index[i]) * n + free_index[j]];
    project_positive_definite(M, projection, eps);
    for (int i = 0; i < f; ++i)
      for (int j = 0; j < f; ++j) values[map[free_index[i] * n + free_index[j]]] += M(i, j);
  }

  // Value, gradient and projected Hessian of one element from its local gradient and
  // Hessian: weighted, fixed entries dropped, scattered into g and the CSR values.
  template <int S>
  void add_element(const Term& term, int e, double* g_local, double* H_local, Projection projection, double eps,
                   double* g, double* values) const {
    const int N = term.energy->n_locals();
    const std::int64_t* vars = term.energy->variables(e);
    const std::int32_t* map = term.scatter.data() + size_t(e) * N * N;
    if (!any_fixed_ && projection == Projection::None) {
      // The common case of an unprojected Hessian without fixed variables. The
      // weight is a local, so that the stores into values need not reload it.
      const double weight = term.weight;
      for (int i = 0; i < N; ++i) g[vars[i]] += weight * g_local[i];
      for (int i = 0; i < N * N; ++i) values[map[i]] += weight * H_local[i];
      return;
    }
    std::array<char, 64> fixed_small{};
    std::vector<char> fixed_large;
    char* is_fixed = fixed_small.data();
    if (N > int(fixed_small.size())) {
      fixed_large.assign(N, 0);
      is_fixed = fixed_large.data();
    }
    bool any_fixed = false;
    for (int i = 0; i < N; ++i) {
      is_fixed[i] = char(fixed_[vars[i]]);
      any_fixed = any_fixed || is_fixed[i];
    }
    if (term.weight != 1.0)
      for (int i = 0; i < N * N; ++i) H_local[i] *= term.weight;
    for (int i = 0; i < N; ++i)
      if (!is_fixed[i]) g[vars[i]] += term.weight * g_local[i];
    project_and_scatter<S>(H_local, N, is_fixed, any_fixed, projection, eps, map, values);
  }

  // Adds the gradient and the symmetrized Hessian of lane l of a finished, finite
  // hessian_block straight into g and the CSR values: the unprojected case without
  // fixed variables, which needs no local copy.
  template <int S>
  void scatter_lane(const Term& term, int e, const HessianBlockWorkspace<kLanes, S>& ws, int l, double* g,
                    double* values) const {
    const double weight = term.weight;
    const std::int64_t* vars = term.energy->variables(e);
    const std::int32_t* map = term.scatter.data() + size_t(e) * S * S;
    const double* W = ws.adjoints.data() + l;
    const double* WT = ws.adjoint_tangents.data() + l;
    for (int i = 0; i < S; ++i) g[vars[i]] += weight * W[std::ptrdiff_t(i) * kLanes];
    for (int i = 0; i < S; ++i)
      for (int j = 0; j < S; ++j) {
        const double h = symmetric_mean(WT[(std::ptrdiff_t(i) * S + j) * kLanes], WT[(std::ptrdiff_t(j) * S + i) * kLanes]);
        values[map[i * S + j]] += weight * h;
      }
  }

  // Adds the element Hessians of one term, color by color. Compile-time input counts
  // run forward-over-reverse on blocks of kLanes elements (hessian_block). A lane
  // whose result is not finite, and every element of other sizes, runs
  // hessian_point, which obeys the zero rule.
  double hessian_term(const Term& term, const double* x, Projection projection, double eps, double* g,
                      double* values) const {
    const ElementEnergy& energy = *term.energy;
    const Tape& tape = energy.tape();
    const int N = energy.n_locals();
    const int E = energy.n_elements();
    std::vector<double> energies(E);
    const int threads = thread_count();
    const int out = tape.outputs()[0];
    dispatch_size(N, [&](auto size_tag) {
      constexpr int S = decltype(size_tag)::value;
      struct Workspace {
        HessianWorkspace<S> point;
        std::conditional_t<S == Eigen::Dynamic, int, HessianBlockWorkspace<kLanes, std::max(S, 1)>> block{};
        std::vector<double> x_local, g_local, H_local;
      };
      for_each_block<Workspace>(term, threads, [&](std::int64_t b, Workspace& ws) {
        const Block& block = term.blocks[b];
        const std::int32_t* elements = term.order.data() + block.start;
        ws.x_local.resize(N);
        ws.g_local.resize(N);
        ws.H_local.resize(size_t(N) * N);
        double* g_local = ws.g_local.data();
        double* H_local = ws.H_local.data();
        auto exact = [&](int index) {
          const int e = elements[index];
          const std::int64_t* vars = energy.variables(e);
          for (int i = 0; i < N; ++i) ws.x_local[i] = x[vars[i]];
          energies[block.start + index] =
              hessian_point<S>(tape, 0, ws.x_local.data(), energy.params(e), g_local, H_local, ws.point);
          add_element<S>(term, e, g_local, H_local, projection, eps, g, values);
        };
        if constexpr (S == Eigen::Dynamic) {
          for (int index = 0; index < block.count; ++index) exact(index);
        } else {
          ws.block.prepare(tape);
          double* V = ws.block.values.data();
          gather_block(term, b, x, V);
          hessian_block<kLanes, S>(tape, ws.block);
          const bool plain = !any_fixed_ && projection == Projection::None;
          for (int l = 0; l < block.count; ++l) {
            if (!ws.block.finite[l]) {
              exact(l);
              continue;
            }
            energies[block.start + l] = V[std::ptrdiff_t(out) * kLanes + l];
            if (plain) {
              scatter_lane<S>(term, elements[l], ws.block, l, g, values);
            } else {
              hessian_block_lane<kLanes, S>(ws.block, l, g_local, H_local);
              add_element<S>(term, elements[l], g_local, H_local, projection, eps, g, values);
            }
          }
        }
      });
    });
    double sum = 0.0;
    for (double e : energies) sum += e;
    return term.weight * sum;
  }

  int n_blocks_ = 0;
  int dim_ = 1;
  std::int64_t n_ = 0;
  std::vector<std::uint8_t> fixed_;
  bool any_fixed_ = false;
  std::vector<Term> terms_;
  CsrPattern pattern_;
};

}  // namespace dualtape
