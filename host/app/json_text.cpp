// json_text.cpp — JSON text written directly, byte for byte as nlohmann::json dumps it.
#include "host/app/json_text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace isc {

void append_json(std::string& out, double v) {
  if (!std::isfinite(v)) {  // as nlohmann's serializer writes NaN and Inf
    out += "null";
    return;
  }
  // The values written on this thread, with their texts, in a table indexed by a hash of their bits
  // (the last one written in each slot): the configurations of a sweep repeat most of their numbers,
  // and formatting each one again was a tenth of the time it took to make their resolved forms
  // (docs/benchmarks.md). Compared bit for bit (0.0 and -0.0 differ).
  struct Recent {
    uint64_t bits = 0;
    uint8_t size = 0;  // 0: empty
    char text[31];
  };
  thread_local std::array<Recent, 64> recent;
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  Recent& slot = recent[((bits * 0x9E3779B97F4A7C15ull) >> 58) & 63];
  if (slot.size != 0 && slot.bits == bits) {
    out.append(slot.text, slot.size);
    return;
  }
  std::array<char, 64> buf;  // the serializer's own number buffer
  char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), v);
  const std::size_t n = std::size_t(end - buf.data());
  out.append(buf.data(), n);
  if (n < sizeof(Recent::text)) {
    slot.bits = bits;
    slot.size = uint8_t(n);
    std::memcpy(slot.text, buf.data(), n);
  }
}
void append_json(std::string& out, float v) { append_json(out, static_cast<double>(v)); }
namespace {
template <class I>
void append_integer(std::string& out, I v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
}  // namespace
void append_json(std::string& out, int64_t v) { append_integer(out, v); }
void append_json(std::string& out, uint64_t v) { append_integer(out, v); }
void append_json(std::string& out, int v) { append_integer(out, v); }
void append_json(std::string& out, bool v) { out += v ? "true" : "false"; }

// Printable ASCII without quote or backslash is written as it is; anything else (escapes, UTF-8,
// invalid bytes) goes through nlohmann's own serializer.
void append_json(std::string& out, std::string_view s) {
  static constexpr auto plain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c <= 0x7e; ++c) t[std::size_t(c)] = c != '"' && c != '\\';
    return t;
  }();
  for (unsigned char ch : s)
    if (!plain[ch]) {
      out += nlohmann::json(std::string(s)).dump();
      return;
    }
  out += '"';
  out.append(s.data(), s.size());
  out += '"';
}

JsonObject& JsonObject::raw(std::string key, std::string text) {
  if (ordered_ && !members_.empty() && !(members_.back().first < key)) ordered_ = false;
  if (!ordered_)  // (in order, a repeated key would not be greater than the one before)
    for (const auto& m : members_)
      if (m.first == key) throw std::logic_error("JsonObject: key '" + key + "' given twice");
  members_.emplace_back(std::move(key), std::move(text));
  return *this;
}

std::string JsonObject::text() const { return text_of(nullptr); }
std::string JsonObject::text_with(const JsonObject& more) const { return text_of(&more); }

std::string JsonObject::text_of(const JsonObject* more) const {
  using Member = std::pair<std::string, std::string>;
  static const std::vector<Member> kNone;
  const std::vector<Member>& b = more ? more->members_ : kNone;
  std::vector<const Member*> order;
  order.reserve(members_.size() + b.size());
  std::size_t bytes = 2;
  for (const auto* list : {&members_, &b})
    for (const auto& m : *list) bytes += m.first.size() + m.second.size() + 4;
  if (ordered_ && (!more || more->ordered_)) {  // one or two ordered runs: merged
    std::size_t i = 0, j = 0;
    while (i < members_.size() || j < b.size())
      order.push_back(j == b.size() || (i < members_.size() && members_[i].first < b[j].first) ? &members_[i++]
                                                                                               : &b[j++]);
  } else {
    for (const auto* list : {&members_, &b})
      for (const auto& m : *list) order.push_back(&m);
    std::sort(order.begin(), order.end(), [](const Member* x, const Member* y) { return x->first < y->first; });
  }
  if (more)  // (one object's keys were refused twice as they were given)
    for (std::size_t i = 1; i < order.size(); ++i)
      if (order[i]->first == order[i - 1]->first)
        throw std::logic_error("JsonObject: key '" + order[i]->first + "' given twice");
  std::string t;
  t.reserve(bytes);
  t += '{';
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i) t += ',';
    append_json(t, order[i]->first);
    t += ':';
    t += order[i]->second;
  }
  t += '}';
  return t;
}

std::string json_indented(const std::string& c, int indent, int base) {
  std::string t;
  t.reserve(c.size() + c.size() / 2);
  int level = 0;
  auto newline = [&] {
    t += '\n';
    t.append(std::size_t(std::max(0, base + level * indent)), ' ');
  };
  for (std::size_t i = 0; i < c.size(); ++i) {
    const char ch = c[i];
    if (ch == '"') {  // a string, copied as it is (escapes included)
      const std::size_t start = i++;
      while (i < c.size() && c[i] != '"') i += c[i] == '\\' ? 2 : 1;
      if (i >= c.size()) throw std::invalid_argument("json_indented: an unterminated string");
      t.append(c, start, i - start + 1);
    } else if (ch == '{' || ch == '[') {
      const char close = ch == '{' ? '}' : ']';
      if (i + 1 < c.size() && c[i + 1] == close) {  // empty: {} and [] stay on one line
        t += ch;
        t += close;
        ++i;
        continue;
      }
      t += ch;
      ++level;
      newline();
    } else if (ch == '}' || ch == ']') {
      --level;
      newline();
      t += ch;
    } else if (ch == ',') {
      t += ',';
      newline();
    } else if (ch == ':') {
      t += ": ";
    } else {
      t += ch;
    }
  }
  return t;
}

}  // namespace isc
