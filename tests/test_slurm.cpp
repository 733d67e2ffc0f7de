// test_slurm.cpp — a real Slurm job array of initscope shards on this machine (tests/slurm/array_run.sh:
// private munged, slurmctld and slurmd, docker/slurm-array.sh submitted with sbatch --array=0-3,
// merged and compared byte for byte with the unsharded run). Skips, saying why, where Slurm cannot run.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

TEST(Slurm, ArrayOfShardsMergesToTheUnshardedRun) {
  const std::string cmd = std::string("bash ") + INITSCOPE_SOURCE_DIR + "/tests/slurm/array_run.sh " + INITSCOPE_BIN +
                          " " + INITSCOPE_SOURCE_DIR + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  const int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (code == 77) GTEST_SKIP() << out;
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("OK: sbatch --array=0-3"), std::string::npos) << out;
}
