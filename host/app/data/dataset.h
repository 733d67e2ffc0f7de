// dataset.h — the Dataset interface: a source of labelled examples for training experiments.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace isc {

// One labelled example source: fixed-size float inputs in [0, 1] and integer class labels.
// Implementations are immutable after construction, so example() may be called from any number of
// threads at once.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::string name() const = 0;  // e.g. "shapeset", "fashion-mnist train (60000)"
  virtual int input() const = 0;         // floats per example (32*32 = 1024, 784, 3072)
  virtual int classes() const = 0;
  virtual uint64_t size() const = 0;  // examples; 0 = an infinite stream (Shapeset)
  // Example `index` (< size(), any index for a stream) into x[0 .. input()), returns its label.
  virtual int example(uint64_t index, float* x) const = 0;
  // What a label means ("triangle+ellipse", "Sneaker", "cat"); the number itself by default.
  virtual std::string class_name(int label) const { return std::to_string(label); }
  // How input() values form an image, for showing examples: {rows, cols} (grey) or {3, rows, cols}
  // (channel-planar colour).
  virtual std::vector<int> image_shape() const { return {1, input()}; }
};

// Throws a std::runtime_error naming `path` unless it is a regular file: a folder cannot be read, and a
// device such as /dev/zero or a pipe would be read forever or block.
void require_regular_file(const std::string& path);

}  // namespace isc
