// toml_text.h — config text made safe for toml++ 3.3.0 before it is parsed: its check for non-ASCII
// whitespace reaches __builtin_unreachable (undefined behaviour) for many non-ASCII characters
// wherever whitespace may stand (marzer/tomlplusplus#190 and #295, fixed upstream by pull request
// #305, after the 3.3.0 that Debian ships).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace isc {

// The text toml++ is given instead of `text`, the same document for every valid TOML file, where
// toml++ meets no non-ASCII character outside comments:
// - non-ASCII characters in basic strings ("..." and """...""") become \uXXXX / \UXXXXXXXX escapes
//   (the same string value; after a multi-line string's line-ending backslash toml++ would check the
//   next character for whitespace);
// - literal strings ('...' and '''...''') become basic strings with the same value (their
//   backslashes and double quotes escaped, their non-ASCII characters as above): toml++ reads a
//   quote that follows a number or date (`s = -'é'`, `1.'é'`) as part of that value, and checks
//   the characters after it for whitespace (found by fuzzing: tests/fuzz/regressions);
// - non-ASCII characters anywhere else outside strings and comments, where TOML 1.0 allows only
//   ASCII, a backslash followed by a non-ASCII character in a basic string (never a valid escape),
//   a string opening right after another closed (never valid TOML), and invalid UTF-8 are refused
//   here: TomlTextError, with the line, as toml::parse_error has it.
// Comments keep their characters (toml++ checks none of them for whitespace). Where the text holds
// a syntax error of another kind, toml++ finds it as it would have: after a string left open at the
// end of its line (an error toml++ reports there) the rest is passed as it is. ASCII text (every
// byte below 0x80) is returned unchanged.
class TomlTextError : public std::runtime_error {
 public:
  TomlTextError(int64_t line, const std::string& description) : std::runtime_error(description), line_(line) {}
  int64_t line() const { return line_; }  // from 1

 private:
  int64_t line_;
};
std::string toml_safe_text(std::string_view text);

}  // namespace isc
