"""initscope.plot — figures (PNG/SVG) and a self-contained HTML report for an initscope results folder.

Usage (all three run main() below):
    initscope plot RESULTS_DIR [--gradient-axis auto|linear|log|symlog]
    python3 experiments/plot.py RESULTS_DIR [--formats png,svg] [--no-report]
            [--gradient-axis auto|linear|log|symlog]
    python3 -m initscope.plot RESULTS_DIR [...]            (the package installed, or on PYTHONPATH)

Reads RESULTS_DIR/{stats.csv, histograms.csv, manifest.json} and, when present, theory.csv
(mean-field predictions), and writes RESULTS_DIR/figures/<name>.<format> and
RESULTS_DIR/report.html (one page, every image embedded as a data URI, no external resources).
The figures are initscope.figures' (hist_<quantity>, depth_<quantity>, saturation, var_ratio,
meanfield; for training runs also train_*, and the table RESULTS_DIR/figures/table1.csv; see
there), the report initscope.report's, the reading and its checks initscope.results'.

Gradient histograms: with stats.gradient_bins = "linear" (experiments/glorot2010/fig7.toml and
fig8.toml) initscope bins gradients in equal widths over [-gradient_max, gradient_max], and they
are drawn as the paper draws Figures 7 and 8: density on a linear axis centred on 0
(--gradient-axis auto, the default, picks linear then). By default (gradient_bins = "symlog") it
bins them in u = sign(g) log10(1 + |g|/linthresh), so the bins are equal on a logarithmic scale
and their value-space widths span many decades. They are drawn as "fraction of values per decade"
(count / (all values * bin width in u)) against:
  --gradient-axis linear  g on a linear axis (density per unit g);
  --gradient-axis log     (auto for symlog bins) |g| on a log axis, both signs folded: one hump per
                          layer whose position is the gradient's scale (gradients at
                          initialization are symmetric; their mean is in the depth figure);
  --gradient-axis symlog  g on matplotlib's symlog axis: two mirrored humps per layer; linear
                          below the smallest |g| shown (at least the config's gradient_linthresh,
                          else the smallest positive bin edge).
On the log axis the bins touching zero (exact zeros, e.g. ReLU's dead units, and |g| below about
linthresh) have no place; the panel notes their share when it is above 0.5%.

Needs numpy and matplotlib only (not pandas). Errors are one line on stderr, never a traceback
(set INITSCOPE_PLOT_TRACEBACK=1 to see one). Exit status:
  0  figures (and report.html) written;
  1  a failure while drawing or writing (the line names the folder and the figure or file);
  2  not a valid results folder: a missing, empty, truncated (cut mid-row, no newline at the end),
     corrupt or inconsistent stats.csv, histograms.csv, theory.csv or manifest.json (columns not
     as initscope writes them, a value that is not a number, a config_id manifest.json does not
     list, a size or CRC-32 that disagrees with manifest.json's file_checks); the line names the
     file and what is wrong; also a usage error (argparse);
  3  matplotlib is missing;
  130 interrupted (Ctrl-C).
Large folders (more than PROGRESS_MIN_CONFIGS configurations or figures) get a progress line on
stderr at most every PROGRESS_SECONDS ("plot: 3/13 figures (hist_activation: 120/2000
configurations)"); small ones print nothing there.
"""
import argparse
import io
import os
import sys

MATPLOTLIB_MISSING = "initscope plot: matplotlib is missing (install: apt-get install python3-matplotlib)"
# rcParams of every figure (set for the drawing only, not for the rest of a Python session).
RC_PARAMS = {"font.size": 9, "axes.titlesize": 10, "axes.formatter.limits": (-3, 4),
             "svg.hashsalt": "initscope"}


def describe(e):
    """An exception as one short line."""
    if isinstance(e, OSError) and e.filename:
        text = f"{e.filename}: {e.strerror or e}"
    else:
        text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    text = " ".join(text.split())
    return text if len(text) <= 400 else text[:397] + "..."


def write_csv(path, header, rows):
    """A CSV file written to a temporary name and renamed into place."""
    import csv
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def render(folder, formats=("png", "svg"), report=True, gradient_axis="auto", echo=print):
    """Checks `folder` (results.load_folder: ResultsError when it is not a whole results folder),
    draws every figure into folder/figures/<name>.<format>, writes the tables of a training run
    (figures/table1.csv) and, when `report`, folder/report.html; returns the paths written.
    echo(line) gets a line per figure ("DIR/figures/hist_activation.{png,svg}"), per table and
    the report's path (None: silent)."""
    import matplotlib
    import matplotlib.pyplot as plt

    from . import figures as figs
    from .report import write_report
    from .results import PROGRESS, PROGRESS_MIN_CONFIGS, load_folder

    if isinstance(formats, str):
        formats = formats.split(",")
    formats = [f.strip().lower() for f in formats if f.strip()]
    res = load_folder(folder)
    PROGRESS.set_stage("setting up matplotlib")
    written = []
    out_dir = os.path.join(folder, "figures")
    with matplotlib.rc_context(RC_PARAMS):
        PROGRESS.set_stage(f"creating {out_dir}")
        os.makedirs(out_dir, exist_ok=True)
        PROGRESS.set_stage("planning the figures")
        plan = figs.figure_plan(res, gradient_axis)
        PROGRESS.total = len(plan)
        PROGRESS.enable(len(plan) > PROGRESS_MIN_CONFIGS)
        embedded = []
        for name, caption, draw in plan:
            PROGRESS.begin_figure(name)
            fig = draw()
            png = None
            for fmt_ in formats:
                path = os.path.join(out_dir, f"{name}.{fmt_}")
                PROGRESS.set_stage(f"saving {path}")
                PROGRESS.tick(doing=f"saving {fmt_}")
                fig.savefig(path, dpi=figs.DPI)
                written.append(path)
                if fmt_ == "png":
                    with open(path, "rb") as f:
                        png = f.read()
            if report:
                if png is None:
                    buf = io.BytesIO()
                    fig.savefig(buf, format="png", dpi=figs.DPI)
                    png = buf.getvalue()
                embedded.append((name, caption, png))
            plt.close(fig)
            PROGRESS.end_figure()
            if echo:
                echo(f"{os.path.join(out_dir, name)}.{{{','.join(formats)}}}")
        PROGRESS.set_stage("planning the tables")
        tables = figs.table_plan(res)   # training runs: train_table1, also figures/table1.csv
        for table in tables:
            path = os.path.join(out_dir, table.csv_name)
            PROGRESS.set_stage(f"writing {path}")
            write_csv(path, table.csv_header, table.csv_rows)
            written.append(path)
            if echo:
                echo(path)
    if report:
        path = os.path.join(folder, "report.html")
        PROGRESS.set_stage(f"writing {path}")
        write_report(res, embedded, path, tables)
        written.append(path)
        if echo:
            echo(path)
    PROGRESS.finish("" if not report else " and report.html")
    return written


def main(argv=None):
    """The command line (`initscope plot`, experiments/plot.py); returns the exit status."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        print(MATPLOTLIB_MISSING, file=sys.stderr)
        return 3
    from .results import PROGRESS, ResultsError

    ap = argparse.ArgumentParser(description="Figures and an HTML report for an initscope results folder.")
    ap.add_argument("results", help="results folder written by `initscope run`")
    ap.add_argument("--formats", default="png,svg", help="comma-separated figure formats (default png,svg)")
    ap.add_argument("--no-report", action="store_true", help="do not write report.html")
    ap.add_argument("--gradient-axis", choices=["auto", "linear", "log", "symlog"], default="auto",
                    help="x axis of gradient histograms (default auto: linear, centred on 0, when the "
                         "gradients were binned linearly, else log: |g|, both signs folded)")
    args = ap.parse_args(argv)
    # Every failure is one line on stderr: 2 for a folder that is not a valid results folder, 1 for
    # anything else (INITSCOPE_PLOT_TRACEBACK=1 shows the traceback of the latter).
    try:
        render(args.results, args.formats, not args.no_report, args.gradient_axis)
        return 0
    except ResultsError as e:
        print(f"initscope plot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"initscope plot: {args.results}: interrupted while {PROGRESS.stage}", file=sys.stderr)
        return 130
    except Exception as e:
        if os.environ.get("INITSCOPE_PLOT_TRACEBACK"):
            raise
        if isinstance(e, BrokenPipeError):  # stdout closed early (| head): nothing more to write there
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except OSError:
                pass
            print(f"initscope plot: {args.results}: standard output closed; stopped after "
                  f"{PROGRESS.done}/{PROGRESS.total} figures", file=sys.stderr)
            return 1
        print(f"initscope plot: {args.results}: failed while {PROGRESS.stage}: {describe(e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
