#!/usr/bin/env bash
# sweep_overhead.sh BIN [CONFIGS [WIDTH [TRIALS [SAMPLES]]]] — the driver and output overhead of a
# sweep of many small configurations (CONFIGS values of network.gain, TRIALS trials of 3 x WIDTH
# tanh layers with SAMPLES samples; default 1000, 32, 16, 16): wall time of `initscope run` against
# the time its configurations took (manifest.json), printed as a share. Prints, never asserts
# (docs/benchmarks.md).
set -euo pipefail
bin=$(realpath "$1")
n=${2:-1000}
width=${3:-32}
trials=${4:-16}
samples=${5:-16}
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
t0=$(date +%s.%N)
"$bin" run "$tmp/sweep.toml" --device cpu --no-plot -q --out "$tmp/out"
t1=$(date +%s.%N)
/usr/bin/python3 - "$tmp/out/manifest.json" "$t0" "$t1" "$n" "$width" "$trials" "$samples" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
wall = float(sys.argv[3]) - float(sys.argv[2])
compute = sum(c["seconds"] for c in m["configurations"])
print(f"{sys.argv[4]} configurations ({sys.argv[6]} trials x {sys.argv[7]} samples of 3 x {sys.argv[5]} tanh each): "
      f"wall {wall:.2f} s, "
      f"configurations {compute:.2f} s, driver + output overhead {wall - compute:.2f} s = "
      f"{100 * (wall - compute) / wall:.1f} % of the run")
PY
