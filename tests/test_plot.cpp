// test_plot.cpp — experiments/plot.py end to end: figures, the self-contained HTML report in headless Chromium, no
// matplotlib.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const char* kPython = "/usr/bin/python3";
const char* kChromium = "/usr/bin/chromium";

struct Result {
  int code;
  std::string out;
};

// Runs `cmd` with /bin/sh; `out` is what the command writes to stdout (redirect inside `cmd`).
Result sh(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t i = text.find(what); i != std::string::npos; i = text.find(what, i + what.size())) ++n;
  return n;
}

fs::path plot_script() { return fs::path(INITSCOPE_SOURCE_DIR) / "experiments" / "plot.py"; }

bool have_matplotlib() {
  return fs::exists(kPython) && sh(std::string(kPython) + " -c 'import matplotlib, numpy' >/dev/null 2>&1").code == 0;
}

// Tiny tanh network, two inits, every quantity: a few seconds for initscope and plot.py.
const char* kConfig =
    "name = \"plot_small\"\nseed = 5\ntrials = 3\nsamples = 16\n"
    "[network]\ninput = 32\nhidden = [24, 16]\noutput = 5\nactivation = \"tanh\"\n"
    "[data]\npair_correlation = 0.5\n"
    "[stats]\nbins = 40\nquantities = [\"preactivation\", \"activation\", \"backprop_gradient\", "
    "\"weight_gradient\", \"jacobian_singular_value\"]\n"
    "[sweep]\n\"network.init\" = [\"standard\", \"normalized\"]\n";

const std::vector<std::string> kFigures = {"hist_preactivation",
                                           "hist_activation",
                                           "hist_backprop_gradient",
                                           "hist_weight_gradient",
                                           "hist_jacobian_singular_value",
                                           "depth_preactivation",
                                           "depth_activation",
                                           "depth_backprop_gradient",
                                           "depth_weight_gradient",
                                           "depth_jacobian_singular_value",
                                           "saturation",
                                           "var_ratio",
                                           "meanfield"};

// One results folder with figures and report per test process (ctest runs each test in its own
// process); removed at exit.
class Plot : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("initscope_plot_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  // Runs initscope and plot.py once; later calls return the first outcome.
  static void generate() {
    if (generated_) return;
    generated_ = true;
    std::ofstream(dir_ / "small.toml") << kConfig;
    const auto run = sh(std::string(INITSCOPE_BIN) + " run " + quote(dir_ / "small.toml") + " --out " +
                        quote(results()) + " --device cpu --quiet --no-plot 2>&1");
    ASSERT_EQ(run.code, 0) << run.out;
    const auto plot = sh(std::string(kPython) + " " + quote(plot_script()) + " " + quote(results()) + " 2>&1");
    ASSERT_EQ(plot.code, 0) << plot.out;
  }

  static fs::path results() { return dir_ / "out"; }

  static std::set<std::string> figure_stems() {  // names of the PNG figures written
    std::set<std::string> stems;
    for (const auto& e : fs::directory_iterator(results() / "figures"))
      if (e.path().extension() == ".png") stems.insert(e.path().stem().string());
    return stems;
  }

  static inline fs::path dir_;
  static inline bool generated_ = false;
};

}  // namespace

TEST_F(Plot, WritesFiguresAndSelfContainedReport) {
  if (!have_matplotlib()) GTEST_SKIP() << "python3-matplotlib not installed (apt-get install python3-matplotlib)";
  generate();
  if (HasFatalFailure()) return;

  for (const auto& name : kFigures) {
    const fs::path png = results() / "figures" / (name + ".png");
    const fs::path svg = results() / "figures" / (name + ".svg");
    ASSERT_TRUE(fs::exists(png)) << png;
    ASSERT_TRUE(fs::exists(svg)) << svg;
    EXPECT_GT(fs::file_size(png), 10000u) << png;  // a real plot, not an empty canvas
    EXPECT_GT(fs::file_size(svg), 10000u) << svg;
    EXPECT_EQ(slurp(png).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << png;
    const std::string s = slurp(svg);
    EXPECT_NE(s.find("<svg"), std::string::npos) << svg;
    EXPECT_NE(s.find("</svg>"), std::string::npos) << svg;
  }
  const auto stems = figure_stems();
  for (const auto& name : kFigures) EXPECT_TRUE(stems.count(name)) << name;

  // report.html: every figure embedded as a data URI, nothing fetched from elsewhere.
  const fs::path report = results() / "report.html";
  ASSERT_TRUE(fs::exists(report));
  const std::string html = slurp(report);
  EXPECT_EQ(count(html, "<img "), stems.size());
  EXPECT_EQ(count(html, "src=\"data:image/png;base64,"), stems.size());
  EXPECT_EQ(count(html, "src=\"http"), 0u);
  EXPECT_EQ(count(html, "<link"), 0u);
  EXPECT_EQ(count(html, "url("), 0u);
  for (const char* text : {"network.init", "standard", "normalized", "(commit ", "activation std", "std of ∂C/∂s",
                           "std of ∂C/∂W", "pair correlation of s", "imagesLoaded"})
    EXPECT_NE(html.find(text), std::string::npos) << text;
}

TEST_F(Plot, ReportLoadsInHeadlessChromium) {
  if (!have_matplotlib()) GTEST_SKIP() << "python3-matplotlib not installed (apt-get install python3-matplotlib)";
  if (!fs::exists(kChromium)) GTEST_SKIP() << "chromium not installed (apt-get install chromium)";
  generate();
  if (HasFatalFailure()) return;

  const std::string chromium =
      "timeout 120 " + std::string(kChromium) +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
      " --disable-component-update --disable-sync --hide-scrollbars --user-data-dir=" +
      quote(dir_ / "chromium-profile") + " --virtual-time-budget=5000 ";
  const std::string url = "file://" + fs::absolute(results() / "report.html").string();
  const auto dom = sh(chromium + "--dump-dom '" + url + "' 2>/dev/null");
  ASSERT_EQ(dom.code, 0) << dom.out.substr(0, 2000);
  const size_t n = figure_stems().size();
  ASSERT_GE(n, kFigures.size());
  const std::string want = "data-images-loaded=\"" + std::to_string(n) + "/" + std::to_string(n) + "\"";
  EXPECT_NE(dom.out.find(want), std::string::npos)
      << "wanted " << want << " in the DOM; body tag: " << dom.out.substr(dom.out.find("<body"), 200);

  const fs::path shot = dir_ / "report.png";
  const auto s = sh(chromium + "--window-size=1280,2000 --screenshot=" + quote(shot) + " '" + url + "' 2>&1");
  ASSERT_EQ(s.code, 0) << s.out.substr(0, 2000);
  ASSERT_TRUE(fs::exists(shot)) << s.out.substr(0, 2000);
  EXPECT_GT(fs::file_size(shot), 20000u);
  EXPECT_EQ(slurp(shot).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(Plot, NotAResultsFolderExits2) {
  if (!have_matplotlib()) GTEST_SKIP() << "python3-matplotlib not installed (apt-get install python3-matplotlib)";
  fs::create_directories(dir_ / "empty");
  const auto r =
      sh(std::string(kPython) + " " + quote(plot_script()) + " " + quote(dir_ / "empty") + " 2>&1 >/dev/null");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("initscope plot: "), std::string::npos) << r.out;
}

TEST_F(Plot, FilesOfTwoRunsAreRefusedUntilTheRunIsFinished) {
  // A run killed between its renames leaves new files beside the older run's: manifest.json (written
  // last) lists every file's size and CRC-32, and plot refuses a folder that disagrees with it.
  if (!have_matplotlib()) GTEST_SKIP() << "python3-matplotlib not installed (apt-get install python3-matplotlib)";
  const fs::path a = dir_ / "mixed", b = dir_ / "other";
  std::ofstream(dir_ / "mix.toml") << "trials = 2\nsamples = 4\n[network]\ninput = 8\nhidden = [8]\noutput = 2\n";
  const std::string cmd =
      std::string(INITSCOPE_BIN) + " run " + quote(dir_ / "mix.toml") + " --device cpu -q --no-plot";
  ASSERT_EQ(sh(cmd + " --out " + quote(a) + " 2>&1").code, 0);
  ASSERT_EQ(sh(cmd + " --seed 9 --out " + quote(b) + " 2>&1").code, 0);
  fs::copy_file(b / "stats.csv", a / "stats.csv", fs::copy_options::overwrite_existing);
  const std::string plot = std::string(kPython) + " " + quote(plot_script()) + " " + quote(a) + " --no-report 2>&1";
  const auto r = sh(plot);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("stats.csv is not the file manifest.json describes"), std::string::npos) << r.out;
  // The same command again finishes the run (its parts are kept): the folder is whole again.
  ASSERT_EQ(sh(cmd + " --out " + quote(a) + " 2>&1").code, 0);
  const auto ok = sh(plot);
  EXPECT_EQ(ok.code, 0) << ok.out;
}

TEST_F(Plot, ARunOnADataSetShowsItsExamples) {
  // data.kind = "shapeset": examples.json (listed and checked in the manifest) holds the examples
  // every trial saw, and the report opens with their sheet; a later run on Gaussian inputs into the
  // same folder (--force: another experiment) leaves no examples.json behind.
  if (!have_matplotlib()) GTEST_SKIP() << "python3-matplotlib not installed (apt-get install python3-matplotlib)";
  const fs::path out = dir_ / "shapes";
  std::ofstream(dir_ / "shapes.toml") << "trials = 2\nsamples = 12\n[network]\nhidden = [16]\n"
                                         "[data]\nkind = \"shapeset\"\n";
  const auto run = sh(std::string(INITSCOPE_BIN) + " run " + quote(dir_ / "shapes.toml") + " --device cpu -q --out " +
                      quote(out) + " 2>&1");
  ASSERT_EQ(run.code, 0) << run.out;
  EXPECT_TRUE(fs::exists(out / "figures" / "data_examples.png"));
  const std::string report = slurp(out / "report.html");
  EXPECT_NE(report.find("the first 12 examples of shapeset that every trial saw"), std::string::npos);
  EXPECT_LT(report.find("data_examples"), report.find("hist_activation"));  // the data first
  EXPECT_NE(slurp(out / "manifest.json").find("\"examples.json\""), std::string::npos);
  std::ofstream(dir_ / "gauss.toml") << "trials = 2\nsamples = 4\n[network]\ninput = 8\nhidden = [8]\n";
  const auto again = sh(std::string(INITSCOPE_BIN) + " run " + quote(dir_ / "gauss.toml") +
                        " --device cpu -q --no-plot --force --out " + quote(out) + " 2>&1");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_FALSE(fs::exists(out / "examples.json"));
}

// -S (no site: no dist-packages) and -E (PYTHONPATH ignored) leave only the standard library,
// so `import matplotlib` fails whatever is installed.
TEST_F(Plot, WithoutMatplotlibPrintsOneLineAndExits3) {
  if (!fs::exists(kPython)) GTEST_SKIP() << kPython << " not found";
  const auto r = sh("env -u PYTHONPATH -u PYTHONHOME " + std::string(kPython) + " -S -E " + quote(plot_script()) + " " +
                    quote(dir_) + " 2>&1 >/dev/null");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_EQ(r.out, "initscope plot: matplotlib is missing (install: apt-get install python3-matplotlib)\n");
  EXPECT_FALSE(fs::exists(dir_ / "figures"));
}

// ---------------------------------------------------------------------------------------------
// Damaged results folders: every one is refused with a single line on stderr (no Python traceback)
// that names the file, and exit status 2; a failure while drawing is one line and exit status 1.

namespace {

const char* kDamageConfig = "trials = 2\nsamples = 4\n[network]\ninput = 8\nhidden = [8]\noutput = 2\n";

// A whole results folder (written once per test process), copied to `name` for a test to damage.
fs::path valid_copy(const fs::path& dir, const std::string& name) {
  const fs::path valid = dir / "valid";
  if (!fs::exists(valid / "manifest.json")) {
    std::ofstream(dir / "valid.toml") << kDamageConfig;
    const auto run = sh(std::string(INITSCOPE_BIN) + " run " + quote(dir / "valid.toml") + " --out " + quote(valid) +
                        " --device cpu -q --no-plot 2>&1");
    if (run.code != 0) {
      ADD_FAILURE() << run.out;
      return {};
    }
  }
  const fs::path copy = dir / name;
  fs::remove_all(copy);
  fs::copy(valid, copy, fs::copy_options::recursive);
  return copy;
}

// plot.py on `folder` (with `args`); `out` is its stderr alone.
Result plot_stderr(const fs::path& folder, const std::string& args = "") {
  return sh(std::string(kPython) + " " + quote(plot_script()) + " " + quote(folder) + args + " 2>&1 >/dev/null");
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// Exit status `code` and exactly one line on stderr, "initscope plot: ...", holding `what` (the
// file and what is wrong with it).
void expect_one_line(const Result& r, int code, const std::string& what) {
  EXPECT_EQ(r.code, code) << r.out;
  EXPECT_EQ(count(r.out, "\n"), 1u) << r.out;
  EXPECT_EQ(r.out.rfind("initscope plot: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(what), std::string::npos) << "wanted '" << what << "' in: " << r.out;
  EXPECT_EQ(r.out.find("Traceback"), std::string::npos) << r.out;
}

// The first config_id in stats.csv (the first field of its second line).
std::string first_config_id(const fs::path& folder) {
  const std::string s = slurp(folder / "stats.csv");
  const size_t line2 = s.find('\n') + 1;
  return s.substr(line2, s.find(',', line2) - line2);
}

}  // namespace

#define SKIP_WITHOUT_MATPLOTLIB() \
  if (!have_matplotlib()) GTEST_SKIP() << "python3-matplotlib not installed (apt-get install python3-matplotlib)"

TEST_F(Plot, MissingFolderIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  expect_one_line(plot_stderr(dir_ / "no_such_folder"), 2, "no_such_folder: no such folder");
}

TEST_F(Plot, EmptyStatsCsvIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "stats_empty");
  if (HasFailure()) return;
  write_text(d / "stats.csv", "");
  expect_one_line(plot_stderr(d), 2, "stats.csv: empty (0 bytes)");
}

TEST_F(Plot, TruncatedStatsCsvIsOneLineExit2) {
  // Cut mid-row: the last line has fewer fields than the header, or is cut in its last field.
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "stats_cut");
  if (HasFailure()) return;
  const std::string s = slurp(d / "stats.csv");
  size_t n = s.size() / 2;
  while (s[n - 1] == '\n') ++n;  // not at a line's end
  fs::resize_file(d / "stats.csv", n);
  expect_one_line(plot_stderr(d), 2, "stats.csv: truncated (line ");
}

TEST_F(Plot, StatsCsvWithoutFinalNewlineIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "stats_no_newline");
  if (HasFailure()) return;
  fs::resize_file(d / "stats.csv", fs::file_size(d / "stats.csv") - 1);
  expect_one_line(plot_stderr(d), 2, "stats.csv: truncated (line ");
}

TEST_F(Plot, StatsCsvWithOtherColumnsIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "stats_columns");
  if (HasFailure()) return;
  std::string s = slurp(d / "stats.csv");
  s.replace(s.find("trial_std"), 9, "trial_sd");
  write_text(d / "stats.csv", s);
  expect_one_line(plot_stderr(d), 2, "stats.csv: columns are not initscope's");
}

TEST_F(Plot, StatsCsvRowWithExtraFieldIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "stats_extra_field");
  if (HasFailure()) return;
  std::string s = slurp(d / "stats.csv");
  const size_t end_of_line2 = s.find('\n', s.find('\n') + 1);
  s.insert(end_of_line2, ",7");
  write_text(d / "stats.csv", s);
  expect_one_line(plot_stderr(d), 2, "stats.csv: not as initscope writes it (line 2 has 8 fields, the header 7)");
}

TEST_F(Plot, EmptyHistogramsCsvIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "hist_empty");
  if (HasFailure()) return;
  write_text(d / "histograms.csv", "");
  expect_one_line(plot_stderr(d), 2, "histograms.csv: empty (0 bytes)");
}

TEST_F(Plot, TruncatedHistogramsCsvIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "hist_cut");
  if (HasFailure()) return;
  const std::string s = slurp(d / "histograms.csv");
  size_t n = s.size() / 3;
  while (s[n - 1] == '\n') ++n;
  fs::resize_file(d / "histograms.csv", n);
  expect_one_line(plot_stderr(d), 2, "histograms.csv: truncated (line ");
}

TEST_F(Plot, MissingTheoryCsvIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "theory_missing");
  if (HasFailure()) return;
  fs::remove(d / "theory.csv");
  expect_one_line(plot_stderr(d), 2, "theory.csv: missing, but manifest.json lists it");
}

TEST_F(Plot, TruncatedTheoryCsvIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "theory_cut");
  if (HasFailure()) return;
  const std::string s = slurp(d / "theory.csv");
  size_t n = s.find('\n') + 10;  // ten bytes into the first row
  fs::resize_file(d / "theory.csv", n);
  expect_one_line(plot_stderr(d), 2, "theory.csv: truncated (line 2 ");
}

TEST_F(Plot, EmptyManifestJsonIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "manifest_empty");
  if (HasFailure()) return;
  write_text(d / "manifest.json", "");
  expect_one_line(plot_stderr(d), 2, "manifest.json: empty (0 bytes)");
}

TEST_F(Plot, CorruptManifestJsonIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "manifest_corrupt");
  if (HasFailure()) return;
  std::string m = slurp(d / "manifest.json");
  m.replace(m.find(':'), 1, ";");
  write_text(d / "manifest.json", m);
  expect_one_line(plot_stderr(d), 2, "manifest.json: corrupt JSON (");
}

TEST_F(Plot, TruncatedManifestJsonIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "manifest_cut");
  if (HasFailure()) return;
  fs::resize_file(d / "manifest.json", fs::file_size(d / "manifest.json") / 2);
  expect_one_line(plot_stderr(d), 2, "manifest.json: truncated JSON (");
}

TEST_F(Plot, ManifestWithoutFileChecksIsOneLineExit2) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "manifest_no_checks");
  if (HasFailure()) return;
  std::string m = slurp(d / "manifest.json");
  m.replace(m.find("\"file_checks\""), 13, "\"file_checkz\"");
  write_text(d / "manifest.json", m);
  expect_one_line(plot_stderr(d), 2, "manifest.json: no \"file_checks\" key");
}

TEST_F(Plot, ConfigIdNotInManifestIsOneLineExit2) {
  // manifest.json of another experiment beside these CSVs (its file_checks still match them).
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "manifest_other_id");
  if (HasFailure()) return;
  const std::string id = first_config_id(d);
  ASSERT_EQ(id.size(), 12u) << id;
  std::string m = slurp(d / "manifest.json");
  for (size_t i = m.find(id); i != std::string::npos; i = m.find(id, i)) m.replace(i, id.size(), "0123456789ab");
  write_text(d / "manifest.json", m);
  expect_one_line(plot_stderr(d), 2, "stats.csv: line 2: config_id '" + id + "' is not one of manifest.json's");
}

TEST_F(Plot, FailureWhileDrawingIsOneLineExit1) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "bad_format");
  if (HasFailure()) return;
  expect_one_line(plot_stderr(d, " --formats png,nosuchformat --no-report"), 1, "failed while saving ");
}

TEST_F(Plot, SmallFolderPrintsNothingOnStderr) {
  SKIP_WITHOUT_MATPLOTLIB();
  const fs::path d = valid_copy(dir_, "small");
  if (HasFailure()) return;
  const auto r = sh("INITSCOPE_PLOT_PROGRESS_SECONDS=0 " + std::string(kPython) + " " + quote(plot_script()) + " " +
                    quote(d) + " --formats png --no-report 2>&1 >/dev/null");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "");
}

TEST_F(Plot, LargeSweepShowsProgressOnStderr) {
  // More than 20 configurations: progress lines on stderr (every tick when the interval is 0).
  SKIP_WITHOUT_MATPLOTLIB();
  std::string seeds;
  for (int i = 1; i <= 21; ++i) seeds += (i > 1 ? ", " : "") + std::to_string(i);
  std::ofstream(dir_ / "sweep21.toml") << kDamageConfig << "[stats]\nquantities = [\"activation\"]\n[sweep]\nseed = ["
                                       << seeds << "]\n";
  const fs::path d = dir_ / "sweep21";
  ASSERT_EQ(sh(std::string(INITSCOPE_BIN) + " run " + quote(dir_ / "sweep21.toml") + " --out " + quote(d) +
               " --device cpu -q --no-plot 2>&1")
                .code,
            0);
  const auto r = sh("INITSCOPE_PLOT_PROGRESS_SECONDS=0 " + std::string(kPython) + " " + quote(plot_script()) + " " +
                    quote(d) + " --formats png --no-report 2>&1 >/dev/null");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("plot: 0/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/21 configurations)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" figures in "), std::string::npos) << r.out;  // the closing line
}

// Figures 7 and 8 as the paper draws them: linearly binned gradients on a linear axis centred on
// 0 by default; the log-|g| view on request (initscope plot --gradient-axis log).
TEST_F(Plot, LinearlyBinnedGradientsAreDrawnCentredOnZero) {
  if (!have_matplotlib()) GTEST_SKIP() << "python3-matplotlib not installed (apt-get install python3-matplotlib)";
  generate();
  if (HasFatalFailure()) return;
  const fs::path d = dir_ / "linear";
  fs::create_directories(d);
  std::ofstream(d / "g.toml") << "name = \"g\"\ntrials = 2\nsamples = 8\n[network]\ninput = 16\nhidden = [16, 16]\n"
                                 "[stats]\nbins = 40\nquantities = [\"activation\", \"backprop_gradient\"]\n"
                                 "gradient_bins = \"linear\"\ngradient_max = 0.05\n";
  const auto run = sh(std::string(INITSCOPE_BIN) + " run " + quote(d / "g.toml") + " --out " + quote(d / "out") +
                      " --device cpu --quiet --no-plot 2>&1");
  ASSERT_EQ(run.code, 0) << run.out;
  const auto plot = sh(std::string(INITSCOPE_BIN) + " plot " + quote(d / "out") + " 2>&1");
  ASSERT_EQ(plot.code, 0) << plot.out;
  EXPECT_NE(slurp(d / "out" / "report.html").find("linear axis centred on 0"), std::string::npos);
  const auto log = sh(std::string(INITSCOPE_BIN) + " plot " + quote(d / "out") + " --gradient-axis log 2>&1");
  ASSERT_EQ(log.code, 0) << log.out;
  const std::string html = slurp(d / "out" / "report.html");
  EXPECT_EQ(html.find("linear axis centred on 0"), std::string::npos);
  EXPECT_NE(html.find("|value| on a log axis, both signs folded"), std::string::npos);
  const auto bad = sh(std::string(INITSCOPE_BIN) + " plot " + quote(d / "out") + " --gradient-axis lin 2>&1");
  EXPECT_EQ(bad.code, 2) << bad.out;
}
