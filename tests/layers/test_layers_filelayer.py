"""File-backed layers: one-pass digests, normalization from trees and tars, recompression, peer interop."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument, InvalidLayer, NotFound
from dockyard.layers.compression import decompress
from dockyard.layers.extract import extract_layers
from dockyard.layers.filelayer import FileLayer, build_layer, layer_from_tar
from dockyard.layers.members import Member, write_members
from dockyard.layers.tarreader import iter_entries
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import Compression, MediaType
from dockyard.oci.protocols import Layer
from dockyard.testing.peers import require_tool

NO_CLAMP = 8**11 - 1


def check_layer(layer: FileLayer) -> None:
    """Descriptor and diff_id agree with the bytes on disk, recomputed independently."""
    blob = layer.path.read_bytes()
    assert layer.descriptor.digest == Digest.of(blob) and layer.descriptor.size == len(blob)
    with layer.open_uncompressed() as tar:
        assert layer.diff_id() == Digest.of_stream(tar)[0]
    fresh = FileLayer.from_blob(layer.path)
    assert fresh.descriptor == layer.descriptor and fresh.diff_id() == layer.diff_id()
    assert isinstance(layer, Layer)


@pytest.mark.parametrize("compression", list(Compression))
def test_build_from_directory(tmp_path: Path, tree: Path, compression: Compression) -> None:
    layer = build_layer(tree, tmp_path / "blob", compression)
    check_layer(layer)
    assert layer.descriptor.media_type == {Compression.GZIP: MediaType.OCI_LAYER_GZIP,
                                           Compression.ZSTD: MediaType.OCI_LAYER_ZSTD,
                                           Compression.NONE: MediaType.OCI_LAYER}[compression]
    docker = build_layer(tree, tmp_path / "docker-blob", compression, docker_media_types=True)
    assert docker.descriptor.media_type.startswith("application/vnd.docker.image.rootfs.diff.tar")
    assert docker.diff_id() == layer.diff_id()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_determinism(tmp_path: Path, tree_factory: Callable[[Path], Path]) -> None:
    one, two = tree_factory(tmp_path / "one"), tree_factory(tmp_path / "two")
    for path in two.rglob("*"):
        if not path.is_symlink():
            os.utime(path, (1_000_000_000, 1_000_000_000))
    a, b = build_layer(one, tmp_path / "a.tgz"), build_layer(two, tmp_path / "b.tgz")
    assert a.descriptor.digest == b.descriptor.digest and a.diff_id() == b.diff_id()
    threaded = [build_layer(one, tmp_path / f"t{i}.tgz", threads=2) for i in range(2)]
    assert threaded[0].descriptor.digest == threaded[1].descriptor.digest
    assert threaded[0].diff_id() == a.diff_id()
    c = build_layer(one, tmp_path / "c.tgz", source_date_epoch=NO_CLAMP)
    d = build_layer(two, tmp_path / "d.tgz", source_date_epoch=NO_CLAMP)
    assert c.diff_id() != d.diff_id()


def test_gnu_tar_stream_normalizes_to_the_same_layer(tmp_path: Path, tree: Path) -> None:
    """A GNU tar of the tree (./ names, its own order, uname/gname, hardlink choice) normalizes to our bytes."""
    tar = require_tool("tar")
    archive = tmp_path / "gnu.tar"
    subprocess.run([tar, "--format=gnu", "-C", str(tree), "-cf", str(archive), "."], check=True)
    from_dir = build_layer(tree, tmp_path / "dir.tgz")
    from_path = build_layer(archive, tmp_path / "path.tgz")
    with open(archive, "rb") as f:
        from_stream = build_layer(io.BytesIO(gzip.compress(f.read())), tmp_path / "stream.tgz")
    assert from_dir.diff_id() == from_path.diff_id() == from_stream.diff_id()
    assert from_dir.descriptor.digest == from_stream.descriptor.digest


def test_layer_from_tar_keeps_bytes(tmp_path: Path, tree: Path) -> None:
    tar = require_tool("tar")
    archive = tmp_path / "orig.tar"
    subprocess.run([tar, "-C", str(tree), "-cf", str(archive), "."], check=True)
    original = Digest.of(archive.read_bytes())
    plain = layer_from_tar(archive, tmp_path / "plain.tgz")
    check_layer(plain)
    assert plain.diff_id() == original
    zst = tmp_path / "orig.tar.zst"
    zst.write_bytes(layer_from_tar(archive, tmp_path / "z", Compression.ZSTD).path.read_bytes())
    with open(zst, "rb") as f:
        again = layer_from_tar(f, tmp_path / "again.tgz", Compression.GZIP, docker_media_types=True)
    assert again.diff_id() == original and again.descriptor.media_type == MediaType.DOCKER_LAYER_GZIP
    assert again.descriptor.digest == plain.descriptor.digest


def test_layer_from_tar_rejects_corrupt_input_and_leaves_nothing(tmp_path: Path) -> None:
    data = io.BytesIO()
    write_members([Member.file("a", b"x" * 4000)], data)
    dest = tmp_path / "out" / "blob"
    with pytest.raises(InvalidLayer, match="truncated"):
        layer_from_tar(io.BytesIO(data.getvalue()[:2000]), dest)
    with pytest.raises(InvalidLayer, match="not a tar archive"):
        layer_from_tar(io.BytesIO(b"definitely not a tar" * 100), dest)
    assert list((tmp_path / "out").iterdir()) == []
    with pytest.raises(InvalidArgument):
        build_layer(tmp_path / "missing", dest)


def test_from_blob_errors_and_detection(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        FileLayer.from_blob(tmp_path / "nope")
    buf = io.BytesIO()
    write_members([Member.file("f", b"hello")], buf)
    (tmp_path / "plain.tar").write_bytes(buf.getvalue())
    (tmp_path / "z.tar.gz").write_bytes(gzip.compress(buf.getvalue()))
    plain, gz = FileLayer.from_blob(tmp_path / "plain.tar"), FileLayer.from_blob(tmp_path / "z.tar.gz")
    assert plain.descriptor.media_type == MediaType.OCI_LAYER and plain.compression is Compression.NONE
    assert gz.descriptor.media_type == MediaType.OCI_LAYER_GZIP
    assert plain.diff_id() == gz.diff_id() == Digest.of(buf.getvalue())


def test_gnu_tar_extracts_our_layer_identically(tmp_path: Path, tree: Path, snap: Callable[..., object]) -> None:
    tar = require_tool("tar")
    layer = build_layer(tree, tmp_path / "layer.tgz", source_date_epoch=NO_CLAMP, threads=2)
    out = tmp_path / "gnu-out"
    out.mkdir()
    subprocess.run([tar, "-C", str(out), "-xzpf", str(layer.path)], check=True)
    assert snap(out) == snap(tree)
    ours = tmp_path / "our-out"
    extract_layers([layer], ours, preserve_owners=True)
    assert snap(ours) == snap(tree)


def test_zstd_layer_extracts_with_zstd_cli(tmp_path: Path, busybox_root: Path,
                                           snap: Callable[..., object]) -> None:
    layer = build_layer(busybox_root, tmp_path / "bb.tar.zst", Compression.ZSTD, source_date_epoch=NO_CLAMP)
    check_layer(layer)
    out = tmp_path / "out"
    extract_layers([layer], out, preserve_owners=True)
    assert snap(out) == snap(busybox_root)
    zstd = require_tool("zstd")
    plain = subprocess.run([zstd, "-dc", str(layer.path)], check=True, capture_output=True).stdout
    assert Digest.of(plain) == layer.diff_id()


def test_busybox_layer_via_layer_protocol_and_whiteout_layer(tmp_path: Path, busybox_root: Path) -> None:
    base = build_layer(busybox_root, tmp_path / "base.tgz")
    patch = io.BytesIO()
    write_members([Member.whiteout("bin/sh"), Member.file("etc/motd", b"hi\n")], patch)
    patch.seek(0)
    top = build_layer(patch, tmp_path / "top.tgz")
    out = tmp_path / "rootfs"
    result = extract_layers([base, top], out)
    assert not os.path.lexists(out / "bin" / "sh") and (out / "bin" / "busybox").is_file()
    assert (out / "etc" / "motd").read_text() == "hi\n" and result.whiteouts == 1
    names = {e.path for e in iter_entries(decompress(top.open()))}
    assert names == {"bin/.wh.sh", "etc/motd"}


def test_build_layer_streams_hash_equals_sha256_of_decompressed(tmp_path: Path, tree: Path) -> None:
    layer = build_layer(tree, tmp_path / "l.tgz")
    raw = gzip.decompress(layer.path.read_bytes())
    assert layer.diff_id().hex == hashlib.sha256(raw).hexdigest()


def test_layers_background_writer_keeps_order_and_raises_worker_errors() -> None:
    import io as _io

    import pytest as _pytest

    from dockyard.layers.filelayer import _Background

    out = _io.BytesIO()
    bg = _Background(out)  # type: ignore[arg-type]
    buf = bytearray(b"a" * 10)
    bg.write(memoryview(buf))
    buf[:] = b"b" * 10  # the caller reuses its buffer: the queued copy must not change
    bg.write(bytes(buf))
    bg.close()
    assert out.getvalue() == b"a" * 10 + b"b" * 10

    class Full(_io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, data: object) -> int:
            raise OSError(28, "No space left on device")

    bad = _Background(Full())  # type: ignore[arg-type]
    with _pytest.raises(OSError, match="No space left"):
        for _ in range(100):  # the first write is accepted; a later one (or close) reports the failure
            bad.write(b"x" * 1024)
        bad.close()
