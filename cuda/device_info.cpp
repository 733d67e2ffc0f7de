// device_info.cpp — lists CUDA devices (name, compute capability, memory) for `initscope info`
// and for choosing a device.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cuda/cuda_backend.h"

namespace isc {

int cuda_device_count(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear it: later calls report their own errors
    if (why) *why = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(e);
    return 0;
  }
  if (n <= 0 && why) *why = "cudaGetDeviceCount: the CUDA runtime found no device";
  return n > 0 ? n : 0;
}

// One line per device, or one line saying why none is usable.
std::vector<std::string> cuda_device_lines() {
  std::vector<std::string> out;
  std::string why;
  const int n = cuda_device_count(&why);
  if (n == 0) out.push_back("no usable GPU: " + why);
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    char mem[32];
    std::snprintf(mem, sizeof mem, "%.1f GiB", double(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    out.push_back("cuda:" + std::to_string(i) + ": " + p.name + ", compute capability " + std::to_string(p.major) +
                  "." + std::to_string(p.minor) + ", " + mem);
  }
  return out;
}

}  // namespace isc
