// Evaluation of a tape: one interpreter, instantiated for each scalar type.
//
// Values and gradients run on blocks of L evaluation points at once (structure of
// arrays: slot s of lane l lives at s·L + l), so each instruction is a loop over
// lanes that the compiler vectorizes and the dispatch is paid once per block.
// Forward mode runs the tape on Dual numbers; the Hessian runs the reverse sweep
// on Dual numbers (forward-over-reverse).
#pragma once

#include "dualtape/dual.hpp"
#include "dualtape/ops.hpp"
#include "dualtape/tape.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <vector>

namespace dualtape {

/// Forward sweep over a block of L lanes. V contains the slot values with inputs and
/// parameters already loaded; when Partials is true, DA and DB receive ∂v/∂a and
/// ∂v/∂b of every instruction for the reverse sweep.
template <int L, bool Partials>
void forward_block(const Tape& tape, double* V, double* DA, double* DB) {
  static const double zeros[L] = {};
  const auto& code = tape.code();
  const int n = tape.size();
  for (int i = tape.first_operation(); i < n; ++i) {
    const Instruction& ins = code[i];
    const double* a = ins.a >= 0 ? V + std::ptrdiff_t(ins.a) * L : zeros;
    const double* b = ins.b >= 0 ? V + std::ptrdiff_t(ins.b) * L : zeros;
    const double* c = ins.c >= 0 ? V + std::ptrdiff_t(ins.c) * L : zeros;
    double* out = V + std::ptrdiff_t(i) * L;
    double* da_out = Partials ? DA + std::ptrdiff_t(i) * L : nullptr;
    double* db_out = Partials ? DB + std::ptrdiff_t(i) * L : nullptr;
    const double k = ins.k;
    visit_op(ins.op, [&](auto tag) {
      constexpr Op op = decltype(tag)::value;
      if constexpr (op != Op::Input && op != Op::Param) {
        // The output slot i follows its argument slots, so lanes are independent.
#pragma GCC ivdep
        for (int l = 0; l < L; ++l) {
          double v = 0.0, da = 0.0, db = 0.0;
          Rule<op>::eval(a[l], b[l], c[l], k, v, da, db);
          out[l] = v;
          if constexpr (Partials) {
            da_out[l] = da;
            db_out[l] = db;
          }
        }
      }
    });
  }
}

/// Reverse sweep over a block: ADJ holds the seeds (adjoints of the outputs) on
/// entry and every slot's adjoint on exit. With Exact, each product obeys the zero
/// rule. Without it, plain products let the loops vectorize, so a product 0 · inf
/// or 0 · NaN leaves a NaN in the adjoints (see reverse_block_checked).
template <int L, bool Exact = true>
void reverse_block(const Tape& tape, const double* DA, const double* DB, double* ADJ) {
  const auto& code = tape.code();
  const auto& arity = tape.differentiable_arity();
  for (int i = tape.size() - 1; i >= tape.first_operation(); --i) {
    const int m = arity[i];
    if (m == 0) continue;
    const Instruction& ins = code[i];
    const double* w = ADJ + std::ptrdiff_t(i) * L;
    const double* da = DA + std::ptrdiff_t(i) * L;
    // Argument slots precede slot i, so adj_a never overlaps w, and DA is a
    // separate array: the lanes are independent.
    double* adj_a = ADJ + std::ptrdiff_t(ins.a) * L;
#pragma GCC ivdep
    for (int l = 0; l < L; ++l) adj_a[l] += Exact ? times0(da[l], w[l]) : da[l] * w[l];
    if (m == 2) {
      const double* db = DB + std::ptrdiff_t(i) * L;
      double* adj_b = ADJ + std::ptrdiff_t(ins.b) * L;
#pragma GCC ivdep
      for (int l = 0; l < L; ++l) adj_b[l] += Exact ? times0(db[l], w[l]) : db[l] * w[l];
    }
  }
}

/// Reverse sweep with the zero rule at the cost of the fast sweep in the usual
/// case. A product that the zero rule sets to 0 is 0 · inf or 0 · NaN. The fast
/// sweep turns it into a NaN, which reaches the adjoint of every input it depends
/// on. Only then is the sweep repeated with exact products. `seeds` (L values per
/// output, in output order) are written to ADJ before each sweep.
template <int L>
void reverse_block_checked(const Tape& tape, const double* DA, const double* DB, const double* seeds,
                           double* ADJ) {
  const size_t slots = size_t(tape.size()) * L;
  auto seed = [&]() {
    std::fill(ADJ, ADJ + slots, 0.0);
    for (int o = 0; o < tape.n_outputs(); ++o) {
      double* out = ADJ + std::ptrdiff_t(tape.outputs()[o]) * L;
      for (int l = 0; l < L; ++l) out[l] += seeds[std::ptrdiff_t(o) * L + l];
    }
  };
  seed();
  reverse_block<L, false>(tape, DA, DB, ADJ);
  const std::ptrdiff_t inputs = std::ptrdiff_t(tape.n_inputs()) * L;
  bool has_nan = false;
  for (std::ptrdiff_t j = 0; j < inputs; ++j) has_nan |= ADJ[j] != ADJ[j];
  if (!has_nan) return;
  seed();
  reverse_block<L, true>(tape, DA, DB, ADJ);
}

/// Scratch memory for evaluating a tape at one point or on one block.
struct Workspace {
  std::vector<double> values, da, db, adjoints;
  void resize(size_t slots) {
    if (values.size() < slots) {
      values.resize(slots);
      da.resize(slots);
      db.resize(slots);
      adjoints.resize(slots);
    }
  }
};

inline void load_point(const Tape& tape, const double* x, const double* p, double* V) {
  std::copy(x, x + tape.n_inputs(), V);
  if (tape.n_params() > 0) std::copy(p, p + tape.n_params(), V + tape.n_inputs());
}

/// Values of all outputs at one point.
inline void evaluate(const Tape& tape, const double* x, const double* p, double* outputs, Workspace& ws) {
  ws.resize(tape.size());
  load_point(tape, x, p, ws.values.data());
  forward_block<1, false>(tape, ws.values.data(), nullptr, nullptr);
  for (int j = 0; j < tape.n_outputs(); ++j) outputs[j] = ws.values[tape.outputs()[j]];
}

/// Reverse mode at one point: outputs (all), and wᵀJ into vjp (n_inputs).
/// Afterwards ws.values and ws.adjoints contain every slot's value and adjoint.
inline void vector_jacobian(const Tape& tape, const double* x, const double* p, const double* w,
                            double* outputs, double* vjp, Workspace& ws) {
  ws.resize(tape.size());
  load_point(tape, x, p, ws.values.data());
  forward_block<1, true>(tape, ws.values.data(), ws.da.data(), ws.db.data());
  for (int j = 0; j < tape.n_outputs(); ++j) outputs[j] = ws.values[tape.outputs()[j]];
  reverse_block_checked<1>(tape, ws.da.data(), ws.db.data(), w, ws.adjoints.data());
  std::copy(ws.adjoints.begin(), ws.adjoints.begin() + tape.n_inputs(), vjp);
}

/// Forward sweep on Dual numbers: the value and tangent of every slot, with the
/// tangents of the inputs given. Each tangent is the chain rule over the op table's
/// partials, with the zero rule: t_v = ∂a·t_a + ∂b·t_b.
template <int N>
void forward_dual(const Tape& tape, std::vector<Dual<double, N>>& V, int directions) {
  const auto& code = tape.code();
  const auto& arity = tape.differentiable_arity();
  const Dual<double, N> zero(0.0, Dual<double, N>::Tangent::Zero(directions));
  for (int i = tape.first_operation(); i < tape.size(); ++i) {
    const Instruction& ins = code[i];
    const double a = ins.a >= 0 ? V[ins.a].v : 0.0;
    const double b = ins.b >= 0 ? V[ins.b].v : 0.0;
    const double c = ins.c >= 0 ? V[ins.c].v : 0.0;
    double v = 0.0, da = 0.0, db = 0.0;
    visit_op(ins.op, [&](auto tag) {
      constexpr Op op = decltype(tag)::value;
      if constexpr (op != Op::Input && op != Op::Param) Rule<op>::eval(a, b, c, ins.k, v, da, db);
    });
    Dual<double, N>& out = V[i];
    out.v = v;
    const int m = arity[i];
    if (m == 0) {
      out.g = zero.g;
    } else if (m == 1) {
      out.g = detail::scale<double, N>(da, V[ins.a].g);
    } else {
      out.g = detail::scale<double, N>(da, V[ins.a].g) + detail::scale<double, N>(db, V[ins.b].g);
    }
  }
}

/// Forward mode at one point: outputs and J·t for `directions` tangents at once.
/// `tangents` is n_inputs × directions (row-major); `jt` is n_outputs × directions.
inline void jacobian_vector(const Tape& tape, const double* x, const double* p, const double* tangents,
                            int directions, double* outputs, double* jt) {
  using D = Dual<double, Eigen::Dynamic>;
  std::vector<D> V(tape.size(), D(0.0, D::Tangent::Zero(directions)));
  for (int i = 0; i < tape.n_inputs(); ++i) {
    V[i].v = x[i];
    for (int d = 0; d < directions; ++d) V[i].g[d] = tangents[std::ptrdiff_t(i) * directions + d];
  }
  for (int j = 0; j < tape.n_params(); ++j) V[tape.n_inputs() + j].v = p[j];
  forward_dual<Eigen::Dynamic>(tape, V, directions);
  for (int o = 0; o < tape.n_outputs(); ++o) {
    const D& out = V[tape.outputs()[o]];
    outputs[o] = out.v;
    for (int d = 0; d < directions; ++d) jt[std::ptrdiff_t(o) * directions + d] = out.g[d];
  }
}

/// Scratch memory for forward-over-reverse at one point.
template <int N>
struct HessianWorkspace {
  std::vector<Dual<double, N>> values, da, db, adjoints;
};

/// Hessian of one output by forward-over-reverse: the forward sweep runs on Dual
/// numbers seeded with the unit directions (so the op table returns partials that
/// carry their own derivatives), then the reverse sweep accumulates Dual adjoints.
/// The adjoint of input i has value ∂f/∂xᵢ and tangent row i of the Hessian.
/// H is n × n row-major, symmetrized; g has length n. N is n or Eigen::Dynamic.
template <int N>
#if defined(__GNUC__)
// Inline every Dual operation and rule into the sweep; GCC otherwise keeps some of
// them as calls, which measured 1.6× slower on 6-input elements.
__attribute__((flatten))
#endif
double hessian_point(const Tape& tape, int output, const double* x, const double* p, double* g, double* H,
                     HessianWorkspace<N>& ws) {
  using D = Dual<double, N>;
  const int n = tape.n_inputs();
  const int size = tape.size();
  const auto& code = tape.code();
  const auto& arity = tape.differentiable_arity();
  const D zero(0.0, D::Tangent::Zero(n));
  // Values and partials of every operation are overwritten by the forward sweep;
  // only the adjoints accumulate and need zeroing.
  if (int(ws.values.size()) != size || (N == Eigen::Dynamic && size > 0 && ws.values[0].g.size() != n)) {
    ws.values.assign(size, zero);
    ws.da.assign(size, zero);
    ws.db.assign(size, zero);
    ws.adjoints.assign(size, zero);
  } else {
    for (int i = 0; i < size; ++i) {
      ws.adjoints[i].v = 0.0;
      ws.adjoints[i].g.setZero();
    }
  }

  for (int i = 0; i < n; ++i) ws.values[i] = D::variable(x[i], i, n);
  for (int j = 0; j < tape.n_params(); ++j) ws.values[n + j] = zero;
  for (int j = 0; j < tape.n_params(); ++j) ws.values[n + j].v = p[j];

  for (int i = tape.first_operation(); i < size; ++i) {
    const Instruction& ins = code[i];
    const D& a = ins.a >= 0 ? ws.values[ins.a] : zero;
    const D& b = ins.b >= 0 ? ws.values[ins.b] : zero;
    const D& c = ins.c >= 0 ? ws.values[ins.c] : zero;
    visit_op(ins.op, [&](auto tag) {
      constexpr Op op = decltype(tag)::value;
      if constexpr (op != Op::Input && op != Op::Param) {
        Rule<op>::eval(a, b, c, ins.k, ws.values[i], ws.da[i], ws.db[i]);
      }
    });
    if constexpr (N == Eigen::Dynamic) {
      if (ws.values[i].g.size() == 0) ws.values[i].g = zero.g;
      if (ws.da[i].g.size() == 0) ws.da[i].g = zero.g;
      if (ws.db[i].g.size() == 0) ws.db[i].g = zero.g;
    }
  }

  const int out = tape.outputs()[output];
  ws.adjoints[out].v = 1.0;
  for (int i = size - 1; i >= tape.first_operation(); --i) {
    const int m = arity[i];
    if (m == 0) continue;
    const D& w = ws.adjoints[i];
    if (w.v == 0.0 && w.g.isZero()) continue;
    const Instruction& ins = code[i];
    ws.adjoints[ins.a] += times0(ws.da[i], w);
    if (m == 2) ws.adjoints[ins.b] += times0(ws.db[i], w);
  }

  for (int i = 0; i < n; ++i) {
    g[i] = ws.adjoints[i].v;
    for (int j = 0; j < n; ++j) H[std::ptrdiff_t(i) * n + j] = ws.adjoints[i].g[j];
  }
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      const double s = 0.5 * (H[std::ptrdiff_t(i) * n + j] + H[std::ptrdiff_t(j) * n + i]);
      H[std::ptrdiff_t(i) * n + j] = s;
      H[std::ptrdiff_t(j) * n + i] = s;
    }
  return ws.values[out].v;
}

/// Call f(std::integral_constant<int, N>{}) with N = n for the input counts that
/// get a compile-time Dual size, and N = Eigen::Dynamic otherwise.
template <typename F>
void dispatch_size(int n, F&& f) {
  switch (n) {
#define DUALTAPE_SIZE(k) \
  case k:                \
    f(std::integral_constant<int, k>{}); return;
    // Edges in 2-D (4) and 3-D (6), triangles in 2-D (6) and 3-D (9), tetrahedra
    // and quads in 3-D (12); every other size runs on the runtime-sized Dual.
    DUALTAPE_SIZE(4) DUALTAPE_SIZE(6) DUALTAPE_SIZE(9) DUALTAPE_SIZE(12)
#undef DUALTAPE_SIZE
    default:
      f(std::integral_constant<int, Eigen::Dynamic>{});
  }
}

}  // namespace dualtape
