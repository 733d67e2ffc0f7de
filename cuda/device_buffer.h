// device_buffer.h — the CUDA backend's Buffer: float device memory, freed in the destructor.
#pragma once
#include <cuda_runtime_api.h>

#include <stdexcept>

#include "cuda/device_array.h"
#include "host/backend/backend.h"

namespace isc::cuda {

class DeviceBuffer final : public Buffer {
 public:
  explicit DeviceBuffer(std::size_t n) : Buffer(n), mem_(n) {}
  float* data() { return mem_.get(); }
  const float* data() const { return mem_.get(); }

 private:
  DeviceArray<float> mem_;
};

// The device pointer of a buffer this backend allocated (throws for another backend's buffer).
inline float* device_ptr(Buffer& b) {
  auto* d = dynamic_cast<DeviceBuffer*>(&b);
  if (!d) throw std::logic_error("CUDA backend: buffer was not allocated by the CUDA backend");
  return d->data();
}
inline const float* device_ptr(const Buffer& b) { return device_ptr(const_cast<Buffer&>(b)); }

}  // namespace isc::cuda
