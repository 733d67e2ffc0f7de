"""initscope.results — reading an initscope results folder, every file checked.

Two views of one folder, both checked the same way (the checks `initscope plot` makes, one-line
ResultsError messages naming the file and what is wrong):

  load(dir) -> Results        tidy pandas DataFrames (stats, histograms, theory, trials, configs,
                              resolved) and the manifest as a dict; for analysis in Python.
  load_folder(dir) -> Folder  the same files indexed for the figures and the report (numpy only,
                              no pandas): what `initscope plot` draws from.

Checks, in order: the folder and its stats.csv; manifest.json (JSON, the keys initscope writes);
every file it lists present; each CSV read in full (not empty, a newline at the end, initscope's
columns, every row as many fields as the header, numbers where numbers belong); the size and
CRC-32 of every file against manifest.json's file_checks (a folder holding files of two runs is
refused); then the CSVs against manifest.json (swept columns, config_ids).
"""
import copy
import csv
import json
import math
import os
import sys
import time
import zlib
from collections import defaultdict

import numpy as np

# --------------------------------------------------------------------------------------------
# What initscope writes.

QUANTITY_ORDER = ["preactivation", "activation", "backprop_gradient", "weight_gradient",
                  "jacobian_singular_value"]
GRADIENT_QUANTITIES = {"backprop_gradient", "weight_gradient"}
STATS_FIXED = {"config_id", "layer", "quantity", "statistic", "value", "trial_std", "trials"}
# The columns initscope writes after config_id and the swept keys, per file.
CSV_TAILS = {"stats.csv": ["layer", "quantity", "statistic", "value", "trial_std", "trials"],
             "histograms.csv": ["layer", "quantity", "bin", "bin_lo", "bin_hi", "count", "density"],
             "theory.csv": ["layer", "sigma_w2", "q_pre", "var_pre", "var_act", "chi1", "grad_ratio",
                            "c_pre"]}
# trials.csv.gz: after config_id and the swept keys, TRIALS_HEAD, the percentiles (p02, p50, ...),
# then TRIALS_TAIL.
TRIALS_HEAD = ["trial", "layer", "quantity", "count", "mean", "std", "mean_sq", "min", "max"]
TRIALS_TAIL = ["nan", "inf", "saturation", "var_ratio", "pair_correlation"]
PROGRESS_MIN_CONFIGS = 20        # progress lines on stderr above this many configurations or figures
PROGRESS_SECONDS = 1.0           # ... at most this often (INITSCOPE_PLOT_PROGRESS_SECONDS)
THEORY_COLUMNS = ["q_pre", "var_act", "chi1", "grad_ratio", "c_pre"]
# Training runs (train.updates > 0): the implicit last sweep key (SGD updates done at the
# evaluation point) and the quantity of the test/train error and NLL rows (layer L+1).
UPDATE_KEY = "update"
OUTPUT_QUANTITY = "output"

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

    def reset(self):
        """A fresh start: counters, stage and state of a previous plot or load in this process
        forgotten."""
        self.__init__()

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
    """manifest.json, checked: a JSON object with the keys initscope plot relies on (configurations,
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


def read_examples(folder):
    """examples.json checked: {"name", "shape", "labels", "class_names", "pixels"} with one list of
    integers 0..255 per example, each of prod(shape) values; else ResultsError naming the problem."""
    path = os.path.join(folder, "examples.json")
    try:
        with open(path, encoding="utf-8") as f:
            e = json.load(f)
    except (OSError, ValueError) as err:
        raise ResultsError(f"{path}: not readable JSON ({err})")
    if not isinstance(e, dict) or not all(k in e for k in ("name", "shape", "labels", "class_names", "pixels")):
        raise ResultsError(f"{path}: needs name, shape, labels, class_names and pixels")
    size = math.prod(e["shape"]) if e["shape"] else 0
    if size <= 0 or len(e["labels"]) != len(e["pixels"]) or len(e["class_names"]) != len(e["pixels"]) or \
            any(len(px) != size for px in e["pixels"]):
        raise ResultsError(f"{path}: labels, class names and pixels disagree with the shape {e['shape']}")
    return e


class Folder:
    """Everything `initscope plot` reads from a results folder, indexed for the figures and the
    report (numpy arrays and dicts; no pandas).

    Reading checks each file (see CsvTable, read_manifest) and raises ResultsError when the folder
    is not one initscope wrote; load_folder() also compares the files with manifest.json."""

    def __init__(self, folder, manifest=None):
        self.folder = folder
        self.manifest = read_manifest(folder) if manifest is None else manifest
        self.tables = {}
        self.first_line = {}   # (file name, config_id) -> first line of that configuration
        # examples.json (runs on a data set): the examples the networks saw, for the data sheet.
        self.examples = read_examples(folder) if "examples.json" in self.manifest.get("files", []) else None

        # stats[(config_id, quantity, statistic)] = {layer: (value, trial_std)}
        self.stats = defaultdict(dict)
        self.trial_counts = defaultdict(dict)   # the same keys, quantity "output" only: trials
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
            trials = t.integer(line, r, "trials")
            key = (cid, r[i_q], r[i_s])
            value = (t.number(line, r, "value", empty_ok=True), t.number(line, r, "trial_std", empty_ok=True))
            layer = t.integer(line, r, "layer", 1)   # checked after the value, as ever
            self.stats[key][layer] = value
            if r[i_q] == OUTPUT_QUANTITY:  # training runs: trials counted, for standard errors
                self.trial_counts[key][layer] = trials

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
        self._colors = None
        self._groups = None
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

    @property
    def colors(self):
        """One colour per configuration, in order (figures.config_colors; needs matplotlib)."""
        if self._colors is None:
            from .figures import config_colors
            self._colors = config_colors(len(self.configs))
        return self._colors

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


    # ----------------------------------------------------------------------------------------
    # Training runs: every evaluation point is a configuration, swept by the last key `update`.

    @property
    def training(self):
        """Whether this is a training run (train.updates > 0: the sweep key `update`)."""
        return UPDATE_KEY in self.sweep_keys

    def groups(self):
        """Training runs: [Group], the configurations identical except for `update` (one network
        set-up followed through training), in order of first appearance, each labelled by its
        swept values other than update."""
        if self._groups is None:
            keys = [k for k in self.sweep_keys if k != UPDATE_KEY]
            by_values = {}
            for c in self.configs:
                by_values.setdefault(tuple(c.swept.get(k) for k in keys), []).append(c)
            members = list(by_values.values())
            labels = config_labels([cs[0] for cs in members], keys, self.manifest)
            self._groups = [Group(i, label, cs) for i, (cs, label) in enumerate(zip(members, labels))]
        return self._groups

    def view(self, configs):
        """This folder restricted to `configs` (one evaluation point per group of a training run),
        for the at-initialization figures: copies of the configurations, indexed and labelled
        without the update key; quantities and max_depth of the hidden layers only (no
        `output`). The folder itself is left as it is."""
        v = copy.copy(self)
        v.sweep_keys = [k for k in self.sweep_keys if k != UPDATE_KEY]
        v.configs = [copy.copy(c) for c in configs]
        labels = config_labels(v.configs, v.sweep_keys, self.manifest)
        for i, c in enumerate(v.configs):
            c.index, c.label = i, labels[i]
        v._colors = v._groups = None
        v.quantities = [q for q in self.quantities if q != OUTPUT_QUANTITY]
        v.hist_quantities = [q for q in self.hist_quantities if q != OUTPUT_QUANTITY]
        ids = {c.id for c in v.configs}
        v.max_depth = max([max(d) for (cid, q, _), d in self.stats.items()
                           if d and q != OUTPUT_QUANTITY and cid in ids] + [1])
        return v

    def update_series(self, group, quantity, statistic, layer):
        """(updates, values, trial_stds, trials) of one statistic of one layer along a group's
        evaluation points, as numpy arrays (points without that row left out). trials: the
        stats.csv count for quantity `output`, else the configuration's trial count."""
        rows = []
        for u, c in zip(group.updates, group.configs):
            v = self.stats.get((c.id, quantity, statistic), {}).get(layer)
            if v is not None:
                n = self.trial_counts.get((c.id, quantity, statistic), {}).get(layer, c.resolved.get("trials"))
                rows.append((u, v[0], v[1], math.nan if n is None else n))
        a = np.array(rows, dtype=float).reshape(-1, 4)
        return a[:, 0], a[:, 1], a[:, 2], a[:, 3]


def config_update(c):
    """A training run's evaluation point: SGD updates done (the swept `update`, else the resolved
    train.update, else 0)."""
    v = c.swept.get(UPDATE_KEY)
    if v is None:
        v = (c.resolved.get("train") or {}).get("update", 0)
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return 0


class Group:
    """The evaluation points of one network set-up of a training run: index (its colour), label
    (the swept values other than update), configs and updates (numpy) in update order."""

    def __init__(self, index, label, configs):
        self.index, self.label = index, label
        self.configs = sorted(configs, key=config_update)
        self.updates = np.array([config_update(c) for c in self.configs], dtype=np.int64)

    @property
    def first(self):
        return self.configs[0]

    @property
    def last(self):
        return self.configs[-1]


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
# Checking a whole folder.

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


def load_folder(folder, progress=True):
    """The folder as a Folder once every check passes; else ResultsError (one line: the file and
    what is wrong). Order: the folder and stats.csv, manifest.json, the files it lists, each CSV
    read and checked (empty, truncated, columns, values), sizes and CRC-32s, then the CSVs
    against manifest.json (swept columns, config_ids). progress: progress lines on stderr for
    folders of more than PROGRESS_MIN_CONFIGS configurations (as `initscope plot` prints them)."""
    PROGRESS.reset()
    if not os.path.exists(folder):
        raise ResultsError(f"{folder}: no such folder")
    if not os.path.isdir(folder):
        raise ResultsError(f"{folder}: not a folder")
    if not os.path.isfile(os.path.join(folder, "stats.csv")):
        raise ResultsError(f"{folder}: no stats.csv (not an initscope results folder)")
    PROGRESS.set_stage("reading manifest.json")
    manifest = read_manifest(folder)
    PROGRESS.enable(progress and len(manifest["configurations"]) > PROGRESS_MIN_CONFIGS)
    for name in dict.fromkeys(list(manifest.get("files", [])) + list(manifest["file_checks"])):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise ResultsError(f"{path}: missing, but manifest.json lists it; run the experiment again")
    res = Folder(folder, manifest)
    PROGRESS.set_stage("checking sizes and CRC-32s")
    problem = check_files(folder, manifest)
    if problem:
        raise ResultsError(problem)
    res.check_consistency()
    return res


# --------------------------------------------------------------------------------------------
# The pandas view: load().

def _pandas():
    try:
        import pandas
    except ImportError as e:
        raise ImportError("initscope.load needs pandas (install: apt-get install python3-pandas, "
                          "or pip install pandas)") from e
    return pandas


def _one_line(e):
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _read_csv(pd, path, text_columns, sweep_keys, **kw):
    """A results CSV as initscope writes it: config_id and `text_columns` as strings, swept
    columns as pandas infers them (numbers become numbers), every other column numeric with ""
    and "nan" as NaN; numbers parsed exactly (round_trip). Errors: ResultsError, one line."""
    compression = kw.pop("compression", None)
    try:
        header = pd.read_csv(path, nrows=0, compression=compression).columns.tolist()
        text = ["config_id"] + list(text_columns)
        numeric = [c for c in header if c not in text and c not in sweep_keys]
        return pd.read_csv(path, dtype={c: str for c in text if c in header}, keep_default_na=False,
                           na_values={c: ["", "nan"] for c in numeric}, float_precision="round_trip",
                           compression=compression, **kw)
    except (EOFError, zlib.error, OSError) as e:
        raise ResultsError(f"{path}: cannot read ({_one_line(e)})")
    except (ValueError, UnicodeDecodeError) as e:  # pandas' ParserError is a ValueError
        raise ResultsError(f"{path}: not as initscope writes it ({_one_line(e)})")


def _flatten(d, prefix=""):
    """{'network': {'init': 'standard'}} -> {'network.init': 'standard'} (values as they are)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


class Results:
    """An initscope results folder as tidy pandas DataFrames; made by load() (and run()).

    Attributes:
      folder      the results folder (a path, as given)
      manifest    manifest.json as a dict
      sweep_keys  the swept config keys, e.g. ["network.init"]: the column names of the swept
                  values in every frame, dots included (df["network.init"],
                  df.query("`network.init` == 'standard'"))
      stats       stats.csv: config_id, <swept keys>, layer, quantity, statistic, value, trial_std,
                  trials
      histograms  histograms.csv: config_id, <swept keys>, layer, quantity, bin, bin_kind, bin_lo,
                  bin_hi, count, density, binning, u_lo, u_hi (see load())
      theory      theory.csv (None when the folder has none): config_id, <swept keys>, layer,
                  sigma_w2, q_pre, var_pre, var_act, chi1, grad_ratio, c_pre
      trials      trials.csv.gz (read on first use), None when the run did not keep per-trial rows
      configs     one row per configuration in the manifest's order: config_id, <swept keys>,
                  label (as the figures' legends name it), trials, seed, seconds,
                  trials_per_second, chunk_trials, workers, philox_key
      resolved    one row per configuration: config_id and every key of its fully resolved
                  config, dotted ("network.init", "stats.bins"; lists stay lists)
    """

    def __init__(self, folder, manifest, stats, histograms, theory, labels=None):
        pd = _pandas()
        self.folder = folder
        self.manifest = manifest
        self.sweep_keys = list(manifest.get("sweep_keys") or [])
        self.stats = stats
        self.histograms = histograms
        self.theory = theory
        self._trials = None
        self._trials_read = False
        confs = manifest.get("configurations", [])
        swept = stats.drop_duplicates("config_id").set_index("config_id")
        rows = []
        for c in confs:
            cid = c["config_id"]
            row = {"config_id": cid}
            for k in self.sweep_keys:
                row[k] = swept[k].get(cid) if k in swept.columns else c.get("swept", {}).get(k)
            resolved = c.get("resolved") or {}
            row.update(label=(labels or {}).get(cid, cid), trials=resolved.get("trials"), seed=c.get("seed"),
                       seconds=c.get("seconds"), trials_per_second=c.get("trials_per_second"),
                       chunk_trials=c.get("chunk_trials"), workers=c.get("workers"), philox_key=c.get("philox_key"))
            rows.append(row)
        self.configs = pd.DataFrame(rows, columns=["config_id"] + self.sweep_keys + [
            "label", "trials", "seed", "seconds", "trials_per_second", "chunk_trials", "workers", "philox_key"])
        self.resolved = pd.DataFrame([dict(config_id=c["config_id"], **_flatten(c.get("resolved") or {}))
                                      for c in confs])

    @property
    def trials(self):
        """trials.csv.gz as a DataFrame (read once, on first use), or None when there is none:
        config_id, <swept keys>, trial, layer, quantity, count, mean, std, mean_sq, min, max,
        <percentiles>, nan, inf, saturation, var_ratio, pair_correlation (NaN where they do not
        apply)."""
        if not self._trials_read:
            self._trials = self._read_trials()
            self._trials_read = True
        return self._trials

    def _read_trials(self):
        path = os.path.join(self.folder, "trials.csv.gz")
        if not os.path.exists(path):
            return None
        pd = _pandas()
        try:
            header = pd.read_csv(path, nrows=0, compression="gzip").columns.tolist()
        except Exception as e:
            raise ResultsError(f"{path}: cannot read ({_one_line(e)}); run the experiment again")
        head = ["config_id"] + self.sweep_keys + TRIALS_HEAD
        if header[:len(head)] != head or header[-len(TRIALS_TAIL):] != TRIALS_TAIL:
            shown = ",".join(header)
            shown = shown if len(shown) <= 160 else shown[:157] + "..."
            raise ResultsError(f"{path}: columns are not initscope's trials.csv.gz columns: header '{shown}', "
                               f"expected '{','.join(head)},<percentiles>,{','.join(TRIALS_TAIL)}'")
        return _read_csv(pd, path, ["quantity"], self.sweep_keys, compression="gzip")

    def figures(self, gradient_axis="auto"):
        """[(name, caption, matplotlib Figure)] as `initscope plot` draws them (needs matplotlib;
        reads the folder again, checked)."""
        from . import figures
        return figures.make_figures(load_folder(self.folder, progress=False), gradient_axis)

    def plot(self, formats=("png", "svg"), report=True, gradient_axis="auto"):
        """Writes figures/ and report.html into the folder as `initscope plot` does; returns the
        paths written."""
        from . import plot
        return plot.render(self.folder, formats=formats, report=report, gradient_axis=gradient_axis,
                           echo=None)

    def __repr__(self):
        q = list(dict.fromkeys(self.stats["quantity"])) if len(self.stats) else []
        layers = int(self.stats["layer"].max()) if len(self.stats) else 0
        sweep = f" over {', '.join(self.sweep_keys)}" if self.sweep_keys else ""
        n = len(self.configs)
        return (f"<initscope.Results {self.folder!r}: {n} configuration{'' if n == 1 else 's'}{sweep}, "
                f"{layers} layer{'' if layers == 1 else 's'}, {', '.join(q)}>")


def _histogram_frame(h, manifest, path):
    """histograms.csv with a numeric bin (underflow -1, overflow = the bin count), bin_kind, and
    exact edges: bin_lo/bin_hi of linearly binned quantities rounded to float32 (the engine's
    edges are float32, printed with 9 significant digits, which round-trips them); symlog-binned
    gradients keep the printed float64 g edges, and u_lo/u_hi give their float32 edges in
    u = sign(g) log10(1 + |g|/linthresh), the coordinate the engine bins in."""
    b = h["bin"].astype(str)
    kind = np.where(b == "underflow", "underflow", np.where(b == "overflow", "overflow", "bin"))
    inside = kind == "bin"
    number = np.full(len(h), -1, dtype=np.int64)
    try:
        number[inside] = b[inside].astype(np.int64)
    except ValueError as e:  # only without check=True: the checks refuse such a bin first
        raise ResultsError(f"{path}: a bin that is not an integer ({_one_line(e)})")
    keys = [h["config_id"], h["layer"], h["quantity"]]
    nbins = h["layer"].copy()
    nbins[:] = inside
    nbins = nbins.groupby(keys).transform("sum").to_numpy()
    number[kind == "overflow"] = nbins[kind == "overflow"]
    pos = h.columns.get_loc("bin")
    h = h.copy()
    h["bin"] = number
    h.insert(pos + 1, "bin_kind", kind)

    confs = {c["config_id"]: (c.get("resolved") or {}).get("stats", {}) for c in manifest.get("configurations", [])}
    linear_ids = [cid for cid, s in confs.items() if s.get("gradient_bins") == "linear"]
    symlog = (h["quantity"].isin(list(GRADIENT_QUANTITIES)) & ~h["config_id"].isin(linear_ids)).to_numpy()
    linthresh = h["config_id"].map({cid: float(np.float32(s.get("gradient_linthresh", 1e-10)))
                                    for cid, s in confs.items()}).fillna(float(np.float32(1e-10))).to_numpy()
    for col, ucol in (("bin_lo", "u_lo"), ("bin_hi", "u_hi")):
        g = h[col].to_numpy(dtype=np.float64)
        h[col] = np.where(symlog, g, g.astype(np.float32).astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            u = (np.sign(g) * np.log10(1.0 + np.abs(g) / linthresh)).astype(np.float32).astype(np.float64)
        h[ucol] = np.where(symlog, u, np.nan)
    h.insert(h.columns.get_loc("u_lo"), "binning", np.where(symlog, "symlog", "linear"))
    return h


def load(folder, check=True):
    """An initscope results folder as a Results of tidy pandas DataFrames.

    check=True (default) checks the folder as `initscope plot` does first (every row of every
    CSV, sizes and CRC-32s against manifest.json, the CSVs against the manifest) and raises
    ResultsError with the same one-line message (e.g. "results/x/stats.csv: truncated (line 812
    has 5 fields, the header 7)"); check=False reads with pandas alone (faster on large sweeps;
    damage then shows as a pandas error, still a ResultsError).

    histograms: `bin` is an integer, 0..bins-1 for the bins, -1 for the underflow and bins for
    the overflow row; `bin_kind` is "underflow", "bin" or "overflow". `bin_lo`/`bin_hi` are the
    engine's float32 edges as float64 (exact) for linearly binned quantities; for gradients
    binned in symlog (stats.gradient_bins = "symlog", the default) they are the g values the
    engine printed (float64, 9 significant digits) and `u_lo`/`u_hi` are the exact float32 edges
    in u = sign(g) log10(1 + |g|/linthresh) (NaN elsewhere); `binning` says which.
    Swept columns keep the config key as their name (dots included) and hold the value as
    written, parsed by pandas (numbers become numbers)."""
    folder = os.fspath(folder)
    pd = _pandas()
    if check:
        manifest = load_folder(folder, progress=False).manifest
    else:
        if not os.path.isdir(folder):
            raise ResultsError(f"{folder}: no such folder" if not os.path.exists(folder) else f"{folder}: not a folder")
        manifest = read_manifest(folder)
    keys = list(manifest.get("sweep_keys") or [])
    stats = _read_csv(pd, os.path.join(folder, "stats.csv"), ["quantity", "statistic"], keys)
    path = os.path.join(folder, "histograms.csv")
    hist = _read_csv(pd, path, ["quantity", "bin"], keys) if os.path.exists(path) else None
    if hist is not None:
        hist = _histogram_frame(hist, manifest, path)
    path = os.path.join(folder, "theory.csv")
    theory = _read_csv(pd, path, [], keys) if os.path.exists(path) else None
    configs = [Config(c["config_id"], {k: str(v) for k, v in c.get("swept", {}).items()}, c.get("resolved"))
               for c in manifest.get("configurations", [])]
    labels = dict(zip((c.id for c in configs), config_labels(configs, keys, manifest)))
    return Results(folder, manifest, stats, hist, theory, labels)
