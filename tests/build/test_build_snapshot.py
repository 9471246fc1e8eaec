"""snapshot_upper: overlay upper dirs (real overlayfs, and hand-made ones) to normalized OCI layers."""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import pytest

from dockyard.build.sandbox.detect import overlay_problem
from dockyard.build.sandbox.overlay import overlay_mount
from dockyard.build.snapshot import snapshot_upper
from dockyard.errors import InvalidArgument
from dockyard.layers.extract import extract_layers
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import Compression, MediaType
from dockyard.testing.peers import missing_peer


def _root() -> None:
    if os.geteuid() != 0:
        missing_peer("whiteout device nodes and trusted.* xattrs need root")


def _members(blob: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(blob) as tar:
        return tar.getmembers()


def _upper(tmp: Path) -> Path:
    """A hand-made overlay upper dir: a whiteout, an opaque dir, hardlinks, xattrs."""
    up = tmp / "upper"
    (up / "etc").mkdir(parents=True)
    os.setxattr(up / "etc", "trusted.overlay.opaque", b"y")
    (up / "etc" / "y").write_text("x\n")
    (up / "bin").mkdir()
    os.mknod(up / "bin" / "ls", 0o020000, os.makedev(0, 0))
    (up / "z-first").write_text("linked")
    os.link(up / "z-first", up / "a-second")
    (up / "cap").write_text("")
    os.setxattr(up / "cap", "user.keep", b"1")
    os.setxattr(up / "cap", "trusted.overlay.origin", b"junk")
    os.symlink("/etc/y", up / "link")
    (up / "bin" / "xw").write_bytes(b"")
    os.setxattr(up / "bin" / "xw", "trusted.overlay.whiteout", b"")
    return up


def test_build_snapshot_maps_overlay_markers(tmp_path: Path) -> None:
    _root()
    layer = snapshot_upper(_upper(tmp_path), tmp_path / "blob", Compression.GZIP, source_date_epoch=100)
    assert layer.descriptor.media_type == MediaType.OCI_LAYER_GZIP
    with open(tmp_path / "blob", "rb") as blob:
        assert Digest.of_stream(blob)[0] == layer.descriptor.digest
    members = _members(tmp_path / "blob")
    names = [m.name for m in members]
    assert names == ["a-second", "bin", "bin/.wh.ls", "bin/.wh.xw", "cap", "etc", "etc/.wh..wh..opq", "etc/y", "link",
                     "z-first"]
    by = {m.name: m for m in members}
    assert by["a-second"].isfile() and by["a-second"].size == 6
    assert by["z-first"].islnk() and by["z-first"].linkname == "a-second"
    assert by["bin/.wh.ls"].isfile() and by["bin/.wh.ls"].size == 0
    assert by["cap"].pax_headers == {"SCHILY.xattr.user.keep": "1"}
    assert "trusted.overlay" not in str(by["etc"].pax_headers)
    assert all(m.mtime <= 100 for m in members)
    with layer.open_uncompressed() as tar:
        assert Digest.of_stream(tar)[0] == layer.diff_id()


def test_build_snapshot_is_reproducible(tmp_path: Path) -> None:
    _root()
    up = _upper(tmp_path)
    one = snapshot_upper(up, tmp_path / "one", Compression.ZSTD, source_date_epoch=0)
    os.utime(up / "etc" / "y", (5000, 5000))
    two = snapshot_upper(up, tmp_path / "two", Compression.ZSTD, source_date_epoch=0)
    assert one.descriptor.digest == two.descriptor.digest
    assert one.diff_id() == two.diff_id()


def test_build_snapshot_applies_like_overlay(tmp_path: Path) -> None:
    """Changes made through a real overlay mount, snapshotted and extracted, equal the merged view."""
    _root()
    lower = tmp_path / "lower"
    (lower / "etc" / "old").mkdir(parents=True)
    (lower / "etc" / "old" / "f").write_text("old")
    (lower / "keep").write_text("keep")
    (lower / "gone").write_text("gone")
    (lower / "d").mkdir()
    upper = tmp_path / "upper"
    problem = overlay_problem()
    if problem is not None:
        missing_peer(f"overlayfs is not usable here: {problem}")
    with overlay_mount([lower], upper, tmp_path / "work", tmp_path / "merged") as merged:
        (merged / "gone").unlink()
        shutil.rmtree(merged / "etc")
        (merged / "etc").mkdir()
        (merged / "etc" / "new").write_text("new")
        (merged / "d" / "added").write_text("added")
        expected = sorted(str(p.relative_to(merged)) for p in merged.rglob("*"))
    base = tmp_path / "base"
    shutil.copytree(lower, base, dirs_exist_ok=True)
    layer = snapshot_upper(upper, tmp_path / "blob", Compression.NONE)
    extract_layers([layer], base)
    assert sorted(str(p.relative_to(base)) for p in base.rglob("*")) == expected
    assert (base / "etc" / "new").read_text() == "new"


def test_build_snapshot_rejects_missing_upper(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument):
        snapshot_upper(tmp_path / "nope", tmp_path / "blob")
