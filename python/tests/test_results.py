"""initscope.load(): tidy DataFrames of a real results folder, exact histogram edges, and the
one-line errors `initscope plot` gives for damaged folders."""
import csv
import gzip
import math
import os
import shutil
import tempfile
import unittest

from support import (BIN, LINEAR_CONFIG, SWEEP_CONFIG, copy_folder, needs_bin, needs_pandas, run_binary)

import initscope

if __import__("support").HAVE_PANDAS:
    import numpy as np

TMP = None
SWEEP = LINEAR = None


def setUpModule():
    global TMP, SWEEP, LINEAR
    TMP = tempfile.mkdtemp(prefix="initscope-pytest-")
    if BIN and os.path.isfile(BIN):
        SWEEP = run_binary(SWEEP_CONFIG, os.path.join(TMP, "sweep"), "--per-trial")
        LINEAR = run_binary(LINEAR_CONFIG, os.path.join(TMP, "linear"))


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def f32(x):
    """The float64 value of the float32 nearest x (numpy's rounding)."""
    return float(np.float32(x))


def madd_f32(i, width, lo):
    """The engine's madd_rn(i, width, lo) (kernels/hd.h): the float32 product, then the float32
    sum, each rounded once (a float32 product or sum is exact in float64, then rounded)."""
    return f32(f32(float(i) * float(width)) + float(lo))


@needs_pandas
@needs_bin
class LoadSweep(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.res = initscope.load(SWEEP)

    def test_frames_and_columns(self):
        r = self.res
        self.assertEqual(r.folder, SWEEP)
        self.assertIsInstance(r.manifest, dict)
        self.assertEqual(r.sweep_keys, ["network.init"])
        self.assertEqual(list(r.stats.columns), ["config_id", "network.init", "layer", "quantity", "statistic",
                                                 "value", "trial_std", "trials"])
        self.assertEqual(list(r.histograms.columns),
                         ["config_id", "network.init", "layer", "quantity", "bin", "bin_kind", "bin_lo", "bin_hi",
                          "count", "density", "binning", "u_lo", "u_hi"])
        self.assertEqual(list(r.theory.columns), ["config_id", "network.init", "layer", "sigma_w2", "q_pre", "var_pre",
                                                  "var_act", "chi1", "grad_ratio", "c_pre"])
        for frame, ints in ((r.stats, ["layer", "trials"]), (r.histograms, ["layer", "bin", "count"]),
                            (r.theory, ["layer"])):
            for c in ints:
                self.assertEqual(frame[c].dtype, np.int64, c)
            self.assertEqual(frame["config_id"].map(type).unique().tolist(), [str])
        for c in ["value", "trial_std"]:
            self.assertEqual(r.stats[c].dtype, np.float64)
        self.assertEqual(sorted(r.stats["network.init"].unique()), ["normalized", "standard"])
        # Every row of the files, in their order.
        self.assertEqual(len(r.stats), len(csv_rows(os.path.join(SWEEP, "stats.csv"))) - 1)
        self.assertEqual(len(r.histograms), len(csv_rows(os.path.join(SWEEP, "histograms.csv"))) - 1)
        self.assertEqual(set(r.stats["quantity"]), {"preactivation", "activation", "backprop_gradient",
                                                     "weight_gradient", "jacobian_singular_value"})
        self.assertEqual(sorted(r.stats["layer"].unique()), [1, 2])
        self.assertTrue((r.stats["trials"] == 3).all())

    def test_values_as_plot_reads_them(self):
        # The same numbers as the checked reading `initscope plot` draws from.
        from initscope.results import load_folder
        folder = load_folder(SWEEP, progress=False)
        n = 0
        for row in self.res.stats.itertuples(index=False):
            v, sd = folder.stats[(row.config_id, row.quantity, row.statistic)][row.layer]
            self.assertTrue(v == row.value or (math.isnan(v) and math.isnan(row.value)))
            self.assertTrue(sd == row.trial_std or (math.isnan(sd) and math.isnan(row.trial_std)))
            n += 1
        self.assertGreater(n, 100)
        # Numbers parsed exactly: as Python's float() reads the text.
        rows = csv_rows(os.path.join(SWEEP, "stats.csv"))[1:]
        values = [float(r[5]) if r[5] not in ("", "nan") else math.nan for r in rows]
        np.testing.assert_array_equal(np.array(values), self.res.stats["value"].to_numpy())

    def test_configs_and_resolved(self):
        r = self.res
        self.assertEqual(r.configs["config_id"].tolist(), [c["config_id"] for c in r.manifest["configurations"]])
        self.assertEqual(r.configs["network.init"].tolist(), ["standard", "normalized"])
        self.assertEqual(r.configs["label"].tolist(), ["init=standard", "init=normalized"])
        self.assertEqual(r.configs["trials"].tolist(), [3, 3])
        resolved = r.resolved.set_index("config_id")
        self.assertEqual(resolved["network.init"].tolist(), ["standard", "xavier_uniform"])
        self.assertEqual(resolved["network.hidden"].tolist(), [[24, 16], [24, 16]])
        self.assertEqual(resolved["stats.bins"].tolist(), [40, 40])

    def test_numeric_bins_and_kinds(self):
        h = self.res.histograms
        rows = csv_rows(os.path.join(SWEEP, "histograms.csv"))[1:]
        text_bins = [r[4] for r in rows]
        self.assertEqual(h["bin_kind"].tolist(),
                         ["underflow" if b == "underflow" else "overflow" if b == "overflow" else "bin" for b in text_bins])
        for (cid, layer, q), g in h.groupby(["config_id", "layer", "quantity"], sort=False):
            self.assertEqual(g["bin"].tolist(), list(range(-1, 41)), (cid, layer, q))
            self.assertEqual(g["bin_kind"].iloc[0], "underflow")
            self.assertEqual(g["bin_kind"].iloc[-1], "overflow")
            self.assertTrue((g["bin_kind"].iloc[1:-1] == "bin").all())
            self.assertEqual(g["bin_lo"].iloc[0], -math.inf)
            self.assertEqual(g["bin_hi"].iloc[-1], math.inf)
            # Edges meet: each bin's hi is the next one's lo.
            np.testing.assert_array_equal(g["bin_hi"].to_numpy()[:-1], g["bin_lo"].to_numpy()[1:])
            self.assertTrue(np.isnan(g["density"].iloc[[0, -1]]).all())
        # Every value of the layer counted once, inside or outside the range.
        total = h.groupby(["config_id", "layer", "quantity"])["count"].sum()
        self.assertTrue((total.xs("activation", level="quantity") == 3 * 16 * np.array([24, 16] * 2)).all())

    def test_linear_edges_are_the_engines_float32(self):
        h = self.res.histograms
        rows = csv_rows(os.path.join(SWEEP, "histograms.csv"))[1:]
        linear = (h["binning"] == "linear").to_numpy()
        self.assertEqual(set(h.loc[linear, "quantity"]), {"preactivation", "activation", "jacobian_singular_value"})
        for col, i in (("bin_lo", 5), ("bin_hi", 6)):
            got = h[col].to_numpy()
            want = np.array([f32(float(r[i])) for r in rows])
            np.testing.assert_array_equal(got[linear], want[linear])
            self.assertTrue((np.float32(got[linear]).astype(np.float64) == got[linear]).all())
        self.assertTrue(np.isnan(h.loc[linear, ["u_lo", "u_hi"]].to_numpy()).all())

    def test_symlog_gradient_edges(self):
        # Symlog bins: the engine bins u = sign(g) log10(1 + |g|/linthresh) with float32 edges
        # madd_rn(i, width, lo) over [-u_max, u_max] and prints g = linthresh*(10^|u| - 1) in double.
        h = self.res.histograms
        sym = h[h["binning"] == "symlog"]
        self.assertEqual(set(sym["quantity"]), {"backprop_gradient", "weight_gradient"})
        rows = csv_rows(os.path.join(SWEEP, "histograms.csv"))[1:]
        printed = np.array([float(r[5]) for r in rows])[(h["binning"] == "symlog").to_numpy()]
        np.testing.assert_array_equal(sym["bin_lo"].to_numpy(), printed)  # g kept as printed
        u_max = f32(math.log10(1.0 + 10.0 / 1e-10))
        width = f32(f32(2 * u_max) / 40)
        want = [-u_max] + [madd_f32(i, width, -u_max) for i in range(1, 40)] + [u_max]
        for _, g in sym.groupby(["config_id", "layer", "quantity"]):
            self.assertEqual(g["u_lo"].tolist(), [-math.inf] + want)
            self.assertEqual(g["u_hi"].tolist(), want + [math.inf])

    def test_trials_lazy(self):
        r = initscope.load(SWEEP)
        self.assertFalse(r._trials_read)
        t = r.trials
        self.assertIs(r.trials, t)
        self.assertEqual(len(t), 2 * 3 * 2 * 5)  # configurations x trials x layers x quantities
        self.assertEqual(list(t.columns[:5]), ["config_id", "network.init", "trial", "layer", "quantity"])
        self.assertEqual(list(t.columns[-5:]), ["nan", "inf", "saturation", "var_ratio", "pair_correlation"])
        self.assertIn("p98", t.columns)
        self.assertEqual(sorted(t["trial"].unique()), [0, 1, 2])
        # The across-trial mean in stats.csv is the mean of the per-trial rows.
        s = r.stats.set_index(["config_id", "layer", "quantity", "statistic"])["value"]
        m = t.groupby(["config_id", "layer", "quantity"])["mean"].mean()
        for (cid, layer, q), v in m.items():
            self.assertAlmostEqual(s[(cid, layer, q, "mean")], v, delta=1e-6 * (1 + abs(v)))
        self.assertIsNone(initscope.load(LINEAR).trials)

    def test_check_false_reads_the_same(self):
        r = initscope.load(SWEEP, check=False)
        self.assertTrue(r.stats.equals(self.res.stats))
        self.assertTrue(r.histograms.equals(self.res.histograms))
        self.assertTrue(r.theory.equals(self.res.theory))


@needs_pandas
@needs_bin
class LoadLinear(unittest.TestCase):
    """Linearly binned gradients, and ranges whose float32 bin widths are inexact."""

    def test_edges_equal_float32_of_the_printed_value(self):
        r = initscope.load(LINEAR)
        h = r.histograms
        self.assertTrue((h["binning"] == "linear").all())
        self.assertEqual(r.sweep_keys, [])
        self.assertEqual(list(h.columns[:3]), ["config_id", "layer", "quantity"])
        rows = csv_rows(os.path.join(LINEAR, "histograms.csv"))[1:]
        np.testing.assert_array_equal(h["bin_lo"].to_numpy(), [f32(float(x[4])) for x in rows])
        np.testing.assert_array_equal(h["bin_hi"].to_numpy(), [f32(float(x[5])) for x in rows])
        # ... and those are the engine's edges: lo, madd_rn(i, width, lo) for 0 < i < bins, hi.
        ranges = {"preactivation": (-2.1, 0.9), "activation": (-1.0, 1.0), "backprop_gradient": (-0.05, 0.05),
                  "jacobian_singular_value": (0.0, 2.3)}
        for (layer, q), g in h.groupby(["layer", "quantity"]):
            lo, hi = f32(ranges[q][0]), f32(ranges[q][1])
            width = f32(f32(hi - lo) / 30)
            want = [lo] + [madd_f32(i, width, lo) for i in range(1, 30)] + [hi]
            self.assertEqual(g["bin_lo"].tolist(), [-math.inf] + want, (layer, q))
            self.assertEqual(g["bin_hi"].tolist(), want + [math.inf], (layer, q))
        self.assertNotEqual(h["bin_lo"].iloc[1], -2.1)  # float32(-2.1), printed as -2.0999999
        self.assertEqual(h["bin_lo"].iloc[1], f32(-2.1))


@needs_pandas
@needs_bin
class Errors(unittest.TestCase):
    """A damaged folder: ResultsError with the one line `initscope plot` prints after "initscope plot: "."""

    def plot_line(self, folder):
        import subprocess
        import sys
        p = subprocess.run([sys.executable, "-m", "initscope.plot", folder, "--no-report", "--formats", "png"],
                           capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(initscope.__file__))))
        return p.returncode, p.stderr

    def damaged(self, name):
        return copy_folder(SWEEP, os.path.join(TMP, name))

    def test_truncated_stats_csv(self):
        d = self.damaged("cut")
        path = os.path.join(d, "stats.csv")
        with open(path, "rb") as f:
            data = f.read()
        n = len(data) // 2
        while data[n - 1:n] == b"\n":
            n += 1
        with open(path, "wb") as f:
            f.write(data[:n])
        with self.assertRaises(initscope.ResultsError) as cm:
            initscope.load(d)
        message = str(cm.exception)
        self.assertTrue(message.startswith(f"{path}: truncated (line "), message)
        self.assertNotIn("\n", message)
        code, stderr = self.plot_line(d)  # the very line initscope plot prints, exit 2
        self.assertEqual(code, 2)
        self.assertEqual(stderr, f"initscope plot: {message}\n")

    def test_missing_folder_and_files_of_two_runs(self):
        with self.assertRaises(initscope.ResultsError) as cm:
            initscope.load(os.path.join(TMP, "no_such_folder"))
        self.assertEqual(str(cm.exception), f"{os.path.join(TMP, 'no_such_folder')}: no such folder")
        d = self.damaged("mixed")
        with open(os.path.join(LINEAR, "theory.csv"), "rb") as f:
            other = f.read()
        with open(os.path.join(d, "theory.csv"), "wb") as f:
            f.write(other)
        with self.assertRaises(initscope.ResultsError) as cm:
            initscope.load(d)
        self.assertIn("theory.csv", str(cm.exception))

    def test_damaged_trials_gz_is_refused(self):
        d = self.damaged("trials_cut")
        path = os.path.join(d, "trials.csv.gz")
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size // 2)
        with self.assertRaises(initscope.ResultsError) as cm:
            initscope.load(d)
        self.assertIn("trials.csv.gz is not the file manifest.json describes", str(cm.exception))
        # Without the checks, reading it still fails with a ResultsError naming it.
        r = initscope.load(d, check=False)
        with self.assertRaises(initscope.ResultsError) as cm:
            r.trials
        self.assertIn("trials.csv.gz", str(cm.exception))

    def test_trials_with_other_columns(self):
        d = self.damaged("trials_columns")
        path = os.path.join(d, "trials.csv.gz")
        with gzip.open(path, "rt") as f:
            text = f.read()
        with gzip.open(path, "wt") as f:
            f.write(text.replace("mean_sq", "mean_square", 1))
        r = initscope.load(d, check=False)  # the CRC-32 check would refuse it first
        with self.assertRaises(initscope.ResultsError) as cm:
            r.trials
        self.assertIn("columns are not initscope's trials.csv.gz columns", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
