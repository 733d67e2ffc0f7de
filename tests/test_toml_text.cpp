// test_toml_text.cpp — the config text handed to toml++ (host/app/toml_text.h): the same document
// for valid TOML, and no non-ASCII character where toml++ 3.3.0 would check it for whitespace (its
// undefined behaviour there is caught by the sanitizer build, which runs these tests).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "host/app/config.h"
#include "host/app/toml_text.h"

using isc::toml_safe_text;
using isc::TomlTextError;

namespace {

std::string utf8(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += char(c);
  } else if (c < 0x800) {
    s += char(0xC0 | (c >> 6));
    s += char(0x80 | (c & 63));
  } else if (c < 0x10000) {
    s += char(0xE0 | (c >> 12));
    s += char(0x80 | ((c >> 6) & 63));
    s += char(0x80 | (c & 63));
  } else {
    s += char(0xF0 | (c >> 18));
    s += char(0x80 | ((c >> 12) & 63));
    s += char(0x80 | ((c >> 6) & 63));
    s += char(0x80 | (c & 63));
  }
  return s;
}

// Non-ASCII code points to try: every one below U+0500 and from U+FB00 to U+FFFF (toml++ 3.3.0's
// undefined behaviour is at U+00A1-U+0499 and U+FBA6-U+FEFE), and every 97th of the rest.
std::vector<char32_t> code_points() {
  std::vector<char32_t> v;
  for (char32_t c = 0x80; c <= 0x10FFFF; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    if (c < 0x500 || (c >= 0xFB00 && c <= 0xFFFF) || c % 97 == 0) v.push_back(c);
  }
  return v;
}

// toml++'s table for `text`, or nullopt where it refuses it.
std::optional<toml::table> parsed(const std::string& text) {
  try {
    return toml::parse(text);
  } catch (const toml::parse_error&) {
    return std::nullopt;
  }
}

}  // namespace

TEST(TomlText, AsciiTextIsUnchanged) {
  const std::string t = "a = \"x\\u00e9\" # c\nb = '''\nq'''\n[t]\nc = [1, 2.5]\n";
  EXPECT_EQ(toml_safe_text(t), t);
  EXPECT_EQ(toml_safe_text(""), "");
}

// Where toml++ reads non-ASCII characters safely (strings, comments, quoted keys), the text it is
// given instead parses to the same table, or is refused as the original is, for every code point.
TEST(TomlText, StringsAndCommentsParseToTheSameTable) {
  const std::vector<std::pair<std::string, std::string>> contexts = {
      {"s = \"a", "b\"\n"},
      {"s = \"\"\"a", "b\"\"\"\n"},
      {"s = \"\"\"\n", "\"\"\"\n"},
      {"s = 'a", "b'\n"},
      {"s = '''\n", "b'''\n"},
      {"s = 1 # ", "\n"},
      {"\"k", "\" = 1\n"},
      {"'k", "' = 1\n"},
      {"[\"t", "\"]\nx = 1\n"},
      {"s = [\"", "\", 'x']\n"},
      {"s = {a = \"", "\"}\n"},
      {"# ", "\ns = \"\"\"\"\"\"\n"},
      {"s = \"\\\"", "\\\\\"\n"},  // after an escaped quote and before an escaped backslash
      // literal strings (read as basic strings): backslashes and double quotes in them, two quotes
      // before a multi-line one's end, keys
      {"s = 'a\\\"", "\\\\'\n"},
      {"s = '''\"\"\"\\", "\\\n'''\n"},
      {"s = '''a", "'''''\n"},
      {"['t", "']\nx = 1\n"},
      {"s = {'k", "' = 'v'}\n"},
  };
  int compared = 0;
  for (char32_t c : code_points())
    for (const auto& [before, after] : contexts) {
      const std::string text = before + utf8(c) + after;
      const auto want = parsed(text);
      std::string safe;
      try {
        safe = toml_safe_text(text);
      } catch (const TomlTextError& e) {
        ADD_FAILURE() << "refused U+" << std::hex << unsigned(c) << " in " << before << "…" << after << ": "
                      << e.what();
        continue;
      }
      const auto got = parsed(safe);
      ASSERT_EQ(got.has_value(), want.has_value()) << std::hex << unsigned(c) << " in " << text;
      if (want) {
        EXPECT_TRUE(*got == *want) << std::hex << unsigned(c) << " in " << text;
      }
      ++compared;
    }
  EXPECT_GT(compared, 30000);
}

// Where toml++ would check the character for whitespace (outside strings), it never sees it: the
// text is refused here, naming the character and the line.
TEST(TomlText, NonAsciiOutsideStringsIsRefusedWithItsLine) {
  const std::vector<std::pair<std::string, std::string>> contexts = {
      {"s = ", "x\n"},
      {"s ", "= 1\n"},
      {"s = 1 ", "\n"},
      {"", "s = 1\n"},
      {"s = [1, ", "]\n"},
      {"s = {a=1", "}\n"},
      {"[a", "]\n"},
      {"s = 1\n[t]\n", "\n"},
      {"s = \"x\" ", "\n"},
      {"s = 'x'", "\n"},
      {"s = \"\"\"x\"\"\"", "\n"},
      {"s = '''x'''", "\n"},
  };
  for (char32_t c : code_points())
    for (const auto& [before, after] : contexts) {
      if (c == 0xFEFF && before.empty()) continue;  // a byte-order mark, where it opens the document
      const std::string text = before + utf8(c) + after;
      try {
        (void)toml_safe_text(text);
        ADD_FAILURE() << "accepted U+" << std::hex << unsigned(c) << " in " << text;
      } catch (const TomlTextError& e) {
        const int64_t line = 1 + std::count(before.begin(), before.end(), '\n');
        ASSERT_EQ(e.line(), line) << text;
        ASSERT_NE(std::string(e.what()).find("outside a string or comment"), std::string::npos) << e.what();
      }
      // (The original is refused by toml++ too; it is not parsed here: that is where toml++ 3.3.0
      // reaches undefined behaviour.)
    }
  try {
    (void)toml_safe_text("a = 1\nb = 2 \xc3\xa9\n");
    ADD_FAILURE();
  } catch (const TomlTextError& e) {
    EXPECT_EQ(e.line(), 2);
    EXPECT_STREQ(e.what(),
                 "the character '\xc3\xa9' (U+00E9) outside a string or comment (TOML allows only ASCII there: put "
                 "it in quotes)");
  }
}

// A multi-line string's line-ending backslash: toml++ checks the first character after the
// whitespace it trims for whitespace; escaped, it reads the same string.
// A quote right after a number or date is part of that value for toml++ (`s = -'…`: found by the
// fuzzer), which then checks the characters after it for whitespace. toml++ is given no non-ASCII
// character there (literal strings reach it as basic ones, escaped) and refuses the text as it
// would have; a string opening right after another is refused here.
TEST(TomlText, QuotesInsideAValueReachTomlxxAsAscii) {
  const std::vector<std::string> values = {"-", "1", "1.", "1e", "+1_0", "2020-01-01", "2020-01-01T12:00:00", "inf"};
  const std::vector<std::pair<std::string, std::string>> quotes = {{"'", ""},      {"'", "'"},   {"'''", ""},
                                                                   {"'''", "'''"}, {"\"", "\""}, {"\"\"\"", "\"\"\""}};
  int tried = 0;
  for (char32_t c : code_points()) {
    if (c % 11 != 0 && c != 0xA7) continue;  // (a sample: every 11th, U+00A7 the fuzzer's own)
    for (const std::string& v : values)
      for (const auto& [open, close] : quotes)
        for (const char* end : {"", "\n"}) {
          const std::string text = "s = " + v + open + utf8(c) + close + end;
          const std::string safe = toml_safe_text(text);
          ASSERT_TRUE(std::all_of(safe.begin(), safe.end(), [](char b) { return (unsigned char)b < 0x80; })) << text;
          ASSERT_FALSE(parsed(safe).has_value()) << text << " -> " << safe;
          ++tried;
        }
  }
  EXPECT_GT(tried, 100000);
  for (const char* t : {"s = \"\"'\xc3\xa9'\nt = \"\"\"\n", "s = 'a'\"\xc3\xa9\"\n", "s = '''a\xc3\xa9''''''\n"}) {
    try {
      (void)toml_safe_text(t);
      ADD_FAILURE() << t;
    } catch (const TomlTextError& e) {
      EXPECT_EQ(e.line(), 1);
      EXPECT_NE(std::string(e.what()).find("a string opens right after another"), std::string::npos) << e.what();
    }
  }
}

TEST(TomlText, LineEndingBackslashKeepsItsString) {
  for (char32_t c : code_points()) {
    const std::string text = "s = \"\"\"\\\n   " + utf8(c) + "b\"\"\"\n";
    const auto got = parsed(toml_safe_text(text));
    ASSERT_TRUE(got.has_value()) << std::hex << unsigned(c);
    EXPECT_EQ((*got)["s"].value_or(std::string()), utf8(c) + "b") << std::hex << unsigned(c);
  }
}

TEST(TomlText, DelimitersEscapesAndInvalidUtf8) {
  // Up to two quotes beside the closing delimiter stay in the string; after it is TOML again.
  EXPECT_EQ(toml_safe_text("s = \"\"\"a\xc3\xa9\"\"\"\"\"\n"), "s = \"\"\"a\\u00E9\"\"\"\"\"\n");
  EXPECT_THROW(toml_safe_text("s = \"\"\"a\"\"\"\"\xc3\xa9\n"), TomlTextError);
  EXPECT_EQ(toml_safe_text("s = '''a''\xc3\xa9'''\n"), "s = \"\"\"a''\\u00E9\"\"\"\n");  // (a basic string)
  // A sixth quote is TOML again: toml++ refuses it there, and so does this (a string after a string).
  EXPECT_THROW(toml_safe_text("s = '''a\xc3\xa9''''''\n"), TomlTextError);
  EXPECT_THROW(toml_safe_text("s = \"\"\"a\xc3\xa9\"\"\"\"\"\"\n"), TomlTextError);
  EXPECT_FALSE(parsed("s = '''a''''''\n").has_value());
  EXPECT_FALSE(parsed("s = \"\"\"a\"\"\"\"\"\"\n").has_value());
  EXPECT_THROW(toml_safe_text("s = '''a'''''\xc3\xa9\n"), TomlTextError);
  // An escaped quote does not close a string; beyond the BMP the escape is \U.
  EXPECT_EQ(toml_safe_text("s = \"\\\"\xf0\x9f\x98\x80\"\n"), "s = \"\\\"\\U0001F600\"\n");
  // A backslash before a non-ASCII character is no escape (toml++ would check it for whitespace).
  for (const char* t : {"s = \"a\\\xc3\xa9\"\n", "s = \"\"\"a\\\xe2\x80\x80\n\"\"\"\n"}) {
    try {
      (void)toml_safe_text(t);
      ADD_FAILURE() << t;
    } catch (const TomlTextError& e) {
      EXPECT_NE(std::string(e.what()).find("is not a valid escape"), std::string::npos) << e.what();
    }
  }
  // Invalid UTF-8 anywhere: stray continuation, overlong, surrogate, beyond U+10FFFF, cut short.
  for (const std::string bad : {"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    for (const std::string& text :
         {"a = 1\n# " + bad + "\n", "a = 1\ns = \"" + bad + "\"\n", "a = 1\ns = '" + bad + "'\n"}) {
      try {
        (void)toml_safe_text(text);
        ADD_FAILURE() << "accepted " << text;
      } catch (const TomlTextError& e) {
        EXPECT_EQ(e.line(), 2) << text;
        EXPECT_NE(std::string(e.what()).find("invalid UTF-8"), std::string::npos) << e.what();
      }
      EXPECT_FALSE(parsed(text).has_value()) << "toml++ refuses it too: " << text;
    }
  }
  // A byte-order mark opens a document; elsewhere it is a character outside a string.
  EXPECT_EQ(toml_safe_text("\xef\xbb\xbf"
                           "a = \"\xc3\xa9\"\n"),
            "\xef\xbb\xbf"
            "a = \"\\u00E9\"\n");
  EXPECT_THROW(toml_safe_text("a = 1\n\xef\xbb\xbf"), TomlTextError);
  // A string left open at the end of its line: toml++ stops there, and the rest is passed as it is.
  EXPECT_EQ(toml_safe_text("s = \"open\nt = \xc3\xa9\n"), "s = \"open\nt = \xc3\xa9\n");
  EXPECT_FALSE(parsed("s = \"open\nt = 1\n").has_value());
  // (and toml++ does stop there: the character on the next line would be undefined behaviour, which
  // the sanitizer build catches)
  for (const char* t : {"s = \"open\nt = \xc3\xa9\n", "s = 'open\nt = \xc3\xa9\n", "s = \"x\\\nt = \xc3\xa9\n"})
    EXPECT_FALSE(parsed(toml_safe_text(t)).has_value()) << t;
}

// Through the config: the file's name and line, as toml++'s own syntax errors are reported; the
// characters in strings and comments are read as written; --set values too.
TEST(TomlText, ConfigErrorsAndValues) {
  const std::string ok =
      "# \xcf\x83 = gain\nname = \"caf\xc3\xa9\"\ntrials = 2\nsamples = 2\n[network]\ninput = 4\n"
      "hidden = [4]\n";
  const isc::Experiment ex = isc::parse_experiment(ok, "ok.toml", isc::Overrides{});
  ASSERT_EQ(ex.points.size(), 1u);
  EXPECT_EQ(ex.points[0].config.name, "caf\xc3\xa9");
  try {
    isc::parse_experiment("trials = 4\xd0\x87\n", "bad.toml", isc::Overrides{});
    ADD_FAILURE();
  } catch (const isc::ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "bad.toml:1: TOML syntax error: the character '\xd0\x87' (U+0407) outside a string or comment "
                 "(TOML allows only ASCII there: put it in quotes)");
  }
  isc::Overrides ov;
  ov.sets = {"name=caf\xc3\xa9"};  // bare words: a string
  const isc::Experiment set = isc::parse_experiment(ok, "ok.toml", ov);
  EXPECT_EQ(set.points[0].config.name, "caf\xc3\xa9");
}
