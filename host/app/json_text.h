// json_text.h — JSON text written directly, byte for byte as nlohmann::json dumps it, without
// building a tree: the values of the resolved form of every configuration of a sweep (its id is a
// hash of that text; config.cpp writes its members) and the manifest's entries. Building and dumping
// an nlohmann::json per configuration was about half of the time it took to expand a sweep of small
// networks (docs/benchmarks.md).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isc {

// One JSON value's text, as nlohmann::json::dump() writes it, appended to `out`.
void append_json(std::string& out, double v);  // shortest round-trip form (nlohmann's to_chars); NaN, Inf: null
void append_json(std::string& out, float v);   // widened to double, as nlohmann stores it
void append_json(std::string& out, int64_t v);
void append_json(std::string& out, uint64_t v);
void append_json(std::string& out, int v);
void append_json(std::string& out, bool v);
void append_json(std::string& out, std::string_view s);  // quoted and escaped; invalid UTF-8 throws, as dump() does
inline void append_json(std::string& out, const std::string& s) { append_json(out, std::string_view(s)); }
inline void append_json(std::string& out, const char* s) { append_json(out, std::string_view(s)); }
template <class T>
void append_json(std::string& out, const std::vector<T>& a) {
  out += '[';
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i) out += ',';
    append_json(out, a[i]);
  }
  out += ']';
}
// The same as a string of its own.
template <class T>
std::string json_value(const T& v) {
  std::string t;
  append_json(t, v);
  return t;
}

// An object built from (key, value text) pairs and written with its keys in nlohmann's order
// (std::string's <, as its std::map keeps them). A key given twice is an error (std::logic_error).
// Members given in that order already are written without a sort. (The manifest's entries use it;
// the resolved forms of a sweep's configurations are written by config.cpp's MemberWriter.)
class JsonObject {
 public:
  JsonObject() { members_.reserve(12); }
  template <class T>
  JsonObject& add(std::string key, const T& value) {
    return raw(std::move(key), json_value(value));
  }
  JsonObject& raw(std::string key, std::string text);  // `text`: a JSON value's text
  JsonObject& add(std::string key, const JsonObject& o) { return raw(std::move(key), o.text()); }
  std::string text() const;  // compact: {"a":1,"b":[2,3]}
  // The text of this object with `more`'s members too (keys in neither twice), without a copy.
  std::string text_with(const JsonObject& more) const;

 private:
  std::string text_of(const JsonObject* more) const;  // more: nullptr for none
  std::vector<std::pair<std::string, std::string>> members_;
  bool ordered_ = true;  // every key given so far is greater than the one before
};

// Compact JSON text (as dump() writes it) indented as dump(indent) writes it, every line after the
// first `base` spaces further in (for a value nested in a document indented the same way).
std::string json_indented(const std::string& compact, int indent, int base = 0);

}  // namespace isc
