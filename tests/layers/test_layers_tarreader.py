"""The lean tar reader agrees with stdlib tarfile on real GNU tar output and rejects corrupt input precisely."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.errors import InvalidLayer, Unsupported
from dockyard.layers.compression import decompress
from dockyard.layers.tarreader import EntryType, TarEntry, TarReader, iter_entries, normalize
from dockyard.testing.peers import require_tool

_KINDS = {tarfile.REGTYPE: EntryType.FILE, tarfile.AREGTYPE: EntryType.FILE, tarfile.CONTTYPE: EntryType.FILE,
          tarfile.LNKTYPE: EntryType.HARDLINK, tarfile.SYMTYPE: EntryType.SYMLINK, tarfile.CHRTYPE: EntryType.CHAR,
          tarfile.BLKTYPE: EntryType.BLOCK, tarfile.DIRTYPE: EntryType.DIR, tarfile.FIFOTYPE: EntryType.FIFO}


def stdlib_view(path: Path) -> list[tuple[object, ...]]:
    out = []
    with tarfile.open(path) as tf:
        for m in tf:
            kind = _KINDS[m.type]
            xattrs = {k[13:]: v.encode("utf-8", "surrogateescape")
                      for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr.")}
            link = normalize(m.linkname) if kind is EntryType.HARDLINK else m.linkname
            devs = (m.devmajor, m.devminor) if kind in (EntryType.CHAR, EntryType.BLOCK) else (0, 0)
            size = m.size if kind is EntryType.FILE else 0
            out.append((normalize(m.name), kind, size, m.mode & 0o7777, m.uid, m.gid, m.uname, m.gname,
                        int(m.mtime), link, *devs, xattrs, m.offset_data))
    return out


def lean_view(path: Path, *, seekable: bool = True) -> list[tuple[object, ...]]:
    data = path.read_bytes()
    stream = io.BytesIO(data) if seekable else _Forward(data)
    return [(*e[:12], dict(e.xattrs), e.offset) for e in iter_entries(stream)]  # type: ignore[arg-type]


class _Forward(io.RawIOBase):
    """A stream that cannot seek and returns short reads, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), 700, len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        buf = bytearray(n if n >= 0 else len(self._data))
        got = self.readinto(memoryview(buf))
        return bytes(buf[:got])


def gnu_tar(src: Path, out: Path, *args: str) -> Path:
    tar = require_tool("tar")
    subprocess.run([tar, *args, "-C", str(src), "-cf", str(out), "."], check=True, capture_output=True)
    return out


@pytest.mark.parametrize("fmt", ["gnu", "posix", "ustar", "v7"])
def test_matches_tarfile_on_gnu_tar_output(tmp_path: Path, tree: Path, add_socket: Callable[[Path], None],
                                           fmt: str) -> None:
    if fmt in ("ustar", "v7"):  # these formats cannot hold long names or link targets
        os.unlink(tree / "long-target-link")
    if fmt == "v7":
        shutil.rmtree(tree / "deep")
    os.setxattr(tree / "etc" / "hostname", "user.note", b"\x00binary\xff")
    args = [f"--format={fmt}"] + (["--xattrs"] if fmt == "posix" else [])
    archive = gnu_tar(tree, tmp_path / f"{fmt}.tar", *args)
    expected = stdlib_view(archive)
    assert lean_view(archive) == expected
    assert lean_view(archive, seekable=False) == expected
    paths = [e[0] for e in expected]
    assert fmt == "v7" or "deep/" + "d" * 60 + "/" + "e" * 60 + "/" + "f" * 90 in paths
    assert "unicodé ✓/naïve-文件.txt" in paths
    if fmt == "posix":
        [hostname] = [e for e in expected if e[0] == "etc/hostname"]
        assert hostname[12] == {"user.note": b"\x00binary\xff"}


def test_devices_fifos_and_owners(tmp_path: Path, tree: Path, add_root_only: Callable[[Path], None]) -> None:
    add_root_only(tree)
    archive = gnu_tar(tree, tmp_path / "dev.tar", "--format=gnu")
    entries = {e.path: e for e in iter_entries(io.BytesIO(archive.read_bytes()))}
    assert (entries["null"].type, entries["null"].devmajor, entries["null"].devminor) == (EntryType.CHAR, 1, 3)
    assert entries["pipe"].type is EntryType.FIFO
    assert (entries["owned"].uid, entries["owned"].gid) == (1234, 5678)
    assert lean_view(archive) == stdlib_view(archive)


def test_busybox_rootfs_matches_tarfile(tmp_path: Path, busybox_root: Path) -> None:
    archive = gnu_tar(busybox_root, tmp_path / "busybox.tar")
    view = lean_view(archive)
    assert view == stdlib_view(archive)
    symlinks = [e for e in view if e[1] is EntryType.SYMLINK]
    assert len(symlinks) > 100


def test_bodies_read_and_skipped(tmp_path: Path, tree: Path) -> None:
    archive = gnu_tar(tree, tmp_path / "t.tar")
    reader = TarReader(io.BytesIO(archive.read_bytes()))
    seen = {}
    for entry in reader:
        if entry.path == "etc/hostname":
            seen[entry.path] = reader.read()
        elif entry.path == "sparse.img":
            body = reader.body()
            head = body.read(5 << 20)
            seen[entry.path] = head + body.read(6)  # the rest is skipped by the next iteration
    assert seen == {"etc/hostname": b"dockyard\n", "sparse.img": bytes(5 << 20) + b"middle"}


def test_normalize() -> None:
    assert normalize("./a//b/./c/") == "a/b/c"
    assert normalize("/etc/passwd") == "etc/passwd"
    assert normalize("./") == "."
    assert normalize("../x") == "../x"
    assert normalize(".wh.foo") == ".wh.foo"


def _header(name: bytes, *, size: int = 0, flag: bytes = b"0", raw_size: bytes | None = None) -> bytearray:
    info = tarfile.TarInfo(name.decode())
    info.size = size
    info.type = flag
    block = bytearray(info.tobuf(tarfile.USTAR_FORMAT))
    if raw_size is not None:
        block[124:136] = raw_size
        block[148:156] = b" " * 8
        block[148:156] = b"%06o\0 " % sum(block)
    return block


def _read_all(data: bytes) -> list[TarEntry]:
    reader = TarReader(io.BytesIO(data), what="test layer")
    out = []
    for entry in reader:
        reader.read()
        out.append(entry)
    return out


def test_truncated_body_and_header() -> None:
    data = bytes(_header(b"file", size=1000)) + b"x" * 1000 + bytes(24) + bytes(1024)
    assert [e.path for e in _read_all(data)] == ["file"]
    with pytest.raises(InvalidLayer, match="truncated tar: stream ends inside entry body"):
        _read_all(data[:900])
    with pytest.raises(InvalidLayer, match="truncated tar: stream ends inside header at offset 1536"):
        _read_all(data[:1536] + bytes(_header(b"next"))[:100])
    with pytest.raises(InvalidLayer, match="truncated"):  # skipping a body by seeking must notice too
        list(iter_entries(io.BytesIO(data[:900])))


def test_bad_checksum() -> None:
    block = _header(b"file")
    block[0:4] = b"evil"
    with pytest.raises(InvalidLayer, match="not a tar archive: bad header checksum at offset 0"):
        _read_all(bytes(block))
    good = bytes(_header(b"a"))
    with pytest.raises(InvalidLayer, match=r"test layer: header at offset 512: bad header checksum"):
        _read_all(good + bytes(block))


def test_compressed_input_gets_a_hint() -> None:
    import gzip

    with pytest.raises(InvalidLayer, match="looks gzip-compressed"):
        _read_all(gzip.compress(bytes(_header(b"a")) + bytes(1024)))


def test_negative_and_absurd_sizes() -> None:
    negative = b"\xff" + b"\xff" * 11  # GNU base-256 -1
    with pytest.raises(InvalidLayer, match="implausible entry size -1"):
        _read_all(bytes(_header(b"neg", raw_size=negative)))
    huge = b"\x80" + (1 << 60).to_bytes(11, "big")
    with pytest.raises(InvalidLayer, match="implausible entry size"):
        _read_all(bytes(_header(b"huge", raw_size=huge)))
    with pytest.raises(InvalidLayer, match="bad numeric field"):
        _read_all(bytes(_header(b"junk", raw_size=b"12x4\0\0\0\0\0\0\0\0")))


def test_base256_size_is_read() -> None:
    data = bytes(_header(b"f", raw_size=b"\x80" + (3).to_bytes(11, "big"))) + b"abc" + bytes(509) + bytes(1024)
    reader = TarReader(io.BytesIO(data))
    entry = next(reader)
    assert (entry.size, reader.read()) == (3, b"abc")


def test_pax_global_and_local_headers() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT,
                      pax_headers={"uname": "globaluser"}) as tf:
        info = tarfile.TarInfo("short")
        info.pax_headers = {"path": "pax/overridden/name", "mtime": "12.75", "uid": "3000000"}
        tf.addfile(info)
        tf.addfile(tarfile.TarInfo("second"))
    first, second = _read_all(buf.getvalue())
    assert (first.path, first.mtime, first.uid, first.uname) == ("pax/overridden/name", 12, 3000000, "globaluser")
    assert (second.path, second.uname) == ("second", "globaluser")


def test_malformed_pax_record() -> None:
    records = b"30 path=too-short\n"
    data = bytes(_header(b"././@PaxHeader", size=len(records), flag=b"x")) + records + bytes(512 - len(records))
    with pytest.raises(InvalidLayer, match="malformed PAX record"):
        _read_all(data + bytes(_header(b"f")) + bytes(1024))


def test_gnu_sparse_is_unsupported(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "holes", "wb") as f:
        f.truncate(8 << 20)
        f.write(b"data")
    archive = gnu_tar(src, tmp_path / "sparse.tar", "--sparse", "--format=gnu")
    with pytest.raises(Unsupported, match="sparse"):
        list(iter_entries(io.BytesIO(archive.read_bytes())))


def test_v7_directory_with_trailing_slash_and_empty_stream() -> None:
    block = _header(b"olddir/", flag=b"\0")
    assert [(e.path, e.type) for e in _read_all(bytes(block) + bytes(1024))] == [("olddir", EntryType.DIR)]
    assert _read_all(b"") == []


def test_reads_through_decompress(tmp_path: Path, tree: Path) -> None:
    archive = gnu_tar(tree, tmp_path / "t.tar")
    gz = tmp_path / "t.tar.gz"
    subprocess.run(["gzip", "-k", str(archive)], check=True)
    with open(gz, "rb") as f:
        assert [(*e[:12], dict(e.xattrs), e.offset) for e in iter_entries(decompress(f))] == stdlib_view(archive)
