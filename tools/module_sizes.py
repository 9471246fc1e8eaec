"""Fail when a source module is over 600 lines (house rule 5); report the median and anything over 400."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

LIMIT = 600
SMELL = 400


def main(root: str) -> int:
    sizes = {p: sum(1 for _ in p.open(encoding="utf-8")) for p in sorted(Path(root).rglob("*.py"))}
    over = {p: n for p, n in sizes.items() if n > LIMIT}
    smells = {p: n for p, n in sizes.items() if SMELL < n <= LIMIT}
    for p, n in smells.items():
        print(f"note: {p} has {n} lines (over {SMELL} is a smell)")
    for p, n in over.items():
        print(f"error: {p} has {n} lines (limit {LIMIT})")
    counted = [n for n in sizes.values() if n > 10]
    median = statistics.median(counted) if counted else 0
    print(f"{len(sizes)} modules, median {median:.0f} lines, {len(over)} over {LIMIT}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "src/dockyard"))
