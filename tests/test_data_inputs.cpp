// test_data_inputs.cpp — at-initialization runs on a data set's examples (data.kind = "shapeset", "idx",
// "cifar10"): the config keys and their errors, determinism, the inputs the network sees, and the
// mean-field theory starting from the data's own moments.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/data/shapeset.h"
#include "host/app/data_source.h"
#include "host/app/output.h"
#include "host/app/runner.h"
#include "host/app/theory.h"

using namespace isc;
namespace fs = std::filesystem;

namespace {

const char* kShapeset =
    "trials = 6\nsamples = 20\n[network]\nhidden = [30, 20]\nactivation = \"tanh\"\n"
    "[data]\nkind = \"shapeset\"\nseed = 5\n"
    "[stats]\nquantities = [\"preactivation\", \"activation\", \"backprop_gradient\", \"weight_gradient\"]\n";

std::string config_error(const std::string& toml, const std::string& file = "d.toml") {
  try {
    parse_experiment(toml, file);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// A tiny IDX pair (unsigned-byte images [n, rows, cols] and labels [n]) in `dir`.
void write_idx(const fs::path& dir, int n, int rows, int cols) {
  auto be32 = [](std::ofstream& o, uint32_t v) {
    const unsigned char b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
    o.write(reinterpret_cast<const char*>(b), 4);
  };
  std::ofstream im(dir / "images.idx", std::ios::binary), lb(dir / "labels.idx", std::ios::binary);
  be32(im, 0x803);
  be32(im, uint32_t(n));
  be32(im, uint32_t(rows));
  be32(im, uint32_t(cols));
  for (int i = 0; i < n * rows * cols; ++i) im.put(char((i * 37) % 256));
  be32(lb, 0x801);
  be32(lb, uint32_t(n));
  for (int i = 0; i < n; ++i) lb.put(char(i % 3));
}

}  // namespace

TEST(DataInputs, ShapesetSetsTheNetworksInputAndOutput) {
  const auto ex = parse_experiment(kShapeset, "d.toml");
  const Config& c = ex.points[0].config;
  EXPECT_EQ(c.network.input, 1024);
  EXPECT_EQ(c.network.output, 9);
  const auto resolved = nlohmann::json::parse(ex.points[0].resolved);
  EXPECT_EQ(resolved["data"]["kind"], "shapeset");
  EXPECT_EQ(resolved["data"]["seed"], 5);
  // Another data seed is another experiment (other inputs).
  Overrides ov;
  ov.sets = {"data.seed = 6"};
  EXPECT_NE(parse_experiment(kShapeset, "d.toml", ov).points[0].id, ex.points[0].id);
}

TEST(DataInputs, KeysOfAnotherKindAndMismatchesAreConfigErrors) {
  EXPECT_NE(config_error("[network]\nhidden = [4]\n[data]\nimages = \"x\"\n").find("needs data.kind = \"idx\""),
            std::string::npos);
  EXPECT_NE(config_error("[network]\nhidden = [4]\n[data]\nkind = \"gaussian\"\nseed = 3\n")
                .find("data.seed: needs data.kind = \"shapeset\""),
            std::string::npos);
  EXPECT_NE(config_error("[network]\nhidden = [4]\n[data]\nkind = \"idx\"\n").find("needs data.images and data.labels"),
            std::string::npos);
  EXPECT_NE(config_error("[network]\nhidden = [4]\n[data]\nkind = \"cifar10\"\n").find("needs data.files"),
            std::string::npos);
  const std::string in = config_error("[network]\ninput = 100\nhidden = [4]\n[data]\nkind = \"shapeset\"\n");
  EXPECT_NE(in.find("network.input: is 100, but the examples of shapeset have 1024 values"), std::string::npos) << in;
  const std::string out = config_error("[network]\noutput = 10\nhidden = [4]\n[data]\nkind = \"shapeset\"\n");
  EXPECT_NE(out.find("network.output: is 10, but shapeset has 9 classes"), std::string::npos) << out;
  const std::string t =
      config_error("[network]\nhidden = [4]\n[data]\nkind = \"shapeset\"\n[targets]\nkind = \"teacher\"\n");
  EXPECT_NE(t.find("the data set's labels are the targets"), std::string::npos) << t;
  // A missing file is named, with the config file and line of data.kind.
  const std::string missing = config_error(
      "[network]\nhidden = [4]\n[data]\nkind = \"idx\"\nimages = \"/nonexistent/i.idx\"\n"
      "labels = \"/nonexistent/l.idx\"\n");
  EXPECT_NE(missing.find("d.toml:4"), std::string::npos) << missing;
  EXPECT_NE(missing.find("/nonexistent/i.idx"), std::string::npos) << missing;
  // A device or a folder is refused before it is read (/dev/zero would be read forever).
  const std::string dev =
      config_error("[network]\nhidden = [4]\n[data]\nkind = \"cifar10\"\nfiles = [\"/dev/zero\"]\n");
  EXPECT_NE(dev.find("/dev/zero: not a regular file (a device or pipe)"), std::string::npos) << dev;
  const std::string folder =
      config_error("[network]\nhidden = [4]\n[data]\nkind = \"idx\"\nimages = \"/tmp\"\nlabels = \"/tmp\"\n");
  EXPECT_NE(folder.find("/tmp: not a regular file (a folder)"), std::string::npos) << folder;
}

TEST(DataInputs, IdxPathsAreTakenFromTheConfigFilesFolderAndSamplesMustExist) {
  const fs::path dir = fs::temp_directory_path() / ("initscope_data_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_idx(dir, 12, 3, 4);
  const std::string toml =
      "samples = 8\n[network]\nhidden = [5]\n[data]\nkind = \"idx\"\nimages = \"images.idx\"\n"
      "labels = \"labels.idx\"\n";
  const auto ex = parse_experiment(toml, (dir / "x.toml").string());
  const Config& c = ex.points[0].config;
  EXPECT_EQ(c.network.input, 12);
  EXPECT_EQ(c.network.output, 3);
  EXPECT_EQ(c.data_files.images, (dir / "images.idx").string());
  // The batch is examples 0..7, pixel / 255, and their labels.
  const auto b = data_batch(c);
  ASSERT_EQ(b->x.size(), 8u * 12u);
  for (int i = 0; i < 8 * 12; ++i) EXPECT_EQ(b->x[std::size_t(i)], float((i * 37) % 256) / 255.0f) << i;
  for (int i = 0; i < 8; ++i) EXPECT_EQ(b->labels[std::size_t(i)], float(i % 3));
  const std::string err = config_error("samples = 13\n" + toml.substr(toml.find('\n') + 1), (dir / "x.toml").string());
  EXPECT_NE(err.find("13 samples, but"), std::string::npos) << err;
  EXPECT_NE(err.find("has 12 examples"), std::string::npos) << err;
  fs::remove_all(dir);
}

TEST(DataInputs, EveryTrialSeesTheSameExamplesAndResultsDoNotDependOnThreadsOrChunks) {
  // The network's input statistics are the batch's: per-trial input moments are not measured, but
  // the first layer's pre-activation second moment averages sigma_w^2 E[x^2] over the trials.
  auto run_with = [](int threads, int chunk) {
    Overrides ov;
    ov.sets = {"run.chunk_trials=" + std::to_string(chunk)};
    const auto ex = parse_experiment(kShapeset, "d.toml", ov);
    auto b = make_backend("cpu", {threads});
    const auto r = run_experiment(ex, *b);
    return stats_csv(ex, r) + histograms_csv(ex, r);
  };
  const std::string ref = run_with(1, 6);
  EXPECT_EQ(run_with(2, 1), ref);
  EXPECT_EQ(run_with(2, 4), ref);
  // The batch is Shapeset's examples 0..19 of stream 5, whatever the configuration's seed.
  const auto ex = parse_experiment(kShapeset, "d.toml");
  const auto batch = data_batch(ex.points[0].config);
  std::vector<float> x(1024);
  for (int i = 0; i < 20; ++i) {
    const ShapesetInfo info = shapeset_render(5, uint64_t(i), x.data());
    EXPECT_EQ(batch->labels[std::size_t(i)], float(info.label));
    EXPECT_TRUE(std::equal(x.begin(), x.end(), batch->x.begin() + std::ptrdiff_t(i) * 1024)) << i;
  }
}

TEST(DataInputs, TheoryStartsFromTheDataMoments) {
  // Layer 1's predicted pre-activation variance is sigma_w^2 E[x^2] of the batch, and its predicted
  // pair correlation E[x_a x_b] / E[x^2] (images of non-negative pixels are far from uncorrelated).
  // Over the weights, E[s^2] = sigma_w^2 E[x^2] exactly for these inputs, so the mean over 400 trials
  // of the per-trial pre-activation mean_sq lies within 5 standard errors (trial_std / sqrt(trials))
  // of the prediction.
  Overrides ov;
  ov.trials = 400;
  ov.sets = {"network.hidden=[1000]", "stats.quantities=[\"preactivation\",\"activation\"]"};
  const auto ex = parse_experiment(kShapeset, "d.toml", ov);
  const Config& c = ex.points[0].config;
  const auto batch = data_batch(c);
  const auto th = mean_field(c);
  ASSERT_EQ(th.size(), 1u);
  EXPECT_NEAR(th[0].var_pre, th[0].sigma_w2 * batch->mean_sq, 1e-12);
  EXPECT_NEAR(th[0].c_pre, batch->pair_product / batch->mean_sq, 1e-12);
  EXPECT_GT(th[0].c_pre, 0.3);
  auto b = make_backend("cpu", {});
  const auto r = run_experiment(ex, *b);
  const auto names = statistic_names(r[0].spec, statistic_context(c, int(Quantity::Preactivation)));
  const auto at = std::find(names.begin(), names.end(), "mean_sq") - names.begin();
  const Moments& m = r[0].aggregate(0, int(Quantity::Preactivation)).per_statistic[std::size_t(at)];
  const double se = std::sqrt(variance(m) / m.n);
  EXPECT_NEAR(m.mean, th[0].q_pre, 5 * se) << "standard error " << se;
}
