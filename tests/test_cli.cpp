// test_cli.cpp — the initscope binary end to end: a small run, byte-identical reruns, bad input.
#include <gtest/gtest.h>

#include <thread>

#include "host/cpu/cpu_backend.h"
#include "tests/file_util.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using isc::test::gunzip;
using isc::test::slurp;

namespace {

struct Result {
  int code;
  std::string out;  // stdout and stderr together
};

Result run(const std::string& args) {
  // Plots are tested in test_plot.cpp; here they would only add minutes.
  const bool is_run = args.rfind("run ", 0) == 0;
  const std::string cmd = std::string(INITSCOPE_BIN) + " " + args + (is_run ? " --no-plot" : "") + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("initscope_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  fs::path dir_;
};

const char* kSmall =
    "name = \"small\"\nseed = 3\ntrials = 4\nsamples = 16\n[network]\ninput = 32\nhidden = [24, 16]\n"
    "activation = \"tanh\"\n[stats]\nbins = 10\n[sweep]\n\"network.init\" = [\"standard\", \"normalized\"]\n";

}  // namespace

TEST_F(Cli, PerTrialOutputIsStreamedAndGzipped) {
  // --per-trial: trials.csv.gz, one row per (trial, layer, written quantity), in trial order, that
  // pandas reads directly; 2 configs x 4 trials x 2 layers x 2 quantities rows.
  const auto cfg = write("small.toml", kSmall);
  const auto r =
      run("run " + cfg.string() + " -q --per-trial --set run.chunk_trials=1 --out " + (dir_ / "out").string());
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string t = gunzip(dir_ / "out" / "trials.csv.gz");
  EXPECT_EQ(t.substr(0, t.find('\n')),
            "config_id,network.init,trial,layer,quantity,count,mean,std,mean_sq,min,max,p02,p50,p98,nan,inf,"
            "saturation,var_ratio,pair_correlation");
  EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 1 + 2 * 4 * 2 * 2);
  EXPECT_LT(t.find(",0,1,preactivation,"), t.find(",3,2,activation,"));  // trial order
  EXPECT_NE(slurp(dir_ / "out" / "manifest.json").find("\"trials.csv.gz\""), std::string::npos);
  for (const auto& e : fs::directory_iterator(dir_ / "out"))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << "leftover temp file " << e.path();
  // A later run without it removes the old per-trial file, which would contradict the new outputs.
  ASSERT_EQ(run("run " + cfg.string() + " -q --out " + (dir_ / "out").string()).code, 0);
  EXPECT_FALSE(fs::exists(dir_ / "out" / "trials.csv.gz"));
}

TEST_F(Cli, RunWritesAllOutputs) {
  const auto cfg = write("small.toml", kSmall);
  const auto r = run("run " + cfg.string() + " --out " + (dir_ / "out").string() + " --device cpu");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("layer"), std::string::npos);  // summary table
  // Progress, as plain lines (stderr is not a terminal): swept values, rate and ETA.
  EXPECT_NE(r.out.find("[1/2] network.init=standard: 4/4 trials, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[2/2] network.init=normalized: 4/4 trials, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" trials/s, ETA "), std::string::npos) << r.out;
  for (const char* f : {"stats.csv", "histograms.csv", "theory.csv", "manifest.json"})
    EXPECT_TRUE(fs::exists(dir_ / "out" / f)) << f;
  EXPECT_FALSE(fs::exists(dir_ / "out" / "trials.csv.gz"));  // per-trial output is opt-in
  const std::string stats = slurp(dir_ / "out" / "stats.csv");
  EXPECT_EQ(stats.substr(0, stats.find('\n')),
            "config_id,network.init,layer,quantity,statistic,value,trial_std,trials");
  EXPECT_NE(stats.find(",normalized,2,activation,saturation,"), std::string::npos);
  const std::string hist = slurp(dir_ / "out" / "histograms.csv");
  EXPECT_EQ(hist.substr(0, hist.find('\n')), "config_id,network.init,layer,quantity,bin,bin_lo,bin_hi,count,density");
  // 2 configs x 2 layers x 2 quantities x (10 bins + under + over) rows + header
  EXPECT_EQ(std::count(hist.begin(), hist.end(), '\n'), 1 + 2 * 2 * 2 * 12);
  const std::string man = slurp(dir_ / "out" / "manifest.json");
  EXPECT_NE(man.find("\"git_commit\""), std::string::npos);
  EXPECT_NE(man.find("\"trials_per_second\""), std::string::npos);
  for (const auto& e : fs::directory_iterator(dir_ / "out"))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << "leftover temp file " << e.path();
}

TEST_F(Cli, ALargeSweepSummarizesItsFirstConfigurationsAndWritesThemAll) {
  // 23 configurations: the terminal table shows the first 20 and says where the rest are; stats.csv
  // and theory.csv (streamed as each configuration is done) hold all 23, in sweep order.
  std::string gains;
  for (int i = 0; i < 23; ++i) gains += (i ? ", " : "") + std::to_string(0.5 + 0.05 * i);
  const auto cfg = write("many.toml",
                         "name = \"many\"\ntrials = 2\nsamples = 4\n[network]\ninput = 8\nhidden = [8]\n"
                         "[sweep]\n\"network.gain\" = [" +
                             gains + "]\n");
  const auto r = run("run " + cfg.string() + " --out " + (dir_ / "out").string() + " --device cpu");
  ASSERT_EQ(r.code, 0) << r.out;
  std::size_t tables = 0;
  for (std::size_t at = 0; (at = r.out.find("\nconfig ", at)) != std::string::npos; ++at) ++tables;
  EXPECT_EQ(tables + (r.out.rfind("config ", 0) == 0 ? 1 : 0), 20u) << r.out;
  EXPECT_NE(r.out.find("... and 3 more configurations: every one is in " + (dir_ / "out").string() + "/stats.csv"),
            std::string::npos)
      << r.out;
  const std::string theory = slurp(dir_ / "out" / "theory.csv");
  EXPECT_EQ(std::count(theory.begin(), theory.end(), '\n'), 1 + 23);
  std::istringstream lines(theory.substr(theory.find('\n') + 1));
  std::string line;
  for (int i = 0; std::getline(lines, line); ++i) {  // in sweep order: the gain column
    const std::size_t a = line.find(',') + 1;
    EXPECT_NEAR(std::stod(line.substr(a, line.find(',', a) - a)), 0.5 + 0.05 * i, 1e-9) << line;
  }
}

TEST_F(Cli, SameSeedGivesByteIdenticalOutputs) {
  const auto cfg = write("small.toml", kSmall);
  ASSERT_EQ(run("run " + cfg.string() + " -q --per-trial --out " + (dir_ / "a").string()).code, 0);
  ASSERT_EQ(
      run("run " + cfg.string() + " -q --per-trial --threads 1 --set run.chunk_trials=3 --out " + (dir_ / "b").string())
          .code,
      0);
  EXPECT_EQ(gunzip(dir_ / "a" / "trials.csv.gz"), gunzip(dir_ / "b" / "trials.csv.gz"));
  for (const char* f : {"stats.csv", "histograms.csv", "theory.csv"})
    EXPECT_EQ(slurp(dir_ / "a" / f), slurp(dir_ / "b" / f)) << f;
  ASSERT_EQ(run("run " + cfg.string() + " -q --seed 4 --out " + (dir_ / "c").string()).code, 0);
  EXPECT_NE(slurp(dir_ / "a" / "stats.csv"), slurp(dir_ / "c" / "stats.csv"));
}

TEST_F(Cli, BrokenConfigsFailWithClearErrors) {
  auto expect_error = [&](const std::string& text, const std::string& msg, const std::string& extra = "") {
    const auto cfg = write("bad.toml", text);
    const auto r = run("run " + cfg.string() + " --out " + (dir_ / "never").string() + extra);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(msg), std::string::npos) << "expected: " << msg << "\ngot: " << r.out;
    EXPECT_FALSE(fs::exists(dir_ / "never"));
  };
  expect_error("[network]\nactivaton = \"relu\"\n",
               "config error: " + (dir_ / "bad.toml").string() +
                   ":2: unknown key 'network.activaton' (did you mean 'network.activation'?)");
  expect_error("[network]\nhidden = [100, 0]\n",
               "bad.toml:2: network.hidden[1]: width must be in [1, 16777216], got 0");
  expect_error("[network]\nactivation = \"tahn\"\n",
               "bad.toml:2: network.activation: unknown value 'tahn' (did you mean 'tanh'?");
  expect_error("trials = 2\n", "--set network.bias=abc: network.bias: expected a number, got a string 'abc'",
               " --set network.bias=abc");
  const auto missing = run("run " + (dir_ / "nope.toml").string());
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.out.find("nope.toml: cannot open config file"), std::string::npos) << missing.out;
}

TEST_F(Cli, LibrariesAreNotLoadedFromTheCurrentDirectory) {
  // A file named like each library initscope loads, in the directory it starts from (and in the
  // subdirectories the loader tries for the CPU's features): were the current directory on its
  // library path (an empty RUNPATH entry, as CMake's padded build RPATH had), the loader would take
  // one of these and fail on it.
  for (const char* sub : {"", "x86_64/", "tls/", "haswell/", "glibc-hwcaps/x86-64-v2/", "glibc-hwcaps/x86-64-v3/",
                          "glibc-hwcaps/x86-64-v4/"}) {
    fs::create_directories(dir_ / sub);
    for (const char* lib : {"libz.so.1", "libgomp.so.1", "libstdc++.so.6", "libm.so.6", "libgcc_s.so.1",
                            "libtomlplusplus.so.3", "libc.so.6", "libgfortran.so.5"})
      std::ofstream(dir_ / (std::string(sub) + lib)) << "not a library\n";
  }
  const auto r = run("--version >/dev/null; cd " + dir_.string() + " && " + INITSCOPE_BIN + " --version");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("initscope"), std::string::npos) << r.out;
}

TEST_F(Cli, ImpossibleMemoryIsRefusedBeforeWork) {
  const auto cfg = write("huge.toml", "samples = 1000000\n[network]\ninput = 100000\nhidden = [100000]\n");
  const auto r = run("run " + cfg.string() + " --out " + (dir_ / "never").string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("for a single trial"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "never"));
}

TEST_F(Cli, PlanPrintsTheWorkWithoutRunningIt) {
  const auto cfg = write("small.toml", kSmall);
  const auto r = run("plan " + cfg.string() + " --device cpu");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("network.init=standard"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("network.init=normalized"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 configurations, 8 trials, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GFLOP/s of GEMMs: about "), std::string::npos) << r.out;
  const auto quick = run("plan " + cfg.string() + " --device cpu --no-calibration");
  ASSERT_EQ(quick.code, 0) << quick.out;
  EXPECT_EQ(quick.out.find("GFLOP/s"), std::string::npos) << quick.out;
  EXPECT_FALSE(fs::exists(dir_ / "results"));
}

TEST_F(Cli, OpenBlasStartsNoThreadsOfItsOwnUnlessAsked) {
  // initscope runs with OPENBLAS_NUM_THREADS=1 unless the user sets it (main sets it before OpenBLAS
  // loads): OpenBLAS's own threads spin at load and took CPU from the run's workers. `info` counts
  // the process's threads once OpenBLAS is loaded, before any backend starts.
  auto info = [](const std::string& env) {
    const std::string cmd = env + " " + std::string(INITSCOPE_BIN) + " info 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    return out;
  };
  const std::string unset = info("env -u OPENBLAS_NUM_THREADS");
  EXPECT_NE(unset.find("threads at start: 1 (OPENBLAS_NUM_THREADS=1;"), std::string::npos) << unset;
  const std::string two = info("env OPENBLAS_NUM_THREADS=2");
  EXPECT_NE(two.find("(OPENBLAS_NUM_THREADS=2;"), std::string::npos) << two;  // the user's choice stands
  if (std::thread::hardware_concurrency() >= 2) {
    EXPECT_NE(two.find("threads at start: 2 "), std::string::npos) << two;
  }
}

TEST_F(Cli, InfoAndDeviceErrors) {
  const auto info = run("info");
  EXPECT_EQ(info.code, 0);
  EXPECT_NE(info.out.find("cpu:"), std::string::npos) << info.out;
  const auto cfg = write("small.toml", kSmall);
  const auto r = run("run " + cfg.string() + " --device tpu --out " + (dir_ / "x").string());
  EXPECT_EQ(r.code, 2);  // a usage error
  EXPECT_NE(r.out.find("--device tpu: unknown device"), std::string::npos) << r.out;
}

// Issue 14: the command-line contract. Usage and config errors exit 2 with one line naming what
// is wrong (and the nearest command or option); --version names the commit.
TEST_F(Cli, UsageErrorsExit2WithOneLineAndASuggestion) {
  const auto cfg = write("small.toml", kSmall);
  const auto runn = run("runn " + cfg.string());
  EXPECT_EQ(runn.code, 2) << runn.out;
  EXPECT_EQ(runn.out,
            "initscope: usage error: unknown command 'runn' (did you mean 'run'? commands: run, plan, "
            "merge, plot, info)\n");
  const auto trails = run("run " + cfg.string() + " --trails 3");
  EXPECT_EQ(trails.code, 2) << trails.out;
  EXPECT_EQ(trails.out, "initscope: usage error: run: unknown option --trails (did you mean --trials?)\n");
  const auto none = run("");
  EXPECT_EQ(none.code, 2) << none.out;
  const auto help = run("run --help");
  EXPECT_EQ(help.code, 0) << help.out;
  const auto version = run("--version");
  EXPECT_EQ(version.code, 0) << version.out;
  EXPECT_EQ(version.out.rfind("initscope ", 0), 0u) << version.out;
  EXPECT_NE(version.out.find("(commit "), std::string::npos) << version.out;
  const auto gpu = run("run " + cfg.string() + " --device gpu --out " + (dir_ / "x").string());
  EXPECT_EQ(gpu.code, 2) << gpu.out;
  EXPECT_NE(gpu.out.find("did you mean 'cpu'?"), std::string::npos) << gpu.out;
  EXPECT_FALSE(fs::exists(dir_ / "x"));
}

TEST_F(Cli, AProgressPeriodThatIsNotANumberIsRefused) {
  // INITSCOPE_PROGRESS_SECONDS=abc read as 0 printed a line at every chunk; now it is an error.
  const fs::path cfg = write("p.toml", kSmall);
  for (const char* bad : {"abc", "-5", "10s", "nan"}) {
    setenv("INITSCOPE_PROGRESS_SECONDS", bad, 1);
    const Result r = run("run " + cfg.string() + " --device cpu --out " + (dir_ / "p").string());
    unsetenv("INITSCOPE_PROGRESS_SECONDS");
    EXPECT_EQ(r.code, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find(std::string("INITSCOPE_PROGRESS_SECONDS=") + bad + ": expected seconds"), std::string::npos)
        << r.out;
  }
  setenv("INITSCOPE_PROGRESS_SECONDS", "2.5", 1);
  const Result ok = run("run " + cfg.string() + " --device cpu --out " + (dir_ / "p").string());
  unsetenv("INITSCOPE_PROGRESS_SECONDS");
  EXPECT_EQ(ok.code, 0) << ok.out;
}

TEST_F(Cli, SeedsOutsideTheConfigRangeAreRefused) {
  const auto cfg = write("small.toml", kSmall);
  for (const std::string s :
       {"-1", "18446744073709551615", "18446744073709551616", "9223372036854775808", "1e3", "x"}) {
    const auto r = run("run " + cfg.string() + " --seed " + s + " --out " + (dir_ / "x").string());
    EXPECT_EQ(r.code, 2) << s << ": " << r.out;
    EXPECT_EQ(r.out, std::string("initscope: config error: --seed ") + s +
                         ": must be an integer in [0, 9223372036854775807]\n")
        << s;
  }
  const auto top = run("run " + cfg.string() + " -q --seed 9223372036854775807 --out " + (dir_ / "top").string());
  EXPECT_EQ(top.code, 0) << top.out;
  EXPECT_NE(slurp(dir_ / "top" / "manifest.json").find("\"seed\": 9223372036854775807"), std::string::npos);
}

TEST_F(Cli, SetBeforeTheConfigPathKeepsThePath) {
  const auto cfg = write("small.toml", kSmall);
  // Repeated, before and after the path.
  const auto r = run("run --set trials=2 --set samples=8 " + cfg.string() + " --set 'network.gain = 2' -q --out " +
                     (dir_ / "x").string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(slurp(dir_ / "x" / "stats.csv").find(",2\n"), std::string::npos);
  const std::string m = slurp(dir_ / "x" / "manifest.json");
  EXPECT_NE(m.find("\"samples\": 8"), std::string::npos) << m;
  EXPECT_NE(m.find("\"gain\": 2.0"), std::string::npos) << m;
}

TEST_F(Cli, AFolderAnEmptyFileOrNoNetworkIsRefusedWithExit2) {
  fs::create_directories(dir_ / "cfg.toml");
  const auto folder = run("run " + (dir_ / "cfg.toml").string() + " --out " + (dir_ / "x").string());
  EXPECT_EQ(folder.code, 2) << folder.out;
  EXPECT_NE(folder.out.find("is a folder, not a config file"), std::string::npos) << folder.out;
  const auto empty = run("run " + write("empty.toml", "\n# nothing\n").string() + " --out " + (dir_ / "x").string());
  EXPECT_EQ(empty.code, 2) << empty.out;
  const auto blank = run("run " + write("blank.toml", " \n").string() + " --out " + (dir_ / "x").string());
  EXPECT_EQ(blank.code, 2) << blank.out;
  EXPECT_NE(blank.out.find("empty config file"), std::string::npos) << blank.out;
  const auto nonet = run("run " + write("nonet.toml", "trials = 2\n").string() + " --out " + (dir_ / "x").string());
  EXPECT_EQ(nonet.code, 2) << nonet.out;
  EXPECT_NE(nonet.out.find("no [network] table"), std::string::npos) << nonet.out;
  EXPECT_FALSE(fs::exists(dir_ / "x"));
}

// Without --out the folder is results/<name>: a name can never lead outside results/.
TEST_F(Cli, ANameCannotWriteOutsideResults) {
  const auto cfg = write("small.toml", kSmall);
  for (const std::string& n :
       std::vector<std::string>{"\"..\"", "\"../x\"", "\"\"", "\"a/../../b\"", "\"" + std::string(300, 'n') + "\""}) {
    const std::string cmd = "cd " + dir_.string() + " && " + INITSCOPE_BIN +
                            " run small.toml --no-plot --set 'name=" + n + "' > out.txt 2>&1; echo $? >> out.txt";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    const std::string out = slurp(dir_ / "out.txt");
    EXPECT_NE(out.find("config error: --set name="), std::string::npos) << n << ": " << out;
    EXPECT_NE(out.find("\n2\n"), std::string::npos) << n << ": " << out;
    EXPECT_FALSE(fs::exists(dir_ / "stats.csv")) << n;
    EXPECT_FALSE(fs::exists(dir_ / "results")) << n;
    fs::remove(dir_ / "out.txt");
  }
}

// The results folder is checked before any compute: a file in the way, or a disk too small.
TEST_F(Cli, TheOutputLocationIsCheckedBeforeCompute) {
  const auto cfg = write("small.toml", kSmall);
  write("afile", "x");
  const auto file = run("run " + cfg.string() + " --out " + (dir_ / "afile").string());
  EXPECT_EQ(file.code, 1) << file.out;
  EXPECT_NE(file.out.find("afile"), std::string::npos) << file.out;
  EXPECT_EQ(file.out.find("results:"), std::string::npos) << file.out;
  const auto plan = run("plan " + cfg.string() + " --no-calibration --device cpu");
  EXPECT_NE(plan.out.find("results folder: about "), std::string::npos) << plan.out;
}

// A re-run that does not plot removes the figures and report of the earlier run, which would
// contradict the new CSVs.
TEST_F(Cli, ARunWithoutPlotsRemovesTheEarlierFigures) {
  const auto cfg = write("small.toml", kSmall);
  const fs::path out = dir_ / "x";
  ASSERT_EQ(run("run " + cfg.string() + " -q --out " + out.string()).code, 0);
  fs::create_directories(out / "figures");
  std::ofstream(out / "figures" / "old.png") << "old";
  std::ofstream(out / "report.html") << "old";
  ASSERT_EQ(run("run " + cfg.string() + " -q --set trials=5 --out " + out.string()).code, 0);
  EXPECT_FALSE(fs::exists(out / "figures"));
  EXPECT_FALSE(fs::exists(out / "report.html"));
}

// Under an address-space limit (ulimit -v) a run that cannot fit is refused at once, never a hang.
TEST_F(Cli, AnAddressSpaceLimitEndsClearlyNeverAHang) {
  const auto cfg = write("small.toml", kSmall);
  // The smallest limit (to 8 MiB) under which the binary loads at all: the CUDA build maps large
  // libraries (cuSOLVER, cuBLAS) before main(), and below that the loader itself refuses.
  auto loads = [&](long kib) {
    const std::string cmd =
        "bash -c 'ulimit -v " + std::to_string(kib) + " && " + INITSCOPE_BIN + " --version' > /dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  };
  long lo = 16 * 1024, hi = lo;
  while (!loads(hi) && hi < (64L << 20)) lo = hi, hi *= 2;
  ASSERT_TRUE(loads(hi)) << "the binary does not start under any limit up to 64 GiB";
  while (hi - lo > 8 * 1024) {
    const long mid = (lo + hi) / 2;
    (loads(mid) ? hi : lo) = mid;
  }
  // 40 MiB above that: it starts, but a run needs more (OpenBLAS's buffer alone is 128 MiB).
  const long limit = hi + 40 * 1024;
  const std::string cmd = "ulimit -v " + std::to_string(limit) + " && timeout -k 5 60 " + std::string(INITSCOPE_BIN) +
                          " run " + cfg.string() + " --no-plot --out " + (dir_ / "x").string() + " > " +
                          (dir_ / "out.txt").string() + " 2>&1; echo $? >> " + (dir_ / "out.txt").string();
  ASSERT_EQ(std::system(("bash -c '" + cmd + "'").c_str()), 0);
  const std::string out = slurp(dir_ / "out.txt");
  EXPECT_NE(out.find("the address-space limit (ulimit -v) is " + std::to_string(limit / 1024) + " MiB"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\n1\n"), std::string::npos) << out;  // exit 1, not 124 (timeout)
}

// Sweeping stats.percentiles changes trials.csv's columns: with per-trial rows it is refused
// before any compute (exit 2); without, stats.csv (one row per statistic) holds each sweep point's.
TEST_F(Cli, SweepingPercentilesWithPerTrialRowsIsRefusedBeforeCompute) {
  const auto cfg = write("p.toml",
                         "name = \"p\"\ntrials = 2\nsamples = 4\n[network]\ninput = 8\nhidden = [8]\n"
                         "[sweep]\n\"stats.percentiles\" = [[1.0, 99.0], [50.0]]\n");
  const auto refused = run("run " + cfg.string() + " --per-trial --out " + (dir_ / "x").string());
  EXPECT_EQ(refused.code, 2) << refused.out;
  EXPECT_NE(refused.out.find("stats.percentiles must be the same in every configuration"), std::string::npos)
      << refused.out;
  EXPECT_FALSE(fs::exists(dir_ / "x"));
  const auto ok = run("run " + cfg.string() + " -q --out " + (dir_ / "y").string());
  ASSERT_EQ(ok.code, 0) << ok.out;
  const std::string stats = slurp(dir_ / "y" / "stats.csv");
  EXPECT_NE(stats.find(",p01,"), std::string::npos);
  EXPECT_NE(stats.find(",p50,"), std::string::npos);
}

TEST(BlasCore, AFallbackToOlderKernelsIsNamedWithItsFix) {
  // The decision: OpenBLAS's pre-AVX2 cores on a CPU that has AVX2 or AVX-512 get a note naming the
  // OPENBLAS_CORETYPE to set; matching kernels, or a CPU without AVX2, get none.
  EXPECT_EQ(isc::blas_core_note_for("SkylakeX", true, true), "");
  EXPECT_EQ(isc::blas_core_note_for("Haswell", false, true), "");
  EXPECT_EQ(isc::blas_core_note_for("Zen", false, true), "");
  EXPECT_EQ(isc::blas_core_note_for("Prescott", false, false), "");
  const std::string a = isc::blas_core_note_for("Prescott", true, true);
  EXPECT_NE(a.find("Prescott kernels"), std::string::npos) << a;
  EXPECT_NE(a.find("OPENBLAS_CORETYPE=SkylakeX"), std::string::npos) << a;
  const std::string b = isc::blas_core_note_for("Sandybridge", false, true);
  EXPECT_NE(b.find("OPENBLAS_CORETYPE=Haswell"), std::string::npos) << b;
  EXPECT_NE(isc::blas_core(), "");
}

TEST_F(Cli, OpenBlasFallbackKernelsAreReportedWhereTheyRun) {
  // End to end on this machine: OpenBLAS forced to its Prescott kernels (as it falls back on a CPU
  // model it does not know) is named in `info`, `plan` and `run`, with the fix; the kernels named
  // in the fix bring no note. Needs an x86-64 CPU with AVX2.
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) GTEST_SKIP() << "this CPU has no AVX2";
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  const std::string fix = avx512 ? "SkylakeX" : "Haswell";
  const fs::path cfg = write("b.toml", kSmall);
  const char* old = std::getenv("OPENBLAS_CORETYPE");
  const std::string saved = old ? old : "";
  setenv("OPENBLAS_CORETYPE", "Prescott", 1);
  const Result info = run("info"), plan = run("plan " + cfg.string());
  const Result ran = run("run " + cfg.string() + " --device cpu --out " + (dir_ / "o").string());
  setenv("OPENBLAS_CORETYPE", fix.c_str(), 1);
  const Result good = run("info");
  if (old)
    setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
  else
    unsetenv("OPENBLAS_CORETYPE");
  if (info.out.find("OpenBLAS Prescott kernels") == std::string::npos)
    GTEST_SKIP() << "this OpenBLAS does not take OPENBLAS_CORETYPE (not built with DYNAMIC_ARCH): " << info.out;
  for (const Result* r : {&info, &plan, &ran}) {
    EXPECT_EQ(r->code, 0) << r->out;
    EXPECT_NE(r->out.find("OpenBLAS runs its Prescott kernels"), std::string::npos) << r->out;
    EXPECT_NE(r->out.find("OPENBLAS_CORETYPE=" + fix), std::string::npos) << r->out;
  }
  EXPECT_EQ(good.code, 0) << good.out;
  EXPECT_EQ(good.out.find("note:"), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("OpenBLAS " + fix + " kernels"), std::string::npos) << good.out;
#else
  GTEST_SKIP() << "x86-64 only";
#endif
}
