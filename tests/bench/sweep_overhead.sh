#!/usr/bin/env bash
# sweep_overhead.sh BIN [CONFIGS] — the driver and output overhead of a sweep of many small
# configurations: wall time of `initscope run` against the time its configurations took
# (manifest.json), printed as a share. Prints, never asserts (docs/benchmarks.md).
set -euo pipefail
bin=$(realpath "$1")
n=${2:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/sweep.toml" "$n" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
gains = ", ".join("%.4f" % (0.5 + i * 0.001) for i in range(n))
open(path, "w").write(f'''name = "overhead"
trials = 16
samples = 16
[network]
input = 32
hidden = [32, 32, 32]
activation = "tanh"
[sweep]
"network.gain" = [{gains}]
''')
PY
t0=$(date +%s.%N)
"$bin" run "$tmp/sweep.toml" --device cpu --no-plot -q --out "$tmp/out"
t1=$(date +%s.%N)
/usr/bin/python3 - "$tmp/out/manifest.json" "$t0" "$t1" "$n" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
wall = float(sys.argv[3]) - float(sys.argv[2])
compute = sum(c["seconds"] for c in m["configurations"])
print(f"{sys.argv[4]} configurations (16 trials of 3 x 32 tanh each): wall {wall:.2f} s, "
      f"configurations {compute:.2f} s, driver + output overhead {wall - compute:.2f} s = "
      f"{100 * (wall - compute) / wall:.1f} % of the run")
PY
