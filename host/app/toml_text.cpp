// toml_text.cpp — config text made safe for toml++ 3.3.0 before it is parsed (toml_text.h).
#include "host/app/toml_text.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace isc {
namespace {

// The code point of the UTF-8 sequence at text[i] and its length; 0 for invalid UTF-8 (a stray or
// missing continuation byte, an overlong form, a surrogate, beyond U+10FFFF).
struct Decoded {
  char32_t cp = 0;
  std::size_t size = 0;
};
Decoded decode_utf8(std::string_view t, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(t[k]); };
  const unsigned char lead = b(i);
  std::size_t n;
  char32_t cp, least;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2, cp = lead & 0x1F, least = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3, cp = lead & 0x0F, least = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4, cp = lead & 0x07, least = 0x10000;
  } else {
    return {};
  }
  if (i + n > t.size()) return {};
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {};
  return {cp, n};
}

std::string code_point_name(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

}  // namespace

std::string toml_safe_text(std::string_view text) {
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return std::string(text);
  const auto fail = [&](std::size_t at, const std::string& what) {
    throw TomlTextError(1 + std::count(text.begin(), text.begin() + std::ptrdiff_t(at), '\n'), what);
  };
  // The character at text[i] (non-ASCII): decoded, or refused as invalid UTF-8.
  const auto character = [&](std::size_t i) {
    const Decoded d = decode_utf8(text, i);
    if (d.size == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[i])));
      fail(i, std::string("invalid UTF-8 (byte ") + buf + ")");
    }
    return d;
  };
  const auto quoted = [&](std::size_t i, const Decoded& d) {
    return "'" + std::string(text.substr(i, d.size)) + "' (" + code_point_name(d.cp) + ")";
  };
  enum class In { Toml, Comment, Basic, MultiBasic, Literal, MultiLiteral };
  In in = In::Toml;
  bool closed = false;  // the character before, in TOML, closed a string
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  std::size_t i = 0;
  // A non-ASCII character of a string at i, as its escape.
  const auto escape = [&] {
    const Decoded d = character(i);
    char buf[16];
    if (d.cp <= 0xFFFF)
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(d.cp));
    else
      std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(d.cp));
    out += buf;
    i += d.size;
  };
  // In a multi-line string, the run of its quote q at i: three to five close the string (up to
  // two of them stay in it, as toml++ reads them: a sixth is TOML again, and refused below);
  // closing is a basic string's """.
  const auto quote_run = [&](char q) {
    std::size_t n = 0;
    while (i + n < text.size() && text[i + n] == q) ++n;
    if (n < 3) {
      out.append(n, q);
      i += n;
      return;
    }
    out.append(std::min<std::size_t>(n, 5) - 3, q);
    out += "\"\"\"";
    i += std::min<std::size_t>(n, 5);
    in = In::Toml;
    closed = true;
  };
  // A byte-order mark opens the document (toml++ skips it there).
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    out.append(text.substr(0, 3));
    i = 3;
  }
  while (i < text.size()) {
    const char c = text[i];
    const bool ascii = static_cast<unsigned char>(c) < 0x80;
    if (c == '\n' && (in == In::Basic || in == In::Literal)) {  // a string left open: toml++ stops here
      out.append(text.substr(i));
      return out;
    }
    switch (in) {
      case In::Toml: {
        if (!ascii) {
          const Decoded d = character(i);
          fail(i, "the character " + quoted(i, d) +
                      " outside a string or comment (TOML allows only ASCII there: put it in quotes)");
        }
        const bool after_string = closed;
        closed = false;
        if (c == '#') {
          in = In::Comment;
        } else if (c == '"' || c == '\'') {
          if (after_string)  // ("a"'b' would read as """ once the literal string is a basic one)
            fail(i, std::string("a string opens right after another (") + c +
                        "): expected whitespace, '=', ',', '.', ']', '}', a comment or a line break between them");
          const bool multi = text.substr(i, 3) == std::string(3, c);
          in = c == '"' ? (multi ? In::MultiBasic : In::Basic) : (multi ? In::MultiLiteral : In::Literal);
          out += multi ? "\"\"\"" : "\"";
          i += multi ? 3 : 1;
          continue;
        }
        out += c;
        ++i;
        break;
      }
      case In::Comment:
        // Copied as it is (a comment is never checked for whitespace).
        if (c == '\n') in = In::Toml;
        if (!ascii) {
          const Decoded d = character(i);
          out.append(text.substr(i, d.size));
          i += d.size;
          continue;
        }
        out += c;
        ++i;
        break;
      case In::Literal:
      case In::MultiLiteral:
        // As a basic string: its backslashes and double quotes escaped, non-ASCII characters too.
        if (c == '\'') {
          if (in == In::MultiLiteral) {
            quote_run(c);
            continue;
          }
          out += '"';
          ++i;
          in = In::Toml;
          closed = true;
          continue;
        }
        if (!ascii) {
          escape();
          continue;
        }
        if (c == '\\' || c == '"') out += '\\';
        out += c;
        ++i;
        break;
      case In::Basic:
      case In::MultiBasic:
        if (c == '\\') {
          // An escape: the backslash and the character after it as they are (\" does not close the
          // string); a non-ASCII one is no escape at all.
          if (i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80) {
            const Decoded d = character(i + 1);
            fail(i, "the escape sequence '\\" + std::string(text.substr(i + 1, d.size)) + "' (" +
                        code_point_name(d.cp) + " after a backslash) is not a valid escape");
          }
          out.append(text.substr(i, 2));
          i += 2;
          continue;
        }
        if (c == '"') {
          if (in == In::MultiBasic) {
            quote_run(c);
            continue;
          }
          out += c;
          ++i;
          in = In::Toml;
          closed = true;
          continue;
        }
        if (!ascii) {  // the same character, escaped
          escape();
          continue;
        }
        out += c;
        ++i;
        break;
    }
  }
  return out;
}

}  // namespace isc
