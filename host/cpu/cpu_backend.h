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

// OpenBLAS starts its own worker threads as the library loads (unless OPENBLAS_NUM_THREADS=1 was in
// the environment then), and they spin before they sleep. The CPU backend needs none of them (it
// calls OpenBLAS single-threaded from its own workers): this makes OpenBLAS single-threaded and ends
// those threads. Returns false where this OpenBLAS has no way to end them (they then stay).
// (initscope has none to end: it sets OPENBLAS_NUM_THREADS=1 before it loads OpenBLAS, main.cpp; a
// process that linked OpenBLAS has them, as the tests do.)
bool stop_blas_threads();

}  // namespace isc
