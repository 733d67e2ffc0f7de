// idx.h — MNIST-format IDX files (unsigned-byte images [n, rows, cols] and labels [n], plain or gzip)
// as a Dataset: MNIST, Fashion-MNIST and the other data sets distributed in that format.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/app/data/dataset.h"

namespace isc {

// An image file and its label file, loaded whole into memory as bytes (Fashion-MNIST's training
// images are 47 MB; as floats they would be four times that) and converted in example(): pixel / 255.
// Both files may be gzip-compressed (zlib reads plain files as they are). Every problem with either
// file is a std::runtime_error that names the file and what is wrong.
class IdxDataset : public Dataset {
 public:
  // classes = 0: the largest label + 1 (at least 2), since the format is used with other class counts
  // (EMNIST letters: 26) and says nothing itself. Give the count explicitly (10 for Fashion-MNIST) where
  // a file might lack the top class, so that a training and a test set agree; every label must then be
  // below it.
  IdxDataset(const std::string& images_path, const std::string& labels_path, int classes = 0);

  // "<folder> <file name up to its first '-'> (<n>)", e.g. "fashion-mnist train (60000)".
  std::string name() const override { return name_; }
  int input() const override { return rows_ * cols_; }
  int classes() const override { return classes_; }
  uint64_t size() const override { return labels_.size(); }
  int example(uint64_t index, float* x) const override;
  // Fashion-MNIST's article names when the files are Fashion-MNIST's (the folder or file name says
  // "fashion"), else the label's number (MNIST's digits).
  std::string class_name(int label) const override;
  std::vector<int> image_shape() const override { return {rows_, cols_}; }

  int rows() const { return rows_; }
  int cols() const { return cols_; }

 private:
  std::string name_;
  bool fashion_ = false;
  int rows_ = 0, cols_ = 0, classes_ = 0;
  std::vector<uint8_t> images_;  // the whole image file, header included
  std::size_t pixels_at_ = 0;    // where the pixels start in images_
  std::vector<uint8_t> labels_;
};

}  // namespace isc
