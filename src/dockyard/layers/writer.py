"""Normalized (reproducible) tar writing from a directory tree or from in-memory members.

Format choice: our own ustar writer (the layout Go's archive/tar gives Docker and BuildKit layers) rather than
stdlib `tarfile`, so every byte is under our control: names without `./`, directories with a trailing `/`,
ustar prefix splitting, a PAX `x` header (named `././@PaxHeader`, records sorted by key, mtime 0) only for
fields that do not fit (non-ASCII or long names and link targets, sizes >= 8 GiB, big ids, xattrs), empty
uname/gname, no atime/ctime, and two zero blocks at the end with no record padding.
"""

from __future__ import annotations

import os
import stat
import struct
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Self

from dockyard.errors import Conflict, InvalidArgument
from dockyard.layers.tarformat import BLOCK, CHUNK, EntryType, TarEntry, escapes, normalize, pax_record

_USTAR = struct.Struct("100s48s8sc100s8s64x16s155s12x")
_NO_DEVS = b"0000000\0" * 2
_ENC = sys.getfilesystemencoding()
_FILE, _DIR, _HARDLINK = EntryType.FILE, EntryType.DIR, EntryType.HARDLINK
_FLAGS = {EntryType.FILE: b"0", EntryType.HARDLINK: b"1", EntryType.SYMLINK: b"2", EntryType.CHAR: b"3",
          EntryType.BLOCK: b"4", EntryType.DIR: b"5", EntryType.FIFO: b"6"}
#: Xattrs that describe the build host, not the image; never written into a layer.
DROPPED_XATTR_PREFIXES = ("trusted.overlay.", "user.overlay.", "security.selinux")


def resolve_epoch(explicit: int | None = None) -> int | None:
    """The mtime clamp: `explicit` if given, else $SOURCE_DATE_EPOCH if set, else None (no clamping)."""
    if explicit is not None:
        return explicit
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(f"SOURCE_DATE_EPOCH={text!r} is not an integer number of seconds") from None


def keep_xattr(name: str) -> bool:
    return not name.startswith(DROPPED_XATTR_PREFIXES)


class TarWriter:
    """Writes normalized entries to `sink`; `close()` ends the archive (and leaves `sink` open)."""

    def __init__(self, sink: BinaryIO, *, clamp_mtime: int | None = None) -> None:
        self._sink = sink
        self._clamp = clamp_mtime
        self.entries = 0
        self.file_bytes = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()

    def add(self, entry: TarEntry, body: BinaryIO | bytes | None = None) -> None:
        """Write one entry; regular files need a body of exactly `entry.size` bytes (the root `.` is skipped)."""
        path = normalize(entry.path)
        if path == ".":
            return
        if escapes(path):
            raise InvalidArgument(f"refusing to write tar entry {entry.path!r}: it escapes the root")
        kind = entry.type
        size = entry.size if kind is _FILE else 0
        mtime = entry.mtime if self._clamp is None or entry.mtime <= self._clamp else self._clamp
        pax: dict[bytes, bytes] = {}
        name, prefix = _fit_name(path.encode(_ENC, "surrogateescape") + (b"/" if kind is _DIR else b""), pax)
        blink = b""
        if entry.linkname:
            blink = (normalize(entry.linkname) if kind is _HARDLINK else entry.linkname).encode(_ENC, "surrogateescape")
            if len(blink) > 100 or not blink.isascii():
                pax[b"linkpath"], blink = blink, blink[:100]
        uid, gid = _fit(entry.uid, 8, b"uid", pax), _fit(entry.gid, 8, b"gid", pax)
        bsize, bmtime = _fit(size, 12, b"size", pax), _fit(mtime, 12, b"mtime", pax)
        if entry.xattrs:
            for key in sorted(k for k in entry.xattrs if keep_xattr(k)):
                pax[b"SCHILY.xattr." + key.encode("utf-8", "surrogateescape")] = entry.xattrs[key]
        devs = _NO_DEVS
        if entry.devmajor or entry.devminor:
            if not (0 <= entry.devmajor < 8**7 and 0 <= entry.devminor < 8**7):
                raise InvalidArgument(f"{path!r}: device {entry.devmajor}:{entry.devminor} does not fit in ustar")
            devs = b"%07o\0%07o\0" % (entry.devmajor, entry.devminor)
        write = self._sink.write
        if pax:
            records = b"".join(pax_record(k, pax[k]) for k in sorted(pax))
            write(_header(b"././@PaxHeader", b"", b"x", _nums(0, 0, 0, len(records), 0), b""))
            write(records + bytes(-len(records) % BLOCK))
        header = _header(name, prefix, _FLAGS[kind], _nums(entry.mode & 0o7777, uid, gid, bsize, bmtime), blink,
                         devs=devs)
        if not size:
            write(header)
        elif isinstance(body, bytes) and len(body) == size:
            write(b"".join((header, body, bytes(-size % BLOCK))))
        else:
            write(header)
            self._body(path, size, body)
        self.entries += 1
        self.file_bytes += size

    def _body(self, path: str, size: int, body: BinaryIO | bytes | None) -> None:
        if isinstance(body, bytes | bytearray | memoryview):
            if len(body) != size:
                raise InvalidArgument(f"{path!r}: body has {len(body)} bytes, entry says {size}")
            self._sink.write(body)
        elif body is None:
            raise InvalidArgument(f"{path!r}: a {size}-byte file needs a body")
        else:
            left = size
            while left:
                chunk = body.read(min(left, CHUNK))
                if not chunk:
                    raise Conflict(f"{path!r}: content ended {left} bytes early (file changed while archiving?)")
                self._sink.write(chunk)
                left -= len(chunk)
        self._sink.write(bytes(-size % BLOCK))

    def close(self) -> None:
        """Write the end-of-archive marker (two zero blocks)."""
        self._sink.write(bytes(2 * BLOCK))


def _fit(value: int, width: int, key: bytes, pax: dict[bytes, bytes]) -> int:
    """The value for a numeric ustar field, or 0 with a PAX record when it does not fit."""
    if 0 <= value < 8 ** (width - 1):
        return value
    pax[key] = b"%d" % value
    return 0


def _fit_name(name: bytes, pax: dict[bytes, bytes]) -> tuple[bytes, bytes]:
    if name.isascii():
        if len(name) <= 100:
            return name, b""
        cut = name.rfind(b"/", 0, min(156, len(name) - 1))  # never the trailing `/` of a directory
        if cut > 0 and len(name) - cut - 1 <= 100:
            return name[cut + 1 :], name[:cut]
    pax[b"path"] = name
    return name[:100], b""


def _nums(mode: int, uid: int, gid: int, size: int, mtime: int) -> bytes:
    return b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (mode, uid, gid, size, mtime)


def _header(name: bytes, prefix: bytes, flag: bytes, nums: bytes, link: bytes, *, devs: bytes = b"") -> bytes:
    block = _USTAR.pack(name, nums, b"        ", flag, link, b"ustar\x0000", devs or _NO_DEVS, prefix)
    # adler32's low half is 1 + sum(bytes) mod 65521, exact for 256-byte halves: a C-speed byte sum.
    chk = (zlib.adler32(block[:256]) & 0xFFFF) + (zlib.adler32(block[256:]) & 0xFFFF) - 2
    return b"%s%06o\0 %s" % (block[:148], chk, block[156:])


def path_key(path: str) -> bytes:
    """The sort key of normalized output: the path's bytes (parents sort before their children)."""
    return os.fsencode(normalize(path))


@dataclass(frozen=True, slots=True)
class TreeStats:
    """What `write_tree` wrote."""

    entries: int
    file_bytes: int
    skipped_sockets: tuple[str, ...] = ()


def write_tree(root: str | os.PathLike[str], sink: BinaryIO, *, source_date_epoch: int | None = None,
               xattrs: bool = True) -> TreeStats:
    """Write the tree under `root` (not `root` itself) as a normalized tar; hardlinks by (dev, inode).

    Sockets are skipped (and listed in the result); an unreadable source path raises InvalidArgument.
    """
    top = os.fspath(root)
    if not os.path.isdir(top):
        raise InvalidArgument(f"{top!r} is not a directory")
    try:
        return _write_tree(top, sink, resolve_epoch(source_date_epoch), xattrs)
    except OSError as exc:
        if exc.filename is None:  # the sink failed, not the source
            raise
        raise InvalidArgument(f"cannot archive {exc.filename!r}: {exc.strerror}") from exc


def iter_tree(top: str) -> Iterator[tuple[str, os.stat_result]]:
    """Every path below `top` (relative, `/`-separated, in no particular order) with its lstat; never follows
    a symlink, descends into every real directory."""
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(f"{top}/{rel}" if rel else top) as it:
            for dent in it:
                sub = f"{rel}/{dent.name}" if rel else dent.name
                st = dent.stat(follow_symlinks=False)
                yield sub, st
                if stat.S_ISDIR(st.st_mode):
                    stack.append(sub)


def _scan(top: str) -> list[tuple[bytes, str, os.stat_result]]:
    found = [(sub.encode(_ENC, "surrogateescape"), sub, st) for sub, st in iter_tree(top)]
    found.sort(key=lambda item: item[0])
    return found


def _write_tree(top: str, sink: BinaryIO, clamp: int | None, xattrs: bool) -> TreeStats:
    first_link: dict[tuple[int, int], str] = {}
    sockets: list[str] = []
    with TarWriter(sink, clamp_mtime=clamp) as writer:
        for _, rel, st in _scan(top):
            full = f"{top}/{rel}"
            entry = entry_from_stat(rel, full, st, xattrs)
            if entry is None:
                sockets.append(rel)
                continue
            if entry.type is EntryType.FILE and st.st_nlink > 1:
                primary = first_link.setdefault((st.st_dev, st.st_ino), rel)
                if primary != rel:
                    entry = entry._replace(type=EntryType.HARDLINK, size=0, linkname=primary)
            if entry.type is EntryType.FILE and entry.size:
                fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                try:
                    if entry.size <= CHUNK:  # one read, no file object: most files in a layer are small
                        data = os.read(fd, entry.size)
                        if len(data) != entry.size:
                            raise Conflict(f"{rel!r} changed size while archiving")
                        writer.add(entry, data)
                    else:
                        with open(fd, "rb", buffering=0, closefd=False) as body:
                            writer.add(entry, body)
                finally:
                    os.close(fd)
            else:
                writer.add(entry)
    return TreeStats(writer.entries, writer.file_bytes, tuple(sockets))


def entry_from_stat(rel: str, full: str, st: os.stat_result, with_xattrs: bool = True) -> TarEntry | None:
    """The tar entry for file `full` stored at `rel` (None for sockets, which a layer cannot hold)."""
    mode = st.st_mode
    linkname, major, minor, size = "", 0, 0, 0
    if stat.S_ISREG(mode):
        kind, size = EntryType.FILE, st.st_size
    elif stat.S_ISDIR(mode):
        kind = EntryType.DIR
    elif stat.S_ISLNK(mode):
        kind, linkname = EntryType.SYMLINK, os.readlink(full)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = EntryType.CHAR if stat.S_ISCHR(mode) else EntryType.BLOCK
        major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISFIFO(mode):
        kind = EntryType.FIFO
    else:
        return None
    return TarEntry(rel, kind, size, stat.S_IMODE(mode), st.st_uid, st.st_gid, mtime=int(st.st_mtime),
                    linkname=linkname, devmajor=major, devminor=minor,
                    xattrs=_xattrs(full) if with_xattrs else {})


def _xattrs(full: str) -> dict[str, bytes]:
    try:
        names = os.listxattr(full, follow_symlinks=False)
    except OSError:
        return {}
    out: dict[str, bytes] = {}
    for name in names:
        if keep_xattr(name):
            try:
                out[name] = os.getxattr(full, name, follow_symlinks=False)
            except OSError:
                continue
    return out
