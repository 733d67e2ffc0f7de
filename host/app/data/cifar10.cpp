// cifar10.cpp — reading and checking CIFAR-10 binary files.
#include "host/app/data/cifar10.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace isc {
namespace {

// Refuses a file of `bytes` that is not whole CIFAR-10 records.
void check_size(const std::string& path, uint64_t bytes) {
  if (bytes % kCifarRecord != 0) {
    throw std::runtime_error(path + ": size " + std::to_string(bytes) + " bytes is not a multiple of the " +
                             std::to_string(kCifarRecord) + "-byte CIFAR-10 record (1 label byte + " +
                             std::to_string(kCifarPixels) + " pixel bytes); " + std::to_string(bytes % kCifarRecord) +
                             " bytes left over");
  }
}

// Appends the whole file to `out`; a file whose size is not whole records is refused before it is
// read (another file given by mistake is not read into memory first).
void append_file(const std::string& path, std::vector<uint8_t>* out) {
  require_regular_file(path);
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (!ec) {
    check_size(path, size);
    out->reserve(out->size() + std::size_t(size));
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  uint8_t buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + n);
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) throw std::runtime_error(path + ": cannot read: " + std::strerror(err));
}

}  // namespace

Cifar10Dataset::Cifar10Dataset(std::vector<std::string> files) {
  if (files.empty()) throw std::runtime_error("CIFAR-10: no files given");
  for (const std::string& path : files) {
    const std::size_t start = records_.size();
    append_file(path, &records_);
    const std::size_t bytes = records_.size() - start;
    check_size(path, bytes);  // (again: what was read)
    for (std::size_t r = 0; r < bytes / kCifarRecord; ++r) {
      const int label = records_[start + r * kCifarRecord];
      if (label > 9) {
        throw std::runtime_error(path + ": record " + std::to_string(r) + " (counting from 0, at byte " +
                                 std::to_string(r * kCifarRecord) + ") has label " + std::to_string(label) +
                                 ", expected 0..9 (a CIFAR-100 file, or not CIFAR-10?)");
      }
    }
  }
  std::string all;
  for (const std::string& path : files) all += (all.empty() ? "" : ", ") + path;
  if (records_.empty()) throw std::runtime_error("CIFAR-10: no records in " + all + " (empty files)");
  const std::string what =
      files.size() == 1 ? std::filesystem::path(files[0]).filename().string() : std::to_string(files.size()) + " files";
  name_ = "cifar-10 " + what + " (" + std::to_string(size()) + ")";
}

int Cifar10Dataset::example(uint64_t index, float* x) const {
  if (index >= size()) {
    throw std::out_of_range(name_ + ": example " + std::to_string(index) + " of " + std::to_string(size()));
  }
  const uint8_t* r = records_.data() + std::size_t(index) * kCifarRecord;
  for (int i = 0; i < kCifarPixels; ++i) x[i] = float(r[1 + i]) / 255.0f;
  return r[0];
}

std::string Cifar10Dataset::class_name(int label) const {
  static const char* const names[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                        "dog",      "frog",       "horse", "ship", "truck"};
  return label >= 0 && label < 10 ? names[label] : std::to_string(label);
}

}  // namespace isc
