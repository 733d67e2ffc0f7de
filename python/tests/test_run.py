"""initscope.run(): configs as dicts or files, overrides as --set, errors as RunError."""
import os
import shutil
import tempfile
import unittest

from support import SWEEP_CONFIG, needs_bin, needs_pandas

import initscope
from initscope import engine

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

SMALL = {"name": "py_run", "trials": 3, "samples": 8,
         "network": {"input": 16, "hidden": [12, 12], "output": 4},
         "sweep": {"network.init": ["standard", "normalized"]}}


class Toml(unittest.TestCase):
    def test_values(self):
        self.assertEqual(engine.toml_value(True), "true")
        self.assertEqual(engine.toml_value(2), "2")
        self.assertEqual(engine.toml_value(0.5), "0.5")
        self.assertEqual(engine.toml_value(1e-10), "1e-10")
        self.assertEqual(engine.toml_value(float("-inf")), "-inf")
        self.assertEqual(engine.toml_value("he_normal"), '"he_normal"')
        self.assertEqual(engine.toml_value('a "b"\n'), '"a \\"b\\"\\n"')
        self.assertEqual(engine.toml_value([512, 512]), "[512, 512]")
        self.assertEqual(engine.toml_value({"gain": 2}), "{gain = 2}")
        with self.assertRaises(TypeError):
            engine.toml_value(object())

    def test_set_arguments(self):
        self.assertEqual(engine.set_arguments({"network.gain": 2}, network__init="he_normal", seed=3),
                         ["--set", "network.gain=2", "--set", 'network.init="he_normal"', "--set", "seed=3"])
        self.assertEqual(engine.set_arguments(None, network__hidden=[8, 8]), ["--set", "network.hidden=[8, 8]"])

    @unittest.skipIf(tomllib is None, "tomllib needs Python 3.11")
    def test_document_round_trips(self):
        config = dict(SMALL, **{"network.gain": 2.0, "stats": {"quantities": ["activation"], "bins": 20},
                                "data": {"kind": "uniform"}})
        text = engine.to_toml(config)
        parsed = tomllib.loads(text)
        self.assertEqual(parsed["network"], {"input": 16, "hidden": [12, 12], "output": 4, "gain": 2.0})
        self.assertEqual(parsed["sweep"], {"network.init": ["standard", "normalized"]})
        self.assertEqual(parsed["stats"], {"quantities": ["activation"], "bins": 20})
        self.assertEqual(parsed["trials"], 3)
        self.assertIn('"network.init" = ["standard", "normalized"]', text)

    def test_find_binary_prefers_the_environment(self):
        old = os.environ.get("INITSCOPE_BIN")
        os.environ["INITSCOPE_BIN"] = "/some/where/initscope"
        try:
            self.assertEqual(engine.find_binary(), "/some/where/initscope")
        finally:
            if old is None:
                del os.environ["INITSCOPE_BIN"]
            else:
                os.environ["INITSCOPE_BIN"] = old


@needs_pandas
@needs_bin
class Run(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="initscope-pyrun-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_dict_with_overrides(self):
        res = initscope.run(SMALL, out=os.path.join(self.tmp, "a"), device="cpu", per_trial=True,
                            overrides={"network.gain": 2.0}, network__activation="relu")
        self.assertIsInstance(res, initscope.Results)
        self.assertEqual(res.folder, os.path.join(self.tmp, "a"))
        self.assertEqual(res.sweep_keys, ["network.init"])
        self.assertEqual(res.configs["network.init"].tolist(), ["standard", "normalized"])
        self.assertEqual(res.resolved["network.gain"].tolist(), [2.0, 2.0])
        self.assertEqual(res.resolved["network.activation"].tolist(), ["relu", "relu"])
        self.assertEqual(res.resolved["name"].tolist(), ["py_run", "py_run"])
        self.assertEqual(sorted(res.stats["layer"].unique()), [1, 2])
        self.assertEqual(len(res.trials), 2 * 3 * 2 * 2)  # configurations x trials x layers x quantities
        self.assertFalse(os.path.exists(os.path.join(res.folder, "report.html")))  # plot=False: --no-plot
        # The same experiment again: resumed, identical outputs.
        with open(os.path.join(res.folder, "stats.csv"), "rb") as f:
            first = f.read()
        again = initscope.run(SMALL, out=res.folder, device="cpu", per_trial=True, overrides={"network.gain": 2.0},
                              network__activation="relu")
        with open(os.path.join(again.folder, "stats.csv"), "rb") as f:
            self.assertEqual(f.read(), first)

    def test_file_with_options_and_a_temporary_folder(self):
        path = os.path.join(self.tmp, "sweep.toml")
        with open(path, "w") as f:
            f.write(SWEEP_CONFIG)
        res = initscope.run(path, trials=2, seed=9, threads=1, device="cpu", network__init="he_normal")
        try:
            self.assertTrue(os.path.basename(res.folder).startswith("initscope-"))
            self.assertEqual(len(res.configs), 1)  # --set pins the swept key
            self.assertEqual(res.configs["trials"].tolist(), [2])
            self.assertEqual(res.configs["seed"].tolist(), [9])
            self.assertEqual(res.resolved["network.init"].tolist(), ["he_normal"])
        finally:
            shutil.rmtree(res.folder, ignore_errors=True)

    def test_errors(self):
        with self.assertRaises(initscope.RunError) as cm:
            initscope.run(SMALL, out=os.path.join(self.tmp, "b"), device="cpu", network__gian=2)
        self.assertEqual(cm.exception.returncode, 2)
        self.assertIn("network.gian", str(cm.exception))
        self.assertNotIn("\n", str(cm.exception))
        # Another experiment into a folder in use: refused (exit 1), unless force.
        out = os.path.join(self.tmp, "c")
        initscope.run(SMALL, out=out, device="cpu")
        with self.assertRaises(initscope.RunError) as cm:
            initscope.run(SMALL, out=out, device="cpu", seed=4)
        self.assertEqual(cm.exception.returncode, 1)
        res = initscope.run(SMALL, out=out, device="cpu", seed=4, force=True)
        self.assertEqual(res.configs["seed"].tolist(), [4, 4])
        with self.assertRaises(initscope.RunError) as cm:
            initscope.run(SMALL, out=os.path.join(self.tmp, "d"), binary=os.path.join(self.tmp, "no-such-binary"))
        self.assertIsNone(cm.exception.returncode)


if __name__ == "__main__":
    unittest.main()
