// Tests of the header-only C++ core without Python: Dual numbers against closed
// forms, a hand-built tape in every evaluation mode, the zero rule, and a small
// objective. Prints one line per failed check and exits with status 1 if any failed.
#include "dualtape/double_double.hpp"
#include "dualtape/dual.hpp"
#include "dualtape/element_energy.hpp"
#include "dualtape/interpreter.hpp"
#include "dualtape/objective.hpp"
#include "dualtape/tape.hpp"

#include <cmath>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

int failures = 0;
int checks = 0;

void check(bool condition, const std::string& what) {
  ++checks;
  if (!condition) {
    ++failures;
    std::cout << "FAILED: " << what << "\n";
  }
}

// |actual − expected| ≤ tolerance · max(1, |expected|), and both finite.
void check_close(double actual, double expected, const std::string& what, double tolerance = 1e-12) {
  const bool close = std::isfinite(actual) && std::isfinite(expected) &&
                     std::abs(actual - expected) <= tolerance * std::max(1.0, std::abs(expected));
  check(close, what + ": got " + std::to_string(actual) + ", expected " + std::to_string(expected));
}

template <typename D>
void check_dual(const D& d, double value, const std::vector<double>& tangent, const std::string& what) {
  check_close(d.v, value, what + " value");
  check(d.g.size() == Eigen::Index(tangent.size()), what + " tangent size");
  for (size_t i = 0; i < tangent.size() && i < size_t(d.g.size()); ++i)
    check_close(d.g[i], tangent[i], what + " tangent[" + std::to_string(i) + "]");
}

using dualtape::Dual;
using D2 = Dual<double, 2>;
using DX = Dual<double, Eigen::Dynamic>;

// Arithmetic and elementary functions of x and y against their closed-form
// partial derivatives, for a fixed or runtime tangent size.
template <typename D>
void test_dual_arithmetic(const D& x, const D& y, const std::string& kind) {
  const double a = x.v, b = y.v;
  check_dual(x * y + x / y - y, a * b + a / b - b, {b + 1.0 / b, a - a / (b * b) - 1.0}, kind + " x*y + x/y - y");
  check_dual(-x + 3.0 * y - 2.0, -a + 3.0 * b - 2.0, {-1.0, 3.0}, kind + " -x + 3y - 2");
  check_dual(2.0 / x, 2.0 / a, {-2.0 / (a * a), 0.0}, kind + " 2/x");
  check_dual(sin(x) * exp(y), std::sin(a) * std::exp(b), {std::cos(a) * std::exp(b), std::sin(a) * std::exp(b)},
             kind + " sin(x) exp(y)");
  check_dual(sqrt(x * x + y * y), std::hypot(a, b), {a / std::hypot(a, b), b / std::hypot(a, b)},
             kind + " sqrt(x² + y²)");
  check_dual(hypot(x, y), std::hypot(a, b), {a / std::hypot(a, b), b / std::hypot(a, b)}, kind + " hypot");
  check_dual(log(x) + log1p(y) + expm1(x), std::log(a) + std::log1p(b) + std::expm1(a),
             {1.0 / a + std::exp(a), 1.0 / (1.0 + b)}, kind + " log + log1p + expm1");
  check_dual(tan(x) + atan(y), std::tan(a) + std::atan(b),
             {1.0 / (std::cos(a) * std::cos(a)), 1.0 / (1.0 + b * b)}, kind + " tan + atan");
  check_dual(asin(y) + acos(y), M_PI / 2, {0.0, 0.0}, kind + " asin + acos");
  check_dual(sinh(x) * cosh(y) + tanh(x), std::sinh(a) * std::cosh(b) + std::tanh(a),
             {std::cosh(a) * std::cosh(b) + 1.0 - std::tanh(a) * std::tanh(a), std::sinh(a) * std::sinh(b)},
             kind + " sinh cosh + tanh");
  check_dual(pow(x, 2.5), std::pow(a, 2.5), {2.5 * std::pow(a, 1.5), 0.0}, kind + " x^2.5");
  check_dual(pow(x, y), std::pow(a, b), {b * std::pow(a, b - 1.0), std::pow(a, b) * std::log(a)}, kind + " x^y");
  check_dual(atan2(y, x), std::atan2(b, a), {-b / (a * a + b * b), a / (a * a + b * b)}, kind + " atan2(y, x)");
  check_dual(abs(y), std::abs(b), {0.0, b > 0 ? 1.0 : -1.0}, kind + " abs");
  check_dual(min(x, y), std::min(a, b), {a <= b ? 1.0 : 0.0, a <= b ? 0.0 : 1.0}, kind + " min");
  check_dual(max(x, y), std::max(a, b), {a >= b ? 1.0 : 0.0, a >= b ? 0.0 : 1.0}, kind + " max");
}

// Conventions at singular points and ties, and the zero rule.
template <typename D>
void test_dual_edges(const D& zero_x, const D& zero_y, const std::string& kind) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  check(dualtape::times0(0.0, inf) == 0.0, "times0(0, inf) = 0");
  check(dualtape::times0(nan, 0.0) == 0.0, "times0(NaN, 0) = 0");
  check(std::isnan(dualtape::times0(nan, 1.0)), "times0(NaN, 1) = NaN");

  const D r = sqrt(zero_x * zero_x + zero_y * zero_y);
  check_dual(r * r, 0.0, {0.0, 0.0}, kind + " zero rule: sqrt(x² + y²)² at the origin");
  check_dual(sqrt(zero_x), 0.0, {0.0, 0.0}, kind + " sqrt'(0) := 0");
  check_dual(pow(zero_x, 0.0), 1.0, {0.0, 0.0}, kind + " d/dx x^0 at 0");
  check_dual(pow(zero_x, 1.875), 0.0, {0.0, 0.0}, kind + " d/dx x^1.875 at 0");
  const D b = zero_y + 2.5;
  check_dual(pow(zero_x, b), 0.0, {0.0, 0.0}, kind + " d/db 0^b at b = 2.5");
  check_dual(abs(zero_x), 0.0, {0.0, 0.0}, kind + " abs'(0) := 0");
  check_dual(min(zero_x, zero_y), 0.0, {1.0, 0.0}, kind + " min tie follows the first argument");
  check_dual(max(zero_y, zero_x), 0.0, {0.0, 1.0}, kind + " max tie follows the first argument");
  check_dual(hypot(zero_x, zero_y), 0.0, {0.0, 0.0}, kind + " hypot at the origin");
  check_dual(atan2(zero_y, zero_x + 2.0), 0.0, {0.0, 0.5}, kind + " atan2 at y = 0, x = 2");
  check_dual(atan2(zero_y, zero_x - 2.0), M_PI, {0.0, -0.5}, kind + " atan2 at y = 0, x = -2");
}

void test_duals() {
  test_dual_arithmetic(D2::variable(0.7, 0), D2::variable(-0.4, 1), "Dual<2>");
  test_dual_arithmetic(DX::variable(0.7, 0, 2), DX::variable(0.35, 1, 2), "Dual<Dynamic>");
  test_dual_edges(D2::variable(0.0, 0), D2::variable(0.0, 1), "Dual<2>");
  test_dual_edges(DX::variable(0.0, 0, 2), DX::variable(0.0, 1, 2), "Dual<Dynamic>");
  // Plain products give the same derivatives wherever they are finite.
  using D2Plain = Dual<double, 2, false>;
  test_dual_arithmetic(D2Plain::variable(0.7, 0), D2Plain::variable(-0.4, 1), "plain Dual<2>");

  // A runtime-sized constant has an empty tangent and mixes with variables.
  const DX constant(2.0);
  const DX x = DX::variable(3.0, 1, 3);
  check_dual(constant + x, 5.0, {0.0, 1.0, 0.0}, "Dual<Dynamic> constant + x");
  check_dual(x - constant, 1.0, {0.0, 1.0, 0.0}, "Dual<Dynamic> x - constant");
  check_dual(x * constant, 6.0, {0.0, 2.0, 0.0}, "Dual<Dynamic> x * constant");
}

using dualtape::Instruction;
using dualtape::Op;

// f₀(x, p) = p₀ x₀ x₁ + sin x₀ + where(x₁ > 0, √x₁, x₁²), f₁(x) = eˣ⁰ − x₁/x₀,
// recorded by hand, with one dead instruction (cos x₀) at the end.
dualtape::Tape example_tape() {
  std::vector<Instruction> code = {
      {Op::Input, 0},        // 0: x0
      {Op::Input, 1},        // 1: x1
      {Op::Param, 0},        // 2: p0
      {Op::Mul, 2, 0},       // 3: p0 x0
      {Op::Mul, 3, 1},       // 4: p0 x0 x1
      {Op::Sin, 0},          // 5
      {Op::Add, 4, 5},       // 6
      {Op::Const, -1, -1, -1, 0.0},  // 7: 0
      {Op::Gt, 1, 7},        // 8: x1 > 0
      {Op::Sqrt, 1},         // 9
      {Op::Square, 1},       // 10
      {Op::Where, 9, 10, 8}, // 11
      {Op::Add, 6, 11},      // 12: f0
      {Op::Exp, 0},          // 13
      {Op::Div, 1, 0},       // 14
      {Op::Sub, 13, 14},     // 15: f1
      {Op::Cos, 0},          // 16: dead
  };
  return dualtape::Tape(2, 1, code, {12, 15});
}

struct Expected {
  double f[2];
  double g[2][2];     // g[output][input]
  double H[2][2][2];  // H[output][row][column]
};

Expected closed_form(double x0, double x1, double p0) {
  Expected e{};
  const bool root = x1 > 0;
  e.f[0] = p0 * x0 * x1 + std::sin(x0) + (root ? std::sqrt(x1) : x1 * x1);
  e.f[1] = std::exp(x0) - x1 / x0;
  e.g[0][0] = p0 * x1 + std::cos(x0);
  e.g[0][1] = p0 * x0 + (root ? 0.5 / std::sqrt(x1) : 2.0 * x1);
  e.g[1][0] = std::exp(x0) + x1 / (x0 * x0);
  e.g[1][1] = -1.0 / x0;
  e.H[0][0][0] = -std::sin(x0);
  e.H[0][0][1] = e.H[0][1][0] = p0;
  e.H[0][1][1] = root ? -0.25 * std::pow(x1, -1.5) : 2.0;
  e.H[1][0][0] = std::exp(x0) - 2.0 * x1 / (x0 * x0 * x0);
  e.H[1][0][1] = e.H[1][1][0] = 1.0 / (x0 * x0);
  e.H[1][1][1] = 0.0;
  return e;
}

template <int N>
void check_hessians(const dualtape::Tape& tape, const double* x, const double* p, const Expected& e,
                    const std::string& where) {
  dualtape::HessianWorkspace<N> ws;
  for (int out = 0; out < 2; ++out) {
    double g[2], H[4];
    const double f = dualtape::hessian_point<N>(tape, out, x, p, g, H, ws);
    const std::string what = where + " forward-over-reverse output " + std::to_string(out);
    check_close(f, e.f[out], what + " value");
    for (int i = 0; i < 2; ++i) {
      check_close(g[i], e.g[out][i], what + " gradient[" + std::to_string(i) + "]");
      for (int j = 0; j < 2; ++j)
        check_close(H[i * 2 + j], e.H[out][i][j], what + " H[" + std::to_string(i) + "][" + std::to_string(j) + "]");
    }
  }
}

void test_tape_modes() {
  const dualtape::Tape tape = example_tape();
  check(tape.n_inputs() == 2 && tape.n_params() == 1 && tape.n_outputs() == 2, "tape sizes");
  check(tape.n_operations() == 12, "dead instruction removed: n_operations = " + std::to_string(tape.n_operations()));

  const double points[][3] = {{0.7, 1.3, 2.0}, {-1.1, -0.4, 0.5}, {2.0, 0.25, -1.5}};
  for (const auto& point : points) {
    const double x[2] = {point[0], point[1]};
    const double p[1] = {point[2]};
    const Expected e = closed_form(x[0], x[1], p[0]);
    const std::string where = "at (" + std::to_string(x[0]) + ", " + std::to_string(x[1]) + ")";

    dualtape::Workspace ws;
    double f[2];
    dualtape::evaluate(tape, x, p, f, ws);
    check_close(f[0], e.f[0], where + " evaluate f0");
    check_close(f[1], e.f[1], where + " evaluate f1");

    for (int out = 0; out < 2; ++out) {
      const double w[2] = {out == 0 ? 1.0 : 0.0, out == 1 ? 1.0 : 0.0};
      double values[2], row[2];
      dualtape::vector_jacobian(tape, x, p, w, values, row, ws);
      for (int i = 0; i < 2; ++i)
        check_close(row[i], e.g[out][i], where + " reverse J[" + std::to_string(out) + "][" + std::to_string(i) + "]");
    }

    const double identity[4] = {1.0, 0.0, 0.0, 1.0};
    double values[2], jt[4];
    dualtape::jacobian_vector(tape, x, p, identity, 2, values, jt);
    for (int out = 0; out < 2; ++out)
      for (int i = 0; i < 2; ++i)
        check_close(jt[out * 2 + i], e.g[out][i],
                    where + " forward J[" + std::to_string(out) + "][" + std::to_string(i) + "]");

    check_hessians<2>(tape, x, p, e, where + " N=2");
    check_hessians<Eigen::Dynamic>(tape, x, p, e, where + " N=Dynamic");
  }
}

// The batched interpreter: 8 lanes, each a different point, against the closed forms.
void test_batched_lanes() {
  constexpr int L = 8;
  const dualtape::Tape tape = example_tape();
  std::vector<double> V(size_t(tape.size()) * L), DA(V.size()), DB(V.size()), ADJ(V.size(), 0.0);
  double xs[L][3];
  for (int l = 0; l < L; ++l) {
    xs[l][0] = 0.3 + 0.2 * l;
    xs[l][1] = (l % 2 ? 1.0 : -1.0) * (0.1 + 0.15 * l);  // both where() branches
    xs[l][2] = 1.0 - 0.25 * l;
    V[0 * L + l] = xs[l][0];
    V[1 * L + l] = xs[l][1];
    V[2 * L + l] = xs[l][2];
  }
  dualtape::forward_block<L, true>(tape, V.data(), DA.data(), DB.data());
  const int out = tape.outputs()[0];
  for (int l = 0; l < L; ++l) ADJ[size_t(out) * L + l] = 1.0;
  dualtape::reverse_block<L>(tape, DA.data(), DB.data(), ADJ.data());
  for (int l = 0; l < L; ++l) {
    const Expected e = closed_form(xs[l][0], xs[l][1], xs[l][2]);
    const std::string where = "lane " + std::to_string(l);
    check_close(V[size_t(out) * L + l], e.f[0], where + " value");
    check_close(V[size_t(tape.outputs()[1]) * L + l], e.f[1], where + " second output");
    check_close(ADJ[0 * L + l], e.g[0][0], where + " gradient[0]");
    check_close(ADJ[1 * L + l], e.g[0][1], where + " gradient[1]");
  }
}

// Forward-over-reverse on a block of 8 lanes against the closed forms of output 0.
// Where x₁ < 0, the branch not taken (√x₁) is NaN, which only the zero rule turns
// into an exact zero: the block must flag those lanes as not finite, so that the
// caller recomputes them with hessian_point.
void test_hessian_block() {
  constexpr int L = 8;
  const dualtape::Tape tape = example_tape();
  dualtape::HessianBlockWorkspace<L, 2> ws;
  ws.prepare(tape);
  double xs[L][3];
  for (int l = 0; l < L; ++l) {
    xs[l][0] = 0.3 + 0.2 * l;
    xs[l][1] = (l % 2 ? 1.0 : -1.0) * (0.1 + 0.15 * l);
    xs[l][2] = 1.0 - 0.25 * l;
    for (int i = 0; i < 3; ++i) ws.values[size_t(i) * L + l] = xs[l][i];
  }
  dualtape::hessian_block<L, 2>(tape, ws);
  for (int l = 0; l < L; ++l) {
    double g[2], H[4];
    const bool finite = dualtape::hessian_block_lane<L, 2>(ws, l, g, H);
    const std::string where = "hessian_block lane " + std::to_string(l);
    if (xs[l][1] < 0.0) {
      check(!finite, where + ": the NaN of the branch not taken is flagged");
      continue;
    }
    check(finite, where + " is finite");
    const Expected e = closed_form(xs[l][0], xs[l][1], xs[l][2]);
    check_close(ws.values[size_t(tape.outputs()[0]) * L + l], e.f[0], where + " value");
    for (int i = 0; i < 2; ++i) {
      check_close(g[i], e.g[0][i], where + " gradient[" + std::to_string(i) + "]");
      for (int j = 0; j < 2; ++j)
        check_close(H[i * 2 + j], e.H[0][i][j], where + " H[" + std::to_string(i) + "][" + std::to_string(j) + "]");
    }
  }
}

// The reverse plan's constant second partials of sums, products and squares.
void test_constant_second_partials() {
  std::vector<Instruction> code = {
      {Op::Input, 0}, {Op::Input, 1}, {Op::Mul, 0, 1}, {Op::Square, 2},
      {Op::Sub, 3, 0}, {Op::Neg, 4}, {Op::Add, 5, 1}, {Op::Sin, 6},
  };
  const dualtape::Tape tape(2, 0, code, {7});
  struct Second {
    double aa, ab, bb;
  };
  const std::vector<std::pair<Op, Second>> expected = {
      {Op::Mul, {0.0, 1.0, 0.0}}, {Op::Square, {2.0, 0.0, 0.0}}, {Op::Sub, {0.0, 0.0, 0.0}},
      {Op::Neg, {0.0, 0.0, 0.0}}, {Op::Add, {0.0, 0.0, 0.0}}};
  int seen = 0;
  for (const dualtape::ReverseStep& step : tape.reverse_steps()) {
    const Op op = tape.code()[step.slot].op;
    const std::string name = dualtape::op_name(op);
    if (op == Op::Sin) {
      check(!step.constant_second, "Sin has no constant second partials");
      continue;
    }
    for (const auto& [kind, second] : expected) {
      if (kind != op) continue;
      ++seen;
      check(step.constant_second, name + " has constant second partials");
      check(step.constant_aa == second.aa && step.constant_ab == second.ab && step.constant_bb == second.bb,
            name + " second partials (" + std::to_string(step.constant_aa) + ", " + std::to_string(step.constant_ab) +
                ", " + std::to_string(step.constant_bb) + ")");
    }
  }
  check(seen == 5, "every operation of the tape has a reverse step, got " + std::to_string(seen));
}

// hessian_block against hessian_point on the operations with constant second
// partials, including a product of a slot with itself and a parameter factor:
// f = x0·x0 − (x0 − x1)·(−x1) + p·x0·x1 + (x1 + p)².
void test_hessian_block_constant_second_partials() {
  std::vector<Instruction> code = {
      {Op::Input, 0}, {Op::Input, 1}, {Op::Param, 0},
      {Op::Mul, 0, 0},   // 3: x0·x0
      {Op::Sub, 0, 1},   // 4: x0 − x1
      {Op::Neg, 1},      // 5: −x1
      {Op::Mul, 4, 5},   // 6
      {Op::Sub, 3, 6},   // 7
      {Op::Mul, 2, 0},   // 8: p·x0
      {Op::Mul, 8, 1},   // 9: p·x0·x1
      {Op::Add, 7, 9},   // 10
      {Op::Add, 1, 2},   // 11: x1 + p
      {Op::Square, 11},  // 12
      {Op::Add, 10, 12}, // 13: f
  };
  const dualtape::Tape tape(2, 1, code, {13});
  constexpr int L = 8;
  dualtape::HessianBlockWorkspace<L, 2> ws;
  ws.prepare(tape);
  double points[L][3];
  for (int l = 0; l < L; ++l) {
    points[l][0] = -1.0 + 0.3 * l;
    points[l][1] = 0.7 - 0.2 * l;
    points[l][2] = 0.5 + 0.1 * l;
    for (int i = 0; i < 3; ++i) ws.values[size_t(i) * L + l] = points[l][i];
  }
  // Two sweeps on one workspace: the second must not depend on the first.
  for (int sweep = 0; sweep < 2; ++sweep) {
    dualtape::hessian_block<L, 2>(tape, ws);
    for (int l = 0; l < L; ++l) {
      const std::string where = "constant second partials, sweep " + std::to_string(sweep) + ", lane " + std::to_string(l);
      double g_block[2], H_block[4], g_point[2], H_point[4];
      check(dualtape::hessian_block_lane<L, 2>(ws, l, g_block, H_block), where + " is finite");
      dualtape::HessianWorkspace<2> point_ws;
      const double x[2] = {points[l][0], points[l][1]};
      const double p[1] = {points[l][2]};
      dualtape::hessian_point<2>(tape, 0, x, p, g_point, H_point, point_ws);
      for (int i = 0; i < 2; ++i) check_close(g_block[i], g_point[i], where + " gradient[" + std::to_string(i) + "]");
      for (int i = 0; i < 4; ++i) check_close(H_block[i], H_point[i], where + " H entry " + std::to_string(i));
      // Closed form: f = x0² + x0 x1 − x1² + p x0 x1 + (x1 + p)², so H = [[2, 1 + p], [1 + p, 0]].
      check_close(H_block[0], 2.0, where + " H[0][0]");
      check_close(H_block[1], 1.0 + points[l][2], where + " H[0][1]");
      check_close(H_block[3], 0.0, where + " H[1][1]");
    }
  }
}

// An objective sums one number per element, so each energy's tape has one output
// (residual sets use multi-output tapes, but not in an objective).
void test_objective_needs_one_output() {
  auto tape = std::make_shared<const dualtape::Tape>(
      2, 0, std::vector<Instruction>{{Op::Input, 0}, {Op::Input, 1}, {Op::Mul, 0, 1}}, std::vector<int>{0, 2});
  auto energy = std::make_shared<const dualtape::ElementEnergy>(tape, std::vector<std::int32_t>{0, 1}, 2, 1,
                                                                std::vector<double>{}, 0);
  bool thrown = false;
  try {
    dualtape::Objective objective({{energy, 1.0}}, 2, 1, {});
  } catch (const std::invalid_argument&) {
    thrown = true;
  }
  check(thrown, "an objective rejects an energy whose tape has two outputs");
}

// sqrt(x² + y²)² at the origin, recorded as a tape: zero gradient in every mode.
void test_tape_zero_rule() {
  std::vector<Instruction> code = {
      {Op::Input, 0}, {Op::Input, 1}, {Op::Mul, 0, 0}, {Op::Mul, 1, 1},
      {Op::Add, 2, 3}, {Op::Sqrt, 4}, {Op::Square, 5},
  };
  const dualtape::Tape tape(2, 0, code, {6});
  const double x[2] = {0.0, 0.0};
  const double w[1] = {1.0};
  dualtape::Workspace ws;
  double f[1], g[2];
  dualtape::vector_jacobian(tape, x, nullptr, w, f, g, ws);
  check(g[0] == 0.0 && g[1] == 0.0, "zero rule: reverse gradient at the origin is (0, 0)");

  const double identity[4] = {1.0, 0.0, 0.0, 1.0};
  double jt[2];
  dualtape::jacobian_vector(tape, x, nullptr, identity, 2, f, jt);
  check(jt[0] == 0.0 && jt[1] == 0.0, "zero rule: forward gradient at the origin is (0, 0)");

  dualtape::HessianWorkspace<2> hws;
  double H[4];
  dualtape::hessian_point<2>(tape, 0, x, nullptr, g, H, hws);
  check(g[0] == 0.0 && g[1] == 0.0, "zero rule: forward-over-reverse gradient at the origin is (0, 0)");
  bool finite = true;
  for (double h : H) finite = finite && std::isfinite(h);
  check(finite, "zero rule: Hessian at the origin is finite");
}

void test_tape_validation() {
  bool thrown = false;
  try {
    std::vector<Instruction> code = {{Op::Input, 0}, {Op::Add, 0, 2}, {Op::Neg, 0}};
    dualtape::Tape tape(1, 0, code, {1});
  } catch (const std::out_of_range&) {
    thrown = true;
  }
  check(thrown, "an argument that refers to a later instruction throws std::out_of_range");

  thrown = false;
  try {
    dualtape::Tape tape(1, 0, {{Op::Input, 3}}, {0});
  } catch (const std::out_of_range&) {
    thrown = true;
  }
  check(thrown, "an input index >= n_inputs throws std::out_of_range");

  thrown = false;
  try {
    dualtape::Tape tape(1, 0, {{Op::Input, 0}}, {});
  } catch (const std::invalid_argument&) {
    thrown = true;
  }
  check(thrown, "a tape without outputs throws std::invalid_argument");
}

// Σ over the edges (0, 1), (1, 2) of 2 (xᵢ − xⱼ)², assembled by Objective.
void test_objective() {
  std::vector<Instruction> code = {{Op::Input, 0}, {Op::Input, 1}, {Op::Sub, 0, 1}, {Op::Square, 2}};
  auto tape = std::make_shared<const dualtape::Tape>(2, 0, code, std::vector<int>{3});
  auto energy = std::make_shared<const dualtape::ElementEnergy>(tape, std::vector<std::int32_t>{0, 1, 1, 2}, 2, 1,
                                                                std::vector<double>{}, 0);
  dualtape::Objective objective({{energy, 2.0}}, 3, 1, std::vector<std::uint8_t>{0, 0, 0});
  const double x[3] = {0.0, 1.0, 3.0};
  double g[3];
  check_close(objective.value(x), 10.0, "objective value");
  check_close(objective.value_and_gradient(x, g), 10.0, "objective value with gradient");
  const double expected_g[3] = {-4.0, -4.0, 8.0};
  for (int i = 0; i < 3; ++i) check_close(g[i], expected_g[i], "objective gradient[" + std::to_string(i) + "]");

  const auto& pattern = objective.pattern();
  std::vector<double> values(size_t(pattern.nnz()));
  objective.hessian(x, dualtape::Projection::None, 1e-9, g, values.data());
  const double expected_H[3][3] = {{4.0, -4.0, 0.0}, {-4.0, 8.0, -4.0}, {0.0, -4.0, 4.0}};
  double dense[3][3] = {};
  for (int r = 0; r < 3; ++r)
    for (int k = pattern.row_ptr[r]; k < pattern.row_ptr[r + 1]; ++k) dense[r][pattern.col[k]] = values[k];
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      check_close(dense[r][c], expected_H[r][c], "objective H[" + std::to_string(r) + "][" + std::to_string(c) + "]");
  check(pattern.nnz() == 7, "objective pattern has 7 entries");
}

}  // namespace

// Double-double arithmetic and functions against identities that hold to about
// 32 digits, and the non-finite results that match the double functions.
void test_double_double() {
  using dualtape::DoubleDouble;
  // |a − b| ≤ 1e-30 · max(scale, |b|), from the double-double difference.
  const auto close = [](const DoubleDouble& a, const DoubleDouble& b, const std::string& what, double scale = 1.0) {
    const DoubleDouble difference = a - b;
    const double error = std::abs(difference.hi) / std::max(scale, std::abs(b.hi));
    std::ostringstream message;
    message << what << ": relative error " << error;
    check(std::isfinite(a.hi) && error <= 1e-30, message.str());
  };

  const DoubleDouble third = DoubleDouble(1.0) / 3.0;
  close(third * 3.0, 1.0, "(1/3)·3");
  check(third.lo != 0.0, "1/3 has a low part");

  const DoubleDouble two(2.0);
  close(sqrt(two) * sqrt(two), two, "√2 · √2");

  const DoubleDouble pi(0x1.921fb54442d18p+1, 0x1.1a62633145c07p-53);
  const DoubleDouble e(0x1.5bf0a8b145769p+1, 0x1.4d57ee2b1013ap-53);
  close(atan(DoubleDouble(1.0)) * 4.0, pi, "4 atan 1");
  close(exp(DoubleDouble(1.0)), e, "exp 1");
  close(log(e), 1.0, "log e");
  close(expm1(DoubleDouble(1e-20)), DoubleDouble(1e-20) + DoubleDouble(0.5e-40), "expm1 of a tiny number");
  close(sin(pi), DoubleDouble(0.0), "sin π");
  close(cos(pi), -1.0, "cos π");
  close(acos(DoubleDouble(-1.0)), pi, "acos −1");
  close(asin(DoubleDouble(1.0)) * 2.0, pi, "2 asin 1");
  close(atan2(DoubleDouble(-1.0), DoubleDouble(-1.0)), -(pi * 3.0) / 4.0, "atan2(−1, −1)");
  close(sinh(DoubleDouble(1e-8)), DoubleDouble(1e-8) + DoubleDouble(1e-24) / 6.0, "sinh of a small number", 0.0);
  close(pow(two, 0.5), sqrt(two), "2^0.5");
  close(pow(two, DoubleDouble(10.0)), 1024.0, "2^10");
  close(pow(DoubleDouble(-2.0), 3.0), -8.0, "(−2)^3");
  close(hypot(DoubleDouble(3e300), DoubleDouble(4e300)) / 1e300, 5.0, "hypot(3e300, 4e300)");
  close(log1p(DoubleDouble(1e-20)), DoubleDouble(1e-20) - DoubleDouble(0.5e-40), "log1p of a tiny number");

  for (double x : {-37.5, -2.0, -0.3, 1e-8, 0.7, 3.0, 41.0, 300.0}) {
    const DoubleDouble a(x);
    const std::string at = "(" + std::to_string(x) + ")";
    DoubleDouble s = sin(a), c = cos(a);
    close(s * s + c * c, 1.0, "sin² + cos² " + at);
    close(tan(a) * c, s, "tan · cos " + at);
    close(exp(a) * exp(-a), 1.0, "exp · exp(−x) " + at);
    if (x > -3.0) close(cosh(a) + sinh(a), exp(a), "cosh + sinh " + at, 0.0);  // no cancellation
    DoubleDouble expected_tanh = sinh(a) / cosh(a);
    if (std::abs(x) > 40) expected_tanh = DoubleDouble(x > 0 ? 1.0 : -1.0);
    close(tanh(a), expected_tanh, "tanh " + at);
    close(atan(tan(DoubleDouble(std::remainder(x, 3.0)))), DoubleDouble(std::remainder(x, 3.0)), "atan tan " + at);
    if (x > 0.0) close(exp(log(a)), a, "exp log " + at);
  }

  // Non-finite results follow the double functions and carry no low part.
  const double inf = std::numeric_limits<double>::infinity();
  check(exp(DoubleDouble(1000.0)).hi == inf && exp(DoubleDouble(1000.0)).lo == 0.0, "exp 1000 = inf");
  check(exp(DoubleDouble(-1000.0)).hi == 0.0, "exp −1000 = 0");
  check(log(DoubleDouble(0.0)).hi == -inf, "log 0 = −inf");
  check(std::isnan(log(DoubleDouble(-1.0)).hi), "log −1 is NaN");
  check(std::isnan(sqrt(DoubleDouble(-1.0)).hi), "√−1 is NaN");
  check((DoubleDouble(1.0) / DoubleDouble(0.0)).hi == inf, "1/0 = inf");
  check(std::isnan(pow(DoubleDouble(-2.0), 0.5).hi), "(−2)^0.5 is NaN");
  check(std::isnan(asin(DoubleDouble(1.5)).hi), "asin 1.5 is NaN");
  check((DoubleDouble(1e308) * 10.0).hi == inf && (DoubleDouble(1e308) * 10.0).lo == 0.0, "overflow: inf + 0");

  // A finite number divided by an overflowed one is 0, as in double.
  check(DoubleDouble(1.0) / exp(DoubleDouble(710.0)) == DoubleDouble(0.0), "1 / exp 710 = 0");
  check(pow(DoubleDouble(1e200), -2.0) == DoubleDouble(0.0), "(1e200)^−2 = 0");
  check(std::isnan((DoubleDouble(inf) / DoubleDouble(inf)).hi), "inf / inf is NaN");

  // sin and cos reduce up to 2^50 in double-double and use the double functions
  // beyond. Both agree with std::sin and std::cos.
  for (double x : {0x1p+49, 0x1p+50, 3e17, 1e18, 1e22, -1e30}) {
    check(std::abs(sin(DoubleDouble(x)).hi - std::sin(x)) <= 1e-15, "sin " + std::to_string(x) + " as in double");
    check(std::abs(cos(DoubleDouble(x)).hi - std::cos(x)) <= 1e-15, "cos " + std::to_string(x) + " as in double");
  }

  // Comparisons see the low parts of numbers that round to the same double.
  const DoubleDouble smaller(1.0, 1e-20), larger(1.0, 2e-20);
  check(dualtape::value_less(smaller, larger) && !dualtape::value_less(larger, smaller), "1 + 1e-20 < 1 + 2e-20");
  check(dualtape::value_less_equal(smaller, smaller) && !dualtape::value_equal(smaller, larger), "<= and ==");
}

int main() {
  test_duals();
  test_tape_modes();
  test_batched_lanes();
  test_hessian_block();
  test_constant_second_partials();
  test_hessian_block_constant_second_partials();
  test_objective_needs_one_output();
  test_tape_zero_rule();
  test_tape_validation();
  test_objective();
  test_double_double();
  std::cout << checks - failures << " of " << checks << " checks passed\n";
  return failures == 0 ? 0 : 1;
}
