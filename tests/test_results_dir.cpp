// test_results_dir.cpp — the results folder end to end: configurations committed as they finish,
// SIGTERM/SIGINT stop at a chunk boundary and a re-run resumes to byte-identical outputs, a second
// run is locked out, another experiment is refused unless --force, a killed run's temporary files go.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "host/app/backends.h"
#include "host/app/background_sync.h"
#include "host/app/config.h"
#include "host/app/output.h"
#include "host/app/parts_log.h"
#include "host/app/results_writer.h"
#include "host/app/runner.h"
#include "tests/file_util.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using isc::test::gunzip;
using isc::test::slurp;

namespace {

struct Child {
  pid_t pid = -1;
  int err = -1;  // read end of its stderr (and stdout)
};

Child spawn(const std::vector<std::string>& args) {
  std::vector<std::string> a{INITSCOPE_BIN};
  a.insert(a.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  int p[2];
  if (pipe(p) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_adddup2(&fa, p[1], 2);
  posix_spawn_file_actions_addclose(&fa, p[0]);
  Child c;
  if (posix_spawn(&c.pid, INITSCOPE_BIN, &fa, nullptr, argv.data(), environ) != 0) c.pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  c.err = p[0];
  return c;
}

// Reads the child's output until `marker` appears (or it ends); returns what was read.
std::string read_until(const Child& c, const std::string& marker) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while (out.find(marker) == std::string::npos && (n = read(c.err, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  return out;
}

// Waits for the child; its exit code (-1 if it did not exit) and the rest of its output in *out.
int finish(const Child& c, std::string* out) {
  char buf[4096];
  ssize_t n;
  while ((n = read(c.err, buf, sizeof buf)) > 0) out->append(buf, size_t(n));
  close(c.err);
  int st = 0;
  waitpid(c.pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int run(const std::vector<std::string>& args, std::string* out) { return finish(spawn(args), out); }

// Runs `cmd` under /bin/sh; exit code and output.
int shell(const std::string& cmd, std::string* out) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  const int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

class ResultsDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("initscope_rd_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Two configurations: a quick one, then one that runs for a few seconds (256-wide layers, chunks
    // of 64 trials, so that a stop comes in the middle and keeps a beginning of it).
    std::ofstream(dir_ / "sweep.toml")
        << "name = \"rd\"\ntrials = 3000\nsamples = 64\n[network]\ninput = 8\noutput = 2\n"
           "[run]\nchunk_trials = 64\n[sweep]\n"
           "\"network.hidden\" = [[8], [256, 256]]\n";
    std::ofstream(dir_ / "small.toml") << "name = \"small\"\ntrials = 4\nsamples = 4\n[network]\ninput = 8\n"
                                          "hidden = [8, 8]\noutput = 2\n[sweep]\n\"network.gain\" = [1.0, 1.5]\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> args(const std::string& out, std::vector<std::string> extra = {},
                                const char* config = "sweep.toml") {
    std::vector<std::string> a{"run",   (dir_ / config).string(), "--device", "cpu", "--no-plot",
                               "--out", (dir_ / out).string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  fs::path dir_;
};

}  // namespace

TEST_F(ResultsDir, InterruptedRunResumesToIdenticalOutputs) {
  std::string ref_out;
  ASSERT_EQ(run(args("ref", {"--per-trial"}), &ref_out), 0) << ref_out;
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    const std::string name = "cut" + std::to_string(sig);
    setenv("INITSCOPE_PROGRESS_SECONDS", "0", 1);  // a progress line per chunk
    Child c = spawn(args(name, {"--per-trial"}));
    unsetenv("INITSCOPE_PROGRESS_SECONDS");
    ASSERT_GT(c.pid, 0);
    // The first configuration is committed and a chunk of the second is done.
    std::string out = read_until(c, "[2/2] network.hidden=[256,256]: 64/3000 trials");
    ASSERT_NE(out.find("[2/2] network.hidden=[256,256]: 64/3000 trials"), std::string::npos) << out;
    kill(c.pid, sig);
    const int code = finish(c, &out);
    EXPECT_EQ(code, sig == SIGTERM ? 143 : 130) << out;
    EXPECT_NE(out.find("1 of 2 configurations finished, and "), std::string::npos) << out;
    EXPECT_NE(out.find("resume with:"), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(dir_ / name / "stats.csv"));  // nothing under a final name yet
    for (const auto& e : fs::recursive_directory_iterator(dir_ / name))
      EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << "temporary file left: " << e.path();
    // The same command again: the first configuration and the kept beginning of the second are
    // resumed, the rest of the second computed.
    std::string again;
    ASSERT_EQ(run(args(name, {"--per-trial"}), &again), 0) << again;
    EXPECT_NE(again.find("committed ranges of trials resumed"), std::string::npos) << again;
    for (const char* f : {"stats.csv", "histograms.csv", "theory.csv"})
      EXPECT_EQ(slurp(dir_ / name / f), slurp(dir_ / "ref" / f)) << f;
    EXPECT_EQ(gunzip(dir_ / name / "trials.csv.gz"), gunzip(dir_ / "ref" / "trials.csv.gz"));
  }
}

TEST_F(ResultsDir, AnInterruptedTrainingRunResumesFromItsCheckpointToIdenticalOutputs) {
  // Two chunks of two trials, trained one after the other for 600 updates with an evaluation point
  // every 100 and a checkpoint at each: SIGTERM once the first chunk has passed update 200 stops it
  // mid-training, after saving its parameters; the same command then continues from them.
  std::ofstream(dir_ / "train.toml")
      << "name = \"tr\"\ntrials = 4\nsamples = 50\n[data]\nkind = \"shapeset\"\n[network]\nhidden = [128, 128]\n"
         "[stats]\nquantities = [\"preactivation\", \"activation\", \"weight_gradient\"]\n"
         "[run]\nchunk_trials = 2\nthreads = 1\n"
         "[train]\nupdates = 600\neval_every = 100\nlearning_rate = 0.05\ncheckpoint_seconds = 0\n";
  std::string out;
  ASSERT_EQ(run(args("ref", {}, "train.toml"), &out), 0) << out;
  setenv("INITSCOPE_PROGRESS_SECONDS", "0", 1);
  Child c = spawn(args("cut", {}, "train.toml"));
  unsetenv("INITSCOPE_PROGRESS_SECONDS");
  ASSERT_GT(c.pid, 0);
  out = read_until(c, "update=200: 2/4 trials");
  ASSERT_NE(out.find("update=200: 2/4 trials"), std::string::npos) << out;
  kill(c.pid, SIGTERM);
  EXPECT_EQ(finish(c, &out), 143) << out;
  EXPECT_NE(out.find("resume with:"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "cut" / "stats.csv"));
  int checkpoints = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "cut" / "parts")) checkpoints += e.path().extension() == ".ckpt";
  EXPECT_EQ(checkpoints, 1) << "the first chunk's parameters";
  std::string again;
  ASSERT_EQ(run(args("cut", {}, "train.toml"), &again), 0) << again;
  EXPECT_NE(again.find("committed ranges of trials resumed"), std::string::npos) << again;
  EXPECT_NE(again.find("trials 0-2 of training group "), std::string::npos) << again;
  EXPECT_NE(again.find(" resume from update 2"), std::string::npos) << again;  // 200 and beyond
  for (const char* f : {"stats.csv", "histograms.csv", "theory.csv"})
    EXPECT_EQ(slurp(dir_ / "cut" / f), slurp(dir_ / "ref" / f)) << f;
  for (const auto& e : fs::directory_iterator(dir_ / "cut" / "parts"))
    EXPECT_NE(e.path().extension(), ".ckpt") << "a checkpoint left after the run: " << e.path();
}

TEST_F(ResultsDir, ASecondRunIntoAFolderInUseIsRefused) {
  fs::create_directories(dir_ / "busy");
  const int fd = open((dir_ / "busy" / ".initscope.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);  // as a running initscope holds it
  std::string out;
  EXPECT_EQ(run(args("busy", {}, "small.toml"), &out), 1);
  EXPECT_NE(out.find("is in use by another initscope run"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "busy" / "stats.csv"));
  close(fd);
}

TEST_F(ResultsDir, AnotherExperimentIsRefusedUnlessForced) {
  std::string out;
  ASSERT_EQ(run(args("x", {}, "small.toml"), &out), 0) << out;
  fs::create_directories(dir_ / "x" / "figures");
  std::ofstream(dir_ / "x" / "figures" / "old.png") << "old";
  std::ofstream(dir_ / "other.toml") << "name = \"other\"\ntrials = 3\nsamples = 4\n[network]\ninput = 8\n"
                                        "hidden = [8]\noutput = 2\n";
  std::vector<std::string> other{"run",   (dir_ / "other.toml").string(), "--device", "cpu", "--no-plot",
                                 "--out", (dir_ / "x").string()};
  out.clear();
  EXPECT_EQ(run(other, &out), 1);
  EXPECT_NE(out.find("holds the results of another experiment"), std::string::npos) << out;
  EXPECT_NE(out.find("--force"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir_ / "x" / "figures" / "old.png"));  // left as it was
  other.push_back("--force");
  out.clear();
  ASSERT_EQ(run(other, &out), 0) << out;
  EXPECT_FALSE(fs::exists(dir_ / "x" / "figures" / "old.png"));  // nothing of the older run stays
  EXPECT_NE(slurp(dir_ / "x" / "stats.csv").find(",1,activation,mean,"), std::string::npos);
  // A merge into that folder (another experiment's shards) is refused the same way.
  ASSERT_EQ(run(args("sh_ref", {}, "small.toml"), &out), 0) << out;
  ASSERT_EQ(run(args("sh0", {"--shard", "0/2"}, "small.toml"), &out), 0) << out;
  ASSERT_EQ(run(args("sh1", {"--shard", "1/2"}, "small.toml"), &out), 0) << out;
  std::vector<std::string> merge{"merge", (dir_ / "x").string(), (dir_ / "sh0").string(), (dir_ / "sh1").string(),
                                 "--no-plot"};
  out.clear();
  EXPECT_EQ(run(merge, &out), 1);
  EXPECT_NE(out.find("holds the results of another experiment"), std::string::npos) << out;
  EXPECT_NE(slurp(dir_ / "x" / "stats.csv").find(",1,activation,mean,"), std::string::npos);  // left as it was
  merge.push_back("--force");
  out.clear();
  EXPECT_EQ(run(merge, &out), 0) << out;
  EXPECT_EQ(slurp(dir_ / "x" / "stats.csv"), slurp(dir_ / "sh_ref" / "stats.csv"));
}

TEST_F(ResultsDir, FilesARunReplacesAreRefusedInAFolderNoRunWrote) {
  // --out names a folder of the user's with figures/ in it (and other files): a run would replace
  // figures/, so it is refused, nothing touched; with --force it goes ahead. Other files stay.
  fs::create_directories(dir_ / "mine" / "figures");
  std::ofstream(dir_ / "mine" / "figures" / "fig1.png") << "mine";
  std::ofstream(dir_ / "mine" / "notes.txt") << "notes";
  std::string out;
  EXPECT_EQ(run(args("mine", {}, "small.toml"), &out), 1);
  EXPECT_NE(out.find("mine/figures is not from an initscope run, and a run replaces it"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir_ / "mine" / "figures" / "fig1.png"));
  EXPECT_FALSE(fs::exists(dir_ / "mine" / "stats.csv"));
  // A merge into it likewise.
  ASSERT_EQ(run(args("m0", {"--shard", "0/1"}, "small.toml"), &out), 0) << out;
  out.clear();
  EXPECT_EQ(run({"merge", (dir_ / "mine").string(), (dir_ / "m0").string(), "--no-plot"}, &out), 1);
  EXPECT_NE(out.find("is not from an initscope run"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir_ / "mine" / "figures" / "fig1.png"));
  // Only other files: the run goes ahead and leaves them; so does a second run into the folder.
  fs::create_directories(dir_ / "notes");
  std::ofstream(dir_ / "notes" / "notes.txt") << "notes";
  out.clear();
  ASSERT_EQ(run(args("notes", {}, "small.toml"), &out), 0) << out;
  out.clear();
  ASSERT_EQ(run(args("notes", {}, "small.toml"), &out), 0) << out;
  EXPECT_EQ(slurp(dir_ / "notes" / "notes.txt"), "notes");
  // --force: the user's figures/ go, the rest stays.
  out.clear();
  ASSERT_EQ(run(args("mine", {"--force"}, "small.toml"), &out), 0) << out;
  EXPECT_FALSE(fs::exists(dir_ / "mine" / "figures" / "fig1.png"));
  EXPECT_EQ(slurp(dir_ / "mine" / "notes.txt"), "notes");
}

TEST_F(ResultsDir, TemporaryFilesOfAKilledRunAreRemoved) {
  fs::create_directories(dir_ / "k" / "parts");
  std::ofstream(dir_ / "k" / "stats.csv.tmp.99999") << "half";
  std::ofstream(dir_ / "k" / "parts" / "abc.part.tmp.99999") << "half";
  std::string out;
  ASSERT_EQ(run(args("k", {}, "small.toml"), &out), 0) << out;
  EXPECT_FALSE(fs::exists(dir_ / "k" / "stats.csv.tmp.99999"));
  EXPECT_FALSE(fs::exists(dir_ / "k" / "parts" / "abc.part.tmp.99999"));
  EXPECT_TRUE(fs::exists(dir_ / "k" / "parts" / "parts.log"));
}

TEST_F(ResultsDir, ShardsMergeToTheUnshardedOutputs) {
  // Four configurations (37 trials; gains 1 and 1.2, tanh and relu; backward quantities): 1, 3 and 4 shards
  // (whole configurations), and 7 (each configuration cut into two trial ranges), each shard in
  // its own folder, merged: byte-identical to the unsharded run, per-trial rows included.
  std::ofstream(dir_ / "s.toml")
      << "name = \"sh\"\ntrials = 37\nsamples = 6\n[network]\ninput = 10\nhidden = [12, 9]\noutput = 3\n"
         "[stats]\nquantities = [\"preactivation\", \"activation\", \"backprop_gradient\", "
         "\"weight_gradient\"]\n[sweep]\n\"network.gain\" = [1.0, 1.2]\n"
         "\"network.activation\" = [\"tanh\", \"relu\"]\n";
  std::string out;
  ASSERT_EQ(run(args("ref", {"--per-trial"}, "s.toml"), &out), 0) << out;
  for (int n : {1, 3, 4, 7}) {
    std::vector<std::string> merge{"merge", (dir_ / ("m" + std::to_string(n))).string()};
    for (int i = 0; i < n; ++i) {
      const std::string name = "s" + std::to_string(n) + "_" + std::to_string(i);
      out.clear();
      ASSERT_EQ(
          run(args(name, {"--per-trial", "--shard", std::to_string(i) + "/" + std::to_string(n)}, "s.toml"), &out), 0)
          << out;
      EXPECT_FALSE(fs::exists(dir_ / name / "stats.csv"));  // a shard keeps parts only
      merge.push_back((dir_ / name).string());
    }
    merge.push_back("--no-plot");
    out.clear();
    ASSERT_EQ(run(merge, &out), 0) << out;
    for (const char* f : {"stats.csv", "histograms.csv", "theory.csv"})
      EXPECT_EQ(slurp(dir_ / ("m" + std::to_string(n)) / f), slurp(dir_ / "ref" / f)) << n << " shards: " << f;
    EXPECT_EQ(gunzip(dir_ / ("m" + std::to_string(n)) / "trials.csv.gz"), gunzip(dir_ / "ref" / "trials.csv.gz"))
        << n << " shards";
  }
  // A merge into a folder that another run or merge holds is refused (flock(1) holds its lock).
  fs::create_directories(dir_ / "busy");
  out.clear();
  const std::string merge_busy = "flock " + (dir_ / "busy" / ".initscope.lock").string() + " " + INITSCOPE_BIN +
                                 " merge " + (dir_ / "busy").string() + " " + (dir_ / "s1_0").string() + " --no-plot";
  EXPECT_EQ(shell(merge_busy, &out), 1) << out;
  EXPECT_NE(out.find("is in use by another initscope run"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "busy" / "stats.csv"));
  // A shard folder missing, one given twice, another experiment: refused, naming what is wrong.
  out.clear();
  EXPECT_EQ(
      run({"merge", (dir_ / "bad").string(), (dir_ / "s7_0").string(), (dir_ / "s7_1").string(), "--no-plot"}, &out),
      1);
  EXPECT_NE(out.find("are in none of the folders"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(run({"merge", (dir_ / "bad").string(), (dir_ / "s3_0").string(), (dir_ / "s3_0").string(),
                 (dir_ / "s3_1").string(), (dir_ / "s3_2").string(), "--no-plot"},
                &out),
            1);
  EXPECT_NE(out.find("overlap"), std::string::npos) << out;
  out.clear();
  ASSERT_EQ(run(args("other", {}, "small.toml"), &out), 0) << out;
  out.clear();
  EXPECT_EQ(
      run({"merge", (dir_ / "bad").string(), (dir_ / "s1_0").string(), (dir_ / "other").string(), "--no-plot"}, &out),
      1);
  EXPECT_NE(out.find("holds another experiment"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "bad" / "stats.csv"));
  // A shard whose parts/experiment.json is damaged but still JSON (a key gone; its config text
  // changed): refused as a damaged folder, naming it, not as an error of the user's config file.
  const fs::path recipe = dir_ / "s3_1" / "parts" / "experiment.json";
  const std::string good = slurp(recipe);
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"\"overrides\"", "\"overridez\""}, {"hidden", "hiddem"}}) {
    std::string bad = good;
    ASSERT_NE(bad.find(from), std::string::npos) << bad;
    bad.replace(bad.find(from), from.size(), to);
    std::ofstream(recipe, std::ios::trunc) << bad;
    out.clear();
    EXPECT_EQ(run({"merge", (dir_ / "bad").string(), (dir_ / "s3_0").string(), (dir_ / "s3_1").string(),
                   (dir_ / "s3_2").string(), "--no-plot"},
                  &out),
              1)
        << out;
    EXPECT_NE(out.find((dir_ / "s3_1").string() + ": parts/experiment.json is damaged ("), std::string::npos) << out;
  }
  std::ofstream(recipe, std::ios::trunc) << good;
}

TEST_F(ResultsDir, ShardArgumentsAreCheckedAndDefaultFromSlurm) {
  std::string out;
  for (const char* bad : {"5/4", "0/0", "1", "a/4", "-1/4"}) {
    out.clear();
    EXPECT_EQ(run(args("never", {"--shard", bad}, "small.toml"), &out), 2) << bad << ": " << out;
    EXPECT_NE(out.find("--shard"), std::string::npos) << out;
  }
  EXPECT_FALSE(fs::exists(dir_ / "never"));
  // SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT stand for --shard I/N.
  setenv("SLURM_ARRAY_TASK_ID", "1", 1);
  setenv("SLURM_ARRAY_TASK_COUNT", "2", 1);
  out.clear();
  const int code = run(args("slurm", {}, "small.toml"), &out);
  unsetenv("SLURM_ARRAY_TASK_ID");
  unsetenv("SLURM_ARRAY_TASK_COUNT");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("shard 1/2: "), std::string::npos) << out;
}

TEST_F(ResultsDir, MoreTrialsLaterExtendTheRun) {
  // A configuration's id does not depend on its trial count: 50 trials, then the same command with
  // 120 into the same folder computes trials 50-119 only, and the outputs are those of a single run
  // of 120 trials, byte for byte. Fewer trials than a folder holds are refused.
  std::string out;
  ASSERT_EQ(run(args("ext", {"--trials", "50", "--per-trial"}, "small.toml"), &out), 0) << out;
  out.clear();
  ASSERT_EQ(run(args("ext", {"--trials", "120", "--per-trial"}, "small.toml"), &out), 0) << out;
  EXPECT_NE(out.find("2 committed ranges of trials resumed"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir_ / "ext" / "parts" / "parts.log"));
  out.clear();
  ASSERT_EQ(run(args("one", {"--trials", "120", "--per-trial"}, "small.toml"), &out), 0) << out;
  for (const char* f : {"stats.csv", "histograms.csv", "theory.csv"})
    EXPECT_EQ(slurp(dir_ / "ext" / f), slurp(dir_ / "one" / f)) << f;
  EXPECT_EQ(gunzip(dir_ / "ext" / "trials.csv.gz"), gunzip(dir_ / "one" / "trials.csv.gz"));
  out.clear();
  EXPECT_EQ(run(args("ext", {"--trials", "30"}, "small.toml"), &out), 1);
  EXPECT_NE(out.find("reach outside this run's"), std::string::npos) << out;
}

TEST_F(ResultsDir, SigkillAnywhereLeavesAResumableFolder) {
  // SIGKILL at spread-out moments of a run (starting, computing, committing, writing the outputs):
  // the next run of the same command always finishes, with outputs byte-identical to a run never
  // killed, and no temporary file is left behind.
  std::string out;
  ASSERT_EQ(run(args("ref", {"--per-trial"}), &out), 0) << out;
  for (int delay_ms : {0, 5, 20, 60, 150, 300, 600, 1000}) {
    SCOPED_TRACE("killed after " + std::to_string(delay_ms) + " ms");
    const std::string name = "kill" + std::to_string(delay_ms);
    Child c = spawn(args(name, {"--per-trial"}));
    ASSERT_GT(c.pid, 0);
    usleep(useconds_t(delay_ms) * 1000);
    kill(c.pid, SIGKILL);
    std::string dead;
    finish(c, &dead);
    out.clear();
    ASSERT_EQ(run(args(name, {"--per-trial"}), &out), 0) << out;
    for (const char* f : {"stats.csv", "histograms.csv", "theory.csv"})
      EXPECT_EQ(slurp(dir_ / name / f), slurp(dir_ / "ref" / f)) << f;
    EXPECT_EQ(gunzip(dir_ / name / "trials.csv.gz"), gunzip(dir_ / "ref" / "trials.csv.gz"));
    for (const auto& e : fs::recursive_directory_iterator(dir_ / name))
      EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << "temporary file left: " << e.path();
  }
}

TEST_F(ResultsDir, AFileSizeLimitOrAFullDiskEndsClearlyAndResumes) {
  // ulimit -f 4 (2 KiB files): the run ends with exit 1 and a message naming the file and the
  // reason, leaves no temporary file, and the same command without the limit finishes it,
  // byte-identical to a run never limited. The same on a 256 KiB tmpfs that fills up (when this
  // machine lets the test mount one), then grown to finish.
  std::string out;
  ASSERT_EQ(run(args("ref", {"--per-trial"}, "small.toml"), &out), 0) << out;
  auto same_as_ref = [&](const fs::path& d) {
    for (const char* f : {"stats.csv", "histograms.csv", "theory.csv"})
      EXPECT_EQ(slurp(d / f), slurp(dir_ / "ref" / f)) << d << ": " << f;
    EXPECT_EQ(gunzip(d / "trials.csv.gz"), gunzip(dir_ / "ref" / "trials.csv.gz")) << d;
  };
  auto no_temporaries = [&](const fs::path& d) {
    for (const auto& e : fs::recursive_directory_iterator(d))
      EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << "temporary file left: " << e.path();
  };
  const std::string cmd = std::string(INITSCOPE_BIN) + " run " + (dir_ / "small.toml").string() +
                          " --device cpu -q --no-plot --per-trial --out ";
  out.clear();
  EXPECT_EQ(shell("ulimit -f 4; " + cmd + (dir_ / "limited").string(), &out), 1) << out;
  EXPECT_NE(out.find("initscope: error: cannot write "), std::string::npos) << out;
  EXPECT_NE(out.find("File too large"), std::string::npos) << out;
  no_temporaries(dir_ / "limited");
  out.clear();
  ASSERT_EQ(shell(cmd + (dir_ / "limited").string(), &out), 0) << out;
  same_as_ref(dir_ / "limited");

  const fs::path mnt = dir_ / "tmpfs";
  fs::create_directories(mnt);
  out.clear();
  if (shell("mount -t tmpfs -o size=256k initscope_test " + mnt.string(), &out) != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << out << "); the file-size limit was tested";
  }
  struct Unmount {  // whatever happens below, before the folder is removed
    fs::path at;
    ~Unmount() {
      std::string ignored;
      shell("umount " + at.string(), &ignored);
    }
  } unmount{mnt};
  // Fill the disk but for a little room, so that the run's commits fail part-way.
  out.clear();
  shell("dd if=/dev/zero of=" + (mnt / "filler").string() + " bs=1k count=200", &out);
  // Refused before any compute: the planned outputs do not fit.
  out.clear();
  EXPECT_EQ(shell(cmd + (mnt / "out").string(), &out), 1) << out;
  EXPECT_NE(out.find("MB free; free space or choose another --out"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(mnt / "out")) << out;
  // Without that check (INITSCOPE_NO_SPACE_CHECK=1), the commits fail part-way, clearly.
  out.clear();
  const int code = shell("INITSCOPE_NO_SPACE_CHECK=1 " + cmd + (mnt / "out").string(), &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("No space left on device"), std::string::npos) << out;
  if (fs::exists(mnt / "out")) no_temporaries(mnt / "out");
  fs::remove(mnt / "filler");
  out.clear();
  ASSERT_EQ(shell(cmd + (mnt / "out").string(), &out), 0) << out;
  same_as_ref(mnt / "out");
}

TEST_F(ResultsDir, ADamagedLogIsCutAtItsFirstBadRecordAndRecomputed) {
  // The log of a finished two-configuration run (two records): its last record cut short (a run
  // killed while appending), then a byte of its first record flipped (a damaged disk). Each time the
  // next run says what it cut off, recomputes those trials and writes the same outputs.
  std::string out;
  ASSERT_EQ(run(args("ref", {}, "small.toml"), &out), 0) << out;
  const fs::path log = dir_ / "d" / "parts" / "parts.log";
  for (int damage : {0, 1}) {
    SCOPED_TRACE(damage == 0 ? "last record cut short" : "a byte of the first record flipped");
    out.clear();
    ASSERT_EQ(run(args("d", {}, "small.toml"), &out), 0) << out;
    std::string bytes = slurp(log);
    ASSERT_GT(bytes.size(), 100u);
    if (damage == 0)
      bytes.resize(bytes.size() - 7);
    else
      bytes[40] = char(bytes[40] ^ 0x10);
    std::ofstream(log, std::ios::binary | std::ios::trunc) << bytes;
    out.clear();
    ASSERT_EQ(run(args("d", {}, "small.toml"), &out), 0) << out;
    EXPECT_NE(out.find("damaged bytes off the end of " + (dir_ / "d").string() + "/parts/parts.log"), std::string::npos)
        << out;
    // The first record kept when only the last was cut; nothing kept when the first was damaged.
    if (damage == 0) {
      EXPECT_NE(out.find("1 committed range of trials resumed"), std::string::npos) << out;
    } else {
      EXPECT_EQ(out.find("resumed"), std::string::npos) << out;
    }
    for (const char* f : {"stats.csv", "histograms.csv", "theory.csv"})
      EXPECT_EQ(slurp(dir_ / "d" / f), slurp(dir_ / "ref" / f)) << f;
    fs::remove_all(dir_ / "d");
  }
  // Parts of an older initscope (a file per range) are refused, not misread.
  out.clear();
  ASSERT_EQ(run(args("old", {}, "small.toml"), &out), 0) << out;
  std::ofstream(dir_ / "old" / "parts" / "0123456789abcdef.0-4.part") << "cbor";
  out.clear();
  EXPECT_EQ(run(args("old", {}, "small.toml"), &out), 1);
  EXPECT_NE(out.find("parts of an older initscope (0123456789abcdef.0-4.part"), std::string::npos) << out;
  // A log whose records are of another format (their headers intact) is refused too, with the
  // format named, and --force starts over.
  fs::remove(dir_ / "old" / "parts" / "0123456789abcdef.0-4.part");
  const fs::path old_log = dir_ / "old" / "parts" / "parts.log";
  std::string bytes = slurp(old_log);
  ASSERT_GT(bytes.size(), 24u);
  const uint32_t format = 3;
  std::memcpy(&bytes[4], &format, 4);
  const uint32_t head_crc = isc::crc32_of(bytes.data(), 20);
  std::memcpy(&bytes[20], &head_crc, 4);
  std::ofstream(old_log, std::ios::binary | std::ios::trunc) << bytes;
  out.clear();
  EXPECT_EQ(run(args("old", {}, "small.toml"), &out), 1);
  EXPECT_NE(out.find("parts.log holds parts of record format 3, written by another version of initscope"),
            std::string::npos)
      << out;
  out.clear();
  EXPECT_EQ(run(args("old", {"--force"}, "small.toml"), &out), 0) << out;
  EXPECT_EQ(slurp(dir_ / "old" / "stats.csv"), slurp(dir_ / "ref" / "stats.csv"));
}

TEST(ManifestStream, TheStreamedManifestIsTheWholeDocument) {
  // The results writer streams the manifest's head and entries as configurations finish and adds
  // the tail at the end: the file must be manifest_text of the same entries and facts, which is
  // nlohmann's dump(2) of the document. Three configurations, none, and a finish() with another
  // command line than the writer began with (the document is written again around the entries).
  const fs::path dir = fs::temp_directory_path() / ("initscope_manifest_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  isc::Overrides ov;
  ov.trials = 2;
  const isc::Experiment ex = isc::parse_experiment(
      "samples = 4\n[network]\ninput = 6\nhidden = [5, 4]\n[sweep]\n\"network.gain\" = [0.5, 1.0, 2.0]\n", "m.toml",
      ov);
  auto backend = isc::make_backend("cpu", {});
  const std::vector<isc::ConfigResult> rs = isc::run_experiment(ex, *backend);
  ASSERT_EQ(rs.size(), 3u);
  for (std::size_t n : {std::size_t(3), std::size_t(0)}) {
    const std::vector<isc::ConfigResult> some(rs.begin(), rs.begin() + std::ptrdiff_t(n));
    isc::RunInfo info;
    info.command_line = "initscope run \"m.toml\" --trials 2";
    info.device = backend->name();
    info.started_utc = "2026-11-30T00:00:00Z";
    info.seconds = 0.25;
    fs::remove_all(dir);
    isc::write_results(dir.string(), ex, some, info);
    const std::string text = slurp(dir / "manifest.json");
    std::vector<std::string> entries;
    for (const auto& r : some) entries.push_back(isc::manifest_entry_text(r));
    for (const char* f : {"stats.csv", "histograms.csv", "theory.csv"}) {
      const std::string csv = slurp(dir / f);
      info.files[f] = {csv.size(), isc::crc32_of(csv.data(), csv.size())};
    }
    EXPECT_EQ(text, isc::manifest_text(ex, entries, info)) << n << " configurations";
    EXPECT_EQ(nlohmann::json::parse(text).dump(2) + "\n", text) << n << " configurations";
    EXPECT_EQ(nlohmann::json::parse(text)["configurations"].size(), n);
  }
  {
    fs::remove_all(dir);
    fs::create_directories(dir);
    isc::RunInfo info;
    info.command_line = "initscope run other.toml";
    isc::ResultsWriter w(dir.string(), ex, "initscope run m.toml");
    for (const auto& r : rs) w.add(isc::ConfigResult(r));
    w.finish(info);
    const nlohmann::json m = nlohmann::json::parse(slurp(dir / "manifest.json"));
    EXPECT_EQ(m["command_line"], "initscope run other.toml");
    EXPECT_EQ(m["configurations"].size(), 3u);
    EXPECT_EQ(m["configurations"][2]["config_id"], rs[2].point->id);
  }
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  fs::remove_all(dir);
}

TEST(PartsLogOrder, NoRecordReachesTheFileBeforeItsPrerequisite) {
  // The folder's experiment.json is committed on a thread of its own while the run starts: the log
  // must write no record before that is done, and must report its failure at every later write and
  // sync (also a sync with nothing appended: a run whose ranges were all resumed).
  const fs::path dir = fs::temp_directory_path() / ("initscope_log_order_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  isc::Overrides ov;
  ov.trials = 2;
  const isc::Experiment ex = isc::parse_experiment("samples = 4\n[network]\ninput = 6\nhidden = [5]\n", "o.toml", ov);
  auto backend = isc::make_backend("cpu", {});
  const std::vector<isc::ConfigResult> rs = isc::run_experiment(ex, *backend);
  ASSERT_EQ(rs.size(), 1u);
  const std::string payload = isc::encode_part(rs[0], "0123456789abcdef", false);
  {
    isc::PartsLog log((dir / "a.log").string(), true);
    std::promise<void> ready;
    log.write_after(ready.get_future());
    uintmax_t before = 1;
    std::thread done_later([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      before = fs::file_size(dir / "a.log");
      ready.set_value();
    });
    log.append(payload);
    log.sync();  // waits for `ready`
    done_later.join();
    EXPECT_EQ(before, 0u) << "a record was written before its prerequisite";
    EXPECT_GT(fs::file_size(dir / "a.log"), payload.size());
  }
  {
    isc::PartsLog log((dir / "b.log").string(), true);
    std::promise<void> ready;
    ready.set_exception(std::make_exception_ptr(std::runtime_error("cannot write experiment.json.tmp: no space")));
    log.write_after(ready.get_future());
    try {
      log.append(payload);  // (it writes, and so reports, only 0.2 s after the log was opened)
    } catch (const std::runtime_error&) {
    }
    for (int k = 0; k < 2; ++k) {
      try {
        log.flush();
        ADD_FAILURE() << "flush " << k << " did not report the failed prerequisite";
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("experiment.json.tmp: no space"), std::string::npos) << e.what();
      }
    }
    EXPECT_THROW(log.sync(), std::runtime_error);
    EXPECT_EQ(fs::file_size(dir / "b.log"), 0u);
  }
  {
    isc::PartsLog log((dir / "c.log").string(), true);
    std::promise<void> ready;
    ready.set_exception(std::make_exception_ptr(std::runtime_error("cannot flush experiment.json.tmp")));
    log.write_after(ready.get_future());
    EXPECT_THROW(log.sync(), std::runtime_error);  // nothing appended
  }
  fs::remove_all(dir);
}

TEST(BackgroundSync, SyncsWrittenFilesAndReportsAFailedSync) {
  // A regular file written and handed over is synced without error; a file whose sync fails (a
  // pipe: fdatasync gives EINVAL) has its error reported by error() and by remove(), which the owner
  // must report (its own sync may not see it again). remove() leaves no sync of the file behind.
  const fs::path dir = fs::temp_directory_path() / ("initscope_bgsync_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const int fd = ::open((dir / "f").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  {
    isc::BackgroundSync bg;
    ASSERT_TRUE(bg.running());
    const int file = bg.add(fd), pipe_end = bg.add(p[1]);
    for (int k = 0; k < 20; ++k) {
      const std::string line = "line " + std::to_string(k) + "\n";
      ASSERT_EQ(::write(fd, line.data(), line.size()), ssize_t(line.size()));
      bg.wrote(file);
    }
    ASSERT_EQ(::write(p[1], "x", 1), 1);
    bg.wrote(pipe_end);
    // The failed sync is reported once the thread has tried it (within a few seconds at most).
    for (int k = 0; k < 500 && bg.error(pipe_end) == 0; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(bg.error(pipe_end), EINVAL);
    EXPECT_EQ(bg.remove(pipe_end), EINVAL);
    EXPECT_EQ(bg.error(file), 0);
    EXPECT_EQ(bg.remove(file), 0);
    bg.wrote(file);  // a removed file is not synced any more (fd closed below)
  }
  ::close(fd);
  ::close(p[0]);
  ::close(p[1]);
  EXPECT_EQ(fs::file_size(dir / "f"), 150u);
  fs::remove_all(dir);
}
