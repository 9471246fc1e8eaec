"""`--html FILE`: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) with the metrics, a
layer-size chart (kept vs reclaimable bytes per layer), the layers and the findings with their fixes."""

from __future__ import annotations

import math
from html import escape

from dockyard.analyze.ci import Evaluation, Status
from dockyard.analyze.model import Report
from dockyard.analyze.units import go_bytes

_CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td,th{padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr:nth-child(even) td{background:#fafafa}td.n{text-align:right;white-space:nowrap}
code{font:12px ui-monospace,monospace;word-break:break-all}.high{color:#b00020;font-weight:bold}
.medium{color:#a15c00}.low{color:#0a5d8c}.info{color:#666}.fix{color:#1b5e20}.PASS{color:#1b5e20}
.FAIL,.MISCONFIGURED{color:#b00020;font-weight:bold}.SKIP{color:#666}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dt{font-weight:bold}
svg text{font:11px system-ui,sans-serif}"""
_BAR_H = 18


def _chart(report: Report) -> str:
    """A horizontal bar per layer: bytes still visible (blue) and bytes reclaimable (red)."""
    layers = report.layers
    top = max((layer.size for layer in layers), default=0) or 1
    width, left = 760, 60
    rows = []
    for i, layer in enumerate(layers):
        y = 10 + i * (_BAR_H + 6)
        kept = max(layer.size - layer.reclaimable_bytes, 0)
        w_kept = kept / top * width
        w_dead = layer.reclaimable_bytes / top * width
        title = escape(f"layer {layer.index}: {go_bytes(layer.size)}, {go_bytes(layer.reclaimable_bytes)} "
                       f"reclaimable - {layer.command[:200]}")
        rows.append(
            f'<g><title>{title}</title><text x="{left - 6}" y="{y + 13}" text-anchor="end">{layer.index}'
            f'{"*" if layer.base else ""}</text>'
            f'<rect x="{left}" y="{y}" width="{w_kept:.1f}" height="{_BAR_H}" fill="#4a78b5"/>'
            f'<rect x="{left + w_kept:.1f}" y="{y}" width="{w_dead:.1f}" height="{_BAR_H}" fill="#d1495b"/>'
            f'<text x="{left + w_kept + w_dead + 6:.1f}" y="{y + 13}">{escape(go_bytes(layer.size))}</text></g>')
    height = 20 + len(layers) * (_BAR_H + 6) + 20
    legend_y = height - 8
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" role="img" '
            f'aria-label="layer sizes">{"".join(rows)}'
            f'<rect x="{left}" y="{legend_y - 9}" width="10" height="10" fill="#4a78b5"/>'
            f'<text x="{left + 14}" y="{legend_y}">kept in the final filesystem</text>'
            f'<rect x="{left + 200}" y="{legend_y - 9}" width="10" height="10" fill="#d1495b"/>'
            f'<text x="{left + 214}" y="{legend_y}">reclaimable (overwritten or deleted later)</text></svg>')


def render_html(report: Report, evaluation: Evaluation | None = None) -> str:
    """The report as one HTML document."""
    d, r, b = report.dive, report.reclaim, report.base
    pct = "n/a" if math.isnan(d.wasted_user_percent) else f"{d.wasted_user_percent * 100:.2f} %"
    parts = [f"<!doctype html><html lang=en><meta charset=utf-8><title>dockyard analyze: {escape(report.reference)}"
             f"</title><style>{_CSS}</style><h1>{escape(report.reference)}</h1>",
             f"<dl><dt>digest</dt><dd><code>{report.digest}</code></dd><dt>platform</dt><dd>{escape(report.platform)}"
             f"</dd><dt>layers</dt><dd>{len(report.layers)}</dd><dt>size</dt><dd>{go_bytes(report.size)} of files, "
             f"{go_bytes(report.compressed_size)} compressed</dd>"
             f"<dt>reclaimable</dt><dd>{go_bytes(r.reclaimable_bytes)} ({r.reclaimable_bytes} bytes) of "
             f"{go_bytes(r.added_bytes)} added</dd>"
             f"<dt>dive efficiency</dt><dd>{d.efficiency * 100:.4f} %</dd><dt>dive wasted</dt>"
             f"<dd>{go_bytes(d.wasted_bytes)} ({d.wasted_bytes} bytes; counts every copy), user wasted {pct}</dd>"
             f"<dt>base / app</dt><dd>{_base(report)}</dd></dl>"]
    if evaluation is not None:
        parts.append("<h2>CI gate</h2><table>" + "".join(
            f'<tr><td class="{x.status}">{x.status}</td><td>{escape(x.rule)}</td><td>{escape(x.message)}</td></tr>'
            for x in evaluation.results) + "</table>")
        verdict = Status.PASS if evaluation.passed else Status.FAIL
        parts.append(f'<p class="{verdict}">Result: {verdict}</p>')
    parts.append(f"<h2>Layer sizes</h2>{_chart(report)}")
    parts.append("<h2>Layers</h2><table><tr><th>#</th><th>size</th><th>compressed</th><th>added</th>"
                 "<th>changed</th><th>removed</th><th>reclaimable</th><th>command</th></tr>")
    for layer in report.layers:
        parts.append(
            f'<tr><td class=n>{layer.index}{"*" if layer.base else ""}</td><td class=n>{go_bytes(layer.size)}</td>'
            f"<td class=n>{go_bytes(layer.compressed_size)}</td><td class=n>{layer.added_files}</td>"
            f"<td class=n>{layer.modified_files}</td><td class=n>{layer.removed_files}</td>"
            f"<td class=n>{go_bytes(layer.reclaimable_bytes)}</td><td><code>{escape(layer.command)}</code></td></tr>")
    parts.append("</table>")
    if report.findings:
        parts.append("<h2>Findings</h2>")
    for f in report.findings:
        size = f" &middot; {go_bytes(f.bytes)}" if f.bytes else ""
        parts.append(f'<h3><span class="{f.severity}">{f.severity}</span> {escape(f.title)} ({f.count}){size}</h3>'
                     f'<p class=fix>fix: {escape(f.fix)}</p><table><tr><th>path</th><th>layer</th><th>bytes</th>'
                     "<th>detail</th></tr>")
        parts.extend(f"<tr><td><code>/{escape(i.path)}</code></td><td class=n>{i.layer}</td>"
                     f"<td class=n>{go_bytes(i.bytes)}</td><td>{escape(i.detail)}</td></tr>" for i in f.items)
        parts.append("</table>")
    if b.note:
        parts.append(f"<p class=info>{escape(b.note)}</p>")
    parts.append("<p class=info>Generated by dockyard analyze.</p></html>\n")
    return "".join(parts)


def _base(report: Report) -> str:
    b = report.base
    if not b.layers:
        return "unknown (no base image information)"
    return escape(f"base {b.base_name or b.base_digest or ''}: {b.layers} layers, {go_bytes(b.base_bytes)} "
                  f"({go_bytes(b.base_reclaimable)} reclaimable); app {go_bytes(b.app_bytes)} "
                  f"({go_bytes(b.app_reclaimable)} reclaimable), found by {b.source}")
