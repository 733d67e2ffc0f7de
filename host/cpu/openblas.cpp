// openblas.cpp — OpenBLAS loaded with dlopen when first needed (openblas.h).
#include "host/cpu/openblas.h"

#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#ifndef INITSCOPE_OPENBLAS_FILE
#define INITSCOPE_OPENBLAS_FILE ""
#endif
#ifndef INITSCOPE_OPENBLAS_SONAME
#define INITSCOPE_OPENBLAS_SONAME "libopenblas.so.0"
#endif

// AddressSanitizer refuses RTLD_DEEPBIND (it must see every malloc), so its builds go without it.
#if defined(__SANITIZE_ADDRESS__)
#define INITSCOPE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INITSCOPE_ASAN 1
#endif
#endif

namespace isc::openblas {
namespace {

// OpenBLAS's 13,922 absolute relocations name its own functions (its kernel tables; Debian builds it
// without -Bsymbolic). Looked up in the process's scope first, each one walked every library loaded
// before it (libstdc++, libc, ...): 5-6 ms of a run's start here, as much as expanding a sweep of
// 1,000 configurations. RTLD_DEEPBIND looks in OpenBLAS and its own dependencies first, and finds
// them at once: the sweep's config-reading phase was about 2 ms shorter (docs/benchmarks.md).
// OpenBLAS then binds libc's symbols (malloc, stderr) in libc itself, not in an allocator preloaded
// with LD_PRELOAD: it frees only what it allocated, and the FILE stderr points to is the same.
#ifdef INITSCOPE_ASAN
constexpr int kDlopenFlags = RTLD_NOW | RTLD_LOCAL;
#else
constexpr int kDlopenFlags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
#endif

using Sgesdd = void (*)(const char*, const int*, const int*, float*, const int*, float*, float*, const int*, float*,
                        const int*, float*, const int*, int*, int*, std::size_t);

struct Api {
  void* handle = nullptr;
  decltype(&cblas_sgemm) sgemm = nullptr;
  Sgesdd sgesdd = nullptr;
  decltype(&openblas_get_num_threads) get_num_threads = nullptr;
  decltype(&openblas_set_num_threads) set_num_threads = nullptr;
  decltype(&openblas_get_corename) corename = nullptr;
  std::string error;  // why it could not be loaded (empty: loaded)
};

// (Never destroyed: a preload still under way when the process exits must not meet a destroyed one.)
Api& state() {
  static Api* a = new Api;
  return *a;
}
std::once_flag& once() {
  static std::once_flag f;
  return f;
}

// Opens `file` into `a` (a.error: why not).
void open_into(const char* file, Api& a) {
  a.handle = ::dlopen(file, kDlopenFlags);
  if (!a.handle) {
    const char* err = ::dlerror();
    const std::string why = err ? err : "unknown reason";
    a.error = std::string("cannot load OpenBLAS (") + file + "): " + why;
    // Under an address-space limit the library may be there and not fit: that is the limit's doing.
    struct rlimit as {};
    if (why.find("No such file") == std::string::npos && ::getrlimit(RLIMIT_AS, &as) == 0 &&
        as.rlim_cur != RLIM_INFINITY)
      a.error += "; the address-space limit (ulimit -v) is " + std::to_string(uint64_t(as.rlim_cur) >> 20) +
                 " MiB, and OpenBLAS maps its library and a 128 MiB buffer: raise the limit";
    else
      a.error += " (Debian/Ubuntu: apt-get install libopenblas0)";
    return;
  }
  const auto get = [&](const char* name) {
    void* p = ::dlsym(a.handle, name);
    if (!p && a.error.empty()) a.error = std::string("OpenBLAS (") + file + ") has no " + name;
    return p;
  };
  a.sgemm = reinterpret_cast<decltype(a.sgemm)>(get("cblas_sgemm"));
  a.sgesdd = reinterpret_cast<Sgesdd>(get("sgesdd_"));
  a.get_num_threads = reinterpret_cast<decltype(a.get_num_threads)>(get("openblas_get_num_threads"));
  a.set_num_threads = reinterpret_cast<decltype(a.set_num_threads)>(get("openblas_set_num_threads"));
  a.corename = reinterpret_cast<decltype(a.corename)>(get("openblas_get_corename"));
}

void load_once() { open_into(library(), state()); }

const Api& api() {
  std::call_once(once(), load_once);
  const Api& a = state();
  if (!a.error.empty()) throw std::runtime_error(a.error);
  return a;
}

}  // namespace

const char* library() {
  static const std::string* file = [] {                 // (never destroyed, as state())
    const std::string built = INITSCOPE_OPENBLAS_FILE;  // (the variant the build linked: pthread, openmp, serial)
    return new std::string(!built.empty() && ::access(built.c_str(), R_OK) == 0 ? built : INITSCOPE_OPENBLAS_SONAME);
  }();
  return file->c_str();
}

void preload() {
  static std::once_flag started;
  std::call_once(started, [] {
    try {
      std::thread([] {
        try {
          api();
        } catch (const std::exception&) {  // (reported by the first call that needs it)
        }
      }).detach();
    } catch (const std::system_error&) {  // no thread allowed: it loads at its first use
    }
  });
}

void load() { api(); }

std::string load_error(const char* file) {
  Api a;
  open_into(file, a);
  return a.error;  // (a loaded library stays loaded, as dlopen keeps it for the process)
}

void sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha, const float* a,
           int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  api().sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void sgesdd(const char* jobz, const int* m, const int* n, float* a, const int* lda, float* s, float* u, const int* ldu,
            float* vt, const int* ldvt, float* work, const int* lwork, int* iwork, int* info, std::size_t jobz_len) {
  api().sgesdd(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info, jobz_len);
}

int get_num_threads() { return api().get_num_threads(); }
void set_num_threads(int n) { api().set_num_threads(n); }
const char* corename() { return api().corename(); }
void* symbol(const char* name) { return ::dlsym(api().handle, name); }

}  // namespace isc::openblas
