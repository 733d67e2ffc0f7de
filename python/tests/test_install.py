"""The package installs offline: pip install --no-build-isolation --no-index into a venv that sees
Debian's packages (setuptools, numpy, pandas, matplotlib), as README's "Python" section says."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from support import BIN, PACKAGE_ROOT, needs_pandas


def works(cmd):
    return subprocess.run(cmd, capture_output=True).returncode == 0


@needs_pandas
@unittest.skipUnless(works([sys.executable, "-m", "pip", "--version"]), "pip not installed (apt-get install python3-pip)")
class OfflineInstall(unittest.TestCase):
    def test_pip_install_into_a_venv(self):
        tmp = tempfile.mkdtemp(prefix="initscope-pyinstall-")
        try:
            # A copy of python/: pip (setuptools) builds in the source folder it is given.
            src = os.path.join(tmp, "python")
            shutil.copytree(PACKAGE_ROOT, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", "tests"))
            venv = os.path.join(tmp, "venv")
            # --without-pip: the system's pip (seen through --system-site-packages) installs into the
            # venv, so python3-venv (ensurepip) is not needed; README's `VENV/bin/pip` is the same pip.
            p = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv],
                               capture_output=True, text=True)
            if p.returncode != 0:
                self.skipTest(f"cannot make a venv: {p.stderr.strip()[-300:]}")
            py = os.path.join(venv, "bin", "python")
            env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_FIND_LINKS", "PIP_INDEX_URL")}
            env["PIP_NO_INPUT"] = "1"
            p = subprocess.run([py, "-m", "pip", "install", "--no-build-isolation", "--no-index", src],
                               capture_output=True, text=True, env=env, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr[-2000:])
            code = ("import initscope, os, sys; print(os.path.dirname(initscope.__file__)); "
                    "print(initscope.load.__module__, initscope.run.__module__)")
            p = subprocess.run([py, "-c", code], capture_output=True, text=True, env=env, cwd=tmp)
            self.assertEqual(p.returncode, 0, p.stderr)
            where, modules = p.stdout.splitlines()
            self.assertTrue(where.startswith(venv), where)
            self.assertEqual(modules, "initscope.results initscope.engine")
            script = os.path.join(venv, "bin", "initscope-plot")
            self.assertTrue(os.path.isfile(script))
            if BIN and os.path.isfile(BIN):
                code = ("import initscope; r = initscope.run({'trials': 2, 'samples': 4, 'network': {'input': 8, "
                        "'hidden': [8]}}, out='out', device='cpu'); print(len(r.stats), r.stats.columns[0])")
                p = subprocess.run([py, "-c", code], capture_output=True, text=True, cwd=tmp,
                                   env=dict(env, INITSCOPE_BIN=BIN))
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertTrue(p.stdout.strip().endswith(" config_id"), p.stdout)
                p = subprocess.run([script, os.path.join(tmp, "nope")], capture_output=True, text=True, env=env)
                self.assertEqual((p.returncode, p.stderr),
                                 (2, f"initscope plot: {os.path.join(tmp, 'nope')}: no such folder\n"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
