// json_text.cpp — JSON text written directly, byte for byte as nlohmann::json dumps it.
#include "host/app/json_text.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace isc {

std::string json_value(double v) {
  if (!std::isfinite(v)) return "null";  // as nlohmann's serializer writes NaN and Inf
  std::array<char, 64> buf;              // the serializer's own number buffer
  char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), end);
}
std::string json_value(float v) { return json_value(static_cast<double>(v)); }
std::string json_value(int64_t v) { return std::to_string(v); }
std::string json_value(uint64_t v) { return std::to_string(v); }
std::string json_value(int v) { return std::to_string(v); }
std::string json_value(bool v) { return v ? "true" : "false"; }

namespace {
// Appends s as a JSON string. Printable ASCII without quote or backslash is written as it is;
// anything else (escapes, UTF-8, invalid bytes) goes through nlohmann's own serializer.
void append_json_string(std::string& out, const std::string& s) {
  for (unsigned char ch : s)
    if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') {
      out += nlohmann::json(s).dump();
      return;
    }
  out += '"';
  out += s;
  out += '"';
}
}  // namespace

std::string json_value(const std::string& s) {
  std::string t;
  t.reserve(s.size() + 2);
  append_json_string(t, s);
  return t;
}
std::string json_value(const char* s) { return json_value(std::string(s)); }

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
  const auto before = [](const Member* x, const Member* y) { return x->first < y->first; };
  if (ordered_ && (!more || more->ordered_)) {  // one or two ordered runs: merged
    std::size_t i = 0, j = 0;
    while (i < members_.size() || j < b.size())
      order.push_back(j == b.size() || (i < members_.size() && members_[i].first < b[j].first) ? &members_[i++]
                                                                                               : &b[j++]);
  } else {
    for (const auto* list : {&members_, &b})
      for (const auto& m : *list) order.push_back(&m);
    std::sort(order.begin(), order.end(), before);
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
    append_json_string(t, order[i]->first);
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
