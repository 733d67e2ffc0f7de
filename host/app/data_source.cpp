// data_source.cpp — the process-wide cache of data sets and batches, and the input moments.
#include "host/app/data_source.h"

#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>

#include "host/app/data/cifar10.h"
#include "host/app/data/idx.h"
#include "host/app/data/shapeset.h"

namespace isc {
namespace {

std::string key_of(DataKind kind, const Config::DataFiles& f) {
  std::string k = std::to_string(int(kind)) + "\n" + std::to_string(f.seed) + "\n" + f.images + "\n" + f.labels;
  for (const auto& x : f.files) k += "\n" + x;
  if (f.has_test()) {
    k += "\ntest\n" + f.test_images + "\n" + f.test_labels;
    for (const auto& x : f.test_files) k += "\n" + x;
  }
  return k;
}

}  // namespace

std::shared_ptr<const Dataset> dataset_of(DataKind kind, const Config::DataFiles& files) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Dataset>> loaded;
  const std::string key = key_of(kind, files);
  std::lock_guard<std::mutex> lock(mu);
  auto it = loaded.find(key);
  if (it != loaded.end()) return it->second;
  std::shared_ptr<const Dataset> d;
  switch (kind) {
    case DataKind::Shapeset: d = std::make_shared<ShapesetDataset>(files.seed); break;
    case DataKind::Idx: d = std::make_shared<IdxDataset>(files.images, files.labels); break;
    case DataKind::Cifar10: d = std::make_shared<Cifar10Dataset>(files.files); break;
    default: throw std::logic_error("dataset_of: drawn inputs have no data set");
  }
  loaded.emplace(key, d);
  return d;
}

std::shared_ptr<const Dataset> eval_dataset_of(const Config& c) {
  if (!c.data_files.has_test()) return dataset_of(c.data, c.data_files);
  Config::DataFiles t;
  t.images = c.data_files.test_images;
  t.labels = c.data_files.test_labels;
  t.files = c.data_files.test_files;
  return dataset_of(c.data, t);
}

uint64_t held_out_examples(const Config& c) { return c.data_files.has_test() ? 0 : uint64_t(c.samples); }

std::shared_ptr<const DataBatch> data_batch(const Config& c) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const DataBatch>> made;
  const std::string key = key_of(c.data, c.data_files) + "\n#" + std::to_string(c.samples);
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = made.find(key);
    if (it != made.end()) return it->second;
  }
  const auto d = eval_dataset_of(c);
  auto b = std::make_shared<DataBatch>();
  b->samples = c.samples;
  b->input = d->input();
  if (d->size() > 0 && uint64_t(c.samples) > d->size())
    throw std::runtime_error(d->name() + " has " + std::to_string(d->size()) +
                             " examples, fewer than samples = " + std::to_string(c.samples));
  const std::size_t n = std::size_t(b->input);
  b->x.resize(std::size_t(c.samples) * n);
  b->labels.resize(std::size_t(c.samples));
  for (int i = 0; i < c.samples; ++i)
    b->labels[std::size_t(i)] = float(d->example(uint64_t(i), &b->x[std::size_t(i) * n]));
  double sum = 0, sq = 0, pairs = 0;
  for (float v : b->x) {
    sum += v;
    sq += double(v) * v;
  }
  const double count = double(b->x.size());
  b->mean_sq = sq / count;
  b->variance = b->mean_sq - (sum / count) * (sum / count);
  int npairs = 0;
  for (int k = 0; k + 1 < c.samples; k += 2, ++npairs)
    for (std::size_t u = 0; u < n; ++u)
      pairs += double(b->x[std::size_t(k) * n + u]) * b->x[std::size_t(k + 1) * n + u];
  b->pair_product = npairs > 0 ? pairs / (double(npairs) * double(n)) : 0.0;
  std::lock_guard<std::mutex> lock(mu);
  return made.emplace(key, b).first->second;
}

std::string examples_json(const Config& c, int most) {
  const auto d = eval_dataset_of(c);
  const auto b = data_batch(c);
  const int n = std::min(most, b->samples);
  nlohmann::json j;
  j["data"] = to_string(c.data);
  j["name"] = d->name();
  j["shape"] = d->image_shape();
  j["labels"] = nlohmann::json::array();
  j["class_names"] = nlohmann::json::array();
  j["pixels"] = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    const int label = int(b->labels[std::size_t(i)]);
    j["labels"].push_back(label);
    j["class_names"].push_back(d->class_name(label));
    std::vector<int> px(std::size_t(b->input));
    for (int u = 0; u < b->input; ++u)
      px[std::size_t(u)] = int(std::lround(255.0f * b->x[std::size_t(i) * std::size_t(b->input) + std::size_t(u)]));
    j["pixels"].push_back(px);
  }
  return j.dump() + "\n";
}

double input_mean_square(const Config& c) {
  return drawn_input(c.data) ? input_variance(c.data) : data_batch(c)->mean_sq;
}
double input_var(const Config& c) { return drawn_input(c.data) ? input_variance(c.data) : data_batch(c)->variance; }
double input_pair_product(const Config& c) {
  return drawn_input(c.data) ? c.pair_correlation * input_variance(c.data) : data_batch(c)->pair_product;
}

}  // namespace isc
