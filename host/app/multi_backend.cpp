// multi_backend.cpp — the worker map of a multi-device backend and its delegation to device 0.
#include "host/app/multi_backend.h"

#include <algorithm>
#include <stdexcept>

namespace isc {
namespace {

class MultiBackend final : public Backend {
 public:
  MultiBackend(std::size_t n, std::function<std::unique_ptr<Backend>(std::size_t)> make) : make_(std::move(make)) {
    for (std::size_t d = 0; d < n; ++d) dev_.push_back(make_(d));
  }
  std::string name() const override {
    std::string s;
    for (const auto& d : dev_) s += (s.empty() ? "" : ",") + d->name();
    return s;
  }
  std::string description() const override {
    std::string s;
    for (const auto& d : dev_) s += (s.empty() ? "" : "; ") + d->name() + ": " + d->description();
    return s;
  }
  std::size_t memory_budget() const override {
    std::size_t m = dev_[0]->memory_budget();
    for (const auto& d : dev_) m = std::min(m, d->memory_budget());
    return m;
  }
  std::size_t worker_overhead_bytes(const WorkerShape& w) const override {
    std::size_t m = 0;
    for (const auto& d : dev_) m = std::max(m, d->worker_overhead_bytes(w));
    return m;
  }
  int preferred_chunk_trials() const override {
    int c = dev_[0]->preferred_chunk_trials();
    for (const auto& d : dev_) c = std::min(c, d->preferred_chunk_trials());
    return c;
  }
  int workers() const override {
    int w = 0;
    for (const auto& d : dev_) w += std::max(d->workers(), 1);
    return w;
  }
  std::unique_ptr<Backend> make_worker(int index) const override {
    for (std::size_t d = 0; d < dev_.size(); ++d) {
      const int w = std::max(dev_[d]->workers(), 1);
      if (index < w) return w > 1 ? dev_[d]->make_worker(index) : make_(d);
      index -= w;
    }
    throw std::out_of_range("multi-device backend: no worker " + std::to_string(index));
  }

  // Device 0 does what the backend itself is asked (a run that needs a single worker).
  void bind_thread() override { dev_[0]->bind_thread(); }
  std::unique_ptr<Buffer> alloc(std::size_t floats) override { return dev_[0]->alloc(floats); }
  void upload(Buffer& b, const float* h, std::size_t n) override { dev_[0]->upload(b, h, n); }
  void download(const Buffer& b, float* h, std::size_t n) const override { dev_[0]->download(b, h, n); }
  void begin_chunk(const Chunk& c) override { dev_[0]->begin_chunk(c); }
  ChunkStats end_chunk() override { return dev_[0]->end_chunk(); }
  void fill_input(Buffer& x, DataKind k, int w) override { dev_[0]->fill_input(x, k, w); }
  void init_weights(Buffer& w, const LayerDraw& d, int l, int o, int i) override {
    dev_[0]->init_weights(w, d, l, o, i);
  }
  void gemm_forward(const Buffer& h, const Buffer& w, Buffer& s, int o, int i) override {
    dev_[0]->gemm_forward(h, w, s, o, i);
  }
  void bias_activation_stats(Buffer& s, Buffer& h, const ActivationSpec& a, float b, int w, int l) override {
    dev_[0]->bias_activation_stats(s, h, a, b, w, l);
  }
  void jacobian_stats(const Buffer& s, const Buffer& w, const ActivationSpec& a, int o, int i, int l) override {
    dev_[0]->jacobian_stats(s, w, a, o, i, l);
  }
  void add_bias(Buffer& s, float b, int w, int l) override { dev_[0]->add_bias(s, b, w, l); }
  void fill_targets(Buffer& y, TargetKind k, const Buffer& x, int n, int c) override {
    dev_[0]->fill_targets(y, k, x, n, c);
  }
  void softmax_nll_grad(const Buffer& z, const Buffer& y, Buffer& g, int c) override {
    dev_[0]->softmax_nll_grad(z, y, g, c);
  }
  void gemm_backward_data(const Buffer& g, const Buffer& w, Buffer& dh, int o, int i) override {
    dev_[0]->gemm_backward_data(g, w, dh, o, i);
  }
  void gemm_weight_grad(const Buffer& g, const Buffer& h, Buffer& dw, int o, int i) override {
    dev_[0]->gemm_weight_grad(g, h, dw, o, i);
  }
  void activation_grad_stats(Buffer& g, const Buffer& s, const Buffer& h, const ActivationSpec& a, int w,
                             int l) override {
    dev_[0]->activation_grad_stats(g, s, h, a, w, l);
  }
  void stats(const Buffer& x, std::size_t per, Quantity q, int l) override { dev_[0]->stats(x, per, q, l); }
  void bias_activate(Buffer& s, const Buffer& b, Buffer* h, const ActivationSpec& a, int w) override {
    dev_[0]->bias_activate(s, b, h, a, w);
  }
  void activation_grad(Buffer& g, const Buffer& s, const Buffer& h, const ActivationSpec& a, int w) override {
    dev_[0]->activation_grad(g, s, h, a, w);
  }
  void bias_grad(const Buffer& g, Buffer& db, int w) override { dev_[0]->bias_grad(g, db, w); }
  void sgd_update(Buffer& p, const Buffer& g, float lr, std::size_t n) override { dev_[0]->sgd_update(p, g, lr, n); }
  void nll_errors(const Buffer& z, const Buffer& y, int c, double* nll, int64_t* errors) override {
    dev_[0]->nll_errors(z, y, c, nll, errors);
  }

 private:
  std::function<std::unique_ptr<Backend>(std::size_t)> make_;
  std::vector<std::unique_ptr<Backend>> dev_;
};

}  // namespace

std::unique_ptr<Backend> make_multi_backend(std::size_t devices,
                                            const std::function<std::unique_ptr<Backend>(std::size_t)>& make_device) {
  if (devices == 0) throw std::invalid_argument("multi-device backend: no devices");
  return std::make_unique<MultiBackend>(devices, make_device);
}

}  // namespace isc
