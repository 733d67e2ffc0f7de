// isa.cpp — run-time detection of the instruction-set paths (isa.h).
#include "host/cpu/isa.h"

namespace isc {

int best_path() {
#if ISC_X86_PATHS
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return kPathAvx512;
  if (__builtin_cpu_supports("x86-64-v3")) return kPathAvx2;
#endif
  return kPathGeneric;
}

std::vector<int> cpu_draw_paths() {
  std::vector<int> p{kPathGeneric};
  const int best = best_path();
  if (best >= kPathAvx2) p.push_back(kPathAvx2);
  if (best >= kPathAvx512) p.push_back(kPathAvx512);
  return p;
}

}  // namespace isc
