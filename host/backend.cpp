// backend.cpp — backend selection from --device and the device list for `initscope info`.
#include "backend.h"

#include <stdexcept>

#include "buildinfo.h"
#include "cpu_backend.h"

namespace isc {

#if INITSCOPE_WITH_CUDA
std::vector<std::string> cuda_device_lines();  // cuda/device_info.cu
#endif

bool cuda_compiled() { return INITSCOPE_WITH_CUDA != 0; }

std::unique_ptr<Backend> make_backend(const std::string& device, const BackendOptions& opt) {
  if (device == "cpu") return make_cpu_backend(opt);
  if (device == "auto") {
    // The CUDA backend is not part of this build yet; auto falls back to the CPU.
    return make_cpu_backend(opt);
  }
  if (device == "cuda" || device.rfind("cuda:", 0) == 0) {
    if (!cuda_compiled())
      throw std::runtime_error("--device " + device + ": this initscope was built without CUDA "
                               "(no nvcc found at configure time); use --device cpu or rebuild with -DINITSCOPE_CUDA=ON");
    throw std::runtime_error("--device " + device + ": the CUDA backend is not implemented yet; use --device cpu");
  }
  throw std::runtime_error("--device " + device + ": unknown device (expected auto, cpu, cuda or cuda:N)");
}

std::vector<std::string> describe_devices() {
  std::vector<std::string> d;
  d.push_back("cpu: " + make_cpu_backend({})->description());
  if (!cuda_compiled()) d.push_back("cuda: not built (no nvcc found at configure time)");
#if INITSCOPE_WITH_CUDA
  for (const auto& l : cuda_device_lines()) d.push_back(l + " (CUDA backend not implemented yet)");
#endif
  return d;
}

}  // namespace isc
