// output.cpp — tidy CSV and JSON writers, atomic file replacement, the summary table.
#include "host/app/output.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "buildinfo.h"
#include "host/app/json_text.h"
#include "host/app/theory.h"

namespace isc {
namespace {

// Appends v as the CSVs write numbers: nan, inf, -inf, else printf's %.9g (std::to_chars with a
// precision is specified as that in the C locale, and is much faster).
void append_num(std::string& out, double v) {
  if (v == 0.0 && !std::signbit(v)) {  // +0, as %.9g writes it: most densities of a sparse histogram
    out += '0';
  } else if (std::isnan(v)) {
    out += "nan";
  } else if (std::isinf(v)) {
    out += v > 0 ? "inf" : "-inf";
  } else {
    char buf[40];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 9);
    out.append(buf, r.ptr);
  }
}

std::string num(double v) {
  std::string s;
  append_num(s, v);
  return s;
}

// A CSV text built by appending (no stream, no temporary strings per number): the tidy CSVs of a
// sweep of thousands of configurations hold millions of numbers.
struct Num {
  double v;
};
class CsvText {
 public:
  CsvText() = default;
  explicit CsvText(std::string&& s) : s_(std::move(s)) {}  // appends to s
  CsvText& operator<<(const std::string& x) {
    s_ += x;
    return *this;
  }
  CsvText& operator<<(const char* x) {
    s_ += x;
    return *this;
  }
  CsvText& operator<<(char c) {
    s_ += c;
    return *this;
  }
  CsvText& operator<<(uint64_t v) { return integer(v); }
  CsvText& operator<<(int v) { return integer(v); }
  CsvText& operator<<(Num n) {
    append_num(s_, n.v);
    return *this;
  }
  std::string str() && { return std::move(s_); }

 private:
  template <class T>
  CsvText& integer(T v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    s_.append(buf, r.ptr);
    return *this;
  }
  std::string s_;
};

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string header_prefix(const Experiment& ex) {
  std::string h = "config_id";
  for (const auto& k : ex.sweep_keys) h += "," + csv_field(k);
  return h;
}

std::string row_prefix(const ConfigResult& r) {
  std::string s = r.point->id;
  for (const auto& kv : r.point->swept) s += "," + csv_field(kv.second);
  return s;
}

StatisticContext context(const ConfigResult& r, int q) { return statistic_context(r.point->config, q); }

// Quantities written for this configuration, in output order.
std::vector<int> written(const ConfigResult& r) {
  std::vector<int> qs;
  for (int q = 0; q < kQuantities; ++q)
    if (r.spec.enabled[q]) qs.push_back(q);
  return qs;
}

// Bin edge i in value space (symmetric-log bins are converted back from their coordinate).
double edge_value(const HistRange& range, const Binner& b, int i) {
  const double u = hist_edge(b, i);
  if (range.linthresh <= 0.0f) return u;
  const double m = double(range.linthresh) * (std::pow(10.0, std::fabs(u)) - 1.0);
  return u < 0 ? -m : m;
}

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

uint32_t crc32_of(const void* p, std::size_t n, uint32_t crc) {
  uLong c = crc;
  const auto* b = static_cast<const Bytef*>(p);
  while (n > 0) {
    const uInt k = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    c = crc32(c, b, k);
    b += k;
    n -= k;
  }
  return static_cast<uint32_t>(c);
}

int write_all(int fd, const void* p, std::size_t n) {
  const char* b = static_cast<const char*>(p);
  for (std::size_t off = 0; off < n;) {
    const ssize_t w = ::write(fd, b + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno;
    if (w == 0) return EIO;
    off += static_cast<std::size_t>(w);
  }
  return 0;
}

std::string write_error(int err) {
  std::string why = std::strerror(err);
  if (err == ENOSPC || err == EFBIG || err == EDQUOT) why += " (disk full or a file-size limit?)";
  return why;
}

std::string write_file_synced(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  if (const int err = write_all(fd, content.data(), content.size()); err != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write " + tmp + ": " + write_error(err));
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot flush " + tmp + ": " + std::strerror(errno));
  }
  return tmp;
}

void commit_file(const std::string& tmp, const std::string& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + err);
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  commit_file(write_file_synced(path, content), path);
}

void append_stats_rows(std::string& out, const ConfigResult& r) {
  CsvText os(std::move(out));
  const std::string pre = row_prefix(r);
  for (int l = 0; l < r.layers; ++l)
    for (int q : written(r)) {
      const auto names = statistic_names(r.spec, context(r, q));
      const Aggregate& a = r.aggregate(l, q);
      for (std::size_t i = 0; i < names.size(); ++i) {
        const Moments& m = a.per_statistic[i];
        os << pre << ',' << (l + 1) << ',' << to_string(Quantity(q)) << ',' << names[i] << ','
           << Num{m.n > 0 ? m.mean : std::nan("")} << ',' << Num{m.n > 1 ? std::sqrt(variance(m)) : std::nan("")} << ','
           << static_cast<uint64_t>(m.n) << '\n';
      }
    }
  // Training: the network's error and cost (test on the evaluation examples, train on the
  // minibatches since the previous evaluation point) as quantity "output" of layer L+1.
  for (std::size_t k = 0; k < r.train.size(); ++k) {
    const Moments& m = r.train[k];
    if (m.n == 0) continue;  // train_* at update 0: no updates yet
    os << pre << ',' << (r.layers + 1) << ",output," << train_stat_name(int(k)) << ',' << Num{m.mean} << ','
       << Num{m.n > 1 ? std::sqrt(variance(m)) : std::nan("")} << ',' << static_cast<uint64_t>(m.n) << '\n';
  }
  out = std::move(os).str();
}

const HistogramText::Bins& HistogramText::bins(const HistRange& range) {
  for (const auto& e : cache_)
    if (e.first.lo == range.lo && e.first.hi == range.hi && e.first.bins == range.bins &&
        e.first.linthresh == range.linthresh)
      return e.second;
  Bins t;
  const Binner b = make_binner(range);
  t.underflow = "underflow,-inf," + num(edge_value(range, b, 0)) + ",";
  t.overflow = "overflow," + num(edge_value(range, b, b.bins)) + ",inf,";
  for (int i = 0; i < b.bins; ++i) {
    const double lo = edge_value(range, b, i), hi = edge_value(range, b, i + 1);
    t.edges.push_back(std::to_string(i) + "," + num(lo) + "," + num(hi) + ",");
    t.width.push_back(hi - lo);
  }
  cache_.emplace_back(range, std::move(t));
  return cache_.back().second;
}

void HistogramText::append_rows(std::string& out, const ConfigResult& r) {
  CsvText os(std::move(out));
  const std::string pre = row_prefix(r);
  for (int l = 0; l < r.layers; ++l)
    for (int q : written(r)) {
      const Aggregate& a = r.aggregate(l, q);
      const Bins& t = bins(r.spec.range[q]);
      const uint64_t total = a.values;
      const std::string lq = pre + "," + std::to_string(l + 1) + "," + to_string(Quantity(q)) + ",";
      os << lq << t.underflow << a.hist[0] << ",\n";
      for (std::size_t i = 0; i < t.edges.size(); ++i) {
        const uint64_t c = a.hist[i + 1];
        os << lq << t.edges[i] << c << ',' << Num{total ? double(c) / (double(total) * t.width[i]) : 0.0} << '\n';
      }
      os << lq << t.overflow << a.hist[t.edges.size() + 1] << ",\n";
    }
  out = std::move(os).str();
}

void append_theory_rows(std::string& out, const ConfigResult& r, const std::vector<LayerTheory>& th) {
  CsvText os(std::move(out));
  const std::string pre = row_prefix(r);
  for (std::size_t l = 0; l < th.size(); ++l) {
    const LayerTheory& t = th[l];
    os << pre << ',' << (l + 1) << ',' << Num{t.sigma_w2} << ',' << Num{t.q_pre} << ',' << Num{t.var_pre} << ','
       << Num{t.var_act} << ',' << Num{t.chi1} << ',' << Num{t.grad_ratio} << ',' << Num{t.c_pre} << '\n';
  }
  out = std::move(os).str();
}

std::string stats_csv_header(const Experiment& ex) {
  return header_prefix(ex) + ",layer,quantity,statistic,value,trial_std,trials\n";
}
std::string histograms_csv_header(const Experiment& ex) {
  return header_prefix(ex) + ",layer,quantity,bin,bin_lo,bin_hi,count,density\n";
}
std::string theory_csv_header(const Experiment& ex) {
  return header_prefix(ex) + ",layer,sigma_w2,q_pre,var_pre,var_act,chi1,grad_ratio,c_pre\n";
}

std::string stats_csv(const Experiment& ex, const std::vector<ConfigResult>& rs) {
  std::string s = stats_csv_header(ex);
  for (const auto& r : rs) append_stats_rows(s, r);
  return s;
}

std::string histograms_csv(const Experiment& ex, const std::vector<ConfigResult>& rs) {
  std::string s = histograms_csv_header(ex);
  HistogramText text;
  for (const auto& r : rs) text.append_rows(s, r);
  return s;
}

std::string trials_csv_header(const Experiment& ex) {
  // Column set: every statistic (empty where it does not apply); percentile names from the first
  // configuration (check_trials_columns makes sure they are the same in all).
  const StatsSpec spec0 = ex.points.empty() ? StatsSpec{} : stats_spec(ex.points.front().config);
  std::string h = header_prefix(ex) + ",trial,layer,quantity,count";
  for (const auto& s : statistics(spec0)) h += "," + s.name;
  return h + "\n";
}

void check_trials_columns(const Experiment& ex) {
  for (const auto& p : ex.points)
    if (p.config.stats.percentiles != ex.points.front().config.stats.percentiles)
      throw ConfigError(
          "per-trial output: stats.percentiles must be the same in every configuration "
          "(they name trials.csv's columns); drop the per-trial output or the sweep over them");
}

uint64_t estimated_output_bytes(const Experiment& ex, bool per_trial) {
  // Bytes per row measured on small and large sweeps (with margin): histograms.csv ~70, stats.csv
  // ~75, trials.csv.gz ~56 (README); the parts log holds the histograms and statistics again (8 bytes
  // per count, 32 per moment and partial result: within the margin below), and the per-trial rows
  // are written twice (parts, then trials.csv.gz).
  uint64_t bytes = 64 * 1024;  // manifest, experiment.json
  for (const auto& p : ex.points) {
    const StatsSpec spec = stats_spec(p.config);
    const uint64_t layers = p.config.network.hidden.size();
    uint64_t slots = 0, stats = 0, quantities = 0;
    for (int q = 0; q < kQuantities; ++q)
      if (spec.enabled[q]) {
        slots += uint64_t(spec.range[q].bins) + 2;
        stats += statistic_count(spec, statistic_context(p.config, q));
        ++quantities;
      }
    bytes += layers * (slots * (80 + 24) + stats * (90 + 40)) + (layers + 1) * 120;
    if (per_trial) bytes += 2 * 60 * uint64_t(p.config.trials) * layers * quantities;
  }
  return bytes;
}

std::string trials_csv_rows(const ConfigResult& r, uint64_t first, const std::vector<TrialStats>& st) {
  std::ostringstream os;
  const std::string pre = row_prefix(r);
  const std::vector<Statistic>& all = statistics(r.spec);
  const std::size_t per = std::size_t(r.layers) * kQuantities, n = per ? st.size() / per : 0;
  for (std::size_t t = 0; t < n; ++t)
    for (int l = 0; l < r.layers; ++l)
      for (int q : written(r)) {
        const TrialStats& ts = st[t * per + std::size_t(l) * kQuantities + std::size_t(q)];
        const StatisticContext c = context(r, q);
        os << pre << ',' << (first + t) << ',' << (l + 1) << ',' << to_string(Quantity(q)) << ',' << ts.count;
        for (const auto& s : all) os << ',' << (s.applies(c) ? num(s.value(ts)) : "");
        os << '\n';
      }
  return os.str();
}

std::string trials_csv(const Experiment& ex, const std::vector<ConfigResult>& rs) {
  check_trials_columns(ex);
  std::string out = trials_csv_header(ex);
  for (const auto& r : rs) out += trials_csv_rows(r, 0, r.trials);
  return out;
}

nlohmann::json build_info() {
  nlohmann::json j;
  j["version"] = INITSCOPE_VERSION;
  j["git_commit"] = INITSCOPE_GIT_COMMIT;
  j["build_type"] = INITSCOPE_BUILD_TYPE;
  j["compiler"] = INITSCOPE_COMPILER;
  j["cuda"] = INITSCOPE_WITH_CUDA != 0;
  j["blas"] = "OpenBLAS (cblas)";
  return j;
}

std::string manifest_entry_text(const ConfigResult& r) {
  JsonObject sw;
  for (const auto& kv : r.point->swept) sw.add(kv.first, kv.second);
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r.point->stream));
  JsonObject c;
  c.add("config_id", r.point->id)
      .add("swept", sw)
      .raw("resolved", r.point->resolved)
      .add("seed", r.point->config.seed)
      .add("philox_key", std::string(buf))
      .add("seconds", r.seconds)
      .add("trials_per_second", r.seconds > 0 ? double(r.point->config.trials) / r.seconds : 0.0)
      .add("chunk_trials", r.chunk_trials)
      .add("workers", r.workers);
  // As dump(2) writes an element of the top-level object's "configurations" array.
  return json_indented(c.text(), 2, 4);
}

ManifestParts manifest_parts(const Experiment& ex, const RunInfo& info) {
  nlohmann::json m;
  m["initscope"] = build_info();
  m["source"] = ex.source;
  m["command_line"] = info.command_line;
  m["device"] = info.device;
  m["device_description"] = info.device_description;
  m["started_utc"] = info.started_utc;
  m["seconds"] = info.seconds;
  m["sweep_keys"] = ex.sweep_keys;
  m["files"] = info.per_trial ? nlohmann::json{"stats.csv", "histograms.csv", "theory.csv", "trials.csv.gz"}
                              : nlohmann::json{"stats.csv", "histograms.csv", "theory.csv"};
  if (info.files.count("examples.json")) m["files"].push_back("examples.json");
  nlohmann::json checks = nlohmann::json::object();
  for (const auto& [name, c] : info.files) {
    char crc[12];
    std::snprintf(crc, sizeof crc, "%08x", c.second);
    checks[name] = {{"bytes", c.first}, {"crc32", crc}};
  }
  m["file_checks"] = checks;
  // The entries go where a placeholder was dumped (keys are sorted, so "configurations" keeps its place).
  const std::string mark = "\"@initscope-configurations@\"";
  m["configurations"] = mark.substr(1, mark.size() - 2);
  const std::string text = m.dump(2);
  const std::size_t at = text.find(mark);
  if (at == std::string::npos) throw std::logic_error("manifest_parts: placeholder lost");
  return ManifestParts{text.substr(0, at), text.substr(at + mark.size()) + "\n"};
}

std::string manifest_head(const std::string& command_line) {
  RunInfo info;
  info.command_line = command_line;
  return manifest_parts(Experiment{}, info).head;
}

std::string manifest_entry_joint(std::size_t index) { return index == 0 ? "[\n    " : ",\n    "; }

std::string manifest_entries_end(std::size_t entries) { return entries == 0 ? "[]" : "\n  ]"; }

std::string manifest_text(const Experiment& ex, const std::vector<std::string>& entries, const RunInfo& info) {
  const ManifestParts parts = manifest_parts(ex, info);
  std::string out = parts.head;
  for (std::size_t i = 0; i < entries.size(); ++i) out += manifest_entry_joint(i) + entries[i];
  return out + manifest_entries_end(entries.size()) + parts.tail;
}

std::string summary_table(const Experiment& /*ex*/, const std::vector<ConfigResult>& rs) {
  std::ostringstream os;
  char buf[64];
  for (const auto& r : rs) {
    const Config& c = r.point->config;
    std::snprintf(buf, sizeof buf, "%.3g s", r.seconds);
    os << "config " << r.point->id << "  " << to_string(c.network.activation.kind) << " / " << c.network.init_name;
    for (const auto& kv : r.point->swept) os << "  " << kv.first << "=" << kv.second;
    os << "  (" << c.trials << " trials x " << c.samples << " samples, " << buf << ")\n";
    // The columns: the forward quantities, then each backward quantity that was asked for.
    struct Column {
      std::string header;
      int q;
      int stat;  // index in statistic_names(spec, context(q)), -1: not reported
    };
    std::vector<Column> cols;
    auto add = [&](const std::string& header, Quantity q, const std::string& stat) {
      if (!r.spec.enabled[int(q)]) return;
      const auto names = statistic_names(r.spec, context(r, int(q)));
      const auto it = std::find(names.begin(), names.end(), stat);
      if (it != names.end()) cols.push_back({header, int(q), int(it - names.begin())});
    };
    add("pre std", Quantity::Preactivation, "std");
    add("act mean", Quantity::Activation, "mean");
    add("act std", Quantity::Activation, "std");
    if (!r.spec.percentiles.empty()) {
      const std::string p = percentile_name(r.spec.percentiles.back());
      add("act " + p, Quantity::Activation, p);
    }
    add("saturated", Quantity::Activation, "saturation");
    add("grad std", Quantity::BackpropGradient, "std");
    add("dW std", Quantity::WeightGradient, "std");
    add("J sv mean", Quantity::JacobianSingularValue, "mean");
    std::snprintf(buf, sizeof buf, "  %5s %7s", "layer", "width");
    os << buf;
    for (const auto& col : cols) {
      std::snprintf(buf, sizeof buf, " %10s", col.header.c_str());
      os << buf;
    }
    os << "\n";
    for (int l = 0; l < r.layers; ++l) {
      std::snprintf(buf, sizeof buf, "  %5d %7d", l + 1, c.network.hidden[static_cast<std::size_t>(l)]);
      os << buf;
      for (const auto& col : cols) {
        std::snprintf(buf, sizeof buf, " %10.4g", r.aggregate(l, col.q).per_statistic[std::size_t(col.stat)].mean);
        os << buf;
      }
      os << "\n";
    }
  }
  return os.str();
}

}  // namespace isc
