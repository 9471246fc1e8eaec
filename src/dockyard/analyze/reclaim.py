"""Reclaimable bytes from the merged filesystem: every file copy no final path refers to, per path and layer."""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.analyze.apply import Merged, Node
from dockyard.analyze.model import Reclaim, WastedPath
from dockyard.layers.tarformat import EntryType, TarEntry


@dataclass(frozen=True, slots=True)
class Visible:
    """The final filesystem: every path with its node, and the copies some path still shows."""

    paths: list[tuple[str, Node]]
    live: set[int]


def visible(merged: Merged) -> Visible:
    """Walk the merged filesystem once."""
    paths = list(merged.walk())
    live = {node.copy for _, node in paths if node.copy >= 0}
    return Visible(paths, live)


def reclaim(merged: Merged, final: Visible, layers: int) -> tuple[Reclaim, list[int]]:
    """Reclaimable bytes overall and per path, and per layer (a list aligned with the layers)."""
    per_layer = [0] * layers
    added = 0
    dead: dict[str, list[tuple[int, TarEntry]]] = {}  # path -> its dead copies (layer, entry), oldest first
    live = final.live
    for i, (layer, entry) in enumerate(merged.copies):
        added += entry.size
        if i not in live:
            per_layer[layer] += entry.size
            dead.setdefault(entry.path, []).append((layer, entry))
    shown = sum(merged.copies[i][1].size for i in live)
    paths = []
    index = dict(final.paths) if dead else {}
    for path, copies in dead.items():
        node = index.get(path)
        now = node.entry if node is not None and node.children is None else None
        older = copies[-1][1]
        metadata_only = bool(now is not None and now.type is EntryType.FILE and now.size == older.size and (
            now.mode, now.uid, now.gid) != (older.mode, older.uid, older.gid))
        paths.append(WastedPath(
            path, sum(e.size for _, e in copies), len(copies), tuple(lyr for lyr, _ in copies),
            "overwritten" if now is not None else "deleted",
            node.layer if now is not None and node is not None else None, metadata_only))
    paths.sort(key=lambda w: (-w.bytes, w.path))
    return Reclaim(added, shown, added - shown, tuple(paths)), per_layer
