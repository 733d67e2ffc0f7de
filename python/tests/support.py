"""Shared by the tests: the initscope binary ($INITSCOPE_BIN), running it, and what is installed."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)          # python/
SOURCE_ROOT = os.path.dirname(PACKAGE_ROOT)   # the repository
if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)

BIN = os.environ.get("INITSCOPE_BIN", "")

try:
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    HAVE_PANDAS = True
except ImportError:
    HAVE_PANDAS = False

try:
    import matplotlib  # noqa: F401
    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False

needs_pandas = unittest.skipUnless(HAVE_PANDAS, "numpy/pandas not installed (apt-get install python3-pandas)")
needs_bin = unittest.skipUnless(BIN and os.path.isfile(BIN), "INITSCOPE_BIN is not set to the initscope binary")
needs_matplotlib = unittest.skipUnless(HAVE_MATPLOTLIB, "matplotlib not installed (apt-get install python3-matplotlib)")

# Tiny tanh network, two inits, every quantity (symlog gradient bins, the default); per-trial rows.
SWEEP_CONFIG = """name = "py_small"
seed = 5
trials = 3
samples = 16
[network]
input = 32
hidden = [24, 16]
output = 5
activation = "tanh"
[data]
pair_correlation = 0.5
[stats]
bins = 40
quantities = ["preactivation", "activation", "backprop_gradient", "weight_gradient", "jacobian_singular_value"]
[sweep]
"network.init" = ["standard", "normalized"]
"""

# Linearly binned gradients and ranges whose bin widths are not exact in float32 (1/15, 0.3/7).
LINEAR_CONFIG = """name = "py_linear"
trials = 2
samples = 8
[network]
input = 16
hidden = [16, 16]
output = 3
[stats]
bins = 30
activation_range = [-1.0, 1.0]
preactivation_range = [-2.1, 0.9]
quantities = ["preactivation", "activation", "backprop_gradient", "jacobian_singular_value"]
gradient_bins = "linear"
gradient_max = 0.05
jacobian_range = [0.0, 2.3]
"""


def run_binary(config_text, out, *args):
    """Runs `initscope run` on `config_text` into `out` (CPU, quiet, no plots); returns `out`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.toml")
        with open(path, "w") as f:
            f.write(config_text)
        p = subprocess.run([BIN, "run", path, "--out", out, "--device", "cpu", "--quiet", "--no-plot", *args],
                           capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"initscope run failed (exit {p.returncode}): {p.stderr}")
    return out


def copy_folder(src, dst):
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return dst
