"""Reclaimable bytes from the merged filesystem: every file copy no final path refers to, per path and layer."""

from __future__ import annotations

from operator import itemgetter

from dockyard.analyze.apply import Merged
from dockyard.analyze.final import Final
from dockyard.analyze.model import Reclaim, WastedPath
from dockyard.layers.tarformat import EntryType, TarEntry

_SIZE = itemgetter(2)  # TarEntry.size


def reclaim(merged: Merged, final: Final, layers: int) -> tuple[Reclaim, list[int]]:
    """Reclaimable bytes overall and per path, and per layer (a list aligned with the layers)."""
    per_layer = [0] * layers
    copies = merged.copies
    added = sum(map(_SIZE, copies))
    dead: dict[str, list[tuple[int, TarEntry]]] = {}  # path -> its dead copies (layer, entry), oldest first
    dead_bytes = 0
    live = final.live
    i = live.find(0)
    while i >= 0:  # only the dead copies: usually few
        entry = copies[i]
        layer = merged.copy_layer(i)
        per_layer[layer] += entry.size
        dead_bytes += entry.size
        dead.setdefault(entry.path, []).append((layer, entry))
        i = live.find(0, i + 1)
    paths = []
    for path, older_copies in dead.items():
        node = merged.lookup(path)
        now = node.entry if node is not None and node.children is None else None
        older = older_copies[-1][1]
        metadata_only = bool(now is not None and now.type is EntryType.FILE and now.size == older.size and (
            now.mode, now.uid, now.gid) != (older.mode, older.uid, older.gid))
        paths.append(WastedPath(
            path, sum(e.size for _, e in older_copies), len(older_copies), tuple(lyr for lyr, _ in older_copies),
            "overwritten" if now is not None else "deleted",
            node.layer if now is not None and node is not None else None, metadata_only))
    paths.sort(key=lambda w: (-w.bytes, w.path))
    return Reclaim(added, added - dead_bytes, dead_bytes, tuple(paths)), per_layer
