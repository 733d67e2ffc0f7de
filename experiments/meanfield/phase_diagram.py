#!/usr/bin/env python3
"""phase_diagram.py — heat map of the measured depth of signal loss over (sigma_w^2, sigma_b^2)
for a results folder of phase_diagram.toml, with the mean-field critical line chi_1 = 1.

Depth of signal loss: the first layer at which the measured correlation of the input pairs'
pre-activations is within `tol` of its fixed point c* (taken from theory.csv at the last layer);
configurations that never get there within the network's depth show the depth itself.

Usage: /usr/bin/python3 experiments/meanfield/phase_diagram.py results/phase_diagram [--tol 0.01]
Writes phase_diagram.png and .svg into the results folder.
"""
import argparse
import csv
import sys
from collections import defaultdict

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
except ImportError:
    sys.exit("phase_diagram: matplotlib/numpy missing (install: apt-get install python3-matplotlib)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--tol", type=float, default=0.01)
    a = ap.parse_args()
    measured = defaultdict(dict)  # (gain, bias_std) -> layer -> c
    for r in csv.DictReader(open(f"{a.results}/stats.csv")):
        if r["quantity"] == "preactivation" and r["statistic"] == "pair_correlation":
            measured[(float(r["network.gain"]), float(r["network.bias_std"]))][int(r["layer"])] = float(r["value"])
    theory = defaultdict(dict)
    for r in csv.DictReader(open(f"{a.results}/theory.csv")):
        theory[(float(r["network.gain"]), float(r["network.bias_std"]))][int(r["layer"])] = r
    gains = sorted({k[0] for k in measured})
    biases = sorted({k[1] for k in measured})
    depth = max(max(v) for v in measured.values())
    loss = np.zeros((len(biases), len(gains)))
    chi = np.zeros_like(loss)
    for i, b in enumerate(biases):
        for j, g in enumerate(gains):
            th = theory[(g, b)]
            c_star = float(th[depth]["c_pre"])
            chi[i, j] = float(th[depth]["chi1"])
            c = measured[(g, b)]
            loss[i, j] = next((l for l in sorted(c) if abs(c[l] - c_star) < a.tol), depth)
    sw2 = np.array(gains) ** 2
    sb2 = np.array(biases) ** 2
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    mesh = ax.pcolormesh(sw2, sb2, loss, shading="nearest", cmap="magma")
    fig.colorbar(mesh, ax=ax, label=f"measured depth of signal loss (|c_l - c*| < {a.tol})")
    # Critical line chi_1 = 1 from theory.csv, interpolated on a finer grid.
    cs = ax.contour(sw2, sb2, chi, levels=[1.0], colors="cyan", linestyles="--", linewidths=2)
    ax.clabel(cs, fmt={1.0: "χ₁ = 1"}, fontsize=9)
    ax.set_xlabel("σ_w² (n·Var[W])")
    ax.set_ylabel("σ_b²")
    ax.set_title(f"tanh, depth {depth}: ordered (left of the line) vs chaotic (right)")
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(f"{a.results}/phase_diagram.{ext}", dpi=110)
    print(f"phase_diagram: wrote {a.results}/phase_diagram.png and .svg")


if __name__ == "__main__":
    main()
