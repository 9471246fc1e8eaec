"""The metadata scanner reads every tar flavour the lean TarReader reads, with the same entries, and feeds probes."""

from __future__ import annotations

import io
import tarfile

import pytest

from dockyard.analyze.tarscan import scan_layer
from dockyard.errors import InvalidLayer
from dockyard.layers.tarreader import TarReader

LONG = "d/" + "x" * 150 + "/" + "y" * 120


def _tar(fmt: int, *, big_uid: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data in (("a.txt", b"a" * 10), (LONG, b"long" * 300), ("caf\u00e9 \u2603", b"u"),
                           ("big", bytes(3 << 20)), ("z", b"z")):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid = len(data), 0o4755, (1 << 22) if big_uid and name == "z" else 1000
            tar.addfile(info, io.BytesIO(data))
        for kind, name, link in ((tarfile.SYMTYPE, "s", "a.txt"), (tarfile.LNKTYPE, "h", LONG),
                                 (tarfile.DIRTYPE, "dir", "")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            tar.addfile(info)
    return buf.getvalue()


def _same(data: bytes) -> list[object]:
    ours = scan_layer(io.BytesIO(data))
    theirs = list(TarReader(io.BytesIO(data)))
    strip = [e._replace(uname="", gname="", mtime=0) for e in theirs]
    assert [e._replace(uname="", gname="", mtime=0) for e in ours] == strip
    return list(ours)


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_analyze_scan_formats(fmt: int) -> None:
    if fmt == tarfile.USTAR_FORMAT:
        with pytest.raises(ValueError):
            _tar(fmt)  # names too long for ustar: tarfile refuses, nothing to compare
        return
    entries = _same(_tar(fmt))
    assert [e.path for e in entries][:3] == ["a.txt", LONG, "caf\u00e9 \u2603"]  # type: ignore[attr-defined]


def test_analyze_scan_base256_falls_back() -> None:
    _same(_tar(tarfile.GNU_FORMAT, big_uid=True))


def test_analyze_scan_probes_get_bodies() -> None:
    data = _tar(tarfile.PAX_FORMAT)
    seen: dict[str, bytearray] = {}

    class Sink:
        def __init__(self, name: str) -> None:
            self.name = name
            seen[name] = bytearray()

        def feed(self, chunk: bytes | memoryview) -> bool:
            seen[self.name] += chunk
            return True

    scan_layer(io.BytesIO(data), probe=lambda e: Sink(e.path), probe_magic=b"\0\0", probe_min_size=1 << 20,
               probe_names=lambda p: p == "a.txt")
    assert seen == {"a.txt": bytearray(b"a" * 10), "big": bytearray(3 << 20)}


@pytest.mark.parametrize(("data", "words"), [
    (b"not a tar" * 100, "not a tar archive"),
    (b"\x1f\x8b\x08" + bytes(1000), "gzip-compressed"),
])
def test_analyze_scan_rejects_garbage(data: bytes, words: str) -> None:
    with pytest.raises(InvalidLayer, match=words):
        scan_layer(io.BytesIO(data))


def test_analyze_scan_truncated() -> None:
    data = _tar(tarfile.PAX_FORMAT)
    for cut in (700, 5000, len(data) // 2):
        with pytest.raises(InvalidLayer, match="truncated"):
            scan_layer(io.BytesIO(data[:cut]))


def test_analyze_scan_refuses_dotdot() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(tarfile.TarInfo("ok"), io.BytesIO(b""))
        tar.addfile(tarfile.TarInfo("a/../../etc/passwd"), io.BytesIO(b""))
    with pytest.raises(InvalidLayer, match="escapes"):
        scan_layer(io.BytesIO(buf.getvalue()))
