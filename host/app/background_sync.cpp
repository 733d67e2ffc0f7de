// background_sync.cpp — a thread that fdatasyncs the files written since their last sync, in turn,
// for as long as any has new bytes.
#include "host/app/background_sync.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace isc {

BackgroundSync::BackgroundSync() {
  try {
    thread_ = std::thread([this] { work(); });
  } catch (const std::system_error&) {
    // No thread (a container's limit): nothing is synced ahead; the owners' own syncs do it all.
  }
}

BackgroundSync::~BackgroundSync() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int BackgroundSync::add(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.push_back(File{fd});
  return int(files_.size()) - 1;
}

void BackgroundSync::wrote(int slot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++files_[std::size_t(slot)].written;
  }
  cv_.notify_all();
}

uint64_t BackgroundSync::mark(int slot) {
  std::lock_guard<std::mutex> lock(mu_);
  return files_[std::size_t(slot)].written;
}

void BackgroundSync::synced(int slot, uint64_t mark) {
  std::lock_guard<std::mutex> lock(mu_);
  File& f = files_[std::size_t(slot)];
  f.synced = std::max(f.synced, mark);
}

int BackgroundSync::remove(int slot) {
  std::unique_lock<std::mutex> lock(mu_);
  // (by index: an add() while this waits may move the files)
  cv_.wait(lock, [&] { return !files_[std::size_t(slot)].syncing; });
  files_[std::size_t(slot)].fd = -1;
  return files_[std::size_t(slot)].error;
}

int BackgroundSync::error(int slot) {
  std::lock_guard<std::mutex> lock(mu_);
  return files_[std::size_t(slot)].error;
}

void BackgroundSync::work() {
  std::unique_lock<std::mutex> lock(mu_);
  std::size_t next = 0;  // files are synced in turn
  for (;;) {
    std::size_t k = files_.size();
    for (std::size_t i = 0; i < files_.size() && k == files_.size(); ++i) {
      const std::size_t j = (next + i) % files_.size();
      const File& f = files_[j];
      if (f.fd >= 0 && f.written > f.synced && f.error == 0) k = j;
    }
    if (k == files_.size()) {
      if (stop_) return;
      cv_.wait(lock);
      continue;
    }
    if (stop_) return;
    File* f = &files_[k];
    const int fd = f->fd;
    const uint64_t covers = f->written;  // every byte written before this call
    f->syncing = true;
    lock.unlock();
    const int err = ::fdatasync(fd) == 0 ? 0 : errno;
    lock.lock();
    f = &files_[k];  // (add() may have moved the vector)
    f->syncing = false;
    f->synced = covers;
    if (err != 0) f->error = err;
    next = k + 1;
    cv_.notify_all();  // a remove() may wait for this one
  }
}

}  // namespace isc
