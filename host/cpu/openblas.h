// openblas.h — OpenBLAS, loaded when it is first needed, or beforehand on a thread of its own.
// Linked, the dynamic loader resolved its 13,922 symbol relocations (per-CPU kernel tables) at every
// start of initscope, 3-4 ms before main(), also for commands and devices that never call it; loaded
// here, a run loads it while it reads its config (docs/benchmarks.md). Every call of the engine's
// into OpenBLAS or its LAPACK goes through here.
#pragma once
#include <cblas.h>  // (its declarations; nothing here links to it)

#include <cstddef>
#include <string>

namespace isc::openblas {

// Starts loading it on a thread of its own, once (later calls, and calls after it is loaded, do
// nothing). Set OPENBLAS_NUM_THREADS first: OpenBLAS reads it as it loads.
void preload();
// Loads it now, if it is not yet (waiting for a preload in progress); throws std::runtime_error,
// naming the library and the loader's reason, where it cannot be loaded.
void load();
// The message load() gives for `file` in place of library(), empty where it loads and has every
// function this module calls.
std::string load_error(const char* file);
// The library it loads: the file the build linked against where it exists, else its soname (found
// where the dynamic loader looks: LD_LIBRARY_PATH, /etc/ld.so.cache).
const char* library();

// The calls the engine makes (each loads the library first, if it is not loaded).
void sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha, const float* a,
           int lda, const float* b, int ldb, float beta, float* c, int ldc);
// LAPACK's sgesdd (Fortran calling convention, with the hidden length of `jobz`).
void sgesdd(const char* jobz, const int* m, const int* n, float* a, const int* lda, float* s, float* u, const int* ldu,
            float* vt, const int* ldvt, float* work, const int* lwork, int* iwork, int* info, std::size_t jobz_len);
int get_num_threads();
void set_num_threads(int n);
const char* corename();
// Another symbol of the library (nullptr where it has none).
void* symbol(const char* name);

}  // namespace isc::openblas
