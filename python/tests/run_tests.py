#!/usr/bin/env python3
"""The Python package's tests (CTest: Python.Package). Runs every python/tests/test_*.py with
unittest; exits 77 (CTest: skipped) when numpy or pandas is missing. $INITSCOPE_BIN names the
initscope binary (tests that run it skip without it)."""
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
try:
    import numpy  # noqa: F401
    import pandas  # noqa: F401
except ImportError as e:
    print(f"skipped: the initscope Python package needs numpy and pandas ({e}; apt-get install python3-pandas)")
    sys.exit(77)
sys.path.insert(0, here)
sys.path.insert(0, os.path.dirname(here))
if not os.environ.get("INITSCOPE_BIN"):
    print("note: INITSCOPE_BIN is not set: the tests that run initscope are skipped")
suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py", top_level_dir=here)
result = unittest.TextTestRunner(verbosity=2).run(suite)
sys.exit(0 if result.wasSuccessful() else 1)
