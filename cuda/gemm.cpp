// gemm.cpp — batched GEMMs: cublasLt with one pinned, non-split-K algorithm per shape (batch-count
// invariant results), cublasSgemmStridedBatched as the fallback and reference.
#include "cuda/gemm.h"

#include <cstdint>

#include "cuda/check.h"

namespace isc::cuda {
namespace {

constexpr std::size_t kWorkspaceBytes = std::size_t(32) << 20;  // cuBLAS's advice for Hopper
constexpr int kPlanBatch = 64;                                  // the batch count every shape's algorithm is chosen for
constexpr int kCandidates = 16;                                 // heuristic results tried in order

// The three matrix layouts of one batched call (column-major, see gemm_shapes.h).
struct Layouts {
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  Layouts(const GemmShape& s, int batch) {
    make(&a, s.a_rows(), s.a_cols(), s.lda, s.stride_a, batch);
    make(&b, s.b_rows(), s.b_cols(), s.ldb, s.stride_b, batch);
    make(&c, s.m, s.n, s.ldc, s.stride_c, batch);
  }
  ~Layouts() {
    for (auto l : {a, b, c})
      if (l) cublasLtMatrixLayoutDestroy(l);
  }
  Layouts(const Layouts&) = delete;
  Layouts& operator=(const Layouts&) = delete;

 private:
  static void make(cublasLtMatrixLayout_t* l, int rows, int cols, int ld, int64_t stride, int batch) {
    ISC_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(l, CUDA_R_32F, uint64_t(rows), uint64_t(cols), ld));
    const int32_t count = batch;
    ISC_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count));
    ISC_CUBLAS_CHECK(
        cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride));
  }
};

// Alignment in bytes of every matrix of a batch whose first one is 256-byte aligned (cudaMalloc).
uint32_t batch_alignment(int64_t stride_floats) {
  const uint64_t bytes = uint64_t(stride_floats) * sizeof(float);
  uint32_t a = 256;
  while (a > 4 && bytes % a != 0) a /= 2;
  return a;
}

}  // namespace

BatchedGemm::BatchedGemm(cudaStream_t stream, bool tf32) : stream_(stream), tf32_(tf32) {
  ISC_CUBLAS_CHECK(cublasCreate(&blas_));
  ISC_CUBLAS_CHECK(cublasSetStream(blas_, stream_));
  // FP32 arithmetic unless TF32 was asked for; atomics stay disallowed (default).
  ISC_CUBLAS_CHECK(cublasSetMathMode(blas_, tf32_ ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  ISC_CUBLAS_CHECK(cublasLtCreate(&lt_));
  workspace_.reserve(kWorkspaceBytes);
}

BatchedGemm::~BatchedGemm() {
  for (auto& kv : plans_)
    if (kv.second.desc) cublasLtMatmulDescDestroy(kv.second.desc);
  if (lt_) cublasLtDestroy(lt_);
  if (blas_) cublasDestroy(blas_);
}

BatchedGemm::Plan& BatchedGemm::plan(const GemmShape& sh) {
  const Key key = sh.key();
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second;
  Plan& p = plans_[key];
  p.text = "cublasSgemmStridedBatched";
  ISC_CUBLAS_CHECK(
      cublasLtMatmulDescCreate(&p.desc, tf32_ ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const int32_t op_a = sh.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, op_b = sh.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  ISC_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof op_a));
  ISC_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof op_b));

  const Layouts l(sh, kPlanBatch);
  cublasLtMatmulPreference_t pref = nullptr;
  ISC_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t ws = kWorkspaceBytes;
  const uint32_t align_a = batch_alignment(sh.stride_a), align_b = batch_alignment(sh.stride_b),
                 align_c = batch_alignment(sh.stride_c);
  bool ok = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws) ==
                CUBLAS_STATUS_SUCCESS &&
            cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_a,
                                                 sizeof align_a) == CUBLAS_STATUS_SUCCESS &&
            cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_b,
                                                 sizeof align_b) == CUBLAS_STATUS_SUCCESS &&
            cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_c,
                                                 sizeof align_c) == CUBLAS_STATUS_SUCCESS &&
            cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_c,
                                                 sizeof align_c) == CUBLAS_STATUS_SUCCESS;
  cublasLtMatmulHeuristicResult_t found[kCandidates] = {};
  int n_found = 0;
  if (ok)
    ok = cublasLtMatmulAlgoGetHeuristic(lt_, p.desc, l.a, l.b, l.c, l.c, pref, kCandidates, found, &n_found) ==
         CUBLAS_STATUS_SUCCESS;
  cublasLtMatmulPreferenceDestroy(pref);
  for (int i = 0; ok && i < n_found && !p.pinned; ++i) {
    if (found[i].state != CUBLAS_STATUS_SUCCESS) continue;
    cublasLtMatmulAlgo_t algo = found[i].algo;
    const int32_t one_split = 1;
    const uint32_t no_reduction = CUBLASLT_REDUCTION_SCHEME_NONE;
    if (cublasLtMatmulAlgoConfigSetAttribute(&algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &one_split, sizeof one_split) !=
            CUBLAS_STATUS_SUCCESS ||
        cublasLtMatmulAlgoConfigSetAttribute(&algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, &no_reduction,
                                             sizeof no_reduction) != CUBLAS_STATUS_SUCCESS)
      continue;
    cublasLtMatmulHeuristicResult_t check{};
    if (cublasLtMatmulAlgoCheck(lt_, p.desc, l.a, l.b, l.c, l.c, &algo, &check) != CUBLAS_STATUS_SUCCESS ||
        check.workspaceSize > kWorkspaceBytes)
      continue;
    int32_t id = -1;
    uint32_t tile = 0;
    std::size_t written = 0;
    cublasLtMatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_ID, &id, sizeof id, &written);
    cublasLtMatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_TILE_ID, &tile, sizeof tile, &written);
    p.pinned = true;
    p.algo = algo;
    p.workspace = check.workspaceSize;
    p.text = "cublasLt (algorithm " + std::to_string(id) + ", tile " + std::to_string(tile) +
             ", pinned per shape, no split-K)";
  }
  return p;
}

void BatchedGemm::run(const GemmShape& sh, const float* a, const float* b, float* c, int batch) {
  if (batch <= 0) return;
  Plan& p = plan(sh);
  if (!p.pinned) return run_classic(sh, a, b, c, batch);
  const Layouts l(sh, batch);
  const float one = 1.0f, zero = 0.0f;
  const cublasStatus_t st = cublasLtMatmul(lt_, p.desc, &one, a, l.a, b, l.b, &zero, c, l.c, c, l.c, &p.algo,
                                           p.workspace ? workspace_.get() : nullptr, p.workspace, stream_);
  if (st == CUBLAS_STATUS_NOT_SUPPORTED) {  // the pinned algorithm refuses this batch count
    const std::string note = "; cublasSgemmStridedBatched for a batch of " + std::to_string(batch);
    if (p.text.find(note) == std::string::npos) p.text += note;
    return run_classic(sh, a, b, c, batch);
  }
  check(st, "cublasLtMatmul(pinned algorithm)", __FILE__, __LINE__);
}

void BatchedGemm::run_classic(const GemmShape& sh, const float* a, const float* b, float* c, int batch) {
  if (batch <= 0) return;
  const float one = 1.0f, zero = 0.0f;
  ISC_CUBLAS_CHECK(cublasSgemmStridedBatched(blas_, sh.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                                             sh.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, sh.m, sh.n, sh.k, &one, a, sh.lda,
                                             (long long)sh.stride_a, b, sh.ldb, (long long)sh.stride_b, &zero, c,
                                             sh.ldc, (long long)sh.stride_c, batch));
}

std::string BatchedGemm::path(const GemmShape& sh) { return plan(sh).text; }

}  // namespace isc::cuda
