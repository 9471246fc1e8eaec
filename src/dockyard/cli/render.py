"""Rendering command results: rich tables on a TTY, plain text in pipes, JSON with `--output json`."""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


class Output(StrEnum):
    """How a command prints its result."""

    TABLE = "table"
    JSON = "json"


def to_jsonable(value: object) -> object:
    """Dataclasses, digests, references, platforms, paths, enums and datetimes to plain JSON values (deterministic)."""
    from dockyard.oci.digest import Digest  # here, not at the top: `dockyard version` needs none of oci
    from dockyard.oci.platform import Platform
    from dockyard.oci.reference import Reference

    if isinstance(value, (Digest, Path)):
        return str(value)
    if isinstance(value, Reference):  # names print as docker shows them (`busybox:1.0`), not as their parts
        return value.familiar
    if isinstance(value, Platform):  # `linux/arm64/v8` everywhere, as `images` and `inspect` show it
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def print_json(value: object) -> None:
    json.dump(to_jsonable(value), sys.stdout, indent=2, sort_keys=False, ensure_ascii=False)
    sys.stdout.write("\n")


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def print_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A table: rich on a TTY, tab-free aligned plain text in pipes (stable for scripts)."""
    cells = [[str(c) for c in row] for row in rows]
    if sys.stdout.isatty():
        from rich.table import Table

        table = Table(box=None, pad_edge=False, header_style="bold")
        for col in columns:
            table.add_column(col)
        for row in cells:
            table.add_row(*row)
        console().print(table)
        return
    widths = [max([len(col), *(len(r[i]) for r in cells)]) for i, col in enumerate(columns)]
    for row in [list(columns), *cells]:
        print("   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def info(message: str) -> None:
    """A progress/status line on stderr (keeps stdout clean for data)."""
    print(message, file=sys.stderr)


def human_size(n: int) -> str:
    """Sizes as docker prints them (decimal units)."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.3g}{unit}"
        size /= 1000
    return f"{n}B"
