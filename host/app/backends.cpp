// backends.cpp — backend selection from --device and the device list for `initscope info`.
#include "host/app/backends.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <vector>

#include "buildinfo.h"
#include "host/app/config.h"
#include "host/app/multi_backend.h"
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

// The devices of "cuda:all" or of a comma-separated list ("cuda:0,1", "cuda:0,cuda:1", "cpu,cpu").
std::vector<std::string> device_list(const std::string& device) {
  std::vector<std::string> out;
  if (device == "cuda:all") {
#if INITSCOPE_WITH_CUDA
    std::string why;
    const int n = cuda_device_count(&why);
    if (n == 0) throw std::runtime_error("--device cuda:all: no usable GPU (" + why + "); use --device cpu");
    for (int i = 0; i < n; ++i) out.push_back("cuda:" + std::to_string(i));
    return out;
#else
    throw std::runtime_error("--device cuda:all: this initscope was built without CUDA; use --device cpu");
#endif
  }
  std::string item;
  for (std::size_t i = 0; i <= device.size(); ++i) {
    if (i < device.size() && device[i] != ',') {
      item += device[i];
      continue;
    }
    if (item.empty()) throw ConfigError("--device " + device + ": an empty item in the device list");
    const bool digits = item.find_first_not_of("0123456789") == std::string::npos;
    out.push_back(digits ? "cuda:" + item : item);
    item.clear();
  }
  return out;
}

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& device, const BackendOptions& opt) {
  if (device == "cuda:all" || device.find(',') != std::string::npos) {
    // Several devices: every device's workers pull chunks from one queue.
    const std::vector<std::string> specs = device_list(device);
    BackendOptions each = opt;
    const bool all_cpu = std::all_of(specs.begin(), specs.end(), [](const std::string& s) { return s == "cpu"; });
    if (all_cpu)  // CPU "devices" share the machine's threads
      each.threads = std::max(1, (opt.threads > 0 ? opt.threads : cpu_threads_available()) / int(specs.size()));
    for (const auto& s : specs)
      if (s == "auto" || s.find(',') != std::string::npos)
        throw ConfigError("--device " + device + ": '" + s + "' cannot be part of a device list");
    return make_multi_backend(specs.size(), [specs, each](std::size_t d) { return make_backend(specs[d], each); });
  }
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
  throw ConfigError("--device " + device + ": unknown device (did you mean '" +
                    nearest_name(device, {"auto", "cpu", "cuda", "cuda:all"}) +
                    "'? expected auto, cpu, cuda, cuda:N, cuda:all or a list such as cuda:0,1)");
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
