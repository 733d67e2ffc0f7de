// backends.cpp — backend selection from --device and the device list for `initscope info`.
#include "host/app/backends.h"

#include <cctype>
#include <stdexcept>

#include "buildinfo.h"
#include "host/cpu/cpu_backend.h"
#if INITSCOPE_WITH_CUDA
#include "cuda/cuda_backend.h"
#endif

namespace isc {

namespace {

// "cuda" -> 0, "cuda:N" -> N; -1 if the text is neither.
int cuda_index(const std::string& device) {
  if (device == "cuda") return 0;
  if (device.rfind("cuda:", 0) != 0 || device.size() == 5 || device.size() > 9) return -1;
  for (std::size_t i = 5; i < device.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(device[i]))) return -1;
  return std::stoi(device.substr(5));
}

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& device, const BackendOptions& opt) {
  if (device == "cpu") return make_cpu_backend(opt);
#if INITSCOPE_WITH_CUDA
  if (device == "auto") {
    // The GPU when the CUDA runtime finds one, else the CPU.
    return cuda_device_count() > 0 ? make_cuda_backend(0, opt) : make_cpu_backend(opt);
  }
  const int index = cuda_index(device);
  if (index >= 0) {
    std::string why;
    const int n = cuda_device_count(&why);
    if (n == 0) throw std::runtime_error("--device " + device + ": no usable GPU (" + why + "); use --device cpu");
    if (index >= n)
      throw std::runtime_error("--device " + device + ": no such GPU (" + std::to_string(n) + " found: cuda:0" +
                               (n > 1 ? " .. cuda:" + std::to_string(n - 1) : std::string()) + ")");
    return make_cuda_backend(index, opt);
  }
#else
  if (device == "auto") return make_cpu_backend(opt);
  if (cuda_index(device) >= 0)
    throw std::runtime_error("--device " + device +
                             ": this initscope was built without CUDA "
                             "(no nvcc found at configure time); use --device cpu or rebuild with -DINITSCOPE_CUDA=ON");
#endif
  throw std::runtime_error("--device " + device + ": unknown device (expected auto, cpu, cuda or cuda:N)");
}

std::vector<std::string> describe_devices() {
  std::vector<std::string> d;
  d.push_back("cpu: " + make_cpu_backend({})->description());
#if INITSCOPE_WITH_CUDA
  for (const auto& l : cuda_device_lines()) d.push_back(l);
#else
  d.push_back("cuda: not built (no nvcc found at configure time)");
#endif
  return d;
}

}  // namespace isc
