// results_dir.cpp — the results folder's lock, identity, committed parts, journal and resume.
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
#include <sstream>

#include <nlohmann/json.hpp>

#include "host/app/output.h"

namespace isc {
namespace fs = std::filesystem;

namespace {

constexpr int kPartFormat = 2;

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

nlohmann::json part_json(const ConfigResult& r, const std::string& experiment) {
  nlohmann::json j;
  j["format"] = kPartFormat;
  j["experiment"] = experiment;
  j["config_id"] = r.point->id;
  j["first"] = r.first;
  j["end"] = r.end;
  j["chunk_trials"] = r.chunk_trials;
  j["workers"] = r.workers;
  j["seconds"] = r.seconds;
  j["cells"] = r.tree.cells();
  j["blocks"] = nlohmann::json::array();
  for (const auto& b : r.tree.block_list())
    j["blocks"].push_back({{"first", b.first}, {"size", b.size}, {"moments", moments_json(b.m)}});
  j["counts"] = nlohmann::json::array();
  for (int l = 0; l < r.layers; ++l)
    for (int q = 0; q < kQuantities; ++q) {
      const Aggregate& a = r.aggregate(l, q);
      if (a.hist.empty()) continue;
      j["counts"].push_back(
          {{"layer", l}, {"quantity", q}, {"hist", a.hist}, {"trials", a.trials}, {"values", a.values}});
    }
  return j;
}

// A committed part back as the result of trials [first, end) of p: the tree's blocks and the integer
// counts, then the statistics from them (as the run that wrote it had them).
ConfigResult read_part(const std::string& path, const SweepPoint& p, const std::string& experiment) {
  nlohmann::json j;
  try {
    j = nlohmann::json::from_cbor(read_file(path));
  } catch (const std::exception& e) {
    throw ResultsDirError(path + ": not a readable part (" + e.what() + "); remove it to recompute those trials");
  }
  if (j.value("format", 0) != kPartFormat || j.value("experiment", "") != experiment ||
      j.value("config_id", "") != p.id)
    throw ResultsDirError(path + ": a part of another experiment or format; remove it or use --force");
  ConfigResult part;
  part.point = &p;
  part.spec = stats_spec(p.config);
  part.layers = static_cast<int>(p.config.network.hidden.size());
  ConfigAggregator shape(p.config, part.spec, part.layers);  // p's cell and count layout, empty
  shape.finish(&part);
  try {
    part.first = j.at("first").get<uint64_t>();
    part.end = j.at("end").get<uint64_t>();
    part.chunk_trials = j.at("chunk_trials").get<int>();
    part.workers = j.at("workers").get<int>();
    part.seconds = j.at("seconds").get<double>();
    if (j.at("cells").get<std::size_t>() != part.tree.cells()) throw std::out_of_range("cells");
    for (const auto& b : j.at("blocks"))
      part.tree.insert({b.at("first").get<uint64_t>(), b.at("size").get<uint64_t>(), moments_of(b.at("moments"))});
    for (const auto& c : j.at("counts")) {
      const int l = c.at("layer").get<int>(), q = c.at("quantity").get<int>();
      if (l < 0 || l >= part.layers || q < 0 || q >= kQuantities) throw std::out_of_range("layer or quantity");
      Aggregate& a = part.agg[std::size_t(l) * kQuantities + std::size_t(q)];
      const auto hist = c.at("hist").get<std::vector<uint64_t>>();
      if (hist.size() != a.hist.size()) throw std::out_of_range("histogram size");
      a.hist = hist;
      a.trials = c.at("trials").get<uint64_t>();
      a.values = c.at("values").get<uint64_t>();
    }
    if (part.end <= part.first || part.tree.trials() != part.end - part.first)
      throw std::out_of_range("its blocks do not hold trials " + std::to_string(part.first) + "-" +
                              std::to_string(part.end));
    for (const auto& b : part.tree.block_list())
      if (b.first < part.first || b.first + b.size > part.end) throw std::out_of_range("a block outside its trials");
  } catch (const std::exception& e) {
    throw ResultsDirError(path + ": a damaged part (" + e.what() + "); remove it to recompute those trials");
  }
  // The statistics of this range, as the writing run had them.
  ConfigAggregator agg(p.config, part.spec, part.layers);
  agg.absorb(part);
  ConfigResult out = part;
  agg.finish(&out);
  return out;
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

ResultsDir::ResultsDir(const std::string& dir, const Experiment& ex, const ExperimentRecipe& recipe, bool force)
    : dir_(dir), parts_(dir + "/parts"), experiment_(experiment_id(ex)), lock_(dir) {
  std::error_code ec;
  // Temporary files of a killed run: nothing else writes here while we hold the lock.
  for (const std::string& d : {dir_, parts_})
    if (fs::is_directory(d, ec))
      for (const auto& e : fs::directory_iterator(d, ec))
        if (is_temporary(e.path())) fs::remove(e.path(), ec);
  // Results of another experiment are refused (or, with --force, removed).
  std::string held;
  if (fs::exists(parts_ + "/experiment.json")) {
    try {
      held = nlohmann::json::parse(read_file(parts_ + "/experiment.json")).at("experiment").get<std::string>();
    } catch (...) {
      held = "(unreadable " + parts_ + "/experiment.json)";
    }
  } else if (fs::exists(dir_ + "/manifest.json")) {
    held = manifest_experiment(dir_);
  }
  if (!held.empty() && held != experiment_) {
    if (!force)
      throw ResultsDirError(dir_ + " holds the results of another experiment (id " + held + ", this one is " +
                            experiment_ + "); use --force to replace them, or another --out");
    for (const char* f : kOutputs) fs::remove_all(dir_ + "/" + f, ec);
  }
  fs::create_directories(parts_, ec);
  if (ec) throw ResultsDirError("cannot create " + parts_ + ": " + ec.message());
  // The recipe of this run (the same experiment; its trial count may have grown), for merge.
  write_file_atomic(parts_ + "/experiment.json", recipe_json(experiment_, recipe).dump(2) + "\n");
}

ResultsDir::~ResultsDir() = default;

std::string ResultsDir::part_path(const std::string& config_id, uint64_t first, uint64_t end, const char* ext) const {
  return parts_ + "/" + config_id + "." + std::to_string(first) + "-" + std::to_string(end) + ext;
}

void ResultsDir::index_parts() const {
  if (indexed_) return;
  indexed_ = true;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parts_, ec)) {
    if (e.path().extension() != ".part") continue;
    const std::string name = e.path().filename().string();
    const auto dot = name.find('.');
    unsigned long long a = 0, b = 0;
    if (dot == std::string::npos || std::sscanf(name.c_str() + dot + 1, "%llu-%llu.part", &a, &b) != 2) continue;
    const std::string id = name.substr(0, dot);
    PartFile f{a, b, e.path().string(), part_path(id, a, b, ".trials.csv.gz")};
    if (!fs::exists(f.rows, ec)) f.rows.clear();
    index_[id].push_back(f);
  }
  for (auto& kv : index_)
    std::sort(kv.second.begin(), kv.second.end(),
              [](const PartFile& x, const PartFile& y) { return x.first < y.first; });
}

std::vector<ResultsDir::PartFile> ResultsDir::list_parts(const std::string& config_id) const {
  index_parts();
  const auto it = index_.find(config_id);
  return it == index_.end() ? std::vector<PartFile>{} : it->second;
}

std::vector<ConfigResult> ResultsDir::committed(const SweepPoint& p, uint64_t first, uint64_t end, bool need_trials) {
  std::vector<ConfigResult> out;
  uint64_t at = first;
  std::error_code ec;
  for (const PartFile& f : list_parts(p.id)) {
    if (f.end <= first || f.first >= end) continue;  // another unit's (a shard folder)
    if (f.first < first || f.end > end)
      throw ResultsDirError(f.part + ": trials " + std::to_string(f.first) + "-" + std::to_string(f.end) +
                            " of configuration " + p.id + " reach outside this run's " + std::to_string(first) + "-" +
                            std::to_string(end) + " (another trial count or sharding); use --force or another --out");
    if (f.first < at)
      throw ResultsDirError(f.part + ": overlaps trials before " + std::to_string(at) + " of configuration " + p.id +
                            "; remove one of them");
    if (need_trials && f.rows.empty()) {  // recomputed with its rows
      fs::remove(f.part, ec);
      auto& v = index_[p.id];
      v.erase(std::remove_if(v.begin(), v.end(), [&](const PartFile& x) { return x.part == f.part; }), v.end());
      continue;
    }
    out.push_back(read_part(f.part, p, experiment_));
    at = f.end;
    ++resumed_;
  }
  return out;
}

std::unique_ptr<TrialsCsvGz> ResultsDir::trials_part(const SweepPoint& p) const {
  return std::make_unique<TrialsCsvGz>(parts_ + "/" + p.id + ".rows", "");
}

void ResultsDir::commit(const ConfigResult& r, TrialsCsvGz* trials) {
  if (trials) trials->commit_as(part_path(r.point->id, r.first, r.end, ".trials.csv.gz"));
  const std::vector<uint8_t> cbor = nlohmann::json::to_cbor(part_json(r, experiment_));  // doubles bit for bit
  write_file_atomic(part_path(r.point->id, r.first, r.end, ".part"), std::string(cbor.begin(), cbor.end()));
  index_parts();
  auto& v = index_[r.point->id];
  v.erase(std::remove_if(v.begin(), v.end(), [&](const PartFile& x) { return x.first == r.first && x.end == r.end; }),
          v.end());
  v.push_back({r.first, r.end, part_path(r.point->id, r.first, r.end, ".part"),
               trials ? part_path(r.point->id, r.first, r.end, ".trials.csv.gz") : std::string()});
  std::sort(v.begin(), v.end(), [](const PartFile& x, const PartFile& y) { return x.first < y.first; });
  // The journal: one line per committed configuration, appended and synced.
  const std::string line = nlohmann::json{{"config_id", r.point->id},
                                          {"first", r.first},
                                          {"end", r.end},
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
  std::vector<std::string> files;
  for (const auto& p : ex.points)
    for (const PartFile& f : list_parts(p.id)) {
      if (f.rows.empty()) throw std::runtime_error("per-trial rows of " + f.part + " are missing");
      files.push_back(f.rows);
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
  try {
    std::ofstream o(tmp, std::ios::binary | std::ios::app);
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      if (!in) throw std::runtime_error("per-trial rows missing: " + f);
      o << in.rdbuf();
    }
    o.flush();
    if (!o) throw std::runtime_error("cannot write " + tmp + " (disk full or a file-size limit?)");
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
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

FolderParts read_parts(const std::string& dir) {
  FolderParts f;
  const std::string parts = dir + "/parts";
  nlohmann::json recipe;
  try {
    recipe = nlohmann::json::parse(read_file(parts + "/experiment.json"));
  } catch (const std::exception& e) {
    throw ResultsDirError(dir + ": no readable parts/experiment.json; not a results folder of a run");
  }
  Overrides ov;
  const auto& o = recipe.at("overrides");
  if (o.contains("trials")) ov.trials = o.at("trials").get<int64_t>();
  if (o.contains("seed")) ov.seed = o.at("seed").get<uint64_t>();
  if (o.contains("threads")) ov.threads = o.at("threads").get<int>();
  ov.sets = o.at("sets").get<std::vector<std::string>>();
  f.ex = std::make_unique<Experiment>(
      parse_experiment(recipe.at("text").get<std::string>(), recipe.at("source").get<std::string>(), ov));
  f.id = recipe.at("experiment").get<std::string>();
  if (experiment_id(*f.ex) != f.id)
    throw ResultsDirError(dir + ": parts/experiment.json does not re-create its experiment (id " + f.id + ")");
  std::map<std::string, const SweepPoint*> by_id;
  for (const auto& p : f.ex->points) by_id[p.id] = &p;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(parts))
    if (e.path().extension() == ".part") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    const auto it = by_id.find(name.substr(0, name.find('.')));
    if (it == by_id.end()) throw ResultsDirError(path.string() + ": a part of no configuration of this experiment");
    f.parts.push_back(read_part(path.string(), *it->second, f.id));
    std::string rows = path.string();
    rows.replace(rows.size() - 5, 5, ".trials.csv.gz");
    f.trials.push_back(fs::exists(rows) ? rows : "");
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
    agg.finish(&r);
    results.push_back(std::move(r));
  }
  m.ex = std::move(in[0].ex);  // the results point into it (moved, not copied: the points stay put)
  m.results = std::move(results);
  if (!rows) m.trials.clear();
  return m;
}

}  // namespace isc
