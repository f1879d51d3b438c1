// Double-double numbers: a value held as the unevaluated sum hi + lo of two
// doubles, with |lo| ≤ ulp(hi) / 2, which carries about 32 significant digits.
// The op table's rules run on this type unchanged, so a tape can be evaluated in
// double-double. That keeps a residual accurate when it is far smaller than the
// terms that cancel in it: the NIST problem Lanczos1 fits data given to 13 digits,
// and its residuals are 1e-13 of the data.
//
// Arithmetic follows the error-free transformations of Knuth (two-sum) and
// Dekker (two-product, here with a fused multiply-add). Logarithms and inverse
// tangents refine the double result by one Newton step, which doubles the number
// of correct digits. Exponentials, sines and cosines reduce the argument and sum
// a Taylor series.
// Results that are not finite (overflow, poles, NaN) are returned with lo = 0 and
// the value that the double function gives.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace dualtape {

struct DoubleDouble {
  double hi = 0.0;
  double lo = 0.0;

  DoubleDouble() = default;
  DoubleDouble(double value) : hi(value) {}  // NOLINT: implicit, so that the rules' S(1.0) and 2.0 * a compile
  DoubleDouble(double high, double low) : hi(high), lo(low) {}

  /// The nearest double to hi + lo; a zero keeps the sign of hi.
  double to_double() const { return lo == 0.0 ? hi : hi + lo; }
};

/// Value used by the op table's branches (comparisons, the sign of an argument).
inline double value_of(const DoubleDouble& x) { return x.hi; }

namespace dd {

/// s + e = a + b exactly (Knuth's two-sum).
inline DoubleDouble two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}

/// s + e = a + b exactly when |a| ≥ |b| or a = 0. With b = 0 it returns a unchanged,
/// so that −0 stays −0.
inline DoubleDouble fast_two_sum(double a, double b) {
  if (b == 0.0) return {a, 0.0};
  const double s = a + b;
  return {s, b - (s - a)};
}

/// p + e = a·b exactly (Dekker's product by a fused multiply-add).
inline DoubleDouble two_product(double a, double b) {
  const double p = a * b;
  return {p, std::fma(a, b, -p)};
}

inline bool finite(double x) { return std::isfinite(x); }

/// Scales by 2^k exactly (barring overflow and underflow).
inline DoubleDouble scale(const DoubleDouble& a, int k) { return {std::ldexp(a.hi, k), std::ldexp(a.lo, k)}; }

}  // namespace dd

inline DoubleDouble operator-(const DoubleDouble& a) { return {-a.hi, -a.lo}; }

inline DoubleDouble operator+(const DoubleDouble& a, const DoubleDouble& b) {
  DoubleDouble s = dd::two_sum(a.hi, b.hi);
  if (!dd::finite(s.hi)) return {s.hi, 0.0};
  const DoubleDouble t = dd::two_sum(a.lo, b.lo);
  s.lo += t.hi;
  s = dd::fast_two_sum(s.hi, s.lo);
  s.lo += t.lo;
  return dd::fast_two_sum(s.hi, s.lo);
}

inline DoubleDouble operator+(const DoubleDouble& a, double b) {
  DoubleDouble s = dd::two_sum(a.hi, b);
  if (!dd::finite(s.hi)) return {s.hi, 0.0};
  s.lo += a.lo;
  return dd::fast_two_sum(s.hi, s.lo);
}

inline DoubleDouble operator+(double a, const DoubleDouble& b) { return b + a; }
inline DoubleDouble operator-(const DoubleDouble& a, const DoubleDouble& b) { return a + (-b); }
inline DoubleDouble operator-(const DoubleDouble& a, double b) { return a + (-b); }
inline DoubleDouble operator-(double a, const DoubleDouble& b) { return (-b) + a; }

inline DoubleDouble operator*(const DoubleDouble& a, const DoubleDouble& b) {
  DoubleDouble p = dd::two_product(a.hi, b.hi);
  if (!dd::finite(p.hi)) return {p.hi, 0.0};
  p.lo += a.hi * b.lo + a.lo * b.hi;
  return dd::fast_two_sum(p.hi, p.lo);
}

inline DoubleDouble operator*(const DoubleDouble& a, double b) {
  DoubleDouble p = dd::two_product(a.hi, b);
  if (!dd::finite(p.hi)) return {p.hi, 0.0};
  p.lo += a.lo * b;
  return dd::fast_two_sum(p.hi, p.lo);
}

inline DoubleDouble operator*(double a, const DoubleDouble& b) { return b * a; }

/// Long division: three quotient digits, each from the remainder of the last.
inline DoubleDouble operator/(const DoubleDouble& a, const DoubleDouble& b) {
  const double q1 = a.hi / b.hi;
  // Zero, infinite or NaN operands: the double quotient (finite / inf = 0).
  if (!dd::finite(q1) || q1 == 0.0 || !dd::finite(b.hi)) return {q1, 0.0};
  DoubleDouble r = a - b * q1;
  const double q2 = r.hi / b.hi;
  r = r - b * q2;
  const double q3 = r.hi / b.hi;
  return dd::fast_two_sum(q1, q2) + q3;
}

inline DoubleDouble operator/(const DoubleDouble& a, double b) { return a / DoubleDouble(b); }
inline DoubleDouble operator/(double a, const DoubleDouble& b) { return DoubleDouble(a) / b; }

inline bool operator==(const DoubleDouble& a, const DoubleDouble& b) { return a.hi == b.hi && a.lo == b.lo; }
inline bool operator!=(const DoubleDouble& a, const DoubleDouble& b) { return !(a == b); }

// Comparisons of the op table's rules (see ops.hpp): both parts count, so numbers
// that round to the same double still compare as they should. NaN compares false.
inline bool value_less(const DoubleDouble& a, const DoubleDouble& b) {
  return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}
inline bool value_less_equal(const DoubleDouble& a, const DoubleDouble& b) {
  return a.hi < b.hi || (a.hi == b.hi && a.lo <= b.lo);
}
inline bool value_equal(const DoubleDouble& a, const DoubleDouble& b) { return a.hi == b.hi && a.lo == b.lo; }

namespace dd {

// π/2 and log 2 to about 48 digits, each as three doubles.
constexpr double kHalfPi[3] = {0x1.921fb54442d18p+0, 0x1.1a62633145c07p-54, -0x1.f1976b7ed8fbcp-110};
constexpr double kLog2[3] = {0x1.62e42fefa39efp-1, 0x1.abc9e3b39803fp-56, 0x1.7b57a079a1934p-111};

/// 1/n! for n = 0 .. 31, in double-double.
inline const std::array<DoubleDouble, 32>& inverse_factorials() {
  static const std::array<DoubleDouble, 32> table = [] {
    std::array<DoubleDouble, 32> t{};
    t[0] = DoubleDouble(1.0);
    for (int n = 1; n < 32; ++n) t[n] = t[n - 1] / double(n);
    return t;
  }();
  return table;
}

/// a − k·c with c given as three doubles, for an integer-valued k.
inline DoubleDouble reduce(const DoubleDouble& a, double k, const double (&c)[3]) {
  return ((a - two_product(k, c[0])) - two_product(k, c[1])) - k * c[2];
}

/// eʳ − 1 for |r| ≤ 0.5: the series on r / 2⁹, then nine doublings
/// eˢ − 1 ↦ (eˢ − 1)(eˢ + 1), which keep the relative accuracy of a small result.
inline DoubleDouble expm1_reduced(const DoubleDouble& r) {
  constexpr int kHalvings = 9;
  const DoubleDouble s = scale(r, -kHalvings);
  const auto& c = inverse_factorials();
  // |s| ≤ 1e-3, so the term s¹¹/11! is below 1e-40.
  DoubleDouble sum = c[11];
  for (int n = 10; n >= 1; --n) sum = sum * s + c[n];
  DoubleDouble e = sum * s;
  for (int i = 0; i < kHalvings; ++i) e = e * (e + 2.0);
  return e;
}

/// sin r and cos r for |r| ≤ π/4 (slightly more after a rounded k) by their
/// Taylor series, whose last terms are below 1e-34.
inline void sin_cos_reduced(const DoubleDouble& r, DoubleDouble& s, DoubleDouble& c) {
  const auto& f = inverse_factorials();
  const DoubleDouble r2 = r * r;
  // sin r = r Σ_j (−1)^j r^2j / (2j + 1)! for j ≤ 14, and cos r = Σ_j (−1)^j r^2j / (2j)!
  // for j ≤ 15, both by Horner's rule.
  DoubleDouble sin_sum = f[29];
  for (int j = 13; j >= 0; --j) sin_sum = r2 * sin_sum + (j % 2 == 0 ? f[2 * j + 1] : -f[2 * j + 1]);
  DoubleDouble cos_sum = -f[30];
  for (int j = 14; j >= 0; --j) cos_sum = r2 * cos_sum + (j % 2 == 0 ? f[2 * j] : -f[2 * j]);
  s = r * sin_sum;
  c = cos_sum;
}

}  // namespace dd

inline DoubleDouble sqrt(const DoubleDouble& a) {
  if (!(a.hi > 0.0) || !dd::finite(a.hi)) return {std::sqrt(a.hi), 0.0};
  // Below 2^-900 the low part of x² would underflow: √a = √(a 2¹⁰⁰⁰) 2⁻⁵⁰⁰.
  if (a.hi < 0x1p-900) return dd::scale(sqrt(dd::scale(a, 1000)), -500);
  const double x = std::sqrt(a.hi);
  const DoubleDouble residual = a - dd::two_product(x, x);
  return dd::fast_two_sum(x, residual.hi / (2.0 * x));
}

inline DoubleDouble exp(const DoubleDouble& a) {
  if (a.hi > 709.8 || a.hi < -745.2 || !dd::finite(a.hi)) return {std::exp(a.hi), 0.0};
  const double k = std::nearbyint(a.hi / dd::kLog2[0]);
  const DoubleDouble r = dd::reduce(a, k, dd::kLog2);
  return dd::scale(dd::expm1_reduced(r) + 1.0, int(k));
}

inline DoubleDouble expm1(const DoubleDouble& a) {
  if (std::abs(a.hi) <= 0.5) return dd::expm1_reduced(a);
  return exp(a) - 1.0;
}

inline DoubleDouble log(const DoubleDouble& a) {
  if (!(a.hi > 0.0) || !dd::finite(a.hi)) return {std::log(a.hi), 0.0};
  // Keep e⁻ˣ below (above) the overflow (underflow) threshold: log a = log(a 2ᵏ) − k log 2.
  if (a.hi < 0x1p-900) return dd::reduce(log(dd::scale(a, 1000)), 1000.0, dd::kLog2);
  if (a.hi > 0x1p+900) return dd::reduce(log(dd::scale(a, -1000)), -1000.0, dd::kLog2);
  // Newton's step on eˣ = a: x ← x + a e⁻ˣ − 1.
  const double x = std::log(a.hi);
  return (a * exp(DoubleDouble(-x)) - 1.0) + x;
}

inline DoubleDouble log1p(const DoubleDouble& a) {
  if (!dd::finite(a.hi) || std::abs(a.hi) > 0.5) return log(a + 1.0);
  // Newton's step on eˣ − 1 = a: x ← x − (eˣ − 1 − a) / (1 + a).
  const double x = std::log1p(a.hi);
  return DoubleDouble(x) - (expm1(DoubleDouble(x)) - a) / (a + 1.0);
}

namespace dd {

/// Largest |a| that sin_cos reduces in double-double. Up to it, k = a / (π/2) is
/// off by at most 1, and k times the part of π/2 beyond its three doubles is below 1e-33.
constexpr double kLargestReducedAngle = 0x1p+50;

/// sin a and cos a: a − k π/2 reduced to about [−π/4, π/4], then the quadrant k mod 4.
inline void sin_cos(const DoubleDouble& a, DoubleDouble& s, DoubleDouble& c) {
  if (!finite(a.hi)) {
    s = {std::sin(a.hi), 0.0};
    c = {std::cos(a.hi), 0.0};
    return;
  }
  if (std::abs(a.hi) > kLargestReducedAngle) {
    // NOTE: beyond 2^50 (about 1.1e15) the result is only as accurate as the double
    // functions. lo can exceed 1 there, so it enters by the angle sum formulas.
    const double sin_hi = std::sin(a.hi), cos_hi = std::cos(a.hi);
    const double sin_lo = std::sin(a.lo), cos_lo = std::cos(a.lo);
    s = {sin_hi * cos_lo + cos_hi * sin_lo, 0.0};
    c = {cos_hi * cos_lo - sin_hi * sin_lo, 0.0};
    return;
  }
  const double k = std::nearbyint(a.hi / kHalfPi[0]);
  DoubleDouble rs, rc;
  sin_cos_reduced(reduce(a, k, kHalfPi), rs, rc);
  switch (int(std::fmod(k, 4.0) + 4.0) % 4) {
    case 0: s = rs, c = rc; break;
    case 1: s = rc, c = -rs; break;
    case 2: s = -rs, c = -rc; break;
    default: s = -rc, c = rs; break;
  }
}

}  // namespace dd

inline DoubleDouble sin(const DoubleDouble& a) {
  DoubleDouble s, c;
  dd::sin_cos(a, s, c);
  return s;
}

inline DoubleDouble cos(const DoubleDouble& a) {
  DoubleDouble s, c;
  dd::sin_cos(a, s, c);
  return c;
}

inline DoubleDouble tan(const DoubleDouble& a) {
  DoubleDouble s, c;
  dd::sin_cos(a, s, c);
  return s / c;
}

/// Returns the angle of the point (x, y) by Newton's step on y cos θ − x sin θ = 0
/// from the double angle θ: θ ← θ + (y cos θ − x sin θ) / (x cos θ + y sin θ).
inline DoubleDouble atan2(const DoubleDouble& y, const DoubleDouble& x) {
  const double theta = std::atan2(y.hi, x.hi);
  if (!dd::finite(x.hi) || !dd::finite(y.hi) || (x.hi == 0.0 && y.hi == 0.0)) return {theta, 0.0};
  DoubleDouble s, c;
  dd::sin_cos(DoubleDouble(theta), s, c);
  return (y * c - x * s) / (x * c + y * s) + theta;
}

inline DoubleDouble atan(const DoubleDouble& a) { return atan2(a, DoubleDouble(1.0)); }

inline DoubleDouble asin(const DoubleDouble& a) {
  if (std::abs(a.hi) > 1.0 || !dd::finite(a.hi)) return {std::asin(a.hi), 0.0};
  return atan2(a, sqrt((1.0 - a) * (1.0 + a)));
}

inline DoubleDouble acos(const DoubleDouble& a) {
  if (std::abs(a.hi) > 1.0 || !dd::finite(a.hi)) return {std::acos(a.hi), 0.0};
  return atan2(sqrt((1.0 - a) * (1.0 + a)), a);
}

// Beyond |a| = 40, e^−|a| is below 1e-34 of e^|a|, so sinh and cosh are e^(|a| − log 2).
inline DoubleDouble sinh(const DoubleDouble& a) {
  if (!dd::finite(a.hi)) return {std::sinh(a.hi), 0.0};
  const DoubleDouble m = a.hi < 0.0 ? -a : a;
  DoubleDouble result;
  if (m.hi > 40.0) {
    result = exp(dd::reduce(m, 1.0, dd::kLog2));
  } else {
    const DoubleDouble e = expm1(m);  // sinh m = (e + e / (e + 1)) / 2 keeps small m accurate
    result = dd::scale(e + e / (e + 1.0), -1);
  }
  return a.hi < 0.0 ? -result : result;
}

inline DoubleDouble cosh(const DoubleDouble& a) {
  if (!dd::finite(a.hi)) return {std::cosh(a.hi), 0.0};
  const DoubleDouble m = a.hi < 0.0 ? -a : a;
  if (m.hi > 40.0) return exp(dd::reduce(m, 1.0, dd::kLog2));
  const DoubleDouble e = exp(m);
  return dd::scale(e + 1.0 / e, -1);
}

inline DoubleDouble tanh(const DoubleDouble& a) {
  if (!dd::finite(a.hi)) return {std::tanh(a.hi), 0.0};
  const DoubleDouble m = a.hi < 0.0 ? -a : a;
  DoubleDouble result(1.0);
  if (m.hi <= 40.0) {
    const DoubleDouble e = expm1(dd::scale(m, 1));  // tanh m = (e^2m − 1) / (e^2m + 1)
    result = e / (e + 2.0);
  }
  return a.hi < 0.0 ? -result : result;
}

/// a^k for a constant k: repeated squaring for an integer k (exact signs for a < 0),
/// else e^(k log a).
inline DoubleDouble pow(const DoubleDouble& a, double k) {
  if (k == 0.0) return DoubleDouble(1.0);
  if (a.hi == 0.0 || !dd::finite(a.hi) || !dd::finite(k)) return {std::pow(a.hi, k), 0.0};
  if (k == std::floor(k) && std::abs(k) <= 1073741824.0) {
    long long n = static_cast<long long>(std::abs(k));
    DoubleDouble result(1.0), base = a;
    while (n > 0) {
      if (n & 1) result = result * base;
      n >>= 1;
      if (n > 0) base = base * base;
    }
    return k < 0.0 ? 1.0 / result : result;
  }
  if (a.hi < 0.0) return {std::numeric_limits<double>::quiet_NaN(), 0.0};
  return exp(log(a) * k);
}

inline DoubleDouble pow(const DoubleDouble& a, const DoubleDouble& b) {
  if (b.lo == 0.0) return pow(a, b.hi);
  if (!dd::finite(a.hi) || a.hi == 0.0) return {std::pow(a.hi, b.hi), 0.0};
  if (a.hi > 0.0) return exp(log(a) * b);
  // A negative base needs an integer exponent. An integer with a nonzero low part
  // is at least 2^53, so its hi is even and the sign follows the parity of lo.
  if (b.hi != std::floor(b.hi) || b.lo != std::floor(b.lo)) return {std::numeric_limits<double>::quiet_NaN(), 0.0};
  const DoubleDouble magnitude = exp(log(-a) * b);
  return std::fmod(b.lo, 2.0) != 0.0 ? -magnitude : magnitude;
}

/// √(a² + b²), scaled by a power of two so that the squares cannot overflow.
inline DoubleDouble hypot(const DoubleDouble& a, const DoubleDouble& b) {
  if (!dd::finite(a.hi) || !dd::finite(b.hi)) return {std::hypot(a.hi, b.hi), 0.0};
  const double largest = std::max(std::abs(a.hi), std::abs(b.hi));
  if (largest == 0.0) return DoubleDouble(0.0);
  const int e = std::ilogb(largest);
  const DoubleDouble x = dd::scale(a, -e), y = dd::scale(b, -e);
  return dd::scale(sqrt(x * x + y * y), e);
}

}  // namespace dualtape
