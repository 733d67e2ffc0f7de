"""The figures and report from Python (Results.figures, Results.plot), and a package that imports
nothing heavy until it is used."""
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


if __name__ == "__main__":
    unittest.main()
