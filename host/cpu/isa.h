// isa.h — the x86 instruction-set paths of the CPU hot loops: clones macro, path ids, run-time choice.
#pragma once
#include <vector>

// ISC_CLONES builds a function for several x86-64 levels (target_clones), so that its loops
// vectorize on any machine; ISC_X86_PATHS says whether the hand-written x86 paths (intrinsics in
// target("...") functions, chosen at run time) are built.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ISC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define ISC_X86_PATHS 1
#else
#define ISC_CLONES
#define ISC_X86_PATHS 0
#endif

namespace isc {

// Instruction-set paths of the draws and scans, for tests that run each one the machine supports.
constexpr int kPathGeneric = 0, kPathAvx2 = 1, kPathAvx512 = 2;
std::vector<int> cpu_draw_paths();  // the paths this CPU can run, generic first

// The widest path this CPU runs (x86-64-v4: kPathAvx512, x86-64-v3: kPathAvx2, else kPathGeneric).
int best_path();

}  // namespace isc
