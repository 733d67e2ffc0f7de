// fuzz_config.cpp — libFuzzer harness over config parsing, --set overrides and sweep expansion
// (isc::parse_experiment), and what the rest of the program derives from an accepted config
// without running it: the statistics spec, column names, histogram binning of every enabled range,
// the configuration ids, and the merge recipe (config text + overrides) re-creating the experiment.
//
// Input format (tests/fuzz/corpus/config/ holds examples):
//
//   <TOML config text>
//   #--set
//   key=value            one --set value per line (the value is TOML, as on the command line)
//   #+more               a line starting with "#+" continues the previous --set value after a newline
//   #--trials=N          --trials N   (taken only in [1, 100000000], as the CLI's check does)
//   #--seed=N            --seed N     (decimal uint64, as the CLI parses it)
//   #--threads=N         --threads N  (taken only in [1, 4096])
//   #--per-trial         --per-trial  (adds output.per_trial=true, as main does)
//
// Everything before the first line that is exactly "#--set" is the config text (a TOML comment, so
// a corpus file is also a valid config). Rejections (anything derived from std::exception: ConfigError
// from parsing, runtime_error from the per-trial column check) are expected and ignored. Crashes,
// sanitizer reports (ASan, UBSan: the build makes UB fatal), hangs (-timeout) and the abort below
// (an accepted experiment that its own merge recipe does not re-create) are findings.
//
// Sweeps that expand to more than kMaxPoints configurations (but not beyond the 100000 that
// parsing refuses) are skipped: every configuration runs the code a small sweep runs, and under the
// sanitizers each costs about a millisecond here (10000: 11 s), so such inputs would only slow the
// fuzzer down and be reported as hangs. For the same reason the limit on result points
// (configurations × training evaluation points, Overrides::max_points) is lowered to kMaxPoints: one
// training with 10000 evaluation points took 8 s here and was reported as a hang; past the limit the
// experiment is refused by the code that refuses it at 100000.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include "host/app/config.h"
#include "host/app/output.h"
#include "host/app/results_dir.h"
#include "host/app/runner.h"
#include "host/app/toml_text.h"
#include "host/backend/stats.h"
#include "kernels/counted.h"
#include "kernels/histogram.h"

namespace {

struct Input {
  std::string text;
  isc::Overrides ov;
};

bool parse_decimal(const std::string& s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
    const uint64_t d = uint64_t(ch - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  if (v > max) return false;
  *out = v;
  return true;
}

Input split(const std::string& data) {
  Input in;
  static const std::string kMarker = "#--set";
  size_t cut = std::string::npos;
  for (size_t pos = 0; pos <= data.size();) {
    const size_t eol = data.find('\n', pos);
    const size_t end = eol == std::string::npos ? data.size() : eol;
    if (data.compare(pos, end - pos, kMarker) == 0) {
      cut = pos;
      break;
    }
    if (eol == std::string::npos) break;
    pos = eol + 1;
  }
  if (cut == std::string::npos) {
    in.text = data;
    return in;
  }
  in.text = data.substr(0, cut);
  size_t pos = cut + kMarker.size() + 1;
  bool per_trial = false;
  while (pos < data.size()) {
    const size_t eol = data.find('\n', pos);
    const std::string line = data.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    pos = eol == std::string::npos ? data.size() : eol + 1;
    uint64_t v = 0;
    if (line.rfind("#+", 0) == 0) {
      if (!in.ov.sets.empty()) in.ov.sets.back() += "\n" + line.substr(2);
    } else if (line.rfind("#--trials=", 0) == 0) {
      if (parse_decimal(line.substr(10), 100000000, &v) && v >= 1) in.ov.trials = int64_t(v);
    } else if (line.rfind("#--seed=", 0) == 0) {
      if (parse_decimal(line.substr(8), std::numeric_limits<uint64_t>::max(), &v)) in.ov.seed = v;
    } else if (line.rfind("#--threads=", 0) == 0) {
      if (parse_decimal(line.substr(11), 4096, &v) && v >= 1) in.ov.threads = int(v);
    } else if (line == "#--per-trial") {
      per_trial = true;
    } else {
      in.ov.sets.push_back(line);
    }
  }
  if (per_trial) in.ov.sets.push_back("output.per_trial=true");
  return in;
}

constexpr uint64_t kMaxPoints = 512;

// The number of configurations the [sweep] table (nested tables included) multiplies out to,
// saturated above 100000; 1 when the text does not parse (parse_experiment then refuses it).
uint64_t sweep_size(const toml::node& n) {
  if (const toml::table* t = n.as_table()) {
    uint64_t total = 1;
    for (const auto& [k, v] : *t) total = std::min<uint64_t>(total * sweep_size(v), 100001);
    return total;
  }
  if (const toml::array* a = n.as_array()) return std::max<uint64_t>(a->size(), 1);
  return 1;
}

uint64_t sweep_size(const std::string& text) {
  try {
    const toml::table root = toml::parse(isc::toml_safe_text(text));  // (as parse_experiment reads it)
    const toml::node* sweep = root.get("sweep");
    return sweep ? sweep_size(*sweep) : 1;
  } catch (const std::exception&) {
    return 1;
  }
}

// What a run derives from one configuration before and while computing, minus the computing.
void exercise_point(const isc::SweepPoint& p) {
  const isc::StatsSpec spec = isc::stats_spec(p.config);
  const auto all = isc::statistics(spec);
  for (int q = 0; q < isc::kQuantities; ++q) {
    if (!spec.enabled[q]) continue;
    isc::StatisticContext ctx;
    ctx.q = isc::Quantity(q);
    ctx.counted = isc::counted_mask(ctx.q, spec.activation);
    ctx.pairs = p.config.samples >= 2;
    (void)isc::statistic_names(spec, ctx);
    for (const auto& s : all)
      if (s.applies(ctx)) (void)s.value(isc::TrialStats{});
    // Bin values in and around the range as both backends do (kernels/histogram.h).
    const isc::HistRange& r = spec.range[q];
    const isc::Binner b = isc::make_binner(r);
    const float probes[] = {
        r.lo,      r.hi, 0.5f * (r.lo + r.hi), 0.0f, -1.0f, 1.0f, r.lo - 1.0f, r.hi + 1.0f, 1e30f, -1e30f, INFINITY,
        -INFINITY, NAN};
    for (float x : probes) {
      const int slot = isc::hist_slot(b, x);
      if (slot < -1 || slot > r.bins + 1) {
        std::fprintf(stderr, "fuzz_config: histogram slot %d outside [-1, %d] for x=%g, range [%g, %g]\n", slot,
                     r.bins + 1, double(x), double(r.lo), double(r.hi));
        std::abort();
      }
    }
    for (int i : {0, 1, r.bins / 2, r.bins - 1, r.bins}) (void)isc::hist_edge(b, i);
  }
  // The resolved text (json_text.h) is what its nlohmann reference dumps, byte for byte.
  if (p.resolved != isc::resolved_json(p.config).dump()) {
    std::fprintf(stderr, "fuzz_config: resolved text %s differs from its reference %s\n", p.resolved.c_str(),
                 isc::resolved_json(p.config).dump().c_str());
    std::abort();
  }
}

// FUZZ_CONFIG_VERBOSE=1: say what became of each input (triage: ./initscope_fuzz_config FILE...).
bool verbose() {
  static const bool v = std::getenv("FUZZ_CONFIG_VERBOSE") != nullptr;
  return v;
}

void run_one(const std::string& data) {
  const Input in = split(data);
  const uint64_t points = sweep_size(in.text);
  if (points > kMaxPoints && points <= 100000) return;  // valid but slow (see the top)
  isc::Experiment ex;
  try {
    isc::Overrides ov = in.ov;
    ov.max_points = kMaxPoints;
    ex = isc::parse_experiment(in.text, "fuzz.toml", ov);
  } catch (const std::exception& e) {
    if (verbose()) std::fprintf(stderr, "fuzz_config: rejected: %s\n", e.what());
    return;  // a rejected config: expected
  }
  if (verbose())
    std::fprintf(stderr, "fuzz_config: accepted: %zu configuration(s), first '%s' id %s\n", ex.points.size(),
                 ex.points.front().config.name.c_str(), ex.points.front().id.c_str());
  for (const auto& p : ex.points) exercise_point(p);
  (void)isc::trials_csv_header(ex);
  try {
    isc::check_trials_columns(ex);
  } catch (const std::exception&) {
  }
  // The merge recipe (results_dir.cpp: parts/experiment.json, read back by read_parts) must
  // re-create the experiment: the config text and overrides through JSON, parsed again.
  const std::string id = isc::experiment_id(ex);
  nlohmann::json recipe = {{"text", in.text}, {"source", "fuzz.toml"}, {"sets", in.ov.sets}};
  std::string stored;
  try {
    stored = recipe.dump();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_config: accepted config whose recipe cannot be stored as JSON: %s\n", e.what());
    std::abort();
  }
  const nlohmann::json back = nlohmann::json::parse(stored);
  isc::Overrides ov = in.ov;
  ov.sets = back.at("sets").get<std::vector<std::string>>();
  std::string again;
  try {
    again = isc::experiment_id(
        isc::parse_experiment(back.at("text").get<std::string>(), back.at("source").get<std::string>(), ov));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_config: accepted config rejected when re-created from its recipe: %s\n", e.what());
    std::abort();
  }
  if (again != id) {
    std::fprintf(stderr, "fuzz_config: recipe re-creates experiment %s, not %s\n", again.c_str(), id.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run_one(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
