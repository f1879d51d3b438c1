// Evaluation of a tape: one interpreter, instantiated for each scalar type.
//
// Values and gradients run on blocks of L evaluation points at once (structure of
// arrays: slot s of lane l lives at s·L + l), so each instruction is a loop over
// lanes that the compiler vectorizes and the dispatch is paid once per block.
// Forward mode runs the tape on Dual numbers; the Hessian runs the reverse sweep
// on Dual numbers (forward-over-reverse).
#pragma once

#include "dualtape/aligned.hpp"
#include "dualtape/double_double.hpp"
#include "dualtape/dual.hpp"
#include "dualtape/ops.hpp"
#include "dualtape/tape.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace dualtape {

/// Forward sweep over a block of L lanes. V contains the slot values with inputs and
/// parameters already loaded; when Partials is true, DA and DB receive ∂v/∂a and
/// ∂v/∂b of every instruction for the reverse sweep.
template <int L, bool Partials>
void forward_block(const Tape& tape, double* V, double* DA, double* DB) {
  static const double zeros[L] = {};
  const auto& code = tape.code();
  for_each_op(code, tape.first_operation(), tape.size(), [&](auto tag, int i) {
    constexpr Op op = decltype(tag)::value;
    if constexpr (op != Op::Input && op != Op::Param) {
      const Instruction& ins = code[i];
      // Restrict-qualified locals: the stores cannot alias the pointers, which the
      // compiler would otherwise reload on every lane. The output slot i follows its
      // argument slots, so the lanes are independent.
      const double* __restrict a = ins.a >= 0 ? V + std::ptrdiff_t(ins.a) * L : zeros;
      const double* __restrict b = ins.b >= 0 ? V + std::ptrdiff_t(ins.b) * L : zeros;
      const double* __restrict c = ins.c >= 0 ? V + std::ptrdiff_t(ins.c) * L : zeros;
      double* __restrict out = V + std::ptrdiff_t(i) * L;
      double* __restrict da_out = Partials ? DA + std::ptrdiff_t(i) * L : nullptr;
      double* __restrict db_out = Partials ? DB + std::ptrdiff_t(i) * L : nullptr;
      const double k = ins.k;
#pragma GCC ivdep
      for (int l = 0; l < L; ++l) {
        double v = 0.0, da = 0.0, db = 0.0;
        Rule<op>::eval(a[l], b[l], c[l], k, v, da, db);
        out[l] = v;
        // Constant partials come from the reverse plan (ReverseStep::constant).
        if constexpr (Partials && !op_has_constant_partials(op)) {
          da_out[l] = da;
          db_out[l] = db;
        }
      }
    }
  });
}

/// Reverse sweep over a block along tape.reverse_steps(). On entry the output slots
/// of ADJ contain the seeds (adjoints of the outputs). On exit every input slot
/// contains its adjoint, and so does every slot that depends on an input and that
/// an output depends on. Other slots are neither read nor zeroed. With Exact, each
/// product obeys the zero rule. Without it, plain products let the loops vectorize, so a
/// product 0 · inf or 0 · NaN leaves a NaN in the adjoints (see
/// reverse_block_checked).
template <int L, bool Exact = true>
void reverse_block(const Tape& tape, const double* DA, const double* DB, double* ADJ) {
  // adj (=|+=) partial · w over the lanes, where the partial is one number for every
  // lane (Stride 0: sums, differences, negations) or one per lane (Stride 1).
  auto push = [](ReverseStep::Mode mode, double* __restrict adj, const double* __restrict partial,
                 const double* __restrict w, auto stride) {
    constexpr int kStride = decltype(stride)::value;
    auto product = [&](int l) {
      const double p = partial[kStride * l];
      return Exact ? times0(p, w[l]) : p * w[l];
    };
    if (mode == ReverseStep::kAssign) {
#pragma GCC ivdep
      for (int l = 0; l < L; ++l) adj[l] = product(l);
    } else {
#pragma GCC ivdep
      for (int l = 0; l < L; ++l) adj[l] += product(l);
    }
  };
  using PerLane = std::integral_constant<int, 1>;
  using Constant = std::integral_constant<int, 0>;
  for (const ReverseStep& step : tape.reverse_steps()) {
    const std::ptrdiff_t i = std::ptrdiff_t(step.slot) * L;
    // Argument slots precede slot i and DA, DB are separate arrays, so the lanes
    // are independent. a and b may be the same slot, which the modes account for.
    const double* w = ADJ + i;
    double* adj_a = ADJ + std::ptrdiff_t(step.a) * L;
    double* adj_b = ADJ + std::ptrdiff_t(step.b) * L;
    if (step.constant) {
      if (step.mode_a != ReverseStep::kSkip) push(step.mode_a, adj_a, &step.constant_a, w, Constant{});
      if (step.mode_b != ReverseStep::kSkip) push(step.mode_b, adj_b, &step.constant_b, w, Constant{});
    } else {
      if (step.mode_a != ReverseStep::kSkip) push(step.mode_a, adj_a, DA + i, w, PerLane{});
      if (step.mode_b != ReverseStep::kSkip) push(step.mode_b, adj_b, DB + i, w, PerLane{});
    }
  }
  for (int input : tape.unreached_inputs()) std::fill(ADJ + std::ptrdiff_t(input) * L, ADJ + std::ptrdiff_t(input + 1) * L, 0.0);
}

/// Reverse sweep with the zero rule at the cost of the fast sweep in the usual
/// case. A product that the zero rule sets to 0 is 0 · inf or 0 · NaN. The fast
/// sweep turns it into a NaN, which reaches the adjoint of every input it depends
/// on. Only then is the sweep repeated with exact products. `seeds` (L values per
/// output, in output order) are written to ADJ before each sweep.
template <int L>
void reverse_block_checked(const Tape& tape, const double* DA, const double* DB, const double* seeds,
                           double* ADJ) {
  auto seed = [&]() {
    for (int out : tape.outputs()) std::fill(ADJ + std::ptrdiff_t(out) * L, ADJ + std::ptrdiff_t(out + 1) * L, 0.0);
    for (int o = 0; o < tape.n_outputs(); ++o) {
      double* out = ADJ + std::ptrdiff_t(tape.outputs()[o]) * L;
      for (int l = 0; l < L; ++l) out[l] += seeds[std::ptrdiff_t(o) * L + l];
    }
  };
  seed();
  reverse_block<L, false>(tape, DA, DB, ADJ);
  // x · 0 is NaN exactly where x is NaN or ±inf; one sum per lane vectorizes. An
  // infinite adjoint thus also takes the exact sweep, which it leaves unchanged.
  double probe[L] = {};
  for (int i = 0; i < tape.n_inputs(); ++i)
    for (int l = 0; l < L; ++l) probe[l] += ADJ[std::ptrdiff_t(i) * L + l] * 0.0;
  bool finite = true;
  for (int l = 0; l < L; ++l) finite &= probe[l] == 0.0;
  if (finite) return;
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

/// Values of all slots at one point in double-double arithmetic: the op table's
/// rules run on DoubleDouble, and their partials are dropped. V has one slot per
/// instruction, with the inputs and parameters already loaded.
inline void forward_double_double(const Tape& tape, std::vector<DoubleDouble>& V) {
  const auto& code = tape.code();
  for (int i = tape.first_operation(); i < tape.size(); ++i) {
    const Instruction& ins = code[i];
    const DoubleDouble a = ins.a >= 0 ? V[ins.a] : DoubleDouble();
    const DoubleDouble b = ins.b >= 0 ? V[ins.b] : DoubleDouble();
    const DoubleDouble c = ins.c >= 0 ? V[ins.c] : DoubleDouble();
    DoubleDouble v, da, db;
    visit_op(ins.op, [&](auto tag) {
      constexpr Op op = decltype(tag)::value;
      if constexpr (op != Op::Input && op != Op::Param) Rule<op>::eval(a, b, c, ins.k, v, da, db);
    });
    V[i] = v;
  }
}

/// Reverse mode at one point: outputs (all), and wᵀJ into vjp (n_inputs).
/// Afterwards ws.values contains every slot's value.
inline void vector_jacobian(const Tape& tape, const double* x, const double* p, const double* w,
                            double* outputs, double* vjp, Workspace& ws) {
  ws.resize(tape.size());
  load_point(tape, x, p, ws.values.data());
  forward_block<1, true>(tape, ws.values.data(), ws.da.data(), ws.db.data());
  for (int j = 0; j < tape.n_outputs(); ++j) outputs[j] = ws.values[tape.outputs()[j]];
  reverse_block_checked<1>(tape, ws.da.data(), ws.db.data(), w, ws.adjoints.data());
  std::copy(ws.adjoints.begin(), ws.adjoints.begin() + tape.n_inputs(), vjp);
}

/// Values and adjoints of every slot at one point, parameters and constants
/// included (the adjoint of a parameter slot is ∂(wᵀf)/∂p), with the zero rule.
/// One scalar sweep over all instructions, for inspection and pictures.
inline void slot_adjoints(const Tape& tape, const double* x, const double* p, const double* w, double* values,
                          double* adjoints) {
  const int n = tape.size();
  std::vector<double> da(n), db(n);
  load_point(tape, x, p, values);
  const auto& instructions = tape.code();
  for (int i = tape.first_operation(); i < n; ++i) {
    const Instruction& ins = instructions[i];
    const double a = ins.a >= 0 ? values[ins.a] : 0.0;
    const double b = ins.b >= 0 ? values[ins.b] : 0.0;
    const double c = ins.c >= 0 ? values[ins.c] : 0.0;
    visit_op(ins.op, [&](auto tag) {
      constexpr Op op = decltype(tag)::value;
      if constexpr (op != Op::Input && op != Op::Param) Rule<op>::eval(a, b, c, ins.k, values[i], da[i], db[i]);
    });
  }
  std::fill(adjoints, adjoints + n, 0.0);
  for (int o = 0; o < tape.n_outputs(); ++o) adjoints[tape.outputs()[o]] += w[o];
  const auto& code = tape.code();
  const auto& arity = tape.differentiable_arity();
  for (int i = n - 1; i >= tape.first_operation(); --i) {
    if (arity[i] > 0) adjoints[code[i].a] += times0(da[i], adjoints[i]);
    if (arity[i] > 1) adjoints[code[i].b] += times0(db[i], adjoints[i]);
  }
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
      const double s = symmetric_mean(H[std::ptrdiff_t(i) * n + j], H[std::ptrdiff_t(j) * n + i]);
      H[std::ptrdiff_t(i) * n + j] = s;
      H[std::ptrdiff_t(j) * n + i] = s;
    }
  return ws.values[out].v;
}

/// Scratch memory of hessian_block: L lanes, N inputs. Slot s of lane l lives at
/// s·L + l; tangent direction d of slot s at (s·N + d)·L + l.
template <int L, int N>
struct HessianBlockWorkspace {
  AlignedVector<double> values, da, db, daa, dab, dbb, tangents, adjoints, adjoint_tangents;
  bool finite[L] = {};  ///< whether each lane's gradient and Hessian are finite
  int size = -1;

  /// Sizes the arrays for `tape` and sets the tangents of inputs (unit directions)
  /// and of slots that depend on no input (zero), which no evaluation changes.
  void prepare(const Tape& tape) {
    if (size == tape.size()) return;
    size = tape.size();
    const size_t slots = size_t(size) * L;
    for (auto* array : {&values, &da, &db, &daa, &dab, &dbb, &adjoints}) array->assign(slots, 0.0);
    tangents.assign(slots * N, 0.0);
    adjoint_tangents.assign(slots * N, 0.0);
    for (int i = 0; i < tape.n_inputs(); ++i)
      std::fill_n(tangents.data() + (std::ptrdiff_t(i) * N + i) * L, L, 1.0);
  }
};

namespace detail {

// Loops of hessian_block over the L lanes of one slot, with restrict-qualified
// parameters so that the compiler vectorizes them.

// Values, partials and second partials of one operation on L lanes. Not inlined:
// inside the flattened dispatch loop GCC 12 does not vectorize this loop, while as
// a function of its own it does for arithmetic operations.
template <Op op, int L>
#if defined(__GNUC__)
__attribute__((noinline))
#endif
void second_partial_lanes(const double* __restrict a, const double* __restrict b, const double* __restrict c,
                          double k, double* __restrict v, double* __restrict da, double* __restrict db,
                          double* __restrict daa, double* __restrict dab, double* __restrict dbb) {
  for (int l = 0; l < L; ++l)
    second_partials<op>(a[l], b[l], c[l], k, v[l], da[l], db[l], daa[l], dab[l], dbb[l]);
}

// t_out = da·t_a (+ db·t_b) for the N tangent directions.
template <int L, int N, int Arity>
DUALTAPE_INLINE void tangent_lanes(double* __restrict t_out, const double* __restrict da, const double* __restrict t_a,
                                   const double* __restrict db, const double* __restrict t_b) {
  for (int d = 0; d < N; ++d)
    for (int l = 0; l < L; ++l) {
      double t = da[l] * t_a[d * L + l];
      if constexpr (Arity == 2) t += db[l] * t_b[d * L + l];
      t_out[d * L + l] = t;
    }
}

// One argument's share of a reverse step: adj (=|+=) ∂·w and, per direction d,
// adj_t (=|+=) ∂·w_t + w·(∂∂a·t_a + ∂∂b·t_b). UseA and UseB drop the curvature
// terms whose second partial is zero in every lane or whose tangent is zero.
// The second partials are one number per lane (Stride 1) or one for all lanes
// (Stride 0: constants of the reverse plan).
template <int L, int N, bool UseA, bool UseB, bool Assign, int Stride>
DUALTAPE_INLINE void adjoint_lanes(double* __restrict adj, double* __restrict adj_t, const double* __restrict partial,
                                   const double* __restrict second_a, const double* __restrict second_b,
                                   const double* __restrict w, const double* __restrict wt,
                                   const double* __restrict t_a, const double* __restrict t_b) {
  for (int l = 0; l < L; ++l) adj[l] = (Assign ? 0.0 : adj[l]) + partial[l] * w[l];
  for (int d = 0; d < N; ++d)
    for (int l = 0; l < L; ++l) {
      const double sa = second_a[Stride * l], sb = second_b[Stride * l];
      double update = partial[l] * wt[d * L + l];
      if constexpr (UseA && UseB) update += w[l] * (sa * t_a[d * L + l] + sb * t_b[d * L + l]);
      else if constexpr (UseA) update += w[l] * (sa * t_a[d * L + l]);
      else if constexpr (UseB) update += w[l] * (sb * t_b[d * L + l]);
      adj_t[d * L + l] = (Assign ? 0.0 : adj_t[d * L + l]) + update;
    }
}

template <int L, int N, int Stride>
DUALTAPE_INLINE void adjoint_lanes(bool assign, bool use_a, bool use_b, double* adj, double* adj_t,
                                   const double* partial, const double* second_a, const double* second_b,
                                   const double* w, const double* wt, const double* t_a, const double* t_b) {
#define DUALTAPE_ADJOINT(A, B)                                                                                      \
  if (assign) adjoint_lanes<L, N, A, B, true, Stride>(adj, adj_t, partial, second_a, second_b, w, wt, t_a, t_b); \
  else adjoint_lanes<L, N, A, B, false, Stride>(adj, adj_t, partial, second_a, second_b, w, wt, t_a, t_b);
  if (use_a && use_b) {
    DUALTAPE_ADJOINT(true, true)
  } else if (use_a) {
    DUALTAPE_ADJOINT(true, false)
  } else if (use_b) {
    DUALTAPE_ADJOINT(false, true)
  } else {
    DUALTAPE_ADJOINT(false, false)
  }
#undef DUALTAPE_ADJOINT
}

// Whether any of the L values is not ±0: an OR of their bits without the sign bit,
// which vectorizes where a chain of floating-point comparisons does not.
template <int L>
DUALTAPE_INLINE bool any_nonzero(const double* values) {
  std::uint64_t bits = 0;
  for (int l = 0; l < L; ++l) {
    std::uint64_t word;
    std::memcpy(&word, values + l, sizeof word);
    bits |= word;
  }
  return (bits & ~(std::uint64_t(1) << 63)) != 0;
}

}  // namespace detail

/// Computes gradients and Hessians of output 0 at L points by forward-over-reverse on
/// a block of lanes. ws.values contains the inputs and parameters of every lane
/// (ws.prepare called first). On return, lane l of input i has its gradient entry in
/// ws.adjoints[i·L + l] and Hessian row i in ws.adjoint_tangents[(i·N + d)·L + l].
///
/// The forward sweep gets each operation's partials and their derivatives from
/// second_partials and carries the tangents of every slot. The reverse sweep carries
/// adjoints and their tangents along tape.reverse_steps(). Products are plain, so
/// the loops vectorize. A result is exact where it is finite, and a lane with a
/// non-finite gradient or Hessian entry must be recomputed by hessian_point, which
/// obeys the zero rule.
template <int L, int N>
void hessian_block(const Tape& tape, HessianBlockWorkspace<L, N>& ws) {
  static const double zeros[L] = {};
  const auto& code = tape.code();
  const auto& arity = tape.differentiable_arity();
  const auto& active = tape.active();
  double* V = ws.values.data();
  double* T = ws.tangents.data();
  for_each_op(code, tape.first_operation(), tape.size(), [&](auto tag, int i) {
    constexpr Op op = decltype(tag)::value;
    if constexpr (op != Op::Input && op != Op::Param) {
      const Instruction& ins = code[i];
      const std::ptrdiff_t at = std::ptrdiff_t(i) * L;
      const double* __restrict a = ins.a >= 0 ? V + std::ptrdiff_t(ins.a) * L : zeros;
      const double* __restrict b = ins.b >= 0 ? V + std::ptrdiff_t(ins.b) * L : zeros;
      const double* __restrict c = ins.c >= 0 ? V + std::ptrdiff_t(ins.c) * L : zeros;
      double* __restrict out = V + at;
      double* __restrict da = ws.da.data() + at;
      double* __restrict db = ws.db.data() + at;
      double* __restrict daa = ws.daa.data() + at;
      double* __restrict dab = ws.dab.data() + at;
      double* __restrict dbb = ws.dbb.data() + at;
      const double k = ins.k;
      if constexpr (op_has_constant_second_partials(op)) {
        // The reverse sweep takes the second partials from the plan (ReverseStep).
        for (int l = 0; l < L; ++l) Rule<op>::eval(a[l], b[l], c[l], k, out[l], da[l], db[l]);
        (void)daa, (void)dab, (void)dbb;
      } else {
        detail::second_partial_lanes<op, L>(a, b, c, k, out, da, db, daa, dab, dbb);
      }
      // Tangents t_v = ∂a·t_a + ∂b·t_b. A slot that depends on no input keeps the
      // zero tangent that prepare() gave it. An argument that depends on no input
      // has a zero tangent, so its term is left out.
      if (!active[i]) return;
      const bool a_moves = active[ins.a];
      const bool b_moves = arity[i] == 2 && active[ins.b];
      double* t_out = T + at * N;
      if (a_moves && b_moves) {
        detail::tangent_lanes<L, N, 2>(t_out, da, T + std::ptrdiff_t(ins.a) * N * L, db, T + std::ptrdiff_t(ins.b) * N * L);
      } else if (a_moves) {
        detail::tangent_lanes<L, N, 1>(t_out, da, T + std::ptrdiff_t(ins.a) * N * L, nullptr, nullptr);
      } else {
        detail::tangent_lanes<L, N, 1>(t_out, db, T + std::ptrdiff_t(ins.b) * N * L, nullptr, nullptr);
      }
    }
  });

  // Reverse sweep on (adjoint, adjoint tangent) pairs. For an argument x of slot v:
  //   adj_x += ∂x·w,   adj_t_x += ∂x·w_t + w·(∂x∂a·t_a + ∂x∂b·t_b).
  double* W = ws.adjoints.data();
  double* WT = ws.adjoint_tangents.data();
  const int out = tape.outputs()[0];
  std::fill_n(W + std::ptrdiff_t(out) * L, L, 1.0);
  std::fill_n(WT + std::ptrdiff_t(out) * N * L, N * L, 0.0);
  for (const ReverseStep& step : tape.reverse_steps()) {
    const std::ptrdiff_t at = std::ptrdiff_t(step.slot) * L;
    const double* w = W + at;
    const double* wt = WT + at * N;
    const double* t_a = T + std::ptrdiff_t(step.a) * N * L;
    const double* t_b = step.arity == 2 ? T + std::ptrdiff_t(step.b) * N * L : nullptr;
    const bool a_moves = active[step.a];
    const bool b_moves = step.arity == 2 && active[step.b];
    auto push = [&](ReverseStep::Mode mode, std::int32_t arg, const double* partial, const double* second_a,
                    const double* second_b) {
      const bool assign = mode == ReverseStep::kAssign;
      double* adj = W + std::ptrdiff_t(arg) * L;
      double* adj_t = WT + std::ptrdiff_t(arg) * N * L;
      if (step.constant_second) {
        const bool use_a = a_moves && *second_a != 0.0;
        const bool use_b = b_moves && *second_b != 0.0;
        detail::adjoint_lanes<L, N, 0>(assign, use_a, use_b, adj, adj_t, partial, second_a, second_b, w, wt, t_a, t_b);
      } else {
        const bool use_a = a_moves && detail::any_nonzero<L>(second_a);
        const bool use_b = b_moves && detail::any_nonzero<L>(second_b);
        detail::adjoint_lanes<L, N, 1>(assign, use_a, use_b, adj, adj_t, partial, second_a, second_b, w, wt, t_a, t_b);
      }
    };
    if (step.constant_second) {
      if (step.mode_a != ReverseStep::kSkip)
        push(step.mode_a, step.a, ws.da.data() + at, &step.constant_aa, &step.constant_ab);
      if (step.mode_b != ReverseStep::kSkip)
        push(step.mode_b, step.b, ws.db.data() + at, &step.constant_ab, &step.constant_bb);
    } else {
      if (step.mode_a != ReverseStep::kSkip)
        push(step.mode_a, step.a, ws.da.data() + at, ws.daa.data() + at, ws.dab.data() + at);
      if (step.mode_b != ReverseStep::kSkip)
        push(step.mode_b, step.b, ws.db.data() + at, ws.dab.data() + at, ws.dbb.data() + at);
    }
  }
  for (int input : tape.unreached_inputs()) {
    std::fill_n(W + std::ptrdiff_t(input) * L, L, 0.0);
    std::fill_n(WT + std::ptrdiff_t(input) * N * L, N * L, 0.0);
  }
  // x · 0 is NaN exactly where x is NaN or ±inf: one sum per lane, vectorized.
  double probe[L] = {};
  for (int row = 0; row < N; ++row)
    for (int l = 0; l < L; ++l) probe[l] += W[row * L + l] * 0.0;
  for (int row = 0; row < N * N; ++row)
    for (int l = 0; l < L; ++l) probe[l] += WT[row * L + l] * 0.0;
  for (int l = 0; l < L; ++l) ws.finite[l] = probe[l] == 0.0;
}

/// Gradient and symmetrized Hessian of lane l of a finished hessian_block into g
/// (N) and H (N × N, row-major). Returns false if an entry is not finite; the lane
/// then needs hessian_point.
template <int L, int N>
bool hessian_block_lane(const HessianBlockWorkspace<L, N>& ws, int l, double* g, double* H) {
  if (!ws.finite[l]) return false;
  const double* W = ws.adjoints.data();
  const double* WT = ws.adjoint_tangents.data();
  for (int i = 0; i < N; ++i) g[i] = W[std::ptrdiff_t(i) * L + l];
  for (int i = 0; i < N; ++i) {
    H[i * N + i] = WT[(std::ptrdiff_t(i) * N + i) * L + l];
    for (int j = i + 1; j < N; ++j) {
      const double s = symmetric_mean(WT[(std::ptrdiff_t(i) * N + j) * L + l], WT[(std::ptrdiff_t(j) * N + i) * L + l]);
      H[i * N + j] = s;
      H[j * N + i] = s;
    }
  }
  return true;
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
