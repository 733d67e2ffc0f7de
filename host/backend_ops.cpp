// backend_ops.cpp — default implementations of the optional Backend ops: a clear "not supported".
#include <stdexcept>
#include <string>

#include "backend.h"

namespace isc {

namespace {
[[noreturn]] void unsupported(const Backend& b, const char* op) {
  throw std::runtime_error(std::string("backward diagnostics: ") + op + " is not supported by the " + b.name() +
                           " backend yet; use --device cpu or drop backward quantities from stats.quantities");
}
}  // namespace

void Backend::add_bias(Buffer&, float, int, int) { unsupported(*this, "add_bias"); }
void Backend::fill_targets(Buffer&, TargetKind, const Buffer&, int, int) { unsupported(*this, "fill_targets"); }
void Backend::softmax_nll_grad(const Buffer&, const Buffer&, Buffer&, int) { unsupported(*this, "softmax_nll_grad"); }
void Backend::gemm_backward_data(const Buffer&, const Buffer&, Buffer&, int, int) {
  unsupported(*this, "gemm_backward_data");
}
void Backend::gemm_weight_grad(const Buffer&, const Buffer&, Buffer&, int, int) { unsupported(*this, "gemm_weight_grad"); }
void Backend::activation_grad_stats(Buffer&, const Buffer&, const ActivationSpec&, int, int) {
  unsupported(*this, "activation_grad_stats");
}
void Backend::stats(const Buffer&, std::size_t, Quantity, int) { unsupported(*this, "stats"); }
void Backend::jacobian_stats(const Buffer&, const Buffer&, const ActivationSpec&, int, int, int) {
  unsupported(*this, "jacobian_stats");
}

}  // namespace isc
