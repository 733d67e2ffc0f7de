#!/usr/bin/env python3
"""jacobian_table.py — markdown table of the average Jacobian singular value (and the gradient
spread) per layer for each configuration of a results folder (e.g. from fig8.toml).

Usage: python3 experiments/glorot2010/jacobian_table.py results/fig8
"""
import csv
import sys
from collections import defaultdict


def main(folder):
    rows = list(csv.DictReader(open(f"{folder}/stats.csv")))
    keys = [k for k in rows[0].keys()
            if k not in ("config_id", "layer", "quantity", "statistic", "value", "trial_std", "trials")]
    table = defaultdict(dict)  # config label -> (layer, column) -> "value ± std"
    layers = set()
    wanted = {("jacobian_singular_value", "mean"): "mean singular value of J",
              ("backprop_gradient", "std"): "std of dC/ds",
              ("weight_gradient", "std"): "std of dC/dW"}
    for r in rows:
        col = wanted.get((r["quantity"], r["statistic"]))
        if not col:
            continue
        label = ", ".join(f"{k}={r[k]}" for k in keys) or r["config_id"]
        layers.add(int(r["layer"]))
        table[label][(int(r["layer"]), col)] = f'{float(r["value"]):.4g} ± {float(r["trial_std"]):.2g}'
    cols = [c for c in wanted.values() if any(c == k[1] for t in table.values() for k in t)]
    for label, cells in table.items():
        print(f"**{label}** (value = mean over trials ± std across trials)\n")
        print("| layer | " + " | ".join(cols) + " |")
        print("|---|" + "---|" * len(cols))
        for layer in sorted(layers):
            print(f"| {layer} | " + " | ".join(cells.get((layer, c), "") for c in cols) + " |")
        print()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
