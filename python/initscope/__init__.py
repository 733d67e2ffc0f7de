"""initscope — Python side of initscope: results folders as pandas DataFrames, runs from Python,
and the figures and report of `initscope plot`.

    import initscope
    res = initscope.load("results/fig6_quick")          # checked as `initscope plot` checks it
    res.stats.query("quantity == 'activation' and statistic == 'std'")
    res = initscope.run("experiments/glorot2010/fig6_quick.toml", trials=16, network__gain=2)

Modules: results (load(), the checks, the Folder that figures and report draw from), figures
(matplotlib), report (report.html), plot (the `initscope plot` command line), engine (run()).
Importing the package imports none of them (nor numpy, pandas or matplotlib): each is imported
when first used.
"""
import importlib

__version__ = "0.1.0"

_LAZY = {"load": "results", "Results": "results", "ResultsError": "results", "load_folder": "results",
         "run": "engine", "RunError": "engine", "find_binary": "engine"}
__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'initscope' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
