// background_sync.h — files made durable by a thread of their own while they are written, so that
// the sync a writer must wait for (at a stop, at the end) has little left.
//
// Why: on a VM's disk (ext4 on virtio) a sync costs about 1.4 ms per MB written since the one
// before, whether or not the bytes were handed to the disk (sync_file_range) first: a 5 MB file
// written and handed over 50 ms earlier still took 6-8 ms to sync (docs/benchmarks.md). Synced as
// they are written, on a thread that only waits, the end of a sweep waits for the last bytes only.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace isc {

class BackgroundSync {
 public:
  BackgroundSync();
  // Stops the thread (after a sync in flight); syncs nothing more.
  ~BackgroundSync();
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;

  // A file to keep durable: returns its slot.
  int add(int fd);
  // New bytes of slot's file are written (write() returned): the thread syncs it (fdatasync) soon.
  void wrote(int slot);
  // The owner syncing the file itself: mark() before its fdatasync, synced(slot, mark) after it
  // succeeded, so that the thread does not sync again what that one covered (a redundant sync in
  // flight at exit held the process up by 2 ms here).
  uint64_t mark(int slot);
  void synced(int slot, uint64_t mark);
  // Before the file is closed: no sync of it is in flight or will start. Returns the error (errno)
  // of a failed sync of it, 0 if none: the owner's own sync after it may not see that error again
  // (Linux reports a writeback error once per open file), so the owner must report it.
  int remove(int slot);
  // The error (errno) of a failed sync of slot's file so far, 0 if none.
  int error(int slot);
  // Whether the thread runs (where none could start, nothing is synced ahead).
  bool running() const { return thread_.joinable(); }

 private:
  void work();
  struct File {
    int fd = -1;
    uint64_t written = 0, synced = 0;  // wrote() calls, and how many of them the last sync covered
    int error = 0;
    bool syncing = false;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<File> files_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace isc
