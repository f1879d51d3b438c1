// Forward-mode dual numbers: a value and its derivatives along N directions.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <ostream>
#include <type_traits>

/// Forces inlining of the small functions on the hot paths (Dual arithmetic, the op
/// table's rules): GCC otherwise leaves some of them as calls returning structs.
#if defined(__GNUC__)
#define DUALTAPE_INLINE inline __attribute__((always_inline))
#else
#define DUALTAPE_INLINE inline
#endif

namespace dualtape {

/// Product of a derivative factor and a tangent that treats an exact zero as a
/// strong zero: 0 · inf = 0 and 0 · NaN = 0. This is the zero rule of dualtape.
/// A branch that is not taken, or a variable that does not move, contributes an
/// exact zero to a derivative even where its own local derivative is infinite.
DUALTAPE_INLINE double times0(double a, double b) { return (a == 0.0 || b == 0.0) ? 0.0 : a * b; }

namespace detail {

/// Tangent of a plain Dual number with N fixed: an array with element-wise loops.
/// Eigen's fixed-size vectors use explicit SIMD instructions for small N, and these
/// stop GCC from vectorizing a loop over many Dual numbers. Plain loops do not.
template <typename T, int N>
struct PlainTangent {
  T entries[N];

  PlainTangent() = default;
  template <typename... Entries, std::enable_if_t<sizeof...(Entries) == N && N != 1, int> = 0>
  PlainTangent(Entries... values) : entries{T(values)...} {}  // NOLINT: like Eigen's Vector2d(x, y)

  static PlainTangent Zero(int = N) {
    PlainTangent t;
    t.setZero();
    return t;
  }
  void setZero() {
    for (int i = 0; i < N; ++i) entries[i] = T(0);
  }
  bool isZero() const {
    for (int i = 0; i < N; ++i)
      if (entries[i] != T(0)) return false;
    return true;
  }
  int size() const { return N; }
  T& operator[](int i) { return entries[i]; }
  const T& operator[](int i) const { return entries[i]; }

  friend PlainTangent operator*(T a, const PlainTangent& g) {
    PlainTangent r;
    for (int i = 0; i < N; ++i) r.entries[i] = a * g.entries[i];
    return r;
  }
  friend PlainTangent operator+(const PlainTangent& a, const PlainTangent& b) {
    PlainTangent r;
    for (int i = 0; i < N; ++i) r.entries[i] = a.entries[i] + b.entries[i];
    return r;
  }
  friend PlainTangent operator-(const PlainTangent& a) {
    PlainTangent r;
    for (int i = 0; i < N; ++i) r.entries[i] = -a.entries[i];
    return r;
  }
};

}  // namespace detail

/// A first-order forward-mode number: value v and tangent g (the derivatives of v
/// along N directions). N is fixed at compile time, or Eigen::Dynamic for a
/// runtime-sized tangent. With Exact (the default) every product obeys the zero
/// rule. Without it (N fixed), products are plain and the tangent is a plain array,
/// so loops over many Dual numbers vectorize. Such callers must detect non-finite
/// results and recompute them exactly.
template <typename T, int N, bool Exact = true>
struct Dual {
  static_assert(Exact || N != Eigen::Dynamic, "plain Dual numbers need a fixed number of directions");
  using Tangent = std::conditional_t<Exact, Eigen::Matrix<T, N, 1>, detail::PlainTangent<T, N>>;

  T v = T(0);
  Tangent g;

  Dual() { if constexpr (N != Eigen::Dynamic) g.setZero(); }
  Dual(T value) : v(value) { if constexpr (N != Eigen::Dynamic) g.setZero(); }  // NOLINT: implicit on purpose
  Dual(T value, const Tangent& tangent) : v(value), g(tangent) {}

  /// A variable: value `value`, tangent the unit vector `index` of `size` directions.
  static Dual variable(T value, int index, int size = N) {
    Dual d(value, Tangent::Zero(size));
    d.g[index] = T(1);
    return d;
  }

  int size() const { return int(g.size()); }
};

namespace detail {

/// Tangent scaled by a, obeying the zero rule where a is not finite (if E).
template <typename T, int N, bool E = true>
DUALTAPE_INLINE typename Dual<T, N, E>::Tangent scale(T a, const typename Dual<T, N, E>::Tangent& g) {
  typename Dual<T, N, E>::Tangent product = a * g;
  // a · g differs from the zero rule only where a product is 0 · inf or 0 · NaN,
  // which leaves a NaN: recompute those rare tangents entry by entry.
  if constexpr (E) {
    if (!product.allFinite()) product = g.unaryExpr([a](T x) { return times0(a, x); });
  }
  return product;
}

/// Sum of two tangents where one may be empty (a runtime-sized constant).
template <typename T, int N, bool E = true>
DUALTAPE_INLINE typename Dual<T, N, E>::Tangent add(const typename Dual<T, N, E>::Tangent& a,
                                 const typename Dual<T, N, E>::Tangent& b) {
  if constexpr (N == Eigen::Dynamic) {
    if (a.size() == 0) return b;
    if (b.size() == 0) return a;
  }
  return a + b;
}

}  // namespace detail

// Arithmetic. Each rule: (a + a'ε) op (b + b'ε) expanded to first order in ε.

// (a + a'ε) + (b + b'ε) = (a + b) + (a' + b')ε
template <typename T, int N, bool E>
DUALTAPE_INLINE Dual<T, N, E> operator+(const Dual<T, N, E>& a, const Dual<T, N, E>& b) {
  return {a.v + b.v, detail::add<T, N, E>(a.g, b.g)};
}

// (a + a'ε) − (b + b'ε) = (a − b) + (a' − b')ε
template <typename T, int N, bool E>
DUALTAPE_INLINE Dual<T, N, E> operator-(const Dual<T, N, E>& a, const Dual<T, N, E>& b) {
  return {a.v - b.v, detail::add<T, N, E>(a.g, detail::scale<T, N, E>(T(-1), b.g))};
}

template <typename T, int N, bool E>
DUALTAPE_INLINE Dual<T, N, E> operator-(const Dual<T, N, E>& a) {
  return {-a.v, -a.g};
}

// (a + a'ε)(b + b'ε) = ab + (a'b + ab')ε
template <typename T, int N, bool E>
DUALTAPE_INLINE Dual<T, N, E> operator*(const Dual<T, N, E>& a, const Dual<T, N, E>& b) {
  return {a.v * b.v, detail::add<T, N, E>(detail::scale<T, N, E>(b.v, a.g), detail::scale<T, N, E>(a.v, b.g))};
}

// (a + a'ε)/(b + b'ε) = a/b + (a' − (a/b) b')/b ε
template <typename T, int N, bool E>
DUALTAPE_INLINE Dual<T, N, E> operator/(const Dual<T, N, E>& a, const Dual<T, N, E>& b) {
  const T q = a.v / b.v;
  const T inverse = T(1) / b.v;
  return {q, detail::scale<T, N, E>(inverse,
                                 detail::add<T, N, E>(a.g, detail::scale<T, N, E>(-q, b.g)))};
}

template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> operator+(const Dual<T, N, E>& a, T b) { return {a.v + b, a.g}; }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> operator+(T a, const Dual<T, N, E>& b) { return {a + b.v, b.g}; }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> operator-(const Dual<T, N, E>& a, T b) { return {a.v - b, a.g}; }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> operator-(T a, const Dual<T, N, E>& b) { return {a - b.v, -b.g}; }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> operator*(const Dual<T, N, E>& a, T b) { return {a.v * b, detail::scale<T, N, E>(b, a.g)}; }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> operator*(T a, const Dual<T, N, E>& b) { return {a * b.v, detail::scale<T, N, E>(a, b.g)}; }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> operator/(const Dual<T, N, E>& a, T b) { return {a.v / b, detail::scale<T, N, E>(T(1) / b, a.g)}; }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> operator/(T a, const Dual<T, N, E>& b) { return Dual<T, N, E>(a) / b; }

template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E>& operator+=(Dual<T, N, E>& a, const Dual<T, N, E>& b) { return a = a + b; }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E>& operator-=(Dual<T, N, E>& a, const Dual<T, N, E>& b) { return a = a - b; }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E>& operator*=(Dual<T, N, E>& a, const Dual<T, N, E>& b) { return a = a * b; }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E>& operator/=(Dual<T, N, E>& a, const Dual<T, N, E>& b) { return a = a / b; }

// Comparisons look at the value only.
template <typename T, int N, bool E> DUALTAPE_INLINE bool operator<(const Dual<T, N, E>& a, const Dual<T, N, E>& b) { return a.v < b.v; }
template <typename T, int N, bool E> DUALTAPE_INLINE bool operator<=(const Dual<T, N, E>& a, const Dual<T, N, E>& b) { return a.v <= b.v; }
template <typename T, int N, bool E> DUALTAPE_INLINE bool operator>(const Dual<T, N, E>& a, const Dual<T, N, E>& b) { return a.v > b.v; }
template <typename T, int N, bool E> DUALTAPE_INLINE bool operator>=(const Dual<T, N, E>& a, const Dual<T, N, E>& b) { return a.v >= b.v; }
template <typename T, int N, bool E> DUALTAPE_INLINE bool operator==(const Dual<T, N, E>& a, const Dual<T, N, E>& b) { return a.v == b.v; }
template <typename T, int N, bool E> DUALTAPE_INLINE bool operator!=(const Dual<T, N, E>& a, const Dual<T, N, E>& b) { return a.v != b.v; }

/// Product of two Dual numbers under the zero rule: the value is times0 of the
/// values, so an exact zero factor gives an exact zero value even against inf or NaN.
template <typename T, int N, bool E>
DUALTAPE_INLINE Dual<T, N, E> times0(const Dual<T, N, E>& a, const Dual<T, N, E>& b) {
  Dual<T, N, E> product = a * b;
  product.v = times0(a.v, b.v);
  return product;
}

/// f(a + a'ε) = f(a) + f'(a) a' ε for a scalar function with value fa and derivative dfa.
template <typename T, int N, bool E>
DUALTAPE_INLINE Dual<T, N, E> chain(const Dual<T, N, E>& a, T fa, T dfa) {
  return {fa, detail::scale<T, N, E>(dfa, a.g)};
}

// Elementary functions, TinyAD-style drop-in replacements for <cmath>.
// Derivative conventions at singular points match the tape's op table.

template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> sqrt(const Dual<T, N, E>& a) {
  const T s = std::sqrt(a.v);
  return chain(a, s, a.v == T(0) ? T(0) : T(0.5) / s);  // sqrt'(0) := 0
}
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> exp(const Dual<T, N, E>& a) { const T e = std::exp(a.v); return chain(a, e, e); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> log(const Dual<T, N, E>& a) { return chain(a, std::log(a.v), T(1) / a.v); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> log1p(const Dual<T, N, E>& a) { return chain(a, std::log1p(a.v), T(1) / (T(1) + a.v)); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> expm1(const Dual<T, N, E>& a) { return chain(a, std::expm1(a.v), std::exp(a.v)); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> sin(const Dual<T, N, E>& a) { return chain(a, std::sin(a.v), std::cos(a.v)); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> cos(const Dual<T, N, E>& a) { return chain(a, std::cos(a.v), -std::sin(a.v)); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> tan(const Dual<T, N, E>& a) { const T t = std::tan(a.v); return chain(a, t, T(1) + t * t); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> asin(const Dual<T, N, E>& a) { return chain(a, std::asin(a.v), T(1) / std::sqrt(T(1) - a.v * a.v)); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> acos(const Dual<T, N, E>& a) { return chain(a, std::acos(a.v), T(-1) / std::sqrt(T(1) - a.v * a.v)); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> atan(const Dual<T, N, E>& a) { return chain(a, std::atan(a.v), T(1) / (T(1) + a.v * a.v)); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> sinh(const Dual<T, N, E>& a) { return chain(a, std::sinh(a.v), std::cosh(a.v)); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> cosh(const Dual<T, N, E>& a) { return chain(a, std::cosh(a.v), std::sinh(a.v)); }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> tanh(const Dual<T, N, E>& a) { const T t = std::tanh(a.v); return chain(a, t, T(1) - t * t); }
// |a|' := sign(a), with 0 at a = 0.
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> abs(const Dual<T, N, E>& a) {
  return chain(a, std::abs(a.v), a.v > T(0) ? T(1) : (a.v < T(0) ? T(-1) : T(0)));
}

// a^k for a constant exponent k: derivative k a^(k−1), defined as 0 at a = 0 when k < 1
// and everywhere when k = 0.
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> pow(const Dual<T, N, E>& a, T k) {
  const T value = std::pow(a.v, k);
  T derivative;
  if (k == T(0) || (a.v == T(0) && k < T(1))) derivative = T(0);
  else if (k == T(1)) derivative = T(1);
  else derivative = k * std::pow(a.v, k - T(1));
  return chain(a, value, derivative);
}

// a^b with both varying: ∂/∂a = b a^(b−1), ∂/∂b = a^b log a; ∂/∂b := 0 at a = 0.
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> pow(const Dual<T, N, E>& a, const Dual<T, N, E>& b) {
  const Dual<T, N, E> base = pow(a, b.v);
  const T db = a.v == T(0) ? T(0) : base.v * std::log(a.v);
  return {base.v, detail::add<T, N, E>(base.g, detail::scale<T, N, E>(db, b.g))};
}

// atan2(y, x): ∂/∂y = x/(x² + y²), ∂/∂x = −y/(x² + y²); both 0 at the origin.
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> atan2(const Dual<T, N, E>& y, const Dual<T, N, E>& x) {
  const T r2 = x.v * x.v + y.v * y.v;
  const T dy = r2 == T(0) ? T(0) : x.v / r2;
  const T dx = r2 == T(0) ? T(0) : -y.v / r2;
  return {std::atan2(y.v, x.v), detail::add<T, N, E>(detail::scale<T, N, E>(dy, y.g), detail::scale<T, N, E>(dx, x.g))};
}

// hypot(a, b) = √(a² + b²): ∂/∂a = a/h, ∂/∂b = b/h; both 0 at the origin.
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> hypot(const Dual<T, N, E>& a, const Dual<T, N, E>& b) {
  const T h = std::hypot(a.v, b.v);
  const T da = h == T(0) ? T(0) : a.v / h;
  const T db = h == T(0) ? T(0) : b.v / h;
  return {h, detail::add<T, N, E>(detail::scale<T, N, E>(da, a.g), detail::scale<T, N, E>(db, b.g))};
}

// min and max: at a tie the derivative follows the first argument.
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> min(const Dual<T, N, E>& a, const Dual<T, N, E>& b) { return b.v < a.v ? b : a; }
template <typename T, int N, bool E> DUALTAPE_INLINE Dual<T, N, E> max(const Dual<T, N, E>& a, const Dual<T, N, E>& b) { return b.v > a.v ? b : a; }

template <typename T, int N, bool E>
std::ostream& operator<<(std::ostream& out, const Dual<T, N, E>& a) {
  out << a.v << " + [";
  for (int i = 0; i < a.g.size(); ++i) out << (i ? ", " : "") << a.g[i];
  return out << "]ε";
}

}  // namespace dualtape
