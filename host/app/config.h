// config.h — one resolved experiment configuration, and parsing/validation of config files.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/backend/types.h"
#include "kernels/activations.h"
#include "kernels/histogram.h"
#include "kernels/init.h"

namespace isc {

// A config error: the message already names the file, line and key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct NetworkConfig {
  int input = 1024;
  std::vector<int> hidden{1000, 1000, 1000, 1000, 1000};
  int output = 10;
  ActivationSpec activation{};  // kind, negative slope, saturation threshold
  InitSpec init{};
  std::string init_name = "xavier_uniform";
  double bias = 0.0;      // constant bias (the mean when bias_std > 0)
  double bias_std = 0.0;  // sigma_b: per-unit biases N(bias, bias_std^2)
};

struct StatsConfig {
  int bins = 100;
  HistRange preactivation_range{-5.0f, 5.0f, 100};
  HistRange activation_range{-1.0f, 1.0f, 100};
  std::vector<double> percentiles{2.0, 50.0, 98.0};
  std::vector<std::string> quantities{"preactivation", "activation"};
  double gradient_linthresh = 1e-10;  // symmetric-log bins for gradients: linear below this
  double gradient_max = 10.0;         // |g| above this is overflow
  bool gradient_linear = false;       // stats.gradient_bins = "linear": equal bins over [-max, max]
  HistRange jacobian_range{0.0f, 4.0f, 100};
  int jacobian_samples = 1;
};

struct RunConfig {
  int threads = 0;              // 0: all cores
  int chunk_trials = 0;         // 0: sized automatically
  int64_t memory_limit_mb = 0;  // 0: from the machine
  bool tf32 = false;            // run.precision = "tf32": TF32 tensor-core GEMMs on CUDA (opt-in)
};

// [train]: T networks per configuration trained by plain SGD on minibatches of the data set
// (examples drawn per trial and update from the pool that follows the `samples` evaluation
// examples), measured at evaluation points 0, eval_every, 2 eval_every, ..., updates. Each
// evaluation point is a point of the sweep (the implicit last key `update`), with its own
// config_id, rows and parts.
struct TrainConfig {
  int64_t updates = 0;             // 0: no training (the at-initialization measurement)
  int64_t eval_every = 0;          // updates between evaluation points
  double learning_rate = 0.01;     // epsilon of theta <- theta - epsilon g
  int minibatch = 10;              // examples per update
  double checkpoint_seconds = 60;  // the least time between two checkpoints of a chunk's parameters
  int64_t update = 0;              // this point's evaluation point (updates done before measuring)
  bool on() const { return updates > 0; }
};

struct OutputConfig {
  bool per_trial = false;  // output.per_trial / --per-trial: trials.csv.gz, one row per (trial, layer, quantity)
};

struct Config {
  std::string name = "experiment";
  uint64_t seed = 1;
  int64_t trials = 16;
  int samples = 256;
  NetworkConfig network;
  DataKind data = DataKind::Gaussian;
  double pair_correlation = 0.0;  // correlation of input pairs (2k, 2k+1), gaussian data only
  // A data set's files (data.kind = "idx": images, labels; "cifar10": files), as absolute paths
  // (relative ones are taken from the config file's folder), and the Shapeset stream's seed.
  struct DataFiles {
    std::string images, labels;
    std::vector<std::string> files;
    uint64_t seed = 0;
    // A separate test set (idx: test_images + test_labels; cifar10: test_files): the evaluation
    // examples (0 .. samples-1) then come from it, and training draws from the whole training set.
    std::string test_images, test_labels;
    std::vector<std::string> test_files;
    bool has_test() const { return !test_images.empty() || !test_files.empty(); }
  } data_files;
  TargetKind targets = TargetKind::Random;
  StatsConfig stats;
  RunConfig run;
  OutputConfig output;
  TrainConfig train;
};

// One configuration of a sweep: the resolved config plus the values of the swept keys.
struct SweepPoint {
  Config config;
  std::vector<std::pair<std::string, std::string>> swept;  // key -> value as written
  std::string resolved;                                    // canonical resolved form, compact JSON text (manifest, id)
  std::string id;                                          // 12 hex digits, hash of the resolved form
  uint64_t stream;                                         // Philox key of this configuration (seed + network + data)
  // Training: the id shared by the evaluation points of one trained configuration (the points of
  // one group are consecutive, in update order); "" without [train].
  std::string train_group;
};

struct Experiment {
  std::string source;                   // file the config came from
  std::vector<std::string> sweep_keys;  // in expansion order
  std::vector<SweepPoint> points;
};

struct Overrides {
  std::optional<int64_t> trials;
  std::optional<uint64_t> seed;
  std::optional<int> threads;
  std::vector<std::string> sets;  // "key=value", value in TOML syntax
  // The most result points (configurations × evaluation points) an experiment may expand to: each
  // holds its configuration and resolved form (about 1.5 KB for a small network: held_bytes), and a
  // sweep beyond it is refused with a message. The fuzzer lowers it to keep every input fast.
  size_t max_points = 100000;
};

// Parses a TOML file (or text, for tests), applies overrides, expands the sweep and validates
// every configuration. Throws ConfigError naming file, line and key.
Experiment load_experiment(const std::string& path, const Overrides& ov = {});
Experiment parse_experiment(const std::string& text, const std::string& source_name, const Overrides& ov = {});

// The resolved form of a configuration built as an nlohmann::json: the readable reference for
// SweepPoint::resolved, which is written as text directly (json_text.h) and equals its dump().
nlohmann::json resolved_json(const Config& c);

// 64-bit FNV-1a of a string (configuration ids, experiment ids).
uint64_t fnv1a(const std::string& s);
// FNV-1a continued over more bytes: fnv1a_more(fnv1a(a), b) == fnv1a(a + b).
uint64_t fnv1a_more(uint64_t h, const std::string& s);

// Bytes the expanded experiment holds for the whole run: its points (configurations, resolved
// forms, swept values) with the allocator's per-block overhead, counted from their members'
// capacities. The memory plan counts them beside each configuration's own (about 1.5 KB a point
// for a small network; a test compares this count with the allocator's).
std::size_t held_bytes(const Experiment& ex);

// The names users write.
const char* to_string(Activation a);
const char* to_string(DataKind d);
std::vector<std::string> known_keys();
std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates);

// What makes `name` unfit to name a folder inside results/ ("" if nothing): empty, longer than
// kMaxNameBytes, starting with '.', holding '/', '\\' or a control character.
constexpr std::size_t kMaxNameBytes = 100;
std::string name_problem(const std::string& name);

}  // namespace isc
