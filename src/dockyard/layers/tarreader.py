"""A lean streaming tar reader: struct-parsed 512-byte headers (ustar, GNU long names, PAX) and bounded bodies.

This is the hot path of analysis (DESIGN.md section 6): on 63,633 entries it needs about 0.29 s of CPU where
stdlib `tarfile` needs 1.45 s. Bodies are skipped by seeking when the stream can seek, else by reading.
Paths are decoded as UTF-8 with `surrogateescape`, so `os.fsencode(entry.path)` gives back the archive bytes.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO, cast

from dockyard.errors import InvalidLayer, Unsupported
from dockyard.layers.tarformat import (
    BLOCK,
    CHUNK,
    HEADER_ONLY,
    MAX_ENTRY_SIZE,
    MAX_META_SIZE,
    NO_XATTRS,
    EntryType,
    TarEntry,
    normalize,
    parse_pax,
)

#: Re-exported so readers need one import.
__all__ = ["BLOCK", "CHUNK", "HEADER_ONLY", "EntryType", "TarEntry", "TarReader", "iter_entries", "normalize"]

_HEADER = struct.Struct("100s8s8s8s12s12s8sc100s6s2s32s32s8s8s155s12x")
_ZERO = bytes(BLOCK)
_TYPES = {b"0": EntryType.FILE, b"\0": EntryType.FILE, b"7": EntryType.FILE, b"1": EntryType.HARDLINK,
          b"2": EntryType.SYMLINK, b"3": EntryType.CHAR, b"4": EntryType.BLOCK, b"5": EntryType.DIR,
          b"6": EntryType.FIFO, b"D": EntryType.DIR}
_FILE, _DIR, _HARDLINK = EntryType.FILE, EntryType.DIR, EntryType.HARDLINK
_CHAR, _BLOCK = EntryType.CHAR, EntryType.BLOCK
_META = frozenset({b"x", b"g", b"L", b"K", b"V", b"S", b"M"})
_NS = b"\0 "
_unpack = _HEADER.unpack
_adler = zlib.adler32
_new_entry = tuple.__new__


class TarReader:
    """Iterates the entries of a tar stream; `read`/`body` give the current entry's bytes, unread bytes are skipped.

    The stream is consumed forward only. Malformed input raises InvalidLayer naming the offset (truncation, bad
    checksum, bad numbers, implausible sizes, malformed PAX); GNU sparse and multi-volume entries raise Unsupported.
    A stream that ends cleanly at a header boundary without the two zero blocks is accepted, as Go and tarfile do.
    """

    def __init__(self, stream: BinaryIO, *, what: str = "layer") -> None:
        self._stream = stream
        self._what = what
        self._pos = 0
        self._remaining = 0
        self._pad = 0
        self._global: dict[str, bytes] = {}
        self._done = False
        self._end: int | None = None
        if stream.seekable():  # skip bodies by seeking; the known end still catches truncation
            here = stream.tell()
            self._end = stream.seek(0, os.SEEK_END) - here
            stream.seek(here)

    def __iter__(self) -> Iterator[TarEntry]:
        return self

    @property
    def position(self) -> int:
        """Bytes of the tar stream consumed so far."""
        return self._pos

    def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes of the current entry's body (all of it for -1); b"" at its end."""
        if n < 0 or n > self._remaining:
            n = self._remaining
        if n == 0:
            return b""
        data = self._stream.read(n)
        if not data:
            raise self._truncated("entry body")
        self._remaining -= len(data)
        self._pos += len(data)
        return data

    def readinto(self, buffer: memoryview | bytearray) -> int:
        """Read into `buffer` from the current body; 0 at its end."""
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def body(self) -> BinaryIO:
        """A file-like reader of the current entry's remaining body."""
        return cast(BinaryIO, io.BufferedReader(_Body(self), CHUNK))

    def __next__(self) -> TarEntry:
        if self._done:
            raise StopIteration
        if self._remaining or self._pad:
            self._skip(self._remaining + self._pad)
            self._remaining = self._pad = 0
        names: list[bytes | None] = [None, None]  # GNU long name, long link
        pax: dict[str, bytes] = {}
        read = self._stream.read
        while True:  # hot path: every statement here runs once per entry
            start = self._pos
            block = read(BLOCK)
            if len(block) != BLOCK:
                block = self._short_header(block)
            if not block or block == _ZERO:
                self._done = True
                raise StopIteration
            self._pos = start + BLOCK
            f = _unpack(block)
            try:
                mode, uid, gid = int(f[1].rstrip(_NS), 8), int(f[2].rstrip(_NS), 8), int(f[3].rstrip(_NS), 8)
                size, mtime, stored = int(f[4].rstrip(_NS), 8), int(f[5].rstrip(_NS), 8), int(f[6].rstrip(_NS), 8)
            except ValueError:
                stored = -1
            # adler32's low half is 1 + sum(bytes) mod 65521, exact for 256-byte halves: a C-speed byte sum.
            chk = (_adler(block[:256]) & 0xFFFF) + (_adler(block[256:]) & 0xFFFF) + 254 - sum(block[148:156])
            if stored != chk:
                mode, uid, gid, size, mtime = self._slow_fields(block, f, start)
            if size > MAX_ENTRY_SIZE or size < 0:
                raise InvalidLayer(f"{self._where(start, 'header')}: implausible entry size {size}")
            flag: bytes = f[7]
            if flag in _META:
                self._meta(flag, size, start, names, pax)
                continue
            raw = names[0] if names[0] is not None else f[0].split(b"\0", 1)[0]
            if names[0] is None and f[15][0] and f[9] == b"ustar\0":
                raw = f[15].split(b"\0", 1)[0] + b"/" + raw
            link = names[1] if names[1] is not None else f[8].split(b"\0", 1)[0]
            uname, gname = f[11].split(b"\0", 1)[0], f[12].split(b"\0", 1)[0]
            xattrs = NO_XATTRS
            if pax or self._global:
                pax = {**self._global, **pax}
                if any(k.startswith("GNU.sparse.") for k in pax):
                    raise Unsupported(f"{self._where(start, 'header')}: GNU sparse entries are not supported")
                where = self._where(start, "header")
                raw, link = pax.get("path") or raw, pax.get("linkpath") or link
                uname, gname = pax.get("uname") or uname, pax.get("gname") or gname
                size = _pax_int(pax, "size", size, where)
                uid, gid = _pax_int(pax, "uid", uid, where), _pax_int(pax, "gid", gid, where)
                mtime = _pax_int(pax, "mtime", mtime, where)
                xattrs = {k[13:]: v for k, v in pax.items() if k.startswith("SCHILY.xattr.")}
                if size > MAX_ENTRY_SIZE or size < 0:
                    raise InvalidLayer(f"{where}: implausible PAX size {size}")
            etype = _TYPES.get(flag, _FILE)
            if flag == b"\0" and raw[-1:] == b"/":
                etype = _DIR
            body = size
            linkname = link.decode("utf-8", "surrogateescape")
            major = minor = 0
            if etype in HEADER_ONLY:
                body = size if flag == b"D" else 0  # a GNU dumpdir's body lists names: skip it
                size = 0
                if etype is _HARDLINK:
                    linkname = normalize(linkname)
                elif etype is _CHAR or etype is _BLOCK:
                    where = self._where(start, "header")
                    major, minor = _number(f[13], where), _number(f[14], where)
            self._remaining, self._pad = body, -body % BLOCK
            return _new_entry(TarEntry, (  # tuple.__new__ skips NamedTuple's Python-level __new__
                normalize(raw.decode("utf-8", "surrogateescape")), etype, size, mode & 0o7777, uid, gid,
                uname.decode("utf-8", "surrogateescape"), gname.decode("utf-8", "surrogateescape"),
                mtime, linkname, major, minor, xattrs, self._pos))

    def _meta(self, flag: bytes, size: int, start: int, names: list[bytes | None], pax: dict[str, bytes]) -> None:
        """Consume a metadata entry (PAX, GNU long name/link, volume label) that applies to the next entry."""
        if flag in b"SM":
            raise Unsupported(f"{self._where(start, 'header')}: GNU sparse and multi-volume entries are not supported")
        if flag == b"V":
            self._skip(size + -size % BLOCK)
            return
        if size > MAX_META_SIZE:
            raise InvalidLayer(f"{self._where(start, 'header')}: {size}-byte metadata entry is too large")
        data = self._read_exact(size, "metadata")
        self._skip(-size % BLOCK)
        if flag == b"x":
            pax.update(parse_pax(data, self._where(start, "PAX header")))
        elif flag == b"g":
            self._global.update(parse_pax(data, self._where(start, "PAX global header")))
        else:
            names[flag == b"K"] = data.split(b"\0", 1)[0]

    def _short_header(self, block: bytes) -> bytes:
        while 0 < len(block) < BLOCK:
            more = self._stream.read(BLOCK - len(block))
            if not more:
                if self._pos == 0:
                    raise InvalidLayer(f"{self._what}: not a tar archive{_compressed_hint(block)}: "
                                       f"only {len(block)} bytes")
                raise self._truncated("header")
            block += more
        return block

    def _slow_fields(self, block: bytes, f: tuple[bytes, ...], start: int) -> tuple[int, int, int, int, int]:
        """Numeric fields with base-256 and odd terminators, after a strict checksum check."""
        self._check_sum(block, _number_or(f[6], -1), start)
        where = self._where(start, "header")
        return _number(f[1], where), _number(f[2], where), _number(f[3], where), _number(f[4], where), \
            _number(f[5], where)

    def _check_sum(self, block: bytes, stored: int, start: int) -> None:
        # adler32's low half is 1 + sum(bytes) mod 65521, exact for 256-byte halves: a C-speed byte sum.
        total = (zlib.adler32(block[:256]) & 0xFFFF) + (zlib.adler32(block[256:]) & 0xFFFF) - 2
        unsigned = total - sum(block[148:156]) + 8 * 32
        if stored == unsigned:
            return
        signed = sum(struct.unpack("148b8x356b", block)) + 8 * 32
        if stored == signed:
            return
        if start == 0:
            raise InvalidLayer(f"{self._what}: not a tar archive{_compressed_hint(block)}: bad header checksum "
                               "at offset 0")
        raise InvalidLayer(f"{self._where(start, 'header')}: bad header checksum (stored {stored}, "
                           f"computed {unsigned})")

    def _read_exact(self, n: int, what: str, *, allow_eof: bool = False) -> bytes:
        data = self._stream.read(n)
        while 0 < len(data) < n:
            more = self._stream.read(n - len(data))
            if not more:
                break
            data += more
        if len(data) != n and not (allow_eof and not data):
            raise self._truncated(what)
        self._pos += len(data)
        return data

    def _skip(self, n: int) -> None:
        if n <= 0:
            return
        if self._end is not None:
            if self._pos + n > self._end:
                self._pos = self._end
                raise self._truncated("entry body")
            self._stream.seek(n, os.SEEK_CUR)
            self._pos += n
            return
        while n > 0:
            data = self._stream.read(min(n, CHUNK))
            if not data:
                raise self._truncated("entry body")
            n -= len(data)
            self._pos += len(data)

    def _where(self, offset: int, what: str) -> str:
        return f"{self._what}: {what} at offset {offset}"

    def _truncated(self, what: str) -> InvalidLayer:
        return InvalidLayer(f"{self._what}: truncated tar: stream ends inside {what} at offset {self._pos}")


class _Body(io.RawIOBase):
    def __init__(self, reader: TarReader) -> None:
        super().__init__()
        self._reader = reader

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._reader.readinto(buffer)


def iter_entries(stream: BinaryIO, *, what: str = "layer") -> Iterator[TarEntry]:
    """The entries of an uncompressed tar stream, skipping their bodies."""
    return iter(TarReader(stream, what=what))


def _number(field_: bytes, where: str) -> int:
    """A numeric header field: octal ASCII, or GNU base-256 when the high bit is set."""
    if field_ and field_[0] & 0x80:
        if field_[0] == 0xFF:
            return int.from_bytes(field_, "big", signed=True)
        return int.from_bytes(bytes([field_[0] & 0x7F]) + field_[1:], "big")
    text = field_.split(b"\0", 1)[0].strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise InvalidLayer(f"{where}: bad numeric field {field_!r}") from None


def _compressed_hint(head: bytes) -> str:
    kind = "gzip" if head.startswith(b"\x1f\x8b") else "zstd" if head.startswith(b"\x28\xb5\x2f\xfd") else ""
    return f" (it looks {kind}-compressed)" if kind else ""


def _number_or(field_: bytes, default: int) -> int:
    try:
        return _number(field_, "")
    except InvalidLayer:
        return default


def _pax_int(pax: dict[str, bytes], key: str, default: int, where: str) -> int:
    value = pax.get(key)
    if not value:
        return default
    try:
        if key == "mtime":
            whole, _, frac = value.partition(b".")
            n = int(whole)
            return n - 1 if n <= 0 and whole.startswith(b"-") and frac.strip(b"0") else n
        return int(value)
    except ValueError:
        raise InvalidLayer(f"{where}: bad PAX {key} {value!r}") from None
