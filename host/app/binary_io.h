// binary_io.h — little-endian binary fields in and out of a byte string: the parts log's records
// and training checkpoints.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace isc {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "binary fields are written little-endian");

// Appends fixed-width fields, strings, arrays and varints to a buffer grown by doubling (a field at
// a time through std::string::append was most of a small configuration's commit).
class BinaryWriter {
 public:
  template <class T>
  void put(T v) {
    static_assert(std::is_trivially_copyable<T>::value, "fixed-width fields");
    std::memcpy(room(sizeof v), &v, sizeof v);
  }
  // A 32-bit length, then the bytes.
  void str(const std::string& x) {
    put<uint32_t>(static_cast<uint32_t>(x.size()));
    std::memcpy(room(x.size()), x.data(), x.size());
  }
  // A 64-bit count, then the elements' bytes.
  template <class T>
  void array(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable<T>::value, "fixed-width elements");
    put<uint64_t>(v.size());
    if (!v.empty()) std::memcpy(room(v.size() * sizeof(T)), v.data(), v.size() * sizeof(T));
  }
  // Unsigned LEB128: 7 bits a byte, low bits first (a count below 128 takes one byte).
  void varint(uint64_t v) {
    char* p = room(10);
    int n = 0;
    do {
      p[n++] = char((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
      v >>= 7;
    } while (v != 0);
    at_ -= std::size_t(10 - n);
  }
  void reserve(std::size_t n) { s_.reserve(n); }  // capacity: the first growth takes all of it
  std::string take() {
    s_.resize(at_);
    at_ = 0;
    return std::move(s_);
  }

 private:
  char* room(std::size_t n) {
    // The size grows geometrically too (bytes past at_ are unused until take() cuts them off): a
    // resize per field zero-filled and bounds-checked each one, most of a small record's encoding.
    if (at_ + n > s_.size()) s_.resize(std::max({at_ + n, 2 * s_.size(), s_.capacity(), std::size_t(64)}));
    char* p = s_.data() + at_;
    at_ += n;
    return p;
  }
  std::string s_;
  std::size_t at_ = 0;
};

// Reads what BinaryWriter wrote; throws std::runtime_error (what is wrong, not where) for bytes that
// end early or counts that cannot fit.
class BinaryReader {
 public:
  BinaryReader(const char* data, std::size_t size) : p_(data), size_(size) {}
  explicit BinaryReader(const std::string& s) : BinaryReader(s.data(), s.size()) {}
  template <class T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, p_ + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::string str() {
    const uint32_t n = get<uint32_t>();
    need(n);
    std::string x(p_ + at_, n);
    at_ += n;
    return x;
  }
  template <class T>
  std::vector<T> array() {
    const uint64_t n = count(sizeof(T));
    std::vector<T> v(n);
    if (n) std::memcpy(v.data(), p_ + at_, n * sizeof(T));
    at_ += n * sizeof(T);
    return v;
  }
  // A count of items of at least `each` bytes: refused when the rest of the bytes cannot hold them.
  uint64_t count(std::size_t each) {
    const uint64_t n = get<uint64_t>();
    if (each > 0 && n > (size_ - at_) / each) throw std::runtime_error("a count beyond the end of the record");
    return n;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1);
      const uint8_t b = uint8_t(p_[at_++]);
      if (shift == 63 && b > 1) break;
      v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw std::runtime_error("a count of more than 64 bits");
  }
  bool done() const { return at_ == size_; }

 private:
  void need(std::size_t n) {
    if (n > size_ - at_) throw std::runtime_error("the record ends early");
  }
  const char* p_;
  std::size_t size_, at_ = 0;
};

}  // namespace isc
