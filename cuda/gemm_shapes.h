// gemm_shapes.h — the chunk's batched GEMMs in cuBLAS's column-major terms, derived from the
// row-major per-trial layouts (plain C++: tests evaluate them on the host).
#pragma once
#include <cstdint>
#include <tuple>

namespace isc::cuda {

// C_b = op(A_b) op(B_b) for b < batch, column-major: op(A) is m x k, op(B) is k x n, C is m x n;
// A_b = A + b * stride_a (floats), likewise B and C. A row-major r x c matrix is a column-major
// c x r matrix (its transpose) with the same bytes and leading dimension c.
struct GemmShape {
  bool trans_a = false, trans_b = false;
  int m = 0, n = 0, k = 0;
  int lda = 0, ldb = 0, ldc = 0;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
  // Stored (rows, columns) of A and B, column-major.
  int a_rows() const { return trans_a ? k : m; }
  int a_cols() const { return trans_a ? m : k; }
  int b_rows() const { return trans_b ? n : k; }
  int b_cols() const { return trans_b ? k : n; }
  auto key() const { return std::make_tuple(trans_a, trans_b, m, n, k, lda, ldb, ldc, stride_a, stride_b, stride_c); }
};

// s[t] (samples x n_out) = h[t] (samples x n_in) W[t]^T: s^T = W h^T, i.e. C = s^T (n_out x samples),
// A = W read as n_in x n_out (op T), B = h read as n_in x samples (op N). A = W, B = h.
inline GemmShape forward_shape(int samples, int n_in, int n_out) {
  return GemmShape{true,
                   false,
                   n_out,
                   samples,
                   n_in,
                   n_in,
                   n_in,
                   n_out,
                   int64_t(n_out) * n_in,
                   int64_t(samples) * n_in,
                   int64_t(samples) * n_out};
}
// The teacher's logits: forward_shape with one classes x n_in matrix shared by the batch (stride 0).
inline GemmShape shared_weight_shape(int samples, int n_in, int n_out) {
  GemmShape s = forward_shape(samples, n_in, n_out);
  s.stride_a = 0;
  return s;
}
// dh[t] (samples x n_in) = g[t] (samples x n_out) W[t] (n_out x n_in): dh^T = W^T g^T, i.e.
// C = dh^T (n_in x samples), A = W read as n_in x n_out (op N), B = g read as n_out x samples (op N).
// A = W, B = g.
inline GemmShape backward_data_shape(int samples, int n_out, int n_in) {
  return GemmShape{false,
                   false,
                   n_in,
                   samples,
                   n_out,
                   n_in,
                   n_out,
                   n_in,
                   int64_t(n_out) * n_in,
                   int64_t(samples) * n_out,
                   int64_t(samples) * n_in};
}
// dW[t] (n_out x n_in) = g[t]^T (n_out x samples) h[t] (samples x n_in): dW^T = h^T g, i.e.
// C = dW^T (n_in x n_out), A = h read as n_in x samples (op N), B = g read as n_out x samples (op T).
// A = h, B = g.
inline GemmShape weight_grad_shape(int samples, int n_out, int n_in) {
  return GemmShape{false,
                   true,
                   n_in,
                   n_out,
                   samples,
                   n_in,
                   n_out,
                   n_in,
                   int64_t(samples) * n_in,
                   int64_t(samples) * n_out,
                   int64_t(n_out) * n_in};
}

}  // namespace isc::cuda
