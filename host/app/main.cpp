// main.cpp — the initscope command line: `run` and `info`.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <limits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/output.h"
#include "host/app/plan.h"
#include "host/app/progress.h"
#include "host/app/results_dir.h"
#include "host/app/results_writer.h"
#include "host/app/runner.h"
#include "host/app/trials_writer.h"
#include "host/cpu/cpu_backend.h"
#include "host/cpu/openblas.h"

namespace {

// SIGINT / SIGTERM: the run stops at the next chunk boundary (a second signal ends it at once).
std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) {
  g_signal.store(sig);
  g_stop.store(true);
  std::signal(sig, SIG_DFL);
}

// "I/N" (or "/N" with I from JOB_COMPLETION_INDEX, or "" with both from SLURM_ARRAY_TASK_ID and
// SLURM_ARRAY_TASK_COUNT) into a 0-based shard index and count; throws a usage error.
void parse_shard(const std::string& text, int* index, int* count) {
  std::string i_text, n_text;
  const auto slash = text.find('/');
  if (!text.empty()) {
    if (slash == std::string::npos) throw isc::ConfigError("--shard " + text + ": expected I/N (e.g. 0/4)");
    i_text = text.substr(0, slash);
    n_text = text.substr(slash + 1);
  }
  if (i_text.empty()) {
    if (const char* e = std::getenv("SLURM_ARRAY_TASK_ID"))
      i_text = e;
    else if (const char* k = std::getenv("JOB_COMPLETION_INDEX"))
      i_text = k;
  }
  if (n_text.empty())
    if (const char* e = std::getenv("SLURM_ARRAY_TASK_COUNT")) n_text = e;
  auto number = [&](const std::string& t, const char* what) {
    if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string::npos)
      throw isc::ConfigError("--shard " + text + ": " + what + " must be a non-negative integer, got '" + t +
                             "' (I/N, or the job array's index and count)");
    return std::stoi(t);
  };
  *index = number(i_text, "the shard index I");
  *count = number(n_text, "the shard count N");
  if (*count < 1 || *index >= *count)
    throw isc::ConfigError("--shard " + std::to_string(*index) + "/" + std::to_string(*count) +
                           ": needs 0 <= I < N (I counts from 0, as SLURM_ARRAY_TASK_ID)");
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Quotes a string for /bin/sh.
std::string sh_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

bool file_exists(const std::string& p) { return ::access(p.c_str(), R_OK) == 0; }

// The plotting script: $INITSCOPE_PLOT_SCRIPT, the source tree's experiments/plot.py, or
// <prefix>/share/initscope/plot.py next to an installed binary.
std::string plot_script() {
  if (const char* e = std::getenv("INITSCOPE_PLOT_SCRIPT")) return e;
  const std::string src = std::string(INITSCOPE_SOURCE_DIR) + "/experiments/plot.py";
  if (file_exists(src)) return src;
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<std::size_t>(n));
    dir = dir.substr(0, dir.find_last_of('/'));
    const std::string installed = dir + "/../share/initscope/plot.py";
    if (file_exists(installed)) return installed;
  }
  return src;
}

// A Python with matplotlib: $INITSCOPE_PYTHON, else python3 on PATH, else /usr/bin/python3.
std::string plot_python() {
  if (const char* e = std::getenv("INITSCOPE_PYTHON")) return e;
  for (const char* py : {"python3", "/usr/bin/python3"}) {
    const std::string cmd = std::string(py) + " -c 'import matplotlib' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return py;
  }
  return "";
}

// Renders figures and report.html for a results folder; returns the script's exit status
// (3: matplotlib missing). Never throws: plots are an extra, not the run.
int render_plots(const std::string& dir, const std::string& gradient_axis = "auto") {
  // What this process printed comes before what the plotting process prints (stdout may be a pipe).
  std::cout.flush();
  std::fflush(nullptr);
  const std::string py = plot_python();
  if (py.empty()) {
    std::fprintf(stderr, "initscope plot: matplotlib is missing (install: apt-get install python3-matplotlib)\n");
    return 3;
  }
  const std::string script = plot_script();
  if (!file_exists(script)) {
    std::fprintf(stderr, "initscope plot: plotting script not found (%s); set INITSCOPE_PLOT_SCRIPT\n", script.c_str());
    return 4;
  }
  const std::string cmd =
      sh_quote(py) + " " + sh_quote(script) + " " + sh_quote(dir) + " --gradient-axis " + sh_quote(gradient_axis);
  const int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

// The note on OpenBLAS's kernels (cpu_backend.h) for a run or plan on the CPU, when it has one.
void blas_note(const isc::Backend& b, FILE* out) {
  if (b.name().find("cpu") == std::string::npos) return;
  const std::string n = isc::blas_core_note();
  if (!n.empty()) std::fprintf(out, "initscope: note: %s\n", n.c_str());
}

// The threads this process has now (/proc/self/task), 0 where that cannot be read.
int process_threads() {
  std::error_code ec;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return ec ? 0 : n;
}

int cmd_info() {
  // The process's threads once OpenBLAS is loaded (host/cpu/openblas.h), before any backend starts
  // its own: OpenBLAS starts OPENBLAS_NUM_THREADS - 1 as it loads.
  try {
    isc::openblas::load();
  } catch (const std::exception& e) {
    std::cout << "note: " << e.what() << "\n";
  }
  const int threads = process_threads();
  const auto b = isc::build_info();
  std::cout << "initscope " << b["version"].get<std::string>() << " (commit " << b["git_commit"].get<std::string>()
            << ", " << b["build_type"].get<std::string>() << ", " << b["compiler"].get<std::string>() << ")\n";
  std::cout << "build: CUDA " << (b["cuda"].get<bool>() ? "on" : "off") << ", BLAS " << b["blas"].get<std::string>()
            << "\n";
  const char* nt = std::getenv("OPENBLAS_NUM_THREADS");
  std::cout << "threads at start: " << threads << " (OPENBLAS_NUM_THREADS=" << (nt ? nt : "unset")
            << "; the CPU backend calls OpenBLAS single-threaded from its own workers)\n";
  std::cout << "devices:\n";
  for (const auto& d : isc::describe_devices()) std::cout << "  " << d << "\n";
  const std::string n = isc::blas_core_note();
  if (!n.empty()) std::cout << "note: " << n << "\n";
  return 0;
}

// The address-space limit (ulimit -v) in bytes, 0 when there is none.
uint64_t address_space_limit() {
  struct rlimit as {};
  if (::getrlimit(RLIMIT_AS, &as) != 0 || as.rlim_cur == RLIM_INFINITY) return 0;
  return uint64_t(as.rlim_cur);
}

// `initscope merge OUT DIR...`: the shards' parts into OUT's outputs.
// Runs a command, turning its errors into the exit-code contract: 2 for config and usage errors, 1
// for run errors, each printed on one line.
template <class F>
int guarded(F&& command) {
  try {
    return command();
  } catch (const isc::ConfigError& e) {
    std::fprintf(stderr, "initscope: config error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    // Out of memory (an address-space limit, ulimit -v, or a full machine). The process ends here:
    // exit handlers could wait forever on library threads that are themselves failing to allocate
    // (OpenBLAS's workers, which retry).
    const uint64_t limit = address_space_limit();
    std::fprintf(stderr, "initscope: error: out of memory%s; lower run.memory_limit_mb, trials or widths\n",
                 limit ? (" (address-space limit " + std::to_string(limit >> 20) + " MiB, ulimit -v)").c_str() : "");
    std::fflush(nullptr);
    std::_Exit(1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "initscope: error: %s\n", e.what());
    return 1;
  }
}

// The backend the experiment's first configuration asks for (threads, precision) on `device`.
std::unique_ptr<isc::Backend> backend_for(const isc::Experiment& ex, const std::string& device) {
  isc::BackendOptions bo;
  bo.threads = ex.points.front().config.run.threads;
  bo.tf32 = ex.points.front().config.run.tf32;
  return isc::make_backend(device, bo);
}

int cmd_merge(const std::string& out, const std::vector<std::string>& dirs, bool no_plot, bool force) {
  return guarded([&] {
    const auto t0 = std::chrono::steady_clock::now();
    isc::Merged m = isc::merge_folders(dirs);
    isc::RunInfo info;
    info.command_line = "initscope merge " + out;
    for (const auto& d : dirs) info.command_line += " " + d;
    info.device = "merge";
    info.device_description = std::to_string(dirs.size()) + " folders";
    info.started_utc = utc_now();
    info.per_trial = !m.trials.empty();
    const isc::FolderLock lock(out);  // no run or other merge writes OUT meanwhile
    isc::prepare_results_folder(out, isc::experiment_id(*m.ex), force);
    if (info.per_trial) isc::concatenate_trials(out, *m.ex, m.trials);
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    isc::write_results(out, *m.ex, m.results, info);
    std::printf("merged %zu folders: %zu configurations into %s/\n", dirs.size(), m.results.size(), out.c_str());
    if (!no_plot) render_plots(out);
    return 0;
  });
}

// Address space mapped so far (VmSize), in bytes.
uint64_t mapped_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  uint64_t kb = 0;
  while (in >> key)
    if (key == "VmSize:" && (in >> kb)) return kb << 10;
  return 0;
}

// Under an address-space limit, refuses a run that cannot fit in it before compute, instead of
// failing inside OpenBLAS (whose buffer allocation retries forever) or halfway through. Each
// thread that calls OpenBLAS maps a 128 MiB buffer and malloc gives it a 64 MiB arena.
void check_address_space(const std::vector<isc::MemoryPlan>& plans, const isc::Backend& b) {
  const uint64_t limit = address_space_limit();
  if (limit == 0) return;
  uint64_t run = 0;
  for (const isc::MemoryPlan& m : plans)  // (the expanded experiment is mapped already: in `now`)
    run = std::max<uint64_t>(run, uint64_t(m.worker_total()) * uint64_t(m.workers) + m.fixed_bytes - m.held_bytes);
  const uint64_t threads = uint64_t(std::max(1, b.workers()));
  const uint64_t now = mapped_bytes(), need = now + threads * (192ull << 20) + run;
  if (need > limit)
    throw std::runtime_error(
        "the address-space limit (ulimit -v) is " + std::to_string(limit >> 20) + " MiB and this run needs about " +
        std::to_string(need >> 20) + " MiB (" + std::to_string(now >> 20) +
        " MiB mapped at start, 192 MiB per thread for OpenBLAS and malloc, " + std::to_string(run >> 20) +
        " MiB for the trials); raise the limit, or use --threads 1 "
        "or a smaller run.memory_limit_mb");
}

// A large sweep's expansion frees its transient memory (the parsed TOML, its per-configuration
// scratch) in pieces between the blocks the points keep; glibc keeps the free pages resident until
// asked. Returning them makes the run's resident memory what the plan counts (held_bytes; a
// 100,000-configuration sweep: 170 -> 148 MB resident for 146 MB held, in 3.6 ms). Small sweeps
// are left alone: nothing to gain there.
void release_expansion_memory(const isc::Experiment& ex) {
#if defined(__GLIBC__)
  if (ex.points.size() >= 10000) ::malloc_trim(0);
#else
  (void)ex;
#endif
}

// Refuses a run whose outputs would not fit on the disk of `dir` (or of its nearest existing parent).
void check_free_space(const std::string& dir, uint64_t need) {
  // For file systems that report their free space wrongly (some network file systems, quotas).
  if (const char* e = std::getenv("INITSCOPE_NO_SPACE_CHECK"); e && std::string(e) == "1") return;
  std::filesystem::path p = std::filesystem::absolute(dir);
  std::error_code ec;
  while (!p.empty() && !std::filesystem::exists(p, ec) && p != p.parent_path()) p = p.parent_path();
  struct statvfs st {};
  if (::statvfs(p.c_str(), &st) != 0) return;  // unknown: the writes will tell
  const uint64_t free_bytes = uint64_t(st.f_bavail) * uint64_t(st.f_frsize);
  if (free_bytes < need)
    throw std::runtime_error("results folder " + dir + ": the run writes about " +
                             std::to_string((need + (1 << 20) - 1) >> 20) + " MB and " + p.string() + " has " +
                             std::to_string(free_bytes >> 20) + " MB free; free space or choose another --out");
}

// --seed: an integer in [0, 2^63 - 1], as in a config file (a seed outside it could not be replayed
// from the config the run records).
uint64_t parse_seed(const std::string& s) {
  const bool digits = !s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos;
  const unsigned long long v = digits ? std::strtoull(s.c_str(), nullptr, 10) : 0;
  if (!digits || v > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()))
    throw isc::ConfigError("--seed " + s + ": must be an integer in [0, 9223372036854775807]");
  return v;
}

// CLI11 takes "-1" after an option for an option of its own: "--seed -1" becomes "--seed=-1", so
// that the option's own check names the value.
std::vector<std::string> join_negative_values(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i > 0 && i + 1 < argc && a.rfind("--", 0) == 0 && a.size() > 2 && a.find('=') == std::string::npos) {
      const std::string v = argv[i + 1];
      char* end = nullptr;
      if (v.size() > 1 && v[0] == '-' && (std::isdigit(static_cast<unsigned char>(v[1])) || v[1] == '.')) {
        std::strtod(v.c_str(), &end);
        if (end && *end == '\0') {
          out.push_back(a + "=" + v);
          ++i;
          continue;
        }
      }
    }
    out.push_back(a);
  }
  return out;
}

// One line for a command-line error: CLI11's message, with the nearest command or option when the
// error is an unknown one.
std::string usage_error(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  std::string msg = e.what();
  for (auto& c : msg)
    if (c == '\n') c = ' ';
  std::vector<std::string> commands;
  for (const CLI::App* s : app.get_subcommands({})) commands.push_back(s->get_name());
  std::string first;
  for (int i = 1; i < argc && first.empty(); ++i)
    if (argv[i][0] != '-') first = argv[i];
  const CLI::App* sub = nullptr;
  for (const CLI::App* s : app.get_subcommands({}))
    if (s->get_name() == first) sub = s;
  if (!sub) {
    if (first.empty()) return msg + " (commands: run, plan, merge, plot, info; --help for more)";
    return "unknown command '" + first + "' (did you mean '" + isc::nearest_name(first, commands) +
           "'? commands: run, plan, merge, plot, info)";
  }
  // Unknown options of the chosen command: the nearest known one.
  std::vector<std::string> names;
  for (const CLI::Option* o : sub->get_options()) {
    for (const auto& n : o->get_lnames()) names.push_back("--" + n);
    for (const auto& n : o->get_snames()) names.push_back("-" + n);
  }
  names.push_back("--help");
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() < 2 || a[0] != '-' || (a[1] != '-' && a.size() != 2)) continue;
    a = a.substr(0, a.find('='));
    if (std::find(names.begin(), names.end(), a) == names.end())
      return first + ": unknown option " + a + " (did you mean " + isc::nearest_name(a, names) + "?)";
  }
  return first + ": " + msg;
}

}  // namespace

// A finished run (every output written, synced and renamed) ends here: the kernel frees its memory
// at once, where destroying a sweep's configurations, plans and buffers one by one took about 1 ms
// of a 0.35 s sweep of 1,000 small networks (docs/benchmarks.md). Not under a sanitizer, whose leak
// check runs at exit: there the run returns as any other command.
static void exit_finished_run() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
  return;
#endif
#endif
  std::cout.flush();
  std::fflush(nullptr);
  std::_Exit(0);
}

int main(int argc, char** argv) {
  // OpenBLAS starts its own worker threads when the library loads, and they spin (sched_yield) for
  // a while before they sleep: on 2 cores that took CPU from the run's workers (a 1,000-configuration
  // sweep of small networks ran 0.06-0.15 s faster without them, in 5 of 6 alternated pairs). Under
  // an address-space limit (ulimit -v) they also retry their buffer allocation forever and exit
  // waits for them. The CPU backend calls OpenBLAS single-threaded from its own workers, so none are
  // started, unless the user asked for them: OpenBLAS is loaded after this (host/cpu/openblas.h),
  // and reads the variable as it loads; the variable is also set for what the run starts (the
  // plotting's numpy). The commands that use it start loading it now, on a thread of its own,
  // while they read their config (3-4 ms of the loader's work: docs/benchmarks.md).
  if (!std::getenv("OPENBLAS_NUM_THREADS")) ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
  if (argc > 1 && (std::strcmp(argv[1], "run") == 0 || std::strcmp(argv[1], "plan") == 0)) isc::openblas::preload();
  CLI::App app{"initscope — signal propagation in deep MLPs at initialization, many trials in parallel"};
  app.require_subcommand(1);
  std::string config_path, out_dir, device = "auto";
  isc::Overrides ov;
  int64_t trials = 0;
  std::string seed;
  int threads = 0;
  bool quiet = false, no_plot = false, per_trial = false, force = false;
  auto* run = app.add_subcommand("run", "run an experiment config and write results");
  run->add_option("config", config_path, "experiment config (TOML)")->required();
  run->add_option("--out,-o", out_dir, "results folder (default: results/<name>)");
  run->add_option("--device,-d", device, "auto | cpu | cuda | cuda:N | cuda:all | a list (cuda:0,1)")
      ->capture_default_str();
  auto* o_trials = run->add_option("--trials", trials, "trials per configuration (overrides the config)");
  o_trials->check(CLI::Range(int64_t(1), int64_t(100000000)));
  auto* o_seed = run->add_option("--seed", seed, "seed in [0, 2^63-1] (overrides the config)");
  auto* o_threads = run->add_option("--threads", threads, "CPU threads (default: all cores)");
  o_threads->check(CLI::Range(1, 4096));
  run->add_option("--set", ov.sets, "override a config key: one TOML line key = value, repeatable")
      ->allow_extra_args(false)  // one value per --set: `run --set k=v CONFIG` keeps CONFIG
      ->take_all();
  run->add_flag("--quiet,-q", quiet, "no progress or summary output");
  run->add_flag("--no-plot", no_plot, "do not render figures and report.html after the run");
  run->add_flag("--force", force, "replace the results of another experiment in the --out folder (default: refuse)");
  run->add_flag("--per-trial", per_trial, "also write trials.csv.gz: every trial's statistics (output.per_trial)");
  std::string shard;
  run->add_option("--shard", shard,
                  "I/N: run shard I (0-based) of N and keep its parts for `initscope merge` (default: from "
                  "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with N given as --shard /N)");
  std::string merge_out;
  std::vector<std::string> merge_dirs;
  bool merge_no_plot = false, merge_force = false;
  auto* merge = app.add_subcommand("merge", "combine the parts of shard folders of one experiment into OUT");
  merge->add_option("out", merge_out, "results folder to write")->required();
  merge->add_option("dirs", merge_dirs, "the shards' results folders")->required()->check(CLI::ExistingDirectory);
  merge->add_flag("--no-plot", merge_no_plot, "do not render figures and report.html");
  merge->add_flag("--force", merge_force,
                  "replace the results of another experiment in OUT (refused otherwise), or files a merge replaces "
                  "that no initscope run left there");
  app.add_subcommand("info", "version, build options and devices");
  std::string plan_config, plan_device = "auto";
  isc::Overrides plan_ov;
  auto* plan = app.add_subcommand("plan", "what `run` would do and how long it would take, without running it");
  plan->add_option("config", plan_config, "experiment config (TOML)")->required();
  plan->add_option("--device,-d", plan_device, "auto | cpu | cuda | cuda:N | cuda:all | a list (cuda:0,1)")
      ->capture_default_str();
  plan->add_option("--set", plan_ov.sets, "override a config key: one TOML line key = value, repeatable")
      ->allow_extra_args(false)  // one value per --set: `run --set k=v CONFIG` keeps CONFIG
      ->take_all();
  bool plan_no_time = false;
  plan->add_flag("--no-calibration", plan_no_time, "no GEMM calibration, so no time estimate");
  std::string plot_dir;
  auto* plot = app.add_subcommand("plot", "render figures and report.html for a results folder (matplotlib)");
  plot->add_option("results", plot_dir, "results folder written by `initscope run`")
      ->required()
      ->check(CLI::ExistingDirectory);
  std::string plot_gradient_axis = "auto";
  plot->add_option("--gradient-axis", plot_gradient_axis,
                   "gradient histograms: auto (linear centred on 0 for linearly binned gradients, else log), "
                   "linear, log (|g|, both signs) or symlog")
      ->check(CLI::IsMember({"auto", "linear", "log", "symlog"}))
      ->capture_default_str();

  const auto b = isc::build_info();
  app.set_version_flag("--version", "initscope " + b["version"].get<std::string>() + " (commit " +
                                        b["git_commit"].get<std::string>() + ")");
  std::vector<std::string> args = join_negative_values(argc, argv);
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argc = static_cast<int>(argp.size());
  argv = argp.data();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "initscope: usage error: %s\n", usage_error(app, e, argc, argv).c_str());
    return 2;
  }
  if (app.got_subcommand("info")) return cmd_info();
  if (app.got_subcommand("plot")) return render_plots(plot_dir, plot_gradient_axis);
  if (app.got_subcommand("merge")) return cmd_merge(merge_out, merge_dirs, merge_no_plot, merge_force);
  if (app.got_subcommand("plan")) {
    return guarded([&] {
      const isc::Experiment ex = isc::load_experiment(plan_config, plan_ov);
      auto backend = backend_for(ex, plan_device);
      std::printf("plan for %s on %s (%s)\n", plan_config.c_str(), backend->name().c_str(),
                  backend->description().c_str());
      std::fflush(stdout);
      blas_note(*backend, stderr);
      const double rate = plan_no_time ? 0.0 : isc::measure_gemm_rate(*backend);
      std::fputs(isc::plan_text(ex, *backend, rate).c_str(), stdout);
      return 0;
    });
  }

  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
  return guarded([&] {
    if (*o_trials) ov.trials = trials;
    if (*o_seed) ov.seed = parse_seed(seed);
    if (*o_threads) ov.threads = threads;
    if (per_trial) ov.sets.push_back("output.per_trial=true");
    // Plain progress lines every INITSCOPE_PROGRESS_SECONDS seconds (default 10) when not on a
    // terminal; checked before anything is read or written.
    double period = 10.0;
    if (const char* e = std::getenv("INITSCOPE_PROGRESS_SECONDS"); e && *e) {
      char* end = nullptr;
      period = std::strtod(e, &end);
      if (*end != '\0' || !std::isfinite(period) || period < 0)
        throw isc::ConfigError(std::string("INITSCOPE_PROGRESS_SECONDS=") + e +
                               ": expected seconds between progress lines, a number 0 or more");
    }
    const isc::Experiment ex = isc::load_experiment(config_path, ov);
    release_expansion_memory(ex);
    // The shard: --shard I/N, else the job array's index and count.
    int shard_i = -1, shard_n = 0;
    if (!shard.empty() || std::getenv("SLURM_ARRAY_TASK_ID") || std::getenv("JOB_COMPLETION_INDEX")) {
      parse_shard(shard, &shard_i, &shard_n);
    }
    const std::string dir = out_dir.empty() ? "results/" + ex.points.front().config.name : out_dir;
    auto backend = backend_for(ex, device);
    if (!quiet)
      std::fprintf(stderr, "initscope: %zu configuration%s on %s (%s)\n", ex.points.size(),
                   ex.points.size() == 1 ? "" : "s", backend->name().c_str(), backend->description().c_str());
    if (!quiet) blas_note(*backend, stderr);
    isc::RunInfo info;
    info.command_line = cmdline;
    info.device = backend->name();
    info.device_description = backend->description();
    info.started_utc = utc_now();
    const auto t0 = std::chrono::steady_clock::now();
    const bool tty = ::isatty(STDERR_FILENO) != 0;  // live progress only on a terminal
    info.per_trial = ex.points.front().config.output.per_trial;
    // Everything that can be refused is refused before the folder is touched.
    if (info.per_trial) isc::check_trials_columns(ex);
    std::vector<isc::MemoryPlan> plans;
    const std::size_t held = isc::held_bytes(ex);
    for (const auto& p : ex.points) plans.push_back(isc::plan_memory(p.config, *backend, held));
    check_address_space(plans, *backend);
    check_free_space(dir, isc::estimated_output_bytes(ex, info.per_trial));
    isc::ExperimentRecipe recipe;
    recipe.text = isc::read_file(config_path);
    recipe.source = config_path;
    recipe.overrides = ov;
    isc::ResultsDir out(dir, ex, recipe, force);
    if (out.damaged_bytes() > 0 && !quiet)
      std::fprintf(stderr,
                   "initscope: cut %llu damaged bytes off the end of %s/parts/parts.log (a run killed while "
                   "writing); those trials are computed again\n",
                   static_cast<unsigned long long>(out.damaged_bytes()), dir.c_str());
    std::unique_ptr<isc::TrialsCsvGz> trials_part;  // the running unit's rows
    isc::RunOptions opt;
    if (shard_n > 0) opt.units = isc::shard_units(ex, shard_i, shard_n);
    opt.plans = std::move(plans);
    opt.resume = [&](const isc::SweepPoint& p, uint64_t first, uint64_t end) {
      return out.committed(p, first, end, info.per_trial);
    };
    opt.finished = [&](const isc::ConfigResult& r) {
      out.commit(r, trials_part.get());
      trials_part.reset();
    };
    if (info.per_trial)
      opt.per_trial = [&](const isc::ConfigResult& r, uint64_t first, const std::vector<isc::TrialStats>& st) {
        if (!trials_part) trials_part = out.trials_part(*r.point);
        trials_part->write(r, first, st);
      };
    opt.stop = &g_stop;
    opt.checkpoints = dir + "/parts";  // training: each chunk's parameters, while it trains
    if (!quiet) opt.note = [](const std::string& line) { std::fprintf(stderr, "\ninitscope: %s\n", line.c_str()); };
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    // A file-size limit (ulimit -f) then fails the write with EFBIG, reported with the file's name,
    // instead of killing the run mid-write.
    std::signal(SIGXFSZ, SIG_IGN);
    isc::ProgressLine progress(ex, opt.units.empty() ? isc::all_units(ex) : opt.units, tty, stderr, period);
    if (!quiet)
      opt.progress = [&](const isc::SweepPoint& p, int64_t done, int64_t total, bool resumed) {
        progress.update(p, done, total, resumed);
      };
    // The final outputs, written as each configuration is done (not for a shard: it keeps parts only).
    std::unique_ptr<isc::ResultsWriter> writer;
    if (shard_n == 0) writer = std::make_unique<isc::ResultsWriter>(dir, ex, info.command_line);
    // The terminal summary shows the first kSummaryConfigs configurations (stats.csv has them all).
    constexpr std::size_t kSummaryConfigs = 20;
    std::vector<isc::ConfigResult> shown;
    std::size_t units_done = 0;
    opt.unit_done = [&](isc::ConfigResult&& r) {
      ++units_done;
      if (shown.size() < kSummaryConfigs) shown.push_back(r);
      if (writer) writer->add(std::move(r));
    };
    try {
      isc::run_experiment(ex, *backend, opt);
    } catch (const isc::Interrupted& e) {
      out.sync();
      const int sig = g_signal.load();
      std::fprintf(stderr,
                   "\ninitscope: interrupted (%s): %d of %d configuration%s finished, and %llu trial%s of the "
                   "next, kept in %s/parts; resume with:\n  %s\n",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT", e.done, e.total, e.total == 1 ? "" : "s",
                   static_cast<unsigned long long>(e.kept_trials), e.kept_trials == 1 ? "" : "s", dir.c_str(),
                   cmdline.c_str());
      return sig == SIGTERM ? 143 : 130;
    }
    if (shard_n > 0) out.sync();  // (a whole run's log is synced beside its final outputs, below)
    if (out.resumed() > 0 && !quiet)
      std::fprintf(stderr, "initscope: %d committed range%s of trials resumed from %s/parts\n", out.resumed(),
                   out.resumed() == 1 ? "" : "s", dir.c_str());
    if (shard_n > 0) {
      std::printf(
          "shard %d/%d: %zu piece%s of work kept in %s/parts; when every shard is done:\n"
          "  initscope merge OUT <the %d shard folders>\n",
          shard_i, shard_n, units_done, units_done == 1 ? "" : "s", dir.c_str(), shard_n);
      return 0;
    }
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (info.per_trial) out.assemble_trials(ex);
    // The parts log is synced on a thread of its own while the writer syncs the final outputs (each
    // waits for the disk: in turn they took 2-3 ms more of a 0.4 s sweep here); it is durable before
    // they are renamed into place. (Where no thread can start, get() syncs it there.)
    std::future<void> parts_synced = std::async(std::launch::async | std::launch::deferred, [&out] { out.sync(); });
    writer->finish(info, [&parts_synced] { parts_synced.get(); });
    if (!quiet) {
      std::cout << isc::summary_table(ex, shown);
      if (units_done > shown.size())
        std::cout << "... and " << units_done - shown.size() << " more configuration"
                  << (units_done - shown.size() == 1 ? "" : "s") << ": every one is in " << dir << "/stats.csv\n";
      std::printf("results: %s/ (stats.csv, histograms.csv, theory.csv%s, manifest.json) in %.2f s\n", dir.c_str(),
                  info.per_trial ? ", trials.csv.gz" : "", info.seconds);
    }
    if (!no_plot && render_plots(dir) == 0 && !quiet)
      std::printf("figures: %s/figures/, report: %s/report.html\n", dir.c_str(), dir.c_str());
    exit_finished_run();
    return 0;
  });
}
