"""initscope.figures — the figures `initscope plot` draws (matplotlib), from a checked folder.

    from initscope import figures, results
    folder = results.load_folder("results/fig6_quick")
    for name, caption, fig in figures.make_figures(folder, "auto"): ...

(or initscope.load(dir).figures()). figure_plan() lists them in report order with a function
that draws each one, so that a sweep of many configurations holds one large figure at a time
(table_plan() the report's tables):

  hist_<quantity>   one panel per configuration (small multiples for a sweep), the per-layer
                    normalized histograms overlaid, as in Glorot & Bengio (2010), Figures 6-8.
  depth_<quantity>  per configuration against the layer: mean with a +-std band; the root mean
                    square sqrt(E[x^2]) (from mean_sq) on a log axis with the mean-field
                    prediction dashed (theory.csv: sqrt(q_pre), sqrt(var_act), the back-propagated
                    gradient from grad_ratio anchored at the measured top layer, the Jacobian's
                    singular values from chi1 as sqrt(chi1 n_out / min(n_in, n_out))); and the
                    98th percentile. The theory gives second moments, hence the RMS panel: it
                    equals the std when the mean is 0 (odd activations, zero bias), and stays
                    comparable when it is not (ReLU).
  saturation        fraction of saturated activations against the layer (when measured).
  var_ratio         Var[h_l] / Var[h_{l-1}] against the layer.
  meanfield         chi_1 (theory.csv) and the c-map: the measured pair_correlation of the
                    pre-activations with the predicted c_pre dashed (when either exists).
  data_examples     first, for runs on a data set (examples.json): a sheet of the examples the
                    networks saw, each with its label and class name (Shapeset, Fashion-MNIST, ...).

Training runs (train.updates > 0: the sweep key `update`, one configuration per evaluation point)
are drawn per set-up: the groups of configurations identical except for update
(Folder.groups()). The figures above are drawn once, for each set-up's first evaluation point
(update 0: at initialization); after data_examples come the training figures of Glorot & Bengio
(2010), one panel per set-up unless said otherwise, against SGD updates (a log axis without update
0 when the nonzero updates span more than TRAIN_LOG_DECADES decades), each with the run's budget
(trials, updates, minibatch, learning rate, widths, data set) under its title and in its caption:

  train_fig2_activation_mean_std  Fig. 2: the activations' mean per hidden layer, band +- their std.
  train_fig3_p98_std              Fig. 3: their 98th percentile (solid) and std (dashed) per layer.
  train_fig4_hist_end             Fig. 4: activation histograms at the last evaluation point, layers
                                  overlaid (figure_hist's panels).
  train_fig9_weight_gradient_std  Fig. 9: the weight gradients' std per layer (shared y axis, log;
                                  init schemes side by side); when weight_gradient is measured.
  train_fig11_test_error          Fig. 11: the test error, one line per set-up, band +- the standard
                                  error over trials (trial_std / sqrt(trials)).
  train_table1                    Table 1, a table of the report (table_plan(), also written as
                                  figures/table1.csv): the final test error (%) per set-up +-
                                  standard error beside the paper's where data set, activation and
                                  init match (PAPER_TABLE1).

Conventions (change them below): every layer has the same colour in every figure (viridis over
the layer index, LAYER_CMAP) and every configuration has the same colour in every depth figure
(config_colors: tab10, then lighter shades, plus a marker per configuration). Histograms of deep
networks show at most MAX_HIST_LAYERS evenly spaced layers (a colorbar replaces the legend when
more than 12 distinct layers appear); their x range covers the bins holding at least
HIST_MASS_FLOOR of the values, shared by all panels; each panel has its own y scale. A two-key
sweep is laid out as a table (one key per row, the other per column). Gradient histograms: see
initscope.plot (--gradient-axis).
"""
import math

import matplotlib
import matplotlib.cm
import matplotlib.colors
import matplotlib.pyplot as plt
import matplotlib.ticker
from matplotlib.lines import Line2D
import numpy as np

from .results import GRADIENT_QUANTITIES, PROGRESS

# --------------------------------------------------------------------------------------------
# Settings a user may want to change.

QUANTITY_LABEL = {
    "preactivation": "pre-activation $s_l = W_l h_{l-1} + b_l$",
    "activation": "activation $h_l = f(s_l)$",
    "backprop_gradient": r"back-propagated gradient $\partial C/\partial s_l$",
    "weight_gradient": r"weight gradient $\partial C/\partial W_l$",
    "jacobian_singular_value": r"singular values of $J_l = \partial h_l/\partial h_{l-1}$",
}
QUANTITY_SYMBOL = {"preactivation": "s", "activation": "h",   # mathtext, used as $...$
                   "backprop_gradient": r"\partial C/\partial s",
                   "weight_gradient": r"\partial C/\partial W", "jacobian_singular_value": r"\sigma"}
LAYER_CMAP = "viridis"
LAYER_CMAP_RANGE = (0.0, 0.88)   # leave out viridis' pale yellow end: it vanishes on white
MAX_HIST_LAYERS = 10             # deeper networks: this many evenly spaced layers per panel
HIST_MASS_FLOOR = 1e-4           # x range of histograms: bins holding at least this fraction
GRADIENT_MASS_FLOOR = 1e-3       # ... of gradient histograms (their small-|g| tail is long)
DPI = 110
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p"]


def config_colors(n):
    """One colour per configuration: tab10, then tab20's lighter shades, then a colormap."""
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    if n <= 20:
        tab20 = plt.get_cmap("tab20")
        return [tab20(2 * i) for i in range(10)] + [tab20(2 * i + 1) for i in range(n - 10)]
    return [plt.get_cmap("turbo")(x) for x in np.linspace(0.05, 0.95, n)]


def layer_color(layer, max_depth):
    lo, hi = LAYER_CMAP_RANGE
    x = lo if max_depth <= 1 else lo + (hi - lo) * (layer - 1) / (max_depth - 1)
    return plt.get_cmap(LAYER_CMAP)(x)


def hist_layers(layers):
    """All layers, or MAX_HIST_LAYERS evenly spaced ones (first and last included)."""
    layers = sorted(layers)
    if len(layers) <= MAX_HIST_LAYERS:
        return layers
    idx = np.unique(np.round(np.linspace(0, len(layers) - 1, MAX_HIST_LAYERS)).astype(int))
    return [layers[i] for i in idx]


def grid_shape(n):
    if n <= 3:
        return n, 1
    cols = min(4, math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


def gradient_curve(h, linthresh, axis, linear=False):
    """x (value space), y, fraction per bin, and (log axis) the fraction in the bins that touch
    zero, for one gradient histogram (see the docstring). y is the density per unit g on a linear
    axis or with linear bins, else the fraction per decade of u."""
    total = max(h["total"], 1.0)
    if linear or axis == "linear":  # bin edges are values of g either way
        density = h["count"] / (total * np.maximum(h["hi"] - h["lo"], 1e-300))
        mid = 0.5 * (h["lo"] + h["hi"])
        if axis != "log":
            return mid, density, h["count"] / total, 0.0
        zero = (h["lo"] <= 0) & (h["hi"] >= 0)
        pos, neg = (h["lo"] >= 0) & ~zero, (h["hi"] <= 0) & ~zero
        zero_frac = h["count"][zero].sum() / total
        if pos.sum() != neg.sum():
            return mid[pos], density[pos], h["count"][pos] / total, zero_frac
        return (mid[pos], density[pos] + density[neg][::-1], (h["count"][pos] + h["count"][neg][::-1]) / total,
                zero_frac)
    u = lambda g: np.sign(g) * np.log10(1.0 + np.abs(g) / linthresh)
    u_lo, u_hi = u(h["lo"]), u(h["hi"])
    per_decade = h["count"] / (total * np.maximum(u_hi - u_lo, 1e-300))
    u_mid = 0.5 * (u_lo + u_hi)
    g_mid = np.sign(u_mid) * linthresh * (10.0 ** np.abs(u_mid) - 1.0)
    if axis == "symlog":
        return g_mid, per_decade, h["count"] / total, 0.0
    # Fold: bin i of the negative side mirrors bin n-1-i of the positive side (the u grid is
    # symmetric). The bins touching zero (exact zeros, |g| below about linthresh) have no place
    # on a log axis: they are left out and their share is reported.
    zero = (h["lo"] <= 0) & (h["hi"] >= 0)
    pos, neg = (u_lo >= 0) & ~zero, (u_hi <= 0) & ~zero
    zero_frac = h["count"][zero].sum() / total
    if pos.sum() != neg.sum():  # not a symmetric grid: fall back to the positive side only
        return g_mid[pos], per_decade[pos], h["count"][pos] / total, zero_frac
    return (g_mid[pos], per_decade[pos] + per_decade[neg][::-1],
            (h["count"][pos] + h["count"][neg][::-1]) / total, zero_frac)


def mass_range(xs, fractions, floor):
    """Smallest [lo, hi] of x holding every bin with at least `floor` of the values."""
    keep = [x[f >= floor] for x, f in zip(xs, fractions)]
    keep = np.concatenate(keep) if keep else np.array([])
    return (keep.min(), keep.max()) if keep.size else (None, None)


def panel_grid(res, configs):
    """(rows, cols, [(row, col) per configuration]). A two-key sweep whose values fill a table
    of at most 6 x 4 is laid out as that table (one key per row, the other per column)."""
    keys = res.sweep_keys
    if len(keys) == 2:
        values = [list(dict.fromkeys(c.swept.get(k) for c in configs)) for k in keys]
        if len(values[0]) > len(values[1]):  # the key with fewer values goes across
            keys, values = keys[::-1], values[::-1]
        rows, cols = len(values[1]), len(values[0])
        cells = {(values[1].index(c.swept.get(keys[1])), values[0].index(c.swept.get(keys[0])))
                 for c in configs}
        if rows * cols == len(configs) == len(cells) and cols <= 4 and rows <= 6 and cols > 1:
            return rows, cols, [(values[1].index(c.swept.get(keys[1])), values[0].index(c.swept.get(keys[0])))
                                for c in configs]
    rows, cols = grid_shape(len(configs))
    return rows, cols, [divmod(i, cols) for i in range(len(configs))]


def resolved_gradient_axis(res, quantity, gradient_axis):
    """--gradient-axis auto: a linear axis centred on 0 (the paper's Figures 7 and 8) when every
    configuration binned gradients linearly, else |g| on a log axis."""
    if gradient_axis != "auto" or quantity not in GRADIENT_QUANTITIES:
        return gradient_axis
    configs = [c for c in res.configs if res.hist.get((c.id, quantity))]
    return "linear" if configs and all(res.gradient_linear(c) for c in configs) else "log"


def figure_hist(res, quantity, gradient_axis, title=None, budget=None):
    """title, budget: another title and a budget line under it (the training figures)."""
    gradient_axis = resolved_gradient_axis(res, quantity, gradient_axis)
    configs = [c for c in res.configs if res.hist.get((c.id, quantity))]
    rows, cols, cells = panel_grid(res, configs)
    panel_w, panel_h = (8.0, 2.9) if cols == 1 else (3.7, 2.7)
    extra = 0.0 if title is None else train_title_height(panel_w * cols + 1.3, budget)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_w * cols + 1.3, panel_h * rows + 0.9 + extra),
                             sharex=True, squeeze=False)
    gradient = quantity in GRADIENT_QUANTITIES
    sym = QUANTITY_SYMBOL.get(quantity, "x")
    shown, xs_all, fr_all = set(), [], []
    any_linear = False
    for k, ((r, col), c) in enumerate(zip(cells, configs)):
        PROGRESS.tick(k, len(configs))
        ax = axes[r, col]
        layers = res.hist[(c.id, quantity)]
        outside, near_zero = 0.0, 0.0
        for layer in hist_layers(layers):
            h = layers[layer]
            total = max(h["total"], 1.0)
            outside = max(outside, (h["under"] + h["over"]) / total)
            if gradient:
                linthresh = res.gradient_linthresh(c, h["lo"], h["hi"])
                x, y, frac, zero = gradient_curve(h, linthresh, gradient_axis, res.gradient_linear(c))
                any_linear = any_linear or res.gradient_linear(c)
                near_zero = max(near_zero, zero)
            else:
                x, y, frac = 0.5 * (h["lo"] + h["hi"]), h["density"], h["count"] / total
            ax.plot(x, y, color=layer_color(layer, res.max_depth), lw=1.4)
            shown.add(layer)
            xs_all.append(x)
            fr_all.append(frac)
        ax.set_title(c.label, fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.25)
        notes = []
        if outside > 0.005:
            notes.append(f"outside the range: up to {outside:.1%}")
        if near_zero > 0.005:
            notes.append(f"bins at 0 (not on a log axis): up to {near_zero:.1%}" if any_linear else
                         f"0 or $|{sym}|$ < {linthresh:.0e}: up to {near_zero:.1%}")
        if notes:
            ax.text(0.02, 0.95, "\n".join(notes), transform=ax.transAxes,
                    ha="left", va="top", fontsize=7.5, color="0.35")
    used = set(cells)
    for r in range(rows):
        for col in range(cols):
            if (r, col) not in used:
                axes[r, col].set_visible(False)

    lo, hi = mass_range(xs_all, fr_all, GRADIENT_MASS_FLOOR if gradient else HIST_MASS_FLOOR)
    ax0 = axes.flat[0]
    if gradient and gradient_axis == "linear":
        # As the paper draws Figures 7 and 8: a linear axis centred on 0.
        if lo is not None:
            m = 1.05 * max(abs(lo), abs(hi))
            ax0.set_xlim(-m, m)
        ax0.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3))
        xlabel, ylabel = f"${sym}$", "density"
    elif gradient and gradient_axis == "log":
        ax0.set_xscale("log")
        if lo is not None:
            ax0.set_xlim(lo / 2.5, hi * 2.5)
        xlabel, ylabel = f"$|{sym}|$ (both signs)", "density (both signs)" if any_linear else "fraction per decade"
    elif gradient:
        # Linear below the smallest |g| shown, so the (empty) decades around 0 take no room.
        linthresh = min(res.gradient_linthresh(c, np.array([]), np.array([])) for c in configs)
        if lo is not None:
            small = np.concatenate([np.abs(x[f >= GRADIENT_MASS_FLOOR]) for x, f in zip(xs_all, fr_all)])
            linthresh = max(linthresh, small.min())
            m = max(abs(lo), abs(hi)) * 2.5
            ax0.set_xlim(-m, m)
        ax0.set_xscale("symlog", linthresh=linthresh, linscale=0.3)
        if lo is not None:  # 0 and whole decades clear of the linear part, at most ~5 per side
            first, last = math.floor(math.log10(linthresh)) + 1, math.floor(math.log10(m))
            step = max(1, math.ceil((last - first + 1) / 5))
            decades = [10.0 ** k for k in range(last, first - 1, -step)]
            ax0.set_xticks(sorted([-d for d in decades] + [0.0] + decades))
        xlabel, ylabel = (f"${sym}$ (symmetric log scale, linear below {linthresh:.1g})",
                          "density" if any_linear else "fraction per decade")
    else:
        if lo is not None:
            pad = 0.03 * (hi - lo)
            ax0.set_xlim(lo - pad, hi + pad)
        xlabel, ylabel = f"${sym}$", "density"
    for col in range(cols):  # x label under the lowest panel of each column
        visible = [r for r in range(rows) if (r, col) in used]
        if visible:
            axes[max(visible), col].set_xlabel(xlabel)
            axes[max(visible), col].xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    if title is None:
        fig.suptitle(f"Normalized histograms: {QUANTITY_LABEL.get(quantity, quantity)}", fontsize=12)
        top = 0.97
    else:
        top = train_titles(fig, title, budget)
    fig.tight_layout(rect=(0, 0, 1 - 1.1 / fig.get_figwidth(), top))
    layer_legend(fig, sorted(shown), res.max_depth)  # after tight_layout: a colorbar has its own axes
    return fig


def layer_legend(fig, layers, max_depth):
    if len(layers) <= 12:
        handles = [Line2D([], [], color=layer_color(l, max_depth), lw=2) for l in layers]
        fig.legend(handles, [f"layer {l}" for l in layers], loc="center right", fontsize=9,
                   frameon=False, borderaxespad=0.3)
    else:
        lo, hi = LAYER_CMAP_RANGE
        cmap = matplotlib.colors.LinearSegmentedColormap.from_list(
            "layers", [plt.get_cmap(LAYER_CMAP)(x) for x in np.linspace(lo, hi, 256)])
        sm = matplotlib.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(1, max_depth))
        cax = fig.add_axes([1 - 0.6 / fig.get_figwidth(), 0.15, 0.15 / fig.get_figwidth(), 0.7])
        fig.colorbar(sm, cax=cax, label="layer")


def config_style(res, c, depth):
    return dict(color=res.colors[c.index], marker=MARKERS[c.index % len(MARKERS)] if depth <= 30 else None,
                markersize=3.5, lw=1.5)


def predicted_rms(res, c, quantity, layers, rms):
    """Mean-field prediction of sqrt(E[x^2]) per layer for this quantity, or None."""
    if quantity == "preactivation":
        tl, q = res.theory_series(c, "q_pre")
        return (tl, np.sqrt(q)) if tl.size else None
    if quantity == "activation":
        tl, q = res.theory_series(c, "var_act")
        return (tl, np.sqrt(q)) if tl.size else None
    if quantity == "backprop_gradient":
        tl, ratio = res.theory_series(c, "grad_ratio")
        if not tl.size or not layers.size:
            return None
        # Var[g_l] = grad_ratio_l Var[g_{l+1}], anchored at the measured top layer.
        ratio_at = dict(zip(tl.astype(int), ratio))
        top = int(layers.max())
        pred = {top: rms[layers == top][0]}
        for l in range(top - 1, int(layers.min()) - 1, -1):
            r = ratio_at.get(l, math.nan)
            pred[l] = pred[l + 1] * math.sqrt(r) if r >= 0 else math.nan
        ls = sorted(pred)
        return np.array(ls, dtype=float), np.array([pred[l] for l in ls])
    if quantity == "jacobian_singular_value":
        # ||J_l||_F^2 = sum_i f'(s_i)^2 |W_i|^2 ~ n_out chi1, shared by min(n_in, n_out) values.
        tl, chi1 = res.theory_series(c, "chi1")
        widths = c.widths()
        if not tl.size or not widths:
            return None
        scale = np.array([widths[int(l)] / min(widths[int(l) - 1], widths[int(l)])
                          if int(l) < len(widths) else math.nan for l in tl])
        return tl, np.sqrt(chi1 * scale)
    return None


def darker(color, f=0.6):
    return tuple(f * x for x in color[:3])


def figure_depth(res, quantity):
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.3 + 0.22 * legend_rows(res)))
    fill = len(res.configs) <= 4  # more bands than this hide each other: band edges only
    sym = QUANTITY_SYMBOL.get(quantity, "x")
    any_theory = False
    for k, c in enumerate(res.configs):
        PROGRESS.tick(k, len(res.configs))
        layers, mean, _ = res.series(c, quantity, "mean")
        if not layers.size:
            continue
        style = config_style(res, c, res.max_depth)
        _, std, _ = res.series(c, quantity, "std")
        ax = axes[0]
        ax.plot(layers, mean, **style)
        if std.size == mean.size:
            if fill:
                ax.fill_between(layers, mean - std, mean + std, color=style["color"], alpha=0.12, lw=0)
            for edge in (mean - std, mean + std):
                ax.plot(layers, edge, color=style["color"], lw=0.7, alpha=0.6)
        l2, msq, _ = res.series(c, quantity, "mean_sq")
        if l2.size:
            rms = np.sqrt(msq)
            axes[1].plot(l2, rms, **style)
            pred = predicted_rms(res, c, quantity, l2, rms)
            if pred is not None:
                axes[1].plot(pred[0], pred[1], color=darker(style["color"]), ls="--", lw=1.3, zorder=3)
                any_theory = True
        l3, p98, _ = res.series(c, quantity, "p98")
        if l3.size:
            axes[2].plot(l3, p98, **style)
    sq = f"({sym})^2" if "/" in sym else f"{sym}^2"
    axes[0].set_title(f"mean $\\pm$ std of ${sym}$ (band: $\\pm$ std within a trial)", fontsize=10)
    axes[1].set_title(f"root mean square $\\sqrt{{E[{sq}]}}$" +
                      (" (dashed: mean-field theory)" if any_theory else ""), fontsize=10)
    axes[2].set_title(f"98th percentile of ${sym}$", fontsize=10)
    axes[0].set_ylabel(f"${sym}$")
    axes[1].set_ylabel(f"$\\sqrt{{E[{sq}]}}$")
    axes[2].set_ylabel(f"p98 of ${sym}$")
    if all(l.get_ydata().size and np.nanmin(l.get_ydata()) > 0 for l in axes[1].lines):
        log_axis(axes[1])
    for ax in axes:
        finish_depth_axis(ax, res.max_depth)
    config_legend(fig, res, theory=any_theory)
    fig.suptitle(f"Against depth: {QUANTITY_LABEL.get(quantity, quantity)}", fontsize=12)
    fig.tight_layout(rect=(0, legend_height(fig, res), 1, 0.96))
    return fig


def log_axis(ax):
    """Log y axis; plain tick labels at 1, 2, 5 x 10^k when it spans less than 3 decades."""
    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    if hi / lo < 1e3:
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.3g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def finish_depth_axis(ax, max_depth):
    ax.set_xlabel("layer")
    ax.grid(alpha=0.25)
    if max_depth <= 20:
        ax.set_xticks(range(1, max_depth + 1))


def legend_rows(res):
    return math.ceil((len(res.configs) + 1) / min(4, len(res.configs) + 1))


def legend_height(fig, res):
    return (0.12 + 0.22 * legend_rows(res)) / fig.get_figheight()


def config_legend(fig, res, theory=False, ls="-"):
    handles = [Line2D([], [], ls=ls, **config_style(res, c, res.max_depth)) for c in res.configs]
    labels = [c.label for c in res.configs]
    if theory:
        handles.append(Line2D([], [], color="0.25", ls="--", lw=1.3))
        labels.append("mean-field theory")
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(handles)), fontsize=9,
               frameon=False)


def figure_saturation(res):
    fig, ax = plt.subplots(figsize=(7.5, 4.2 + 0.22 * legend_rows(res)))
    for k, c in enumerate(res.configs):
        PROGRESS.tick(k, len(res.configs))
        layers, sat, sat_sd = res.series(c, "activation", "saturation")
        if layers.size:
            ax.errorbar(layers, sat, yerr=sat_sd, capsize=2, **config_style(res, c, res.max_depth))
    thresholds = sorted({c.resolved.get("stats", {}).get("saturation_threshold") for c in res.configs}
                        - {None})
    t = ", ".join(f"{x:.3g}" for x in thresholds)
    ax.set_title("Saturated fraction of the activations" + (f" (threshold t = {t})" if t else ""),
                 fontsize=11)
    ax.set_ylabel("fraction saturated")
    ax.set_ylim(bottom=0)
    finish_depth_axis(ax, res.max_depth)
    config_legend(fig, res)
    fig.tight_layout(rect=(0, legend_height(fig, res), 1, 1))
    return fig


def figure_var_ratio(res):
    fig, ax = plt.subplots(figsize=(7.5, 4.2 + 0.22 * legend_rows(res)))
    positive = True
    for k, c in enumerate(res.configs):
        PROGRESS.tick(k, len(res.configs))
        layers, ratio, ratio_sd = res.series(c, "activation", "var_ratio")
        if layers.size:
            ax.errorbar(layers, ratio, yerr=ratio_sd, capsize=2, **config_style(res, c, res.max_depth))
            positive &= bool(np.nanmin(ratio) > 0)
    ax.axhline(1.0, color="0.4", lw=0.8)
    if positive:
        log_axis(ax)
    ax.set_title(r"Variance ratio $\mathrm{Var}[h_l] / \mathrm{Var}[h_{l-1}]$ ($h_0$: the input)",
                 fontsize=11)
    ax.set_ylabel("variance ratio")
    finish_depth_axis(ax, res.max_depth)
    config_legend(fig, res)
    fig.tight_layout(rect=(0, legend_height(fig, res), 1, 1))
    return fig


def figure_meanfield(res):
    """chi_1 (theory.csv) and the c-map: the measured pair_correlation of the pre-activations
    (solid, error bars across trials) beside the predicted c_pre (dashed)."""
    has_chi1 = any(res.theory_series(c, "chi1")[0].size for c in res.configs)
    # The c-map panel only where inputs come in pairs (samples >= 2): without a measured
    # pair_correlation it would hold a theory line with nothing to compare it to.
    has_c = res.has("preactivation", "pair_correlation")
    panels = (["chi1"] if has_chi1 else []) + (["c_map"] if has_c else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.3 + 0.22 * legend_rows(res)),
                             squeeze=False)
    measured = False
    for ax, panel in zip(axes[0], panels):
        for k, c in enumerate(res.configs):
            PROGRESS.tick(k, len(res.configs))
            style = config_style(res, c, res.max_depth)
            layers, v = res.theory_series(c, "chi1" if panel == "chi1" else "c_pre")
            if layers.size:
                ax.plot(layers, v, **dict(style, ls="--", color=darker(style["color"]) if panel == "c_map"
                                          else style["color"], marker=None if panel == "c_map" else style["marker"]))
            if panel == "c_map":
                layers, corr, corr_sd = res.series(c, "preactivation", "pair_correlation")
                if layers.size:
                    ax.errorbar(layers, corr, yerr=corr_sd, capsize=2, **style)
                    measured = True
        if panel == "chi1":
            ax.axhline(1.0, color="0.4", lw=0.8)
            ax.set_title(r"mean-field $\chi_1 = \sigma_w^2\,E[f'(s_l)^2]$ (> 1: chaotic, < 1: ordered)",
                         fontsize=10)
            ax.set_ylabel(r"$\chi_1$")
        else:  # a correlation: show [0, 1] at least, so a c-map stuck at 0 is visibly 0
            lo, hi = ax.get_ylim()
            ax.set_ylim(min(lo, -0.05), max(hi, 1.05))
            ax.set_title("c-map: correlation of paired inputs' pre-activations"
                         + (" (dashed: theory)" if measured else " (theory)"), fontsize=10)
            ax.set_ylabel("correlation")
        finish_depth_axis(ax, res.max_depth)
    config_legend(fig, res, theory=measured, ls="-" if measured else "--")
    fig.suptitle("Mean-field view: $\\chi_1$ and the c-map", fontsize=12)
    fig.tight_layout(rect=(0, legend_height(fig, res), 1, 0.95))
    return fig


def figure_examples(res):
    """The data sheet: the examples the networks saw (examples.json), each with its class name,
    grey images on a grey colour map scaled 0..255, colour ones (3 planes) as RGB."""
    e = res.examples
    n = len(e["pixels"])
    cols = min(8, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.45 * cols, 1.6 * rows + 0.5), dpi=DPI, squeeze=False)
    shape = e["shape"]
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            continue
        px = np.asarray(e["pixels"][i], dtype=np.uint8)
        if len(shape) == 3 and shape[0] == 3:
            ax.imshow(np.transpose(px.reshape(shape), (1, 2, 0)), interpolation="nearest")
        else:
            img = px.reshape(shape if len(shape) == 2 else (1, -1))
            ax.imshow(img, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(f"{e['labels'][i]}: {e['class_names'][i]}", fontsize=6.5)
    fig.suptitle(f"{e['name']}: the first {n} examples every trial saw (label: class)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return fig


# --------------------------------------------------------------------------------------------
# Training runs (train.updates > 0): Glorot & Bengio (2010), Figures 2, 3, 4, 9, 11 and Table 1.
# The configurations drawn are the groups (Folder.groups(): evaluation points of one set-up).

DATA_SET_NAMES = {"shapeset": "Shapeset-3×2", "idx": "IDX (MNIST format)", "cifar10": "CIFAR-10"}
# The paper's Table 1: test error (%) after training 5 hidden layers of 1000 units for 5 million
# updates; key (data.kind, activation, normalized init).
PAPER_TABLE1 = {
    "shapeset": {("softsign", False): 16.27, ("softsign", True): 16.06, ("tanh", False): 27.15,
                 ("tanh", True): 15.60, ("sigmoid", False): 82.61},
    "idx": {("softsign", False): 1.64, ("softsign", True): 1.72, ("tanh", False): 1.76,
            ("tanh", True): 1.64, ("sigmoid", False): 2.21},
    "cifar10": {("softsign", False): 55.78, ("softsign", True): 53.8, ("tanh", False): 55.9,
                ("tanh", True): 52.92, ("sigmoid", False): 57.28},
}
PAPER_DATA_SET = {"shapeset": "Shapeset-3×2", "idx": "MNIST", "cifar10": "CIFAR-10"}
NORMALIZED_INITS = {"normalized", "xavier_uniform", "glorot_uniform"}
TRAIN_LOG_DECADES = 2   # a log update axis when the nonzero updates span more than this many decades


def _values(xs, fmt=str):
    """'a', or 'a/b/c' when the configurations differ (in order of appearance)."""
    xs = [x for x in dict.fromkeys(xs) if x is not None]
    return "/".join(fmt(x) for x in xs) if xs else "?"


def _widths(net):
    hidden = net.get("hidden")
    if not isinstance(hidden, list) and "depth" in net and "width" in net:
        hidden = [net["width"]] * net["depth"]
    if not isinstance(hidden, list) or not hidden:
        return None
    return f"{len(hidden)}\u00a0×\u00a0{hidden[0]}" if all(h == hidden[0] for h in hidden) else \
        "-".join(str(h) for h in hidden)


def data_set_name(res, c):
    kind = (c.resolved.get("data") or {}).get("kind")
    if kind == "idx" and res.examples is not None:
        return f"IDX (MNIST format): {res.examples['name']}"
    return DATA_SET_NAMES.get(kind, kind or "Gaussian inputs")


def budget_text(res):
    """The run's budget in one line: trials, updates, minibatch, learning rate, widths, data set."""
    cs = res.configs
    train = [c.resolved.get("train") or {} for c in cs]
    net = [c.resolved.get("network") or {} for c in cs]
    g = lambda v: f"{v:.6g}" if isinstance(v, float) else str(v)
    return (f"Budget: {_values([c.resolved.get('trials') for c in cs])} trials × "
            f"{_values([t.get('updates') for t in train])} SGD updates (minibatch "
            f"{_values([t.get('minibatch') for t in train])}, learning rate "
            f"{_values([t.get('learning_rate') for t in train], g)}), evaluated every "
            f"{_values([t.get('eval_every') for t in train])} updates on "
            f"{_values([c.resolved.get('samples') for c in cs])} held-out examples; hidden layers "
            f"{_values([_widths(n) for n in net])} (input {_values([n.get('input') for n in net])}, "
            f"{_values([n.get('output') for n in net])} classes); data: "
            f"{_values([data_set_name(res, c) for c in cs])}.")


def train_title_height(width_in, budget):
    """Inches above the panels for a title and the budget line(s) wrapped to the figure width."""
    return 0.38 + 0.14 * len(_wrap_budget(width_in, budget))


def _wrap_budget(width_in, budget):
    import textwrap
    return textwrap.wrap(budget or "", width=max(40, int(width_in * 15.5)))


def train_titles(fig, title, budget):
    """The title and the budget line(s) at the top; returns the top of the panels' rect."""
    h = fig.get_figheight()
    lines = _wrap_budget(fig.get_figwidth(), budget)
    # fig.text, not suptitle: tight_layout would make room for a suptitle a second time.
    fig.text(0.5, 1 - 0.08 / h, title, ha="center", va="top", fontsize=11.5)
    if lines:
        fig.text(0.5, 1 - 0.33 / h, "\n".join(lines), ha="center", va="top", fontsize=8, color="0.3")
    return 1 - (0.38 + 0.14 * len(lines)) / h


def train_log_axis(groups):
    nz = np.concatenate([g.updates for g in groups]) if groups else np.array([])
    nz = nz[nz > 0]
    return bool(nz.size >= 2 and nz.max() / nz.min() > 10.0 ** TRAIN_LOG_DECADES)


def finish_update_axis(ax, log):
    if log:
        ax.set_xscale("log")
    else:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.grid(alpha=0.25)


def shown_points(updates, log):
    """The evaluation points drawn: all, or those after update 0 on a log axis."""
    return updates > 0 if log else np.ones(updates.shape, dtype=bool)


def train_grid(view):
    """panel_grid for the groups: one row for a one-key sweep of at most 4 set-ups, and the init
    schemes side by side (across) in a two-key sweep when they are not the longer key."""
    n = len(view.configs)
    if len(view.sweep_keys) <= 1 and 1 < n <= 4:
        return 1, n, [(0, i) for i in range(n)]
    if len(view.sweep_keys) == 2 and "network.init" in view.sweep_keys:  # the view is this figure's own
        view.sweep_keys = ["network.init"] + [k for k in view.sweep_keys if k != "network.init"]
    return panel_grid(view, view.configs)


def train_panels(res, title, budget, sharey=False):
    """(view of the groups' first points, fig, axes, [(group, ax)]), one panel per group laid
    out as the at-initialization histograms are (a two-key sweep as a table)."""
    groups = res.groups()
    view = res.view([g.first for g in groups])
    rows, cols, cells = train_grid(view)
    panel_w, panel_h = (7.5, 2.9) if cols == 1 else (3.9, 2.8)
    width = panel_w * cols + 1.3
    fig, axes = plt.subplots(rows, cols, figsize=(width, panel_h * rows + 0.7 + train_title_height(width, budget)),
                             sharex=True, sharey=sharey, squeeze=False)
    used = set(cells)
    for r in range(rows):
        for col in range(cols):
            if (r, col) not in used:
                axes[r, col].set_visible(False)
    for col in range(cols):  # x label under the lowest panel of each column
        visible = [r for r in range(rows) if (r, col) in used]
        if visible:
            axes[max(visible), col].set_xlabel("SGD updates")
            axes[max(visible), col].xaxis.set_tick_params(labelbottom=True)
    return view, fig, axes, [(g, axes[r, col]) for g, (r, col) in zip(groups, cells)]


def hidden_layers(res, group, quantity, statistic):
    return sorted(int(l) for l in res.stats.get((group.first.id, quantity, statistic), {}))


def finish_train_panels(fig, axes, title, budget, layers, max_depth, extra_handles=None):
    top = train_titles(fig, title, budget)
    fig.tight_layout(rect=(0, 0, 1 - 1.1 / fig.get_figwidth(), top))
    layer_legend(fig, layers, max_depth)
    if extra_handles:
        axes.flat[0].legend(*extra_handles, fontsize=7.5, loc="best", frameon=True, framealpha=0.8)


def figure_train_activation(res, log):
    """Figure 2: the activations' mean per hidden layer against updates, band: +- their std."""
    title = "Activations during training: mean per hidden layer, band ± std (Glorot & Bengio 2010, Fig. 2)"
    budget = budget_text(res)
    view, fig, axes, panels = train_panels(res, title, budget)
    shown = set()
    for k, (g, ax) in enumerate(panels):
        PROGRESS.tick(k, len(panels))
        for l in hidden_layers(res, g, "activation", "mean"):
            u, mean, _, _ = res.update_series(g, "activation", "mean", l)
            u2, std, _, _ = res.update_series(g, "activation", "std", l)
            keep = shown_points(u, log)
            color = layer_color(l, view.max_depth)
            ax.plot(u[keep], mean[keep], color=color, lw=1.5, marker="o" if keep.sum() <= 30 else None,
                    markersize=2.5)
            if u2.size == u.size:
                ax.fill_between(u[keep], (mean - std)[keep], (mean + std)[keep], color=color, alpha=0.07, lw=0)
                for edge in (mean - std, mean + std):
                    ax.plot(u[keep], edge[keep], color=color, lw=0.7, alpha=0.7)
            shown.add(l)
        ax.set_title(g.label, fontsize=10)
        finish_update_axis(ax, log)
    for ax in axes[:, 0]:
        ax.set_ylabel("activation $h_l$")
    finish_train_panels(fig, axes, title, budget, sorted(shown), view.max_depth)
    return fig


def figure_train_p98(res, log):
    """Figure 3: the activations' 98th percentile (solid) and std (dashed) per layer."""
    title = "Activations during training: 98th percentile (solid) and std (dashed) per layer (Glorot & Bengio 2010, Fig. 3)"
    budget = budget_text(res)
    view, fig, axes, panels = train_panels(res, title, budget)
    shown = set()
    for k, (g, ax) in enumerate(panels):
        PROGRESS.tick(k, len(panels))
        for l in hidden_layers(res, g, "activation", "p98"):
            color = layer_color(l, view.max_depth)
            for stat, ls in (("p98", "-"), ("std", "--")):
                u, v, _, _ = res.update_series(g, "activation", stat, l)
                keep = shown_points(u, log)
                ax.plot(u[keep], v[keep], color=color, ls=ls, lw=1.5 if ls == "-" else 1.2)
            shown.add(l)
        ax.set_title(g.label, fontsize=10)
        finish_update_axis(ax, log)
    for ax in axes[:, 0]:
        ax.set_ylabel("activation $h_l$")
    styles = ([Line2D([], [], color="0.2", lw=1.5), Line2D([], [], color="0.2", ls="--", lw=1.2)],
              ["98th percentile", "std"])
    finish_train_panels(fig, axes, title, budget, sorted(shown), view.max_depth, styles)
    return fig


def figure_train_weight_gradient(res, log):
    """Figure 9: the weight gradients' std per layer against updates (shared log y axis)."""
    title = r"Weight gradients during training: std of $\partial C/\partial W_l$ per layer (Glorot & Bengio 2010, Fig. 9)"
    budget = budget_text(res)
    view, fig, axes, panels = train_panels(res, title, budget, sharey=True)
    shown, positive = set(), True
    for k, (g, ax) in enumerate(panels):
        PROGRESS.tick(k, len(panels))
        for l in hidden_layers(res, g, "weight_gradient", "std"):
            u, v, _, _ = res.update_series(g, "weight_gradient", "std", l)
            keep = shown_points(u, log)
            ax.plot(u[keep], v[keep], color=layer_color(l, view.max_depth), lw=1.5,
                    marker="o" if keep.sum() <= 30 else None, markersize=2.5)
            positive &= bool(keep.any() and np.nanmin(v[keep]) > 0)
            shown.add(l)
        ax.set_title(g.label, fontsize=10)
        finish_update_axis(ax, log)
    if positive and panels:
        log_axis(panels[0][1])  # the y axis is shared: every panel follows
    for ax in axes[:, 0]:
        ax.set_ylabel(r"std of $\partial C/\partial W_l$")
    finish_train_panels(fig, axes, title, budget, sorted(shown), view.max_depth)
    return fig


def figure_train_hist_end(res, gradient_axis):
    """Figure 4: activation histograms at each group's last evaluation point."""
    groups = res.groups()
    last = res.view([g.last for g in groups])
    ends = sorted({int(g.updates[-1]) for g in groups})
    if len(ends) > 1:  # set-ups trained for different budgets: each panel says how long
        for c, g in zip(last.configs, groups):
            c.label = f"{c.label} (update {g.updates[-1]})"
    when = f"after {ends[0]} updates" if len(ends) == 1 else "at the last evaluation point"
    return figure_hist(last, "activation", gradient_axis,
                       title=f"Activation histograms {when}, layers overlaid (Glorot & Bengio 2010, Fig. 4)",
                       budget=budget_text(res))


def figure_train_test_error(res, log):
    """Figure 11: the test error against updates, one line per group, band: +- standard error."""
    groups = res.groups()
    view = res.view([g.first for g in groups])
    title = "Test error during training (Glorot & Bengio 2010, Fig. 11)"
    budget = budget_text(res)
    width = 10.0
    fig, ax = plt.subplots(figsize=(width, 4.6 + train_title_height(width, budget)))
    finals = []
    for k, (g, c) in enumerate(zip(groups, view.configs)):
        PROGRESS.tick(k, len(groups))
        layer = output_layer(res, g)
        u, err, sd, n = res.update_series(g, "output", "test_error", layer)
        if not u.size:
            continue
        keep = shown_points(u, log)
        se = sd / np.sqrt(np.maximum(n, 1))
        style = dict(config_style(view, c, view.max_depth), marker=MARKERS[c.index % len(MARKERS)]
                     if keep.sum() <= 30 else None)
        line, = ax.plot(u[keep], 100 * err[keep], **style)
        ax.fill_between(u[keep], 100 * (err - se)[keep], 100 * (err + se)[keep], color=style["color"],
                        alpha=0.15, lw=0)
        finals.append((err[-1], line, f"{g.label}: {100 * err[-1]:.3g} %"))
    finish_update_axis(ax, log)
    ax.set_xlabel("SGD updates" + (" (log axis: update 0 not shown)" if log else ""))
    ax.set_ylabel("test error (%)")
    finals.sort(key=lambda x: -x[0])  # as the paper: from top to bottom in decreasing final error
    top = train_titles(fig, title, budget)
    fig.tight_layout(rect=(0, 0, 1, top))
    if finals:
        ax.legend([f[1] for f in finals], [f[2] for f in finals], title="final test error", fontsize=8,
                  title_fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        fig.tight_layout(rect=(0, 0, 1, top))
    return fig


def output_layer(res, group):
    """The layer of the `output` rows (L+1) of a group."""
    d = res.stats.get((group.first.id, "output", "test_error"), {})
    return max(d) if d else res.max_depth


class Table:
    """A table of the report, also written as figures/<csv_name>: caption, html_header and
    html_rows (text, escaped by the report; the first column names the row, with a swatch of
    colors[i] when colors is given; numeric: which columns are numbers), csv_header and csv_rows;
    after: the figure it follows in the report (else it comes after the figures)."""

    def __init__(self, name, csv_name, caption, html_header, html_rows, csv_header, csv_rows, colors=None,
                 numeric=(), after=None):
        self.name, self.csv_name, self.caption = name, csv_name, caption
        self.html_header, self.html_rows = html_header, html_rows
        self.csv_header, self.csv_rows = csv_header, csv_rows
        self.colors, self.numeric, self.after = colors, set(numeric), after


def paper_table1(c):
    """(paper's data set column, test error %) of Table 1 for this configuration, or (column, None)."""
    kind = (c.resolved.get("data") or {}).get("kind")
    net = c.resolved.get("network") or {}
    init = net.get("init")
    column = PAPER_DATA_SET.get(kind)
    if column is None or init not in NORMALIZED_INITS | {"standard"} or net.get("gain", 1.0) != 1.0:
        return column, None
    return column, PAPER_TABLE1[kind].get((net.get("activation"), init in NORMALIZED_INITS))


def table1(res):
    """Table 1: the final test error (%) per group +- standard error, beside the paper's."""
    groups = res.groups()
    view = res.view([g.first for g in groups])
    keys = view.sweep_keys
    html_rows, csv_rows, colors = [], [], []
    kinds = set()
    # With train.learning_rate swept, the paper's choice of the rate per set-up: for each setting of
    # the other keys, the rate whose final training NLL (over the last interval's minibatches, not
    # the held-out examples: choosing on the test error would flatter it) is lowest.
    chosen = set()
    if "train.learning_rate" in keys:
        best = {}
        for g in groups:
            u, nll, _, _ = res.update_series(g, "output", "train_nll", output_layer(res, g))
            if not u.size or not math.isfinite(nll[-1]):
                continue
            other = tuple(g.last.swept.get(k, "") for k in keys if k != "train.learning_rate")
            if other not in best or nll[-1] < best[other][0]:
                best[other] = (nll[-1], g.index)
        chosen = {index for _, index in best.values()}
    for g, c in zip(groups, view.configs):
        layer = output_layer(res, g)
        u, err, sd, n = res.update_series(g, "output", "test_error", layer)
        if not u.size:
            continue
        e, s, trials = 100 * err[-1], 100 * sd[-1] / math.sqrt(max(n[-1], 1)), n[-1]
        column, paper = paper_table1(g.last)
        kinds.add((g.last.resolved.get("data") or {}).get("kind"))
        mark = " ✓" if g.index in chosen else ""
        html_rows.append([g.label + mark, f"{int(u[-1])}",
                          f"{e:.2f} ± {s:.2f}" if math.isfinite(s) else f"{e:.2f}",
                          f"{trials:.0f}", f"{paper:.2f}" if paper is not None else "—",
                          column or "—"])
        csv_rows.append([g.label] + [g.last.swept.get(k, "") for k in keys] +
                        [g.last.id, int(u[-1]), f"{trials:.0f}", f"{e:.6g}", f"{s:.6g}" if math.isfinite(s) else "",
                         column or "", f"{paper:.2f}" if paper is not None else ""] +
                        ([1 if g.index in chosen else 0] if "train.learning_rate" in keys else []))
        colors.append(view.colors[g.index])
    notes = []
    if "idx" in kinds:
        fashion = res.examples is not None and "fashion" in str(res.examples.get("name", "")).lower()
        notes.append("The paper's MNIST column is beside our IDX (MNIST-format) data set" +
                     (", which is Fashion-MNIST here, a harder data set: the numbers are not comparable."
                      if fashion else "; ours may be another set in that format (e.g. Fashion-MNIST)."))
    if "train.learning_rate" in keys:
        notes.append("✓ (CSV: learning_rate_chosen = 1) marks, for each setting of the other swept keys, the "
                     "learning rate with the lowest final training NLL (the paper chose it on validation "
                     "error; the held-out examples here are the test set, so the choice does not look at them).")
    caption = ("Final test error (%) per set-up at its last evaluation point, mean over trials ± standard "
               "error (the standard deviation across trials / √trials), on the held-out evaluation examples; "
               "beside it the paper's Table 1 (Glorot & Bengio 2010: 5 hidden layers of 1000 units trained "
               "for 5 million updates; “N” = normalized init, our xavier_uniform; only where the data set, "
               "activation and init match). " + budget_text(res) + (" " + " ".join(notes) if notes else ""))
    return Table("train_table1", "table1.csv", caption,
                 ["set-up", "updates", "test error (%) ± s.e.", "trials", "paper (%)", "paper's data set"],
                 html_rows,
                 ["group"] + keys + ["config_id", "update", "trials", "test_error_percent",
                                     "standard_error_percent", "paper_data_set", "paper_test_error_percent"] +
                 (["learning_rate_chosen"] if "train.learning_rate" in keys else []),
                 csv_rows, colors, numeric=(1, 2, 3, 4), after="train_fig11_test_error")


def table_plan(res):
    """[Table] of the report in order (training runs: train_table1), each also written as
    figures/<csv_name>."""
    if not res.training or not res.has("output", "test_error"):
        return []
    return [table1(res)]


def training_plan(res, gradient_axis):
    """figure_plan of a training run: the train_* figures, then the at-initialization figures of
    the groups' first evaluation points."""
    groups = res.groups()
    log = train_log_axis(groups)
    budget = budget_text(res)
    axis = " (log update axis: update 0 not shown)" if log else ""
    first = sorted({int(g.updates[0]) for g in groups})
    init = res.view([g.first for g in groups])
    plan = []
    if res.has("activation", "mean"):
        plan.append(("train_fig2_activation_mean_std",
                     "As the paper's Figure 2: the mean of the activations of each hidden layer against SGD "
                     "updates, band: ± their standard deviation (the per-trial std over units and evaluation "
                     f"examples, averaged over trials); one panel per set-up{axis}. {budget}",
                     lambda: figure_train_activation(res, log)))
    if res.has("activation", "p98"):
        plan.append(("train_fig3_p98_std",
                     "As the paper's Figure 3: the 98th percentile (solid) and the standard deviation (dashed) "
                     f"of the activations of each hidden layer against SGD updates; one panel per set-up{axis}. "
                     f"{budget}", lambda: figure_train_p98(res, log)))
    if "activation" in init.hist_quantities and all(res.hist.get((g.last.id, "activation")) for g in groups):
        plan.append(("train_fig4_hist_end",
                     "As the paper's Figure 4: normalized histograms of the activations at the last evaluation "
                     "point, pooled over trials and the held-out evaluation examples, layers overlaid; one "
                     f"panel per set-up. {budget}", lambda: figure_train_hist_end(res, gradient_axis)))
    if res.has("weight_gradient", "std"):
        plan.append(("train_fig9_weight_gradient_std",
                     "As the paper's Figure 9: the standard deviation of the weight gradients ∂C/∂W of each "
                     "hidden layer against SGD updates (per trial, averaged over trials; shared y axis); one "
                     f"panel per set-up{axis}. {budget}", lambda: figure_train_weight_gradient(res, log)))
    if res.has("output", "test_error"):
        plan.append(("train_fig11_test_error",
                     "As the paper's Figure 11: the test error on the held-out evaluation examples against SGD "
                     "updates, one line per set-up (legend ordered by decreasing final error, as the paper's); "
                     f"band: ± the standard error of the mean over trials (std across trials / √trials){axis}. "
                     f"{budget}", lambda: figure_train_test_error(res, log)))
    when = (f"At initialization (update {first[0]}, before training): " if first == [0] else
            f"At the first evaluation point (update {'/'.join(map(str, first))}): ")
    at_init = _plan(init, gradient_axis)
    return ([p for p in at_init if p[0] == "data_examples"] + plan +
            [(name, when + caption, draw) for name, caption, draw in at_init if name != "data_examples"])


def figure_plan(res, gradient_axis):
    """[(name, caption, draw)] in report order; draw() returns the figure (drawn one at a time,
    so a sweep of many configurations holds one large figure in memory, not all of them).
    Training runs: training_plan()."""
    if res.training:
        return training_plan(res, gradient_axis)
    return _plan(res, gradient_axis)


def _plan(res, gradient_axis):
    plan = []
    if res.examples is not None:
        plan.append(("data_examples", f"The data: the first {len(res.examples['pixels'])} examples of "
                     f"{res.examples['name']} that every trial saw, each with its label and class.",
                     lambda: figure_examples(res)))
    for q in res.hist_quantities:
        axis = resolved_gradient_axis(res, q, gradient_axis)
        what = ("density against the bin centre, linear axis centred on 0" if axis == "linear" else
                "|value| on a log axis, both signs folded" if q in GRADIENT_QUANTITIES and axis == "log" else
                "symmetric log axis" if q in GRADIENT_QUANTITIES else
                "density against the bin centre")
        plan.append((f"hist_{q}", f"Per-layer normalized histograms of the {q.replace('_', ' ')} "
                     f"pooled over trials ({what}), one panel per configuration.",
                     lambda q=q: figure_hist(res, q, gradient_axis)))
    for q in res.quantities:
        plan.append((f"depth_{q}", f"The {q.replace('_', ' ')} against depth: mean with a ±std band, "
                     "root mean square (mean-field theory dashed where theory.csv has it), and the "
                     "98th percentile; statistics per trial averaged over trials.",
                     lambda q=q: figure_depth(res, q)))
    if res.has("activation", "saturation"):
        plan.append(("saturation", "Fraction of saturated activations per layer (error bars: "
                     "standard deviation across trials).", lambda: figure_saturation(res)))
    if res.has("activation", "var_ratio"):
        plan.append(("var_ratio", "Var[hₗ]/Var[hₗ₋₁] per layer (error bars: standard deviation "
                     "across trials); 1 keeps the signal level.", lambda: figure_var_ratio(res)))
    if res.has("preactivation", "pair_correlation") or \
            any(res.theory_series(c, col)[0].size for c in res.configs for col in ("chi1", "c_pre")):
        plan.append(("meanfield", "χ₁ from theory.csv, and the c-map: the measured correlation of the "
                     "pre-activations of paired inputs (data.pair_correlation; error bars: standard "
                     "deviation across trials) with the mean-field c_pre dashed.", lambda: figure_meanfield(res)))
    return plan


def make_figures(res, gradient_axis):
    """[(name, caption, figure)] in report order (every figure drawn at once)."""
    return [(name, caption, draw()) for name, caption, draw in figure_plan(res, gradient_axis)]
