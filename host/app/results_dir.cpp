// results_dir.cpp — the results folder's lock, identity, committed parts (the log) and resume.
#include "host/app/results_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include <nlohmann/json.hpp>

#include "host/app/output.h"
#include "host/app/parts_log.h"

namespace isc {
namespace fs = std::filesystem;

namespace {

// A temporary file of a killed run: NAME.tmp.PID.
bool is_temporary(const fs::path& p) { return p.filename().string().find(".tmp.") != std::string::npos; }

// The outputs of a run (removed with --force, so that nothing of the older run stays beside the new).
const char* const kOutputs[] = {"stats.csv",     "histograms.csv", "theory.csv",  "trials.csv", "trials.csv.gz",
                                "examples.json", "manifest.json",  "report.html", "figures",    "parts"};

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

// A committed range replaces the earlier ranges of its configuration that it overlaps (a range
// recomputed to keep its per-trial rows, or after a stop); refs stay in trial order.
void add_ref(std::vector<ResultsDir::PartRef>& v, ResultsDir::PartRef r) {
  v.erase(std::remove_if(v.begin(), v.end(),
                         [&](const ResultsDir::PartRef& x) { return x.first < r.end && r.first < x.end; }),
          v.end());
  const auto at = std::lower_bound(v.begin(), v.end(), r.first,
                                   [](const ResultsDir::PartRef& x, uint64_t f) { return x.first < f; });
  v.insert(at, std::move(r));
}

std::string range_path(const std::string& parts, const std::string& id, uint64_t first, uint64_t end, const char* ext) {
  return parts + "/" + id + "." + std::to_string(first) + "-" + std::to_string(end) + ext;
}

// A parts folder's committed ranges by configuration, from the log's records in the order they were
// appended. Part files of an older initscope (format 2, a CBOR file per range) are refused.
std::map<std::string, std::vector<ResultsDir::PartRef>> index_parts(const std::string& parts, const PartsLog* log) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parts, ec))
    if (e.path().extension() == ".part")
      throw ResultsDirError(parts + " holds parts of an older initscope (" + e.path().filename().string() +
                            ", one file per range); finish that run with the version that started it, or use "
                            "--force to start over");
  std::map<std::string, std::vector<ResultsDir::PartRef>> index;
  if (log)
    for (std::size_t k = 0; k < log->records().size(); ++k) {
      const PartHeader& h = log->records()[k].head;
      ResultsDir::PartRef r;
      r.first = h.first;
      r.end = h.end;
      r.record = int(k);
      if (h.rows) r.rows = range_path(parts, h.config_id, h.first, h.end, ".trials.csv.gz");
      if (!r.rows.empty() && !fs::exists(r.rows, ec)) r.rows.clear();
      add_ref(index[h.config_id], std::move(r));
    }
  return index;
}

// A committed range read back as the result of its trials of p.
ConfigResult load_part(PartsLog* log, const ResultsDir::PartRef& f, const SweepPoint& p,
                       const std::string& experiment) {
  const PartsLog::Record& rec = log->records()[std::size_t(f.record)];
  const std::string where = log->path() + ": the record of configuration " + p.id + ", trials " +
                            std::to_string(f.first) + "-" + std::to_string(f.end) + " (byte " +
                            std::to_string(rec.offset) + ")";
  if (rec.head.experiment != experiment)
    throw ResultsDirError(where + " belongs to another experiment (id " + rec.head.experiment +
                          "); use --force to start over, or another --out");
  try {
    return decode_part(log->payload(rec), p);
  } catch (const std::exception& e) {
    throw ResultsDirError(where + " cannot be read (" + e.what() + "); use --force to start over");
  }
}
}  // namespace

std::string experiment_id(const Experiment& ex) {
  std::string ids;
  for (const auto& p : ex.points) ids += p.id + "\n";
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(ids)));
  return buf;
}

namespace {
nlohmann::json recipe_json(const std::string& id, const ExperimentRecipe& r) {
  nlohmann::json o = nlohmann::json::object();
  if (r.overrides.trials) o["trials"] = *r.overrides.trials;
  if (r.overrides.seed) o["seed"] = *r.overrides.seed;
  if (r.overrides.threads) o["threads"] = *r.overrides.threads;
  o["sets"] = r.overrides.sets;
  return {{"experiment", id}, {"source", r.source}, {"text", r.text}, {"overrides", o}};
}
}  // namespace

FolderLock::FolderLock(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw ResultsDirError("cannot create output folder " + dir + ": " + ec.message());
  const std::string lock = dir + "/.initscope.lock";
  fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT, 0644);
  if (fd_ < 0) throw ResultsDirError("cannot open " + lock + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw ResultsDirError(dir + " is in use by another initscope run (its lock " + lock +
                          " is held); wait for it or use another --out");
  }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

void prepare_results_folder(const std::string& dir, const std::string& experiment, bool force) {
  const std::string parts = dir + "/parts";
  std::error_code ec;
  // Temporary files of a killed run: nothing else writes here while the caller holds the lock.
  for (const std::string& d : {dir, parts})
    if (fs::is_directory(d, ec))
      for (const auto& e : fs::directory_iterator(d, ec))
        if (is_temporary(e.path())) fs::remove(e.path(), ec);
  // Results of another experiment are refused (or, with --force, removed).
  std::string held;
  if (fs::exists(parts + "/experiment.json", ec)) {
    try {
      held = nlohmann::json::parse(read_file(parts + "/experiment.json")).at("experiment").get<std::string>();
    } catch (...) {
      held = "(unreadable " + parts + "/experiment.json)";
    }
  } else if (fs::exists(dir + "/manifest.json", ec)) {
    held = manifest_experiment(dir);
  }
  if (!held.empty() && held != experiment) {
    if (!force)
      throw ResultsDirError(dir + " holds the results of another experiment (id " + held + ", this one is " +
                            experiment + "); use --force to replace them, or another --out");
    for (const char* f : kOutputs) fs::remove_all(dir + "/" + f, ec);
    return;
  }
  // Files a run replaces, in a folder no run has written: not initscope's (a parts folder alone may
  // be a run killed before its experiment.json was in place).
  if (held.empty())
    for (const char* f : kOutputs) {
      if (std::string(f) == "parts" || !fs::exists(dir + "/" + f, ec)) continue;
      if (!force)
        throw ResultsDirError(dir + "/" + f + " is not from an initscope run, and a run replaces it (" + dir +
                              " holds no manifest.json or parts/experiment.json of one); use another --out, or --force "
                              "to replace it");
      fs::remove_all(dir + "/" + f, ec);
    }
}

ResultsDir::ResultsDir(const std::string& dir, const Experiment& ex, const ExperimentRecipe& recipe, bool force)
    : dir_(dir), parts_(dir + "/parts"), experiment_(experiment_id(ex)), lock_(dir) {
  std::error_code ec;
  prepare_results_folder(dir_, experiment_, force);
  fs::create_directories(parts_, ec);
  if (ec) throw ResultsDirError("cannot create " + parts_ + ": " + ec.message());
  try {
    try {
      log_ = std::make_unique<PartsLog>(parts_ + "/parts.log", true);
    } catch (const PartsLogFormatError&) {
      if (!force) throw;
      // --force: start over (the parts and their per-trial rows; experiment.json is this run's).
      for (const auto& e : fs::directory_iterator(parts_, ec))
        if (e.path().filename() != "experiment.json") fs::remove_all(e.path(), ec);
      log_ = std::make_unique<PartsLog>(parts_ + "/parts.log", true);
    }
  } catch (const std::exception& e) {
    throw ResultsDirError(e.what());
  }
  // The recipe of this run (the same experiment; its trial count may have grown), for merge. It is
  // committed (written, synced, renamed) on a thread of its own, so the run starts without waiting
  // for the disk (about 1.5 ms here), and the log writes no record before it is in place. (After the
  // log is opened: --force above empties this folder but for experiment.json.)
  log_->write_after(std::async(std::launch::async | std::launch::deferred,
                               [path = parts_ + "/experiment.json", text = recipe_json(experiment_, recipe).dump(2) +
                                                                           "\n"] { write_file_atomic(path, text); }));
  index_ = index_parts(parts_, log_.get());
}

ResultsDir::~ResultsDir() = default;

std::string ResultsDir::rows_path(const std::string& config_id, uint64_t first, uint64_t end) const {
  return range_path(parts_, config_id, first, end, ".trials.csv.gz");
}

uint64_t ResultsDir::damaged_bytes() const { return log_->damaged_bytes(); }

std::vector<ConfigResult> ResultsDir::committed(const SweepPoint& p, uint64_t first, uint64_t end, bool need_trials) {
  std::vector<ConfigResult> out;
  const auto it = index_.find(p.id);
  if (it == index_.end()) return out;
  for (const PartRef& f : it->second) {
    if (f.end <= first || f.first >= end) continue;  // another unit's (a shard folder)
    const std::string what = log_->path() + ": trials " + std::to_string(f.first) + "-" + std::to_string(f.end) +
                             " of configuration " + p.id;
    if (f.first < first || f.end > end)
      throw ResultsDirError(what + " reach outside this run's " + std::to_string(first) + "-" + std::to_string(end) +
                            " (another trial count or sharding); use --force or another --out");
    if (need_trials && f.rows.empty()) continue;  // recomputed with its rows; the new record replaces it
    out.push_back(load_part(log_.get(), f, p, experiment_));
    ++resumed_;
  }
  return out;
}

std::unique_ptr<TrialsCsvGz> ResultsDir::trials_part(const SweepPoint& p) const {
  return std::make_unique<TrialsCsvGz>(parts_ + "/" + p.id + ".rows", "");
}

void ResultsDir::commit(const ConfigResult& r, TrialsCsvGz* trials) {
  const std::string rows = trials ? rows_path(r.point->id, r.first, r.end) : std::string();
  if (trials) trials->commit_as(rows);
  log_->append(encode_part(r, experiment_, trials != nullptr));
  PartRef ref;
  ref.first = r.first;
  ref.end = r.end;
  ref.record = int(log_->records().size() - 1);
  ref.rows = rows;
  add_ref(index_[r.point->id], std::move(ref));
  log_->maybe_sync();
}

void ResultsDir::sync() { log_->sync(); }

void ResultsDir::assemble_trials(const Experiment& ex) const {
  std::vector<std::string> files;
  for (const auto& p : ex.points) {
    const auto it = index_.find(p.id);
    if (it == index_.end()) continue;
    for (const PartRef& f : it->second) {
      if (f.rows.empty())
        throw std::runtime_error("per-trial rows of trials " + std::to_string(f.first) + "-" + std::to_string(f.end) +
                                 " of configuration " + p.id + " are missing");
      files.push_back(f.rows);
    }
  }
  concatenate_trials(dir_, ex, files);
}

void concatenate_trials(const std::string& dir, const Experiment& ex, const std::vector<std::string>& files) {
  // The header as a gzip member of its own, then each part's member(s) copied as they are.
  const std::string out = dir + "/trials.csv.gz";
  const std::string tmp = out + ".tmp." + std::to_string(::getpid());
  {
    TrialsCsvGz header(out + ".tmp.head", trials_csv_header(ex));
    header.commit();
  }
  std::error_code ec;
  fs::rename(out + ".tmp.head", tmp, ec);
  if (ec) throw std::runtime_error("cannot write " + tmp + ": " + ec.message());
  // Copied with write(2), so that a failure names its reason (a full disk, a file-size limit).
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  try {
    std::vector<char> buf(1 << 20);
    const auto fail = [&](int err) { throw std::runtime_error("cannot write " + tmp + ": " + write_error(err)); };
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      if (!in) throw std::runtime_error("per-trial rows missing: " + f);
      while (in.read(buf.data(), std::streamsize(buf.size())) || in.gcount() > 0)
        if (const int err = write_all(fd, buf.data(), std::size_t(in.gcount())); err != 0) fail(err);
      if (in.bad()) throw std::runtime_error("cannot read " + f);
    }
    if (::fsync(fd) != 0) fail(errno);
  } catch (...) {
    ::close(fd);
    fs::remove(tmp, ec);
    throw;
  }
  if (::close(fd) != 0) {
    const std::string err = std::strerror(errno);
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write " + tmp + ": " + err);
  }
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + out + ": " + std::strerror(errno));
  }
}

FolderParts read_parts(const std::string& dir) {
  FolderParts f;
  const std::string parts = dir + "/parts";
  nlohmann::json recipe;
  try {
    recipe = nlohmann::json::parse(read_file(parts + "/experiment.json"));
  } catch (const std::exception& e) {
    throw ResultsDirError(dir + ": no readable parts/experiment.json; not a results folder of a run");
  }
  // The experiment it holds, made again (a damaged file, valid JSON or not, is named: its config
  // text's own errors would otherwise read as the user's config file's).
  try {
    Overrides ov;
    const auto& o = recipe.at("overrides");
    if (o.contains("trials")) ov.trials = o.at("trials").get<int64_t>();
    if (o.contains("seed")) ov.seed = o.at("seed").get<uint64_t>();
    if (o.contains("threads")) ov.threads = o.at("threads").get<int>();
    ov.sets = o.at("sets").get<std::vector<std::string>>();
    f.ex = std::make_unique<Experiment>(
        parse_experiment(recipe.at("text").get<std::string>(), recipe.at("source").get<std::string>(), ov));
    f.id = recipe.at("experiment").get<std::string>();
  } catch (const std::exception& e) {
    throw ResultsDirError(dir + ": parts/experiment.json is damaged (" + e.what() + "); not a results folder of a run");
  }
  if (experiment_id(*f.ex) != f.id)
    throw ResultsDirError(dir + ": parts/experiment.json does not re-create its experiment (id " + f.id + ")");
  std::map<std::string, const SweepPoint*> by_id;
  for (const auto& p : f.ex->points) by_id[p.id] = &p;
  std::unique_ptr<PartsLog> log;
  if (fs::exists(parts + "/parts.log")) {
    try {
      log = std::make_unique<PartsLog>(parts + "/parts.log", false);
    } catch (const std::exception& e) {
      throw ResultsDirError(e.what());
    }
    if (log->damaged_bytes() > 0)
      std::fprintf(stderr, "initscope: %s/parts.log ends in %llu damaged bytes (a run killed while writing), ignored\n",
                   parts.c_str(), static_cast<unsigned long long>(log->damaged_bytes()));
  }
  for (const auto& [id, refs] : index_parts(parts, log.get())) {
    const auto it = by_id.find(id);
    if (it == by_id.end())
      throw ResultsDirError(parts + ": a part of no configuration of this experiment (" + id + ")");
    for (const auto& r : refs) {
      f.parts.push_back(load_part(log.get(), r, *it->second, f.id));
      f.trials.push_back(r.rows);
    }
  }
  return f;
}

Merged merge_folders(const std::vector<std::string>& dirs) {
  if (dirs.empty()) throw ResultsDirError("merge: no folders given");
  Merged m;
  std::vector<FolderParts> in;
  for (const auto& d : dirs) in.push_back(read_parts(d));
  for (std::size_t k = 1; k < in.size(); ++k)
    if (in[k].id != in[0].id)
      throw ResultsDirError("merge: " + dirs[k] + " holds another experiment (id " + in[k].id + ") than " + dirs[0] +
                            " (id " + in[0].id + ")");
  bool rows = true;
  std::vector<ConfigResult> results;
  for (const auto& p : in[0].ex->points) {
    // This configuration's ranges from every folder, in trial order; they must tile [0, trials).
    struct Piece {
      const ConfigResult* r;
      std::string dir, rows;
    };
    std::vector<Piece> pieces;
    for (std::size_t k = 0; k < in.size(); ++k)
      for (std::size_t j = 0; j < in[k].parts.size(); ++j)
        if (in[k].parts[j].point->id == p.id) pieces.push_back({&in[k].parts[j], dirs[k], in[k].trials[j]});
    std::sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) { return a.r->first < b.r->first; });
    uint64_t at = 0;
    for (const auto& pc : pieces) {
      if (pc.r->first < at)
        throw ResultsDirError("merge: configuration " + p.id + ": trials " + std::to_string(pc.r->first) + "-" +
                              std::to_string(pc.r->end) + " in " + pc.dir + " overlap trials before " +
                              std::to_string(at) + " from another folder");
      if (pc.r->first > at)
        throw ResultsDirError("merge: configuration " + p.id + ": trials " + std::to_string(at) + "-" +
                              std::to_string(pc.r->first) + " are in none of the folders");
      at = pc.r->end;
    }
    if (at != uint64_t(p.config.trials))
      throw ResultsDirError("merge: configuration " + p.id + ": trials " + std::to_string(at) + "-" +
                            std::to_string(p.config.trials) + " are in none of the folders");
    ConfigAggregator agg(p.config, stats_spec(p.config), int(p.config.network.hidden.size()));
    ConfigResult r;
    r.point = &p;
    r.spec = stats_spec(p.config);
    r.layers = int(p.config.network.hidden.size());
    r.end = at;
    for (const auto& pc : pieces) {
      agg.absorb(*pc.r);
      r.seconds += pc.r->seconds;
      r.chunk_trials = std::max(r.chunk_trials, pc.r->chunk_trials);
      r.workers = std::max(r.workers, pc.r->workers);
      rows = rows && !pc.rows.empty();
      m.trials.push_back(pc.rows);
    }
    std::move(agg).finish(&r);
    results.push_back(std::move(r));
  }
  m.ex = std::move(in[0].ex);  // the results point into it (moved, not copied: the points stay put)
  m.results = std::move(results);
  if (!rows) m.trials.clear();
  return m;
}

}  // namespace isc
