#!/usr/bin/env python3
"""plot.py — figures (PNG/SVG) and a self-contained HTML report for an initscope results folder.

Usage:
    python3 experiments/plot.py RESULTS_DIR [--formats png,svg] [--no-report]
            [--gradient-axis auto|linear|log|symlog]

Reads RESULTS_DIR/{stats.csv, histograms.csv, manifest.json} and, when present, theory.csv
(mean-field predictions), and writes RESULTS_DIR/figures/<name>.<format> and
RESULTS_DIR/report.html (one page, every image embedded as a data URI, no external resources).

Figures:
  hist_<quantity>   one panel per configuration (small multiples for a sweep), the per-layer
                    normalized histograms overlaid, as in Glorot & Bengio (2010), Figures 6-8.
  depth_<quantity>  per configuration against the layer: mean with a +-std band; the root mean
                    square sqrt(E[x^2]) (from mean_sq) on a log axis with the mean-field
                    prediction dashed (theory.csv: sqrt(q_pre), sqrt(var_act), the back-propagated
                    gradient from grad_ratio anchored at the measured top layer, the Jacobian's
                    singular values from chi1 as sqrt(chi1 n_out / min(n_in, n_out))); and the
                    98th percentile. The theory gives second moments, hence the RMS panel: it
                    equals the std when the mean is 0 (odd activations, zero bias), and stays
                    comparable when it is not (ReLU).
  saturation        fraction of saturated activations against the layer (when measured).
  var_ratio         Var[h_l] / Var[h_{l-1}] against the layer.
  meanfield         chi_1 (theory.csv) and the c-map: the measured pair_correlation of the
                    pre-activations with the predicted c_pre dashed (when either exists).

Conventions (change them below): every layer has the same colour in every figure (viridis over
the layer index, LAYER_CMAP) and every configuration has the same colour in every depth figure
(config_colors: tab10, then lighter shades, plus a marker per configuration). Histograms of deep
networks show at most MAX_HIST_LAYERS evenly spaced layers (a colorbar replaces the legend when
more than 12 distinct layers appear); their x range covers the bins holding at least
HIST_MASS_FLOOR of the values, shared by all panels; each panel has its own y scale. A two-key
sweep is laid out as a table (one key per row, the other per column).

Gradient histograms: with stats.gradient_bins = "linear" (experiments/glorot2010/fig7.toml and
fig8.toml) initscope bins gradients in equal widths over [-gradient_max, gradient_max], and they
are drawn as the paper draws Figures 7 and 8: density on a linear axis centred on 0
(--gradient-axis auto, the default, picks linear then). By default (gradient_bins = "symlog") it
bins them in u = sign(g) log10(1 + |g|/linthresh), so the bins are equal on a logarithmic scale
and their value-space widths span many decades. They are drawn as "fraction of values per decade"
(count / (all values * bin width in u)) against:
  --gradient-axis linear  g on a linear axis (density per unit g);
  --gradient-axis log     (auto for symlog bins) |g| on a log axis, both signs folded: one hump per
                          layer whose position is the gradient's scale (gradients at
                          initialization are symmetric; their mean is in the depth figure);
  --gradient-axis symlog  g on matplotlib's symlog axis: two mirrored humps per layer; linear
                          below the smallest |g| shown (at least the config's gradient_linthresh,
                          else the smallest positive bin edge).
On the log axis the bins touching zero (exact zeros, e.g. ReLU's dead units, and |g| below about
linthresh) have no place; the panel notes their share when it is above 0.5%.

Needs numpy and matplotlib only. Errors are one line on stderr, never a traceback (set
INITSCOPE_PLOT_TRACEBACK=1 to see one). Exit status:
  0  figures (and report.html) written;
  1  a failure while drawing or writing (the line names the folder and the figure or file);
  2  not a valid results folder: a missing, empty, truncated (cut mid-row, no newline at the end),
     corrupt or inconsistent stats.csv, histograms.csv, theory.csv or manifest.json (columns not
     as initscope writes them, a value that is not a number, a config_id manifest.json does not
     list, a size or CRC-32 that disagrees with manifest.json's file_checks); the line names the
     file and what is wrong;
  3  matplotlib is missing.
Large folders (more than PROGRESS_MIN_CONFIGS configurations or figures) get a progress line on
stderr at most every PROGRESS_SECONDS ("plot: 3/13 figures (hist_activation: 120/2000
configurations)"); small ones print nothing there.
"""
import argparse
import base64
import csv
import html
import io
import json
import math
import os
import sys
import time
import zlib
from collections import defaultdict

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.cm
    import matplotlib.colors
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    from matplotlib.lines import Line2D
    import numpy as np
except ImportError:
    print("initscope plot: matplotlib is missing (install: apt-get install python3-matplotlib)",
          file=sys.stderr)
    sys.exit(3)

# --------------------------------------------------------------------------------------------
# Settings a user may want to change.

QUANTITY_ORDER = ["preactivation", "activation", "backprop_gradient", "weight_gradient",
                  "jacobian_singular_value"]
GRADIENT_QUANTITIES = {"backprop_gradient", "weight_gradient"}
QUANTITY_LABEL = {
    "preactivation": "pre-activation $s_l = W_l h_{l-1} + b_l$",
    "activation": "activation $h_l = f(s_l)$",
    "backprop_gradient": r"back-propagated gradient $\partial C/\partial s_l$",
    "weight_gradient": r"weight gradient $\partial C/\partial W_l$",
    "jacobian_singular_value": r"singular values of $J_l = \partial h_l/\partial h_{l-1}$",
}
QUANTITY_SYMBOL = {"preactivation": "s", "activation": "h",   # mathtext, used as $...$
                   "backprop_gradient": r"\partial C/\partial s",
                   "weight_gradient": r"\partial C/\partial W", "jacobian_singular_value": r"\sigma"}
LAYER_CMAP = "viridis"
LAYER_CMAP_RANGE = (0.0, 0.88)   # leave out viridis' pale yellow end: it vanishes on white
MAX_HIST_LAYERS = 10             # deeper networks: this many evenly spaced layers per panel
HIST_MASS_FLOOR = 1e-4           # x range of histograms: bins holding at least this fraction
GRADIENT_MASS_FLOOR = 1e-3       # ... of gradient histograms (their small-|g| tail is long)
DPI = 110
STATS_FIXED = {"config_id", "layer", "quantity", "statistic", "value", "trial_std", "trials"}
# The columns initscope writes after config_id and the swept keys, per file.
CSV_TAILS = {"stats.csv": ["layer", "quantity", "statistic", "value", "trial_std", "trials"],
             "histograms.csv": ["layer", "quantity", "bin", "bin_lo", "bin_hi", "count", "density"],
             "theory.csv": ["layer", "sigma_w2", "q_pre", "var_pre", "var_act", "chi1", "grad_ratio",
                            "c_pre"]}
PROGRESS_MIN_CONFIGS = 20        # progress lines on stderr above this many configurations or figures
PROGRESS_SECONDS = 1.0           # ... at most this often (INITSCOPE_PLOT_PROGRESS_SECONDS)
THEORY_COLUMNS = ["q_pre", "var_act", "chi1", "grad_ratio", "c_pre"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p"]


def config_colors(n):
    """One colour per configuration: tab10, then tab20's lighter shades, then a colormap."""
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    if n <= 20:
        tab20 = plt.get_cmap("tab20")
        return [tab20(2 * i) for i in range(10)] + [tab20(2 * i + 1) for i in range(n - 10)]
    return [plt.get_cmap("turbo")(x) for x in np.linspace(0.05, 0.95, n)]


# --------------------------------------------------------------------------------------------
# Reading a results folder.

class ResultsError(Exception):
    """The folder is not a whole results folder as initscope writes it (exit status 2). The
    message is one line: the file, then what is wrong with it."""


class Progress:
    """Progress lines on stderr for large folders, at most every `interval` seconds; also knows
    what is being done, for the one-line message of an unexpected failure."""

    def __init__(self):
        self.enabled = False
        self.interval = PROGRESS_SECONDS
        try:
            self.interval = float(os.environ.get("INITSCOPE_PLOT_PROGRESS_SECONDS", self.interval))
        except ValueError:
            pass
        self.total = self.done = 0
        self.stage = "starting"
        self.figure = None
        self.start = self.last = time.monotonic()

    def enable(self, on=True):
        if on and not self.enabled:
            self.enabled, self.start, self.last = True, time.monotonic(), time.monotonic()

    def set_stage(self, stage):
        self.stage = stage

    def show(self, line):
        now = time.monotonic()
        if self.enabled and now - self.last >= self.interval:
            self.last = now
            print(f"plot: {line}", file=sys.stderr, flush=True)

    def reading(self, name, done, size):
        self.show(f"reading {name} {100.0 * done / max(size, 1):.0f}%")

    def tick(self, i=None, n=None, doing=None):
        """Inside a figure: i of n configurations drawn, or what is being done (saving png)."""
        if self.figure:
            detail = self.figure + (f": {i}/{n} configurations" if n else f": {doing}" if doing else "")
        else:
            detail = self.stage
        self.show(f"{self.done}/{self.total} figures ({detail})")

    def begin_figure(self, name):
        self.figure = name
        self.stage = f"drawing {name}"
        self.tick()

    def end_figure(self):
        self.done += 1
        self.figure = None

    def finish(self, what):
        if self.enabled:
            print(f"plot: {self.done}/{self.total} figures{what} in {time.monotonic() - self.start:.0f} s",
                  file=sys.stderr, flush=True)


PROGRESS = Progress()


class CsvTable:
    """One results CSV, checked while it is read: not empty, a header ending in the columns
    initscope writes (`tail`), every row as many fields as the header, a newline at the end.
    rows() yields (line number, fields); the checks raise ResultsError naming the file."""

    def __init__(self, path, tail):
        self.path, self.tail = path, tail
        self.name = os.path.basename(path)
        try:
            self.size = os.path.getsize(path)
            if self.size:
                with open(path, "rb") as f:
                    f.seek(-1, os.SEEK_END)
                    self.ends_with_newline = f.read(1) == b"\n"
        except OSError as e:
            raise ResultsError(f"{path}: cannot read ({e.strerror or e})")
        if self.size == 0:
            raise ResultsError(f"{path}: empty (0 bytes); run the experiment again")
        self.header = None
        self.columns = {}
        self._rows = self._read()
        next(self._rows)  # reads and checks the header

    def fail(self, what):
        raise ResultsError(f"{self.path}: {what}")

    def _lines(self, f):
        done = 0
        for line in f:
            done += len(line)
            if PROGRESS.enabled and (done & 0xFFFF) < len(line):  # now and then
                PROGRESS.reading(self.name, done, self.size)
            yield line

    def rows(self):
        return self._rows

    def _read(self):
        reader = None
        try:
            with open(self.path, newline="", encoding="utf-8") as f:
                reader = csv.reader(self._lines(f), strict=True)
                header = next(reader, None)
                first = next(reader, None)
                if header is None:
                    self.fail("empty (no header line); run the experiment again")
                if first is None and not self.ends_with_newline:
                    self.fail("truncated (the header line is cut: no newline at the end)")
                self.check_header(header)
                yield None
                n = len(header)
                row, line = first, reader.line_num
                while row is not None:
                    following = next(reader, None)
                    last = following is None
                    if len(row) != n:
                        what = f"line {line} has {len(row)} field{'' if len(row) == 1 else 's'}, the header {n}"
                        self.fail(f"truncated ({what})" if last and len(row) < n else
                                  f"not as initscope writes it ({what})")
                    if last and not self.ends_with_newline:
                        self.fail(f"truncated (line {line} is cut: no newline at the end)")
                    yield line, row
                    row, line = following, reader.line_num
        except csv.Error as e:
            self.fail(f"not a valid CSV file (line {reader.line_num if reader else 1}: {e})")
        except UnicodeDecodeError as e:
            self.fail(f"not UTF-8 text ({e.reason})")
        except OSError as e:
            self.fail(f"cannot read ({e.strerror or e})")

    def check_header(self, header):
        tail = self.tail
        if len(header) < len(tail) + 1 or header[0] != "config_id" or header[-len(tail):] != tail:
            shown = ",".join(header)
            shown = shown if len(shown) <= 160 else shown[:157] + "..."
            self.fail(f"columns are not initscope's {self.name} columns: header '{shown}', expected "
                      f"'config_id,<swept keys>,{','.join(tail)}'")
        self.header = header
        self.columns = {name: i for i, name in enumerate(header)}

    def swept_columns(self):
        return self.header[1:len(self.header) - len(self.tail)]

    def number(self, line, row, column, empty_ok=False):
        text = row[self.columns[column]]
        try:
            return float(text)
        except ValueError:
            if empty_ok and text == "":
                return math.nan
            self.fail(f"line {line}: {column} '{text[:40]}' is not a number")

    def integer(self, line, row, column, minimum=0):
        text = row[self.columns[column]]
        try:
            v = int(text)
        except ValueError:
            v = None
        if v is None or v < minimum:
            self.fail(f"line {line}: {column} '{text[:40]}' is not an integer >= {minimum}")
        return v


def read_manifest(folder):
    """manifest.json, checked: a JSON object with the keys plot.py relies on (configurations,
    each with a config_id; sweep_keys; file_checks, each with bytes and crc32). Raises
    ResultsError naming the file and what is wrong."""
    path = os.path.join(folder, "manifest.json")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ResultsError(f"{folder}: no manifest.json (a run was stopped before its end; run it again "
                           "to finish)")
    except OSError as e:
        raise ResultsError(f"{path}: cannot read ({e.strerror or e})")
    if not data:
        raise ResultsError(f"{path}: empty (0 bytes); run the experiment again")
    try:
        m = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ResultsError(f"{path}: not UTF-8 text ({e.reason})")
    except json.JSONDecodeError as e:
        # A cut document fails on its last line, or inside a string that never ends.
        cut = e.lineno > e.doc.rstrip().count("\n") or e.msg.startswith("Unterminated string")
        raise ResultsError(f"{path}: {'truncated' if cut else 'corrupt'} JSON ({e.msg} at line {e.lineno} "
                           f"column {e.colno}); run the experiment again")
    except ValueError as e:
        raise ResultsError(f"{path}: corrupt JSON ({e}); run the experiment again")

    def bad(what):
        raise ResultsError(f"{path}: {what} (not as initscope writes it); run the experiment again")

    if not isinstance(m, dict):
        bad(f"not a JSON object but a {type(m).__name__}")
    for key, kind in (("configurations", list), ("sweep_keys", list), ("file_checks", dict)):
        if key not in m:
            bad(f'no "{key}" key')
        if not isinstance(m[key], kind):
            bad(f'"{key}" is not a JSON {"array" if kind is list else "object"}')
    if not m["configurations"]:
        bad('"configurations" is empty')
    if not all(isinstance(k, str) for k in m["sweep_keys"]):
        bad('"sweep_keys" holds something other than strings')
    seen = set()
    for i, c in enumerate(m["configurations"]):
        if not isinstance(c, dict) or not isinstance(c.get("config_id"), str) or not c["config_id"]:
            bad(f'configurations[{i}] has no "config_id"')
        if c["config_id"] in seen:
            bad(f'configurations[{i}]: config_id {c["config_id"]} appears twice')
        seen.add(c["config_id"])
        for key in ("swept", "resolved"):
            if key in c and not isinstance(c[key], dict):
                bad(f'configurations[{i}].{key} is not a JSON object')
    for name, want in m["file_checks"].items():
        if not isinstance(want, dict) or not isinstance(want.get("bytes"), int) \
                or not isinstance(want.get("crc32"), str):
            bad(f'file_checks["{name}"] has no "bytes" and "crc32"')
    if "files" in m and not (isinstance(m["files"], list) and all(isinstance(x, str) for x in m["files"])):
        bad('"files" is not a list of file names')
    return m


class Config:
    """One configuration of the sweep: id, swept values, resolved config, timings."""

    def __init__(self, config_id, swept, resolved=None, seconds=None, trials_per_second=None):
        self.id = config_id
        self.swept = swept
        self.resolved = resolved or {}
        self.seconds = seconds
        self.trials_per_second = trials_per_second
        self.label = config_id
        self.index = 0

    def widths(self):
        """[input, hidden...] or None when the resolved config is not known."""
        net = self.resolved.get("network", {})
        hidden = net.get("hidden")
        if not isinstance(hidden, list) and "depth" in net and "width" in net:
            hidden = [net["width"]] * net["depth"]
        if "input" not in net or not isinstance(hidden, list):
            return None
        return [net["input"]] + list(hidden)


class Results:
    """Everything plot.py reads from a results folder, indexed for plotting.

    Reading checks each file (see CsvTable, read_manifest) and raises ResultsError when the folder
    is not one initscope wrote; load_folder() also compares the files with manifest.json."""

    def __init__(self, folder, manifest=None):
        self.folder = folder
        self.manifest = read_manifest(folder) if manifest is None else manifest
        self.tables = {}
        self.first_line = {}   # (file name, config_id) -> first line of that configuration

        # stats[(config_id, quantity, statistic)] = {layer: (value, trial_std)}
        self.stats = defaultdict(dict)
        PROGRESS.set_stage("reading stats.csv")
        t = self.table("stats.csv")
        self.sweep_keys = self.manifest.get("sweep_keys") or [k for k in t.header if k not in STATS_FIXED]
        col = t.columns
        swept_idx = [(k, col[k]) for k in self.sweep_keys if k in col]
        i_cid, i_q, i_s = col["config_id"], col["quantity"], col["statistic"]
        swept_seen = {}
        for line, r in t.rows():
            cid = r[i_cid]
            if cid not in swept_seen:
                swept_seen[cid] = {k: r[i] for k, i in swept_idx}
                self.first_line[("stats.csv", cid)] = line
            t.integer(line, r, "trials")
            self.stats[(cid, r[i_q], r[i_s])][t.integer(line, r, "layer", 1)] = (
                t.number(line, r, "value", empty_ok=True), t.number(line, r, "trial_std", empty_ok=True))

        # Configurations in the manifest's order (else in order of appearance).
        self.configs = []
        for c in self.manifest.get("configurations", []):
            self.configs.append(Config(c["config_id"], {k: str(v) for k, v in c.get("swept", {}).items()},
                                       c.get("resolved"), c.get("seconds"), c.get("trials_per_second")))
        known = {c.id for c in self.configs}
        for cid, swept in swept_seen.items():
            if cid not in known:
                self.configs.append(Config(cid, swept))
        self.configs = [c for c in self.configs if c.id in swept_seen]
        labels = config_labels(self.configs, self.sweep_keys, self.manifest)
        for i, c in enumerate(self.configs):
            c.index, c.label = i, labels[i]
        self.colors = config_colors(len(self.configs))
        self.quantities = [q for q in QUANTITY_ORDER
                           if any(k[1] == q for k in self.stats)]
        self.quantities += sorted({k[1] for k in self.stats} - set(self.quantities))

        # hist[(config_id, quantity)][layer] = dict of numpy arrays (lo, hi, count, density) and
        # the underflow/overflow counts.
        self.hist = defaultdict(dict)
        path = os.path.join(folder, "histograms.csv")
        if os.path.exists(path):
            PROGRESS.set_stage("reading histograms.csv")
            t = self.table("histograms.csv")
            col = t.columns
            i_cid, i_q, i_bin = col["config_id"], col["quantity"], col["bin"]
            rows = defaultdict(list)
            outside = defaultdict(lambda: [0.0, 0.0])
            for line, r in t.rows():
                cid = r[i_cid]
                if ("histograms.csv", cid) not in self.first_line:
                    self.first_line[("histograms.csv", cid)] = line
                key = (cid, r[i_q], t.integer(line, r, "layer", 1))
                b = r[i_bin]
                if b == "underflow":
                    outside[key][0] = t.number(line, r, "count")
                elif b == "overflow":
                    outside[key][1] = t.number(line, r, "count")
                else:
                    rows[key].append((t.integer(line, r, "bin"), t.number(line, r, "bin_lo"),
                                      t.number(line, r, "bin_hi"), t.number(line, r, "count"),
                                      t.number(line, r, "density", empty_ok=True)))
            for (cid, q, layer), bins in rows.items():
                bins.sort()
                a = np.array(bins, dtype=float)
                under, over = outside[(cid, q, layer)]
                self.hist[(cid, q)][layer] = dict(lo=a[:, 1], hi=a[:, 2], count=a[:, 3], density=a[:, 4],
                                                  under=under, over=over, total=a[:, 3].sum() + under + over)
        self.hist_quantities = [q for q in self.quantities if any(k[1] == q for k in self.hist)]

        # theory[config_id][column] = {layer: value}
        self.theory = defaultdict(lambda: defaultdict(dict))
        path = os.path.join(folder, "theory.csv")
        if os.path.exists(path):
            PROGRESS.set_stage("reading theory.csv")
            t = self.table("theory.csv")
            i_cid = t.columns["config_id"]
            for line, r in t.rows():
                cid = r[i_cid]
                if ("theory.csv", cid) not in self.first_line:
                    self.first_line[("theory.csv", cid)] = line
                layer = t.integer(line, r, "layer", 1)
                for c in THEORY_COLUMNS:
                    if r[t.columns[c]] != "":
                        self.theory[cid][c][layer] = t.number(line, r, c)

        self.max_depth = max([max(v) for v in self.stats.values() if v] + [1])

    def table(self, name):
        t = CsvTable(os.path.join(self.folder, name), CSV_TAILS[name])
        self.tables[name] = t
        return t

    def check_consistency(self):
        """The CSVs against manifest.json: swept columns as its sweep_keys, every config_id one of
        its configurations, and every configuration in stats.csv. Raises ResultsError."""
        keys = self.manifest.get("sweep_keys", [])
        for name, t in self.tables.items():
            if t.swept_columns() != keys:
                t.fail(f"swept columns [{', '.join(t.swept_columns())}] are not manifest.json's sweep_keys "
                       f"[{', '.join(keys)}] (files of two experiments?); run the experiment again")
        listed = [c["config_id"] for c in self.manifest.get("configurations", [])]
        known = set(listed)
        for (name, cid), line in sorted(self.first_line.items(), key=lambda x: (x[0][0] != "stats.csv", x[1])):
            if cid not in known:
                self.tables[name].fail(f"line {line}: config_id '{cid[:40]}' is not one of manifest.json's "
                                       "configurations (files of two runs?); run the experiment again")
        for cid in listed:
            if ("stats.csv", cid) not in self.first_line:
                self.tables["stats.csv"].fail(f"no rows for configuration {cid} of manifest.json "
                                              "(cut short?); run the experiment again")

    def series(self, config, quantity, statistic):
        """(layers, values, trial_stds) as numpy arrays, empty when not measured."""
        d = self.stats.get((config.id, quantity, statistic), {})
        layers = sorted(d)
        return (np.array(layers, dtype=float), np.array([d[l][0] for l in layers]),
                np.array([d[l][1] for l in layers]))

    def has(self, quantity, statistic):
        return any(self.stats.get((c.id, quantity, statistic)) for c in self.configs)

    def theory_series(self, config, column):
        d = self.theory.get(config.id, {}).get(column, {})
        layers = sorted(d)
        return np.array(layers, dtype=float), np.array([d[l] for l in layers])

    def gradient_linear(self, config):
        """Whether the configuration binned gradients linearly (stats.gradient_bins = "linear")."""
        return config.resolved.get("stats", {}).get("gradient_bins") == "linear"

    def gradient_linthresh(self, config, lo, hi):
        t = config.resolved.get("stats", {}).get("gradient_linthresh")
        if t:
            return float(t)
        edges = np.concatenate([lo, hi])
        edges = edges[np.isfinite(edges) & (edges > 0)]
        return float(edges.min()) if edges.size else 1e-10


def short_key(key, keys):
    """network.init -> init, unless another swept key ends the same way."""
    tail = key.split(".")[-1]
    return tail if sum(k.split(".")[-1] == tail for k in keys) == 1 else key


def config_labels(configs, keys, manifest):
    if not keys:
        name = manifest.get("configurations", [{}])[0].get("resolved", {}).get("name") if manifest else None
        return [name or c.id for c in configs]
    return [", ".join(f"{short_key(k, keys)}={c.swept.get(k, '')}" for k in keys) for c in configs]


# --------------------------------------------------------------------------------------------
# Figures.

def layer_color(layer, max_depth):
    lo, hi = LAYER_CMAP_RANGE
    x = lo if max_depth <= 1 else lo + (hi - lo) * (layer - 1) / (max_depth - 1)
    return plt.get_cmap(LAYER_CMAP)(x)


def hist_layers(layers):
    """All layers, or MAX_HIST_LAYERS evenly spaced ones (first and last included)."""
    layers = sorted(layers)
    if len(layers) <= MAX_HIST_LAYERS:
        return layers
    idx = np.unique(np.round(np.linspace(0, len(layers) - 1, MAX_HIST_LAYERS)).astype(int))
    return [layers[i] for i in idx]


def grid_shape(n):
    if n <= 3:
        return n, 1
    cols = min(4, math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


def gradient_curve(h, linthresh, axis, linear=False):
    """x (value space), y, fraction per bin, and (log axis) the fraction in the bins that touch
    zero, for one gradient histogram (see the docstring). y is the density per unit g on a linear
    axis or with linear bins, else the fraction per decade of u."""
    total = max(h["total"], 1.0)
    if linear or axis == "linear":  # bin edges are values of g either way
        density = h["count"] / (total * np.maximum(h["hi"] - h["lo"], 1e-300))
        mid = 0.5 * (h["lo"] + h["hi"])
        if axis != "log":
            return mid, density, h["count"] / total, 0.0
        zero = (h["lo"] <= 0) & (h["hi"] >= 0)
        pos, neg = (h["lo"] >= 0) & ~zero, (h["hi"] <= 0) & ~zero
        zero_frac = h["count"][zero].sum() / total
        if pos.sum() != neg.sum():
            return mid[pos], density[pos], h["count"][pos] / total, zero_frac
        return (mid[pos], density[pos] + density[neg][::-1], (h["count"][pos] + h["count"][neg][::-1]) / total,
                zero_frac)
    u = lambda g: np.sign(g) * np.log10(1.0 + np.abs(g) / linthresh)
    u_lo, u_hi = u(h["lo"]), u(h["hi"])
    per_decade = h["count"] / (total * np.maximum(u_hi - u_lo, 1e-300))
    u_mid = 0.5 * (u_lo + u_hi)
    g_mid = np.sign(u_mid) * linthresh * (10.0 ** np.abs(u_mid) - 1.0)
    if axis == "symlog":
        return g_mid, per_decade, h["count"] / total, 0.0
    # Fold: bin i of the negative side mirrors bin n-1-i of the positive side (the u grid is
    # symmetric). The bins touching zero (exact zeros, |g| below about linthresh) have no place
    # on a log axis: they are left out and their share is reported.
    zero = (h["lo"] <= 0) & (h["hi"] >= 0)
    pos, neg = (u_lo >= 0) & ~zero, (u_hi <= 0) & ~zero
    zero_frac = h["count"][zero].sum() / total
    if pos.sum() != neg.sum():  # not a symmetric grid: fall back to the positive side only
        return g_mid[pos], per_decade[pos], h["count"][pos] / total, zero_frac
    return (g_mid[pos], per_decade[pos] + per_decade[neg][::-1],
            (h["count"][pos] + h["count"][neg][::-1]) / total, zero_frac)


def mass_range(xs, fractions, floor):
    """Smallest [lo, hi] of x holding every bin with at least `floor` of the values."""
    keep = [x[f >= floor] for x, f in zip(xs, fractions)]
    keep = np.concatenate(keep) if keep else np.array([])
    return (keep.min(), keep.max()) if keep.size else (None, None)


def panel_grid(res, configs):
    """(rows, cols, [(row, col) per configuration]). A two-key sweep whose values fill a table
    of at most 6 x 4 is laid out as that table (one key per row, the other per column)."""
    keys = res.sweep_keys
    if len(keys) == 2:
        values = [list(dict.fromkeys(c.swept.get(k) for c in configs)) for k in keys]
        if len(values[0]) > len(values[1]):  # the key with fewer values goes across
            keys, values = keys[::-1], values[::-1]
        rows, cols = len(values[1]), len(values[0])
        cells = {(values[1].index(c.swept.get(keys[1])), values[0].index(c.swept.get(keys[0])))
                 for c in configs}
        if rows * cols == len(configs) == len(cells) and cols <= 4 and rows <= 6 and cols > 1:
            return rows, cols, [(values[1].index(c.swept.get(keys[1])), values[0].index(c.swept.get(keys[0])))
                                for c in configs]
    rows, cols = grid_shape(len(configs))
    return rows, cols, [divmod(i, cols) for i in range(len(configs))]


def resolved_gradient_axis(res, quantity, gradient_axis):
    """--gradient-axis auto: a linear axis centred on 0 (the paper's Figures 7 and 8) when every
    configuration binned gradients linearly, else |g| on a log axis."""
    if gradient_axis != "auto" or quantity not in GRADIENT_QUANTITIES:
        return gradient_axis
    configs = [c for c in res.configs if res.hist.get((c.id, quantity))]
    return "linear" if configs and all(res.gradient_linear(c) for c in configs) else "log"


def figure_hist(res, quantity, gradient_axis):
    gradient_axis = resolved_gradient_axis(res, quantity, gradient_axis)
    configs = [c for c in res.configs if res.hist.get((c.id, quantity))]
    rows, cols, cells = panel_grid(res, configs)
    panel_w, panel_h = (8.0, 2.9) if cols == 1 else (3.7, 2.7)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_w * cols + 1.3, panel_h * rows + 0.9),
                             sharex=True, squeeze=False)
    gradient = quantity in GRADIENT_QUANTITIES
    sym = QUANTITY_SYMBOL.get(quantity, "x")
    shown, xs_all, fr_all = set(), [], []
    any_linear = False
    for k, ((r, col), c) in enumerate(zip(cells, configs)):
        PROGRESS.tick(k, len(configs))
        ax = axes[r, col]
        layers = res.hist[(c.id, quantity)]
        outside, near_zero = 0.0, 0.0
        for layer in hist_layers(layers):
            h = layers[layer]
            total = max(h["total"], 1.0)
            outside = max(outside, (h["under"] + h["over"]) / total)
            if gradient:
                linthresh = res.gradient_linthresh(c, h["lo"], h["hi"])
                x, y, frac, zero = gradient_curve(h, linthresh, gradient_axis, res.gradient_linear(c))
                any_linear = any_linear or res.gradient_linear(c)
                near_zero = max(near_zero, zero)
            else:
                x, y, frac = 0.5 * (h["lo"] + h["hi"]), h["density"], h["count"] / total
            ax.plot(x, y, color=layer_color(layer, res.max_depth), lw=1.4)
            shown.add(layer)
            xs_all.append(x)
            fr_all.append(frac)
        ax.set_title(c.label, fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.25)
        notes = []
        if outside > 0.005:
            notes.append(f"outside the range: up to {outside:.1%}")
        if near_zero > 0.005:
            notes.append(f"bins at 0 (not on a log axis): up to {near_zero:.1%}" if any_linear else
                         f"0 or $|{sym}|$ < {linthresh:.0e}: up to {near_zero:.1%}")
        if notes:
            ax.text(0.02, 0.95, "\n".join(notes), transform=ax.transAxes,
                    ha="left", va="top", fontsize=7.5, color="0.35")
    used = set(cells)
    for r in range(rows):
        for col in range(cols):
            if (r, col) not in used:
                axes[r, col].set_visible(False)

    lo, hi = mass_range(xs_all, fr_all, GRADIENT_MASS_FLOOR if gradient else HIST_MASS_FLOOR)
    ax0 = axes.flat[0]
    if gradient and gradient_axis == "linear":
        # As the paper draws Figures 7 and 8: a linear axis centred on 0.
        if lo is not None:
            m = 1.05 * max(abs(lo), abs(hi))
            ax0.set_xlim(-m, m)
        ax0.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3))
        xlabel, ylabel = f"${sym}$", "density"
    elif gradient and gradient_axis == "log":
        ax0.set_xscale("log")
        if lo is not None:
            ax0.set_xlim(lo / 2.5, hi * 2.5)
        xlabel, ylabel = f"$|{sym}|$ (both signs)", "density (both signs)" if any_linear else "fraction per decade"
    elif gradient:
        # Linear below the smallest |g| shown, so the (empty) decades around 0 take no room.
        linthresh = min(res.gradient_linthresh(c, np.array([]), np.array([])) for c in configs)
        if lo is not None:
            small = np.concatenate([np.abs(x[f >= GRADIENT_MASS_FLOOR]) for x, f in zip(xs_all, fr_all)])
            linthresh = max(linthresh, small.min())
            m = max(abs(lo), abs(hi)) * 2.5
            ax0.set_xlim(-m, m)
        ax0.set_xscale("symlog", linthresh=linthresh, linscale=0.3)
        if lo is not None:  # 0 and whole decades clear of the linear part, at most ~5 per side
            first, last = math.floor(math.log10(linthresh)) + 1, math.floor(math.log10(m))
            step = max(1, math.ceil((last - first + 1) / 5))
            decades = [10.0 ** k for k in range(last, first - 1, -step)]
            ax0.set_xticks(sorted([-d for d in decades] + [0.0] + decades))
        xlabel, ylabel = (f"${sym}$ (symmetric log scale, linear below {linthresh:.1g})",
                          "density" if any_linear else "fraction per decade")
    else:
        if lo is not None:
            pad = 0.03 * (hi - lo)
            ax0.set_xlim(lo - pad, hi + pad)
        xlabel, ylabel = f"${sym}$", "density"
    for col in range(cols):  # x label under the lowest panel of each column
        visible = [r for r in range(rows) if (r, col) in used]
        if visible:
            axes[max(visible), col].set_xlabel(xlabel)
            axes[max(visible), col].xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    fig.suptitle(f"Normalized histograms: {QUANTITY_LABEL.get(quantity, quantity)}", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1 - 1.1 / fig.get_figwidth(), 0.97))
    layer_legend(fig, sorted(shown), res.max_depth)  # after tight_layout: a colorbar has its own axes
    return fig


def layer_legend(fig, layers, max_depth):
    if len(layers) <= 12:
        handles = [Line2D([], [], color=layer_color(l, max_depth), lw=2) for l in layers]
        fig.legend(handles, [f"layer {l}" for l in layers], loc="center right", fontsize=9,
                   frameon=False, borderaxespad=0.3)
    else:
        lo, hi = LAYER_CMAP_RANGE
        cmap = matplotlib.colors.LinearSegmentedColormap.from_list(
            "layers", [plt.get_cmap(LAYER_CMAP)(x) for x in np.linspace(lo, hi, 256)])
        sm = matplotlib.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(1, max_depth))
        cax = fig.add_axes([1 - 0.6 / fig.get_figwidth(), 0.15, 0.15 / fig.get_figwidth(), 0.7])
        fig.colorbar(sm, cax=cax, label="layer")


def config_style(res, c, depth):
    return dict(color=res.colors[c.index], marker=MARKERS[c.index % len(MARKERS)] if depth <= 30 else None,
                markersize=3.5, lw=1.5)


def predicted_rms(res, c, quantity, layers, rms):
    """Mean-field prediction of sqrt(E[x^2]) per layer for this quantity, or None."""
    if quantity == "preactivation":
        tl, q = res.theory_series(c, "q_pre")
        return (tl, np.sqrt(q)) if tl.size else None
    if quantity == "activation":
        tl, q = res.theory_series(c, "var_act")
        return (tl, np.sqrt(q)) if tl.size else None
    if quantity == "backprop_gradient":
        tl, ratio = res.theory_series(c, "grad_ratio")
        if not tl.size or not layers.size:
            return None
        # Var[g_l] = grad_ratio_l Var[g_{l+1}], anchored at the measured top layer.
        ratio_at = dict(zip(tl.astype(int), ratio))
        top = int(layers.max())
        pred = {top: rms[layers == top][0]}
        for l in range(top - 1, int(layers.min()) - 1, -1):
            r = ratio_at.get(l, math.nan)
            pred[l] = pred[l + 1] * math.sqrt(r) if r >= 0 else math.nan
        ls = sorted(pred)
        return np.array(ls, dtype=float), np.array([pred[l] for l in ls])
    if quantity == "jacobian_singular_value":
        # ||J_l||_F^2 = sum_i f'(s_i)^2 |W_i|^2 ~ n_out chi1, shared by min(n_in, n_out) values.
        tl, chi1 = res.theory_series(c, "chi1")
        widths = c.widths()
        if not tl.size or not widths:
            return None
        scale = np.array([widths[int(l)] / min(widths[int(l) - 1], widths[int(l)])
                          if int(l) < len(widths) else math.nan for l in tl])
        return tl, np.sqrt(chi1 * scale)
    return None


def darker(color, f=0.6):
    return tuple(f * x for x in color[:3])


def figure_depth(res, quantity):
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.3 + 0.22 * legend_rows(res)))
    fill = len(res.configs) <= 4  # more bands than this hide each other: band edges only
    sym = QUANTITY_SYMBOL.get(quantity, "x")
    any_theory = False
    for k, c in enumerate(res.configs):
        PROGRESS.tick(k, len(res.configs))
        layers, mean, _ = res.series(c, quantity, "mean")
        if not layers.size:
            continue
        style = config_style(res, c, res.max_depth)
        _, std, _ = res.series(c, quantity, "std")
        ax = axes[0]
        ax.plot(layers, mean, **style)
        if std.size == mean.size:
            if fill:
                ax.fill_between(layers, mean - std, mean + std, color=style["color"], alpha=0.12, lw=0)
            for edge in (mean - std, mean + std):
                ax.plot(layers, edge, color=style["color"], lw=0.7, alpha=0.6)
        l2, msq, _ = res.series(c, quantity, "mean_sq")
        if l2.size:
            rms = np.sqrt(msq)
            axes[1].plot(l2, rms, **style)
            pred = predicted_rms(res, c, quantity, l2, rms)
            if pred is not None:
                axes[1].plot(pred[0], pred[1], color=darker(style["color"]), ls="--", lw=1.3, zorder=3)
                any_theory = True
        l3, p98, _ = res.series(c, quantity, "p98")
        if l3.size:
            axes[2].plot(l3, p98, **style)
    sq = f"({sym})^2" if "/" in sym else f"{sym}^2"
    axes[0].set_title(f"mean $\\pm$ std of ${sym}$ (band: $\\pm$ std within a trial)", fontsize=10)
    axes[1].set_title(f"root mean square $\\sqrt{{E[{sq}]}}$" +
                      (" (dashed: mean-field theory)" if any_theory else ""), fontsize=10)
    axes[2].set_title(f"98th percentile of ${sym}$", fontsize=10)
    axes[0].set_ylabel(f"${sym}$")
    axes[1].set_ylabel(f"$\\sqrt{{E[{sq}]}}$")
    axes[2].set_ylabel(f"p98 of ${sym}$")
    if all(l.get_ydata().size and np.nanmin(l.get_ydata()) > 0 for l in axes[1].lines):
        log_axis(axes[1])
    for ax in axes:
        finish_depth_axis(ax, res.max_depth)
    config_legend(fig, res, theory=any_theory)
    fig.suptitle(f"Against depth: {QUANTITY_LABEL.get(quantity, quantity)}", fontsize=12)
    fig.tight_layout(rect=(0, legend_height(fig, res), 1, 0.96))
    return fig


def log_axis(ax):
    """Log y axis; plain tick labels at 1, 2, 5 x 10^k when it spans less than 3 decades."""
    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    if hi / lo < 1e3:
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.3g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def finish_depth_axis(ax, max_depth):
    ax.set_xlabel("layer")
    ax.grid(alpha=0.25)
    if max_depth <= 20:
        ax.set_xticks(range(1, max_depth + 1))


def legend_rows(res):
    return math.ceil((len(res.configs) + 1) / min(4, len(res.configs) + 1))


def legend_height(fig, res):
    return (0.12 + 0.22 * legend_rows(res)) / fig.get_figheight()


def config_legend(fig, res, theory=False, ls="-"):
    handles = [Line2D([], [], ls=ls, **config_style(res, c, res.max_depth)) for c in res.configs]
    labels = [c.label for c in res.configs]
    if theory:
        handles.append(Line2D([], [], color="0.25", ls="--", lw=1.3))
        labels.append("mean-field theory")
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(handles)), fontsize=9,
               frameon=False)


def figure_saturation(res):
    fig, ax = plt.subplots(figsize=(7.5, 4.2 + 0.22 * legend_rows(res)))
    for k, c in enumerate(res.configs):
        PROGRESS.tick(k, len(res.configs))
        layers, sat, sat_sd = res.series(c, "activation", "saturation")
        if layers.size:
            ax.errorbar(layers, sat, yerr=sat_sd, capsize=2, **config_style(res, c, res.max_depth))
    thresholds = sorted({c.resolved.get("stats", {}).get("saturation_threshold") for c in res.configs}
                        - {None})
    t = ", ".join(f"{x:.3g}" for x in thresholds)
    ax.set_title("Saturated fraction of the activations" + (f" (threshold t = {t})" if t else ""),
                 fontsize=11)
    ax.set_ylabel("fraction saturated")
    ax.set_ylim(bottom=0)
    finish_depth_axis(ax, res.max_depth)
    config_legend(fig, res)
    fig.tight_layout(rect=(0, legend_height(fig, res), 1, 1))
    return fig


def figure_var_ratio(res):
    fig, ax = plt.subplots(figsize=(7.5, 4.2 + 0.22 * legend_rows(res)))
    positive = True
    for k, c in enumerate(res.configs):
        PROGRESS.tick(k, len(res.configs))
        layers, ratio, ratio_sd = res.series(c, "activation", "var_ratio")
        if layers.size:
            ax.errorbar(layers, ratio, yerr=ratio_sd, capsize=2, **config_style(res, c, res.max_depth))
            positive &= bool(np.nanmin(ratio) > 0)
    ax.axhline(1.0, color="0.4", lw=0.8)
    if positive:
        log_axis(ax)
    ax.set_title(r"Variance ratio $\mathrm{Var}[h_l] / \mathrm{Var}[h_{l-1}]$ ($h_0$: the input)",
                 fontsize=11)
    ax.set_ylabel("variance ratio")
    finish_depth_axis(ax, res.max_depth)
    config_legend(fig, res)
    fig.tight_layout(rect=(0, legend_height(fig, res), 1, 1))
    return fig


def figure_meanfield(res):
    """chi_1 (theory.csv) and the c-map: the measured pair_correlation of the pre-activations
    (solid, error bars across trials) beside the predicted c_pre (dashed)."""
    has_chi1 = any(res.theory_series(c, "chi1")[0].size for c in res.configs)
    # The c-map panel only where inputs come in pairs (samples >= 2): without a measured
    # pair_correlation it would hold a theory line with nothing to compare it to.
    has_c = res.has("preactivation", "pair_correlation")
    panels = (["chi1"] if has_chi1 else []) + (["c_map"] if has_c else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.3 + 0.22 * legend_rows(res)),
                             squeeze=False)
    measured = False
    for ax, panel in zip(axes[0], panels):
        for k, c in enumerate(res.configs):
            PROGRESS.tick(k, len(res.configs))
            style = config_style(res, c, res.max_depth)
            layers, v = res.theory_series(c, "chi1" if panel == "chi1" else "c_pre")
            if layers.size:
                ax.plot(layers, v, **dict(style, ls="--", color=darker(style["color"]) if panel == "c_map"
                                          else style["color"], marker=None if panel == "c_map" else style["marker"]))
            if panel == "c_map":
                layers, corr, corr_sd = res.series(c, "preactivation", "pair_correlation")
                if layers.size:
                    ax.errorbar(layers, corr, yerr=corr_sd, capsize=2, **style)
                    measured = True
        if panel == "chi1":
            ax.axhline(1.0, color="0.4", lw=0.8)
            ax.set_title(r"mean-field $\chi_1 = \sigma_w^2\,E[f'(s_l)^2]$ (> 1: chaotic, < 1: ordered)",
                         fontsize=10)
            ax.set_ylabel(r"$\chi_1$")
        else:  # a correlation: show [0, 1] at least, so a c-map stuck at 0 is visibly 0
            lo, hi = ax.get_ylim()
            ax.set_ylim(min(lo, -0.05), max(hi, 1.05))
            ax.set_title("c-map: correlation of paired inputs' pre-activations"
                         + (" (dashed: theory)" if measured else " (theory)"), fontsize=10)
            ax.set_ylabel("correlation")
        finish_depth_axis(ax, res.max_depth)
    config_legend(fig, res, theory=measured, ls="-" if measured else "--")
    fig.suptitle("Mean-field view: $\\chi_1$ and the c-map", fontsize=12)
    fig.tight_layout(rect=(0, legend_height(fig, res), 1, 0.95))
    return fig


def figure_plan(res, gradient_axis):
    """[(name, caption, draw)] in report order; draw() returns the figure (drawn one at a time,
    so a sweep of many configurations holds one large figure in memory, not all of them)."""
    plan = []
    for q in res.hist_quantities:
        axis = resolved_gradient_axis(res, q, gradient_axis)
        what = ("density against the bin centre, linear axis centred on 0" if axis == "linear" else
                "|value| on a log axis, both signs folded" if q in GRADIENT_QUANTITIES and axis == "log" else
                "symmetric log axis" if q in GRADIENT_QUANTITIES else
                "density against the bin centre")
        plan.append((f"hist_{q}", f"Per-layer normalized histograms of the {q.replace('_', ' ')} "
                     f"pooled over trials ({what}), one panel per configuration.",
                     lambda q=q: figure_hist(res, q, gradient_axis)))
    for q in res.quantities:
        plan.append((f"depth_{q}", f"The {q.replace('_', ' ')} against depth: mean with a ±std band, "
                     "root mean square (mean-field theory dashed where theory.csv has it), and the "
                     "98th percentile; statistics per trial averaged over trials.",
                     lambda q=q: figure_depth(res, q)))
    if res.has("activation", "saturation"):
        plan.append(("saturation", "Fraction of saturated activations per layer (error bars: "
                     "standard deviation across trials).", lambda: figure_saturation(res)))
    if res.has("activation", "var_ratio"):
        plan.append(("var_ratio", "Var[hₗ]/Var[hₗ₋₁] per layer (error bars: standard deviation "
                     "across trials); 1 keeps the signal level.", lambda: figure_var_ratio(res)))
    if res.has("preactivation", "pair_correlation") or \
            any(res.theory_series(c, col)[0].size for c in res.configs for col in ("chi1", "c_pre")):
        plan.append(("meanfield", "χ₁ from theory.csv, and the c-map: the measured correlation of the "
                     "pre-activations of paired inputs (data.pair_correlation; error bars: standard "
                     "deviation across trials) with the mean-field c_pre dashed.", lambda: figure_meanfield(res)))
    return plan


def make_figures(res, gradient_axis):
    """[(name, caption, figure)] in report order (every figure drawn at once)."""
    return [(name, caption, draw()) for name, caption, draw in figure_plan(res, gradient_axis)]


# --------------------------------------------------------------------------------------------
# The HTML report.

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.sd { color: #888; font-size: 0.85em; } code, pre { font-size: 0.85em; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; margin: 0; }
pre.cfg { white-space: pre-wrap; overflow-wrap: anywhere; padding: 0.3em 0.5em; }
td.label { white-space: nowrap; } nav a { margin-right: 1em; white-space: nowrap; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; } .swatch { display: inline-block; width: 0.9em;
height: 0.9em; margin-right: 0.4em; vertical-align: -0.1em; border-radius: 2px; }
"""

LOADED_SCRIPT = """
window.addEventListener("load", function () {
  var images = document.getElementsByTagName("img"), loaded = 0;
  for (var i = 0; i < images.length; i++) if (images[i].naturalWidth > 0) loaded++;
  document.body.dataset.imagesLoaded = loaded + "/" + images.length;
});
"""


def esc(x):
    return html.escape(str(x))


def compact_value(v):
    if isinstance(v, list):
        if v and len(v) > 3 and all(x == v[0] for x in v):
            return f"[{compact_value(v[0])} ×{len(v)}]"
        return "[" + ", ".join(compact_value(x) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def flatten(resolved, prefix=""):
    """{'network': {'init': 'standard'}} -> {'network.init': 'standard'} (values compacted)."""
    out = {}
    for k, v in resolved.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = compact_value(v)
    return out


def compact_config(flat):
    """'network: input=1024 hidden=[1000 ×5] ...', one line per section."""
    sections = {}
    for key, v in flat.items():
        section, _, name = key.rpartition(".")
        sections.setdefault(section, []).append(f"{name}={v}")
    return "\n".join((f"{s}: " if s else "") + "  ".join(items) for s, items in sections.items())


def fmt(v):
    return "" if v is None or not math.isfinite(v) else f"{v:.4g}"


def layer_table(res, c):
    columns = [("activation", "mean", "activation mean"), ("activation", "std", "activation std"),
               ("activation", "p98", "activation p98"), ("activation", "saturation", "saturation"),
               ("activation", "var_ratio", "var ratio"),
               ("preactivation", "pair_correlation", "pair correlation of s"),
               ("backprop_gradient", "std", "std of ∂C/∂s"), ("weight_gradient", "std", "std of ∂C/∂W"),
               ("jacobian_singular_value", "mean", "mean singular value of J")]
    columns = [col for col in columns if res.stats.get((c.id, col[0], col[1]))]
    layers = sorted({l for q, s, _ in columns for l in res.stats[(c.id, q, s)]})
    out = ["<table><tr><th>layer</th>" + "".join(f"<th>{esc(t)}</th>" for _, _, t in columns) + "</tr>"]
    for l in layers:
        cells = []
        for q, s, _ in columns:
            v, sd = res.stats[(c.id, q, s)].get(l, (math.nan, math.nan))
            cells.append(f'<td class="num">{fmt(v)}' +
                         (f' <span class="sd">± {sd:.2g}</span>' if math.isfinite(sd) else "") + "</td>")
        out.append(f"<tr><td>{l}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    table = "\n".join(out)
    if len(layers) > 24:
        table = f"<details><summary>{len(layers)} layers</summary>{table}</details>"
    return table


def color_hex(rgba):
    return "#%02x%02x%02x" % tuple(int(round(255 * x)) for x in rgba[:3])


def find_source(path):
    """The source config's text if it can be found (relative to the cwd or the repository)."""
    if not path:
        return None
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for p in (path, os.path.join(here, path)):
        if os.path.isfile(p):
            try:
                with open(p) as f:
                    return f.read()
            except OSError:
                return None
    return None


def write_report(res, figures, path):
    m = res.manifest
    ini = m.get("initscope", {})
    title = (res.configs[0].resolved.get("name") if res.configs and res.configs[0].resolved else None) \
        or os.path.basename(os.path.abspath(res.folder))
    p = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         f"<title>initscope — {esc(title)}</title><style>{CSS}</style></head><body>",
         f"<h1>initscope — {esc(title)}</h1>"]
    meta = [("initscope", f"{ini.get('version', '?')} (commit {ini.get('git_commit', '?')})"),
            ("build", ", ".join(f"{k}: {ini[k]}" for k in ("build_type", "compiler", "blas", "cuda") if k in ini)),
            ("source config", m.get("source", "")), ("command line", m.get("command_line", "")),
            ("device", f"{m.get('device', '')} — {m.get('device_description', '')}"),
            ("started (UTC)", m.get("started_utc", "")),
            ("total time", f"{m['seconds']:.3g} s" if isinstance(m.get("seconds"), (int, float)) else ""),
            ("results folder", os.path.abspath(res.folder)),
            ("theory.csv", "present" if res.theory else "absent")]
    p.append("<table>" + "".join(f"<tr><th>{esc(k)}</th><td><code>{esc(v)}</code></td></tr>"
                                 for k, v in meta if v) + "</table>")
    source = find_source(m.get("source"))
    if source:
        p.append(f"<details><summary>source config</summary><pre>{esc(source)}</pre></details>")

    # The resolved config: what all configurations share once, then each one's own values.
    flat = [flatten(c.resolved) for c in res.configs]
    shared = {k: v for k, v in flat[0].items() if all(f.get(k) == v for f in flat)} if flat else {}
    p.append("<h2>Configurations</h2>")
    if shared:
        p.append("<p>Resolved config shared by every configuration:</p>"
                 f'<pre class="cfg">{esc(compact_config(shared))}</pre>')
    p.append("<table><tr><th>configuration</th><th>config_id</th>"
             "<th>seconds</th><th>trials/s</th><th>its own resolved values</th></tr>")
    for c, f in zip(res.configs, flat):
        own = {k: v for k, v in f.items() if k not in shared}
        secs = f"{c.seconds:.3g}" if isinstance(c.seconds, (int, float)) else ""
        tps = f"{c.trials_per_second:.3g}" if isinstance(c.trials_per_second, (int, float)) else ""
        p.append(f'<tr><td class="label"><span class="swatch" style="background:{color_hex(res.colors[c.index])}">'
                 f"</span>{esc(c.label)}</td><td><code>{esc(c.id)}</code></td><td class=\"num\">{secs}</td>"
                 f'<td class="num">{tps}</td><td><pre class="cfg">{esc(compact_config(own))}</pre></td></tr>')
    p.append("</table>")

    p.append("<h2>Figures</h2><nav>" + " ".join(f'<a href="#{esc(n)}">{esc(n)}</a>' for n, _, _ in figures) +
             ' <a href="#tables">per-layer tables</a></nav>')
    for name, caption, png in figures:
        data = base64.b64encode(png).decode("ascii")
        p.append(f'<figure id="{esc(name)}"><img alt="{esc(name)}" src="data:image/png;base64,{data}">'
                 f"<figcaption><b>{esc(name)}</b> — {esc(caption)}</figcaption></figure>")

    p.append('<h2 id="tables">Per-layer statistics</h2><p>Mean over trials of the per-trial statistic '
             '<span class="sd">± standard deviation across trials</span>.</p>')
    for c in res.configs:
        p.append(f"<h3>{esc(c.label)} <code>{esc(c.id)}</code></h3>{layer_table(res, c)}")
    p.append(f"<script>{LOADED_SCRIPT}</script></body></html>")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(p) + "\n")
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------

def file_crc(path):
    """(size, CRC-32 as 8 hex digits) of a file, read in pieces."""
    size, crc = 0, 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            size += len(block)
            crc = zlib.crc32(block, crc)
    return size, "%08x" % (crc & 0xFFFFFFFF)


def check_files(folder, manifest=None):
    """None when every file manifest.json lists (size and CRC-32) is there as listed; else why not.

    A run writes its outputs one by one and manifest.json last, so a run killed in between leaves
    files of two runs side by side: refused here until the same command finishes the run."""
    if manifest is None:
        try:
            manifest = read_manifest(folder)
        except ResultsError as e:
            return str(e)
    for name, want in (manifest.get("file_checks") or {}).items():
        path = os.path.join(folder, name)
        try:
            size, crc = file_crc(path)
        except OSError:
            return f"{path}: missing, but manifest.json lists it; run the experiment again"
        if size != want.get("bytes") or crc != want.get("crc32"):
            return (f"{path} is not the file manifest.json describes ({size} bytes, CRC-32 {crc}; listed: "
                    f"{want.get('bytes')} bytes, CRC-32 {want.get('crc32')}): it is another run's, or a run was "
                    f"stopped while writing; run the same command again to finish the run")
    return None


def load_folder(folder):
    """The folder's Results once every check passes; else ResultsError (one line: the file and
    what is wrong). Order: the folder and stats.csv, manifest.json, the files it lists, each CSV
    read and checked (empty, truncated, columns, values), sizes and CRC-32s, then the CSVs
    against manifest.json (swept columns, config_ids)."""
    if not os.path.exists(folder):
        raise ResultsError(f"{folder}: no such folder")
    if not os.path.isdir(folder):
        raise ResultsError(f"{folder}: not a folder")
    if not os.path.isfile(os.path.join(folder, "stats.csv")):
        raise ResultsError(f"{folder}: no stats.csv (not an initscope results folder)")
    PROGRESS.set_stage("reading manifest.json")
    manifest = read_manifest(folder)
    PROGRESS.enable(len(manifest["configurations"]) > PROGRESS_MIN_CONFIGS)
    for name in dict.fromkeys(list(manifest.get("files", [])) + list(manifest["file_checks"])):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise ResultsError(f"{path}: missing, but manifest.json lists it; run the experiment again")
    res = Results(folder, manifest)
    PROGRESS.set_stage("checking sizes and CRC-32s")
    problem = check_files(folder, manifest)
    if problem:
        raise ResultsError(problem)
    res.check_consistency()
    return res


def describe(e):
    """An exception as one short line."""
    if isinstance(e, OSError) and e.filename:
        text = f"{e.filename}: {e.strerror or e}"
    else:
        text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    text = " ".join(text.split())
    return text if len(text) <= 400 else text[:397] + "..."


def plot(args):
    formats = [f.strip().lower() for f in args.formats.split(",") if f.strip()]
    res = load_folder(args.results)
    PROGRESS.set_stage("setting up matplotlib")
    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10,
                         "axes.formatter.limits": (-3, 4),
                         "svg.hashsalt": "initscope"})
    out_dir = os.path.join(args.results, "figures")
    PROGRESS.set_stage(f"creating {out_dir}")
    os.makedirs(out_dir, exist_ok=True)
    PROGRESS.set_stage("planning the figures")
    plan = figure_plan(res, args.gradient_axis)
    PROGRESS.total = len(plan)
    PROGRESS.enable(len(plan) > PROGRESS_MIN_CONFIGS)
    embedded = []
    for name, caption, draw in plan:
        PROGRESS.begin_figure(name)
        fig = draw()
        png = None
        for fmt_ in formats:
            path = os.path.join(out_dir, f"{name}.{fmt_}")
            PROGRESS.set_stage(f"saving {path}")
            PROGRESS.tick(doing=f"saving {fmt_}")
            fig.savefig(path, dpi=DPI)
            if fmt_ == "png":
                with open(path, "rb") as f:
                    png = f.read()
        if not args.no_report:
            if png is None:
                buf = io.BytesIO()
                fig.savefig(buf, format="png", dpi=DPI)
                png = buf.getvalue()
            embedded.append((name, caption, png))
        plt.close(fig)
        PROGRESS.end_figure()
        print(f"{os.path.join(out_dir, name)}.{{{','.join(formats)}}}")
    if not args.no_report:
        report = os.path.join(args.results, "report.html")
        PROGRESS.set_stage(f"writing {report}")
        write_report(res, embedded, report)
        print(report)
    PROGRESS.finish("" if args.no_report else " and report.html")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="Figures and an HTML report for an initscope results folder.")
    ap.add_argument("results", help="results folder written by `initscope run`")
    ap.add_argument("--formats", default="png,svg", help="comma-separated figure formats (default png,svg)")
    ap.add_argument("--no-report", action="store_true", help="do not write report.html")
    ap.add_argument("--gradient-axis", choices=["auto", "linear", "log", "symlog"], default="auto",
                    help="x axis of gradient histograms (default auto: linear, centred on 0, when the "
                         "gradients were binned linearly, else log: |g|, both signs folded)")
    args = ap.parse_args(argv)
    # Every failure is one line on stderr: 2 for a folder that is not a valid results folder, 1 for
    # anything else (INITSCOPE_PLOT_TRACEBACK=1 shows the traceback of the latter).
    try:
        return plot(args)
    except ResultsError as e:
        print(f"initscope plot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"initscope plot: {args.results}: interrupted while {PROGRESS.stage}", file=sys.stderr)
        return 130
    except Exception as e:
        if os.environ.get("INITSCOPE_PLOT_TRACEBACK"):
            raise
        if isinstance(e, BrokenPipeError):  # stdout closed early (| head): nothing more to write there
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except OSError:
                pass
            print(f"initscope plot: {args.results}: standard output closed; stopped after "
                  f"{PROGRESS.done}/{PROGRESS.total} figures", file=sys.stderr)
            return 1
        print(f"initscope plot: {args.results}: failed while {PROGRESS.stage}: {describe(e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
