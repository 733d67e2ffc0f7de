// cifar10.h — the CIFAR-10 binary version (data_batch_1.bin ... test_batch.bin) as a Dataset.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/app/data/dataset.h"

namespace isc {

// Bytes of one record: the label (0..9), then 32x32 red, 32x32 green, 32x32 blue, each row-major.
constexpr int kCifarPixels = 3 * 32 * 32;
constexpr int kCifarRecord = 1 + kCifarPixels;

// The records of `files`, concatenated in the order given, loaded whole into memory as bytes.
// example() gives the 3072 pixels / 255 in the file's channel-planar order: x[0..1024) red,
// x[1024..2048) green, x[2048..3072) blue, each plane row-major (x[c*1024 + row*32 + col]); a
// fully-connected network does not care about the order, and keeping it avoids a reshuffle.
// Every problem with a file is a std::runtime_error that names the file and what is wrong.
class Cifar10Dataset : public Dataset {
 public:
  explicit Cifar10Dataset(std::vector<std::string> files);

  // "cifar-10 <file name> (<n>)" for one file, "cifar-10 <k> files (<n>)" for several.
  std::string name() const override { return name_; }
  int input() const override { return kCifarPixels; }
  int classes() const override { return 10; }
  uint64_t size() const override { return records_.size() / kCifarRecord; }
  int example(uint64_t index, float* x) const override;
  // airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck.
  std::string class_name(int label) const override;
  std::vector<int> image_shape() const override { return {3, 32, 32}; }

 private:
  std::string name_;
  std::vector<uint8_t> records_;  // every file's bytes, one after the other
};

}  // namespace isc
