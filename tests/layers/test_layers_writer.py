"""Normalized tar writing: deterministic bytes, sorted entries, clamped mtimes, PAX only when needed."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument
from dockyard.layers.members import Member, write_members
from dockyard.layers.tarreader import EntryType, TarReader, iter_entries
from dockyard.layers.writer import TarWriter, write_tree
from dockyard.testing.peers import require_tool


def tar_of(root: Path, **kw: object) -> bytes:
    buf = io.BytesIO()
    write_tree(root, buf, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


def test_same_tree_twice_same_bytes(tmp_path: Path, tree_factory: Callable[[Path], Path]) -> None:
    one, two = tree_factory(tmp_path / "one"), tree_factory(tmp_path / "two")
    os.utime(two / "etc" / "hostname", (123456, 123456))
    assert tar_of(one) == tar_of(two)  # conftest sets SOURCE_DATE_EPOCH=0: every mtime clamps to 0
    assert tar_of(one, source_date_epoch=8**11 - 1) != tar_of(two, source_date_epoch=8**11 - 1)


def test_source_date_epoch_clamps_only_newer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "old").write_text("old")
    (tmp_path / "new").write_text("new")
    os.utime(tmp_path / "old", (500, 500))
    os.utime(tmp_path / "new", (2000, 2000))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000")
    mtimes = {e.path: e.mtime for e in iter_entries(io.BytesIO(tar_of(tmp_path)))}
    assert mtimes == {"old": 500, "new": 1000}
    mtimes = {e.path: e.mtime for e in iter_entries(io.BytesIO(tar_of(tmp_path, source_date_epoch=1500)))}
    assert mtimes == {"old": 500, "new": 1500}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    with pytest.raises(InvalidArgument, match="SOURCE_DATE_EPOCH"):
        tar_of(tmp_path)


def test_sorted_parents_first_and_clean_headers(tree: Path) -> None:
    data = tar_of(tree)
    entries = list(iter_entries(io.BytesIO(data)))
    paths = [e.path for e in entries]
    assert [os.fsencode(p) for p in paths] == sorted(os.fsencode(p) for p in paths)
    seen: set[str] = set()
    for path in paths:
        parent = path.rpartition("/")[0]
        assert not parent or parent in seen
        seen.add(path)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        members = tf.getmembers()
    assert all(m.uname == "" and m.gname == "" for m in members)
    assert all(not m.name.startswith(("./", "/")) for m in members)
    raw_names = {data[i : i + 100].split(b"\0")[0] for i in range(0, len(data), 512)}
    assert {b"etc/", b"etc/passwd", b"empty/"} <= raw_names  # directories carry a trailing slash


def test_pax_only_when_needed(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    assert b"././@PaxHeader" not in tar_of(tmp_path)
    (tmp_path / ("n" * 150)).write_text("long")
    data = tar_of(tmp_path)
    assert data.count(b"././@PaxHeader") == 1
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        assert sorted(tf.getnames()) == ["n" * 150, "plain"]


def test_ustar_prefix_split_without_pax() -> None:
    path = "p" * 120 + "/" + "q" * 90
    buf = io.BytesIO()
    write_members([Member.file(path, b"data")], buf)
    assert b"././@PaxHeader" not in buf.getvalue()
    [entry] = list(iter_entries(io.BytesIO(buf.getvalue())))
    assert entry.path == path


def test_xattrs_kept_and_dropped(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    os.setxattr(f, "user.keep", b"\x01\x02")
    wanted = {"user.keep": b"\x01\x02"}
    if os.geteuid() == 0:
        os.setxattr(f, "trusted.overlay.opaque", b"y")
        with contextlib.suppress(OSError):  # some kernels refuse security.* without an LSM
            os.setxattr(f, "security.selinux", b"system_u:object_r:tmp_t:s0")
        os.setxattr(f, "trusted.other", b"kept")
        wanted["trusted.other"] = b"kept"
    [entry] = list(iter_entries(io.BytesIO(tar_of(tmp_path))))
    assert dict(entry.xattrs) == wanted
    [entry] = list(iter_entries(io.BytesIO(tar_of(tmp_path, xattrs=False))))
    assert dict(entry.xattrs) == {}


def test_hardlinks_sockets_devices(tmp_path: Path, add_socket: Callable[[Path], None],
                                   add_root_only: Callable[[Path], None]) -> None:
    (tmp_path / "b").write_text("shared")
    os.link(tmp_path / "b", tmp_path / "a")
    os.link(tmp_path / "b", tmp_path / "c")
    add_socket(tmp_path / "sock")
    add_root_only(tmp_path)
    buf = io.BytesIO()
    stats = write_tree(tmp_path, buf)
    assert stats.skipped_sockets == ("sock",)
    reader = TarReader(io.BytesIO(buf.getvalue()))
    got = {}
    for e in reader:
        got[e.path] = (e.type, e.linkname, reader.read(), e.uid, e.gid, e.devmajor, e.devminor)
    assert got["a"] == (EntryType.FILE, "", b"shared", 0, 0, 0, 0)
    assert got["b"][:2] == got["c"][:2] == (EntryType.HARDLINK, "a")
    assert got["null"][0] is EntryType.CHAR and got["null"][5:] == (1, 3)
    assert got["pipe"][0] is EntryType.FIFO
    assert got["owned"][3:5] == (1234, 5678)


def test_members_golden_digest() -> None:
    members = [
        Member.dir("etc", mtime=1700000000),
        Member.file("etc/os-release", b"ID=dockyard\n", mtime=1700000000),
        Member.symlink("bin", "usr/bin"),
        Member.hardlink("etc/os-release.bak", "etc/os-release"),
        Member.file("usr/bin/tool", b"\x7fELF", mode=0o755, uid=1000, gid=1000),
        Member.fifo("run/fifo"),
        Member.device("dev/null", EntryType.CHAR, 1, 3),
        Member.whiteout("var/cache"),
        Member.opaque("opt"),
        Member.file("x" * 101, b"", xattrs={"user.a": b"1", "trusted.overlay.origin": b"drop"}),
    ]
    buf = io.BytesIO()
    assert write_members(reversed(members), buf, source_date_epoch=1600000000) == len(members)
    data = buf.getvalue()
    assert hashlib.sha256(data).hexdigest() == GOLDEN_MEMBERS_SHA256
    entries = {e.path: e for e in iter_entries(io.BytesIO(data))}
    assert entries["etc"].mtime == 1600000000
    assert "var/.wh.cache" in entries and "opt/.wh..wh..opq" in entries
    assert dict(entries["x" * 101].xattrs) == {"user.a": b"1"}


#: Pins the exact bytes; checked by hand with GNU tar 1.34, busybox tar and tarfile when recorded.
GOLDEN_MEMBERS_SHA256 = "dcb83bb7f56d10bf1d121d2044263b9f9c1206961dac3d575a868a0d7c38adc4"


def test_writer_refuses_escapes_and_bad_bodies() -> None:
    writer = TarWriter(io.BytesIO())
    with pytest.raises(InvalidArgument, match="escapes the root"):
        writer.add(Member.file("../evil", b"x").entry, b"x")
    with pytest.raises(InvalidArgument, match="body has 1 bytes"):
        writer.add(Member.file("f", b"xy").entry, b"x")


def test_gnu_tar_reads_what_we_write(tmp_path: Path, tree: Path, snap: Callable[..., object]) -> None:
    tar = require_tool("tar")
    archive = tmp_path / "ours.tar"
    archive.write_bytes(tar_of(tree, source_date_epoch=8**11 - 1))
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run([tar, "-C", str(out), "-xpf", str(archive)], check=True, capture_output=True)
    assert snap(out) == snap(tree)
    shutil.rmtree(out)
