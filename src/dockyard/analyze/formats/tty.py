"""The human summary of an analysis: image, layers, both kinds of metrics, the base/app split and findings with
their fixes, as rich tables (plain text in pipes)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from dockyard.analyze.model import Report, Severity
from dockyard.analyze.units import go_bytes

if TYPE_CHECKING:
    from rich.console import Console

_STYLE = {Severity.HIGH: "bold red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan", Severity.INFO: "dim"}
#: Paths shown per finding.
SHOWN = 5


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def _short(command: str, width: int = 60) -> str:
    text = " ".join(command.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_summary(report: Report, console: Console) -> None:
    """Print the summary of `report` on `console`."""
    from rich.markup import escape
    from rich.table import Table

    d, r, b = report.dive, report.reclaim, report.base
    console.print(f"[bold]{escape(report.reference)}[/]  {report.digest}  {report.platform}")
    console.print(f"{len(report.layers)} layers, {go_bytes(report.size)} of files "
                  f"({go_bytes(report.compressed_size)} compressed)")
    table = Table(box=None, pad_edge=False, header_style="bold", title_justify="left")
    for col, justify in (("#", "right"), ("size", "right"), ("compressed", "right"), ("added", "right"),
                         ("changed", "right"), ("removed", "right"), ("reclaimable", "right"), ("command", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for layer in report.layers:
        table.add_row(f"{layer.index}{'*' if layer.base else ''}", go_bytes(layer.size),
                      go_bytes(layer.compressed_size), f"{layer.added_files}",
                      f"{layer.modified_files}", f"{layer.removed_files}",
                      go_bytes(layer.reclaimable_bytes) if layer.reclaimable_bytes else "-",
                      escape(_short(layer.command)))
    console.print(table)
    if b.layers:
        console.print("[dim]* base image layer[/]")
    console.print()
    console.print("[bold]dive-compatible[/]  efficiency "
                  f"{d.efficiency * 100:.4f} %, wasted {go_bytes(d.wasted_bytes)} ({d.wasted_bytes} bytes, counting "
                  f"every copy), user wasted {_go_pct(d.wasted_user_percent)}")
    console.print(f"[bold]reclaimable[/]      {go_bytes(r.reclaimable_bytes)} ({r.reclaimable_bytes} bytes) of "
                  f"{go_bytes(r.added_bytes)} added: {_pct(r.reclaimable_bytes, r.added_bytes)} "
                  "(overwritten and deleted files, one copy kept)")
    if b.layers:
        console.print(f"[bold]base / app[/]       base {b.base_name or b.base_digest or ''} ({b.layers} layers, "
                      f"{go_bytes(b.base_bytes)}, {go_bytes(b.base_reclaimable)} reclaimable); app "
                      f"{go_bytes(b.app_bytes)}, {go_bytes(b.app_reclaimable)} reclaimable ({b.source})")
    elif b.note:
        console.print(f"[bold]base / app[/]       unknown: {escape(b.note)}")
    if b.layers and b.note:
        console.print(f"                 [dim]{escape(b.note)}[/]")
    if not report.findings:
        return
    console.print()
    console.print("[bold]Findings[/]")
    for f in report.findings:
        size = f"  {go_bytes(f.bytes)}" if f.bytes else ""
        console.print(f"[{_STYLE[f.severity]}]{f.severity:>6}[/]  {escape(f.title)} ({f.count}){size}", highlight=False)
        for item in f.items[:SHOWN]:
            detail = f"  {escape(item.detail)}" if item.detail else ""
            console.print(f"          /{escape(item.path)}  [dim]layer {item.layer}, {go_bytes(item.bytes)}{detail}[/]",
                          highlight=False, markup=True)
        if f.count > SHOWN:
            console.print(f"          [dim]... and {f.count - SHOWN} more[/]")
        console.print(f"          [green]fix:[/] {escape(f.fix)}", highlight=False)


def _go_pct(x: float) -> str:
    if math.isnan(x):
        return "n/a (no user layers)"
    if x == float("inf"):
        return "inf"
    return f"{x * 100:.4f} %"
