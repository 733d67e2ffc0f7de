// cpu_backend.h — the CPU reference backend: OpenBLAS GEMMs, trials spread over OpenMP threads.
#pragma once
#include "host/backend/backend.h"

namespace isc {

std::unique_ptr<Backend> make_cpu_backend(const BackendOptions& opt);
int cpu_threads_available();
std::size_t cpu_memory_bytes();

}  // namespace isc
