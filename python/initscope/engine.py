"""initscope.engine — running the initscope binary from Python: run(), find_binary().

    import initscope
    res = initscope.run("experiments/glorot2010/fig6_quick.toml", trials=16)
    res = initscope.run({"trials": 8, "samples": 16, "network": {"input": 32, "hidden": [32] * 4},
                         "sweep": {"network.init": ["standard", "normalized"]}},
                        network__activation="relu", overrides={"network.gain": 2.0})
"""
import json
import math
import numbers
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading


class RunError(RuntimeError):
    """The initscope binary could not be run or failed. `returncode` is its exit status (None
    when it did not start: 1 run error, 2 config or usage error, 130/143 interrupted) and
    `stderr` what it printed there (when captured); the message ends with its last line."""

    def __init__(self, message, returncode=None, stderr=""):
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


def find_binary():
    """The initscope binary: $INITSCOPE_BIN, else `initscope` on PATH, else, when this package
    is the source tree's python/initscope, the tree's build/initscope or build-cpu/initscope."""
    env = os.environ.get("INITSCOPE_BIN")
    if env:
        return env
    found = shutil.which("initscope")
    if found:
        return found
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if os.path.isfile(os.path.join(root, "experiments", "plot.py")):
        for build in ("build", "build-cpu"):
            path = os.path.join(root, build, "initscope")
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
    raise RunError("initscope binary not found: set INITSCOPE_BIN, put initscope on PATH, or build it "
                   "(cmake -S . -B build && cmake --build build)")


# --------------------------------------------------------------------------------------------
# TOML for configs given as dicts and for --set values.

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key):
    """A TOML key: bare when it can be, else a quoted string ("network.init" in [sweep])."""
    key = str(key)
    return key if _BARE_KEY.match(key) else toml_value(key)


def toml_value(v):
    """A Python value (bool, int, float, str, path, list/tuple, dict, numpy scalar or array) as
    TOML."""
    if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):  # numpy scalars and arrays
        v = v.tolist()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        f = float(v)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return repr(f)
    if isinstance(v, os.PathLike):
        v = os.fspath(v)
    if isinstance(v, str):
        # JSON's string escapes are TOML's basic-string escapes; DEL must be escaped in TOML too.
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007F")
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"initscope.run: cannot write {type(v).__name__} value {v!r} as TOML")


def _nested(config):
    """Dotted keys outside [sweep] as nested tables: {"network.gain": 2} -> {"network": {"gain": 2}}."""
    out = {}
    for key, value in config.items():
        key = str(key)
        if isinstance(value, dict) and key != "sweep":
            value = _nested(value)
        parts = key.split(".") if key != "sweep" else [key]
        d = out
        for p in parts[:-1]:
            d = d.setdefault(p, {})
            if not isinstance(d, dict):
                raise ValueError(f"initscope.run: config key {key!r} is both a value and a table")
        if isinstance(value, dict) and isinstance(d.get(parts[-1]), dict):
            d[parts[-1]].update(value)
        else:
            d[parts[-1]] = value
    return out


def to_toml(config):
    """A config dict as a TOML document. Nested dicts are tables ([network], [stats], ...); dotted
    keys outside "sweep" name nested keys ({"network.gain": 2} is [network] gain = 2); the keys of
    "sweep" are config paths, written quoted ("network.init" = [...])."""
    lines = []

    def table(d, path):
        leaves = [(k, v) for k, v in d.items() if not isinstance(v, dict) or path == ["sweep"]]
        tables = [(k, v) for k, v in d.items() if isinstance(v, dict) and path != ["sweep"]]
        if path and (leaves or not tables):
            lines.append(f"[{'.'.join(toml_key(p) for p in path)}]")
        for k, v in leaves:
            lines.append(f"{toml_key(k)} = {toml_value(v)}")
        for k, v in tables:
            table(v, path + [k])

    table(_nested(config), [])
    return "\n".join(lines) + "\n"


def set_arguments(overrides=None, **kw):
    """["--set", "network.gain=2", ...] for a dict of config paths ({"network.gain": 2}) and for
    keyword arguments whose double underscores are dots (network__gain=2)."""
    items = dict(overrides or {})
    for k, v in kw.items():
        items[k.replace("__", ".")] = v
    args = []
    for k, v in items.items():
        key = ".".join(toml_key(p) for p in str(k).split("."))
        args += ["--set", f"{key}={toml_value(v)}"]
    return args


# --------------------------------------------------------------------------------------------

def _pump(stream, sink, keep):
    for line in iter(stream.readline, ""):
        keep.append(line)
        if sink is not None:
            sink.write(line)
            sink.flush()
    stream.close()


def run(config, out=None, overrides=None, *, device=None, trials=None, seed=None, threads=None,
        per_trial=None, force=False, plot=False, quiet=True, binary=None, check=True, **kw):
    """Runs `initscope run` and returns load(out): a Results of pandas DataFrames.

    config     a TOML file's path, or a dict (written to a temporary TOML file; see to_toml)
    out        the results folder (--out); None: a new temporary folder (tempfile.mkdtemp; kept
               after a successful run, Results.folder says where; removed after a failed one)
    overrides  {"network.gain": 2, "network.hidden": [64, 64]}: one --set key=value each (pins a
               swept key); keyword arguments do the same with "__" for "." (network__gain=2)
    device, trials, seed, threads   --device, --trials, --seed, --threads (None: the config's)
    per_trial  True: --per-trial (trials.csv.gz; Results.trials)
    force      --force (replace another experiment's results in `out`)
    plot       False (default): --no-plot; True: figures and report.html as the CLI draws them
    quiet      True (default): --quiet, and the binary's output is kept (RunError.stderr) rather
               than shown; False: its progress and tables are shown as it runs
    binary     the initscope binary (default: find_binary())
    check      passed to load()

    Raises RunError (exit status, last line of stderr) when the run fails. Ctrl-C stops the run
    as the CLI does and re-raises KeyboardInterrupt (with `out` given, its finished parts are kept
    and the same call resumes it)."""
    binary = binary or find_binary()
    made = out is None
    if made:
        out = tempfile.mkdtemp(prefix="initscope-")
    out = os.fspath(out)
    try:
        code, err_lines = _run(binary, config, out, overrides, kw, device=device, trials=trials, seed=seed,
                               threads=threads, per_trial=per_trial, force=force, plot=plot, quiet=quiet)
    except BaseException:
        if made:
            shutil.rmtree(out, ignore_errors=True)
        raise
    if code != 0:
        if made:
            shutil.rmtree(out, ignore_errors=True)
        stderr = "".join(err_lines)
        last = next((line.strip() for line in reversed(err_lines) if line.strip()), "")
        raise RunError(f"initscope run failed (exit {code})" + (f": {last}" if last else ""), code, stderr)
    from .results import load
    return load(out, check=check)


def _run(binary, config, out, overrides, kw, device, trials, seed, threads, per_trial, force, plot, quiet):
    """Runs the binary; (exit status, lines of stderr)."""
    with tempfile.TemporaryDirectory(prefix="initscope-config-") as tmp:
        if isinstance(config, dict):
            path = os.path.join(tmp, "run.toml")  # the config's name when it has none: "run"
            with open(path, "w", encoding="utf-8") as f:
                f.write(to_toml(config))
        else:
            path = os.fspath(config)
        cmd = [binary, "run", path, "--out", out]
        for flag, value in (("--device", device), ("--trials", trials), ("--seed", seed), ("--threads", threads)):
            if value is not None:
                cmd += [flag, str(value)]
        cmd += set_arguments(overrides, **kw)
        if per_trial:
            cmd.append("--per-trial")
        if force:
            cmd.append("--force")
        if not plot:
            cmd.append("--no-plot")
        if quiet:
            cmd.append("--quiet")
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, encoding="utf-8", errors="replace")
        except OSError as e:
            raise RunError(f"cannot run {binary}: {e.strerror or e}")
        out_lines, err_lines = [], []
        pumps = [threading.Thread(target=_pump, args=(proc.stdout, None if quiet else sys.stdout, out_lines)),
                 threading.Thread(target=_pump, args=(proc.stderr, None if quiet else sys.stderr, err_lines))]
        for t in pumps:
            t.daemon = True
            t.start()
        try:
            code = proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)  # stops at the next chunk, keeping what finished
            proc.wait()
            raise
        finally:
            for t in pumps:
                t.join()
    return code, err_lines
