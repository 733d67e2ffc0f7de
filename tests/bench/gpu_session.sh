#!/usr/bin/env bash
# gpu_session.sh — a lent GPU's checks in one call, for the device tool (after
# `../shared/gpu/pack.sh BUILD_DIR .gpu`, with carry [".gpu"]):
#   bash tests/bench/gpu_session.sh [STEP...]
# Steps: tests sanitize bench peer ncu (on-device.sh's own), svd (the Jacobian solvers side by side,
# initscope_bench_svd), jacobian-run (Figure 8 with its Jacobian spectra through `initscope run`,
# once per CUDA solver and once on the CPU: wall times, and the largest difference of the spectra's
# statistics from gesvd's), sweep48 (tests/bench/sweep48.toml: the engine beside its GEMMs alone,
# initscope_bench_sweep; then `initscope run --per-trial` of it: its output phase against its
# compute). Default: tests svd jacobian-run bench peer. Everything is logged to $OUT/log.txt.
# The steps' own timeouts add up to more than one device call's 600 s: split them over calls, e.g.
# `tests svd` (timeout_s 450), then `jacobian-run sweep48`, then `bench peer`; and run memcheck on
# a part of the tests (GTEST_FILTER='GpuSvd.*' bash .gpu/on-device.sh sanitize).
HERE=$(cd "$(dirname "$0")/../.." && pwd); OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
[ -f "$HERE/.gpu/on-device.sh" ] || { echo "gpu_session.sh: no .gpu/on-device.sh (run pack.sh, carry .gpu)"; exit 2; }
[ $# -eq 0 ] && set -- tests svd jacobian-run bench peer
own=(); theirs=()
for s in "$@"; do case "$s" in svd|jacobian-run|sweep48) own+=("$s");; *) theirs+=("$s");; esac; done
[ ${#theirs[@]} -gt 0 ] && bash "$HERE/.gpu/on-device.sh" "${theirs[@]}"
exec > >(tee -a "$OUT/log.txt") 2>&1
[ -d /tmp/bundle ] || tar xJf "$HERE/.gpu/bundle.tar.xz" -C /tmp
B=/tmp/bundle
CL=$(dirname "$(find /usr/local/cuda* -name 'libcublasLt.so.*' 2>/dev/null | head -1)")
export LD_LIBRARY_PATH=$B/lib:$CL:${LD_LIBRARY_PATH:-}
for s in "${own[@]}"; do
  echo; echo "=== $s ($(date +%T))"
  case "$s" in
    svd) timeout 240 "$B/bin/initscope_bench_svd" 1000 32 3 2 ;;
    jacobian-run)
      for solver in gesvd gram-batched gram-syevd cpu; do
        rm -rf "/tmp/jac-$solver"
        device=cuda; [ $solver = cpu ] && device=cpu
        t0=$(date +%s.%N)
        INITSCOPE_JACOBIAN_SOLVER=${solver/cpu/} timeout 200 "$B/bin/initscope" run \
          "$B/src/experiments/glorot2010/fig8.toml" --set trials=16 --device $device --no-plot -q --out "/tmp/jac-$solver"
        rc=$?
        echo "$solver: rc=$rc, wall $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s (80 layer Jacobians of 1000 x 1000 or 1000 x 1024 in each of 2 configurations)"
      done
      python3 - <<'PY'
import csv, math
def rows(s):
    try:
        return {(r["config_id"], r["layer"], r["statistic"]): float(r["value"]) for r in csv.DictReader(open(f"/tmp/jac-{s}/stats.csv"))
                if r["quantity"] == "jacobian_singular_value"}
    except OSError as e:
        print(s, "no stats:", e); return {}
ref = rows("gesvd")
for s in ("gram-batched", "gram-syevd", "cpu"):
    got = rows(s)
    diffs = [(abs(got[k] - v) / max(abs(v), 1e-30), k) for k, v in ref.items() if k in got and math.isfinite(v)]
    worst = max(diffs) if diffs else None
    print(f"{s} vs gesvd: {len(got)} Jacobian statistics, largest relative difference of their values (across-trial means) {worst}")
PY
      ;;
    sweep48)
      timeout 240 "$B/bin/initscope_bench_sweep" "$B/src/tests/bench/sweep48.toml" --device cuda --repeats 2
      rm -rf /tmp/sweep48
      t0=$(date +%s.%N)
      timeout 200 "$B/bin/initscope" run "$B/src/tests/bench/sweep48.toml" --device cuda --per-trial --no-plot -q \
        --out /tmp/sweep48
      rc=$?
      t1=$(date +%s.%N)
      echo "initscope run sweep48 --per-trial: rc=$rc"
      python3 - "$t0" "$t1" <<'PY'
import json, os, sys
wall = float(sys.argv[2]) - float(sys.argv[1])
m = json.load(open("/tmp/sweep48/manifest.json"))
compute = sum(c["seconds"] for c in m["configurations"])
files = {f: os.path.getsize("/tmp/sweep48/" + f) for f in os.listdir("/tmp/sweep48") if os.path.isfile("/tmp/sweep48/" + f)}
print(f"sweep48: {len(m['configurations'])} configurations, compute {compute:.2f} s (manifest), run {m.get('seconds', float('nan')):.2f} s;"
      f" outputs {sum(files.values()) / 1e6:.1f} MB ({', '.join(f'{k} {v / 1e6:.1f} MB' for k, v in sorted(files.items()))})")
print(f"sweep48: wall {wall:.2f} s; start, driver, commits and outputs (wall - compute) {wall - compute:.2f} s ="
      f" {100 * (wall - compute) / compute:.1f} % of compute (issue 12's goal: under 10 %)")
PY
      ;;
  esac
done
