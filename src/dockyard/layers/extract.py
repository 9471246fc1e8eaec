"""Safe extraction of layer tars into a directory, applying OCI whiteouts and opaque dirs in layer order.

Every file operation is relative to a directory fd opened with O_NOFOLLOW, component by component
(`safedir.resolve_dir`). A symlink already in the tree on an entry's parent path is resolved inside the root, as
docker, containerd and buildah do (a layer with `lib -> usr/lib` and a later `lib/x86_64-linux-gnu/libc.so.6` puts
the file in `usr/lib/...`); a link to `/etc` or `../../..` resolves to the root's own `etc` or the root, so no write
ever lands outside the target. The entry's own last component is never followed: it is replaced. Entries are
applied as the image spec's "Applying Changesets" says: a whiteout or opaque marker only hides what lower layers put
there. With `overlay_whiteouts` they are instead written in overlayfs form (0/0 char devices, the
`trusted.overlay.opaque` xattr), for trees used as overlay lower dirs.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import BinaryIO

from dockyard.errors import InvalidArgument, InvalidLayer, LimitExceeded, UnsafePath
from dockyard.layers.compression import MAX_UNCOMPRESSED, decompress
from dockyard.layers.safedir import DIR_FLAGS, chmod_nofollow, join, lstat_at, resolve_dir, write_all
from dockyard.layers.tarformat import BLOCK, CHUNK, EntryType, TarEntry, escapes
from dockyard.layers.tarreader import TarReader
from dockyard.layers.whiteout import is_opaque_marker, is_whiteout, is_whiteout_meta, opaque_dir, whiteout_target
from dockyard.oci.protocols import Layer

_ZEROS = bytes(CHUNK)


@dataclass(frozen=True, slots=True)
class ExtractResult:
    """Counts of what an extraction did."""

    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    hardlinks: int = 0
    specials: int = 0
    """FIFOs and device nodes created."""
    whiteouts: int = 0
    """Whiteouts and opaque markers applied."""
    bytes: int = 0
    """Bytes of regular-file content written."""
    skipped_devices: int = 0
    """Device nodes not created (no `allow_devices`, or not root)."""
    skipped_xattrs: int = 0
    """Xattrs not applied: not asked for (`preserve_xattrs=False`), or refused by the filesystem."""


@dataclass(slots=True)
class _Counts:
    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    hardlinks: int = 0
    specials: int = 0
    whiteouts: int = 0
    bytes: int = 0
    skipped_devices: int = 0
    skipped_xattrs: int = 0


def extract_layers(layers: Iterable[Layer | BinaryIO], target: str | os.PathLike[str], *,
                   allow_devices: bool = False, preserve_owners: bool = False, preserve_xattrs: bool = False,
                   overlay_whiteouts: bool = False, max_bytes: int = MAX_UNCOMPRESSED) -> ExtractResult:
    """Apply `layers` (Layer objects, or tar streams, compressed or not) in order into `target` (created if missing).

    Streams are consumed (and may be closed); Layer objects are opened and closed here.

    Raises UnsafePath for `..` in a name or a hardlink target, InvalidLayer for corrupt tars and symlink loops,
    LimitExceeded when file content passes `max_bytes`. Setuid/setgid bits and owners are kept only with
    `preserve_owners`; device nodes are made only with `allow_devices` when running as root. `overlay_whiteouts`
    keeps whiteouts and opaque markers as overlayfs marks (needs root) instead of applying them.
    """
    try:
        os.makedirs(target, exist_ok=True)
        root = os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileExistsError, NotADirectoryError):
        raise InvalidArgument(f"extraction target {os.fspath(target)!r} is not a directory") from None
    try:
        ex = _Extractor(root, allow_devices and os.geteuid() == 0, preserve_owners, preserve_xattrs, max_bytes)
        ex.overlay = overlay_whiteouts
        for n, layer in enumerate(layers, 1):
            if isinstance(layer, Layer):
                with layer.open_uncompressed() as stream:
                    ex.apply(stream, f"layer {n} ({layer.descriptor.digest.short})")
            else:
                ex.apply(decompress(layer), f"layer {n}")
        ex.finish()
        return ExtractResult(**{f.name: getattr(ex.counts, f.name) for f in fields(_Counts)})
    finally:
        os.close(root)


def extract_tar(stream: BinaryIO, target: str | os.PathLike[str], *, allow_devices: bool = False,
                preserve_owners: bool = False, preserve_xattrs: bool = False, overlay_whiteouts: bool = False,
                max_bytes: int = MAX_UNCOMPRESSED) -> ExtractResult:
    """Extract one tar stream (compressed or not); see `extract_layers`."""
    return extract_layers([stream], target, allow_devices=allow_devices, preserve_owners=preserve_owners,
                          preserve_xattrs=preserve_xattrs, overlay_whiteouts=overlay_whiteouts, max_bytes=max_bytes)


def _check(path: str, what: str) -> None:
    if escapes(path):
        raise UnsafePath(f"{what}: entry {path!r} escapes the root with '..'")


class _Extractor:
    """Applies entries; every path it keeps (`dirs`, `layer`, the parent cache's value) is a real path in the root."""

    def __init__(self, root: int, devices: bool, owners: bool, xattrs: bool, max_bytes: int) -> None:
        self.root, self.devices, self.owners, self.xattrs, self.max_bytes = root, devices, owners, xattrs, max_bytes
        self.overlay = False
        self.counts = _Counts()
        self.dirs: dict[str, TarEntry] = {}  # directory metadata applied at the very end (modes may forbid writes)
        self.layer: set[str] = set()  # paths this layer wrote, and their ancestors: whiteouts must spare them
        self.cache: tuple[str, int, str] | None = None  # (archive parent, fd, real parent)
        self.stale = False  # the cached resolution may have changed; its fd stays open while a caller borrows it
        self.buffer = memoryview(bytearray(CHUNK))
        self.what = ""

    def apply(self, stream: BinaryIO, what: str) -> None:
        self.what, self.layer = what, set()
        reader = TarReader(stream, what=what)
        for entry in reader:
            try:
                self._entry(entry, reader)
            except OSError as exc:
                raise InvalidLayer(f"{what}: cannot extract {entry.path!r}: {exc.strerror or exc}") from exc

    def _entry(self, entry: TarEntry, reader: TarReader) -> None:
        path = entry.path
        _check(path, self.what)
        if is_opaque_marker(path):
            self.counts.whiteouts += 1
            self._opaque(opaque_dir(path))
        elif is_whiteout(path):
            self.counts.whiteouts += 1
            self._whiteout(whiteout_target(path))
        elif is_whiteout_meta(path) or path == ".":
            return
        elif entry.type in (EntryType.CHAR, EntryType.BLOCK) and not self.devices:
            self.counts.skipped_devices += 1
        else:
            self._written(self._create(entry, reader))

    def _written(self, real: str) -> None:
        while real not in self.layer:
            self.layer.add(real)
            real = real.rpartition("/")[0] or "."

    def _whiteout(self, target: str) -> None:
        found = self._parent(target, create=self.overlay)
        if found is None:
            return  # nothing of the lower layers is there to hide
        parent, real_parent = found
        name = target.rpartition("/")[2]
        real = join(real_parent, name)
        if self.overlay:
            if lstat_at(parent, name) is None:  # this layer's own entry at that path wins
                os.mknod(name, stat.S_IFCHR | 0o600, os.makedev(0, 0), dir_fd=parent)
                self._written(real)
        elif real not in self.layer:
            self._remove(parent, real)

    def _create(self, entry: TarEntry, reader: TarReader) -> str:
        """Make `entry` (its parent path resolved inside the root, its own name never followed); its real path."""
        found = self._parent(entry.path, create=True)
        assert found is not None
        parent, real_parent = found
        name = entry.path.rpartition("/")[2]
        real = join(real_parent, name)
        existing = lstat_at(parent, name)
        if entry.type is EntryType.DIR:
            if existing is None or not stat.S_ISDIR(existing.st_mode):
                if existing is not None:
                    self._remove(parent, real)
                os.mkdir(name, 0o700, dir_fd=parent)
            self.dirs[real] = entry
            self.counts.dirs += 1
            return real
        if entry.type is EntryType.HARDLINK:
            self._hardlink(entry, parent, name, real)  # removes `existing` itself, after resolving the target
            return real
        if existing is not None:
            self._remove(parent, real)
        mode = entry.mode & (0o7777 if self.owners else 0o1777)
        if entry.type is EntryType.FILE:
            self._file(entry, reader, parent, name, mode)
            return real
        if entry.type is EntryType.SYMLINK:
            os.symlink(entry.linkname, name, dir_fd=parent)
            self.stale = True  # a new link may change how a cached archive path resolves
            self.counts.symlinks += 1
        else:
            kind = {EntryType.FIFO: stat.S_IFIFO, EntryType.CHAR: stat.S_IFCHR, EntryType.BLOCK: stat.S_IFBLK}
            try:
                os.mknod(name, kind[entry.type] | 0o600, os.makedev(entry.devmajor, entry.devminor), dir_fd=parent)
            except PermissionError:
                if entry.type is EntryType.FIFO:
                    raise
                self.counts.skipped_devices += 1  # root without CAP_MKNOD, as in most containers
                return real
            self.counts.specials += 1
            chmod_nofollow(parent, name, mode)
        if self.owners:
            os.chown(name, entry.uid, entry.gid, dir_fd=parent, follow_symlinks=False)
        os.utime(name, (entry.mtime, entry.mtime), dir_fd=parent, follow_symlinks=False)
        return real

    def _file(self, entry: TarEntry, reader: TarReader, parent: int, name: str, mode: int) -> None:
        if self.counts.bytes + entry.size > self.max_bytes:
            raise LimitExceeded(f"{self.what}: extracting {entry.path!r} would pass the {self.max_bytes}-byte limit")
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=parent)
        try:
            buf, holes = self.buffer, False
            while n := reader.readinto(buf):
                if n >= BLOCK and _ZEROS.startswith(buf[:n]):
                    os.lseek(fd, n, os.SEEK_CUR)  # leave a hole: sparse-ish files stay sparse
                    holes = True
                else:
                    write_all(fd, buf[:n])
            if holes:
                os.ftruncate(fd, entry.size)
            if self.owners:
                os.fchown(fd, entry.uid, entry.gid)
            os.fchmod(fd, mode)
            self._set_xattrs(fd, entry)
            os.utime(fd, (entry.mtime, entry.mtime))
        finally:
            os.close(fd)
        self.counts.files += 1
        self.counts.bytes += entry.size

    def _hardlink(self, entry: TarEntry, parent: int, name: str, real: str) -> None:
        """Link to an earlier entry: its parent path resolves inside the root like any entry's; it is not followed."""
        link = entry.linkname
        if link in (".", entry.path):
            raise InvalidLayer(f"{self.what}: hardlink {entry.path!r} points at {link!r}")
        if escapes(link):
            raise UnsafePath(f"{self.what}: hardlink {entry.path!r} -> {link!r} points outside the root")
        found = resolve_dir(self.root, link.rpartition("/")[0] or ".", create=False, what=self.what)
        src_parent = found[0] if found is not None else None
        src_name = link.rpartition("/")[2]
        try:
            st = lstat_at(src_parent, src_name) if src_parent is not None else None
            if st is None:
                raise InvalidLayer(f"{self.what}: hardlink {entry.path!r} -> {link!r}: target not extracted yet")
            if stat.S_ISDIR(st.st_mode):
                raise InvalidLayer(f"{self.what}: hardlink {entry.path!r} -> {link!r}: target is a directory")
            if lstat_at(parent, name) is not None:
                self._remove(parent, real)
            os.link(src_name, name, src_dir_fd=src_parent, dst_dir_fd=parent, follow_symlinks=False)
        finally:
            if src_parent is not None:
                os.close(src_parent)
        self.counts.hardlinks += 1

    def _opaque(self, directory: str) -> None:
        found = resolve_dir(self.root, directory, create=self.overlay, what=self.what)
        if found is None:
            return
        fd, real = found
        try:
            if self.overlay:
                os.setxattr(fd, "trusted.overlay.opaque", b"y")
                self._written(real)
            else:
                self._prune(fd, "" if real == "." else real + "/")
        finally:
            os.close(fd)

    def _prune(self, fd: int, prefix: str) -> None:
        """Remove what lower layers put under the directory `fd` (real path `prefix`), sparing this layer's own."""
        for name in os.listdir(fd):
            path = prefix + name
            if path not in self.layer:
                self._remove(fd, path)
                continue
            st = lstat_at(fd, name)
            if st is not None and stat.S_ISDIR(st.st_mode):
                child = os.open(name, DIR_FLAGS, dir_fd=fd)
                try:
                    self._prune(child, path + "/")
                finally:
                    os.close(child)

    def _remove(self, parent: int, real: str) -> None:
        """Remove the entry at real path `real` (in the directory `parent`); any removal may change resolution."""
        name = real.rpartition("/")[2]
        st = lstat_at(parent, name)
        if st is None:
            return
        self.stale = True
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(name, dir_fd=parent)
            below = real + "/"  # deferred metadata of what went away
            self.dirs = {p: e for p, e in self.dirs.items() if p != real and not p.startswith(below)}
        else:
            os.unlink(name, dir_fd=parent)

    def _drop_cache(self) -> None:
        if self.cache is not None:
            os.close(self.cache[1])
            self.cache = None

    def _parent(self, path: str, *, create: bool) -> tuple[int, str] | None:
        """The (cached, borrowed) fd of the parent directory of archive path `path`, and its real path."""
        parent = path.rpartition("/")[0] or "."
        if self.cache is not None and not self.stale and self.cache[0] == parent:
            return self.cache[1], self.cache[2]
        found = resolve_dir(self.root, parent, create=create, what=self.what)
        if found is None:
            return None
        self._drop_cache()
        self.cache, self.stale = (parent, *found), False
        return found

    def _set_xattrs(self, fd: int, entry: TarEntry) -> None:
        if not self.xattrs:
            self.counts.skipped_xattrs += len(entry.xattrs)
            return
        for key, value in entry.xattrs.items():
            try:
                os.setxattr(fd, key, value)
            except OSError:
                self.counts.skipped_xattrs += 1

    def finish(self) -> None:
        """Apply deferred directory metadata, deepest first, so parents keep their own mtimes."""
        self._drop_cache()
        for path in sorted(self.dirs, key=lambda p: p.count("/"), reverse=True):
            entry = self.dirs[path]
            found = resolve_dir(self.root, path, create=False, what=self.what)
            if found is None:
                continue
            fd = found[0]
            try:
                if self.owners:
                    os.fchown(fd, entry.uid, entry.gid)
                os.fchmod(fd, entry.mode & (0o7777 if self.owners else 0o1777))
                self._set_xattrs(fd, entry)
                os.utime(fd, (entry.mtime, entry.mtime))
            finally:
                os.close(fd)
