// device_scope.h — a CUDA device made the calling thread's current one for a scope, the thread's own
// device restored after it.
#pragma once
#include <cuda_runtime_api.h>

#include "cuda/check.h"

namespace isc::cuda {

// cudaGetDevice/cudaMemGetInfo and handle teardown act on the calling thread's current device:
// a backend of one device queried or destroyed from a thread that last used another (several
// devices, `--device cuda:0,1`) makes its device current for that, and gives the thread its own
// back. Throws (ISC_CUDA_CHECK) when the device cannot be made current; restoring ignores errors.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    int current = 0;
    ISC_CUDA_CHECK(cudaGetDevice(&current));
    if (current != device) {
      ISC_CUDA_CHECK(cudaSetDevice(device));
      previous_ = current;
    }
  }
  ~DeviceScope() {
    if (previous_ >= 0) cudaSetDevice(previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = -1;
};

}  // namespace isc::cuda
