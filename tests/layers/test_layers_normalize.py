"""Rewriting an arbitrary tar as a normalized one: order, duplicates, hardlink groups, owners' names, mtimes."""

from __future__ import annotations

import io
import tarfile

import pytest

from dockyard.errors import InvalidLayer
from dockyard.layers.normalize import normalize_tar
from dockyard.layers.tarreader import EntryType, TarReader


def messy_tar(*entries: tuple[str, bytes, str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, kind, link, data in entries:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mtime = kind, link, 2_000_000_000
            info.uname, info.gname = "builder", "staff"
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class _Pipe(io.RawIOBase):
    """Not seekable, so normalize_tar has to spool."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._inner.readinto(buffer)


@pytest.mark.parametrize("seekable", [True, False])
def test_normalize_tar(tmp_path: object, seekable: bool) -> None:
    data = messy_tar(("./z/file", tarfile.REGTYPE, "", b"body"), ("./a/link", tarfile.LNKTYPE, "./z/file", b""),
                     ("./m/second", tarfile.LNKTYPE, "a/link", b""), ("./dup", tarfile.REGTYPE, "", b"old"),
                     ("./dup", tarfile.REGTYPE, "", b"new"), ("./", tarfile.DIRTYPE, "", b""))
    out = io.BytesIO()
    source = io.BytesIO(data) if seekable else io.BufferedReader(_Pipe(data))
    assert normalize_tar(source, out, source_date_epoch=1_000) == 4  # type: ignore[arg-type]
    reader = TarReader(io.BytesIO(out.getvalue()))
    got = [(e.path, e.type, e.linkname, reader.read(), e.uname, e.mtime) for e in reader]
    assert got == [
        ("a/link", EntryType.FILE, "", b"body", "", 1_000),
        ("dup", EntryType.FILE, "", b"new", "", 1_000),
        ("m/second", EntryType.HARDLINK, "a/link", b"", "", 1_000),
        ("z/file", EntryType.HARDLINK, "a/link", b"", "", 1_000),
    ]


def test_dangling_hardlink_is_invalid() -> None:
    with pytest.raises(InvalidLayer, match="has no target"):
        normalize_tar(io.BytesIO(messy_tar(("h", tarfile.LNKTYPE, "nowhere", b""))), io.BytesIO())
