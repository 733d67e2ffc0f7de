"""The figures and report from Python (Results.figures, Results.plot), the training figures and
table (train_*, figures/table1.csv), and a package that imports nothing heavy until it is used."""
import contextlib
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from support import PACKAGE_ROOT, needs_bin, needs_matplotlib, needs_pandas, run_binary

import initscope

CONFIG = """trials = 2
samples = 8
[network]
input = 8
hidden = [8, 8]
output = 2
[stats]
bins = 20
quantities = ["activation"]
[sweep]
"network.gain" = [0.5, 2.0]
"""

# A tiny training run on Shapeset: 2 set-ups (inits) x 3 evaluation points (updates 0, 10, 20).
TRAIN_CONFIG = """name = "py_train"
trials = 2
samples = 20
[data]
kind = "shapeset"
[network]
hidden = [8, 8]
activation = "tanh"
[stats]
bins = 20
quantities = ["activation", "weight_gradient"]
[train]
updates = 20
eval_every = 10
learning_rate = 0.1
[sweep]
"network.init" = ["standard", "normalized"]
"""
TRAIN_FIGURES = ["train_fig2_activation_mean_std", "train_fig3_p98_std", "train_fig4_hist_end",
                 "train_fig9_weight_gradient_std", "train_fig11_test_error"]


def plot_quietly(*args):
    """initscope plot (plot.main) with its stdout swallowed; returns (exit status, stderr)."""
    from initscope import plot
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = plot.main(list(args))
    return status, err.getvalue()


class Imports(unittest.TestCase):
    def test_import_is_light(self):
        code = ("import sys, initscope; print(sorted(m for m in ('numpy', 'pandas', 'matplotlib') if m in sys.modules)); "
                "print(initscope.__version__, sorted(n for n in initscope.__all__ if not n.startswith('_')))")
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], "[]")
        self.assertIn("'load'", lines[1])
        self.assertIn("'run'", lines[1])


@needs_pandas
@needs_matplotlib
@needs_bin
class Figures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="initscope-pyfig-")
        cls.folder = run_binary(CONFIG, os.path.join(cls.tmp, "gain"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_swept_numbers_are_numbers(self):
        res = initscope.load(self.folder)
        self.assertEqual(res.stats["network.gain"].dtype.kind, "f")
        self.assertEqual(sorted(res.stats["network.gain"].unique()), [0.5, 2.0])
        self.assertEqual(res.configs["label"].tolist(), ["gain=0.5", "gain=2"])

    def test_figures_and_plot(self):
        import matplotlib.pyplot as plt
        res = initscope.load(self.folder)
        figs = res.figures()
        names = [name for name, _, _ in figs]
        self.assertEqual(names[:3], ["hist_activation", "depth_activation", "saturation"])
        self.assertIn("var_ratio", names)
        for _, caption, fig in figs:
            self.assertTrue(caption)
            plt.close(fig)
        written = res.plot(formats="png")
        self.assertEqual(written, [os.path.join(self.folder, "figures", f"{n}.png") for n in names] +
                         [os.path.join(self.folder, "report.html")])
        for path in written:
            self.assertGreater(os.path.getsize(path), 1000, path)
        # Drawing did not leave initscope's rcParams behind.
        self.assertNotEqual(plt.rcParams["svg.hashsalt"], "initscope")

    def test_no_training_figures_without_training(self):
        from initscope import figures, results
        res = results.load_folder(self.folder, progress=False)
        self.assertFalse(res.training)
        names = [name for name, _, _ in figures.figure_plan(res, "auto")]
        self.assertIn("hist_activation", names)
        self.assertEqual([n for n in names if n.startswith("train_")], [])
        self.assertEqual(figures.table_plan(res), [])


@needs_matplotlib
@needs_bin
class TrainingFigures(unittest.TestCase):
    """A training run: the at-initialization figures once per set-up (update 0), the train_*
    figures, and Table 1 (report and figures/table1.csv)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="initscope-pytrain-")
        cls.folder = run_binary(TRAIN_CONFIG, os.path.join(cls.tmp, "train"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_groups_and_plan(self):
        from initscope import figures, results
        res = results.load_folder(self.folder, progress=False)
        self.assertTrue(res.training)
        self.assertEqual(len(res.configs), 6)
        groups = res.groups()
        self.assertEqual([g.label for g in groups], ["init=standard", "init=normalized"])
        for g in groups:
            self.assertEqual(g.updates.tolist(), [0, 10, 20])
        plan = figures.figure_plan(res, "auto")
        names = [name for name, _, _ in plan]
        self.assertEqual(names[0], "data_examples")
        self.assertEqual(names[1:6], TRAIN_FIGURES)
        # The at-initialization figures once (not per evaluation point), without the output rows.
        self.assertEqual(names.count("hist_activation"), 1)
        self.assertIn("depth_activation", names)
        self.assertNotIn("depth_output", names)
        captions = dict((name, caption) for name, caption, _ in plan)
        self.assertTrue(captions["hist_activation"].startswith("At initialization (update 0"))
        for name in TRAIN_FIGURES:  # the budget in every caption
            self.assertIn("2 trials × 20 SGD updates (minibatch 10, learning rate 0.1)", captions[name])
            self.assertIn("2\u00a0×\u00a08", captions[name])
            self.assertIn("Shapeset-3×2", captions[name])

    def test_learning_rate_sweep_marks_the_chosen_rate(self):
        # With train.learning_rate swept, Table 1 marks per init the rate of lowest final training
        # NLL (read back from stats.csv here), never looking at the held-out test error.
        from initscope import figures, results
        folder = run_binary(TRAIN_CONFIG.replace('[sweep]\n', '[sweep]\n"train.learning_rate" = [0.01, 0.3]\n'),
                            os.path.join(self.tmp, "lr"))
        res = results.load_folder(folder, progress=False)
        (table,) = figures.table_plan(res)
        self.assertEqual(table.csv_header[-1], "learning_rate_chosen")
        rows = [dict(zip(table.csv_header, r)) for r in table.csv_rows]
        self.assertEqual(len(rows), 4)
        with open(os.path.join(folder, "stats.csv"), newline="", encoding="utf-8") as f:
            nll = {(r["network.init"], r["train.learning_rate"]): float(r["value"]) for r in csv.DictReader(f)
                   if r["statistic"] == "train_nll" and r["update"] == "20"}
        for init in ("standard", "normalized"):
            mine = [r for r in rows if r["network.init"] == init]
            self.assertEqual(sum(r["learning_rate_chosen"] for r in mine), 1, mine)
            best = min(mine, key=lambda r: nll[(init, r["train.learning_rate"])])
            self.assertEqual(best["learning_rate_chosen"], 1, (mine, nll))
        self.assertIn("lowest final training NLL", table.caption)

    def test_plot_writes_figures_and_table1(self):
        status, err = plot_quietly(self.folder, "--formats", "png")
        self.assertEqual(status, 0, err)
        fig_dir = os.path.join(self.folder, "figures")
        for name in TRAIN_FIGURES + ["hist_activation", "depth_activation"]:
            self.assertGreater(os.path.getsize(os.path.join(fig_dir, name + ".png")), 1000, name)
        self.assertFalse(os.path.exists(os.path.join(fig_dir, "depth_output.png")))
        with open(os.path.join(fig_dir, "table1.csv"), newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([r["group"] for r in rows], ["init=standard", "init=normalized"])
        self.assertEqual([r["network.init"] for r in rows], ["standard", "normalized"])
        self.assertEqual([r["update"] for r in rows], ["20", "20"])
        self.assertEqual([r["trials"] for r in rows], ["2", "2"])
        # The paper's Table 1, Shapeset column: Tanh 27.15, Tanh N 15.60.
        self.assertEqual([r["paper_data_set"] for r in rows], ["Shapeset-3×2"] * 2)
        self.assertEqual([r["paper_test_error_percent"] for r in rows], ["27.15", "15.60"])
        for r in rows:
            self.assertTrue(0.0 <= float(r["test_error_percent"]) <= 100.0, r)
            self.assertGreaterEqual(float(r["standard_error_percent"]), 0.0, r)
        with open(os.path.join(self.folder, "report.html"), encoding="utf-8") as f:
            report = f.read()
        self.assertIn('<figure id="train_table1">', report)
        self.assertLess(report.index('id="train_fig11_test_error"'), report.index('id="train_table1"'))
        self.assertIn("5 million updates", report)


if __name__ == "__main__":
    unittest.main()
