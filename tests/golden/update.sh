#!/usr/bin/env bash
# update.sh BIN — rewrites hashes.txt from the outputs of BIN (an initscope binary) on the golden
# configs. Only for a deliberate change of outputs: say why in the commit. OpenBLAS's Haswell
# kernels are pinned, as in test_golden.cpp, because the GEMM's summation order (and so the last
# bits of every statistic) depends on the kernel OpenBLAS picks for the CPU.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/hashes.txt"
for cfg in "$here"/*.toml; do
  c=$(basename "$cfg" .toml)
  OPENBLAS_CORETYPE=Haswell "$bin" run "$cfg" --device cpu --no-plot -q --out "$tmp/$c" > /dev/null
  for f in stats.csv histograms.csv theory.csv; do
    echo "$(sha256sum < "$tmp/$c/$f" | cut -d' ' -f1)  $c/$f" >> "$tmp/hashes.txt"
  done
done
cp "$tmp/hashes.txt" "$here/hashes.txt"
cat "$here/hashes.txt"
