"""initscope.figures — the figures `initscope plot` draws (matplotlib), from a checked folder.

    from initscope import figures, results
    folder = results.load_folder("results/fig6_quick")
    for name, caption, fig in figures.make_figures(folder, "auto"): ...

(or initscope.load(dir).figures()). figure_plan() lists them in report order with a function
that draws each one, so that a sweep of many configurations holds one large figure at a time:

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


def figure_hist(res, quantity, gradient_axis):
    gradient_axis = resolved_gradient_axis(res, quantity, gradient_axis)
    configs = [c for c in res.configs if res.hist.get((c.id, quantity))]
    rows, cols, cells = panel_grid(res, configs)
    panel_w, panel_h = (8.0, 2.9) if cols == 1 else (3.7, 2.7)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_w * cols + 1.3, panel_h * rows + 0.9),
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
    fig.suptitle(f"Normalized histograms: {QUANTITY_LABEL.get(quantity, quantity)}", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1 - 1.1 / fig.get_figwidth(), 0.97))
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


def figure_plan(res, gradient_axis):
    """[(name, caption, draw)] in report order; draw() returns the figure (drawn one at a time,
    so a sweep of many configurations holds one large figure in memory, not all of them)."""
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
