// idx.cpp — reading and checking IDX image and label files through zlib (plain or gzip).
#include "host/app/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>

namespace isc {
namespace {

// IDX magic numbers: two zero bytes, the element type (0x08: unsigned byte), the number of dimensions.
constexpr uint32_t kIdxImages = 0x00000803;
constexpr uint32_t kIdxLabels = 0x00000801;

std::string hex(uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*X", digits, v);
  return buf;
}
std::string hex32(uint32_t v) { return hex(v, 8); }

uint32_t big_endian32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

// The file's bytes, decompressed if it is gzip (gzread passes a file that is not gzip through as
// it is). Once `expected` can tell from what is read so far how many bytes the whole file should
// hold (0: not yet), no more than one byte past that is read (*cut then says the file went on): a
// file far larger than its header says, or another file given by mistake (`expected` throws on a
// wrong header), is not read whole into memory first.
std::vector<uint8_t> read_file(const std::string& path,
                               const std::function<uint64_t(const std::vector<uint8_t>&)>& expected, bool* cut) {
  require_regular_file(path);
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) {
    throw std::runtime_error(path + ": cannot open: " + (errno ? std::strerror(errno) : "out of memory"));
  }
  struct Close {
    gzFile f;
    ~Close() {
      if (f) gzclose(f);
    }
  } close{f};
  *cut = false;
  std::vector<uint8_t> out;
  uint64_t limit = 0;  // the bytes the file should hold, once known
  constexpr unsigned kChunk = 1u << 20;
  for (;;) {
    const std::size_t at = out.size();
    const unsigned want = limit > 0 ? unsigned(std::min<uint64_t>(kChunk, limit + 1 - at)) : kChunk;
    out.resize(at + want);
    const int n = gzread(f, out.data() + at, want);
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      throw std::runtime_error(path + ": cannot read: " + (err == Z_ERRNO ? std::strerror(errno) : msg));
    }
    out.resize(at + std::size_t(n));
    if (n == 0) break;
    if (limit == 0) limit = expected(out);
    if (limit > 0 && out.size() > limit) {
      *cut = true;
      return out;
    }
  }
  // zlib reports a gzip stream cut short as end of file, with Z_BUF_ERROR left to ask for.
  int err = 0;
  gzerror(f, &err);
  if (err == Z_BUF_ERROR) {
    throw std::runtime_error(path + ": the gzip stream ends early (truncated file); " + std::to_string(out.size()) +
                             " bytes could be decompressed");
  }
  return out;
}

// Checks that `bytes` (the file `path`) start with the header of an unsigned-byte IDX file of
// `dims` dimensions (3: images, 1: labels) and returns them.
std::vector<uint32_t> idx_header(const std::vector<uint8_t>& bytes, const std::string& path, int dims) {
  const uint32_t expected = dims == 3 ? kIdxImages : kIdxLabels;
  const std::string expected_text =
      hex32(expected) + (dims == 3 ? " (IDX unsigned-byte images [n, rows, cols])" : " (IDX unsigned-byte labels [n])");
  if (bytes.size() < 4) {
    throw std::runtime_error(path + ": too short for an IDX file: " + std::to_string(bytes.size()) +
                             " bytes, expected magic number " + expected_text);
  }
  const uint32_t magic = big_endian32(bytes.data());
  if (magic != expected) {
    std::string why;
    if (dims == 3 && magic == kIdxLabels) {
      why = "this is an IDX label file, not images (images and labels swapped?)";
    } else if (dims == 1 && magic == kIdxImages) {
      why = "this is an IDX image file, not labels (images and labels swapped?)";
    } else if ((magic >> 8) == 0x08) {
      why = "wrong number of dimensions: " + std::to_string(magic & 0xFF) + ", expected " + std::to_string(dims);
    } else if ((magic >> 16) == 0) {
      why = "element type " + hex(magic >> 8 & 0xFF, 2) + " is not unsigned byte (0x08)";
    } else {
      why = "not an IDX file";
    }
    throw std::runtime_error(path + ": wrong magic number " + hex32(magic) + ", expected " + expected_text + ": " +
                             why);
  }
  const std::size_t header = 4 + 4 * std::size_t(dims);
  if (bytes.size() < header) {
    throw std::runtime_error(path + ": truncated header: " + std::to_string(bytes.size()) + " bytes, expected " +
                             std::to_string(header) + " (magic number and " + std::to_string(dims) + " sizes)");
  }
  std::vector<uint32_t> sizes(static_cast<std::size_t>(dims));
  for (int k = 0; k < dims; ++k) sizes[std::size_t(k)] = big_endian32(bytes.data() + 4 + 4 * k);
  return sizes;
}

// Checks that exactly `count` data bytes follow the header; `shape` describes them for messages;
// `cut`: the file was read only up to one byte past them (read_file).
void check_data(const std::vector<uint8_t>& bytes, const std::string& path, std::size_t header, uint64_t count,
                const std::string& shape, bool cut) {
  const uint64_t found = bytes.size() - header;
  if (cut) {
    throw std::runtime_error(path + ": trailing data: " + shape + " need " + std::to_string(count) +
                             " bytes after the header, and the file goes on past them (not read further)");
  }
  if (found < count) {
    throw std::runtime_error(path + ": truncated data: " + shape + " need " + std::to_string(count) +
                             " bytes after the header, found " + std::to_string(found));
  }
  if (found > count) {
    throw std::runtime_error(path + ": " + std::to_string(found - count) + " bytes of trailing data: " + shape +
                             " need " + std::to_string(count) + " bytes after the header, found " +
                             std::to_string(found));
  }
}

std::string dataset_name(const std::string& images_path, uint64_t n) {
  const std::filesystem::path p(images_path);
  const std::string file = p.filename().string();
  const std::string part = file.substr(0, file.find_first_of("-."));
  const std::string folder = p.parent_path().filename().string();
  return (folder.empty() ? part : folder + " " + part) + " (" + std::to_string(n) + ")";
}

}  // namespace

IdxDataset::IdxDataset(const std::string& images_path, const std::string& labels_path, int classes) {
  if (classes != 0 && classes < 2) {
    throw std::invalid_argument("IdxDataset: classes = " + std::to_string(classes) + " (0 to count them, or >= 2)");
  }
  // (the header, as soon as it is read: a wrong one is refused before the rest is read)
  bool cut = false;
  images_ = read_file(
      images_path,
      [&](const std::vector<uint8_t>& b) -> uint64_t {
        if (b.size() < 16) return 0;
        const std::vector<uint32_t> d = idx_header(b, images_path, 3);
        if (d[1] == 0 || d[2] == 0 || uint64_t(d[1]) * d[2] > uint64_t(INT_MAX)) return 0;  // (refused below)
        return 16 + uint64_t(d[0]) * d[1] * d[2];
      },
      &cut);
  const std::vector<uint32_t> dims = idx_header(images_, images_path, 3);
  const uint64_t n = dims[0], rows = dims[1], cols = dims[2];
  if (n == 0) throw std::runtime_error(images_path + ": no images (the header says n = 0)");
  if (rows == 0 || cols == 0 || rows * cols > uint64_t(INT_MAX)) {
    throw std::runtime_error(images_path + ": unusable image size " + std::to_string(rows) + " x " +
                             std::to_string(cols));
  }
  pixels_at_ = 16;
  // n * rows * cols fits in 64 bits: each is below 2^32 and rows * cols below 2^31.
  check_data(images_, images_path, pixels_at_, n * rows * cols,
             std::to_string(n) + " images of " + std::to_string(rows) + " x " + std::to_string(cols), cut);
  rows_ = int(rows);
  cols_ = int(cols);

  labels_ = read_file(
      labels_path,
      [&](const std::vector<uint8_t>& b) -> uint64_t {
        return b.size() < 8 ? 0 : 8 + uint64_t(idx_header(b, labels_path, 1)[0]);
      },
      &cut);
  const uint64_t n_labels = idx_header(labels_, labels_path, 1)[0];
  check_data(labels_, labels_path, 8, n_labels, std::to_string(n_labels) + " labels", cut);
  labels_.erase(labels_.begin(), labels_.begin() + 8);
  if (n_labels != n) {
    throw std::runtime_error("images and labels differ in number: " + images_path + " has " + std::to_string(n) +
                             " images, " + labels_path + " has " + std::to_string(n_labels) + " labels");
  }

  const int top = *std::max_element(labels_.begin(), labels_.end());
  if (classes == 0) {
    classes_ = std::max(top + 1, 2);
  } else if (top >= classes) {
    const std::size_t at = std::size_t(std::find(labels_.begin(), labels_.end(), uint8_t(top)) - labels_.begin());
    throw std::runtime_error(labels_path + ": label " + std::to_string(top) + " (example " + std::to_string(at) +
                             ") is not below the " + std::to_string(classes) + " classes asked for");
  } else {
    classes_ = classes;
  }
  name_ = dataset_name(images_path, n);
  std::string lower = images_path;
  for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  fashion_ = lower.find("fashion") != std::string::npos && classes_ == 10;
}

int IdxDataset::example(uint64_t index, float* x) const {
  if (index >= labels_.size()) {
    throw std::out_of_range(name_ + ": example " + std::to_string(index) + " of " + std::to_string(labels_.size()));
  }
  const std::size_t d = std::size_t(rows_) * std::size_t(cols_);
  const uint8_t* p = images_.data() + pixels_at_ + std::size_t(index) * d;
  for (std::size_t i = 0; i < d; ++i) x[i] = float(p[i]) / 255.0f;
  return labels_[std::size_t(index)];
}

std::string IdxDataset::class_name(int label) const {
  static const char* const fashion[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return fashion_ && label >= 0 && label < 10 ? fashion[label] : std::to_string(label);
}

}  // namespace isc
