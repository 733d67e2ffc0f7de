// file_util.h — small helpers the end-to-end tests share: a whole file, and a gzip file decompressed.
#pragma once
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace isc::test {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The decompressed bytes of a gzip file (every member), "" if it cannot be opened.
inline std::string gunzip(const std::filesystem::path& p) {
  gzFile f = gzopen(p.c_str(), "rb");
  if (!f) return "";
  std::string out;
  char buf[1 << 14];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, std::size_t(n));
  gzclose(f);
  return out;
}

}  // namespace isc::test
