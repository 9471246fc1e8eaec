"""Byte counts for humans, the way dive prints them (go-humanize, decimal units)."""

from __future__ import annotations

import math

_SIZES = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def go_bytes(n: int) -> str:
    """go-humanize's `Bytes`: `6.4 kB`, `13 kB`, `131 B`."""
    if n < 10:
        return f"{n} B"
    e = min(math.floor(math.log(n) / math.log(1000)), len(_SIZES) - 1)
    value = math.floor(n / 1000**e * 10 + 0.5) / 10
    return f"{value:.0f} {_SIZES[e]}" if value >= 10 else f"{value:.1f} {_SIZES[e]}"
