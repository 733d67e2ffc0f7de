// config.cpp — TOML config parsing, overrides, sweep expansion and validation.
#include "host/app/config.h"

#include "host/app/data_source.h"
#include "host/app/json_text.h"
#include "host/app/toml_text.h"

#include "host/backend/stats.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include <toml++/toml.h>

namespace isc {
namespace {

std::string where_of(const toml::node& n, const std::string& file) {
  const auto& src = n.source();
  if (src.begin.line > 0) return file + ":" + std::to_string(src.begin.line);
  return file;
}

// A leaf value and where it was written, as the texts it is made of: a message makes the text (a
// sweep copies a swept value's leaf into every configuration's keys, and making each value's text
// beforehand was a tenth of the time it took to expand 1,000 configurations: docs/benchmarks.md).
// The strings it points to live as long as expand() runs.
struct Leaf {
  const toml::node* node = nullptr;
  const std::string* origin = nullptr;  // the config file's name, or "--set key=value"
  const toml::node* line = nullptr;     // whose line follows the file's name (null: none)
  const std::string* swept = nullptr;   // a swept value's key
  std::string where() const {           // "file:line", "--set k=v" or "file:line (sweep key)"
    std::string w = line ? where_of(*line, *origin) : *origin;
    if (swept) w += " (sweep " + *swept + ")";
    return w;
  }
  // The same place for another node (an array's element, reported where the array is).
  Leaf with(const toml::node* n) const { return Leaf{n, origin, line, swept}; }
};
using Flat = std::map<std::string, Leaf, std::less<>>;  // std::less<>: found by a string_view, no copy

void flatten(const toml::table& t, const std::string& prefix, const std::string& file, Flat& out, Flat* sweep) {
  for (const auto& [k, v] : t) {
    const std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (prefix.empty() && sweep && k.str() == "sweep") {  // (a [sweep] table's own "sweep" is a key in it)
      if (!v.is_table()) throw ConfigError(where_of(v, file) + ": 'sweep' must be a table of key = [values]");
      flatten(*v.as_table(), "", file, *sweep, nullptr);
      continue;
    }
    if (v.is_table()) {
      flatten(*v.as_table(), key, file, out, sweep);
    } else {
      out[key] = Leaf{&v, &file, &v, nullptr};
    }
  }
}

// A value as the user wrote it, roughly: what messages and the swept-value columns show. Floats as
// an ostream writes them by default (%g, 6 digits), without one (a stream per value was most of
// the time it took to read a swept key of 1,000 values).
std::string node_text(const toml::node& n) {
  if (auto s = n.as_string()) return s->get();
  if (auto a = n.as_array()) {
    std::string t = "[";
    bool first = true;
    for (const auto& e : *a) {
      if (!first) t += ",";
      first = false;
      t += node_text(e);
    }
    return t + "]";
  }
  if (auto d = n.as_floating_point()) {  // printf's %g, as std::to_chars writes it (C locale), faster
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, d->get(), std::chars_format::general, 6);
    return std::string(buf, r.ptr);
  }
  if (auto i = n.as_integer()) return std::to_string(i->get());
  if (auto b = n.as_boolean()) return b->get() ? "true" : "false";
  return "?";
}

// A string as it can be shown on one line: control characters as \n, \t or \xNN.
std::string printable(const std::string& s) {
  std::string o;
  for (unsigned char ch : s) {
    if (ch == '\n') {
      o += "\\n";
    } else if (ch == '\t') {
      o += "\\t";
    } else if (ch < 0x20 || ch == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", ch);
      o += buf;
    } else {
      o += char(ch);
    }
  }
  return o;
}

// Numbers in messages: integers without exponent, others in shortest form.
std::string fmt_num(double v) {
  char buf[40];
  if (std::fabs(v) < 1e15 && v == std::floor(v))
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t prev = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cur = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
      prev = cur;
    }
  }
  return row[b.size()];
}

const std::vector<std::pair<std::string, Activation>>& activation_names() {
  static const std::vector<std::pair<std::string, Activation>> v = [] {
    std::vector<std::pair<std::string, Activation>> names;
    for (int k = 0; k < kActivations; ++k) names.emplace_back(kActivationNames[k], Activation(k));
    return names;
  }();
  return v;
}

const std::vector<std::pair<std::string, InitScheme>>& init_names() {
  static const std::vector<std::pair<std::string, InitScheme>> v{{"zeros", InitScheme::Zeros},
                                                                 {"constant", InitScheme::Constant},
                                                                 {"uniform", InitScheme::Uniform},
                                                                 {"standard", InitScheme::Standard},
                                                                 {"xavier_uniform", InitScheme::XavierUniform},
                                                                 {"normalized", InitScheme::XavierUniform},
                                                                 {"glorot_uniform", InitScheme::XavierUniform},
                                                                 {"xavier_normal", InitScheme::XavierNormal},
                                                                 {"glorot_normal", InitScheme::XavierNormal},
                                                                 {"lecun_uniform", InitScheme::LecunUniform},
                                                                 {"lecun_normal", InitScheme::LecunNormal},
                                                                 {"he_uniform", InitScheme::HeUniform},
                                                                 {"kaiming_uniform", InitScheme::HeUniform},
                                                                 {"he_normal", InitScheme::HeNormal},
                                                                 {"kaiming_normal", InitScheme::HeNormal}};
  return v;
}

// The first name of a scheme in init_names() is its canonical one (the others are aliases).
const char* canonical_init_name(InitScheme s) {
  for (const auto& [name, scheme] : init_names())
    if (scheme == s) return name.c_str();
  return "?";
}

// Reads typed values out of the flat map, remembering which keys were used and, when asked to,
// every key asked for: build() asks for every key it knows, so that list is the one table of valid
// keys. Keys are string_views of build()'s literals (no string is made per key: a sweep builds
// every configuration, docs/benchmarks.md).
class Reader {
 public:
  Reader(const Flat& f, bool record_asked) : flat_(f), record_(record_asked) {
    used_.reserve(32);
    if (record_) asked_.reserve(128);
    // An open-addressed hash table of the map's keys, at most half full: build() looks up about 70
    // keys per configuration, most of them absent, and the map's string compares were a fifth of the
    // time it took to build one (docs/benchmarks.md).
    std::size_t n = 16;
    while (n < 2 * flat_.size()) n *= 2;
    slots_.assign(n, Slot{});
    for (const auto& kv : flat_) {
      const std::size_t h = hash_of(kv.first);
      std::size_t i = h & (n - 1);
      while (slots_[i].entry) i = (i + 1) & (n - 1);
      slots_[i] = Slot{h, &kv};
    }
  }

  // Thrown by reject_unknown() when a key is unknown and the keys asked for were not recorded:
  // build() then builds again, recording them, to name the nearest valid key.
  struct Unrecorded {};

  const Leaf* find(std::string_view key) {
    if (record_) asked_.emplace_back(key);  // repeats are dropped by asked()
    const Leaf* l = get(key);
    if (l) used_.push_back(l);
    return l;
  }
  // Whether the key is given (without counting it as used).
  bool has(std::string_view key) const { return get(key) != nullptr; }
  [[noreturn]] void fail(const Leaf& l, std::string_view key, const std::string& msg) const {
    throw ConfigError(l.where() + ": " + std::string(key) + ": " + msg);
  }

  std::optional<int64_t> integer(std::string_view key, int64_t lo, int64_t hi) {
    const Leaf* l = find(key);
    if (!l) return std::nullopt;
    // is_integer() first: toml++'s value<int64_t>() casts a float node, undefined beyond int64.
    const auto v = l->node->is_integer() ? l->node->value<int64_t>() : std::nullopt;
    if (!v) fail(*l, key, "expected an integer, got " + type_name(*l->node) + " '" + node_text(*l->node) + "'");
    if (*v < lo || *v > hi)
      fail(*l, key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(*v));
    return *v;
  }
  std::optional<double> number(std::string_view key, double lo, double hi, bool lo_open = false) {
    const Leaf* l = find(key);
    if (!l) return std::nullopt;
    return number_of(*l, key, lo, hi, lo_open);
  }
  double number_of(const Leaf& l, std::string_view key, double lo, double hi, bool lo_open) const {
    if (!l.node->is_number())
      fail(l, key, "expected a number, got " + type_name(*l.node) + " '" + node_text(*l.node) + "'");
    const double v = *l.node->value<double>();
    if (!std::isfinite(v) || v < lo || v > hi || (lo_open && v == lo)) {
      fail(l, key,
           std::string("must be a finite number in ") + (lo_open ? "(" : "[") + fmt_num(lo) + ", " + fmt_num(hi) +
               "], got " + fmt_num(v));
    }
    return v;
  }
  std::optional<std::string> string(std::string_view key) {
    const Leaf* l = find(key);
    if (!l) return std::nullopt;
    if (!l->node->is_string())
      fail(*l, key, "expected a string, got " + type_name(*l->node) + " '" + node_text(*l->node) + "'");
    return *l->node->value<std::string>();
  }
  std::optional<bool> boolean(std::string_view key) {
    const Leaf* l = find(key);
    if (!l) return std::nullopt;
    if (!l->node->is_boolean())
      fail(*l, key, "expected true or false, got " + type_name(*l->node) + " '" + node_text(*l->node) + "'");
    return *l->node->value<bool>();
  }
  const toml::array* array(std::string_view key) {
    const Leaf* l = find(key);
    if (!l) return nullptr;
    if (!l->node->is_array())
      fail(*l, key, "expected an array, got " + type_name(*l->node) + " '" + node_text(*l->node) + "'");
    return l->node->as_array();
  }
  const Leaf& leaf(std::string_view key) const {
    const auto it = flat_.find(key);
    if (it == flat_.end()) throw std::out_of_range("config: no key " + std::string(key));
    return it->second;
  }

  // Rejects every key nobody asked for, suggesting the nearest valid one.
  void reject_unknown() const {
    std::vector<const Leaf*> used = used_;
    std::sort(used.begin(), used.end());
    for (const auto& [k, l] : flat_) {
      // find() marks every key it finds: one not marked was never asked for
      if (std::binary_search(used.begin(), used.end(), &l)) continue;
      if (!record_) throw Unrecorded{};
      throw ConfigError(l.where() + ": unknown key '" + k + "' (did you mean '" + nearest_name(k, asked()) + "'?)");
    }
  }
  // Every key asked for, once each, in the order first asked (recorded only when asked to).
  std::vector<std::string> asked() const {
    std::vector<std::string> once;
    std::set<std::string> seen;
    for (const auto& k : asked_)
      if (seen.insert(k).second) once.push_back(k);
    return once;
  }

  static std::string type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a float";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::array: return "an array";
      case toml::node_type::table: return "a table";
      default: return "a date/time";
    }
  }

 private:
  struct Slot {
    std::size_t hash = 0;
    const Flat::value_type* entry = nullptr;  // null: empty
  };
  // A short key's hash, eight bytes at a time (std::hash's was a tenth of the time build() took).
  static std::size_t hash_of(std::string_view k) {
    uint64_t h = k.size() * 0x9E3779B97F4A7C15ull;
    std::size_t i = 0;
    for (; i + 8 <= k.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, k.data() + i, 8);
      h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    }
    uint64_t w = 0;
    if (k.size() >= 8)  // the last eight bytes (overlapping the ones before)
      std::memcpy(&w, k.data() + k.size() - 8, 8);
    else
      for (; i < k.size(); ++i) w = (w << 8) | uint8_t(k[i]);
    h = (h ^ w) * 0x94D049BB133111EBull;
    return std::size_t(h ^ (h >> 31));
  }
  const Leaf* get(std::string_view key) const {
    const std::size_t h = hash_of(key), mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& sl = slots_[i];
      if (!sl.entry) return nullptr;
      if (sl.hash == h && sl.entry->first == key) return &sl.entry->second;
    }
  }
  const Flat& flat_;
  const bool record_;
  std::vector<Slot> slots_;
  std::vector<const Leaf*> used_;   // the leaves find() found (repeats allowed)
  std::vector<std::string> asked_;  // in the order build() asks, with repeats (when record_)
};

template <class E>
E enum_value(Reader& r, std::string_view key, const std::string& value,
             const std::vector<std::pair<std::string, E>>& names) {
  for (const auto& [n, e] : names)
    if (n == value) return e;
  std::vector<std::string> cands;
  std::string list;
  for (const auto& p : names) {
    cands.push_back(p.first);
    list += (list.empty() ? "" : " ") + p.first;
  }
  r.fail(r.leaf(key), key,
         "unknown value '" + value + "' (did you mean '" + nearest_name(value, cands) + "'? valid: " + list + ")");
}

HistRange read_range(Reader& r, std::string_view key, HistRange def) {
  const toml::array* a = r.array(key);
  if (!a) return def;
  const Leaf& l = r.leaf(key);
  if (a->size() != 2) r.fail(l, key, "expected [lo, hi], got " + node_text(*l.node));
  const double lo = r.number_of(l.with(a->get(0)), std::string(key) + "[0]", -1e30, 1e30, false);
  const double hi = r.number_of(l.with(a->get(1)), std::string(key) + "[1]", -1e30, 1e30, false);
  if (!(hi > lo)) r.fail(l, key, "needs lo < hi, got " + node_text(*l.node));
  return HistRange{float(lo), float(hi), def.bins};
}

HistRange default_activation_range(Activation a) {
  return with_activation(a, [](auto k) {
    using A = Act<decltype(k)::value>;
    return HistRange{A::kRangeLo, A::kRangeHi, 0};
  });
}

float default_saturation_threshold(Activation a) {
  return with_activation(a, [](auto k) { return Act<decltype(k)::value>::kThreshold; });
}

}  // namespace

std::string name_problem(const std::string& name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > kMaxNameBytes)
    return "must be at most " + std::to_string(kMaxNameBytes) + " bytes, got " + std::to_string(name.size());
  if (name[0] == '.')
    return "must not start with '.' (got '" + printable(name) + "'): it names a folder inside results/";
  for (unsigned char ch : name) {
    if (ch == '/' || ch == '\\')
      return "must be a plain name without '/' or '\\' (got '" + printable(name) +
             "'): it names a folder inside results/";
    if (ch < 0x20 || ch == 0x7f) return "must not hold control characters (got '" + printable(name) + "')";
  }
  return "";
}

namespace {

// A data set's keys (data.seed, data.images, data.labels, data.files), each only with the kind it
// belongs to; relative paths are taken from the config file's folder. For a data set, the data set
// is opened here, so that a missing or damaged file is a config error naming it, and the network's
// input and output default to (and must match) its example size and class count.
void read_data_files(Reader& r, const std::string& base_dir, Config& c) {
  auto path = [&](const std::string& p) {
    return p.empty() || p[0] == '/' || base_dir.empty() ? p : base_dir + "/" + p;
  };
  auto only = [&](const char* key, DataKind kind, const char* kind_name) {
    if (r.has(key) && c.data != kind) r.fail(r.leaf(key), key, std::string("needs data.kind = \"") + kind_name + "\"");
  };
  Config::DataFiles& f = c.data_files;
  f.seed = static_cast<uint64_t>(r.integer("data.seed", 0, std::numeric_limits<int64_t>::max()).value_or(0));
  if (auto s = r.string("data.images")) f.images = path(*s);
  if (auto s = r.string("data.labels")) f.labels = path(*s);
  auto files_of = [&](const char* key, std::vector<std::string>* out) {
    if (const toml::array* a = r.array(key))
      for (const auto& e : *a) {
        if (!e.is_string()) r.fail(r.leaf(key), key, "expected an array of file names (strings)");
        out->push_back(path(*e.value<std::string>()));
      }
  };
  files_of("data.files", &f.files);
  if (auto s = r.string("data.test_images")) f.test_images = path(*s);
  if (auto s = r.string("data.test_labels")) f.test_labels = path(*s);
  files_of("data.test_files", &f.test_files);
  only("data.seed", DataKind::Shapeset, "shapeset");
  only("data.images", DataKind::Idx, "idx");
  only("data.labels", DataKind::Idx, "idx");
  only("data.test_images", DataKind::Idx, "idx");
  only("data.test_labels", DataKind::Idx, "idx");
  only("data.files", DataKind::Cifar10, "cifar10");
  only("data.test_files", DataKind::Cifar10, "cifar10");
  if (f.test_images.empty() != f.test_labels.empty())
    r.fail(r.leaf(f.test_images.empty() ? "data.test_labels" : "data.test_images"),
           f.test_images.empty() ? "data.test_labels" : "data.test_images",
           "data.test_images and data.test_labels go together (the test set's IDX files)");
  if (r.has("data.test_files") && f.test_files.empty())
    r.fail(r.leaf("data.test_files"), "data.test_files", "needs at least one file");
  if (drawn_input(c.data)) return;
  const Leaf& kind = r.leaf("data.kind");
  if (c.data == DataKind::Idx && (f.images.empty() || f.labels.empty()))
    r.fail(kind, "data.kind", "\"idx\" needs data.images and data.labels (IDX files, plain or .gz)");
  if (c.data == DataKind::Cifar10 && f.files.empty())
    r.fail(kind, "data.kind", "\"cifar10\" needs data.files (CIFAR-10 binary batches, e.g. test_batch.bin)");
  std::shared_ptr<const Dataset> d;
  try {
    d = dataset_of(c.data, f);
  } catch (const std::exception& e) {
    r.fail(kind, "data", e.what());
  }
  NetworkConfig& n = c.network;
  if (r.has("network.input") && n.input != d->input())
    r.fail(r.leaf("network.input"), "network.input",
           "is " + std::to_string(n.input) + ", but the examples of " + d->name() + " have " +
               std::to_string(d->input()) + " values (leave it out to take it from the data)");
  if (r.has("network.output") && n.output != d->classes())
    r.fail(r.leaf("network.output"), "network.output",
           "is " + std::to_string(n.output) + ", but " + d->name() + " has " + std::to_string(d->classes()) +
               " classes (leave it out to take it from the data)");
  n.input = d->input();
  n.output = d->classes();
  std::shared_ptr<const Dataset> e = d;  // where the evaluation examples come from
  if (f.has_test()) {
    const Leaf& where = r.leaf(r.has("data.test_files") ? "data.test_files" : "data.test_images");
    try {
      e = eval_dataset_of(c);
    } catch (const std::exception& x) {
      r.fail(where, "data", x.what());
    }
    if (e->input() != d->input() || e->classes() > d->classes())
      r.fail(where, r.has("data.test_files") ? "data.test_files" : "data.test_images",
             "the test set " + e->name() + " has examples of " + std::to_string(e->input()) + " values and " +
                 std::to_string(e->classes()) + " classes, the training set " + d->name() + " " +
                 std::to_string(d->input()) + " and " + std::to_string(d->classes()));
  }
  if (e->size() > 0 && uint64_t(c.samples) > e->size())
    r.fail(
        r.has("samples") ? r.leaf("samples") : kind, "samples",
        std::to_string(c.samples) + " samples, but " + e->name() + " has " + std::to_string(e->size()) + " examples");
  if (r.has("targets.kind"))
    r.fail(r.leaf("targets.kind"), "targets.kind", "the data set's labels are the targets; leave it out");
}

// [train]: its keys, each checked; training needs a data set (the labels are what is learnt) and
// starts from biases 0 (the paper's), so network.bias and network.bias_std are refused with it.
void read_train(Reader& r, Config& c) {
  TrainConfig& t = c.train;
  t.updates = r.integer("train.updates", 0, int64_t(1) << 40).value_or(0);
  t.eval_every = r.integer("train.eval_every", 0, int64_t(1) << 40).value_or(0);
  t.learning_rate = r.number("train.learning_rate", 0.0, 1e6, true).value_or(0.01);
  t.minibatch = static_cast<int>(r.integer("train.minibatch", 1, 1 << 20).value_or(10));
  t.checkpoint_seconds = r.number("train.checkpoint_seconds", 0.0, 1e9).value_or(60.0);
  if (!t.on()) {
    for (const char* k : {"train.eval_every", "train.learning_rate", "train.minibatch", "train.checkpoint_seconds"})
      if (r.has(k)) r.fail(r.leaf(k), k, "needs train.updates (the number of SGD updates)");
    return;
  }
  const Leaf& u = r.leaf("train.updates");
  if (t.eval_every == 0) t.eval_every = std::max<int64_t>(1, t.updates / 10);
  if (t.eval_every > t.updates)
    r.fail(r.leaf("train.eval_every"), "train.eval_every",
           "is " + std::to_string(t.eval_every) + ", more than train.updates (" + std::to_string(t.updates) + ")");
  if ((t.updates + t.eval_every - 1) / t.eval_every > 10000)
    r.fail(u, "train.updates", "more than 10000 evaluation points; raise train.eval_every");
  if (drawn_input(c.data))
    r.fail(u, "train.updates", "training needs a data set to learn: data.kind = \"shapeset\", \"idx\" or \"cifar10\"");
  const std::shared_ptr<const Dataset> d = dataset_of(c.data, c.data_files);
  if (d->size() > 0 && d->size() <= held_out_examples(c))
    r.fail(u, "train.updates",
           d->name() + " has " + std::to_string(d->size()) + " examples: the first `samples` (" +
               std::to_string(c.samples) + ") are the evaluation set, and none would be left to train on");
  for (const char* k : {"network.bias", "network.bias_std"})
    if (r.has(k)) r.fail(r.leaf(k), k, "training starts from biases 0 (leave it out with [train])");
  if (c.output.per_trial)
    throw ConfigError(u.where() +
                      ": train.updates: per-trial rows (--per-trial, output.per_trial) are not written "
                      "for training runs; stats.csv has every statistic across trials");
}

// The configuration from a flat key map; `asked`, if given, receives every key build() knows.
// `record`: the Reader records the keys asked for (to name the nearest one to an unknown key).
Config build_once(const Flat& flat, const std::string& default_name, std::vector<std::string>* asked,
                  const std::string& base_dir, bool record) {
  // (flat is also consulted directly for cross-key checks below)
  Reader r(flat, record);
  Config c;
  c.name = r.string("name").value_or(default_name);
  if (const std::string why = name_problem(c.name); !why.empty()) {
    if (r.has("name")) throw ConfigError(r.leaf("name").where() + ": name: " + why);
    throw ConfigError("name: the config file's name gives '" + printable(c.name) + "', which " + why +
                      "; set name = \"...\" in the file");
  }
  c.seed = static_cast<uint64_t>(r.integer("seed", 0, std::numeric_limits<int64_t>::max()).value_or(1));
  c.trials = r.integer("trials", 1, 100000000).value_or(16);
  c.samples = static_cast<int>(r.integer("samples", 1, 1 << 24).value_or(256));

  NetworkConfig& n = c.network;
  n.input = static_cast<int>(r.integer("network.input", 1, 1 << 24).value_or(1024));
  n.output = static_cast<int>(r.integer("network.output", 1, 1 << 24).value_or(10));
  const toml::array* hidden = r.array("network.hidden");
  auto depth = r.integer("network.depth", 1, kMaxLayers);
  auto width = r.integer("network.width", 1, 1 << 24);
  if (hidden) {
    const Leaf& l = r.leaf("network.hidden");
    if (depth || width)
      r.fail(l, "network.hidden", "give either network.hidden or network.depth + network.width, not both");
    if (hidden->empty()) r.fail(l, "network.hidden", "needs at least one hidden layer");
    if (hidden->size() > size_t(kMaxLayers))
      r.fail(l, "network.hidden",
             "at most " + std::to_string(kMaxLayers) + " hidden layers, got " + std::to_string(hidden->size()));
    n.hidden.clear();
    for (size_t i = 0; i < hidden->size(); ++i) {
      const toml::node& e = *hidden->get(i);
      const std::string k = "network.hidden[" + std::to_string(i) + "]";
      const auto v = e.is_integer() ? e.value<int64_t>() : std::nullopt;  // see Reader::integer
      if (!v) r.fail(l, k, "expected an integer width, got '" + node_text(e) + "'");
      if (*v < 1 || *v > (1 << 24)) r.fail(l, k, "width must be in [1, 16777216], got " + std::to_string(*v));
      n.hidden.push_back(static_cast<int>(*v));
    }
  } else if (depth || width) {
    if (!depth || !width)
      throw ConfigError(r.leaf(depth ? "network.depth" : "network.width").where() +
                        ": network.depth and network.width go together (or use network.hidden)");
    n.hidden.assign(static_cast<size_t>(*depth), static_cast<int>(*width));
  }

  if (auto a = r.string("network.activation"))
    n.activation.kind = enum_value(r, "network.activation", *a, activation_names());
  n.activation.slope = float(r.number("network.negative_slope", 0.0, 1.0).value_or(0.01));
  if (auto s = r.string("network.init")) {
    n.init.scheme = enum_value(r, "network.init", *s, init_names());
  }
  n.init_name = canonical_init_name(n.init.scheme);
  n.init.gain = r.number("network.gain", 0.0, 1e6).value_or(1.0);
  n.init.value = r.number("network.init_value", -1e6, 1e6).value_or(0.01);
  n.init.bound = r.number("network.init_bound", 0.0, 1e6).value_or(0.01);
  n.init.slope = n.activation.kind == Activation::LeakyRelu ? n.activation.slope : 0.0;
  n.bias = r.number("network.bias", -1e6, 1e6).value_or(0.0);
  n.bias_std = r.number("network.bias_std", 0.0, 1e6).value_or(0.0);

  if (auto d = r.string("data.kind")) {
    c.data = enum_value(r, "data.kind", *d,
                        std::vector<std::pair<std::string, DataKind>>{{"gaussian", DataKind::Gaussian},
                                                                      {"uniform", DataKind::Uniform},
                                                                      {"shapeset", DataKind::Shapeset},
                                                                      {"idx", DataKind::Idx},
                                                                      {"cifar10", DataKind::Cifar10}});
  }
  read_data_files(r, base_dir, c);

  c.pair_correlation = r.number("data.pair_correlation", -1.0, 1.0).value_or(0.0);
  if (c.pair_correlation != 0.0 && c.data != DataKind::Gaussian)
    r.fail(r.leaf("data.pair_correlation"), "data.pair_correlation", "needs data.kind = \"gaussian\"");
  StatsConfig& s = c.stats;
  s.bins = static_cast<int>(r.integer("stats.bins", 1, 100000).value_or(100));
  s.preactivation_range = read_range(r, "stats.preactivation_range", HistRange{-5.0f, 5.0f, 0});
  s.activation_range = read_range(r, "stats.activation_range", default_activation_range(n.activation.kind));
  s.preactivation_range.bins = s.activation_range.bins = s.bins;
  if (const toml::array* p = r.array("stats.percentiles")) {
    const Leaf& l = r.leaf("stats.percentiles");
    s.percentiles.clear();
    for (size_t i = 0; i < p->size(); ++i)
      s.percentiles.push_back(
          r.number_of(l.with(p->get(i)), "stats.percentiles[" + std::to_string(i) + "]", 0.0, 100.0, false));
    if (s.percentiles.size() > 32) r.fail(l, "stats.percentiles", "at most 32 percentiles");
    auto exact = [](double v) {
      char b[32];
      std::snprintf(b, sizeof b, "%.10g", v);
      return std::string(b);
    };
    for (size_t i = 0; i < s.percentiles.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (s.percentiles[i] == s.percentiles[j])
          r.fail(l, "stats.percentiles",
                 fmt_num(s.percentiles[i]) + " appears twice (items " + std::to_string(j) + " and " +
                     std::to_string(i) + "): each percentile is one column");
        else if (percentile_name(s.percentiles[i]) == percentile_name(s.percentiles[j]))
          r.fail(l, "stats.percentiles",
                 exact(s.percentiles[j]) + " and " + exact(s.percentiles[i]) + " would both be column " +
                     percentile_name(s.percentiles[i]) + " (items " + std::to_string(j) + " and " + std::to_string(i) +
                     "); give percentiles that differ in their first 6 significant digits");
  }
  if (const toml::array* q = r.array("stats.quantities")) {
    const Leaf& l = r.leaf("stats.quantities");
    s.quantities.clear();
    std::vector<std::string> valid;
    for (int qi = 0; qi < kQuantities; ++qi) valid.push_back(to_string(Quantity(qi)));
    for (size_t i = 0; i < q->size(); ++i) {
      const toml::node& e = *q->get(i);
      const std::string k = "stats.quantities[" + std::to_string(i) + "]";
      if (!e.is_string()) r.fail(l, k, "expected a quantity name, got '" + node_text(e) + "'");
      std::string v = *e.value<std::string>();
      if (v == "jacobian") v = "jacobian_singular_value";
      if (std::find(valid.begin(), valid.end(), v) == valid.end())
        r.fail(l, k, "unknown quantity '" + v + "' (did you mean '" + nearest_name(v, valid) + "'?)");
      if (std::find(s.quantities.begin(), s.quantities.end(), v) == s.quantities.end()) s.quantities.push_back(v);
    }
    if (s.quantities.empty()) r.fail(l, "stats.quantities", "needs at least one quantity");
  }
  if (const auto gb = r.string("stats.gradient_bins")) {
    if (*gb != "symlog" && *gb != "linear")
      r.fail(r.leaf("stats.gradient_bins"), "stats.gradient_bins",
             "unknown value '" + *gb + "' (valid: symlog linear)");
    s.gradient_linear = *gb == "linear";
  }
  if (s.gradient_linear && r.has("stats.gradient_linthresh"))
    r.fail(r.leaf("stats.gradient_linthresh"), "stats.gradient_linthresh",
           "has no meaning with stats.gradient_bins = \"linear\" (bins of equal width in g over "
           "[-gradient_max, gradient_max])");
  s.gradient_linthresh = r.number("stats.gradient_linthresh", 1e-30, 1e30, true).value_or(1e-10);
  s.gradient_max = r.number("stats.gradient_max", 0.0, 1e30, true).value_or(10.0);
  if (!s.gradient_linear && s.gradient_max <= s.gradient_linthresh)
    r.fail(r.leaf(r.has("stats.gradient_max") ? "stats.gradient_max" : "stats.gradient_linthresh"),
           "stats.gradient_max", "must exceed stats.gradient_linthresh");
  s.jacobian_range = read_range(r, "stats.jacobian_range", HistRange{0.0f, 4.0f, 0});
  s.jacobian_range.bins = s.bins;
  // The ranges as the floats the histograms use: every bin must have a width.
  for (const auto& [key, range] :
       {std::pair<const char*, const HistRange*>{"stats.preactivation_range", &s.preactivation_range},
        {"stats.activation_range", &s.activation_range},
        {"stats.jacobian_range", &s.jacobian_range}}) {
    // (a sweep's configurations mostly share their ranges: the last ones found good are not checked
    // bin by bin again, on this thread)
    thread_local std::array<HistRange, 3> good{HistRange{0, 0, 0, 0}, HistRange{0, 0, 0, 0}, HistRange{0, 0, 0, 0}};
    thread_local std::size_t next_good = 0;  // (bins 0: no range yet; stats.bins is at least 1)
    const HistRange& checked = *range;       // (a lambda cannot capture a structured binding in C++17)
    const auto same = [&checked](const HistRange& g) {
      return g.bins == checked.bins && g.lo == checked.lo && g.hi == checked.hi && g.linthresh == checked.linthresh;
    };
    if (std::any_of(good.begin(), good.end(), same)) continue;
    const Binner b = make_binner(*range);
    bool ok = range->hi > range->lo && std::isfinite(b.width) && b.width > 0.0f && std::isfinite(b.scale);
    int bad = -1;
    for (int i = 0; ok && i < b.bins; ++i)
      if (!(hist_edge(b, i + 1) > hist_edge(b, i))) {
        ok = false;
        bad = i;
      }
    if (ok) {
      good[next_good] = *range;
      next_good = (next_good + 1) % good.size();
    }
    if (!ok) {
      const std::string where =
          r.has(key) ? flat.at(key).where() : (r.has("stats.bins") ? flat.at("stats.bins").where() : "stats");
      throw ConfigError(where + ": " + key + ": [" + fmt_num(range->lo) + ", " + fmt_num(range->hi) + "] in " +
                        std::to_string(b.bins) + " bins: " +
                        (bad >= 0                   ? "bin " + std::to_string(bad) + " has no width as a float"
                         : !(range->hi > range->lo) ? std::string("lo and hi are the same float")
                                                    : std::string("a bin's width is below float precision")) +
                        " (the histograms bin in float precision); widen the range or use fewer bins");
    }
  }
  s.jacobian_samples = static_cast<int>(r.integer("stats.jacobian_samples", 1, 1 << 24).value_or(1));
  if (s.jacobian_samples > c.samples && r.has("stats.jacobian_samples"))
    r.fail(r.leaf("stats.jacobian_samples"), "stats.jacobian_samples",
           "cannot exceed samples (" + std::to_string(c.samples) + ")");
  s.jacobian_samples = std::min(s.jacobian_samples, c.samples);
  if (auto t = r.string("targets.kind")) {
    c.targets = enum_value(r, "targets.kind", *t,
                           std::vector<std::pair<std::string, TargetKind>>{{"random", TargetKind::Random},
                                                                           {"teacher", TargetKind::Teacher}});
  }
  n.activation.threshold = float(r.number("stats.saturation_threshold", 0.5, 1.0, false)
                                     .value_or(default_saturation_threshold(n.activation.kind)));

  c.run.threads = static_cast<int>(r.integer("run.threads", 0, 4096).value_or(0));
  c.run.chunk_trials = static_cast<int>(r.integer("run.chunk_trials", 0, 1 << 30).value_or(0));
  c.run.memory_limit_mb = r.integer("run.memory_limit_mb", 0, int64_t(1) << 40).value_or(0);
  if (auto p = r.string("run.precision"))
    c.run.tf32 =
        enum_value(r, "run.precision", *p, std::vector<std::pair<std::string, bool>>{{"fp32", false}, {"tf32", true}});
  c.output.per_trial = r.boolean("output.per_trial").value_or(false);
  read_train(r, c);
  r.reject_unknown();
  if (asked) *asked = r.asked();
  return c;
}

Config build(const Flat& flat, const std::string& default_name, std::vector<std::string>* asked = nullptr,
             const std::string& base_dir = "") {
  try {
    return build_once(flat, default_name, asked, base_dir, asked != nullptr);
  } catch (const Reader::Unrecorded&) {  // an unknown key: again, to name the nearest known one
    return build_once(flat, default_name, asked, base_dir, true);
  }
}

}  // namespace

nlohmann::json resolved_json(const Config& c) {
  nlohmann::json j;
  j["name"] = c.name;
  j["seed"] = c.seed;
  j["trials"] = c.trials;
  j["samples"] = c.samples;
  const auto& n = c.network;
  j["network"] = {{"input", n.input},
                  {"hidden", n.hidden},
                  {"output", n.output},
                  {"activation", to_string(n.activation.kind)},
                  {"negative_slope", n.activation.slope},
                  {"init", n.init_name},
                  {"gain", n.init.gain},
                  {"init_value", n.init.value},
                  {"init_bound", n.init.bound},
                  {"bias", n.bias},
                  {"bias_std", n.bias_std}};
  if (c.run.tf32) j["precision"] = "tf32";  // changes CUDA results, so part of the identity
  j["data"] = {{"kind", to_string(c.data)}};
  if (c.pair_correlation != 0.0) j["data"]["pair_correlation"] = c.pair_correlation;
  if (c.data == DataKind::Shapeset) j["data"]["seed"] = c.data_files.seed;
  if (c.data == DataKind::Idx) {
    j["data"]["images"] = c.data_files.images;
    j["data"]["labels"] = c.data_files.labels;
  }
  if (c.data == DataKind::Cifar10) j["data"]["files"] = c.data_files.files;
  if (c.data_files.has_test()) {  // only then: the ids of runs without a test set stay as they were
    if (c.data == DataKind::Idx) {
      j["data"]["test_images"] = c.data_files.test_images;
      j["data"]["test_labels"] = c.data_files.test_labels;
    } else {
      j["data"]["test_files"] = c.data_files.test_files;
    }
  }
  j["stats"] = {{"bins", c.stats.bins},
                {"preactivation_range", {c.stats.preactivation_range.lo, c.stats.preactivation_range.hi}},
                {"activation_range", {c.stats.activation_range.lo, c.stats.activation_range.hi}},
                {"percentiles", c.stats.percentiles},
                {"saturation_threshold", n.activation.threshold},
                {"quantities", c.stats.quantities}};
  const auto& q = c.stats.quantities;
  const bool backward = std::any_of(
      q.begin(), q.end(), [](const std::string& x) { return x == "backprop_gradient" || x == "weight_gradient"; });
  if (backward) {
    if (c.stats.gradient_linear)  // only then: the ids of symlog configurations stay as they were
      j["stats"]["gradient_bins"] = "linear";
    else
      j["stats"]["gradient_linthresh"] = c.stats.gradient_linthresh;
    j["stats"]["gradient_max"] = c.stats.gradient_max;
    j["targets"] = {{"kind", c.targets == TargetKind::Random ? "random" : "teacher"}};
  }
  if (std::find(q.begin(), q.end(), "jacobian_singular_value") != q.end()) {
    j["stats"]["jacobian_range"] = {c.stats.jacobian_range.lo, c.stats.jacobian_range.hi};
    j["stats"]["jacobian_samples"] = c.stats.jacobian_samples;
  }
  if (c.train.on())
    j["train"] = {{"updates", c.train.updates},
                  {"eval_every", c.train.eval_every},
                  {"learning_rate", c.train.learning_rate},
                  {"minibatch", c.train.minibatch},
                  {"update", c.train.update}};
  return j;
}

namespace {

// The resolved form as text, member for member what resolved_json() builds (a test compares the two
// over every shipped experiment and more): the texts finish_point() needs, each made once.
struct ResolvedText {
  std::string full;     // the resolved form (the manifest's "resolved")
  std::string id;       // without name and trials: what the config_id hashes
  std::string group;    // without name, trials and train.update: what the training group hashes
  std::string network;  // "network" and "data": what the Philox stream hashes
  std::string data;
};

// Writes one JSON object's members into a string as they are given: the keys are build()'s
// literals, plain ASCII, given in nlohmann's order (std::string's <) by the caller, so nothing is
// sorted, checked or copied per member (the resolved forms' JsonObjects were most of the time it
// took to make them: docs/benchmarks.md). The tests compare every kind of resolved form with
// resolved_json()'s dump, byte for byte.
class MemberWriter {
 public:
  explicit MemberWriter(std::string& out) : out_(out) {}
  MemberWriter& key(std::string_view k) {  // `,"k":` (or `{"k":`) in one append
    char text[64];
    if (k.size() + 4 > sizeof text) throw std::logic_error("MemberWriter: a key longer than 60 bytes");
    text[0] = first_ ? '{' : ',';
    text[1] = '"';
    std::memcpy(text + 2, k.data(), k.size());
    text[k.size() + 2] = '"';
    text[k.size() + 3] = ':';
    out_.append(text, k.size() + 4);
    first_ = false;
    return *this;
  }
  template <class T>
  MemberWriter& add(std::string_view k, const T& v) {
    key(k);
    append_json(out_, v);
    return *this;
  }
  MemberWriter& raw(std::string_view k, std::string_view text) {
    key(k);
    out_ += text;
    return *this;
  }
  MemberWriter& range(std::string_view k, const HistRange& r) {  // [lo, hi], floats as nlohmann writes them
    key(k);
    out_ += '[';
    append_json(out_, r.lo);
    out_ += ',';
    append_json(out_, r.hi);
    out_ += ']';
    return *this;
  }
  void close() { out_ += first_ ? "{}" : "}"; }

 private:
  std::string& out_;
  bool first_ = true;
};

ResolvedText resolved_text(const Config& c) {
  // Every object's members are given in key order.
  ResolvedText r;
  const auto& n = c.network;
  r.network.reserve(256);
  MemberWriter(r.network)
      .add("activation", to_string(n.activation.kind))
      .add("bias", n.bias)
      .add("bias_std", n.bias_std)
      .add("gain", n.init.gain)
      .add("hidden", n.hidden)
      .add("init", n.init_name)
      .add("init_bound", n.init.bound)
      .add("init_value", n.init.value)
      .add("input", n.input)
      .add("negative_slope", n.activation.slope)
      .add("output", n.output)
      .close();
  MemberWriter data(r.data);
  const auto& f = c.data_files;
  if (c.data == DataKind::Cifar10) data.add("files", f.files);
  if (c.data == DataKind::Idx) data.add("images", f.images);
  data.add("kind", to_string(c.data));
  if (c.data == DataKind::Idx) data.add("labels", f.labels);
  if (c.pair_correlation != 0.0) data.add("pair_correlation", c.pair_correlation);
  if (c.data == DataKind::Shapeset) data.add("seed", f.seed);
  if (f.has_test()) {
    if (c.data == DataKind::Idx)
      data.add("test_images", f.test_images).add("test_labels", f.test_labels);
    else
      data.add("test_files", f.test_files);
  }
  data.close();
  const auto& q = c.stats.quantities;
  const bool backward = std::any_of(
      q.begin(), q.end(), [](const std::string& x) { return x == "backprop_gradient" || x == "weight_gradient"; });
  const bool jacobian = std::find(q.begin(), q.end(), "jacobian_singular_value") != q.end();
  // The id: the top-level object up to "train" (its last key), then "train" when training.
  std::string& id = r.id;
  id.reserve(r.network.size() + r.data.size() + 512);
  MemberWriter top(id);
  top.raw("data", r.data).raw("network", r.network);
  if (c.run.tf32) top.add("precision", "tf32");
  top.add("samples", c.samples).add("seed", c.seed).key("stats");
  MemberWriter stats(id);
  stats.range("activation_range", c.stats.activation_range).add("bins", c.stats.bins);
  if (backward) {
    if (c.stats.gradient_linear)
      stats.add("gradient_bins", "linear");
    else
      stats.add("gradient_linthresh", c.stats.gradient_linthresh);
    stats.add("gradient_max", c.stats.gradient_max);
  }
  if (jacobian) stats.range("jacobian_range", c.stats.jacobian_range).add("jacobian_samples", c.stats.jacobian_samples);
  stats.add("percentiles", c.stats.percentiles)
      .range("preactivation_range", c.stats.preactivation_range)
      .add("quantities", q)
      .add("saturation_threshold", n.activation.threshold)
      .close();
  if (backward) top.raw("targets", c.targets == TargetKind::Random ? R"({"kind":"random"})" : R"({"kind":"teacher"})");
  if (c.train.on()) {
    const std::size_t head = id.size();
    const auto train = [&](bool update) {
      top.key("train");
      MemberWriter t(id);
      t.add("eval_every", c.train.eval_every)
          .add("learning_rate", c.train.learning_rate)
          .add("minibatch", c.train.minibatch);
      if (update) t.add("update", c.train.update);
      t.add("updates", c.train.updates).close();
    };
    train(false);
    r.group = id + '}';
    id.resize(head);
    train(true);
  }
  top.close();
  // The full form: the id's with "name" after "data" (its first member, the only key before "name")
  // and "trials" last (after "train", the last key the id can have); a test compares it with
  // resolved_json's dump for every kind of configuration.
  const std::size_t rest = 9 + r.data.size();  // {"data":<data>,
  r.full.reserve(r.id.size() + c.name.size() + 40);
  r.full.append(r.id, 0, rest);
  r.full += "\"name\":";
  append_json(r.full, c.name);
  r.full += ',';
  r.full.append(r.id, rest, r.id.size() - rest - 1);
  r.full += ",\"trials\":";
  append_json(r.full, c.trials);
  r.full += '}';
  return r;
}

// Parses one "--set key=value" into the flat map; the value is TOML.
// One --set: parsed exactly as one TOML `key = value` line (dotted keys, any TOML value, inline
// tables), or, when that fails, `key = bare words` as a string (--set network.init=standard). Every
// key it sets is pinned: removed from the sweep.
void apply_set(const std::string& kv, Flat& flat, Flat& sweep, std::vector<std::unique_ptr<toml::table>>& keep,
               std::deque<std::string>& wheres) {
  const std::string where = "--set " + printable(kv);
  if (kv.find_first_of("\r\n") != std::string::npos)
    throw ConfigError(where + ": one key = value line only (the value holds a line break)");
  auto parse = [&](const std::string& line, std::string* error) -> std::unique_ptr<toml::table> {
    try {
      return std::make_unique<toml::table>(toml::parse(toml_safe_text(line), std::string_view("--set")));
    } catch (const toml::parse_error& e) {
      if (error) *error = std::string(e.description());
      return nullptr;
    } catch (const TomlTextError& e) {
      if (error) *error = e.what();
      return nullptr;
    }
  };
  std::string error;
  auto t = parse(kv, &error);
  const auto eq = kv.find('=');
  if (!t && eq != std::string::npos && eq > 0) {  // bare words are strings
    std::string val = kv.substr(eq + 1);
    val.erase(0, val.find_first_not_of(" \t"));
    val.erase(val.find_last_not_of(" \t") + 1);
    if (val.find_first_of("\"'\\") == std::string::npos) t = parse(kv.substr(0, eq) + "= \"" + val + "\"", nullptr);
  }
  if (!t) throw ConfigError(where + ": expected a TOML line key = value (" + error + ")");
  Flat leaves, swept;
  flatten(*t, "", where, leaves, &swept);
  if (!swept.empty()) throw ConfigError(where + ": --set cannot change the [sweep] table; give the sweep in the file");
  if (leaves.empty()) throw ConfigError(where + ": expected key = value");
  wheres.push_back(where);
  for (auto& [k, l] : leaves) {
    flat[k] = Leaf{l.node, &wheres.back(), nullptr, nullptr};
    sweep.erase(k);  // a --set pins a swept key
  }
  keep.push_back(std::move(t));
}

std::string base_dir_of(const std::string& file) {
  const auto slash = file.find_last_of('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : file.substr(0, slash));
}

// A heap block of n bytes as glibc's malloc holds it: 8 bytes of header, rounded up to 16, at least 32.
std::size_t block_bytes(std::size_t n) { return n == 0 ? 0 : std::max<std::size_t>(32, (n + 8 + 15) / 16 * 16); }
std::size_t heap_of(const std::string& s) {
  return s.capacity() > 15 ? block_bytes(s.capacity() + 1) : 0;  // (15: libstdc++'s in-place capacity)
}
template <class T>
std::size_t heap_of(const std::vector<T>& v) {
  std::size_t n = block_bytes(v.capacity() * sizeof(T));
  if constexpr (std::is_same_v<T, std::string>)
    for (const auto& s : v) n += heap_of(s);
  if constexpr (std::is_same_v<T, std::pair<std::string, std::string>>)
    for (const auto& kv : v) n += heap_of(kv.first) + heap_of(kv.second);
  return n;
}
// The heap blocks one point holds (held_bytes counts them, beside the points' array).
std::size_t point_heap_bytes(const SweepPoint& p) {
  const Config& c = p.config;
  std::size_t n = heap_of(p.swept) + heap_of(p.resolved) + heap_of(p.id) + heap_of(p.train_group);
  n += heap_of(c.name) + heap_of(c.network.hidden) + heap_of(c.network.init_name);
  const auto& d = c.data_files;
  n += heap_of(d.images) + heap_of(d.labels) + heap_of(d.files) + heap_of(d.test_images) + heap_of(d.test_labels) +
       heap_of(d.test_files);
  return n + heap_of(c.stats.percentiles) + heap_of(c.stats.quantities);
}

// The first 12 of a hash's 16 hex digits (lower case), as "%016llx" writes them.
std::string hash_id(uint64_t h) {
  std::string s(12, '0');
  h >>= 16;  // (the last 4 digits are dropped)
  for (int i = 11; i >= 0; --i, h >>= 4) s[std::size_t(i)] = "0123456789abcdef"[h & 15];
  return s;
}

// A point's resolved form, id (a hash of it without name and trial count), Philox stream and
// training group.
void finish_point(SweepPoint& p) {
  ResolvedText t = resolved_text(p.config);
  // The id hashes the resolved form without the name, nor the trial count: trials [0, n) are the
  // same networks whatever n, so more trials later extend the same configuration (a merge of
  // trial ranges, or a re-run into the same folder).
  p.id = hash_id(fnv1a(t.id));
  // The random stream depends on what makes a random network: seed, network and data.
  p.stream = mix64(p.config.seed ^ mix64(fnv1a_more(fnv1a(t.network), t.data)));
  if (p.config.train.on()) p.train_group = hash_id(fnv1a(t.group));
  p.resolved = std::move(t.full);
}

Experiment expand(const toml::table& root, const std::string& file, const std::string& default_name,
                  const Overrides& ov) {
  Flat base, sweep;
  flatten(root, "", file, base, &sweep);
  std::vector<std::unique_ptr<toml::table>> keep;
  std::deque<std::string> wheres;  // each --set's text, for its leaves
  if (ov.trials) base.erase("trials");
  if (ov.seed) base.erase("seed");
  for (const auto& s : ov.sets) apply_set(s, base, sweep, keep, wheres);
  const auto known = known_keys();
  Experiment ex;
  ex.source = file;
  // Each swept value as the leaf every configuration with it reads, and its text (made once).
  struct Swept {
    Leaf leaf;
    std::string text;
  };
  std::vector<std::vector<Swept>> values;
  for (const auto& [k, l] : sweep) {
    if (k == "trials")
      throw ConfigError(l.where() +
                        ": sweep: cannot sweep 'trials' (a configuration is the same whatever its trial count; "
                        "run again with more trials to extend it)");
    if (std::find(known.begin(), known.end(), k) == known.end() || k == "name" || k.rfind("run.", 0) == 0 ||
        k.rfind("output.", 0) == 0)
      throw ConfigError(l.where() + ": sweep: cannot sweep '" + k + "'" +
                        (std::find(known.begin(), known.end(), k) == known.end()
                             ? " (did you mean '" + nearest_name(k, known) + "'?)"
                             : ""));
    if (!l.node->is_array() || l.node->as_array()->empty())
      throw ConfigError(l.where() + ": sweep: '" + k + "' needs a non-empty array of values");
    ex.sweep_keys.push_back(k);
    std::vector<Swept> vs;
    for (const auto& e : *l.node->as_array()) vs.push_back(Swept{Leaf{&e, &file, &e, &k}, node_text(e)});
    values.push_back(std::move(vs));
  }
  size_t total = 1;
  for (const auto& v : values) {
    total *= v.size();
    if (total > 100000) throw ConfigError(file + ": sweep expands to more than 100000 configurations");
  }
  // Each configuration is built (and its points' resolved forms and ids made) on its own, so this
  // runs on several threads; what depends on the order (errors, the point limit, the `update` key,
  // repeated ids) is settled in sweep order, exactly as one thread would. A sweep of small networks
  // spent most of its driver time here (docs/benchmarks.md). Three steps:
  //  1. build and validate every configuration (in parallel); stop early past an error; without
  //     training, also make its one point's resolved form and id;
  //  2. settle errors, the point limit and the `update` key in sweep order;
  //  3. with training, make every evaluation point's resolved form and id (in parallel);
  //  then refuse repeated ids in order.
  // Without [train], nothing here is on the heap per configuration beside what its point keeps: a
  // large sweep's transient blocks, freed between the ones kept, would stay resident (100,000
  // configurations: 245 MB resident for 146 MB kept, when each point had a block of its own here).
  struct Made {
    // The configuration; without [train], its one point (step 1). Constructed by the thread that
    // builds it: 1,000 of them default-constructed up front took 0.8-1.1 ms of the main thread here,
    // before the threads started (the sweep's total overhead did not change measurably).
    std::optional<SweepPoint> point;
    std::vector<int64_t> evals;   // with [train]: its evaluation points
    std::vector<SweepPoint> out;  // with [train]: one per evaluation point, from step 3
    bool made = false;            // false: skipped, being past an error
    bool finished = false;        // without [train]: `point` is finished
    std::exception_ptr error;
  };
  const std::string base_dir = base_dir_of(file);
  const auto has_network = [](const Flat& f) {
    for (const auto& kv : f)
      if (kv.first.rfind("network.", 0) == 0) return true;
    return false;
  };
  const size_t hw = std::max(1u, std::thread::hardware_concurrency());
  const size_t threads = total < 64 ? 1 : std::min<size_t>({hw, total / 32, 16});
  // fn(idx, t): t is the calling thread's slot in [0, threads).
  const auto for_each_index = [&](const auto& fn) {
    if (threads <= 1) {
      for (size_t idx = 0; idx < total; ++idx) fn(idx, size_t(0));
      return;
    }
    std::atomic<size_t> next{0};
    auto worker = [&](size_t t) {
      for (size_t idx; (idx = next.fetch_add(1)) < total;) fn(idx, t);
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) {
      try {
        pool.emplace_back(worker, t);
      } catch (const std::system_error&) {  // no more threads allowed (a container's limit): fewer
        break;
      }
    }
    worker(0);
    for (auto& t : pool) t.join();
  };
  // Each thread's key map: the base with every swept key, whose leaves each configuration sets
  // (every configuration has the same keys; copying the map for each one was most of the time
  // spent outside build()).
  std::vector<Flat> flats(threads);
  std::vector<std::vector<Leaf*>> slots(threads);
  // Builds configuration idx into m on thread slot t (what step 1 does for each).
  const auto build_point = [&](size_t idx, size_t t, Made& m) {
    Flat& f = flats[t];
    if (slots[t].empty() && !values.empty()) {
      f = base;
      for (const auto& k : ex.sweep_keys) slots[t].push_back(&f[k]);
    }
    SweepPoint& p = m.point.emplace();
    size_t rem = idx;
    // Last key varies fastest.
    std::vector<size_t> pick(values.size());
    for (size_t k = values.size(); k-- > 0;) {
      pick[k] = rem % values[k].size();
      rem /= values[k].size();
    }
    p.swept.reserve(values.size());
    for (size_t k = 0; k < values.size(); ++k) {
      const Swept& v = values[k][pick[k]];
      *slots[t][k] = v.leaf;  // (assigning reuses the string's room)
      p.swept.emplace_back(ex.sweep_keys[k], v.text);
    }
    p.config = build(values.empty() ? base : f, default_name, nullptr, base_dir);
    if (ov.trials) p.config.trials = *ov.trials;
    if (ov.seed) p.config.seed = *ov.seed;
    if (ov.threads) p.config.run.threads = *ov.threads;
    // Training: one point per evaluation point (the implicit last sweep key `update`).
    if (p.config.train.on()) {
      const TrainConfig& tc = p.config.train;
      for (int64_t u = 0; u < tc.updates; u += tc.eval_every) m.evals.push_back(u);
      m.evals.push_back(tc.updates);
    } else {  // one point: finished here (step 3 is for the evaluation points of training)
      finish_point(p);
      m.finished = true;
    }
  };
  // Expanding holds every configuration at once, and briefly about 1.6 times what the points keep: under
  // run.memory_limit_mb (which cannot be swept) a sweep too large for it is refused before it is
  // expanded, from the first configuration's size (a large sweep's configurations hold about the
  // same). The plan then counts what the points keep for the run (held_bytes).
  Made first;  // configuration 0, built here and kept for step 1
  if (total > 1) {
    try {
      build_point(0, 0, first);
      first.made = true;
    } catch (...) {  // step 1 builds it again and reports it, in order
      first = Made{};
    }
    const int64_t limit_mb = first.made ? first.point->config.run.memory_limit_mb : 0;
    if (limit_mb > 0) {
      const std::size_t points = first.finished ? 1 : first.evals.size();
      std::size_t heap = point_heap_bytes(*first.point);
      if (!first.finished) {  // an evaluation point as step 3 makes it (with its resolved form)
        SweepPoint e = *first.point;
        e.swept.emplace_back("update", "0");
        finish_point(e);
        heap = point_heap_bytes(e);
      }
      // Every Made at once, each point's heap blocks, and the points' array (with training, the
      // evaluation points are made beside their configurations, then moved into it).
      const std::size_t peak = total * (sizeof(Made) + points * (heap + sizeof(SweepPoint) * (first.finished ? 1 : 2)));
      if (peak > (std::size_t(limit_mb) << 20))
        throw ConfigError(file + ": the sweep's " + std::to_string(total) + " configurations" +
                          (first.finished ? std::string() : " (" + std::to_string(total * points) + " points)") +
                          " need about " + std::to_string((peak + (1 << 20) - 1) >> 20) +
                          " MiB while they are expanded, more than run.memory_limit_mb = " + std::to_string(limit_mb) +
                          ": sweep fewer values in one run, or raise the limit");
    }
  }
  // Step 1. `first_error` is the lowest index known to fail; indices above it are skipped. Every
  // index below it was handed out before it and is built, so step 2 meets the same first error as
  // one thread would, without building the rest of a large refused sweep.
  std::vector<Made> made(total);
  if (first.made) made[0] = std::move(first);
  std::atomic<size_t> first_error{total};
  for_each_index([&](size_t idx, size_t t) {
    if (idx > first_error.load()) return;
    Made& m = made[idx];
    if (m.made) return;  // (configuration 0, built above)
    m.made = true;
    try {
      build_point(idx, t, m);
    } catch (...) {
      m.error = std::current_exception();
      for (size_t cur = first_error.load(); idx < cur && !first_error.compare_exchange_weak(cur, idx);) {
      }
    }
  });
  // Step 2.
  size_t points = 0;
  for (size_t idx = 0; idx < total; ++idx) {
    const Made& m = made[idx];
    if (!m.made) throw std::logic_error("sweep expansion: a configuration was skipped before the first error");
    if (m.error) std::rethrow_exception(m.error);
    if (idx == 0 && !has_network(base) && !has_network(sweep))
      throw ConfigError(file +
                        ": no [network] table (give at least network.hidden, or network.depth and network.width)");
    points += m.finished ? 1 : m.evals.size();
    if (points > ov.max_points)
      throw ConfigError(file + ": the experiment expands to more than " + std::to_string(ov.max_points) +
                        " result points (configurations × evaluation points; configuration " + std::to_string(idx + 1) +
                        " of " + std::to_string(total) + " passes it): raise train.eval_every or sweep fewer values");
    const Config& made_config = m.point->config;
    if (made_config.trials < 1) throw ConfigError("--trials: must be at least 1");
    if (made_config.train.on()) {
      if (ex.sweep_keys.empty() || ex.sweep_keys.back() != "update") {
        if (idx > 0) throw ConfigError(file + ": either every configuration of the sweep trains or none does");
        ex.sweep_keys.push_back("update");
      }
    } else if (!ex.sweep_keys.empty() && ex.sweep_keys.back() == "update") {
      throw ConfigError(file + ": either every configuration of the sweep trains or none does");
    }
  }
  // Step 3 (training only: made in step 1 otherwise).
  if (!made.empty() && !made.front().finished)
    for_each_index([&](size_t idx, size_t) {
      Made& m = made[idx];
      try {  // (only memory can run out here)
        m.out.reserve(m.evals.size());
        for (std::size_t k = 0; k < m.evals.size(); ++k) {
          const int64_t u = m.evals[k];
          SweepPoint e = k + 1 < m.evals.size() ? *m.point : std::move(*m.point);  // the last takes it
          e.config.train.update = u;
          e.swept.emplace_back("update", std::to_string(u));
          finish_point(e);
          m.out.push_back(std::move(e));
        }
      } catch (...) {
        m.error = std::current_exception();
      }
    });
  // (views of the ids in ex.points, which does not grow past its reserve)
  std::unordered_set<std::string_view> ids(2 * points);
  ex.points.reserve(points);
  const auto take = [&](SweepPoint& e) {
    ex.points.push_back(std::move(e));
    const std::string& id = ex.points.back().id;
    if (!ids.insert(id).second)
      throw ConfigError(file + ": sweep produces two identical configurations (id " + id +
                        "): a swept value repeats or is overridden");
  };
  for (Made& m : made) {
    if (m.error) std::rethrow_exception(m.error);
    if (m.finished) take(*m.point);
    for (SweepPoint& e : m.out) take(e);
    m.out = {};
  }
  return ex;
}

std::string stem_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string s = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dot = s.rfind('.');
  return dot == std::string::npos || dot == 0 ? s : s.substr(0, dot);
}

}  // namespace

uint64_t fnv1a(const std::string& s) { return fnv1a_more(1469598103934665603ull, s); }

uint64_t fnv1a_more(uint64_t h, const std::string& s) {
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

const char* to_string(Activation a) {
  for (const auto& [n, e] : activation_names())
    if (e == a) return n.c_str();
  return "?";
}
const char* to_string(DataKind d) {
  switch (d) {
    case DataKind::Gaussian: return "gaussian";
    case DataKind::Uniform: return "uniform";
    case DataKind::Shapeset: return "shapeset";
    case DataKind::Idx: return "idx";
    case DataKind::Cifar10: return "cifar10";
  }
  return "?";
}

std::vector<std::string> known_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    build(Flat{}, "experiment", &k);
    return k;
  }();
  return keys;
}

std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t bd = std::numeric_limits<size_t>::max();
  for (const auto& c : candidates) {
    // Compare against the whole key and against its last component.
    size_t d = edit_distance(word, c);
    const auto dot = c.rfind('.');
    if (dot != std::string::npos) d = std::min(d, edit_distance(word, c.substr(dot + 1)) + 1);
    if (d < bd) {
      bd = d;
      best = c;
    }
  }
  return best;
}

std::size_t held_bytes(const Experiment& ex) {
  std::size_t n = heap_of(ex.source) + heap_of(ex.sweep_keys) + block_bytes(ex.points.capacity() * sizeof(SweepPoint));
  for (const SweepPoint& p : ex.points) n += point_heap_bytes(p);
  return n;
}

Experiment parse_experiment(const std::string& text, const std::string& source_name, const Overrides& ov) {
  toml::table root;
  try {
    root = toml::parse(toml_safe_text(text), source_name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(source_name + ":" + std::to_string(e.source().begin.line) +
                      ": TOML syntax error: " + std::string(e.description()));
  } catch (const TomlTextError& e) {
    throw ConfigError(source_name + ":" + std::to_string(e.line()) + ": TOML syntax error: " + e.what());
  }
  return expand(root, source_name, stem_of(source_name), ov);
}

Experiment load_experiment(const std::string& path, const Overrides& ov) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ConfigError(path + ": is a folder, not a config file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open config file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": cannot read config file");
  const std::string text = ss.str();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw ConfigError(path + ": empty config file (it needs at least a [network] table)");
  return parse_experiment(text, path, ov);
}

}  // namespace isc
