// cpu_backend.cpp — CPU implementation of the Backend ops; the readable reference for CUDA.
#include "host/cpu/cpu_backend.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "host/cpu/activation_loops.h"
#include "host/cpu/cpu_stats.h"
#include "host/cpu/draws.h"
#include "host/cpu/host_memory.h"
#include "host/cpu/openblas.h"
#include "host/cpu/svd.h"
#include "kernels/inputs.h"
#include "kernels/loss.h"
#include "kernels/rng.h"
#include "kernels/targets.h"
#include "kernels/train.h"

namespace isc {
namespace {

class HostBuffer : public Buffer {
 public:
  explicit HostBuffer(std::size_t n) : Buffer(n), mem_(n) {}
  float* data() { return mem_.data(); }
  const float* data() const { return mem_.data(); }

 private:
  HostArray mem_;  // large buffers on transparent huge pages (host_memory.h)
};

// The floats of a buffer this backend allocated, checked to hold at least `need` of them.
float* ptr(Buffer& b, std::size_t need, const char* what) {
  auto* h = dynamic_cast<HostBuffer*>(&b);
  if (!h)
    throw std::logic_error(std::string("CPU backend: the ") + what + " buffer was not allocated by the CPU backend");
  require(b, need, "CPU", what);
  return h->data();
}
const float* ptr(const Buffer& b, std::size_t need, const char* what) {
  return ptr(const_cast<Buffer&>(b), need, what);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto c = line.find(':');
      if (c != std::string::npos) return line.substr(c + 2);
    }
  }
  return "unknown CPU";
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const BackendOptions& opt) : threads_(opt.threads > 0 ? opt.threads : cpu_threads_available()) {
    // Trials run in parallel, one OpenBLAS call per trial: each call single-threaded. Only when it
    // is not already: after stop_blas_threads(), OpenBLAS 0.3.21 would start a thread of its own
    // again for a count of 1 (one that spins, as at load).
    if (openblas::get_num_threads() != 1) openblas::set_num_threads(1);
    scratch_.resize(static_cast<std::size_t>(threads_));
  }

  std::string name() const override { return "cpu"; }
  std::string description() const override {
    std::ostringstream os;
    os << cpu_model() << ", " << threads_ << " thread" << (threads_ == 1 ? "" : "s") << ", " << (memory_ >> 20)
       << " MiB, OpenBLAS " << blas_core() << " kernels";
    return os.str();
  }
  std::size_t memory_budget() const override { return memory_ / 10 * 8; }
  // Per worker (one thread): the statistics' scratch — the values gathered inside the percentile
  // brackets, or select_ranks' buckets, at most one array (StatsAccumulator) —, with Jacobian
  // singular values jacobian_singular_values' matrix and LAPACK workspace and the trial's singular
  // values, and the part of OpenBLAS's per-thread buffer its GEMMs pack their operands into: no
  // more than the operands themselves, nor than kBlasPacking (measured: 0.5-1.7 MiB for this
  // engine's 256 x 1000 x 1000 GEMMs, 4.4 MiB for 2000 x 2000 x 2000, SkylakeX kernels, one thread).
  std::size_t worker_overhead_bytes(const WorkerShape& w) const override {
    static constexpr std::size_t kBlasPacking = std::size_t(8) << 20;
    return (w.largest_array + w.jacobian_values) * sizeof(float) +
           jacobian_scratch_bytes(w.jacobian_rows, w.jacobian_cols) +
           std::min(kBlasPacking, w.gemm_operands * sizeof(float));
  }
  // One trial per chunk (small networks get more, see plan_memory): a worker's buffers stay
  // small and warm in cache, and the workers' shares balance.
  int preferred_chunk_trials() const override { return 1; }
  // One worker per thread, each a single-threaded backend: trials are independent, so threads
  // run whole chunks side by side instead of meeting at a barrier after every op.
  int workers() const override { return threads_; }
  std::unique_ptr<Backend> make_worker(int /*index*/) const override {
    BackendOptions one;
    one.threads = 1;
    return std::make_unique<CpuBackend>(one);
  }

  std::unique_ptr<Buffer> alloc(std::size_t floats) override { return std::make_unique<HostBuffer>(floats); }
  void upload(Buffer& b, const float* host, std::size_t n) override {
    std::memcpy(ptr(b, n, "upload"), host, n * sizeof(float));
  }
  void download(const Buffer& b, float* host, std::size_t n) const override {
    std::memcpy(host, ptr(b, n, "download"), n * sizeof(float));
  }

  void begin_chunk(const Chunk& c) override {
    chunk_ = c;
    stats_.reset(c.trials, c.layers, c.stats);
  }
  ChunkStats end_chunk() override { return std::move(stats_); }

  void fill_input(Buffer& x, DataKind kind, int width) override {
    const std::size_t per = static_cast<std::size_t>(chunk_.samples) * width;
    float* base = ptr(x, per * trials(), "input");
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      const uint64_t sub = input_subsequence(chunk_.first_trial + t);
      float* x = base + t * per;
      cpu_fill_draws(input_draw(kind), chunk_.stream, sub, x, per);
      if (chunk_.pair_correlation != 0.0f) {
        const float rho = chunk_.pair_correlation, rest = pair_rest(rho);
        for (int k = 0; k + 1 < chunk_.samples; k += 2)
          for (int j = 0; j < width; ++j) {
            const std::size_t a = static_cast<std::size_t>(k) * width + j, b = a + width;
            x[b] = mix_pair(x[a], x[b], rho, rest);
          }
      }
    }
  }

  void init_weights(Buffer& w, const LayerDraw& d, int layer, int n_out, int n_in) override {
    const std::size_t per = static_cast<std::size_t>(n_out) * n_in;
    float* base = ptr(w, per * trials(), "weight");
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      const uint64_t sub = weight_subsequence(chunk_.first_trial + t, layer);
      cpu_fill_draws(d, chunk_.stream, sub, base + t * per, per);
    }
  }

  void gemm_forward(const Buffer& h, const Buffer& w, Buffer& s, int n_out, int n_in) override {
    const int B = chunk_.samples;
    const std::size_t hs = std::size_t(B) * n_in, ws = std::size_t(n_out) * n_in, ss = std::size_t(B) * n_out;
    const float* hp = ptr(h, hs * trials(), "GEMM input");
    const float* wp = ptr(w, ws * trials(), "GEMM weight");
    float* sp = ptr(s, ss * trials(), "GEMM output");
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      openblas::sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_out, n_in, 1.0f, hp + t * hs, n_in, wp + t * ws,
                      n_in, 0.0f, sp + t * ss, n_out);
    }
  }

  void bias_activation_stats(Buffer& s, Buffer& h, const ActivationSpec& act, float bias, int width,
                             int layer) override {
    const std::size_t per = static_cast<std::size_t>(chunk_.samples) * width;
    float* sb = ptr(s, per * trials(), "pre-activation");
    float* hb = ptr(h, per * trials(), "activation");
    stats_.set_measured(layer, int(Quantity::Preactivation), int64_t(per));
    stats_.set_measured(layer, int(Quantity::Activation), int64_t(per));
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      float* sp = sb + t * per;
      float* hp = hb + t * per;
      float b = bias;
      if (chunk_.bias_std > 0.0f) {
        add_random_bias(sp, t, layer, bias, width);
        b = 0.0f;
      }
      auto& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
      // Forward statistics are always computed: var_ratio and the summary rely on them. One pass
      // in L1-sized pieces: bias + activation, then both quantities' moments, histograms and
      // counted predicates and the pair cosines, while the piece is in cache; the percentiles after.
      const auto& pct = chunk_.stats.percentiles;
      StatsAccumulator as(chunk_.stats.range[0], pct, per,
                          counting_for(Quantity::Preactivation, chunk_.stats.activation), stats_.at(t, layer, 0));
      // h = f(s) with f monotone: h's order statistics are tried as f(s's) first (checked exactly).
      StatsAccumulator ah(chunk_.stats.range[1], pct, per, counting_for(Quantity::Activation, chunk_.stats.activation),
                          stats_.at(t, layer, 1), false);
      double corr = 0;
      int pairs = 0;
      for (std::size_t start = 0; start < per; start += kStatsBlock) {  // pieces of 16 KiB
        const std::size_t len = std::min(kStatsBlock, per - start);
        cpu_bias_activate(sp + start, hp + start, len, b, act);
        as.add(sp + start, len);
        ah.add(hp + start, len);
        // The input pairs (2k, 2k+1) whose rows are now complete, in order.
        for (; 2 * pairs + 1 < chunk_.samples && std::size_t(2 * pairs + 2) * width <= start + len; ++pairs)
          corr += pair_cosine(sp + std::size_t(2 * pairs) * width, sp + std::size_t(2 * pairs + 1) * width, width);
      }
      stats_.pair_corr[static_cast<std::size_t>(t) * chunk_.layers + layer] = mean_pair_cosine(corr, pairs);
      OrderStats s_order;
      as.finish(sp, scratch, &s_order);
      ah.finish(hp, scratch, nullptr, &s_order, &act);
    }
  }

  // --- backward diagnostics ---
  void add_bias(Buffer& s, float bias, int width, int layer) override {
    const std::size_t per = static_cast<std::size_t>(chunk_.samples) * width;
    float* base = ptr(s, per * trials(), "logits");
    for (int t = 0; t < chunk_.trials; ++t) {
      float* p = base + t * per;
      if (chunk_.bias_std > 0.0f) {
        add_random_bias(p, t, layer, bias, width);
      } else {
        for (std::size_t i = 0; i < per; ++i) p[i] = add_rn(p[i], bias);
      }
    }
  }

  void fill_targets(Buffer& y, TargetKind kind, const Buffer& x, int n_in, int classes) override {
    const int B = chunk_.samples;
    float* yp = ptr(y, std::size_t(B) * trials(), "targets");
    if (kind == TargetKind::Random) {
#pragma omp parallel for schedule(static) num_threads(threads_)
      for (int t = 0; t < chunk_.trials; ++t) {
        for (int i = 0; i < B; ++i)
          yp[static_cast<std::size_t>(t) * B + i] = random_target(chunk_.stream, chunk_.first_trial + t, i, classes);
      }
      return;
    }
    // Teacher: one fixed random linear map (classes x n_in, N(0, 1/n_in)) shared by all trials.
    std::vector<float> teacher(static_cast<std::size_t>(classes) * n_in);
    cpu_fill_draws(LayerDraw{DrawKind::Normal, float(1.0 / std::sqrt(double(n_in)))}, chunk_.stream,
                   teacher_subsequence(), teacher.data(), teacher.size());
    const float* xp = ptr(x, std::size_t(B) * n_in * trials(), "teacher input");
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      std::vector<float> logits(static_cast<std::size_t>(B) * classes);
      openblas::sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, classes, n_in, 1.0f,
                      xp + static_cast<std::size_t>(t) * B * n_in, n_in, teacher.data(), n_in, 0.0f, logits.data(),
                      classes);
      for (int i = 0; i < B; ++i)
        yp[static_cast<std::size_t>(t) * B + i] =
            static_cast<float>(argmax_first(&logits[static_cast<std::size_t>(i) * classes], classes));
    }
  }

  void softmax_nll_grad(const Buffer& z, const Buffer& y, Buffer& g, int classes) override {
    const int B = chunk_.samples;
    const std::size_t rows = std::size_t(B) * trials();
    const float* zp = ptr(z, rows * classes, "logits");
    const float* yp = ptr(y, rows, "targets");
    float* gp = ptr(g, rows * classes, "logit gradient");
    const float inv_b = mean_nll_scale(B);
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t)
      for (int i = 0; i < B; ++i) {
        const std::size_t row = (static_cast<std::size_t>(t) * B + i) * classes;
        softmax_nll_grad_row(zp + row, static_cast<int>(yp[static_cast<std::size_t>(t) * B + i]), classes, inv_b,
                             gp + row);
      }
  }

  void gemm_backward_data(const Buffer& g, const Buffer& w, Buffer& dh, int n_out, int n_in) override {
    const int B = chunk_.samples;
    const float* gp = ptr(g, std::size_t(B) * n_out * trials(), "backward gradient");
    const float* wp = ptr(w, std::size_t(n_out) * n_in * trials(), "backward weight");
    float* dp = ptr(dh, std::size_t(B) * n_in * trials(), "backward output");
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t)
      openblas::sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n_in, n_out, 1.0f,
                      gp + static_cast<std::size_t>(t) * B * n_out, n_out,
                      wp + static_cast<std::size_t>(t) * n_out * n_in, n_in, 0.0f,
                      dp + static_cast<std::size_t>(t) * B * n_in, n_in);
  }

  void gemm_weight_grad(const Buffer& g, const Buffer& h, Buffer& dw, int n_out, int n_in) override {
    const int B = chunk_.samples;
    const float* gp = ptr(g, std::size_t(B) * n_out * trials(), "weight-gradient gradient");
    const float* hp = ptr(h, std::size_t(B) * n_in * trials(), "weight-gradient input");
    float* dp = ptr(dw, std::size_t(n_out) * n_in * trials(), "weight-gradient output");
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t)
      openblas::sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, B, 1.0f,
                      gp + static_cast<std::size_t>(t) * B * n_out, n_out, hp + static_cast<std::size_t>(t) * B * n_in,
                      n_in, 0.0f, dp + static_cast<std::size_t>(t) * n_out * n_in, n_in);
  }

  void activation_grad_stats(Buffer& g, const Buffer& s, const Buffer& h, const ActivationSpec& act, int width,
                             int layer) override {
    const std::size_t per = static_cast<std::size_t>(chunk_.samples) * width;
    float* gb = ptr(g, per * trials(), "gradient");
    const float* sb = ptr(s, per * trials(), "pre-activation");
    const float* hb = ptr(h, per * trials(), "activation");
    const int q = int(Quantity::BackpropGradient);
    if (chunk_.stats.enabled[q]) stats_.set_measured(layer, q, int64_t(per));
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      float* gp = gb + t * per;
      cpu_mul_activation_derivative(gp, sb + t * per, hb + t * per, per, act);
      if (chunk_.stats.enabled[q]) measure(gp, per, q, t, layer);
    }
  }

  void stats(const Buffer& x, std::size_t per_trial, Quantity q, int layer) override {
    const float* xb = ptr(x, per_trial * trials(), "statistics input");
    stats_.set_measured(layer, int(q), int64_t(per_trial));
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) measure(xb + t * per_trial, per_trial, int(q), t, layer);
  }

  void jacobian_stats(const Buffer& s, const Buffer& w, const ActivationSpec& act, int n_out, int n_in,
                      int layer) override {
    const int B = chunk_.samples, J = chunk_.stats.jacobian_samples;
    if (J < 1 || J > B)
      throw std::invalid_argument("jacobian_stats: stats.jacobian_samples = " + std::to_string(J) + " is not in [1, " +
                                  std::to_string(B) + "] (samples)");
    const float* sb = ptr(s, std::size_t(B) * n_out * trials(), "Jacobian pre-activation");
    const float* wb = ptr(w, std::size_t(n_out) * n_in * trials(), "Jacobian weight");
    const int q = int(Quantity::JacobianSingularValue);
    const std::size_t k = static_cast<std::size_t>(std::min(n_out, n_in));
    stats_.set_measured(layer, q, int64_t(k * static_cast<std::size_t>(J)));
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      std::vector<float> sv(k * static_cast<std::size_t>(J));
      for (int j = 0; j < J; ++j)
        jacobian_singular_values(sb + (static_cast<std::size_t>(t) * B + j) * n_out,
                                 wb + static_cast<std::size_t>(t) * n_out * n_in, act, n_out, n_in, sv.data() + j * k);
      measure(sv.data(), sv.size(), q, t, layer);
    }
  }

  void bias_activate(Buffer& s, const Buffer& b, Buffer* h, const ActivationSpec& act, int width) override {
    const int B = chunk_.samples;
    const std::size_t per = std::size_t(B) * width;
    float* sb = ptr(s, per * trials(), "pre-activation");
    const float* bb = ptr(b, std::size_t(width) * trials(), "bias");
    float* hb = h ? ptr(*h, per * trials(), "activation") : nullptr;
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t)
      for (int i = 0; i < B; ++i) {
        const std::size_t row = std::size_t(t) * per + std::size_t(i) * width;
        const float* bias = bb + std::size_t(t) * width;
        for (int j = 0; j < width; ++j) {
          const float x = add_rn(sb[row + j], bias[j]);
          sb[row + j] = x;
          if (hb) hb[row + j] = activate(act, x);
        }
      }
  }

  void activation_grad(Buffer& g, const Buffer& s, const Buffer& h, const ActivationSpec& act, int width) override {
    const std::size_t per = static_cast<std::size_t>(chunk_.samples) * width;
    float* gb = ptr(g, per * trials(), "gradient");
    const float* sb = ptr(s, per * trials(), "pre-activation");
    const float* hb = ptr(h, per * trials(), "activation");
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t)
      cpu_mul_activation_derivative(gb + t * per, sb + t * per, hb + t * per, per, act);
  }

  void bias_grad(const Buffer& g, Buffer& db, int width) override {
    const int B = chunk_.samples;
    const float* gb = ptr(g, std::size_t(B) * width * trials(), "gradient");
    float* dbb = ptr(db, std::size_t(width) * trials(), "bias gradient");
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t)
      for (int j = 0; j < width; ++j) {
        float acc = 0.0f;
        for (int i = 0; i < B; ++i) acc = add_rn(acc, gb[(std::size_t(t) * B + i) * width + j]);
        dbb[std::size_t(t) * width + j] = acc;
      }
  }

  void sgd_update(Buffer& p, const Buffer& g, float learning_rate, std::size_t n) override {
    float* pb = ptr(p, n, "parameters");
    const float* gb = ptr(g, n, "parameter gradient");
    const int64_t count = int64_t(n);
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int64_t k = 0; k < count; ++k) pb[k] = sgd_element(pb[k], gb[k], learning_rate);
  }

  void nll_errors(const Buffer& z, const Buffer& y, int classes, double* nll, int64_t* errors) override {
    const int B = chunk_.samples;
    const float* zb = ptr(z, std::size_t(B) * classes * trials(), "logits");
    const float* yb = ptr(y, std::size_t(B) * trials(), "targets");
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      double sum = 0;
      int64_t wrong = 0;
      for (int i = 0; i < B; ++i) {
        const float* row = zb + (std::size_t(t) * B + i) * classes;
        const int label = static_cast<int>(yb[std::size_t(t) * B + i]);
        sum += double(softmax_nll_row(row, label, classes));
        wrong += misclassified(row, label, classes);
      }
      nll[t] = sum;
      errors[t] = wrong;
    }
  }

 private:
  // s[i][j] += bias + bias_std z_j for the samples x width block of trial t.
  void add_random_bias(float* s, int t, int layer, float bias, int width) const {
    std::vector<float> b(static_cast<std::size_t>(width));
    cpu_fill_draws(LayerDraw{DrawKind::Normal, chunk_.bias_std}, chunk_.stream,
                   bias_subsequence(chunk_.first_trial + t, layer), b.data(), b.size());
    for (int i = 0; i < chunk_.samples; ++i)
      for (int j = 0; j < width; ++j) {
        float& x = s[static_cast<std::size_t>(i) * width + j];
        x = add_unit_bias(x, bias, b[static_cast<std::size_t>(j)]);
      }
  }

  // Statistics of n values as quantity q of trial t, layer `layer`, into the chunk's arrays.
  void measure(const float* x, std::size_t n, int q, int t, int layer) {
    StatsAccumulator acc(chunk_.stats.range[q], chunk_.stats.percentiles, n,
                         counting_for(Quantity(q), chunk_.stats.activation), stats_.at(t, layer, q));
    std::vector<float>& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
    acc.bracket(x, scratch);
    acc.add(x, n);
    acc.finish(x, scratch);
  }
  std::size_t trials() const { return static_cast<std::size_t>(std::max(chunk_.trials, 0)); }

  int threads_;
  std::size_t memory_ = cpu_memory_bytes();  // read once: the planner asks for every configuration
  Chunk chunk_;
  ChunkStats stats_;
  std::vector<std::vector<float>> scratch_;
};

}  // namespace

int cpu_threads_available() {
  const int n = omp_get_num_procs();
  return n > 0 ? n : 1;
}

std::size_t cpu_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  std::size_t total = pages > 0 && size > 0 ? std::size_t(pages) * std::size_t(size) : std::size_t(1) << 32;
  // Respect a cgroup (container) limit when there is one.
  std::ifstream cg("/sys/fs/cgroup/memory.max");
  std::string v;
  if (cg >> v && v != "max") {
    try {
      total = std::min<std::size_t>(total, std::stoull(v));
    } catch (...) {
    }
  }
  return total;
}

std::unique_ptr<Backend> make_cpu_backend(const BackendOptions& opt) { return std::make_unique<CpuBackend>(opt); }

std::string blas_core() {
  const char* c = openblas::corename();
  return c && *c ? c : "unknown";
}

std::string blas_core_note_for(const std::string& core, bool avx512, bool avx2) {
  std::string lower;
  for (char ch : core) lower += char(std::tolower(static_cast<unsigned char>(ch)));
  // OpenBLAS's x86 cores without AVX2 kernels: what it falls back to for a model it does not know.
  static const char* const old_cores[] = {"prescott",  "core2",   "penryn",     "dunnington", "nehalem",
                                          "atom",      "opteron", "barcelona",  "katmai",     "coppermine",
                                          "northwood", "banias",  "sandybridge"};
  bool old = false;
  for (const char* o : old_cores) old = old || lower == o;
  if (!old || !(avx512 || avx2)) return "";
  const char* want = avx512 ? "SkylakeX" : "Haswell";
  return std::string("OpenBLAS runs its ") + core + " kernels here, though this CPU has " +
         (avx512 ? "AVX-512" : "AVX2") +
         " (OpenBLAS did not recognize the model, as on some virtual machines): GEMMs run several times "
         "slower than they could (5x measured on one such machine, docs/benchmarks.md). Set "
         "OPENBLAS_CORETYPE=" +
         want + " in the environment.";
}

bool stop_blas_threads() {
  // Single-threaded first, while its threads still exist (0.3.21 starts one when asked for more
  // than it has, and after the shutdown below it has none: nothing may set the count again).
  openblas::set_num_threads(1);
  // blas_thread_shutdown_ is what OpenBLAS itself calls before a fork and at exit: it joins its
  // server threads. Not in its public header, so looked up: an OpenBLAS without it (or another
  // build of it, without threads) keeps what it has.
  using Shutdown = int (*)();
  auto shutdown = reinterpret_cast<Shutdown>(openblas::symbol("blas_thread_shutdown_"));
  if (!shutdown) return false;
  shutdown();
  return true;
}

std::string blas_core_note() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return blas_core_note_for(blas_core(), avx512, avx2);
#else
  return "";
#endif
}

}  // namespace isc
