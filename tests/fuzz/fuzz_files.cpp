// fuzz_files.cpp — libFuzzer harness over the readers of files a run did not just write itself: the
// parts log and its records (resume, merge), training checkpoints, and the IDX and CIFAR-10 data files.
//
// The first byte of an input chooses the reader (its value modulo 8), the rest is the file:
//
//   0  a parts-log record's payload, given to decode_part for the configuration of kParts below
//      (as load_part does once the record's CRC-32 holds: the CRC only catches damage, a payload
//      another program or version wrote passes it)
//   1  the same for kPartsBackward's configuration (backward quantities: more cells and histograms)
//   2  a whole parts log: PartsLog's scan (read-only), then decode_part of every record it kept
//   3  a training checkpoint; the harness appends the CRC-32 of what it is given, so that the
//      fields behind it are reached (read_checkpoint, for the network of kShape)
//   4  an IDX image file and label file: a 4-byte little-endian length of the image file, its
//      bytes, then the label file's; IdxDataset reads both and every example is read back
//   5  the same, each file gzip-compressed by the harness before it is written
//   6  a CIFAR-10 file; Cifar10Dataset reads it and every example is read back
//   7  a results folder's parts/: a 4-byte little-endian length of experiment.json, its bytes, then
//      parts.log; `initscope merge` of that one folder reads it (read_parts, then the ranges' tiling
//      and their aggregate). The harness sets the CRC-32s of the log's records first (see fix_crcs),
//      so that records of any ranges and contents reach the merge
//
// Every reader must refuse a bad file with an exception (std::exception; read_checkpoint returns
// false): crashes, sanitizer reports, hangs (-timeout) and out-of-memory (-rss_limit_mb) are
// findings. Accepted data must give examples in [0, 1] with labels in [0, classes), else abort().
//
// FUZZ_FILES_VERBOSE=1 prints why each input was refused (triage).
// INITSCOPE_FUZZ_SEEDS=DIR: before fuzzing, writes one valid input per reader to DIR (made from a
// real run of each configuration, so the seeds follow the record formats as they change); the CTest
// (run_fuzz.cmake) sets it to its corpus folder.
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/data/cifar10.h"
#include "host/app/data/idx.h"
#include "host/app/output.h"
#include "host/app/parts_log.h"
#include "host/app/results_dir.h"
#include "host/app/runner.h"
#include "host/app/train/mlp_reference.h"
#include "host/app/train/train_runner.h"

namespace fs = std::filesystem;

namespace {

constexpr int kReaders = 8;

const char* kParts = "samples = 5\ntrials = 6\n[network]\ninput = 4\nhidden = [3, 3]\n[stats]\nbins = 8\n";
const char* kPartsBackward =
    "samples = 4\ntrials = 5\n[network]\ninput = 3\nhidden = [4, 2]\noutput = 3\n[stats]\nbins = 6\n"
    "quantities = [\"preactivation\", \"activation\", \"backprop_gradient\", \"weight_gradient\"]\n";

struct Fixture {
  isc::Experiment forward, backward;
  std::string forward_part, backward_part;  // a real record payload of each
  isc::MlpShape shape;                      // of the checkpoints
  fs::path dir;                             // this process's files
};

Fixture* fixture = nullptr;

std::string part_of(const isc::Experiment& ex, isc::Backend& backend) {
  const std::vector<isc::ConfigResult> rs = isc::run_experiment(ex, backend);
  return isc::encode_part(rs.at(0), isc::experiment_id(ex), false);
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz_files: cannot write %s\n", path.c_str());
    std::abort();
  }
}

std::string read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string gzip(const std::string& bytes) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&z, uLong(bytes.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = uInt(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string le32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string be32(uint32_t v) {
  const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  return std::string(b, 4);
}

// FUZZ_FILES_VERBOSE=1: print why each input was refused (triage: ./initscope_fuzz_files FILE...).
void refused(const char* why) {
  static const bool verbose = std::getenv("FUZZ_FILES_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "fuzz_files: refused: %s\n", why);
}

void check_examples(const isc::Dataset& d) {
  std::vector<float> x(std::size_t(d.input()));
  const uint64_t n = d.size();
  for (uint64_t i = 0; i < n; ++i) {
    const int label = d.example(i, x.data());
    if (label < 0 || label >= d.classes()) {
      std::fprintf(stderr, "fuzz_files: %s example %llu has label %d of %d classes\n", d.name().c_str(),
                   static_cast<unsigned long long>(i), label, d.classes());
      std::abort();
    }
    for (float v : x)
      if (!(v >= 0.0f && v <= 1.0f)) {
        std::fprintf(stderr, "fuzz_files: %s example %llu has a pixel %g outside [0, 1]\n", d.name().c_str(),
                     static_cast<unsigned long long>(i), double(v));
        std::abort();
      }
    (void)d.class_name(label);
  }
  (void)d.image_shape();
}

// A body cut in two by its first 4 bytes (little-endian: the length of the first file).
std::pair<std::string, std::string> two_files(const std::string& body) {
  if (body.size() < 4) return {};
  uint32_t n = 0;
  std::memcpy(&n, body.data(), 4);
  const std::string rest = body.substr(4);
  const std::size_t cut = std::min<std::size_t>(n, rest.size());
  return {rest.substr(0, cut), rest.substr(cut)};
}

void idx_files(const std::string& body, bool gz) {
  auto [images, labels] = two_files(body);
  if (gz) {
    images = gzip(images);
    labels = gzip(labels);
  }
  write_file(fixture->dir / "images-idx3-ubyte", images);
  write_file(fixture->dir / "labels-idx1-ubyte", labels);
  try {
    const isc::IdxDataset d((fixture->dir / "images-idx3-ubyte").string(),
                            (fixture->dir / "labels-idx1-ubyte").string());
    check_examples(d);
  } catch (const std::exception& e) {
    refused(e.what());
  }
}

// The log with every record's two CRC-32s made to hold, from its start up to the first bytes that are
// not a record header (or a record longer than the rest): the record format of parts_log.cpp (magic
// "ISCP", format, payload size, the payload's CRC-32, the CRC-32 of the 20 bytes before).
std::string fix_crcs(std::string log) {
  std::size_t at = 0;
  while (at + 24 <= log.size() && std::memcmp(log.data() + at, "ISCP", 4) == 0) {
    uint64_t size = 0;
    std::memcpy(&size, log.data() + at + 8, 8);
    if (size > log.size() - at - 24) break;
    const uint32_t payload = isc::crc32_of(log.data() + at + 24, std::size_t(size));
    std::memcpy(&log[at + 16], &payload, 4);
    const uint32_t head = isc::crc32_of(log.data() + at, 20);
    std::memcpy(&log[at + 20], &head, 4);
    at += 24 + std::size_t(size);
  }
  return log;
}

void one(uint8_t reader, const std::string& body) {
  switch (reader % kReaders) {
    case 0:
    case 1: {
      const isc::SweepPoint& p = (reader % kReaders == 0 ? fixture->forward : fixture->backward).points.at(0);
      try {
        (void)isc::decode_part(body, p);
      } catch (const std::exception& e) {
        refused(e.what());
      }
      return;
    }
    case 2: {
      const fs::path path = fixture->dir / "parts.log";
      write_file(path, body);
      try {
        isc::PartsLog log(path.string(), false);
        for (const auto& r : log.records())
          for (const isc::Experiment* ex : {&fixture->forward, &fixture->backward})
            if (r.head.config_id == ex->points.at(0).id) {
              try {
                (void)isc::decode_part(log.payload(r), ex->points.at(0));
              } catch (const std::exception& e) {
                refused(e.what());
              }
            }
      } catch (const std::exception& e) {
        refused(e.what());
      }
      return;
    }
    case 3: {
      std::string file = body;
      file += le32(isc::crc32_of(body.data(), body.size()));
      const fs::path path = fixture->dir / "checkpoint";
      write_file(path, file);
      isc::TrainCheckpoint ck;
      std::string why;
      if (!isc::read_checkpoint(path.string(), fixture->shape, &ck, &why)) refused(why.c_str());
      return;
    }
    case 4:
    case 5: return idx_files(body, reader % kReaders == 5);
    case 7: {
      const auto [recipe, log] = two_files(body);
      const fs::path folder = fixture->dir / "results";
      fs::remove_all(folder);
      fs::create_directories(folder / "parts");
      write_file(folder / "parts" / "experiment.json", recipe);
      write_file(folder / "parts" / "parts.log", fix_crcs(log));
      try {
        (void)isc::merge_folders({folder.string()});
      } catch (const std::exception& e) {
        refused(e.what());
      }
      return;
    }
    case 6: {
      const fs::path path = fixture->dir / "data_batch_1.bin";
      write_file(path, body);
      try {
        const isc::Cifar10Dataset d({path.string()});
        check_examples(d);
      } catch (const std::exception& e) {
        refused(e.what());
      }
      return;
    }
  }
}

// The bytes of a parts log holding these payloads, written by PartsLog itself.
std::string log_of(const std::vector<std::string>& payloads) {
  const fs::path path = fixture->dir / "seed.log";
  fs::remove(path);
  {
    isc::PartsLog log(path.string(), true);
    for (const std::string& p : payloads) log.append(p);
    log.sync();
  }
  std::string bytes = read_whole(path);
  fs::remove(path);
  return bytes;
}

// One valid input per reader, for INITSCOPE_FUZZ_SEEDS.
void write_seeds(const fs::path& to) {
  fs::create_directories(to);
  auto seed = [&](int reader, const std::string& body) {
    write_file(to / ("seed-" + std::to_string(reader)), std::string(1, char(reader)) + body);
  };
  seed(0, fixture->forward_part);
  seed(1, fixture->backward_part);
  seed(2, log_of({fixture->forward_part, fixture->backward_part}));
  {
    isc::TrainCheckpoint ck;
    ck.group = "g0";
    ck.first = 2;
    ck.end = 4;
    ck.update = 10;
    ck.steps = 3;
    ck.params = isc::MlpParams::zeros(fixture->shape, 2);
    for (auto& w : ck.params.W)
      for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.01f * float(i);
    ck.nll = {0.5, 0.25};
    ck.errors = {1.0, 0.0};
    const fs::path path = fixture->dir / "seed.ck";
    isc::write_checkpoint(path.string(), ck);
    const std::string file = read_whole(path);
    seed(3, file.substr(0, file.size() - 4));  // the harness appends the CRC
    fs::remove(path);
  }
  // Three 2x3 images, labels 0, 1, 2.
  std::string images = be32(0x00000803) + be32(3) + be32(2) + be32(3), labels = be32(0x00000801) + be32(3);
  for (int k = 0; k < 18; ++k) images += char(k * 14);
  labels += std::string("\0\1\2", 3);
  seed(4, le32(uint32_t(images.size())) + images + labels);
  seed(5, le32(uint32_t(images.size())) + images + labels);
  std::string cifar;
  for (int r = 0; r < 2; ++r) {
    cifar += char(r * 7);
    for (int k = 0; k < isc::kCifarPixels; ++k) cifar += char((k * 31 + r) & 0xff);
  }
  seed(6, cifar);
  {
    // The folder of a run of kParts (threads = 1) that committed its one configuration.
    const nlohmann::json recipe = {{"experiment", isc::experiment_id(fixture->forward)},
                                   {"source", "parts.toml"},
                                   {"text", kParts},
                                   {"overrides", {{"threads", 1}, {"sets", nlohmann::json::array()}}}};
    const std::string text = recipe.dump(2);
    seed(7, le32(uint32_t(text.size())) + text + log_of({fixture->forward_part}));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fixture = new Fixture;
  fixture->dir = fs::temp_directory_path() / ("initscope_fuzz_files_" + std::to_string(::getpid()));
  fs::create_directories(fixture->dir);
  isc::Overrides ov;
  ov.threads = 1;
  fixture->forward = isc::parse_experiment(kParts, "parts.toml", ov);
  fixture->backward = isc::parse_experiment(kPartsBackward, "parts_backward.toml", ov);
  isc::BackendOptions bo;
  bo.threads = 1;
  auto backend = isc::make_backend("cpu", bo);
  fixture->forward_part = part_of(fixture->forward, *backend);
  fixture->backward_part = part_of(fixture->backward, *backend);
  fixture->shape.input = 4;
  fixture->shape.hidden = {3};
  fixture->shape.classes = 2;
  if (const char* seeds = std::getenv("INITSCOPE_FUZZ_SEEDS")) write_seeds(seeds);
  std::atexit([] { fs::remove_all(fixture->dir); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  one(data[0], std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
