"""Turning an overlayfs upper dir into an OCI layer blob: whiteouts, opaque dirs, normalized tar, one pass.

Overlay marks a deleted path with a 0/0 char device (which overlay may hard-link to one shared inode, so its
link count means nothing; an empty file with `trusted.overlay.whiteout` is accepted too) and a replaced
directory with `trusted.overlay.opaque=y`. They become `.wh.NAME` entries and a `.wh..wh..opq` marker after
the directory's entry. `trusted.overlay.*` xattrs (and the host's security.selinux labels) never enter the
layer; others such as `security.capability` are kept. Entries are sorted by path bytes, mtimes clamped to
SOURCE_DATE_EPOCH when set, regular-file hardlinks kept (the first path in sorted order carries the body).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO, cast

from dockyard.errors import InvalidArgument
from dockyard.layers.filelayer import FileLayer, LayerPipeline
from dockyard.layers.tarformat import EntryType, TarEntry
from dockyard.layers.whiteout import META_PREFIX, opaque_marker_for, whiteout_for
from dockyard.layers.writer import TarWriter, entry_from_stat, path_key, resolve_epoch
from dockyard.oci.mediatype import Compression

_OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")
# (sort key, archive entry, source path or None for markers)
_Item = tuple[bytes, TarEntry, str | None]


def snapshot_upper(upper: Path, dest_blob: Path, compression: Compression = Compression.GZIP, *,
                   source_date_epoch: int | None = None, docker_media_types: bool = False) -> FileLayer:
    """Write the changes recorded in overlay upper dir `upper` as a layer blob at `dest_blob`.

    The blob is written to a temporary file next to `dest_blob` and renamed when complete; the tar and the
    compressed bytes are hashed as they stream (diff_id and digest in the same pass).
    """
    if not upper.is_dir():
        raise InvalidArgument(f"overlay upper dir {upper} is not a directory")
    items = _scan(os.fspath(upper))
    clamp = resolve_epoch(source_date_epoch)
    with LayerPipeline(dest_blob, compression, None, 0) as pipe:
        with TarWriter(pipe.tar, clamp_mtime=clamp) as writer:
            for _, entry, source in items:
                _add(writer, entry, source)
        return pipe.finish(docker_media_types)


def _add(writer: TarWriter, entry: TarEntry, source: str | None) -> None:
    if source is None or entry.type is not EntryType.FILE or not entry.size:
        writer.add(entry, b"" if entry.type is EntryType.FILE else None)
        return
    with open(source, "rb", buffering=0, opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW | os.O_CLOEXEC)) as body:
        writer.add(entry, cast(BinaryIO, body))


def _scan(top: str) -> list[_Item]:
    items: list[_Item] = []
    inodes: dict[str, tuple[int, int]] = {}
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(f"{top}/{rel}" if rel else top) as it:
            for dent in it:
                sub = f"{rel}/{dent.name}" if rel else dent.name
                full = f"{top}/{sub}"
                st = dent.stat(follow_symlinks=False)
                if dent.name.startswith(META_PREFIX):
                    continue  # overlay/aufs metadata names are never image content
                if _is_whiteout(full, st):
                    marker = TarEntry(whiteout_for(sub), EntryType.FILE, 0, 0o644, mtime=int(st.st_mtime))
                    items.append((path_key(marker.path), marker, None))
                    continue
                entry = entry_from_stat(sub, full, st)
                if entry is None:
                    continue  # sockets are not representable in a layer
                if entry.type is EntryType.FILE and st.st_nlink > 1:
                    inodes[sub] = (st.st_dev, st.st_ino)
                items.append((path_key(sub), entry, full))
                if stat.S_ISDIR(st.st_mode):
                    stack.append(sub)
                    if _opaque(full):
                        marker = TarEntry(opaque_marker_for(sub), EntryType.FILE, 0, 0o644, mtime=int(st.st_mtime))
                        items.append((path_key(marker.path), marker, None))
    items.sort(key=lambda item: item[0])
    first_link: dict[tuple[int, int], str] = {}
    for n, (key, entry, src) in enumerate(items):  # in sorted order: the first path of an inode has the body
        inode = inodes.get(entry.path)
        if inode is not None:
            primary = first_link.setdefault(inode, entry.path)
            if primary != entry.path:
                items[n] = (key, entry._replace(type=EntryType.HARDLINK, size=0, linkname=primary), src)
    return items


def _is_whiteout(full: str, st: os.stat_result) -> bool:
    """A 0/0 char device, or an empty file marked `trusted.overlay.whiteout` (kernel 6.7+ "xwhiteouts")."""
    if stat.S_ISCHR(st.st_mode):
        return st.st_rdev == 0
    if stat.S_ISREG(st.st_mode) and st.st_size == 0:
        try:
            os.getxattr(full, "trusted.overlay.whiteout", follow_symlinks=False)
        except OSError:
            return False
        return True
    return False


def _opaque(full: str) -> bool:
    for name in _OPAQUE_XATTRS:
        try:
            if os.getxattr(full, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


