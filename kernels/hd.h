// hd.h — portability macros for math shared by the CPU reference and CUDA kernels.
#pragma once

#if defined(__CUDACC__)
#define ISC_HD __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define ISC_HD inline __attribute__((always_inline))  // so the CPU's vectorized loops inline it
#else
#define ISC_HD inline
#endif

// Always inlined host code (templates whose loops must land in the caller's instruction-set clone).
#if defined(__GNUC__)
#define ISC_HOST_INLINE inline __attribute__((always_inline))
#else
#define ISC_HOST_INLINE inline
#endif

#if defined(__CUDA_ARCH__)
#define ISC_DEVICE_CODE 1
#else
#define ISC_DEVICE_CODE 0
#endif

#include <cmath>
#include <cstdint>

namespace isc {

// Arithmetic that must give the same bits on host and device: never contracted into FMA by
// either compiler (the host build also uses -ffp-contract=off).
ISC_HD float mul_rn(float a, float b) {
#if ISC_DEVICE_CODE
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
ISC_HD float add_rn(float a, float b) {
#if ISC_DEVICE_CODE
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
ISC_HD float sub_rn(float a, float b) {
#if ISC_DEVICE_CODE
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
// a*b + c with two roundings on both sides (host fmaf is a libm call without -mfma; this is
// two instructions everywhere and still bit-identical).
ISC_HD float madd_rn(float a, float b, float c) { return add_rn(mul_rn(a, b), c); }
// a*b + c rounded once (IEEE fusedMultiplyAdd): the same bits wherever it runs. Hosts with FMA
// (the x86-64-v3/v4 builds of the hot loops) use the instruction; others glibc's exact fmaf.
ISC_HD float fma_rn(float a, float b, float c) {
#if ISC_DEVICE_CODE
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}
ISC_HD float div_rn(float a, float b) {
#if ISC_DEVICE_CODE
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
ISC_HD float sqrt_rn(float a) {
#if ISC_DEVICE_CODE
  return __fsqrt_rn(a);
#else
  return std::sqrt(a);  // IEEE sqrt: correctly rounded
#endif
}
ISC_HD double dsqrt_rn(double a) {
#if ISC_DEVICE_CODE
  return __dsqrt_rn(a);
#else
  return std::sqrt(a);
#endif
}

}  // namespace isc
