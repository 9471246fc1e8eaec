"""The final filesystem in one walk: which file copies it still shows, and what the findings look for in it
(setuid and world-writable modes, bloat patterns, the largest files).

One pass over tens of thousands of paths costs less than one per question; paths are only built for directories
(a file's path is its entry's path) and most files cost a few attribute tests.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from dockyard.analyze.apply import Merged, Node
from dockyard.analyze.model import FindingItem
from dockyard.analyze.patterns import Classifier, first_match
from dockyard.layers.tarformat import EntryType

_FILE, _SYMLINK = EntryType.FILE, EntryType.SYMLINK


@dataclass(frozen=True, slots=True)
class Final:
    """What the final filesystem shows."""

    live: bytearray
    """Per copy of `Merged.copies`: 1 when some final path shows it."""
    setuid: list[FindingItem]
    writable: list[FindingItem]
    """World-writable files and directories (sticky directories excepted)."""
    bloat: dict[str, list[tuple[str, int, int]]]
    """Pattern name -> the regular files under it: (path, layer, bytes)."""
    largest: list[FindingItem]
    """The largest regular files, largest first (in walk order among equal sizes, as a stable sort gives)."""


def final_view(merged: Merged, *, largest: int = 10) -> Final:
    """Walk the merged filesystem once (parents before children, as `Merged.walk`)."""
    live = bytearray(len(merged.copies))
    setuid: list[FindingItem] = []
    writable: list[FindingItem] = []
    bloat: dict[str, list[tuple[str, int, int]]] = {}
    top: list[tuple[int, int, str, int]] = []  # min-heap of (size, -arrival, path, layer)
    floor = 0 if largest > 0 else 1 << 62  # a file must be larger than this to enter `top`
    arrivals = 0
    rules_for = Classifier().rules_for
    todo: list[tuple[str, Node]] = [("", merged.root)]
    while todo:
        prefix, node = todo.pop()
        rules = rules_for(prefix)
        for name, child in node.children.items():
            if child.children is not None:
                todo.append((f"{prefix}/{name}" if prefix else name, child))
                d = child.entry
                if d is not None and d.mode & 0o002 and not d.mode & 0o1000:
                    writable.append(FindingItem(d.path, child.layer, d.size, f"{d.type} {d.mode:04o}"))
                continue
            e = child.entry
            if child.copy >= 0:
                live[child.copy] = 1
            if e.mode & 0o6002 and e.type is not _SYMLINK:
                _permissions(e.path, child.layer, e.type, e.mode, e.size, setuid, writable)
            if rules and e.type is _FILE:
                pattern = first_match(rules, name)
                if pattern is not None:
                    bloat.setdefault(pattern.name, []).append((e.path, child.layer, e.size))
            if e.size > floor and e.type is _FILE:
                arrivals += 1
                item = (e.size, -arrivals, e.path, child.layer)
                if len(top) < largest:
                    heapq.heappush(top, item)
                else:
                    heapq.heapreplace(top, item)
                if len(top) == largest:
                    floor = top[0][0]
    ranked = sorted(top, key=lambda t: (-t[0], -t[1]))
    return Final(live, setuid, writable, bloat, [FindingItem(path, layer, size) for size, _, path, layer in ranked])


def _permissions(path: str, layer: int, kind: EntryType, mode: int, size: int, setuid: list[FindingItem],
                 writable: list[FindingItem]) -> None:
    if mode & 0o6000 and kind is _FILE:
        bits = "+".join(name for bit, name in ((0o4000, "setuid"), (0o2000, "setgid")) if mode & bit)
        setuid.append(FindingItem(path, layer, size, f"{bits} {mode:04o}"))
    if mode & 0o002:
        writable.append(FindingItem(path, layer, size, f"{kind} {mode:04o}"))
