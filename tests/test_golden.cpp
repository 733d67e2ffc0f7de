// test_golden.cpp — byte-identical outputs: the CPU build's stats.csv, histograms.csv and theory.csv
// for the configurations in tests/golden/ must hash to tests/golden/hashes.txt (taken before the
// one-statistics-engine refactor; update only for a deliberate change, with tests/golden/update.sh).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

std::string run_capture(const std::string& cmd, int* code) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  *code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

// "<sha256>  <config>/<file>" lines.
std::map<std::string, std::string> expected_hashes() {
  std::ifstream in(fs::path(INITSCOPE_SOURCE_DIR) / "tests/golden/hashes.txt");
  std::map<std::string, std::string> m;
  std::string hash, name;
  while (in >> hash >> name) m[name] = hash;
  return m;
}

// The GEMM's summation order, and so the last bits of every statistic, depends on the kernel
// OpenBLAS picks for the CPU; the hashes were taken with its Haswell kernels (AVX2 + FMA), which
// the child process is told to use whatever the machine (OPENBLAS_CORETYPE).
bool cpu_runs_haswell_kernels() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace

TEST(Golden, OutputsAreByteIdenticalToTheCommittedHashes) {
  if (!cpu_runs_haswell_kernels())
    GTEST_SKIP() << "the golden hashes need OpenBLAS's Haswell kernels (x86-64 AVX2 + FMA)";
  const auto expected = expected_hashes();
  ASSERT_EQ(expected.size(), 9u) << "tests/golden/hashes.txt: 3 configurations x 3 files";
  const fs::path dir = fs::temp_directory_path() / ("initscope_golden_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  for (const char* cfg : {"forward", "pairs", "backward"}) {
    const fs::path src = fs::path(INITSCOPE_SOURCE_DIR) / "tests/golden" / (std::string(cfg) + ".toml");
    int code = 0;
    const std::string out = run_capture("OPENBLAS_CORETYPE=Haswell " + std::string(INITSCOPE_BIN) + " run " +
                                            src.string() + " --device cpu --no-plot -q --out " + (dir / cfg).string(),
                                        &code);
    ASSERT_EQ(code, 0) << out;
    for (const char* file : {"stats.csv", "histograms.csv", "theory.csv"}) {
      const std::string name = std::string(cfg) + "/" + file;
      const std::string got = run_capture("sha256sum < " + (dir / cfg / file).string() + " | cut -d' ' -f1", &code);
      ASSERT_EQ(code, 0) << got;
      EXPECT_EQ(got.substr(0, got.find('\n')), expected.at(name))
          << name << " changed: outputs must stay byte-identical (see tests/golden/update.sh)";
    }
  }
  fs::remove_all(dir);
}
