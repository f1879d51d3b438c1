// Benchmark: dualtape's Objective on the symmetric Dirichlet energy, against a
// hand-written closed-form version of the same energy, its gradient and its 6×6
// element Hessian, timed side by side in one process.
//
// Input: files written by bench/write_bench_input.py (the tape traced in Python,
// the triangles, their rest frames and the Tutte embedding as evaluation point).
//
//   bench_symmetric_dirichlet [--threads T] [--seconds S] INPUT.txt ...
//
// Each mesh is timed on 1 thread and on T threads (default: all cores). The
// quantities are value, value+gradient, value+gradient+Hessian into the CSR value
// array (unprojected), and the same with the 6×6 eigenvalue clamp. For each, the
// benchmark prints the median wall time of the reference and of dualtape, and
// their ratio. Single-threaded, it also splits the Hessian into its sub-steps. Both sides use dualtape::project_positive_definite,
// so the projection costs the same on both.
#include "dualtape/interpreter.hpp"
#include "dualtape/objective.hpp"
#include "dualtape/projection.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using dualtape::CsrPattern;
using dualtape::Projection;

// ---------------------------------------------------------------------------
// Input

struct BenchInput {
  std::string name;
  std::shared_ptr<const dualtape::Tape> tape;
  int n_vertices = 0;
  int dim = 0;
  std::vector<double> x;               ///< #V by dim evaluation point, row-major
  std::vector<std::int32_t> elements;  ///< #F by 3 vertex indices
  std::vector<double> params;          ///< #F by 5: rest area, M⁻¹ row-major
  int n_params = 0;
  int n_elements() const { return int(elements.size() / 3); }
};

class TokenReader {
 public:
  explicit TokenReader(const std::string& path) : path_(path), in_(path) {
    if (!in_) throw std::runtime_error(path + ": cannot open the benchmark input");
  }
  std::string word() {
    std::string token;
    if (!(in_ >> token)) throw std::runtime_error(path_ + ": unexpected end of file");
    return token;
  }
  void expect(const std::string& keyword) {
    const std::string token = word();
    if (token != keyword) throw std::runtime_error(path_ + ": expected '" + keyword + "', got '" + token + "'");
  }
  long integer() {
    const std::string token = word();
    char* end = nullptr;
    const long value = std::strtol(token.c_str(), &end, 10);
    if (*end != '\0') throw std::runtime_error(path_ + ": expected an integer, got '" + token + "'");
    return value;
  }
  // strtod, unlike operator>>, reads "inf" (the tape's +inf constant).
  double real() {
    const std::string token = word();
    char* end = nullptr;
    const double value = std::strtod(token.c_str(), &end);
    if (*end != '\0') throw std::runtime_error(path_ + ": expected a number, got '" + token + "'");
    return value;
  }

 private:
  std::string path_;
  std::ifstream in_;
};

dualtape::Op parse_op(const std::string& name) {
  for (int i = 0; i < dualtape::kOpCount; ++i)
    if (name == dualtape::op_name(dualtape::Op(i))) return dualtape::Op(i);
  throw std::runtime_error("unknown operation '" + name + "' in the benchmark input");
}

BenchInput read_input(const std::string& path) {
  TokenReader reader(path);
  BenchInput input;
  reader.expect("dualtape-bench-input");
  if (reader.integer() != 1) throw std::runtime_error(path + ": unsupported format version");
  reader.expect("mesh");
  input.name = reader.word();

  reader.expect("tape");
  const int n_inputs = int(reader.integer());
  const int n_params = int(reader.integer());
  const int size = int(reader.integer());
  const int n_outputs = int(reader.integer());
  std::vector<int> outputs(n_outputs);
  for (int& out : outputs) out = int(reader.integer());
  std::vector<dualtape::Instruction> code(size);
  for (auto& ins : code) {
    ins.op = parse_op(reader.word());
    ins.a = std::int32_t(reader.integer());
    ins.b = std::int32_t(reader.integer());
    ins.c = std::int32_t(reader.integer());
    ins.k = reader.real();
  }
  input.tape = std::make_shared<dualtape::Tape>(n_inputs, n_params, code, outputs);

  reader.expect("vertices");
  input.n_vertices = int(reader.integer());
  input.dim = int(reader.integer());
  if (input.dim != 2) throw std::runtime_error(path + ": the benchmark needs 2-D vertices");
  input.x.resize(size_t(input.n_vertices) * input.dim);
  for (double& v : input.x) v = reader.real();

  reader.expect("elements");
  const int n_elements = int(reader.integer());
  const int arity = int(reader.integer());
  input.n_params = int(reader.integer());
  if (arity != 3 || input.n_params != 5)
    throw std::runtime_error(path + ": expected triangles with 5 parameters (area, M⁻¹)");
  input.elements.resize(size_t(n_elements) * 3);
  input.params.resize(size_t(n_elements) * 5);
  for (int e = 0; e < n_elements; ++e) {
    for (int i = 0; i < 3; ++i) input.elements[size_t(e) * 3 + i] = std::int32_t(reader.integer());
    for (int j = 0; j < 5; ++j) input.params[size_t(e) * 5 + j] = reader.real();
  }
  return input;
}

// ---------------------------------------------------------------------------
// Reference: the symmetric Dirichlet energy in closed form.
//
// Local variables of a triangle: (u₀, v₀, u₁, v₁, u₂, v₂). With the edge matrix
// D = [x₁ − x₀, x₂ − x₀] and the rest inverse M⁻¹, J = D M⁻¹, so row r of J is
// J_rj = Σ_a x_{a,r} G_aj with G = [−(m₀ + m₁); m₀; m₁] (3×2, mᵢ = row i of M⁻¹).
// With f = ‖J‖²_F, d = det J and c = ∂d/∂J = (J₁₁, −J₁₀, −J₀₁, J₀₀) (J stored as
// (J₀₀, J₀₁, J₁₀, J₁₁)):
//   E      = A (f + f/d²)                                   (+inf if d ≤ 0)
//   ∂E/∂J  = A (2(1 + 1/d²) J − (2f/d³) c)
//   ∂²E/∂J² = A (2(1 + 1/d²) I − (4/d³)(J cᵀ + c Jᵀ) + (6f/d⁴) c cᵀ − (2f/d³) K)
// where K = ∂c/∂J is the constant matrix with K₀₃ = K₃₀ = 1, K₁₂ = K₂₁ = −1.
// The chain rule through the linear map x → J gives ∂E/∂x_{a,r} = Σ_j (∂E/∂J)_rj G_aj
// and ∂²E/∂x_{a,r}∂x_{b,s} = Σ_{j,l} G_aj G_bl (∂²E/∂J²)_{(r,j),(s,l)}.

constexpr double kInf = std::numeric_limits<double>::infinity();

struct TriangleJacobian {
  double J[4];  // J₀₀, J₀₁, J₁₀, J₁₁
  double det;
  double frobenius;
};

inline TriangleJacobian triangle_jacobian(const double* x0, const double* x1, const double* x2, const double* p) {
  const double d00 = x1[0] - x0[0], d01 = x2[0] - x0[0];
  const double d10 = x1[1] - x0[1], d11 = x2[1] - x0[1];
  TriangleJacobian t;
  t.J[0] = d00 * p[1] + d01 * p[3];
  t.J[1] = d00 * p[2] + d01 * p[4];
  t.J[2] = d10 * p[1] + d11 * p[3];
  t.J[3] = d10 * p[2] + d11 * p[4];
  t.det = t.J[0] * t.J[3] - t.J[1] * t.J[2];
  t.frobenius = t.J[0] * t.J[0] + t.J[1] * t.J[1] + t.J[2] * t.J[2] + t.J[3] * t.J[3];
  return t;
}

inline double triangle_energy(const TriangleJacobian& t, double area) {
  if (!(t.det > 0.0)) return kInf;
  return area * (t.frobenius + t.frobenius / (t.det * t.det));
}

// Energy of one triangle and its gradient (6 entries, zero-filled when inverted).
inline double triangle_gradient(const double* x0, const double* x1, const double* x2, const double* p,
                                double* grad) {
  const TriangleJacobian t = triangle_jacobian(x0, x1, x2, p);
  const double energy = triangle_energy(t, p[0]);
  if (energy == kInf) {
    std::fill(grad, grad + 6, 0.0);
    return energy;
  }
  const double inv_d = 1.0 / t.det;
  const double alpha = 2.0 * p[0] * (1.0 + inv_d * inv_d);
  const double beta = 2.0 * p[0] * t.frobenius * inv_d * inv_d * inv_d;
  const double c[4] = {t.J[3], -t.J[2], -t.J[1], t.J[0]};
  double P[4];  // ∂E/∂J
  for (int q = 0; q < 4; ++q) P[q] = alpha * t.J[q] - beta * c[q];
  const double G[3][2] = {{-(p[1] + p[3]), -(p[2] + p[4])}, {p[1], p[2]}, {p[3], p[4]}};
  for (int a = 0; a < 3; ++a) {
    grad[2 * a] = P[0] * G[a][0] + P[1] * G[a][1];
    grad[2 * a + 1] = P[2] * G[a][0] + P[3] * G[a][1];
  }
  return energy;
}

// Energy, gradient and 6×6 Hessian of one triangle.
inline double triangle_hessian(const double* x0, const double* x1, const double* x2, const double* p,
                               double* grad, Eigen::Matrix<double, 6, 6>& H) {
  const TriangleJacobian t = triangle_jacobian(x0, x1, x2, p);
  const double energy = triangle_energy(t, p[0]);
  if (energy == kInf) {
    std::fill(grad, grad + 6, 0.0);
    H.setZero();
    return energy;
  }
  const double area = p[0];
  const double inv_d = 1.0 / t.det;
  const double inv_d2 = inv_d * inv_d, inv_d3 = inv_d2 * inv_d;
  const Eigen::Vector4d J(t.J[0], t.J[1], t.J[2], t.J[3]);
  const Eigen::Vector4d c(t.J[3], -t.J[2], -t.J[1], t.J[0]);

  const Eigen::Vector4d P = area * (2.0 * (1.0 + inv_d2) * J - 2.0 * t.frobenius * inv_d3 * c);
  Eigen::Matrix4d HJ = (-4.0 * area * inv_d3) * (J * c.transpose() + c * J.transpose()) +
                       (6.0 * area * t.frobenius * inv_d2 * inv_d2) * (c * c.transpose());
  HJ.diagonal().array() += 2.0 * area * (1.0 + inv_d2);
  const double k = 2.0 * area * t.frobenius * inv_d3;
  HJ(0, 3) -= k;
  HJ(3, 0) -= k;
  HJ(1, 2) += k;
  HJ(2, 1) += k;

  Eigen::Matrix<double, 3, 2> G;
  G << -(p[1] + p[3]), -(p[2] + p[4]), p[1], p[2], p[3], p[4];
  for (int a = 0; a < 3; ++a) {
    grad[2 * a] = P[0] * G(a, 0) + P[1] * G(a, 1);
    grad[2 * a + 1] = P[2] * G(a, 0) + P[3] * G(a, 1);
  }
  // Block (r, s) of the Hessian in x is G · HJ[2r.., 2s..] · Gᵀ.
  for (int r = 0; r < 2; ++r)
    for (int s = r; s < 2; ++s) {
      const Eigen::Matrix3d block = G * HJ.block<2, 2>(2 * r, 2 * s) * G.transpose();
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
          H(2 * a + r, 2 * b + s) = block(a, b);
          H(2 * b + s, 2 * a + r) = block(a, b);
        }
    }
  return energy;
}

// Greedy coloring of the triangles so that no two triangles of one color share a
// vertex: elements of one color can scatter into g and the CSR values in parallel.
std::vector<std::vector<std::int32_t>> color_elements(const std::vector<std::int32_t>& elements, int n_vertices) {
  const int E = int(elements.size() / 3);
  std::vector<std::vector<int>> vertex_colors(n_vertices);
  std::vector<std::vector<std::int32_t>> colors;
  for (int e = 0; e < E; ++e) {
    const std::int32_t* v = elements.data() + size_t(e) * 3;
    int chosen = 0;
    auto color_is_used = [&](int color) {
      for (int i = 0; i < 3; ++i)
        for (int used : vertex_colors[v[i]])
          if (used == color) return true;
      return false;
    };
    while (color_is_used(chosen)) ++chosen;
    if (chosen == int(colors.size())) colors.emplace_back();
    colors[chosen].push_back(e);
    for (int i = 0; i < 3; ++i) vertex_colors[v[i]].push_back(chosen);
  }
  return colors;
}

// The hand-written objective: the same sum as dualtape's, the same CSR pattern.
class ReferenceObjective {
 public:
  ReferenceObjective(const BenchInput& input, const CsrPattern& pattern)
      : input_(input), n_(std::int64_t(input.n_vertices) * 2), nnz_(pattern.nnz()) {
    const int E = input.n_elements();
    scatter_.resize(size_t(E) * 36);
    for (int e = 0; e < E; ++e) {
      const std::int32_t* v = input.elements.data() + size_t(e) * 3;
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j)
          scatter_[size_t(e) * 36 + i * 6 + j] = pattern.find(v[i / 2] * 2 + i % 2, v[j / 2] * 2 + j % 2);
    }
    colors_ = color_elements(input.elements, input.n_vertices);
  }

  double value(const double* x, int threads) const {
    const int E = input_.n_elements();
    double total = 0.0;
#pragma omp parallel for num_threads(threads) if (threads > 1) reduction(+ : total) schedule(static)
    for (int e = 0; e < E; ++e) {
      const std::int32_t* v = input_.elements.data() + size_t(e) * 3;
      const double* p = input_.params.data() + size_t(e) * 5;
      total += triangle_energy(triangle_jacobian(x + 2 * v[0], x + 2 * v[1], x + 2 * v[2], p), p[0]);
    }
    return total;
  }

  // With in_color_order, one thread also visits the elements color by color.
  double value_and_gradient(const double* x, double* g, int threads, bool in_color_order = false) const {
    std::fill(g, g + n_, 0.0);
    return for_each_element(threads, in_color_order, [&](int e) {
      const std::int32_t* v = input_.elements.data() + size_t(e) * 3;
      double grad[6];
      const double energy = triangle_gradient(x + 2 * v[0], x + 2 * v[1], x + 2 * v[2],
                                              input_.params.data() + size_t(e) * 5, grad);
      for (int a = 0; a < 3; ++a) {
        g[2 * v[a]] += grad[2 * a];
        g[2 * v[a] + 1] += grad[2 * a + 1];
      }
      return energy;
    });
  }

  double hessian(const double* x, Projection projection, double eps, double* g, double* values, int threads) const {
    std::fill(g, g + n_, 0.0);
    std::fill(values, values + nnz_, 0.0);
    return for_each_element(threads, false, [&](int e) {
      const std::int32_t* v = input_.elements.data() + size_t(e) * 3;
      double grad[6];
      Eigen::Matrix<double, 6, 6> H;
      const double energy = triangle_hessian(x + 2 * v[0], x + 2 * v[1], x + 2 * v[2],
                                             input_.params.data() + size_t(e) * 5, grad, H);
      for (int a = 0; a < 3; ++a) {
        g[2 * v[a]] += grad[2 * a];
        g[2 * v[a] + 1] += grad[2 * a + 1];
      }
      dualtape::project_positive_definite(H, projection, eps);
      const std::int32_t* map = scatter_.data() + size_t(e) * 36;
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j) values[map[i * 6 + j]] += H(i, j);
      return energy;
    });
  }

  const std::vector<std::int32_t>& scatter() const { return scatter_; }

 private:
  // Run body(e) for every element and sum what it returns. One thread walks the
  // elements in order unless in_color_order is set; several threads take one
  // color at a time.
  template <typename Body>
  double for_each_element(int threads, bool in_color_order, Body&& body) const {
    double total = 0.0;
    if (threads <= 1 && !in_color_order) {
      const int E = input_.n_elements();
      for (int e = 0; e < E; ++e) total += body(e);
      return total;
    }
    for (const auto& color : colors_) {
      const std::int64_t count = std::int64_t(color.size());
#pragma omp parallel for num_threads(threads) if (threads > 1) reduction(+ : total) schedule(static)
      for (std::int64_t i = 0; i < count; ++i) total += body(color[i]);
    }
    return total;
  }

  const BenchInput& input_;
  std::int64_t n_;
  std::int64_t nnz_;
  std::vector<std::int32_t> scatter_;
  std::vector<std::vector<std::int32_t>> colors_;
};

// ---------------------------------------------------------------------------
// Timing

using Clock = std::chrono::steady_clock;

template <typename F>
double milliseconds(F&& f) {
  const auto start = Clock::now();
  f();
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  return n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

struct Pair {
  double reference_ms = 0.0;
  double dualtape_ms = 0.0;
  int rounds = 0;
};

// Time two functions in alternating rounds, so that a load change on a shared
// machine hits both alike. After one warm-up call each, the rounds go on until
// `seconds` have passed (at least 5 and at most 500 rounds). Returns the medians.
Pair time_pair(const std::function<void()>& reference, const std::function<void()>& tape, double seconds) {
  reference();
  tape();
  std::vector<double> a, b;
  const auto start = Clock::now();
  while (a.size() < 500) {
    a.push_back(milliseconds(reference));
    b.push_back(milliseconds(tape));
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (a.size() >= 5 && elapsed > seconds) break;
  }
  return {median(a), median(b), int(a.size())};
}

double time_one(const std::function<void()>& f, double seconds) {
  f();
  std::vector<double> samples;
  const auto start = Clock::now();
  while (samples.size() < 500) {
    samples.push_back(milliseconds(f));
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (samples.size() >= 5 && elapsed > seconds) break;
  }
  return median(samples);
}

// ---------------------------------------------------------------------------
// Agreement of the two implementations

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double scale = 0.0, difference = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, std::abs(a[i]));
    difference = std::max(difference, std::abs(a[i] - b[i]));
  }
  return difference / std::max(scale, 1e-300);
}

struct Setup {
  const BenchInput& input;
  const dualtape::Objective& objective;
  const ReferenceObjective& reference;
};

// Compare value, gradient and both Hessians; return false (and print why) if the
// two implementations disagree beyond rounding.
bool check_agreement(const Setup& s, double eps) {
  const double* x = s.input.x.data();
  const std::int64_t n = s.objective.n();
  const std::int64_t nnz = s.objective.pattern().nnz();
  std::vector<double> g_ref(n), g_tape(n), h_ref(nnz), h_tape(nnz);
  const double f_ref = s.reference.value_and_gradient(x, g_ref.data(), 1);
  const double f_tape = s.objective.value_and_gradient(x, g_tape.data());
  const double f_difference = std::abs(f_ref - f_tape) / std::abs(f_ref);
  const double g_difference = max_relative_difference(g_ref, g_tape);
  std::printf("agreement: energy %.12g (reference) vs %.12g (dualtape), relative difference %.1e; "
              "gradient %.1e",
              f_ref, f_tape, f_difference, g_difference);
  bool ok = f_difference < 1e-12 && g_difference < 1e-10;
  for (Projection projection : {Projection::None, Projection::Clamp}) {
    s.reference.hessian(x, projection, eps, g_ref.data(), h_ref.data(), 1);
    s.objective.hessian(x, projection, eps, g_tape.data(), h_tape.data());
    const double h_difference = max_relative_difference(h_ref, h_tape);
    std::printf("; Hessian (%s) %.1e", projection == Projection::None ? "unprojected" : "clamp", h_difference);
    ok = ok && h_difference < 1e-9;
  }
  std::printf(" (max |difference| / max |entry|)\n");
  return ok;
}

// ---------------------------------------------------------------------------
// Reports

// The 1-minute load average from /proc/loadavg, or −1 where it cannot be read. The
// machine may be shared, and a load above the core count slows the multi-threaded
// runs most.
double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = -1.0;
  if (!(in >> load)) return -1.0;
  return load;
}

struct Target {
  const char* label;
  double ratio;  // ≤ 0: none
};

void print_row(const char* quantity, const Pair& pair, const Target& target, bool single_thread) {
  const double ratio = pair.dualtape_ms / pair.reference_ms;
  char target_text[64] = "";
  if (single_thread && target.ratio > 0)
    std::snprintf(target_text, sizeof target_text, "<= %.1fx %s", target.ratio, ratio <= target.ratio ? "met" : "MISSED");
  std::printf("| %-32s | %12.3f | %12.3f | %7.2fx | %-14s | %6d |\n", quantity, pair.reference_ms, pair.dualtape_ms,
              ratio, target_text, pair.rounds);
}

void run_main_table(const Setup& s, int threads, double seconds, double eps) {
  dualtape::set_thread_count(threads);
  const double* x = s.input.x.data();
  const std::int64_t n = s.objective.n();
  const std::int64_t nnz = s.objective.pattern().nnz();
  std::vector<double> g_ref(n), g_tape(n), h_ref(nnz), h_tape(nnz);
  volatile double sink = 0.0;
  const bool single = threads == 1;

  std::printf("\n%s, %d thread%s (median ms over alternating rounds; load average %.2f)\n\n",
              s.input.name.c_str(), threads, threads == 1 ? "" : "s", load_average());
  std::printf("| %-32s | %12s | %12s | %8s | %-14s | %6s |\n", "quantity", "reference ms", "dualtape ms", "ratio",
              "target", "rounds");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(34, '-').c_str(), std::string(14, '-').c_str(),
              std::string(14, '-').c_str(), std::string(10, '-').c_str(), std::string(16, '-').c_str(),
              std::string(8, '-').c_str());

  print_row("value",
            time_pair([&] { sink = s.reference.value(x, threads); }, [&] { sink = s.objective.value(x); }, seconds),
            {"", 0.0}, single);
  print_row("value + gradient",
            time_pair([&] { sink = s.reference.value_and_gradient(x, g_ref.data(), threads); },
                      [&] { sink = s.objective.value_and_gradient(x, g_tape.data()); }, seconds),
            {"", 2.0}, single);
  print_row("value + gradient + Hessian + CSR",
            time_pair([&] { sink = s.reference.hessian(x, Projection::None, eps, g_ref.data(), h_ref.data(), threads); },
                      [&] { sink = s.objective.hessian(x, Projection::None, eps, g_tape.data(), h_tape.data()); },
                      seconds),
            {"", 3.0}, single);
  print_row("... with 6x6 clamp projection",
            time_pair([&] { sink = s.reference.hessian(x, Projection::Clamp, eps, g_ref.data(), h_ref.data(), threads); },
                      [&] { sink = s.objective.hessian(x, Projection::Clamp, eps, g_tape.data(), h_tape.data()); },
                      seconds),
            {"", 1.2}, single);
  (void)sink;
}

// Single-threaded sub-steps of the Hessian: the element Hessians alone (closed
// form, and dualtape's forward-over-reverse on the same tape, one element at a
// time and on blocks of lanes), the 6×6 clamp alone on stored element Hessians,
// and the scatter alone.
void run_breakdown(const Setup& s, double seconds, double eps) {
  const BenchInput& input = s.input;
  const int E = input.n_elements();
  const double* x = input.x.data();
  const dualtape::Tape& tape = *input.tape;
  std::vector<Eigen::Matrix<double, 6, 6>> element_hessians(E);
  std::vector<double> element_gradients(size_t(E) * 6);
  volatile double sink = 0.0;

  auto closed_form = [&] {
    double total = 0.0;
    for (int e = 0; e < E; ++e) {
      const std::int32_t* v = input.elements.data() + size_t(e) * 3;
      total += triangle_hessian(x + 2 * v[0], x + 2 * v[1], x + 2 * v[2], input.params.data() + size_t(e) * 5,
                                element_gradients.data() + size_t(e) * 6, element_hessians[e]);
    }
    sink = total;
  };
  dualtape::HessianWorkspace<6> workspace;
  auto forward_over_reverse = [&] {
    double total = 0.0;
    double local[6];
    Eigen::Matrix<double, 6, 6, Eigen::RowMajor> H;
    for (int e = 0; e < E; ++e) {
      const std::int32_t* v = input.elements.data() + size_t(e) * 3;
      for (int i = 0; i < 6; ++i) local[i] = x[2 * v[i / 2] + i % 2];
      total += dualtape::hessian_point<6>(tape, 0, local, input.params.data() + size_t(e) * 5,
                                          element_gradients.data() + size_t(e) * 6, H.data(), workspace);
    }
    sink = total;
  };
  // The same on blocks of 32 consecutive triangles, as Objective::hessian runs it.
  constexpr int kBlock = 32;
  dualtape::HessianBlockWorkspace<kBlock, 6> block_workspace;
  block_workspace.prepare(tape);
  auto block_forward_over_reverse = [&] {
    double total = 0.0;
    double* V = block_workspace.values.data();
    double H[36];
    const int out = tape.outputs()[0];
    for (int first = 0; first < E; first += kBlock) {
      const int count = std::min(kBlock, E - first);
      for (int l = 0; l < kBlock; ++l) {
        const int e = first + std::min(l, count - 1);
        const std::int32_t* v = input.elements.data() + size_t(e) * 3;
        for (int i = 0; i < 6; ++i) V[i * kBlock + l] = x[2 * v[i / 2] + i % 2];
        for (int j = 0; j < 5; ++j) V[(6 + j) * kBlock + l] = input.params[size_t(e) * 5 + j];
      }
      dualtape::hessian_block<kBlock, 6>(tape, block_workspace);
      for (int l = 0; l < count; ++l) {
        dualtape::hessian_block_lane<kBlock, 6>(block_workspace, l, element_gradients.data() + size_t(first + l) * 6, H);
        total += V[out * kBlock + l];
      }
    }
    sink = total;
  };
  closed_form();
  int eigen_decompositions = 0;
  for (const auto& H : element_hessians)
    if (!dualtape::gershgorin_at_least(H, eps)) ++eigen_decompositions;
  auto clamp = [&] {
    for (int e = 0; e < E; ++e) {
      Eigen::Matrix<double, 6, 6> H = element_hessians[e];
      dualtape::project_positive_definite(H, Projection::Clamp, eps);
      sink = H(0, 0);
    }
  };
  std::vector<double> values(s.objective.pattern().nnz());
  auto scatter = [&] {
    std::fill(values.begin(), values.end(), 0.0);
    const std::int32_t* map = s.reference.scatter().data();
    for (int e = 0; e < E; ++e, map += 36) {
      const Eigen::Matrix<double, 6, 6>& H = element_hessians[e];
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j) values[map[i * 6 + j]] += H(i, j);
    }
  };

  std::printf("\n%s, 1 thread: Hessian sub-steps over all %d triangles (median ms)\n\n", input.name.c_str(), E);
  std::printf("| %-52s | %9s |\n", "sub-step", "ms");
  std::printf("|%s|%s|\n", std::string(54, '-').c_str(), std::string(11, '-').c_str());
  std::printf("| %-52s | %9.3f |\n", "element value+gradient+Hessian, closed form", time_one(closed_form, seconds));
  std::printf("| %-52s | %9.3f |\n", "element value+gradient+Hessian, dualtape hessian_point",
              time_one(forward_over_reverse, seconds));
  std::printf("| %-52s | %9.3f |\n", "the same, dualtape hessian_block on 32 lanes",
              time_one(block_forward_over_reverse, seconds));
  std::printf("| %-52s | %9.3f |\n", "6x6 clamp projection (project_positive_definite)", time_one(clamp, seconds));
  std::printf("| %-52s | %9.3f |\n", "scatter of 36 entries into the CSR value array", time_one(scatter, seconds));
  std::printf("\n%d of %d element Hessians (%.1f%%) fail the Gershgorin test and take an eigendecomposition.\n",
              eigen_decompositions, E, 100.0 * eigen_decompositions / E);

  (void)sink;
}

int default_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--threads T] [--seconds S] INPUT.txt ...\n"
               "  INPUT.txt   written by bench/write_bench_input.py\n"
               "  --threads   thread count of the multi-threaded run (default: all cores, %d here)\n"
               "  --seconds   time budget per measured pair (default: 2)\n",
               program, default_threads());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = default_threads();
  double seconds = 2.0;
  const double eps = 1e-9;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--threads" || arg == "--seconds") && i + 1 < argc) {
      const double value = std::atof(argv[++i]);
      if (!(value > 0)) return usage(argv[0]);
      if (arg == "--threads") threads = int(value);
      else seconds = value;
    } else if (!arg.empty() && arg[0] == '-') {
      return usage(argv[0]);
    } else {
      paths.push_back(arg);
    }
  }
  if (paths.empty()) return usage(argv[0]);

  try {
    for (const std::string& path : paths) {
      const BenchInput input = read_input(path);
      auto energy = std::make_shared<dualtape::ElementEnergy>(input.tape, input.elements, 3, 2, input.params, 5);
      const dualtape::Objective objective({{energy, 1.0}}, input.n_vertices, 2, {});
      const ReferenceObjective reference(input, objective.pattern());
      const Setup setup{input, objective, reference};

      std::printf("\n## %s: %d vertices, %d triangles, %lld Hessian nonzeros, tape of %d operations\n\n",
                  input.name.c_str(), input.n_vertices, input.n_elements(),
                  static_cast<long long>(objective.pattern().nnz()), input.tape->n_operations());
      if (!check_agreement(setup, eps)) {
        std::fprintf(stderr, "%s: the reference and dualtape disagree; not timing\n", input.name.c_str());
        return 1;
      }
      run_main_table(setup, 1, seconds, eps);
      if (threads > 1) run_main_table(setup, threads, seconds, eps);
      dualtape::set_thread_count(1);
      run_breakdown(setup, seconds, eps);
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
  return 0;
}
