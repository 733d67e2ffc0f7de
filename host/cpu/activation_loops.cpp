// activation_loops.cpp — the CPU's elementwise activation loops: bias + activation, g * f'(s), counted predicates.
// Built for several x86-64 levels (ISC_CLONES); bit-identical to the scalar forms (kernels/activations.h).
#include "host/cpu/activation_loops.h"

#include "host/cpu/isa.h"
#include "kernels/counted.h"

namespace isc {

// One straight loop per activation (with_activation), so that each vectorizes; the math is
// kernels/activations.h's Act<K>. The lambdas are always inlined (as with_activation is), so that
// the loops land inside each target_clones clone and vectorize for its level.
#define ISC_INLINE_LAMBDA __attribute__((always_inline))

ISC_CLONES void cpu_bias_activate(float* s, float* h, std::size_t n, float bias, const ActivationSpec& a) {
  const ActivationSpec act = a;
  with_activation(a.kind, [&](auto k) ISC_INLINE_LAMBDA {
    using A = Act<decltype(k)::value>;
    for (std::size_t i = 0; i < n; ++i) h[i] = A::f(act, s[i] = add_rn(s[i], bias));
  });
}

ISC_CLONES void cpu_mul_activation_derivative(float* g, const float* s, const float* h, std::size_t n,
                                              const ActivationSpec& a) {
  if (a.kind == Activation::Linear) return;  // g * 1 (grad_times_derivative)
  const ActivationSpec act = a;
  // f'(s) from h = f(s) where f' is a function of f (tanh, sigmoid): the same bits, without
  // evaluating f again (whose NaN test also kept the loop from vectorizing).
  with_activation(a.kind, [&](auto k) ISC_INLINE_LAMBDA {
    using A = Act<decltype(k)::value>;
    for (std::size_t i = 0; i < n; ++i) g[i] = mul_rn(g[i], A::df_h(act, s[i], h[i]));
  });
}

ISC_CLONES void cpu_count(const float* x, std::size_t n, const ActivationSpec& a, unsigned mask, uint64_t* counts) {
  if (mask == 0) return;
  constexpr std::size_t kPiece = std::size_t(1) << 30;
  const ActivationSpec act = a;
  with_activation(a.kind, [&](auto k) ISC_INLINE_LAMBDA {
    using A = Act<decltype(k)::value>;
    for_each_counted([&](auto kc) ISC_INLINE_LAMBDA {
      constexpr int K = decltype(kc)::value;
      if (!((mask >> K) & 1u)) return;
      for (std::size_t start = 0; start < n; start += kPiece) {  // 32-bit lanes vectorize wider
        const std::size_t end = n - start < kPiece ? n : start + kPiece;
        uint32_t c = 0;
        for (std::size_t i = start; i < end; ++i) c += Counter<K>::template test<A>(act, x[i]);
        counts[K] += c;
      }
    });
  });
}

}  // namespace isc
