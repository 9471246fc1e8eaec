"""Rewrite an existing tar stream as a normalized one: sorted, mtimes clamped, names and owners cleaned.

The stream is indexed in one forward pass (spooled to a temporary file unless it can seek), then entries are
written in path-byte order. Later duplicates win, as they would on extraction; in each hardlink group the path
that sorts first carries the body so that every link follows its target.
"""

from __future__ import annotations

import tempfile
from typing import BinaryIO, cast

from dockyard.errors import InvalidLayer
from dockyard.layers.tarreader import CHUNK, EntryType, TarEntry, TarReader
from dockyard.layers.writer import TarWriter, path_key, resolve_epoch


def normalize_tar(stream: BinaryIO, sink: BinaryIO, *, source_date_epoch: int | None = None,
                  spool_dir: str | None = None, what: str = "tar") -> int:
    """Write the uncompressed tar `stream` to `sink` in normalized form; returns the entry count."""
    if stream.seekable():
        base = stream.tell()
        return _write(_index(stream, what), stream, base, sink, source_date_epoch)
    with tempfile.TemporaryFile(dir=spool_dir) as spool:
        index = _index(cast(BinaryIO, _Spool(stream, spool)), what)
        return _write(index, cast(BinaryIO, spool), 0, sink, source_date_epoch)


def _index(stream: BinaryIO, what: str) -> dict[str, TarEntry]:
    index: dict[str, TarEntry] = {}
    for entry in TarReader(stream, what=what):
        index.pop(entry.path, None)
        index[entry.path] = entry
    _relink(index, what)
    return index


def _relink(index: dict[str, TarEntry], what: str) -> None:
    """Make the first path (in output order) of each hardlink group the one that carries the body."""
    groups: dict[str, list[str]] = {}
    for entry in list(index.values()):
        if entry.type is not EntryType.HARDLINK:
            continue
        target, hops = entry.linkname, 0
        while target in index and index[target].type is EntryType.HARDLINK and hops < len(index):
            target, hops = index[target].linkname, hops + 1
        if target not in index:
            raise InvalidLayer(f"{what}: hardlink {entry.path!r} -> {entry.linkname!r} has no target in the tar")
        if index[target].type is not EntryType.FILE:
            continue
        groups.setdefault(target, []).append(entry.path)
    for target, links in groups.items():
        primary = min([target, *links], key=path_key)
        body = index[target]
        if primary != target:
            index[primary] = body._replace(path=primary)
            index[target] = body._replace(type=EntryType.HARDLINK, size=0, linkname=primary, xattrs={})
        for link in links:
            if link != primary:
                index[link] = index[link]._replace(linkname=primary)


def _write(index: dict[str, TarEntry], data: BinaryIO, base: int, sink: BinaryIO, epoch: int | None) -> int:
    with TarWriter(sink, clamp_mtime=resolve_epoch(epoch)) as writer:
        for path in sorted(index, key=path_key):
            entry = index[path]
            if entry.type is EntryType.FILE and entry.size:
                data.seek(base + entry.offset)
                writer.add(entry, cast(BinaryIO, _Slice(data, entry.size)))
            else:
                writer.add(entry)
    return writer.entries


class _Slice:
    """Reads at most `size` bytes from a positioned stream."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self._stream, self._left = stream, size

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._stream.read(n) if n else b""
        self._left -= len(data)
        return data


class _Spool:
    """A forward-only reader that copies everything it reads into `spool`."""

    def __init__(self, inner: BinaryIO, spool: BinaryIO) -> None:
        self._inner, self._spool = inner, spool

    def read(self, n: int = -1) -> bytes:
        data = self._inner.read(n if n >= 0 else CHUNK)
        self._spool.write(data)
        return data

    def seekable(self) -> bool:
        return False

