"""The tree-diff fallback: a RUN step's layer from comparing a root filesystem before and after the command.

Used where no overlayfs can be mounted (no root, or a kernel or file system without it): the stage's layers
are extracted into one directory, the command runs on it directly, and what changed becomes the layer, as
kaniko and `buildah --isolation chroot` do it. A file changed when its type, mode, owner, size, mtime or
ctime changed (ctime moves on every write, chmod, chown or rename and cannot be set back by the command); a
directory when its type, mode or owner changed, or when it was replaced by a new one (its inode changed: the
layer marks it opaque; a recreated directory that got its old inode back is told by whiteouts instead, the
same tree). As with an overlay copy-up, the parents of every change are in the layer too. Deleted paths
become `.wh.` whiteouts (only the topmost deleted path). Slower than overlay: two walks of the whole tree.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection
from pathlib import Path
from typing import BinaryIO, cast

from dockyard.layers.filelayer import FileLayer, LayerPipeline
from dockyard.layers.tarformat import EntryType, TarEntry
from dockyard.layers.whiteout import opaque_marker_for, whiteout_for
from dockyard.layers.writer import TarWriter, entry_from_stat, iter_tree, path_key, resolve_epoch
from dockyard.oci.mediatype import Compression

# type bits and permissions, uid, gid, size, mtime_ns, ctime_ns, inode
Stamp = tuple[int, int, int, int, int, int, int]
Tree = dict[str, Stamp]


def take(root: Path) -> Tree:
    """Every path under `root` (relative, `/`-separated) with its stamp."""
    return {sub: (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            for sub, st in iter_tree(os.fspath(root))}


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


def _under(path: str, dirs: Collection[str]) -> bool:
    parent = _parent(path)
    while parent:
        if parent in dirs:
            return True
        parent = _parent(parent)
    return False


def diff_layer(root: Path, before: Tree, dest_blob: Path, compression: Compression = Compression.GZIP, *,
               source_date_epoch: int | None = None, ignore: Collection[str] = (),
               owner_map: tuple[int, int] | None = None) -> tuple[FileLayer, int]:
    """Write what changed under `root` since `before` as a layer blob; returns it and the number of entries.

    `ignore` lists paths (relative) that are runtime artifacts (mount points made for the sandbox);
    `owner_map=(uid, gid)` maps files owned by this unprivileged user back to root (one-uid user namespace).
    """
    after = take(root)
    top = os.fspath(root)
    opaque = {p for p, s in after.items()
              if stat.S_ISDIR(s[0]) and p in before and stat.S_ISDIR(before[p][0]) and before[p][6] != s[6]}
    deleted = {p for p in before if p not in after or stat.S_ISDIR(before[p][0]) != stat.S_ISDIR(after[p][0])}
    changed: set[str] = set()
    for path, stamp in after.items():
        if path in ignore or _under(path, ignore):
            continue
        old = before.get(path)
        if old is None or _under(path, opaque) or (
                old[:3] != stamp[:3] or old[6] != stamp[6] if stat.S_ISDIR(stamp[0]) else old != stamp):
            changed.add(path)
    whiteouts = [p for p in deleted
                 if p not in after and p not in ignore and not _under(p, deleted) and not _under(p, opaque)]
    for path in [*changed, *whiteouts]:  # like an overlay copy-up: the parents of every change are in the layer
        parent = _parent(path)
        while parent and parent not in changed and parent in after:
            changed.add(parent)
            parent = _parent(parent)
    items: list[tuple[bytes, TarEntry, str | None]] = []
    inodes: dict[str, int] = {}
    for path in changed:
        full = f"{top}/{path}"
        st = os.lstat(full)
        entry = entry_from_stat(path, full, st)
        if entry is None:
            continue
        if owner_map is not None:
            entry = entry._replace(uid=0 if entry.uid == owner_map[0] else entry.uid,
                                   gid=0 if entry.gid == owner_map[1] else entry.gid)
        if entry.type is EntryType.FILE and st.st_nlink > 1:
            inodes[path] = st.st_ino
        items.append((path_key(path), entry, full))
        if path in opaque:
            marker = TarEntry(opaque_marker_for(path), EntryType.FILE, 0, 0o644, mtime=int(st.st_mtime))
            items.append((path_key(marker.path), marker, None))
    for path in whiteouts:
        marker = TarEntry(whiteout_for(path), EntryType.FILE, 0, 0o644)
        items.append((path_key(marker.path), marker, None))
    items.sort(key=lambda item: item[0])
    first: dict[int, str] = {}
    for n, (key, entry, src) in enumerate(items):  # the first path of an inode in sorted order has the body
        ino = inodes.get(entry.path)
        if ino is not None and first.setdefault(ino, entry.path) != entry.path:
            items[n] = (key, entry._replace(type=EntryType.HARDLINK, size=0, linkname=first[ino]), src)
    clamp = resolve_epoch(source_date_epoch)
    with LayerPipeline(dest_blob, compression, None, 0) as pipe:
        with TarWriter(pipe.tar, clamp_mtime=clamp) as writer:
            for _, entry, source in items:
                if source is None or entry.type is not EntryType.FILE or not entry.size:
                    writer.add(entry, b"" if entry.type is EntryType.FILE else None)
                    continue
                with open(source, "rb", buffering=0,
                          opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW | os.O_CLOEXEC)) as body:
                    writer.add(entry, cast(BinaryIO, body))
        return pipe.finish(False), len(items)
