// results_writer.cpp — streams the tidy CSVs to temporary files as configurations finish (rows rendered
// by a writer thread), then commits them and the manifest.
#include "host/app/results_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <stdexcept>

#include "host/app/data_source.h"
#include "host/app/theory.h"

namespace isc {
namespace {

// The mean-field theory describes networks at initialization: a trained network's evaluation
// points after update 0 have no theory rows.
bool has_theory(const Config& c) { return !c.train.on() || c.train.update == 0; }

constexpr std::size_t kFlushBytes = 1 << 20;

// Size and CRC-32 of a file, read in pieces.
std::pair<uint64_t, uint32_t> file_check(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  uint32_t crc = 0;
  uint64_t bytes = 0;
  std::vector<char> buf(1 << 20);
  while (in.read(buf.data(), std::streamsize(buf.size())) || in.gcount() > 0) {
    crc = crc32_of(buf.data(), std::size_t(in.gcount()), crc);
    bytes += uint64_t(in.gcount());
  }
  return {bytes, crc};
}

}  // namespace

ResultsWriter::ResultsWriter(const std::string& dir, const Experiment& ex, const std::string& command_line)
    : dir_(dir), ex_(ex), head_(manifest_head(command_line)) {
  const char* names[4] = {"stats.csv", "histograms.csv", "theory.csv", "manifest.json"};
  const std::string headers[4] = {stats_csv_header(ex), histograms_csv_header(ex), theory_csv_header(ex), head_};
  for (int k = 0; k < 4; ++k) {
    File& f = files_[k];
    f.name = names[k];
    f.tmp = dir + "/" + f.name + ".tmp." + std::to_string(::getpid());
    f.crc = 0;
    f.fd = ::open(f.tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f.fd < 0) throw std::runtime_error("cannot write " + f.tmp + ": " + std::strerror(errno));
    f.slot = sync_.add(f.fd);
    f.buf = headers[k];
  }
  thread_ = std::thread([this] { work(); });
}

ResultsWriter::~ResultsWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (File& f : files_) {
    if (f.fd >= 0) {
      sync_.remove(f.slot);
      ::close(f.fd);
    }
    if (!finished_ && !f.tmp.empty()) ::unlink(f.tmp.c_str());
  }
}

void ResultsWriter::flush(File& f, bool all) {
  if (f.buf.empty() || (!all && f.buf.size() < kFlushBytes)) return;
  f.crc = crc32_of(f.buf.data(), f.buf.size(), f.crc);
  if (const int err = write_all(f.fd, f.buf.data(), f.buf.size()); err != 0)
    throw std::runtime_error("cannot write " + f.tmp + ": " + write_error(err));
  f.bytes += f.buf.size();
  f.buf.clear();
  // Start writing what is complete to disk now, without waiting, and have it made durable in the
  // background: finish()'s fsync then has little left. Handing the bytes to the disk alone did not
  // suffice on a VM's disk (ext4 on virtio): there the final sync of a 1,000-configuration sweep's
  // 48 MB took 7-70 ms, as long as with nothing handed over (docs/benchmarks.md).
  ::sync_file_range(f.fd, off_t(f.synced), off_t(f.bytes - f.synced), SYNC_FILE_RANGE_WRITE);
  f.synced = f.bytes;
  sync_.wrote(f.slot);
}

void ResultsWriter::write_rows(const ConfigResult& r, const std::vector<LayerTheory>& theory) {
  append_stats_rows(files_[0].buf, r);
  hist_.append_rows(files_[1].buf, r);
  append_theory_rows(files_[2].buf, r, theory);
  File& m = files_[kManifest];
  m.buf += manifest_entry_joint(entries_++);
  m.buf += manifest_entry_text(r);
  for (File& f : files_) flush(f, false);
}

void ResultsWriter::work() {
  std::size_t theory_next = 0;  // the next configuration whose theory is computed ahead
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    const bool ready = !queue_.empty() &&
                       (draining_ || closing_ || finishing_ || queue_.size() >= kBatch ||
                        added_ + kBatch >= ex_.points.size() || std::chrono::steady_clock::now() - oldest_ >= kLatency);
    if (ready && !error_) {
      ConfigResult r = std::move(queue_.front());
      queue_.pop_front();
      draining_ = !queue_.empty();
      busy_ = true;
      const std::size_t i = std::size_t(r.point - ex_.points.data());
      std::vector<LayerTheory> theory;
      const auto it = ahead_.find(i);
      if (it != ahead_.end()) {
        theory = std::move(it->second);
        ahead_.erase(it);
      }
      lock.unlock();
      cv_.notify_all();  // room in the queue
      std::exception_ptr failed;
      try {
        if (theory.empty() && has_theory(r.point->config)) theory = mean_field(r.point->config);
        write_rows(r, theory);
      } catch (...) {
        failed = std::current_exception();
      }
      lock.lock();
      if (failed && !error_) error_ = failed;
      busy_ = false;
      cv_.notify_all();
      continue;
    }
    // Nothing to write: the theory of a configuration ahead (a later one than any queued).
    theory_next = std::max(theory_next, added_);
    if (!closing_ && !error_ && theory_next < ex_.points.size() && theory_next < added_ + kAhead) {
      const std::size_t i = theory_next++;
      lock.unlock();
      std::vector<LayerTheory> t;
      try {
        if (has_theory(ex_.points[i].config)) t = mean_field(ex_.points[i].config);
      } catch (...) {
        // Computed again when its rows are written, which reports the error.
      }
      lock.lock();
      if (!t.empty() && i >= added_) ahead_[i] = std::move(t);
      continue;
    }
    if (closing_) return;
    if (queue_.empty())
      cv_.wait(lock);
    else
      cv_.wait_until(lock, oldest_ + kLatency);
  }
}

void ResultsWriter::add(ConfigResult&& r) {
  if (r.point < ex_.points.data() || r.point >= ex_.points.data() + ex_.points.size())
    throw std::logic_error("ResultsWriter: a result of another experiment");
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return queue_.size() < kQueue || error_; });
  if (error_) std::rethrow_exception(error_);
  if (queue_.empty()) oldest_ = std::chrono::steady_clock::now();
  queue_.push_back(std::move(r));
  ++added_;
  // The last configurations each wake it: their rows are then written while the last ones compute, not
  // all after the last.
  const bool wake = queue_.size() >= kBatch || added_ + kBatch >= ex_.points.size();
  lock.unlock();
  if (wake) cv_.notify_all();
}

void ResultsWriter::finish(RunInfo info, const std::function<void()>& before_commit) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    finishing_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return (queue_.empty() && !busy_) || error_; });
    closing_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (error_) std::rethrow_exception(error_);
  // The three CSVs are synced on threads of their own while the manifest is completed and synced:
  // each fsync waits for the disk (about 0.3-1 ms each here), and they overlap.
  for (std::size_t k = 0; k < kCsvs; ++k) {
    File& f = files_[k];
    flush(f, true);
    info.files[f.name] = {f.bytes, f.crc};
  }
  // (async or, where no thread can be started, deferred to get(); an async one's future waits for
  // it when destroyed, so none outlives this call.)
  // A sync that failed in the background counts too (the file's own fsync may not see it again).
  std::vector<std::future<int>> syncs;  // each file's fsync: 0, or its errno
  for (std::size_t k = 0; k < kCsvs; ++k)
    syncs.push_back(std::async(std::launch::async | std::launch::deferred, [this, k] {
      // (out of the background first: it would sync again what this fsync covers)
      const int before = sync_.remove(files_[k].slot), err = ::fsync(files_[k].fd) == 0 ? 0 : errno;
      return err != 0 ? err : before;
    }));
  if (info.per_trial) info.files["trials.csv.gz"] = file_check(dir_ + "/trials.csv.gz");
  // The examples the networks saw, when they came from a data set (the first such configuration's).
  std::string examples;
  for (const auto& p : ex_.points)
    if (!drawn_input(p.config.data)) {
      examples = examples_json(p.config);
      info.files["examples.json"] = {examples.size(), crc32_of(examples.data(), examples.size())};
      break;
    }
  // The manifest: its entries are on disk; the tail (the run's facts, the files' checks) completes it.
  const std::string manifest = dir_ + "/manifest.json";
  File& m = files_[kManifest];
  const ManifestParts parts = manifest_parts(ex_, info);
  flush(m, true);
  if (parts.head == head_) {
    m.buf = manifest_entries_end(entries_) + parts.tail;
    flush(m, true);
    const int before = sync_.remove(m.slot);
    int err = ::fsync(m.fd) == 0 ? 0 : errno;
    if (err == 0) err = before;
    if (::close(m.fd) != 0 && err == 0) err = errno;
    m.fd = -1;
    if (err != 0) throw std::runtime_error("cannot flush " + m.tmp + ": " + std::strerror(err));
  } else {
    // Another command line than the one the head was streamed with: the document again, around the
    // entries already written (write_file_synced writes the same temporary name, and syncs it).
    std::string entries;
    {
      std::ifstream in(m.tmp, std::ios::binary);
      in.seekg(std::streamoff(head_.size()));
      entries.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (in.bad()) throw std::runtime_error("cannot read back " + m.tmp);
    }
    sync_.remove(m.slot);
    ::close(m.fd);
    m.fd = -1;
    write_file_synced(manifest, parts.head + entries + manifest_entries_end(entries_) + parts.tail);
  }
  for (std::size_t k = 0; k < kCsvs; ++k) {
    File& f = files_[k];
    const int synced = syncs[k].get();
    const int err = synced != 0 ? synced : (::close(f.fd) == 0 ? 0 : errno);
    f.fd = -1;
    if (err != 0) throw std::runtime_error("cannot flush " + f.tmp + ": " + std::strerror(err));
  }
  if (before_commit) before_commit();
  // Figures and report.html drawn from earlier outputs would contradict these: they go first, and
  // `initscope plot` (after the run, unless --no-plot) draws them again.
  std::error_code ec;
  std::filesystem::remove_all(dir_ + "/figures", ec);
  std::filesystem::remove(dir_ + "/report.html", ec);
  for (std::size_t k = 0; k < kCsvs; ++k) {
    File& f = files_[k];
    const std::string path = dir_ + "/" + f.name;
    if (::rename(f.tmp.c_str(), path.c_str()) != 0)
      throw std::runtime_error("cannot rename " + f.tmp + " to " + path + ": " + std::strerror(errno));
    f.tmp.clear();
  }
  std::filesystem::remove(dir_ + "/trials.csv", ec);
  if (!info.per_trial) std::filesystem::remove(dir_ + "/trials.csv.gz", ec);
  if (examples.empty())
    std::filesystem::remove(dir_ + "/examples.json", ec);
  else
    write_file_atomic(dir_ + "/examples.json", examples);
  commit_file(m.tmp, manifest);
  m.tmp.clear();
  finished_ = true;
}

void write_results(const std::string& dir, const Experiment& ex, const std::vector<ConfigResult>& rs,
                   const RunInfo& info) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create output folder " + dir + ": " + ec.message());
  ResultsWriter w(dir, ex, info.command_line);
  for (const auto& r : rs) w.add(ConfigResult(r));
  w.finish(info);
}

}  // namespace isc
