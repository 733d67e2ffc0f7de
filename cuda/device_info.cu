// device_info.cu — lists CUDA devices (name, compute capability, memory) for `initscope info`.
#include <cuda_runtime.h>

#include <string>
#include <vector>

namespace isc {

// One line per device, or one line saying why none is usable.
std::vector<std::string> cuda_device_lines() {
  std::vector<std::string> out;
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    out.push_back(std::string("no usable GPU: cudaGetDeviceCount: ") + cudaGetErrorString(e));
    return out;
  }
  if (n == 0) out.push_back("no usable GPU: the CUDA runtime found no device");
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    char buf[256];
    std::snprintf(buf, sizeof buf, "cuda:%d: %s, compute capability %d.%d, %.1f GiB", i, p.name, p.major, p.minor,
                  double(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    out.push_back(buf);
  }
  return out;
}

}  // namespace isc
