// test_json_text.cpp — the directly written JSON text (json_text.h) against nlohmann::json's dump:
// numbers, strings, key order, indentation, and every configuration's resolved form and id.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "host/app/config.h"
#include "host/app/json_text.h"

using namespace isc;
namespace fs = std::filesystem;

TEST(JsonText, NumbersAreWrittenAsNlohmannDumpsThem) {
  std::vector<double> v{0.0,    -0.0,   1.0,   -1.0,   0.1,     0.5,   1e-5, 1e-4,  123456.0, 1e15,   1e16, 1e17,
                        1e-300, 5e-324, 1e308, 0.3333, 2.0 / 3, 1e-10, 10.0, 100.0, 0.001,    0.0001, 1e21, -2.5e-7};
  v.push_back(std::numeric_limits<double>::max());
  v.push_back(std::numeric_limits<double>::min());
  v.push_back(std::numeric_limits<double>::denorm_min());
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {  // random bit patterns: every exponent and mantissa
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d)) v.push_back(d);
  }
  for (int i = 0; i < 2000; ++i) v.push_back(double(int64_t(rng() % 2000001) - 1000000) / 1000.0);
  for (double d : v) ASSERT_EQ(json_value(d), nlohmann::json(d).dump()) << d;
  for (float f : {0.01f, 0.99f, -5.0f, 4.0f, 1e-10f, 3.4e38f}) EXPECT_EQ(json_value(f), nlohmann::json(f).dump());
  EXPECT_EQ(json_value(std::nan("")), "null");
  EXPECT_EQ(json_value(std::numeric_limits<double>::infinity()), nlohmann::json(HUGE_VAL).dump());
  for (int64_t n :
       {int64_t(0), int64_t(-1), int64_t(42), std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()})
    EXPECT_EQ(json_value(n), nlohmann::json(n).dump());
  EXPECT_EQ(json_value(std::numeric_limits<uint64_t>::max()),
            nlohmann::json(std::numeric_limits<uint64_t>::max()).dump());
  EXPECT_EQ(json_value(true), "true");
  EXPECT_EQ(json_value(std::vector<int>{}), "[]");
  EXPECT_EQ(json_value(std::vector<double>{2, 50.5}), nlohmann::json(std::vector<double>{2, 50.5}).dump());
}

TEST(JsonText, StringsAreEscapedAsNlohmannDumpsThem) {
  for (const std::string& s :
       std::vector<std::string>{"", "plain", "with \"quotes\"", "back\\slash", "tab\there", "new\nline",
                                std::string("nul\0in", 6), "\x01\x1f\x7f", "caf\xc3\xa9", "\xe2\x88\x9a{[,:]}"})
    EXPECT_EQ(json_value(s), nlohmann::json(s).dump()) << s;
  // Invalid UTF-8 is refused, as dump() refuses it.
  EXPECT_THROW(json_value(std::string("bad \xff byte")), nlohmann::json::type_error);
}

TEST(JsonText, ObjectsKeepNlohmannsKeyOrderAndRefuseARepeatedKey) {
  JsonObject o;
  o.add("b", 1).add("a", std::string("x")).add("B", 2.5).add("a_b", false).add("ab", std::vector<int>{1, 2});
  const nlohmann::json ref = {{"b", 1}, {"a", "x"}, {"B", 2.5}, {"a_b", false}, {"ab", {1, 2}}};
  EXPECT_EQ(o.text(), ref.dump());
  EXPECT_EQ(JsonObject().text(), "{}");
  EXPECT_THROW(o.add("b", 3), std::logic_error);
  // Keys given in order are written without a sort; either way, text_with merges the two objects'
  // keys into one order and refuses a key in both.
  JsonObject in_order, also_in_order, out_of_order;
  in_order.add("a", 1).add("c", 3).add("e", 5);
  EXPECT_THROW(in_order.add("e", 6), std::logic_error);
  also_in_order.add("b", 2).add("d", 4).add("f", 6);
  out_of_order.add("f", 6).add("b", 2).add("d", 4);
  const std::string merged = R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6})";
  EXPECT_EQ(in_order.text_with(also_in_order), merged);
  EXPECT_EQ(also_in_order.text_with(in_order), merged);
  EXPECT_EQ(in_order.text_with(out_of_order), merged);
  EXPECT_EQ(out_of_order.text_with(in_order), merged);
  EXPECT_EQ(in_order.text_with(JsonObject()), in_order.text());
  EXPECT_EQ(JsonObject().text_with(out_of_order), R"({"b":2,"d":4,"f":6})");
  EXPECT_THROW(in_order.text_with(JsonObject().add("c", 0)), std::logic_error);
  EXPECT_THROW(out_of_order.text_with(JsonObject().add("f", 0)), std::logic_error);
}

TEST(JsonText, IndentationIsDumpsIndentation) {
  nlohmann::json j = {{"a", 1},
                      {"empty_object", nlohmann::json::object()},
                      {"empty_array", nlohmann::json::array()},
                      {"nested", {{"list", {1, 2.5, "three", nullptr, true}}, {"deeper", {{"x", {{"y", "z"}}}}}}},
                      {"tricky \"key\"", "a string with {braces}, [brackets], commas: and \\ \"escapes\""}};
  const std::string compact = j.dump();
  EXPECT_EQ(json_indented(compact, 2), j.dump(2));
  EXPECT_EQ(json_indented(compact, 4), j.dump(4));
  // With a base: every line after the first that much further in.
  std::string shifted;
  for (char ch : j.dump(2)) {
    shifted += ch;
    if (ch == '\n') shifted += "    ";
  }
  EXPECT_EQ(json_indented(compact, 2, 4), shifted);
  EXPECT_EQ(json_indented("[]", 2), "[]");
  EXPECT_THROW(json_indented("[\"open", 2), std::invalid_argument);
}

namespace {
// Every point's resolved text is its reference's dump; its id is the hash of that dump without name
// and trials, as it always was; a trained point's group, that without its update too.
void expect_resolved_matches(const Experiment& ex, const std::string& what) {
  ASSERT_FALSE(ex.points.empty()) << what;
  for (const auto& p : ex.points) {
    nlohmann::json ref = resolved_json(p.config);
    ASSERT_EQ(p.resolved, ref.dump()) << what;
    ref.erase("name");
    ref.erase("trials");
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(ref.dump())));
    ASSERT_EQ(p.id, std::string(buf, 12)) << what;
    // A trained configuration's group: the same without the evaluation point's update.
    if (p.config.train.on()) {
      ref["train"].erase("update");
      std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(ref.dump())));
      ASSERT_EQ(p.train_group, std::string(buf, 12)) << what;
    } else {
      ASSERT_TRUE(p.train_group.empty()) << what;
    }
  }
}
}  // namespace

TEST(JsonText, ResolvedFormsOfEveryShippedExperimentMatchTheirReference) {
  int checked = 0;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(INITSCOPE_SOURCE_DIR) / "experiments")) {
    if (e.path().extension() != ".toml") continue;
    Experiment ex;
    try {
      ex = load_experiment(e.path().string());
    } catch (const ConfigError& err) {  // a data set this machine lacks (Fashion-MNIST is optional)
      std::printf("skipped %s: %s\n", e.path().c_str(), err.what());
      continue;
    }
    expect_resolved_matches(ex, e.path().string());
    ++checked;
  }
  EXPECT_GE(checked, 10) << "the shipped experiments under experiments/";
}

TEST(JsonText, ResolvedFormsOfEveryKindOfConfigurationMatchTheirReference) {
  const char* base = R"(name = "caf\u00e9 \"q\""
trials = 3
samples = 8
[network]
input = 12
hidden = [6, 5]
activation = "leaky_relu"
negative_slope = 0.2
init = "uniform"
init_bound = 0.07
bias = 0.1
bias_std = 0.05
[stats]
percentiles = [1, 50.5, 99]
quantities = ["preactivation", "activation", "backprop_gradient", "weight_gradient", "jacobian_singular_value"]
gradient_bins = "linear"
jacobian_samples = 2
[sweep]
"network.gain" = [0.5, 1.25e-3, 3]
"data.pair_correlation" = [0.0, 0.75]
)";
  expect_resolved_matches(parse_experiment(base, "kinds.toml"), "gaussian, backward, jacobian");
  Overrides tf32;
  tf32.sets = {"run.precision = \"tf32\"", "stats.gradient_bins = \"symlog\"", "targets.kind = \"teacher\""};
  expect_resolved_matches(parse_experiment(base, "kinds.toml", tf32), "tf32, symlog, teacher");
  const char* shapeset = R"(trials = 2
samples = 4
[network]
hidden = [8]
activation = "tanh"
[data]
kind = "shapeset"
seed = 9
[train]
updates = 20
eval_every = 5
[sweep]
"train.learning_rate" = [0.01, 0.1]
)";
  const Experiment s = parse_experiment(shapeset, "shapeset.toml");
  expect_resolved_matches(s, "shapeset, training");
  // The evaluation points of one trained configuration share a group; the two rates do not.
  EXPECT_EQ(s.points[0].train_group, s.points[4].train_group);
  EXPECT_NE(s.points[0].train_group, s.points[5].train_group);
  EXPECT_NE(s.points[0].id, s.points[1].id);
}

TEST(JsonText, ResolvedFormsOfDataSetFilesMatchTheirReference) {
  // Small CIFAR-10 binary files (a label byte and 3,072 pixel bytes per example), written here.
  const fs::path dir = fs::temp_directory_path() / ("initscope_json_text_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* name : {"data_batch_1.bin", "test \"batch\".bin"}) {
    std::string bytes;
    for (int e = 0; e < 12; ++e) {
      bytes += char(e % 10);
      bytes.append(3072, char(e * 7));
    }
    std::FILE* f = std::fopen((dir / name).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  const std::string cfg = "trials = 2\nsamples = 4\n[network]\nhidden = [8]\n[data]\nkind = \"cifar10\"\nfiles = [" +
                          nlohmann::json((dir / "data_batch_1.bin").string()).dump() + "]\ntest_files = [" +
                          nlohmann::json((dir / "test \"batch\".bin").string()).dump() + "]\n";
  expect_resolved_matches(parse_experiment(cfg, (dir / "c.toml").string()), "cifar10 with a test file");
  fs::remove_all(dir);
}

TEST(JsonText, HashesContinueOverMoreBytes) {
  // The Philox stream hashes a configuration's network and data texts as one: fnv1a_more continues
  // the hash without joining them.
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"", ""}, {"{\"input\":8}", "{\"kind\":\"gaussian\"}"}, {"x", ""}, {"", "y"}})
    EXPECT_EQ(fnv1a_more(fnv1a(a), b), fnv1a(a + b)) << a << " + " << b;
  EXPECT_EQ(fnv1a(""), 1469598103934665603ull);  // FNV-1a's offset basis
}
