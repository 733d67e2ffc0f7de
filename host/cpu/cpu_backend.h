// cpu_backend.h — the CPU reference backend: OpenBLAS GEMMs, trials spread over OpenMP threads.
#pragma once
#include <string>

#include "host/backend/backend.h"

namespace isc {

std::unique_ptr<Backend> make_cpu_backend(const BackendOptions& opt);
int cpu_threads_available();
std::size_t cpu_memory_bytes();

// The OpenBLAS kernels in use, as OpenBLAS names them ("SkylakeX", "Haswell", "Prescott", ...).
std::string blas_core();
// A line for the user when OpenBLAS runs kernels older than the CPU supports: it did not recognize
// the model (as on some virtual machines, whose CPU reports a generic name) and fell back to its
// generic Prescott (SSE3) kernels. Names the OPENBLAS_CORETYPE to set. Empty when there is nothing
// to say. blas_core_note_for is the decision itself, for the given core and instruction sets.
std::string blas_core_note();
std::string blas_core_note_for(const std::string& core, bool avx512, bool avx2);

}  // namespace isc
