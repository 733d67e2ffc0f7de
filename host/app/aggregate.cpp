// aggregate.cpp — the trial-index tree of TreeAggregate.
#include "host/app/aggregate.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace isc {

void TreeAggregate::add(uint64_t trial, const double* values) {
  Block b{trial, 1, std::vector<Moments>(cells_)};
  for (std::size_t c = 0; c < cells_; ++c) {
    if (!std::isfinite(values[c])) continue;
    Moments& m = b.m[c];
    m.n = 1;
    m.mean = values[c];
    m.min = m.max = float(values[c]);
  }
  insert(std::move(b));
}

void TreeAggregate::absorb(const TreeAggregate& other) {
  if (other.cells_ != cells_) throw std::logic_error("TreeAggregate: merging aggregates of different cells");
  for (const auto& kv : other.blocks_) insert(kv.second);
}

void TreeAggregate::insert(Block b) {
  if (b.m.size() != cells_ || b.size == 0 || b.first % b.size != 0)
    throw std::logic_error("TreeAggregate: a block of the wrong shape");
  // Overlap with a neighbour would count trials twice.
  auto next = blocks_.lower_bound(b.first);
  if (next != blocks_.end() && next->first < b.first + b.size)
    throw std::logic_error("TreeAggregate: trial " + std::to_string(next->first) + " added twice");
  if (next != blocks_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.size > b.first)
      throw std::logic_error("TreeAggregate: trial " + std::to_string(b.first) + " added twice");
  }
  trials_ += b.size;
  // Carry: while the aligned sibling of the same size is there, merge the two into their parent.
  for (;;) {
    const bool left = (b.first / b.size) % 2 == 0;
    const uint64_t sib = left ? b.first + b.size : b.first - b.size;
    auto it = blocks_.find(sib);
    if (it == blocks_.end() || it->second.size != b.size) break;
    Block s = std::move(it->second);
    blocks_.erase(it);
    if (left) {
      for (std::size_t c = 0; c < cells_; ++c) merge(b.m[c], s.m[c]);
    } else {
      for (std::size_t c = 0; c < cells_; ++c) merge(s.m[c], b.m[c]);
      b.m = std::move(s.m);
      b.first = s.first;
    }
    b.size *= 2;
  }
  const uint64_t first = b.first;
  blocks_.emplace(first, std::move(b));
}

std::vector<Moments> TreeAggregate::result() const {
  std::vector<Moments> m(cells_);
  for (const auto& kv : blocks_)
    for (std::size_t c = 0; c < cells_; ++c) merge(m[c], kv.second.m[c]);
  return m;
}

}  // namespace isc
