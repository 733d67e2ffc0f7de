#!/usr/bin/env bash
# sweep_overhead.sh BIN [CONFIGS [WIDTH [TRIALS [SAMPLES [RUNS]]]]] — the driver and output overhead of
# a sweep of many small configurations (CONFIGS values of network.gain, TRIALS trials of 3 x WIDTH
# tanh layers with SAMPLES samples; default 1000, 32, 16, 16): wall time of `initscope run` against
# the time its configurations took (manifest.json), printed as a share, and the run's CPU time; RUNS
# runs (default 1), each into a new folder, then the median and the lowest when more than one (a
# shared VM's runs vary by tens of percent). The output thread and the driver also run beside the
# configurations, on the same cores: that CPU is inside "configurations" here (a profile shows it:
# docs/benchmarks.md). Prints, never asserts.
set -euo pipefail
bin=$(realpath "$1")
n=${2:-1000}
width=${3:-32}
trials=${4:-16}
samples=${5:-16}
runs=${6:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/sweep.toml" "$n" "$width" "$trials" "$samples" <<'PY'
import sys
path, n, width, trials, samples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
gains = ", ".join("%.4f" % (0.5 + i * 0.001) for i in range(n))
open(path, "w").write(f'''name = "overhead"
trials = {trials}
samples = {samples}
[network]
input = {width}
hidden = [{width}, {width}, {width}]
activation = "tanh"
[sweep]
"network.gain" = [{gains}]
''')
PY
/usr/bin/python3 - "$bin" "$tmp" "$n" "$width" "$trials" "$samples" "$runs" <<'PY'
import json, os, resource, shutil, statistics, subprocess, sys, time
bin, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[7])
shares, overheads = [], []
for k in range(runs):
    out = tmp + "/out"
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The wall time of the command alone: from just before its start to its exit, taken here (timing
    # with `date` in the shell added two more processes' starts, about 2-3 ms).
    t0 = time.perf_counter()
    subprocess.run([bin, "run", tmp + "/sweep.toml", "--device", "cpu", "--no-plot", "-q", "--out", out], check=True)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru.ru_utime + ru.ru_stime - before.ru_utime - before.ru_stime
    m = json.load(open(out + "/manifest.json"))
    compute = sum(c["seconds"] for c in m["configurations"])
    shares.append(100 * (wall - compute) / wall)
    overheads.append(1e3 * (wall - compute))
    print(f"{sys.argv[3]} configurations ({sys.argv[5]} trials x {sys.argv[6]} samples of 3 x {sys.argv[4]} tanh each): "
          f"wall {wall:.3f} s, configurations {compute:.3f} s, driver + output overhead {wall - compute:.3f} s = "
          f"{shares[-1]:.1f} % of the run; CPU {cpu:.2f} s on {os.cpu_count()} cores", flush=True)
if runs > 1:
    print(f"{runs} runs: driver + output overhead median {statistics.median(overheads):.1f} ms = "
          f"{statistics.median(shares):.1f} % of the run (lowest {min(overheads):.1f} ms = {min(shares):.1f} %)")
PY
