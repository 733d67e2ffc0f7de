// cuda_backend.h — the CUDA backend's entry points (plain C++: host code includes it without CUDA headers).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "host/backend/backend.h"

namespace isc {

// The CUDA implementation of every Backend op on GPU `device`; throws if it cannot start.
std::unique_ptr<Backend> make_cuda_backend(int device, const BackendOptions& opt);

// Number of usable GPUs; 0 when none, with the reason in *why ("cudaGetDeviceCount: <CUDA's
// message>") when `why` is given.
int cuda_device_count(std::string* why = nullptr);

// One line per GPU ("cuda:0: <name>, compute capability 9.0, 79.1 GiB"), or one line saying why
// none is usable (for `initscope info`).
std::vector<std::string> cuda_device_lines();

}  // namespace isc
