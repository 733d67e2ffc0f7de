// cpu_backend.cpp — CPU implementation of the Backend ops; the readable reference for CUDA.
#include "cpu_backend.h"

#include <cblas.h>
#include <omp.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "../kernels/rng.h"
#include "cpu_kernels.h"
#include "cpu_stats.h"

// OpenBLAS's own thread count control (declared in its cblas.h on Debian; repeated for others).
extern "C" void openblas_set_num_threads(int);

namespace isc {
namespace {

class HostBuffer : public Buffer {
 public:
  explicit HostBuffer(std::size_t n) : Buffer(n), data_(new float[n]) {}
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }

 private:
  std::unique_ptr<float[]> data_;
};

float* ptr(Buffer& b) { return static_cast<HostBuffer&>(b).data(); }
const float* ptr(const Buffer& b) { return static_cast<const HostBuffer&>(b).data(); }

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
  explicit CpuBackend(const BackendOptions& opt)
      : threads_(opt.threads > 0 ? opt.threads : cpu_threads_available()) {
    // Trials run in parallel, one OpenBLAS call per trial: each call single-threaded.
    openblas_set_num_threads(1);
    scratch_.resize(static_cast<std::size_t>(threads_));
  }

  std::string name() const override { return "cpu"; }
  std::string description() const override {
    std::ostringstream os;
    os << cpu_model() << ", " << threads_ << " thread" << (threads_ == 1 ? "" : "s") << ", "
       << (cpu_memory_bytes() >> 20) << " MiB";
    return os.str();
  }
  std::size_t memory_budget() const override { return cpu_memory_bytes() / 10 * 8; }
  // Two trials per thread: buffers stay small and are reused (no page faults per chunk).
  int preferred_chunk_trials() const override { return 2 * threads_; }

  std::unique_ptr<Buffer> alloc(std::size_t floats) override {
    return std::make_unique<HostBuffer>(floats);
  }
  void download(const Buffer& b, float* host, std::size_t n) const override {
    if (n > b.size()) throw std::out_of_range("download: more floats than the buffer holds");
    std::memcpy(host, ptr(b), n * sizeof(float));
  }

  void begin_chunk(const Chunk& c) override {
    chunk_ = c;
    stats_.assign(static_cast<std::size_t>(c.trials) * c.layers * kForwardQuantities, TrialStats{});
  }

  void fill_input(Buffer& x, DataKind kind, int width) override {
    const std::size_t per = static_cast<std::size_t>(chunk_.samples) * width;
    float* base = ptr(x);
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      const uint64_t sub = input_subsequence(chunk_.first_trial + t);
      cpu_fill_draws(input_draw(kind), chunk_.stream, sub, base + t * per, per);
    }
  }

  void init_weights(Buffer& w, const LayerDraw& d, int layer, int n_out, int n_in) override {
    const std::size_t per = static_cast<std::size_t>(n_out) * n_in;
    float* base = ptr(w);
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      const uint64_t sub = weight_subsequence(chunk_.first_trial + t, layer);
      cpu_fill_draws(d, chunk_.stream, sub, base + t * per, per);
    }
  }

  void gemm_forward(const Buffer& h, const Buffer& w, Buffer& s, int n_in, int n_out) override {
    const int B = chunk_.samples;
    const std::size_t hs = std::size_t(B) * n_in, ws = std::size_t(n_out) * n_in, ss = std::size_t(B) * n_out;
    const float* hp = ptr(h);
    const float* wp = ptr(w);
    float* sp = ptr(s);
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_out, n_in, 1.0f, hp + t * hs, n_in,
                  wp + t * ws, n_in, 0.0f, sp + t * ss, n_out);
    }
  }

  void bias_activation_stats(Buffer& s, Buffer& h, const ActivationSpec& act, float bias, int width,
                             int layer) override {
    const std::size_t per = static_cast<std::size_t>(chunk_.samples) * width;
    float* sb = ptr(s);
    float* hb = ptr(h);
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (int t = 0; t < chunk_.trials; ++t) {
      float* sp = sb + t * per;
      float* hp = hb + t * per;
      cpu_bias_activate(sp, hp, per, bias, act);
      auto& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
      const std::size_t slot = (static_cast<std::size_t>(t) * chunk_.layers + layer) * kForwardQuantities;
      compute_stats(sp, per, chunk_.stats.range[0], chunk_.stats.percentiles, nullptr, stats_[slot], scratch);
      compute_stats(hp, per, chunk_.stats.range[1], chunk_.stats.percentiles,
                    has_saturation(act.kind) ? &act : nullptr, stats_[slot + 1], scratch);
    }
  }

  std::vector<TrialStats> end_chunk() override { return std::move(stats_); }

 private:
  int threads_;
  Chunk chunk_;
  std::vector<TrialStats> stats_;
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

std::unique_ptr<Backend> make_cpu_backend(const BackendOptions& opt) {
  return std::make_unique<CpuBackend>(opt);
}

}  // namespace isc
