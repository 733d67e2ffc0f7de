// device_buffer.h — the CUDA backend's Buffer: float device memory, freed in the destructor.
#pragma once
#include <cuda_runtime_api.h>

#include <stdexcept>

#include "host/backend/backend.h"
#include "cuda/device_array.h"

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

// Copies n host floats into a device buffer after all queued device work (tests feed both
// backends the same layer input with it; the Backend interface itself has no upload).
inline void upload(Buffer& b, const float* host, std::size_t n) {
  if (n > b.size()) throw std::out_of_range("upload: more floats than the buffer holds");
  ISC_CUDA_CHECK(cudaDeviceSynchronize());
  ISC_CUDA_CHECK(cudaMemcpy(device_ptr(b), host, n * sizeof(float), cudaMemcpyHostToDevice));
}

}  // namespace isc::cuda
