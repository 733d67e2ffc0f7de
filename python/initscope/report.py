"""initscope.report — the self-contained HTML report of a results folder (`initscope plot`).

write_report(folder, figures, path, tables) writes one page: the run's facts (version, build,
source config, command line, device, times), the configurations (what their resolved configs
share once, then each one's own values), every figure embedded as a PNG data URI with its
caption, the tables of a training run (figures.table_plan: train_table1), and per-layer tables
(of a training run: the first and last evaluation point of each set-up); no external resources
(it opens without a server).
"""
import base64
import html
import math
import os

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.sd { color: #888; font-size: 0.85em; } code, pre { font-size: 0.85em; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; margin: 0; }
pre.cfg { white-space: pre-wrap; overflow-wrap: anywhere; padding: 0.3em 0.5em; }
td.label { white-space: nowrap; } nav a { margin-right: 1em; white-space: nowrap; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; } .swatch { display: inline-block; width: 0.9em;
height: 0.9em; margin-right: 0.4em; vertical-align: -0.1em; border-radius: 2px; }
"""

LOADED_SCRIPT = """
window.addEventListener("load", function () {
  var images = document.getElementsByTagName("img"), loaded = 0;
  for (var i = 0; i < images.length; i++) if (images[i].naturalWidth > 0) loaded++;
  document.body.dataset.imagesLoaded = loaded + "/" + images.length;
});
"""


def esc(x):
    return html.escape(str(x))


def compact_value(v):
    if isinstance(v, list):
        if v and len(v) > 3 and all(x == v[0] for x in v):
            return f"[{compact_value(v[0])} ×{len(v)}]"
        return "[" + ", ".join(compact_value(x) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def flatten(resolved, prefix=""):
    """{'network': {'init': 'standard'}} -> {'network.init': 'standard'} (values compacted)."""
    out = {}
    for k, v in resolved.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = compact_value(v)
    return out


def compact_config(flat):
    """'network: input=1024 hidden=[1000 ×5] ...', one line per section."""
    sections = {}
    for key, v in flat.items():
        section, _, name = key.rpartition(".")
        sections.setdefault(section, []).append(f"{name}={v}")
    return "\n".join((f"{s}: " if s else "") + "  ".join(items) for s, items in sections.items())


def fmt(v):
    return "" if v is None or not math.isfinite(v) else f"{v:.4g}"


def layer_table(res, c):
    columns = [("activation", "mean", "activation mean"), ("activation", "std", "activation std"),
               ("activation", "p98", "activation p98"), ("activation", "saturation", "saturation"),
               ("activation", "var_ratio", "var ratio"),
               ("preactivation", "pair_correlation", "pair correlation of s"),
               ("backprop_gradient", "std", "std of ∂C/∂s"), ("weight_gradient", "std", "std of ∂C/∂W"),
               ("jacobian_singular_value", "mean", "mean singular value of J")]
    columns = [col for col in columns if res.stats.get((c.id, col[0], col[1]))]
    layers = sorted({l for q, s, _ in columns for l in res.stats[(c.id, q, s)]})
    out = ["<table><tr><th>layer</th>" + "".join(f"<th>{esc(t)}</th>" for _, _, t in columns) + "</tr>"]
    for l in layers:
        cells = []
        for q, s, _ in columns:
            v, sd = res.stats[(c.id, q, s)].get(l, (math.nan, math.nan))
            cells.append(f'<td class="num">{fmt(v)}' +
                         (f' <span class="sd">± {sd:.2g}</span>' if math.isfinite(sd) else "") + "</td>")
        out.append(f"<tr><td>{l}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    table = "\n".join(out)
    if len(layers) > 24:
        table = f"<details><summary>{len(layers)} layers</summary>{table}</details>"
    return table


def color_hex(rgba):
    return "#%02x%02x%02x" % tuple(int(round(255 * x)) for x in rgba[:3])


def find_source(path):
    """The source config's text if it can be found (relative to the cwd, or to the source tree
    when this package is the source tree's python/initscope)."""
    if not path:
        return None
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for p in (path, os.path.join(here, path)):
        if os.path.isfile(p):
            try:
                with open(p) as f:
                    return f.read()
            except OSError:
                return None
    return None


def html_table(t):
    """A figures.Table as a figure-like block: the table, then its caption."""
    rows = ["<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in t.html_header) + "</tr>"]
    for i, r in enumerate(t.html_rows):
        swatch = (f'<span class="swatch" style="background:{color_hex(t.colors[i])}"></span>'
                  if t.colors else "")
        cells = [f'<td class="label">{swatch}{esc(r[0])}</td>'] + [
            f'<td class="num">{esc(x)}</td>' if j in t.numeric else f"<td>{esc(x)}</td>"
            for j, x in enumerate(r) if j > 0]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    rows.append("</table>")
    return (f'<figure id="{esc(t.name)}">{"".join(rows)}'
            f"<figcaption><b>{esc(t.name)}</b> (also figures/{esc(t.csv_name)}) — {esc(t.caption)}"
            "</figcaption></figure>")


def training_colors(res):
    """A training run's configurations coloured by their group (set-up), as in the train_* figures."""
    from .figures import config_colors
    groups = res.groups()
    colors = config_colors(len(groups))
    return {c.id: colors[g.index] for g in groups for c in g.configs}


def write_report(res, figures, path, tables=()):
    m = res.manifest
    ini = m.get("initscope", {})
    title = (res.configs[0].resolved.get("name") if res.configs and res.configs[0].resolved else None) \
        or os.path.basename(os.path.abspath(res.folder))
    p = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         f"<title>initscope — {esc(title)}</title><style>{CSS}</style></head><body>",
         f"<h1>initscope — {esc(title)}</h1>"]
    meta = [("initscope", f"{ini.get('version', '?')} (commit {ini.get('git_commit', '?')})"),
            ("build", ", ".join(f"{k}: {ini[k]}" for k in ("build_type", "compiler", "blas", "cuda") if k in ini)),
            ("source config", m.get("source", "")), ("command line", m.get("command_line", "")),
            ("device", f"{m.get('device', '')} — {m.get('device_description', '')}"),
            ("started (UTC)", m.get("started_utc", "")),
            ("total time", f"{m['seconds']:.3g} s" if isinstance(m.get("seconds"), (int, float)) else ""),
            ("results folder", os.path.abspath(res.folder)),
            ("theory.csv", "present" if res.theory else "absent")]
    p.append("<table>" + "".join(f"<tr><th>{esc(k)}</th><td><code>{esc(v)}</code></td></tr>"
                                 for k, v in meta if v) + "</table>")
    source = find_source(m.get("source"))
    if source:
        p.append(f"<details><summary>source config</summary><pre>{esc(source)}</pre></details>")

    # The resolved config: what all configurations share once, then each one's own values.
    flat = [flatten(c.resolved) for c in res.configs]
    shared = {k: v for k, v in flat[0].items() if all(f.get(k) == v for f in flat)} if flat else {}
    p.append("<h2>Configurations</h2>")
    if shared:
        p.append("<p>Resolved config shared by every configuration:</p>"
                 f'<pre class="cfg">{esc(compact_config(shared))}</pre>')
    p.append("<table><tr><th>configuration</th><th>config_id</th>"
             "<th>seconds</th><th>trials/s</th><th>its own resolved values</th></tr>")
    swatches = training_colors(res) if res.training else {c.id: res.colors[c.index] for c in res.configs}
    for c, f in zip(res.configs, flat):
        own = {k: v for k, v in f.items() if k not in shared}
        secs = f"{c.seconds:.3g}" if isinstance(c.seconds, (int, float)) else ""
        tps = f"{c.trials_per_second:.3g}" if isinstance(c.trials_per_second, (int, float)) else ""
        p.append(f'<tr><td class="label"><span class="swatch" style="background:{color_hex(swatches[c.id])}">'
                 f"</span>{esc(c.label)}</td><td><code>{esc(c.id)}</code></td><td class=\"num\">{secs}</td>"
                 f'<td class="num">{tps}</td><td><pre class="cfg">{esc(compact_config(own))}</pre></td></tr>')
    p.append("</table>")

    # Figures in order, each table after the figure it follows (else after the figures).
    items = [(name, (caption, png)) for name, caption, png in figures]
    for t in tables:
        at = next((i + 1 for i, (name, _) in enumerate(items) if name == t.after), len(items))
        items.insert(at, (t.name, t))
    p.append("<h2>Figures</h2><nav>" + " ".join(f'<a href="#{esc(n)}">{esc(n)}</a>' for n, _ in items) +
             ' <a href="#tables">per-layer tables</a></nav>')
    for name, item in items:
        if not isinstance(item, tuple):
            p.append(html_table(item))
            continue
        caption, png = item
        data = base64.b64encode(png).decode("ascii")
        p.append(f'<figure id="{esc(name)}"><img alt="{esc(name)}" src="data:image/png;base64,{data}">'
                 f"<figcaption><b>{esc(name)}</b> — {esc(caption)}</figcaption></figure>")

    p.append('<h2 id="tables">Per-layer statistics</h2><p>Mean over trials of the per-trial statistic '
             '<span class="sd">± standard deviation across trials</span>.</p>')
    shown = res.configs
    if res.training:  # every evaluation point is in stats.csv; the first and last of each set-up here
        p.append("<p>Training run: the first and the last evaluation point of each set-up (every point "
                 "is in stats.csv).</p>")
        shown = [c for g in res.groups() for c in dict.fromkeys([g.first, g.last])]
    for c in shown:
        p.append(f"<h3>{esc(c.label)} <code>{esc(c.id)}</code></h3>{layer_table(res, c)}")
    p.append(f"<script>{LOADED_SCRIPT}</script></body></html>")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(p) + "\n")
    os.replace(tmp, path)

