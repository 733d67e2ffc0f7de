// test_config.cpp — config parsing, sweeps, overrides and the error messages users see.
#include <gtest/gtest.h>
#if defined(__GLIBC__)
#include <malloc.h>  // mallinfo2
#endif

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "host/app/config.h"
#include "host/app/runner.h"

using namespace isc;

namespace {
std::string error_of(const std::string& text, const Overrides& ov = {}) {
  try {
    parse_experiment(text, "exp.toml", ov);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST(Config, DefaultsAndAliases) {
  const auto ex = parse_experiment("[network]\ninit = \"normalized\"\nactivation = \"relu\"\n", "a.toml");
  ASSERT_EQ(ex.points.size(), 1u);
  const Config& c = ex.points[0].config;
  EXPECT_EQ(c.name, "a");
  EXPECT_EQ(c.network.init.scheme, InitScheme::XavierUniform);
  EXPECT_EQ(c.network.init_name, "xavier_uniform");
  EXPECT_EQ(c.network.activation.kind, Activation::Relu);
  EXPECT_EQ(c.stats.activation_range.lo, 0.0f);  // relu's default range starts at 0
  EXPECT_EQ(ex.points[0].id.size(), 12u);
}

TEST(Config, SweepIsCartesianWithStableIds) {
  const std::string t =
      "trials = 2\n[network]\ndepth = 2\nwidth = 8\ninput = 4\n[sweep]\n\"network.init\" = [\"standard\", "
      "\"he_normal\"]\n\"network.gain\" = [1.0, 2.0, 3.0]\n";
  const auto a = parse_experiment(t, "s.toml"), b = parse_experiment(t, "s.toml");
  ASSERT_EQ(a.points.size(), 6u);
  EXPECT_EQ(a.sweep_keys, (std::vector<std::string>{"network.gain", "network.init"}));
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(a.points[i].id, b.points[i].id);
  EXPECT_EQ(a.points[1].swept[1].second, "he_normal");
  EXPECT_NE(a.points[0].id, a.points[1].id);
  EXPECT_NE(a.points[0].stream, a.points[1].stream);
  EXPECT_EQ(a.points[5].config.network.init.gain, 3.0);
}

// A swept float's text (the CSVs' column, the manifest's "swept") is printf's %g of its value.
TEST(Config, SweptFloatsReadAsPrintfsG) {
  const std::vector<double> gains = {0.5, 1e-07, 0.1234567, 123456.789, 2.5e5, 999999.5, 0.0001, 1e-300, 3.0};
  std::string t = "trials = 2\n[network]\ndepth = 1\nwidth = 4\ninput = 4\n[sweep]\n\"network.gain\" = [";
  for (std::size_t i = 0; i < gains.size(); ++i) {
    char v[40];
    std::snprintf(v, sizeof v, "%.17g", gains[i]);
    t += std::string(i ? ", " : "") + v + (std::strpbrk(v, ".e") ? "" : ".0");
  }
  const auto ex = parse_experiment(t + "]\n", "g.toml");
  ASSERT_EQ(ex.points.size(), gains.size());
  for (std::size_t i = 0; i < gains.size(); ++i) {
    char want[40];
    std::snprintf(want, sizeof want, "%g", gains[i]);
    EXPECT_EQ(ex.points[i].swept[0].second, want) << i;
  }
}
TEST(Config, OverridesApply) {
  Overrides ov;
  ov.trials = 7;
  ov.seed = 99;
  ov.sets = {"network.hidden=[3, 4]", "network.activation=sigmoid"};
  const auto ex = parse_experiment("trials = 2\n", "o.toml", ov);
  const Config& c = ex.points[0].config;
  EXPECT_EQ(c.trials, 7);
  EXPECT_EQ(c.seed, 99u);
  EXPECT_EQ(c.network.hidden, (std::vector<int>{3, 4}));
  EXPECT_EQ(c.network.activation.kind, Activation::Sigmoid);
}

TEST(Config, PrecisionIsOptInAndPartOfTheIdentity) {
  const auto fp32 = parse_experiment("[run]\nprecision = \"fp32\"\n[network]\nhidden = [4]\n", "p.toml");
  const auto tf32 = parse_experiment("[run]\nprecision = \"tf32\"\n[network]\nhidden = [4]\n", "p.toml");
  EXPECT_FALSE(fp32.points[0].config.run.tf32);
  EXPECT_TRUE(tf32.points[0].config.run.tf32);
  EXPECT_NE(fp32.points[0].id, tf32.points[0].id);
  EXPECT_EQ(fp32.points[0].id, parse_experiment("[network]\nhidden = [4]\n", "p.toml").points[0].id);
  EXPECT_EQ(error_of("[run]\nprecision = \"fp16\"\n").rfind("exp.toml:2: run.precision: unknown value 'fp16'", 0), 0u);
}

TEST(Config, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("trials = 4\n[network]\nactivaton = \"tanh\"\n"),
            "exp.toml:3: unknown key 'network.activaton' (did you mean 'network.activation'?)");
  EXPECT_EQ(error_of("[network]\nhidden = [10, 0, 10]\n"),
            "exp.toml:2: network.hidden[1]: width must be in [1, 16777216], got 0");
  EXPECT_EQ(error_of("[network]\ninit = \"xavier\"\n")
                .rfind("exp.toml:2: network.init: unknown value 'xavier' (did you mean", 0),
            0u);
  EXPECT_EQ(error_of("samples = \"many\"\n"), "exp.toml:1: samples: expected an integer, got a string 'many'");
  EXPECT_EQ(error_of("trials = 0\n"), "exp.toml:1: trials: must be in [1, 100000000], got 0");
  EXPECT_EQ(error_of("[network]\ndepth = 1001\nwidth = 4\n"),
            "exp.toml:2: network.depth: must be in [1, 1000], got 1001");
  EXPECT_EQ(error_of("[stats]\nactivation_range = [1.0, -1.0]\n"),
            "exp.toml:2: stats.activation_range: needs lo < hi, got [1,-1]");
  EXPECT_NE(error_of("trials = [\n").find("exp.toml:1: TOML syntax error"), std::string::npos);
  EXPECT_EQ(error_of("[sweep]\n\"network.widht\" = [1, 2]\n"),
            "exp.toml:2: sweep: cannot sweep 'network.widht' (did you mean 'network.width'?)");
  // A table named sweep inside [sweep] is a key of the sweep, not a second sweep (this crashed:
  // found by the fuzzer), in the file and through --set.
  EXPECT_EQ(error_of("[sweep]\nsweep.b = [1, 2]\n"),
            "exp.toml:2: sweep: cannot sweep 'sweep.b' (did you mean 'seed'?)");
  EXPECT_EQ(error_of("sweep.sweep.b = 1e-3\n"), "exp.toml:1: sweep: cannot sweep 'sweep.b' (did you mean 'seed'?)");
  Overrides sw;
  sw.sets = {"sweep.sweep.b=1"};
  EXPECT_EQ(error_of("", sw),
            "--set sweep.sweep.b=1: --set cannot change the [sweep] table; give the sweep in the file");
  Overrides ov;
  ov.sets = {"network.gain=-1"};
  EXPECT_EQ(error_of("", ov), "--set network.gain=-1: network.gain: must be a finite number in [0, 1000000], got -1");
}

TEST(Config, KnownKeysAreTheKeysBuildReads) {
  // known_keys() is derived from the keys build() asks for: every documented key, once.
  const std::vector<std::string> documented{"name",
                                            "seed",
                                            "trials",
                                            "samples",
                                            "network.input",
                                            "network.hidden",
                                            "network.depth",
                                            "network.width",
                                            "network.output",
                                            "network.activation",
                                            "network.negative_slope",
                                            "network.init",
                                            "network.gain",
                                            "network.init_value",
                                            "network.init_bound",
                                            "network.bias",
                                            "network.bias_std",
                                            "data.kind",
                                            "data.pair_correlation",
                                            "data.seed",
                                            "data.images",
                                            "data.labels",
                                            "data.files",
                                            "data.test_images",
                                            "data.test_labels",
                                            "data.test_files",
                                            "stats.bins",
                                            "stats.preactivation_range",
                                            "stats.activation_range",
                                            "stats.percentiles",
                                            "stats.saturation_threshold",
                                            "stats.quantities",
                                            "stats.gradient_bins",
                                            "stats.gradient_linthresh",
                                            "stats.gradient_max",
                                            "stats.jacobian_range",
                                            "stats.jacobian_samples",
                                            "targets.kind",
                                            "run.threads",
                                            "run.chunk_trials",
                                            "run.memory_limit_mb",
                                            "run.precision",
                                            "output.per_trial",
                                            "train.updates",
                                            "train.eval_every",
                                            "train.learning_rate",
                                            "train.minibatch",
                                            "train.checkpoint_seconds"};
  auto known = isc::known_keys();
  std::sort(known.begin(), known.end());
  auto want = documented;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(known, want);
}

// Issue 14: `name` names a folder inside results/, so it must be a plain name.
TEST(Config, NameMustBeAPlainFolderName) {
  const std::string net = "[network]\nhidden = [4]\n";
  EXPECT_EQ(error_of("name = \"..\"\n" + net).rfind("exp.toml:1: name: must not start with '.'", 0), 0u);
  EXPECT_EQ(error_of("name = \"../x\"\n" + net).rfind("exp.toml:1: name: must not start with '.'", 0), 0u);
  EXPECT_EQ(error_of("name = \"a/b\"\n" + net).rfind("exp.toml:1: name: must be a plain name without '/'", 0), 0u);
  EXPECT_EQ(error_of("name = \"\"\n" + net), "exp.toml:1: name: must not be empty");
  EXPECT_EQ(error_of("name = \"a\\tb\"\n" + net), "exp.toml:1: name: must not hold control characters (got 'a\\tb')");
  EXPECT_EQ(error_of("name = \"" + std::string(101, 'x') + "\"\n" + net),
            "exp.toml:1: name: must be at most 100 bytes, got 101");
  Overrides ov;
  ov.sets = {"name=\"../../x\""};
  EXPECT_EQ(error_of(net, ov).rfind("--set name=\"../../x\": name: must not start with '.'", 0), 0u);
  EXPECT_EQ(error_of("name = \"" + std::string(100, 'x') + "\"\n" + net), "no error");
  EXPECT_EQ(error_of("name = \"fig 6 (tanh)\"\n" + net), "no error");
}

TEST(Config, AConfigWithoutANetworkIsRefused) {
  EXPECT_EQ(error_of("trials = 4\n"),
            "exp.toml: no [network] table (give at least network.hidden, or network.depth and network.width)");
  EXPECT_EQ(error_of(""), error_of("trials = 4\n"));
  Overrides ov;
  ov.sets = {"network.hidden=[4]"};
  EXPECT_EQ(error_of("trials = 4\n", ov), "no error");
}

TEST(Config, DuplicatePercentilesAreRefused) {
  EXPECT_EQ(error_of("[network]\nhidden = [4]\n[stats]\npercentiles = [1, 50, 50.0]\n"),
            "exp.toml:4: stats.percentiles: 50 appears twice (items 1 and 2): each percentile is one column");
}

TEST(Config, HistogramRangesAreValidatedAsTheFloatsTheyBecome) {
  // 1 and 1.00000001 are two doubles but one float: every bin would have zero width.
  EXPECT_EQ(error_of("[network]\nhidden = [4]\n[stats]\npreactivation_range = [1.0, 1.00000001]\n")
                .rfind("exp.toml:4: stats.preactivation_range: [1, 1] in 100 bins: lo and hi are the same float", 0),
            0u);
  // Distinct floats, but 100000 bins between them cannot all have a width.
  EXPECT_NE(error_of("[network]\nhidden = [4]\n[stats]\nbins = 100000\nactivation_range = [1.0, 1.001]\n")
                .find("has no width as a float"),
            std::string::npos);
  EXPECT_EQ(error_of("[network]\nhidden = [4]\n[stats]\nbins = 100\nactivation_range = [1.0, 1.001]\n"), "no error");
}

// --set is one TOML `key = value` line: spaces, dotted keys, inline tables; it pins swept keys.
TEST(Config, SetParsesAsOneTomlLineAndPinsTheSweep) {
  const std::string text = "[network]\nhidden = [4]\n[sweep]\n\"network.gain\" = [1.0, 2.0]\n";
  Overrides ov;
  ov.sets = {"network.gain =3"};
  auto ex = parse_experiment(text, "exp.toml", ov);
  ASSERT_EQ(ex.points.size(), 1u);
  EXPECT_TRUE(ex.sweep_keys.empty());
  EXPECT_DOUBLE_EQ(ex.points[0].config.network.init.gain, 3.0);
  ov.sets = {"network = {gain = 0.5}"};
  ex = parse_experiment(text, "exp.toml", ov);
  ASSERT_EQ(ex.points.size(), 1u);
  EXPECT_DOUBLE_EQ(ex.points[0].config.network.init.gain, 0.5);
  ov.sets = {"network.init=standard"};  // bare words are a string
  EXPECT_EQ(parse_experiment(text, "exp.toml", ov).points[0].config.network.init_name, "standard");
  ov.sets = {"trials=3\nsamples=5"};
  EXPECT_EQ(error_of(text, ov), "--set trials=3\\nsamples=5: one key = value line only (the value holds a line break)");
  ov.sets = {"sweep.trials=[1,2]"};
  EXPECT_NE(error_of(text, ov).find("--set cannot change the [sweep] table"), std::string::npos);
  ov.sets = {"[network]"};
  EXPECT_NE(error_of(text, ov).find("expected key = value"), std::string::npos);
}

// Gradients binned linearly over [-gradient_max, gradient_max] (the paper's Figures 7 and 8), or
// (the default) in symmetric-log coordinates; the default's identity is unchanged.
TEST(Config, GradientBinsAreLinearOrSymlog) {
  const std::string base = "[network]\nhidden = [4]\n[stats]\nquantities = [\"backprop_gradient\"]\n";
  const auto lin = parse_experiment(base + "gradient_bins = \"linear\"\ngradient_max = 0.5\n", "g.toml");
  EXPECT_TRUE(lin.points[0].config.stats.gradient_linear);
  const StatsSpec s = stats_spec(lin.points[0].config);
  const HistRange& g = s.range[int(Quantity::BackpropGradient)];
  EXPECT_EQ(g.lo, -0.5f);
  EXPECT_EQ(g.hi, 0.5f);
  EXPECT_EQ(g.linthresh, 0.0f);
  const auto sym = parse_experiment(base, "g.toml");
  EXPECT_FALSE(sym.points[0].config.stats.gradient_linear);
  EXPECT_EQ(sym.points[0].id, parse_experiment(base + "gradient_bins = \"symlog\"\n", "g.toml").points[0].id);
  EXPECT_NE(sym.points[0].id, lin.points[0].id);
  EXPECT_EQ(error_of(base + "gradient_bins = \"log\"\n"),
            "exp.toml:5: stats.gradient_bins: unknown value 'log' (valid: symlog linear)");
  EXPECT_NE(error_of(base + "gradient_bins = \"linear\"\ngradient_linthresh = 1e-9\n").find("has no meaning"),
            std::string::npos);
}

// Found by the fuzzer (tests/fuzz/regressions): a float where an integer belongs was converted
// by toml++ with undefined behaviour beyond int64; a range whose bins vanish in float precision.
TEST(Config, HugeFloatsForIntegerKeysAreRefusedWithoutUndefinedBehaviour) {
  EXPECT_EQ(error_of("trials = 1e19\n[network]\nhidden = [1]\n"),
            "exp.toml:1: trials: expected an integer, got a float '1e+19'");
  EXPECT_EQ(error_of("[network]\nhidden = [1e19]\n"),
            "exp.toml:2: network.hidden[0]: expected an integer width, got '1e+19'");
  EXPECT_NE(error_of("[network]\nhidden = [1]\n[stats]\npreactivation_range = [0.0, 1e-45]\n")
                .find("a bin's width is below float precision"),
            std::string::npos);
}

// Percentiles that print alike would name two columns alike (p50, p50).
TEST(Config, PercentilesThatNameTheSameColumnAreRefused) {
  EXPECT_EQ(error_of("[network]\nhidden = [4]\n[stats]\npercentiles = [50, 50.0000001]\n"),
            "exp.toml:4: stats.percentiles: 50 and 50.0000001 would both be column p50 (items 0 and 1); give "
            "percentiles that differ in their first 6 significant digits");
  EXPECT_EQ(error_of("[network]\nhidden = [4]\n[stats]\npercentiles = [50, 50.5]\n"), "no error");
}

TEST(Config, AnExperimentOfTooManyResultPointsIsRefusedWhereItPassesTheLimit) {
  // Each evaluation point of a training run is a result point holding its resolved form; a sweep of
  // 10 trainings of 101 points each passes a limit of 500 at its fifth configuration, and is refused
  // there (before any point is made) with a message that says how to fix it. The default limit
  // (100000) takes it; one training of 10001 points times 10 seeds passes the default.
  const std::string head =
      "trials = 2\nsamples = 4\n[network]\nhidden = [8]\n[data]\nkind = \"shapeset\"\n[train]\n"
      "updates = 100\neval_every = 1\n[sweep]\nseed = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n";
  Overrides ov;
  ov.max_points = 500;
  try {
    parse_experiment(head, "points.toml", ov);
    FAIL() << "1010 points were accepted under a limit of 500";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("more than 500 result points"), std::string::npos) << what;
    EXPECT_NE(what.find("configuration 5 of 10"), std::string::npos) << what;
    EXPECT_NE(what.find("train.eval_every"), std::string::npos) << what;
  }
  EXPECT_EQ(parse_experiment(head, "points.toml").points.size(), 1010u);
  ov.max_points = 1010;
  EXPECT_EQ(parse_experiment(head, "points.toml", ov).points.size(), 1010u);
  ov = {};
  ov.sets = {"train.updates = 10000"};
  EXPECT_THROW(parse_experiment(head, "points.toml", ov), ConfigError);
}

TEST(Config, ALargeSweepIsExpandedOnSeveralThreadsAsOneThreadWouldExpandIt) {
  // 300 configurations are made on several threads (64 or more are); the points, their order and
  // ids must be those of each configuration parsed alone, and the error reported must be the first
  // in sweep order (here the value -2 of configuration 150, not -1 of 170), every time.
  std::string gains;
  for (int i = 0; i < 300; ++i) gains += (i ? ", " : "") + std::to_string(0.5 + 0.01 * i);
  const std::string head = "trials = 2\nsamples = 4\n[network]\ninput = 8\nhidden = [8, 8]\n[sweep]\n";
  const auto ex = parse_experiment(head + "\"network.gain\" = [" + gains + "]\n\"seed\" = [1, 2]\n", "big.toml");
  ASSERT_EQ(ex.points.size(), 600u);
  for (std::size_t i : {std::size_t(0), std::size_t(1), std::size_t(299), std::size_t(598), std::size_t(599)}) {
    Overrides ov;
    ov.sets = {"network.gain = " + std::to_string(0.5 + 0.01 * double(i / 2)), "seed = " + std::to_string(1 + i % 2)};
    const auto alone = parse_experiment(head, "big.toml", ov);
    EXPECT_EQ(ex.points[i].id, alone.points[0].id) << i;
    EXPECT_EQ(ex.points[i].resolved, alone.points[0].resolved) << i;
    EXPECT_EQ(ex.points[i].stream, alone.points[0].stream) << i;
  }
  std::string bad;
  for (int i = 0; i < 300; ++i)
    bad += std::string(i ? ", " : "") + (i == 150 ? "-2.0" : i == 170 ? "-1.0" : std::to_string(0.5 + 0.01 * i));
  for (int rep = 0; rep < 5; ++rep) {
    try {
      parse_experiment(head + "\"network.gain\" = [" + bad + "]\n", "bad.toml");
      FAIL() << "a negative gain was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("got -2"), std::string::npos) << e.what();
    }
  }
}

TEST(Config, TheLimitRefusesASweepTooLargeToExpand) {
  // Expanding holds every configuration at once, and briefly more: under run.memory_limit_mb a sweep
  // whose expansion would not fit is refused before it is expanded, with the count and the estimate.
  // The estimate must cover what the expanded sweep then holds (held_bytes: it is more, by the
  // transient copies) and not be absurd (under 2.5 times that: 100,000 small configurations held
  // 139 MiB and peaked at about 1.6 times that, docs/benchmarks.md). A sweep of 20,000 small
  // configurations, and a trained one of 60 configurations x 201 evaluation points.
  const auto gains = [](int n) {
    std::string g;
    for (int i = 0; i < n; ++i) g += (i ? ", " : "") + std::to_string(0.5 + 1e-5 * i);
    return g;
  };
  const std::string sweep =
      "samples = 4\n[network]\ninput = 8\nhidden = [8, 8]\n[sweep]\n\"network.gain\" = [" + gains(20000) + "]\n";
  const std::string trained =
      "samples = 4\n[data]\nkind = \"shapeset\"\n[network]\ninput = 1024\nhidden = [8]\noutput = 9\n"
      "[train]\nupdates = 400\neval_every = 2\n[sweep]\n\"network.gain\" = [" +
      gains(60) + "]\n";
  for (const auto& [text, what] : {std::pair{&sweep, std::string("20000 configurations need about ")},
                                   std::pair{&trained, std::string("60 configurations (12060 points) need about ")}}) {
    const std::size_t held = held_bytes(parse_experiment(*text, "big.toml"));
    Overrides ov;
    ov.sets = {"run.memory_limit_mb=1"};
    std::size_t estimate_mib = 0;
    try {
      parse_experiment(*text, "big.toml", ov);
      ADD_FAILURE() << what << ": no refusal";
    } catch (const ConfigError& e) {
      const std::string m = e.what();
      const auto at = m.find(what);
      ASSERT_NE(at, std::string::npos) << m;
      estimate_mib = std::stoul(m.substr(at + what.size()));
      EXPECT_NE(m.find("MiB while they are expanded, more than run.memory_limit_mb = 1: sweep fewer values"),
                std::string::npos)
          << m;
    }
    std::printf("  %s: held %.1f MiB, expansion estimated at %zu MiB\n", what.c_str(), double(held) / (1 << 20),
                estimate_mib);
    EXPECT_GE(double(estimate_mib), double(held) / (1 << 20)) << what;
    EXPECT_LE(double(estimate_mib), 2.5 * double(held) / (1 << 20) + 1) << what;
    // A limit above the estimate expands it (the plan then has its own say).
    ov.sets = {"run.memory_limit_mb=" + std::to_string(estimate_mib + 1)};
    EXPECT_NO_THROW(parse_experiment(*text, "big.toml", ov)) << what;
  }
}

TEST(Config, HeldBytesIsWhatTheAllocatorHolds) {
#if !defined(__GLIBC__) || defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "needs glibc's malloc statistics (mallinfo2), which AddressSanitizer replaces";
#else
  // The memory plan counts held_bytes(ex) for the expanded experiment. It is counted from the
  // members' capacities; glibc's count of the bytes in use after expanding must agree within 5 %
  // (a member the count forgets, or a new one that holds heap memory, shows here): a sweep of
  // 3,000 small configurations, a trained one (an evaluation point each 2 updates) and one with
  // long names and many percentiles.
  const std::string sweep = [] {
    std::string gains;
    for (int i = 0; i < 3000; ++i) gains += (i ? ", " : "") + std::to_string(0.5 + 0.001 * i);
    return "samples = 4\n[network]\ninput = 8\nhidden = [8, 8]\n[sweep]\n\"network.gain\" = [" + gains + "]\n";
  }();
  const std::string trained =
      "samples = 4\n[data]\nkind = \"shapeset\"\n[network]\ninput = 1024\nhidden = [8]\noutput = 9\n"
      "[train]\nupdates = 400\neval_every = 2\n"
      "[sweep]\n\"network.activation\" = [\"tanh\", \"relu\", \"sigmoid\"]\n";
  const std::string wordy =
      "name = \"a-rather-long-experiment-name-that-does-not-fit-in-place\"\nsamples = 4\n[network]\ninput = 8\n"
      "hidden = [8, 8, 8, 8, 8, 8]\n[stats]\npercentiles = [1, 2, 5, 10, 25, 50, 75, 90, 95, 98, 99]\n"
      "[sweep]\n\"network.bias\" = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]\n\"seed\" = [1, 2, 3, 4, 5, 6]\n";
  for (const std::string* text : {&sweep, &trained, &wordy}) {
    parse_experiment(*text, "held.toml");  // once first: whatever is made once per process
    const auto in_use = [] {
      const struct mallinfo2 m = mallinfo2();
      return double(m.uordblks) + double(m.hblkhd);
    };
    const double before = in_use();
    const Experiment ex = parse_experiment(*text, "held.toml");
    const double measured = in_use() - before, counted = double(held_bytes(ex));
    std::printf("  %zu points: %.0f bytes held (glibc), %.0f counted\n", ex.points.size(), measured, counted);
    EXPECT_NEAR(counted, measured, 0.05 * measured) << ex.points.size() << " points";
  }
#endif
}
