// results_dir.cpp — the results folder's lock, identity, committed parts, journal and resume.
#include "host/app/results_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "host/app/output.h"

namespace isc {
namespace fs = std::filesystem;

namespace {

constexpr int kPartFormat = 1;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A temporary file of a killed run: NAME.tmp.PID.
bool is_temporary(const fs::path& p) { return p.filename().string().find(".tmp.") != std::string::npos; }

// The outputs of a run (removed with --force, so that nothing of the older run stays beside the new).
const char* const kOutputs[] = {"stats.csv",     "histograms.csv", "theory.csv", "trials.csv", "trials.csv.gz",
                                "manifest.json", "report.html",    "figures",    "parts"};

// The experiment id of an older run that kept no parts, from its manifest ("" if none or unreadable).
std::string manifest_experiment(const std::string& dir) {
  try {
    const auto m = nlohmann::json::parse(read_file(dir + "/manifest.json"));
    std::string ids;
    for (const auto& c : m.at("configurations")) ids += c.at("config_id").get<std::string>() + "\n";
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(ids)));
    return buf;
  } catch (...) {
    return "";
  }
}

nlohmann::json moments_json(const std::vector<Moments>& m) {
  nlohmann::json j = {{"n", nlohmann::json::array()},
                      {"mean", nlohmann::json::array()},
                      {"m2", nlohmann::json::array()},
                      {"min", nlohmann::json::array()},
                      {"max", nlohmann::json::array()}};
  for (const auto& x : m) {
    j["n"].push_back(x.n);
    j["mean"].push_back(x.mean);
    j["m2"].push_back(x.m2);
    j["min"].push_back(double(x.min));
    j["max"].push_back(double(x.max));
  }
  return j;
}

std::vector<Moments> moments_of(const nlohmann::json& j) {
  std::vector<Moments> m(j.at("n").size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    m[i].n = j.at("n")[i].get<double>();
    m[i].mean = j.at("mean")[i].get<double>();
    m[i].m2 = j.at("m2")[i].get<double>();
    m[i].min = float(j.at("min")[i].get<double>());
    m[i].max = float(j.at("max")[i].get<double>());
  }
  return m;
}

}  // namespace

std::string experiment_id(const Experiment& ex) {
  std::string ids;
  for (const auto& p : ex.points) ids += p.id + "\n";
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(ids)));
  return buf;
}

ResultsDir::ResultsDir(const std::string& dir, const Experiment& ex, bool force)
    : dir_(dir), parts_(dir + "/parts"), experiment_(experiment_id(ex)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw ResultsDirError("cannot create output folder " + dir_ + ": " + ec.message());
  const std::string lock = dir_ + "/.initscope.lock";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT, 0644);
  if (lock_fd_ < 0) throw ResultsDirError("cannot open " + lock + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw ResultsDirError(dir_ + " is in use by another initscope run (its lock " + lock +
                          " is held); wait for it or use another --out");
  }
  // Temporary files of a killed run: nothing else writes here while we hold the lock.
  for (const std::string& d : {dir_, parts_})
    if (fs::is_directory(d, ec))
      for (const auto& e : fs::directory_iterator(d, ec))
        if (is_temporary(e.path())) fs::remove(e.path(), ec);
  // Results of another experiment are refused (or, with --force, removed).
  std::string held;
  if (fs::exists(parts_ + "/EXPERIMENT"))
    held = read_file(parts_ + "/EXPERIMENT");
  else if (fs::exists(dir_ + "/manifest.json"))
    held = manifest_experiment(dir_);
  if (!held.empty() && held != experiment_) {
    if (!force)
      throw ResultsDirError(dir_ + " holds the results of another experiment (id " + held + ", this one is " +
                            experiment_ + "); use --force to replace them, or another --out");
    for (const char* f : kOutputs) fs::remove_all(dir_ + "/" + f, ec);
  }
  fs::create_directories(parts_, ec);
  if (ec) throw ResultsDirError("cannot create " + parts_ + ": " + ec.message());
  if (!fs::exists(parts_ + "/EXPERIMENT")) write_file_atomic(parts_ + "/EXPERIMENT", experiment_);
}

ResultsDir::~ResultsDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

std::string ResultsDir::part_path(const std::string& config_id, const char* ext) const {
  return parts_ + "/" + config_id + ext;
}

bool ResultsDir::load(const SweepPoint& p, bool need_trials, ConfigResult* r) const {
  const std::string path = part_path(p.id, ".part");
  std::error_code ec;
  if (!fs::exists(path, ec)) return false;
  if (need_trials && !fs::exists(part_path(p.id, ".trials.csv.gz"), ec)) return false;
  const std::string bytes = read_file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::from_cbor(bytes);
  } catch (const std::exception& e) {
    throw ResultsDirError(path + ": not a readable part (" + e.what() + "); remove it to recompute that configuration");
  }
  if (j.value("format", 0) != kPartFormat || j.value("experiment", "") != experiment_ ||
      j.value("config_id", "") != p.id)
    throw ResultsDirError(path + ": a part of another experiment or format; remove it or use --force");
  ConfigResult out;
  out.point = &p;
  out.spec = stats_spec(p.config);
  out.layers = static_cast<int>(p.config.network.hidden.size());
  out.chunk_trials = j.at("chunk_trials").get<int>();
  out.workers = j.at("workers").get<int>();
  out.seconds = j.at("seconds").get<double>();
  out.agg.resize(std::size_t(out.layers) * kQuantities);
  for (const auto& a : j.at("aggregates")) {
    const int l = a.at("layer").get<int>(), q = a.at("quantity").get<int>();
    if (l < 0 || l >= out.layers || q < 0 || q >= kQuantities) throw ResultsDirError(path + ": bad layer or quantity");
    Aggregate& g = out.agg[std::size_t(l) * kQuantities + std::size_t(q)];
    g.per_statistic = moments_of(a.at("statistics"));
    g.hist = a.at("hist").get<std::vector<uint64_t>>();
    g.trials = a.at("trials").get<uint64_t>();
    g.values = a.at("values").get<uint64_t>();
  }
  *r = std::move(out);
  ++resumed_;
  return true;
}

std::unique_ptr<TrialsCsvGz> ResultsDir::trials_part(const SweepPoint& p) const {
  return std::make_unique<TrialsCsvGz>(part_path(p.id, ".trials.csv.gz"), "");
}

void ResultsDir::commit(const ConfigResult& r, TrialsCsvGz* trials) {
  if (trials) trials->commit();
  nlohmann::json j;
  j["format"] = kPartFormat;
  j["experiment"] = experiment_;
  j["config_id"] = r.point->id;
  j["trials"] = r.point->config.trials;
  j["chunk_trials"] = r.chunk_trials;
  j["workers"] = r.workers;
  j["seconds"] = r.seconds;
  j["aggregates"] = nlohmann::json::array();
  for (int l = 0; l < r.layers; ++l)
    for (int q = 0; q < kQuantities; ++q) {
      const Aggregate& a = r.aggregate(l, q);
      if (a.trials == 0 && a.per_statistic.empty()) continue;
      j["aggregates"].push_back({{"layer", l},
                                 {"quantity", q},
                                 {"statistics", moments_json(a.per_statistic)},
                                 {"hist", a.hist},
                                 {"trials", a.trials},
                                 {"values", a.values}});
    }
  const std::vector<uint8_t> cbor = nlohmann::json::to_cbor(j);  // doubles kept bit for bit
  write_file_atomic(part_path(r.point->id, ".part"), std::string(cbor.begin(), cbor.end()));
  // The journal: one line per committed configuration, appended and synced.
  const std::string line = nlohmann::json{{"config_id", r.point->id},
                                          {"trials", r.point->config.trials},
                                          {"seconds", r.seconds},
                                          {"per_trial", trials != nullptr}}
                               .dump() +
                           "\n";
  const std::string journal = parts_ + "/journal.jsonl";
  const int fd = ::open(journal.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + journal + ": " + std::strerror(errno));
  const bool ok = ::write(fd, line.data(), line.size()) == ssize_t(line.size()) && ::fsync(fd) == 0;
  const std::string err = std::strerror(errno);
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + journal + ": " + err);
}

void ResultsDir::assemble_trials(const Experiment& ex) const {
  // The header as a gzip member of its own, then each configuration's member(s) copied as they are.
  const std::string out = dir_ + "/trials.csv.gz";
  {
    TrialsCsvGz header(out, trials_csv_header(ex));
    header.commit();
  }
  const std::string tmp = out + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::copy_file(out, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) throw std::runtime_error("cannot write " + tmp + ": " + ec.message());
  {
    std::ofstream o(tmp, std::ios::binary | std::ios::app);
    for (const auto& p : ex.points) {
      std::ifstream in(part_path(p.id, ".trials.csv.gz"), std::ios::binary);
      if (!in) throw std::runtime_error("per-trial rows of configuration " + p.id + " are missing from " + parts_);
      o << in.rdbuf();
    }
    o.flush();
    if (!o) throw std::runtime_error("cannot write " + tmp);
  }
  const int fd = ::open(tmp.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + out + ": " + std::strerror(errno));
  }
}

}  // namespace isc
