// parts_log.cpp — the parts log's record format, its scan (cutting off a damaged tail), appends and syncs.
#include "host/app/parts_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "host/app/background_sync.h"
#include "host/app/binary_io.h"
#include "host/app/output.h"

namespace isc {

namespace {

// 4: histogram counts as LEB128 varints (3 wrote them as 8 bytes each: half of a small
// configuration's record was zero bytes); 2 was a CBOR file per part. Older formats are refused.
constexpr uint32_t kFormat = 4;
constexpr char kMagic[4] = {'I', 'S', 'C', 'P'};

// The record header: magic, format, payload size, CRC-32 of the payload, CRC-32 of the 20 bytes before.
struct RecordHead {
  char magic[4];
  uint32_t format;
  uint64_t size;
  uint32_t payload_crc;
  uint32_t head_crc;
};
static_assert(sizeof(RecordHead) == 24, "packed record header");

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

using Writer = BinaryWriter;
using Reader = BinaryReader;

void put_moments(Writer& w, const Moments& m) {
  w.put(m.n);
  w.put(m.mean);
  w.put(m.m2);
  w.put(m.min);
  w.put(m.max);
}

Moments get_moments(Reader& r) {
  Moments m;
  m.n = r.get<double>();
  m.mean = r.get<double>();
  m.m2 = r.get<double>();
  m.min = r.get<float>();
  m.max = r.get<float>();
  return m;
}

PartHeader read_header(Reader& r) {
  PartHeader h;
  h.experiment = r.str();
  h.config_id = r.str();
  h.first = r.get<uint64_t>();
  h.end = r.get<uint64_t>();
  h.rows = r.get<uint8_t>() != 0;
  if (h.end <= h.first) throw std::runtime_error("an empty range of trials");
  return h;
}

}  // namespace

std::string encode_part(const ConfigResult& r, const std::string& experiment, bool rows) {
  Writer w;
  std::size_t bytes = 256 + experiment.size() + r.point->id.size() + r.agg.size() * 40;
  for (const Aggregate& a : r.agg) bytes += a.hist.size() * 3;
  bytes += r.tree.cells() * sizeof(Moments) * 4;  // a few blocks
  w.reserve(bytes);
  w.str(experiment);
  w.str(r.point->id);
  w.put<uint64_t>(r.first);
  w.put<uint64_t>(r.end);
  w.put<uint8_t>(rows ? 1 : 0);
  w.put<int32_t>(r.chunk_trials);
  w.put<int32_t>(r.workers);
  w.put<double>(r.seconds);
  const std::size_t cells = r.tree.cells();
  w.put<uint64_t>(cells);
  w.put<uint64_t>(r.tree.blocks());
  r.tree.each_block([&](const TreeAggregate::Block& b) {
    w.put<uint64_t>(b.first);
    w.put<uint64_t>(b.size);
    for (const Moments& m : b.m) put_moments(w, m);
  });
  uint64_t counted = 0;
  for (const Aggregate& a : r.agg) counted += a.hist.empty() ? 0 : 1;
  w.put<uint64_t>(counted);
  for (int l = 0; l < r.layers; ++l)
    for (int q = 0; q < kQuantities; ++q) {
      const Aggregate& a = r.aggregate(l, q);
      if (a.hist.empty()) continue;
      w.put<int32_t>(l);
      w.put<int32_t>(q);
      w.put<uint64_t>(a.trials);
      w.put<uint64_t>(a.values);
      w.put<uint64_t>(a.hist.size());
      for (uint64_t c : a.hist) w.varint(c);
    }
  return w.take();
}

PartHeader decode_part_header(const std::string& payload) {
  Reader r(payload);
  return read_header(r);
}

ConfigResult decode_part(const std::string& payload, const SweepPoint& p) {
  Reader rd(payload);
  const PartHeader h = read_header(rd);
  if (h.config_id != p.id) throw std::logic_error("decode_part: a part of another configuration");
  ConfigResult part;
  part.point = &p;
  part.spec = stats_spec(p.config);
  part.layers = static_cast<int>(p.config.network.hidden.size());
  ConfigAggregator shape(p.config, part.spec, part.layers);  // p's cell and count layout, empty
  std::move(shape).finish(&part);
  part.first = h.first;
  part.end = h.end;
  part.chunk_trials = rd.get<int32_t>();
  part.workers = rd.get<int32_t>();
  part.seconds = rd.get<double>();
  const uint64_t cells = rd.get<uint64_t>();
  if (cells != part.tree.cells())
    throw std::runtime_error("it holds " + std::to_string(cells) + " statistics per trial, this configuration has " +
                             std::to_string(part.tree.cells()));
  const uint64_t blocks = rd.count(16);
  for (uint64_t k = 0; k < blocks; ++k) {
    TreeAggregate::Block b;
    b.first = rd.get<uint64_t>();
    b.size = rd.get<uint64_t>();
    if (b.size == 0 || b.first % b.size != 0 || b.first < h.first || b.first + b.size > h.end ||
        b.first + b.size < b.first)
      throw std::runtime_error("a block outside its trials");
    b.m.resize(cells);
    for (auto& m : b.m) m = get_moments(rd);
    part.tree.insert(std::move(b));  // throws std::logic_error for overlapping blocks
  }
  if (part.tree.trials() != h.end - h.first)
    throw std::runtime_error("its blocks do not hold trials " + std::to_string(h.first) + "-" + std::to_string(h.end));
  const uint64_t counts = rd.count(34);
  for (uint64_t k = 0; k < counts; ++k) {
    const int l = rd.get<int32_t>(), q = rd.get<int32_t>();
    if (l < 0 || l >= part.layers || q < 0 || q >= kQuantities) throw std::runtime_error("a layer or quantity outside");
    Aggregate& a = part.agg[std::size_t(l) * kQuantities + std::size_t(q)];
    a.trials = rd.get<uint64_t>();
    a.values = rd.get<uint64_t>();
    const uint64_t bins = rd.count(1);
    if (bins != a.hist.size()) throw std::runtime_error("a histogram of another size");
    for (auto& c : a.hist) c = rd.varint();
  }
  if (!rd.done()) throw std::runtime_error("bytes after the end of the part");
  // The statistics of this range, as the writing run had them.
  ConfigAggregator agg(p.config, part.spec, part.layers);
  agg.absorb(part);
  ConfigResult out = part;
  std::move(agg).finish(&out);
  return out;
}

PartsLog::PartsLog(const std::string& path, bool writable)
    : path_(path), last_sync_(now_seconds()), last_flush_(last_sync_) {
  fd_ = ::open(path.c_str(), writable ? (O_RDWR | O_CREAT) : O_RDONLY, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  const uint64_t size = uint64_t(st.st_size);
  // Scan: each record's header, then its payload's CRC; the first that fails ends the log.
  uint64_t at = 0;
  std::string payload;
  while (at + sizeof(RecordHead) <= size) {
    RecordHead h;
    if (::pread(fd_, &h, sizeof h, off_t(at)) != ssize_t(sizeof h)) break;
    if (std::memcmp(h.magic, kMagic, 4) != 0 || h.head_crc != crc32_of(&h, offsetof(RecordHead, head_crc))) break;
    if (h.format != kFormat)
      throw PartsLogFormatError(path + " holds parts of record format " + std::to_string(h.format) +
                                ", written by another version of initscope (this one reads format " +
                                std::to_string(kFormat) +
                                "): resume with the version that wrote them, or start over with --force");
    if (h.size > size - at - sizeof h) break;
    payload.resize(h.size);
    if (h.size > 0 && ::pread(fd_, payload.data(), h.size, off_t(at + sizeof h)) != ssize_t(h.size)) break;
    if (crc32_of(payload.data(), payload.size()) != h.payload_crc) break;
    Record r;
    r.offset = at + sizeof h;
    r.size = h.size;
    try {
      r.head = decode_part_header(payload);
    } catch (const std::exception&) {
      break;
    }
    records_.push_back(std::move(r));
    at += sizeof h + h.size;
  }
  end_ = written_ = at;
  damaged_ = size - at;
  if (damaged_ > 0 && writable && ::ftruncate(fd_, off_t(at)) != 0)
    throw std::runtime_error("cannot cut the damaged end off " + path + ": " + std::strerror(errno));
  if (writable) {
    background_ = std::make_unique<BackgroundSync>();
    slot_ = background_->add(fd_);
  }
}

PartsLog::~PartsLog() {
  if (fd_ < 0) return;
  try {
    flush();
  } catch (const std::exception&) {
    // The error was (or will be) reported by the caller's own flush; the log ends at its last
    // complete record.
  }
  if (dirty_) ::fdatasync(fd_);
  if (background_) background_->remove(slot_);
  ::close(fd_);
}

std::string PartsLog::payload(const Record& r) {
  if (r.offset + r.size > written_) flush();
  std::string s(r.size, '\0');
  if (r.size > 0 && ::pread(fd_, s.data(), r.size, off_t(r.offset)) != ssize_t(r.size))
    throw std::runtime_error("cannot read " + path_ + " at byte " + std::to_string(r.offset));
  return s;
}

const PartsLog::Record& PartsLog::append(const std::string& payload) {
  RecordHead h;
  std::memcpy(h.magic, kMagic, 4);
  h.format = kFormat;
  h.size = payload.size();
  h.payload_crc = crc32_of(payload.data(), payload.size());
  h.head_crc = crc32_of(&h, offsetof(RecordHead, head_crc));
  Record r;
  r.offset = end_ + sizeof h;
  r.size = payload.size();
  r.head = decode_part_header(payload);
  gathered_.append(reinterpret_cast<const char*>(&h), sizeof h);
  gathered_ += payload;
  end_ += sizeof h + payload.size();
  records_.push_back(std::move(r));
  if (gathered_.size() >= (std::size_t(256) << 10) || now_seconds() - last_flush_ >= 0.2) flush();
  return records_.back();
}

void PartsLog::write_after(std::future<void> ready) { ready_ = std::move(ready); }

void PartsLog::wait_ready() {
  if (ready_.valid()) {
    try {
      ready_.get();
    } catch (...) {
      not_ready_ = std::current_exception();
    }
  }
  if (not_ready_) std::rethrow_exception(not_ready_);
}

void PartsLog::flush() {
  last_flush_ = now_seconds();
  if (gathered_.empty()) return;
  wait_ready();
  std::size_t off = 0;
  while (off < gathered_.size()) {
    const ssize_t w = ::pwrite(fd_, gathered_.data() + off, gathered_.size() - off, off_t(written_ + off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const std::string err = w < 0 ? std::strerror(errno) : "no space written";
      if (::ftruncate(fd_, off_t(written_)) != 0) {
        // The damaged tail stays; the next run cuts it off.
      }
      // The gathered records are lost: the log ends at its last complete record.
      gathered_.clear();
      end_ = written_;
      while (!records_.empty() && records_.back().offset >= written_) records_.pop_back();
      throw std::runtime_error("cannot write " + path_ + ": " + err + " (disk full or a file-size limit?)");
    }
    off += std::size_t(w);
  }
  // Start writing these bytes to disk now, without waiting: the sync at a stop or at the end then
  // has little left (a 1,000-configuration sweep's 3 MB log took 3-4 ms to sync at the end).
  ::sync_file_range(fd_, off_t(written_), off_t(gathered_.size()), SYNC_FILE_RANGE_WRITE);
  written_ += gathered_.size();
  gathered_.clear();
  dirty_ = true;
  if (background_) background_->wrote(slot_);
}

void PartsLog::sync() {
  flush();
  wait_ready();  // (also when nothing was appended: a run that resumed every range)
  if (dirty_) {
    const uint64_t mark = background_ ? background_->mark(slot_) : 0;
    if (::fdatasync(fd_) != 0) throw std::runtime_error("cannot flush " + path_ + ": " + std::strerror(errno));
    if (background_) background_->synced(slot_, mark);
    dirty_ = false;
    last_sync_ = now_seconds();
  }
  background_error();
}

void PartsLog::background_error() const {
  // (This file's own fdatasync may not see again an error the background one saw.)
  if (const int err = background_ ? background_->error(slot_) : 0)
    throw std::runtime_error("cannot flush " + path_ + ": " + std::strerror(err) + " (disk full?)");
}

void PartsLog::maybe_sync(double period) {
  if (background_ && background_->running()) return background_error();
  if ((dirty_ || !gathered_.empty()) && now_seconds() - last_sync_ >= period) sync();
}

}  // namespace isc
