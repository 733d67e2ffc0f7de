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

// An object built from (key, value) members and written with its keys in nlohmann's order
// (std::string's <, as its std::map keeps them). A key given twice is an error (std::logic_error).
// Each member's text is written into one buffer as it is given; members given in key order already
// are the object's text as they stand, without a sort or a copy per member (the manifest writes one
// entry per configuration).
class JsonObject {
 public:
  JsonObject() {  // (room for a manifest entry's objects without growing)
    members_.reserve(16);
    keys_.reserve(160);
    body_.reserve(320);
  }
  template <class T>
  JsonObject& add(std::string_view key, const T& value) {
    const std::size_t at = begin(key);
    try {
      append_json(body_, value);
    } catch (...) {  // (invalid UTF-8): the object stays as it was
      body_.resize(at);
      throw;
    }
    return end(key, at);
  }
  JsonObject& raw(std::string_view key, std::string_view text);  // `text`: a JSON value's text
  JsonObject& add(std::string_view key, const JsonObject& o);
  std::string text() const;  // compact: {"a":1,"b":[2,3]}
  // The text of this object with `more`'s members too (keys in neither twice).
  std::string text_with(const JsonObject& more) const;

 private:
  struct Member {
    uint32_t key, key_size;  // the key, in keys_
    uint32_t at, size;       // the member's text `"key":value`, in body_
  };
  std::size_t begin(std::string_view key);  // checks the key, writes `"key":`; the member's offset
  JsonObject& end(std::string_view key, std::size_t at);
  std::string_view key_of(const Member& m) const { return std::string_view(keys_).substr(m.key, m.key_size); }
  std::string text_of(const JsonObject* more) const;  // more: nullptr for none
  std::string keys_;                                  // every key, one after another
  std::string body_;                                  // every member's text, one after another (no commas)
  std::vector<Member> members_;                       // in the order given
  bool ordered_ = true;                               // every key given so far is greater than the one before
};

// Compact JSON text (as dump() writes it) indented as dump(indent) writes it, every line after the
// first `base` spaces further in (for a value nested in a document indented the same way).
std::string json_indented(const std::string& compact, int indent, int base = 0);

}  // namespace isc
