// test_determinism.cpp — results depend only on (seed, configuration, trial): not on threads,
// chunking or the order of configurations.
#include <gtest/gtest.h>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/output.h"
#include "host/app/runner.h"
#include "host/backend/backend.h"

using namespace isc;

namespace {
const char* kToml =
    "trials = 7\nsamples = 33\n[network]\ninput = 50\nhidden = [40, 30, 20]\nactivation = \"tanh\"\n"
    "[sweep]\n\"network.init\" = [\"standard\", \"xavier_normal\"]\n";

struct Outputs {
  std::string stats, hist, trials;
};

Outputs run_with(int threads, int chunk) {
  Overrides ov;
  ov.sets = {"run.chunk_trials=" + std::to_string(chunk)};
  const auto ex = parse_experiment(kToml, "d.toml", ov);
  auto b = make_backend("cpu", {threads});
  const auto r = run_experiment(ex, *b, keep_all_trials());
  return {stats_csv(ex, r), histograms_csv(ex, r), trials_csv(ex, r)};
}
}  // namespace

TEST(Determinism, ThreadsAndChunkingDoNotChangeResults) {
  const Outputs ref = run_with(1, 7);
  for (auto [threads, chunk] : {std::pair{2, 7}, std::pair{1, 1}, std::pair{2, 3}, std::pair{2, 0}}) {
    const Outputs o = run_with(threads, chunk);
    EXPECT_EQ(o.stats, ref.stats) << threads << " threads, chunk " << chunk;
    EXPECT_EQ(o.hist, ref.hist) << threads << " threads, chunk " << chunk;
    EXPECT_EQ(o.trials, ref.trials) << threads << " threads, chunk " << chunk;
  }
}

TEST(Determinism, TrialWeightsDoNotDependOnTrialCount) {
  // Trial 2 of a 3-trial run equals trial 2 of a 7-trial run.
  Overrides ov;
  ov.trials = 3;
  const auto ex3 = parse_experiment(kToml, "d.toml", ov);
  const auto ex7 = parse_experiment(kToml, "d.toml");
  auto b = make_backend("cpu", {});
  const auto r3 = run_experiment(ex3, *b, keep_all_trials()), r7 = run_experiment(ex7, *b, keep_all_trials());
  for (int l = 0; l < 3; ++l) {
    EXPECT_EQ(r3[0].at(2, l, 1).m.mean, r7[0].at(2, l, 1).m.mean);
    EXPECT_EQ(r3[0].at(2, l, 1).hist, r7[0].at(2, l, 1).hist);
  }
}

TEST(Determinism, SeedChangesEverything) {
  Overrides ov;
  ov.seed = 2;
  const auto a = parse_experiment(kToml, "d.toml"), c = parse_experiment(kToml, "d.toml", ov);
  auto b = make_backend("cpu", {});
  const auto ra = run_experiment(a, *b, keep_all_trials()), rc = run_experiment(c, *b, keep_all_trials());
  EXPECT_NE(ra[0].at(0, 0, 0).m.mean, rc[0].at(0, 0, 0).m.mean);
}

TEST(Determinism, SeveralDevicesGiveTheBitsOfOne) {
  // Two and three CPU backends as devices (cpu,cpu: every device's workers pull chunks from one
  // queue, the scheduler several GPUs use): the same outputs as one CPU, byte for byte, for chunk
  // sizes 1, 7 and automatic.
  for (int chunk : {1, 7, 0}) {
    Overrides ov;
    ov.sets = {"run.chunk_trials=" + std::to_string(chunk), "trials=23"};
    const auto ex = parse_experiment(kToml, "d.toml", ov);
    auto one = make_backend("cpu", {});
    const auto ref = run_experiment(ex, *one, keep_all_trials());
    for (const char* devices : {"cpu,cpu", "cpu,cpu,cpu"}) {
      auto multi = make_backend(devices, {});
      EXPECT_GE(multi->workers(), 2) << devices;
      const auto r = run_experiment(ex, *multi, keep_all_trials());
      EXPECT_EQ(stats_csv(ex, r), stats_csv(ex, ref)) << devices << ", chunk " << chunk;
      EXPECT_EQ(histograms_csv(ex, r), histograms_csv(ex, ref)) << devices << ", chunk " << chunk;
      EXPECT_EQ(trials_csv(ex, r), trials_csv(ex, ref)) << devices << ", chunk " << chunk;
    }
  }
  EXPECT_THROW(make_backend("cpu,,cpu", {}), std::runtime_error);
  EXPECT_THROW(make_backend("cpu,auto", {}), std::runtime_error);
}
