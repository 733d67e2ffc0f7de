// parts_log.h — the parts log: one append-only file of committed results, a record per finished range
// of trials of a configuration, each checked by its length and CRC-32s.
//
// Why one log and not a file per range: a file per configuration (temporary name, fsync, rename)
// costs about 0.7 ms on ext4 (an inode, a directory entry, a journal commit), more than a small
// configuration's whole compute; a sweep of thousands of them spent most of its time committing. A
// record is appended with one write(): once write() returns, the record survives the process being
// killed at any moment (it is in the page cache). A kill during the write leaves a short or damaged
// record at the end, which the next run cuts off (the range is computed again). The log is synced to
// disk by a thread of its own as records are written (background_sync.h), and when the run ends or
// stops, so a power loss costs at most the last moments of results (a second where no thread can
// start), which a resumed run recomputes; it never makes a damaged record look whole.
#pragma once
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/app/runner.h"

namespace isc {

// What a record says about itself, readable without the experiment.
struct PartHeader {
  std::string experiment, config_id;
  uint64_t first = 0, end = 0;
  bool rows = false;  // its per-trial rows were kept (parts/<id>.<first>-<end>.trials.csv.gz)
};

// The aggregate of trials [r.first, r.end) of one configuration, bit for bit: the tree's partial
// results and the integer counts (little-endian, fixed-width fields).
std::string encode_part(const ConfigResult& r, const std::string& experiment, bool rows);
// Throws std::runtime_error naming what is wrong for a payload that is not a part of this format.
PartHeader decode_part_header(const std::string& payload);
// The result of the part's trials, with its statistics computed (as the writing run had them); `p`
// must be the configuration the header names. Throws std::runtime_error for a damaged payload.
ConfigResult decode_part(const std::string& payload, const SweepPoint& p);

// A log of another record format (an older or newer initscope): its records are not read.
struct PartsLogFormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class PartsLog {
 public:
  struct Record {
    uint64_t offset = 0;  // of the payload
    uint64_t size = 0;
    PartHeader head;
  };
  // Opens PATH (created when writable) and reads every intact record. A damaged tail (a run killed
  // while appending) is cut off when writable, and ignored otherwise; damaged_bytes() says how much.
  PartsLog(const std::string& path, bool writable);
  ~PartsLog();
  PartsLog(const PartsLog&) = delete;
  PartsLog& operator=(const PartsLog&) = delete;

  const std::vector<Record>& records() const { return records_; }
  uint64_t damaged_bytes() const { return damaged_; }
  const std::string& path() const { return path_; }
  // A record's payload, read back from the file (records still buffered are written first).
  std::string payload(const Record& r);
  // Appends one record (header then payload). Records are gathered in memory and written together
  // once 256 KiB or 0.2 s have gathered (a sweep of a thousand tiny configurations made a thousand
  // writes), and by flush() and sync(). On failure (a full disk, a file-size limit) the log is cut
  // back to its last complete record and the error, naming the file, is thrown. A SIGKILL loses the
  // gathered records (at most 0.2 s of work, computed again on resume), never a record's integrity.
  const Record& append(const std::string& payload);
  // Writes the gathered records to the file.
  void flush();
  // Writes them and flushes the file to disk (fdatasync); called when the run ends or stops. Waits
  // for write_after's `ready` in any case; reports a failed background sync.
  void sync();
  // Reports a failed background sync; where no background thread runs, syncs at most every
  // `period` seconds.
  void maybe_sync(double period_seconds = 1.0);
  // No record reaches the file before `ready` has finished (the folder's experiment.json, committed
  // on a thread of its own). Its error is thrown by the write that waited, and by every later one.
  void write_after(std::future<void> ready);

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t end_ = 0, damaged_ = 0;  // end_: of the last record, gathered ones included
  uint64_t written_ = 0;            // bytes on file (the rest of [0, end_) is in gathered_)
  std::string gathered_;
  bool dirty_ = false;
  double last_sync_ = 0.0, last_flush_ = 0.0;
  std::vector<Record> records_;
  void wait_ready();                                  // joins ready_; throws its error
  void background_error() const;                      // throws a failed background sync's error
  std::unique_ptr<class BackgroundSync> background_;  // a writable log's syncs ahead
  int slot_ = -1;                                     // in background_
  std::future<void> ready_;                           // see write_after
  std::exception_ptr not_ready_;                      // its error
};

}  // namespace isc
