// counted.h — the per-value counts the statistics engine keeps beside NaN and Inf, each a predicate
// on one finite value, written once for both backends with its column name and where it applies.
// A counted statistic is one Counter specialization here plus its line in kCounted; stats.csv and
// trials.csv report it as the fraction of a trial's values (finite or not) that pass.
#pragma once
#include <utility>

#include "kernels/activations.h"
#include "kernels/quantity.h"

namespace isc {

// The counted predicates, in column order.
enum CountedKind : int { kCountSaturated = 0 };
constexpr int kCounted = 1;

template <int K>
struct Counter;

// Saturation (Glorot & Bengio's figure 2): activations in the activation's saturated regime
// (Act<K>::saturated: tanh, softsign |h| >= t; sigmoid h <= 1-t or h >= t; relu h == 0).
template <>
struct Counter<kCountSaturated> {
  static constexpr const char* kName = "saturation";
  static ISC_HD bool applies(Quantity q, const ActivationSpec& a) {
    return q == Quantity::Activation && has_saturation(a.kind);
  }
  template <class A>
  static ISC_HD bool test(const ActivationSpec& a, float x) {
    return A::saturated(a, x);
  }
};

// Calls fn(std::integral_constant<int, K>) for every counted predicate K, in order.
template <class Fn, int... K>
ISC_HOST_INLINE void for_each_counted(Fn&& fn, std::integer_sequence<int, K...>) {
  (fn(std::integral_constant<int, K>{}), ...);
}
template <class Fn>
ISC_HOST_INLINE void for_each_counted(Fn&& fn) {
  for_each_counted(fn, std::make_integer_sequence<int, kCounted>{});
}

namespace detail {
template <class A, int... K>
ISC_HD unsigned counted_bits(const ActivationSpec& a, float x, std::integer_sequence<int, K...>) {
  return (0u | ... | (unsigned(Counter<K>::template test<A>(a, x)) << K));
}
template <int... K>
ISC_HD unsigned counted_mask(Quantity q, const ActivationSpec& a, std::integer_sequence<int, K...>) {
  return (0u | ... | (unsigned(Counter<K>::applies(q, a)) << K));
}
template <int... K>
inline const char* counted_name(int k, std::integer_sequence<int, K...>) {
  const char* names[] = {Counter<K>::kName...};
  return names[k];
}
}  // namespace detail

// Bit K set: predicate K applies to values of quantity q under activation a (counted, reported).
ISC_HD unsigned counted_mask(Quantity q, const ActivationSpec& a) {
  return detail::counted_mask(q, a, std::make_integer_sequence<int, kCounted>{});
}
// Bit K set: finite value x passes predicate K (under activation A = Act<kind>, or a's kind).
template <class A>
ISC_HD unsigned counted_bits(const ActivationSpec& a, float x) {
  return detail::counted_bits<A>(a, x, std::make_integer_sequence<int, kCounted>{});
}
ISC_HD unsigned counted_bits(const ActivationSpec& a, float x) { ISC_ACT_DISPATCH(a.kind, counted_bits<A>(a, x)); }
// The column name of predicate k in [0, kCounted).
inline const char* counted_name(int k) { return detail::counted_name(k, std::make_integer_sequence<int, kCounted>{}); }

}  // namespace isc
