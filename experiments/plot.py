#!/usr/bin/env python3
"""plot.py — figures (PNG/SVG) and a self-contained HTML report for an initscope results folder.

Usage:
    python3 experiments/plot.py RESULTS_DIR [--formats png,svg] [--no-report]
            [--gradient-axis auto|linear|log|symlog]

What `initscope plot` runs. The code is the initscope Python package (python/initscope: results,
figures, report, plot; options, figures and exit statuses are described in
python/initscope/plot.py): this script puts the package beside it on sys.path and runs
initscope.plot.main(). It looks for the package in the source tree's python/ (../python from
here), in python/ next to this script (an installed share/initscope/), then wherever Python finds
an installed `initscope` package (pip install ./python). Exit status as initscope.plot's (0
written, 1 a failure while drawing, 2 not a valid results folder, 3 matplotlib missing, 130
interrupted), and 4 when the package itself is not found.
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
for candidate in (os.path.join(os.path.dirname(here), "python"), os.path.join(here, "python")):
    if os.path.isfile(os.path.join(candidate, "initscope", "plot.py")):
        sys.path.insert(0, candidate)
        break

try:
    from initscope.plot import main
except ImportError as e:
    print(f"initscope plot: the initscope Python package was not found ({e}; looked in "
          f"{os.path.join(os.path.dirname(here), 'python')}, {os.path.join(here, 'python')} and on sys.path)",
          file=sys.stderr)
    sys.exit(4)

if __name__ == "__main__":
    sys.exit(main())
