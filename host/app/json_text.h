// json_text.h — JSON text written directly, byte for byte as nlohmann::json dumps it, without
// building a tree: the resolved form of every configuration of a sweep (its id is a hash of that
// text) and the manifest's entries. Building and dumping an nlohmann::json per configuration was
// about half of the time it took to expand a sweep of small networks (docs/benchmarks.md).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace isc {

// One JSON value's text, as nlohmann::json::dump() writes it.
std::string json_value(double v);  // shortest round-trip form (nlohmann's to_chars); NaN and Inf: null
std::string json_value(float v);   // widened to double, as nlohmann stores it
std::string json_value(int64_t v);
std::string json_value(uint64_t v);
std::string json_value(int v);
std::string json_value(bool v);
std::string json_value(const std::string& s);  // quoted and escaped; invalid UTF-8 throws, as dump() does
std::string json_value(const char* s);
template <class T>
std::string json_value(const std::vector<T>& a) {
  std::string t = "[";
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i) t += ',';
    t += json_value(a[i]);
  }
  return t + "]";
}

// An object built from (key, value text) pairs and written with its keys in nlohmann's order
// (std::string's <, as its std::map keeps them). A key given twice is an error (std::logic_error).
// Members given in that order already (as the resolved forms give them) are written without a sort:
// sorting was a tenth of the time it took to expand a sweep of small networks.
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
