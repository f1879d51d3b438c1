// The operation table: for every tape operation, its value and its local partial
// derivatives, written once and used by every evaluation mode.
#pragma once

#include "dualtape/dual.hpp"

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace dualtape {

// X-macro list of all operations: name, number of arguments that are slots.
// Argument order: a, b, c. Only a and b are ever differentiated: `Where` takes
// (a = value if true, b = value if false, c = condition).
#define DUALTAPE_OPS(X) \
  X(Input, 0)           \
  X(Param, 0)           \
  X(Const, 0)           \
  X(Add, 2)             \
  X(Sub, 2)             \
  X(Mul, 2)             \
  X(Div, 2)             \
  X(Neg, 1)             \
  X(Square, 1)          \
  X(PowConst, 1)        \
  X(Pow, 2)             \
  X(Sqrt, 1)            \
  X(Exp, 1)             \
  X(Log, 1)             \
  X(Log1p, 1)           \
  X(Expm1, 1)           \
  X(Sin, 1)             \
  X(Cos, 1)             \
  X(Tan, 1)             \
  X(Asin, 1)            \
  X(Acos, 1)            \
  X(Atan, 1)            \
  X(Atan2, 2)           \
  X(Sinh, 1)            \
  X(Cosh, 1)            \
  X(Tanh, 1)            \
  X(Abs, 1)             \
  X(Sign, 1)            \
  X(Min, 2)             \
  X(Max, 2)             \
  X(Hypot, 2)           \
  X(Lt, 2)              \
  X(Le, 2)              \
  X(Gt, 2)              \
  X(Ge, 2)              \
  X(Eq, 2)              \
  X(Ne, 2)              \
  X(Where, 3)

enum class Op : std::uint8_t {
#define DUALTAPE_ENUM(name, arity) name,
  DUALTAPE_OPS(DUALTAPE_ENUM)
#undef DUALTAPE_ENUM
      Count
};

constexpr int kOpCount = int(Op::Count);

/// Name of an operation, as used in error messages and graph pictures.
inline const char* op_name(Op op) {
  switch (op) {
#define DUALTAPE_NAME(name, arity) \
  case Op::name:                   \
    return #name;
    DUALTAPE_OPS(DUALTAPE_NAME)
#undef DUALTAPE_NAME
    default:
      return "?";
  }
}

/// Number of slot arguments of an operation (0 to 3).
inline int op_arity(Op op) {
  switch (op) {
#define DUALTAPE_ARITY(name, arity) \
  case Op::name:                    \
    return arity;
    DUALTAPE_OPS(DUALTAPE_ARITY)
#undef DUALTAPE_ARITY
    default:
      return 0;
  }
}

/// Number of arguments with a partial derivative (a only, or a and b).
inline int op_differentiable_arity(Op op) {
  const int arity = op_arity(op);
  return arity == 3 ? 2 : arity;
}

/// Whether the operation's partials are the same constants everywhere (a sum,
/// difference or negation). The interpreter then takes them from the reverse plan
/// instead of storing them for every evaluation point.
constexpr bool op_has_constant_partials(Op op) { return op == Op::Add || op == Op::Sub || op == Op::Neg; }

/// Returns true if the operation's second partials are the same constants
/// everywhere: the operations above, products and squares. The block Hessian then
/// takes them from the reverse plan instead of computing them at every point.
constexpr bool op_has_constant_second_partials(Op op) {
  return op_has_constant_partials(op) || op == Op::Mul || op == Op::Square;
}

/// Whether the operation is a comparison whose value is 0 or 1 with zero derivative.
inline bool op_is_comparison(Op op) { return op >= Op::Lt && op <= Op::Ne; }

/// Value of a scalar for tests and comparisons: the number itself, or a Dual's value.
inline double value_of(double x) { return x; }
template <typename T, int N, bool E>
T value_of(const Dual<T, N, E>& x) { return x.v; }

/// Comparisons of the values of two scalars, for the comparison, min and max rules.
/// DoubleDouble overloads them to compare both of its parts.
template <typename S>
DUALTAPE_INLINE bool value_less(const S& a, const S& b) { return value_of(a) < value_of(b); }
template <typename S>
DUALTAPE_INLINE bool value_less_equal(const S& a, const S& b) { return value_of(a) <= value_of(b); }
template <typename S>
DUALTAPE_INLINE bool value_equal(const S& a, const S& b) { return value_of(a) == value_of(b); }

/// Choice between two scalars; for Dual numbers the whole number is chosen.
template <typename S>
S select(bool condition, const S& if_true, const S& if_false) {
  return condition ? if_true : if_false;
}

/// The rule of one operation: `eval` sets the value v and the partials da = ∂v/∂a
/// and db = ∂v/∂b from the arguments a, b, c and the constant k. S is double, or a
/// Dual number for second order (the partials then carry their own derivatives).
template <Op op>
struct Rule;

#define DUALTAPE_RULE(name) \
  template <>               \
  struct Rule<Op::name> {   \
    template <typename S>   \
    static DUALTAPE_INLINE void eval(const S& a, const S& b, const S& c, double k, S& v, S& da, S& db)

// Leaves are loaded by the interpreter, never evaluated by a rule.
DUALTAPE_RULE(Input) { (void)a, (void)b, (void)c, (void)k, (void)v, (void)da, (void)db; } };
DUALTAPE_RULE(Param) { (void)a, (void)b, (void)c, (void)k, (void)v, (void)da, (void)db; } };
DUALTAPE_RULE(Const) { (void)a, (void)b, (void)c, (void)da, (void)db; v = S(k); } };

// v = a + b: ∂a = 1, ∂b = 1
DUALTAPE_RULE(Add) { (void)c, (void)k; v = a + b; da = S(1.0); db = S(1.0); } };
// v = a − b: ∂a = 1, ∂b = −1
DUALTAPE_RULE(Sub) { (void)c, (void)k; v = a - b; da = S(1.0); db = S(-1.0); } };
// v = a b: ∂a = b, ∂b = a
DUALTAPE_RULE(Mul) { (void)c, (void)k; v = a * b; da = b; db = a; } };
// v = a / b: ∂a = 1/b, ∂b = −v/b
DUALTAPE_RULE(Div) { (void)c, (void)k; const S inverse = S(1.0) / b; v = a * inverse; da = inverse; db = -v * inverse; } };
// v = −a: ∂a = −1
DUALTAPE_RULE(Neg) { (void)b, (void)c, (void)k, (void)db; v = -a; da = S(-1.0); } };
// v = a²: ∂a = 2a
DUALTAPE_RULE(Square) { (void)b, (void)c, (void)k, (void)db; v = a * a; da = 2.0 * a; } };

// v = a^k, k constant: ∂a = k a^(k−1). Exactly 0 when k = 0, and at a = 0 when k < 1
// (where the one-sided limit is infinite), so that 0^0.5 or a^0 never produce inf.
DUALTAPE_RULE(PowConst) {
  (void)b, (void)c, (void)db;
  using std::pow;
  v = pow(a, k);
  if (k == 0.0 || (value_of(a) == 0.0 && k < 1.0)) da = S(0.0);
  else if (k == 1.0) da = S(1.0);
  else if (k == 2.0) da = 2.0 * a;
  else da = k * pow(a, k - 1.0);
} };

// v = a^b: ∂a = b a^(b−1), ∂b = a^b log a. ∂b := 0 at a = 0 (so 0^b has derivative 0 in
// b for b > 0); ∂a follows the PowConst conventions. NaN for a < 0 and fractional b.
DUALTAPE_RULE(Pow) {
  (void)c, (void)k;
  using std::pow; using std::log;
  v = pow(a, b);
  const double av = value_of(a), bv = value_of(b);
  if (bv == 0.0 || (av == 0.0 && bv < 1.0)) da = S(0.0);
  else da = b * pow(a, b - 1.0);
  db = av == 0.0 ? S(0.0) : v * log(a);
} };

// v = √a: ∂a = 1/(2√a), defined as 0 at a = 0.
DUALTAPE_RULE(Sqrt) {
  (void)b, (void)c, (void)k, (void)db;
  using std::sqrt;
  v = sqrt(a);
  da = value_of(a) == 0.0 ? S(0.0) : 0.5 / v;
} };

// v = eᵃ: ∂a = eᵃ
DUALTAPE_RULE(Exp) { (void)b, (void)c, (void)k, (void)db; using std::exp; v = exp(a); da = v; } };
// v = log a: ∂a = 1/a
DUALTAPE_RULE(Log) { (void)b, (void)c, (void)k, (void)db; using std::log; v = log(a); da = 1.0 / a; } };
// v = log(1 + a): ∂a = 1/(1 + a)
DUALTAPE_RULE(Log1p) { (void)b, (void)c, (void)k, (void)db; using std::log1p; v = log1p(a); da = 1.0 / (1.0 + a); } };
// v = eᵃ − 1: ∂a = eᵃ = v + 1
DUALTAPE_RULE(Expm1) { (void)b, (void)c, (void)k, (void)db; using std::expm1; v = expm1(a); da = v + 1.0; } };
// v = sin a: ∂a = cos a
DUALTAPE_RULE(Sin) { (void)b, (void)c, (void)k, (void)db; using std::sin; using std::cos; v = sin(a); da = cos(a); } };
// v = cos a: ∂a = −sin a
DUALTAPE_RULE(Cos) { (void)b, (void)c, (void)k, (void)db; using std::sin; using std::cos; v = cos(a); da = -sin(a); } };
// v = tan a: ∂a = 1 + tan² a
DUALTAPE_RULE(Tan) { (void)b, (void)c, (void)k, (void)db; using std::tan; v = tan(a); da = 1.0 + v * v; } };
// v = asin a: ∂a = 1/√(1 − a²)
DUALTAPE_RULE(Asin) { (void)b, (void)c, (void)k, (void)db; using std::asin; using std::sqrt; v = asin(a); da = 1.0 / sqrt(1.0 - a * a); } };
// v = acos a: ∂a = −1/√(1 − a²)
DUALTAPE_RULE(Acos) { (void)b, (void)c, (void)k, (void)db; using std::acos; using std::sqrt; v = acos(a); da = -1.0 / sqrt(1.0 - a * a); } };
// v = atan a: ∂a = 1/(1 + a²)
DUALTAPE_RULE(Atan) { (void)b, (void)c, (void)k, (void)db; using std::atan; v = atan(a); da = 1.0 / (1.0 + a * a); } };

// v = atan2(a, b), the angle of the point (x = b, y = a): ∂a = b/(a² + b²),
// ∂b = −a/(a² + b²); both defined as 0 at the origin.
DUALTAPE_RULE(Atan2) {
  (void)c, (void)k;
  using std::atan2;
  v = atan2(a, b);
  const S r2 = a * a + b * b;
  const bool origin = value_of(r2) == 0.0;
  da = origin ? S(0.0) : b / r2;
  db = origin ? S(0.0) : -a / r2;
} };

// v = sinh a: ∂a = cosh a
DUALTAPE_RULE(Sinh) { (void)b, (void)c, (void)k, (void)db; using std::sinh; using std::cosh; v = sinh(a); da = cosh(a); } };
// v = cosh a: ∂a = sinh a
DUALTAPE_RULE(Cosh) { (void)b, (void)c, (void)k, (void)db; using std::sinh; using std::cosh; v = cosh(a); da = sinh(a); } };
// v = tanh a: ∂a = 1 − tanh² a
DUALTAPE_RULE(Tanh) { (void)b, (void)c, (void)k, (void)db; using std::tanh; v = tanh(a); da = 1.0 - v * v; } };

// v = |a|: ∂a = sign a, with the subgradient 0 chosen at a = 0.
DUALTAPE_RULE(Abs) {
  (void)b, (void)c, (void)k, (void)db;
  const double av = value_of(a);
  v = av < 0.0 ? -a : a;
  da = S(av > 0.0 ? 1.0 : (av < 0.0 ? -1.0 : 0.0));
} };

// v = sign a ∈ {−1, 0, 1}: ∂a = 0
DUALTAPE_RULE(Sign) {
  (void)b, (void)c, (void)k, (void)db;
  const double av = value_of(a);
  v = S(av > 0.0 ? 1.0 : (av < 0.0 ? -1.0 : 0.0));
  da = S(0.0);
} };

// v = min(a, b): the derivative follows a at a tie.
DUALTAPE_RULE(Min) {
  (void)c, (void)k;
  const bool pick_b = value_less(b, a);
  v = pick_b ? b : a;
  da = S(pick_b ? 0.0 : 1.0);
  db = S(pick_b ? 1.0 : 0.0);
} };

// v = max(a, b): the derivative follows a at a tie.
DUALTAPE_RULE(Max) {
  (void)c, (void)k;
  const bool pick_b = value_less(a, b);
  v = pick_b ? b : a;
  da = S(pick_b ? 0.0 : 1.0);
  db = S(pick_b ? 1.0 : 0.0);
} };

// v = √(a² + b²): ∂a = a/v, ∂b = b/v; both defined as 0 at the origin.
DUALTAPE_RULE(Hypot) {
  (void)c, (void)k;
  using std::hypot;
  v = hypot(a, b);
  const bool origin = value_of(v) == 0.0;
  da = origin ? S(0.0) : a / v;
  db = origin ? S(0.0) : b / v;
} };

// Comparisons: v ∈ {0, 1}, zero partials.
#define DUALTAPE_COMPARISON(name, expression)                       \
  DUALTAPE_RULE(name) {                                             \
    (void)c, (void)k;                                               \
    v = S((expression) ? 1.0 : 0.0);                                \
    da = S(0.0);                                                    \
    db = S(0.0);                                                    \
  } };
DUALTAPE_COMPARISON(Lt, value_less(a, b))
DUALTAPE_COMPARISON(Le, value_less_equal(a, b))
DUALTAPE_COMPARISON(Gt, value_less(b, a))
DUALTAPE_COMPARISON(Ge, value_less_equal(b, a))
DUALTAPE_COMPARISON(Eq, value_equal(a, b))
DUALTAPE_COMPARISON(Ne, !value_equal(a, b))
#undef DUALTAPE_COMPARISON

// v = a if c ≠ 0 else b: ∂a = [c ≠ 0], ∂b = [c = 0]. With the zero rule, the branch
// not taken contributes an exact zero even where its own derivative is inf or NaN.
DUALTAPE_RULE(Where) {
  (void)k;
  const bool take_a = value_of(c) != 0.0;
  v = take_a ? a : b;
  da = S(take_a ? 1.0 : 0.0);
  db = S(take_a ? 0.0 : 1.0);
} };

#undef DUALTAPE_RULE

/// Computes the value, first and second partials of one operation at one point. The
/// op table's rule runs on plain Dual numbers (see Dual) seeded with the directions
/// of a and b, so the derivatives of the partials come from the same table as the
/// partials. A caller that needs the zero rule must check the results for NaN.
template <Op op>
DUALTAPE_INLINE void second_partials(double a, double b, double c, double k, double& v, double& da, double& db,
                                     double& daa, double& dab, double& dbb) {
  using D = Dual<double, 2, false>;
  const D A(a, typename D::Tangent(1.0, 0.0)), B(b, typename D::Tangent(0.0, 1.0)), C(c);
  D value, partial_a, partial_b;
  Rule<op>::eval(A, B, C, k, value, partial_a, partial_b);
  v = value.v;
  da = partial_a.v;
  db = partial_b.v;
  daa = partial_a.g[0];
  dab = partial_a.g[1];
  dbb = partial_b.g[1];
}

/// Returns (a + b) / 2, halving each term before the sum, so that the mean of two
/// finite numbers is finite. It symmetrizes Hessian entries.
DUALTAPE_INLINE double symmetric_mean(double a, double b) { return 0.5 * a + 0.5 * b; }

/// Calls f(std::integral_constant<Op, op>{}) for a runtime op, so that the callee
/// is compiled once per operation with the rule inlined.
template <typename F>
inline void visit_op(Op op, F&& f) {
  switch (op) {
#define DUALTAPE_VISIT(name, arity)                         \
  case Op::name:                                            \
    f(std::integral_constant<Op, Op::name>{});              \
    break;
    DUALTAPE_OPS(DUALTAPE_VISIT)
#undef DUALTAPE_VISIT
    default:
      break;
  }
}

/// Call body(std::integral_constant<Op, op>{}, i) for the instructions
/// i = first .. last − 1 of `code`, in order. With GCC and Clang, each operation's
/// body ends in its own jump to the next one (computed goto), so the branch
/// predictor learns the sequence of a tape that is run many times. A single switch
/// would give all of them one shared jump, which is often mispredicted.
template <typename Code, typename Body>
#if defined(__GNUC__)
__attribute__((flatten))
#endif
inline void for_each_op(const Code& code, int first, int last, Body&& body) {
  if (first >= last) return;
#if defined(__GNUC__)
  static void* const labels[] = {
#define DUALTAPE_LABEL(name, arity) &&op_##name,
      DUALTAPE_OPS(DUALTAPE_LABEL)
#undef DUALTAPE_LABEL
  };
  int i = first;
  goto* labels[int(code[i].op)];
#define DUALTAPE_HANDLER(name, arity)                \
  op_##name:                                         \
  body(std::integral_constant<Op, Op::name>{}, i);   \
  if (++i == last) return;                           \
  goto* labels[int(code[i].op)];
  DUALTAPE_OPS(DUALTAPE_HANDLER)
#undef DUALTAPE_HANDLER
#else
  for (int i = first; i < last; ++i) visit_op(code[i].op, [&](auto tag) { body(tag, i); });
#endif
}

}  // namespace dualtape
