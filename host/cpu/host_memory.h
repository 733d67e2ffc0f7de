// host_memory.h — the CPU backend's memory: float arrays, large ones on transparent huge pages.
#pragma once
#include <cstddef>

namespace isc {

// n floats, uninitialized. An array of 2 MiB or more is a mapping of its own that starts on a 2 MiB
// boundary (no address space beyond its pages: the ulimit -v check counts on it), and the whole
// 2 MiB pages inside it are offered to the kernel for transparent huge pages (madvise
// MADV_HUGEPAGE; THP's "madvise" mode is the default of most distributions): a 4 MB weight matrix
// then takes one or two page faults on its first touch instead of a thousand, and a pass over it
// misses the TLB far less. Only pages inside the array are advised, so it holds no more memory
// than its own size (rounded to 4 KiB pages). Where the kernel declines, the memory is ordinary
// pages and nothing else changes. Throws std::bad_alloc when the memory cannot be had.
class HostArray {
 public:
  explicit HostArray(std::size_t n);
  ~HostArray();
  HostArray(const HostArray&) = delete;
  HostArray& operator=(const HostArray&) = delete;
  float* data() { return data_; }
  const float* data() const { return data_; }
  std::size_t size() const { return size_; }

  static constexpr std::size_t kHugePage = std::size_t(2) << 20;

 private:
  float* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;  // bytes of its own mapping (large arrays); 0: from malloc
};

}  // namespace isc
