// main.cpp — the initscope command line: `run` and `info`.
#include <chrono>
#include <cstdio>
#include <ctime>

#include <unistd.h>
#include <iostream>

#include <CLI/CLI.hpp>

#include "backend.h"
#include "config.h"
#include "output.h"
#include "runner.h"

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

int cmd_info() {
  const auto b = isc::build_info();
  std::cout << "initscope " << b["version"].get<std::string>() << " (commit " << b["git_commit"].get<std::string>()
            << ", " << b["build_type"].get<std::string>() << ", " << b["compiler"].get<std::string>() << ")\n";
  std::cout << "build: CUDA " << (b["cuda"].get<bool>() ? "on" : "off") << ", BLAS " << b["blas"].get<std::string>()
            << "\n";
  std::cout << "devices:\n";
  for (const auto& d : isc::describe_devices()) std::cout << "  " << d << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"initscope — signal propagation in deep MLPs at initialization, many trials in parallel"};
  app.require_subcommand(1);
  std::string config_path, out_dir, device = "auto";
  isc::Overrides ov;
  int64_t trials = 0;
  uint64_t seed = 0;
  int threads = 0;
  bool quiet = false;
  auto* run = app.add_subcommand("run", "run an experiment config and write results");
  run->add_option("config", config_path, "experiment config (TOML)")->required();
  run->add_option("--out,-o", out_dir, "results folder (default: results/<name>)");
  run->add_option("--device,-d", device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  auto* o_trials = run->add_option("--trials", trials, "trials per configuration (overrides the config)");
  o_trials->check(CLI::Range(int64_t(1), int64_t(100000000)));
  auto* o_seed = run->add_option("--seed", seed, "seed (overrides the config)");
  auto* o_threads = run->add_option("--threads", threads, "CPU threads (default: all cores)");
  o_threads->check(CLI::Range(1, 4096));
  run->add_option("--set", ov.sets, "override a config key: key=value (TOML value), repeatable");
  run->add_flag("--quiet,-q", quiet, "no progress or summary output");
  app.add_subcommand("info", "version, build options and devices");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (app.got_subcommand("info")) return cmd_info();

  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
  try {
    if (*o_trials) ov.trials = trials;
    if (*o_seed) ov.seed = seed;
    if (*o_threads) ov.threads = threads;
    const isc::Experiment ex = isc::load_experiment(config_path, ov);
    const std::string dir = out_dir.empty() ? "results/" + ex.points.front().config.name : out_dir;
    isc::BackendOptions bo;
    bo.threads = ex.points.front().config.run.threads;
    auto backend = isc::make_backend(device, bo);
    if (!quiet)
      std::fprintf(stderr, "initscope: %zu configuration%s on %s (%s)\n", ex.points.size(),
                   ex.points.size() == 1 ? "" : "s", backend->name().c_str(), backend->description().c_str());
    isc::RunInfo info;
    info.command_line = cmdline;
    info.device = backend->name();
    info.device_description = backend->description();
    info.started_utc = utc_now();
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t k = 0;
    const bool tty = ::isatty(STDERR_FILENO) != 0;  // live progress only on a terminal
    const auto results = isc::run_experiment(ex, *backend, [&](const isc::SweepPoint& p, int64_t done, int64_t total) {
      if (quiet) return;
      if (done == total) ++k;
      if (!tty && done < total) return;
      std::fprintf(stderr, "%s  [%zu/%zu] %s: %lld/%lld trials   ", tty ? "\r" : "", k + (done < total),
                   ex.points.size(), p.id.c_str(), static_cast<long long>(done), static_cast<long long>(total));
      if (done == total) std::fprintf(stderr, "\n");
    });
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    isc::write_results(dir, ex, results, info);
    if (!quiet) {
      std::cout << isc::summary_table(ex, results);
      std::printf("results: %s/ (stats.csv, histograms.csv, trials.csv, manifest.json) in %.2f s\n", dir.c_str(),
                  info.seconds);
    }
    return 0;
  } catch (const isc::ConfigError& e) {
    std::fprintf(stderr, "initscope: config error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "initscope: error: %s\n", e.what());
    return 1;
  }
}
