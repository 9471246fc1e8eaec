"""In-memory tar members for synthetic layers and tests, written as a normalized tar."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import BinaryIO, Self

from dockyard.layers.tarformat import EntryType, TarEntry
from dockyard.layers.whiteout import opaque_marker_for, whiteout_for
from dockyard.layers.writer import TarWriter, path_key, resolve_epoch


@dataclass(frozen=True, slots=True)
class Member:
    """An in-memory tar member (for synthetic layers and tests): an entry plus its file body."""

    entry: TarEntry
    data: bytes = b""

    @classmethod
    def file(cls, path: str, data: bytes, *, mode: int = 0o644, uid: int = 0, gid: int = 0, mtime: int = 0,
             xattrs: Mapping[str, bytes] | None = None) -> Self:
        return cls(TarEntry(path, EntryType.FILE, len(data), mode, uid, gid, mtime=mtime,
                            xattrs=dict(xattrs or {})), data)

    @classmethod
    def dir(cls, path: str, *, mode: int = 0o755, uid: int = 0, gid: int = 0, mtime: int = 0) -> Self:
        return cls(TarEntry(path, EntryType.DIR, 0, mode, uid, gid, mtime=mtime))

    @classmethod
    def symlink(cls, path: str, target: str, *, uid: int = 0, gid: int = 0, mtime: int = 0) -> Self:
        return cls(TarEntry(path, EntryType.SYMLINK, 0, 0o777, uid, gid, mtime=mtime, linkname=target))

    @classmethod
    def hardlink(cls, path: str, target: str, *, mode: int = 0o644) -> Self:
        return cls(TarEntry(path, EntryType.HARDLINK, 0, mode, linkname=target))

    @classmethod
    def device(cls, path: str, kind: EntryType, major: int, minor: int, *, mode: int = 0o666) -> Self:
        return cls(TarEntry(path, kind, 0, mode, devmajor=major, devminor=minor))

    @classmethod
    def fifo(cls, path: str, *, mode: int = 0o644) -> Self:
        return cls(TarEntry(path, EntryType.FIFO, 0, mode))

    @classmethod
    def whiteout(cls, path: str) -> Self:
        """An entry deleting `path` from lower layers."""
        return cls.file(whiteout_for(path), b"")

    @classmethod
    def opaque(cls, directory: str) -> Self:
        """An entry hiding everything lower layers have in `directory`."""
        return cls.file(opaque_marker_for(directory), b"")


def write_members(members: Iterable[Member], sink: BinaryIO, *, source_date_epoch: int | None = None,
                  sort: bool = True) -> int:
    """Write members as a normalized tar (sorted by path bytes unless `sort=False`); returns the entry count."""
    items = sorted(members, key=lambda m: path_key(m.entry.path)) if sort else members
    with TarWriter(sink, clamp_mtime=resolve_epoch(source_date_epoch)) as writer:
        for member in items:
            writer.add(member.entry, member.data)
    return writer.entries
