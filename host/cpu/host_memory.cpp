// host_memory.cpp — HostArray: aligned mappings and the huge-page advice.
#include "host/cpu/host_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <new>

namespace isc {

HostArray::HostArray(std::size_t n) : size_(n) {
  if (n > (~std::size_t(0) - 2 * kHugePage) / sizeof(float)) throw std::bad_alloc();
  const std::size_t bytes = n * sizeof(float);
  if (bytes < kHugePage) {
    data_ = static_cast<float*>(std::malloc(bytes > 0 ? bytes : 1));
    if (!data_) throw std::bad_alloc();
    return;
  }
  // A mapping of the array's pages on a 2 MiB boundary: map 2 MiB more, unmap what lies before the
  // boundary and after the array (no address space is kept beyond the array's own pages).
  const long page = sysconf(_SC_PAGESIZE);
  const std::size_t p = page > 0 ? std::size_t(page) : 4096;
  const std::size_t len = (bytes + p - 1) / p * p;
  void* m = mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  const std::uintptr_t start = reinterpret_cast<std::uintptr_t>(m);
  const std::uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  const std::size_t head = aligned - start, tail = kHugePage - head;
  if (head > 0) munmap(m, head);
  if (tail > 0) munmap(reinterpret_cast<char*>(aligned) + len, tail);
  data_ = reinterpret_cast<float*>(aligned);
  mapped_ = len;
  // Advice only (a refusal leaves ordinary pages), and only for whole huge pages inside the array.
  madvise(data_, bytes / kHugePage * kHugePage, MADV_HUGEPAGE);
}

HostArray::~HostArray() {
  if (mapped_ > 0)
    munmap(data_, mapped_);
  else
    std::free(data_);
}

}  // namespace isc
