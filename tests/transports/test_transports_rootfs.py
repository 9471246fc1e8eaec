"""`imported()`: root filesystems (directories and tars) become one-layer images; hostile tars are refused."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import tarfile
from pathlib import Path

import pytest
import zstandard

from dockyard.errors import InvalidArgument, InvalidLayer, NotFound, UnsafePath
from dockyard.image.validate import validate
from dockyard.oci.mediatype import Compression, MediaType
from dockyard.oci.platform import Platform
from dockyard.transports.rootfs import check_tar, created_now, imported


def _tree(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "bin" / "tool").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "bin" / "tool").chmod(0o755)
    (root / "bin" / "alias").symlink_to("tool")
    (root / "etc" / "hostname").write_text("box\n")
    return root


def _tar(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tf.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                tf.addfile(info, io.BytesIO(entry[1]))
    return buf.getvalue()


def _link(name: str, target: str, hard: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = (tarfile.LNKTYPE if hard else tarfile.SYMTYPE), target
    return info


def _dir(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    return info


def test_directory_becomes_one_normalized_layer(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    with imported(tree, platform=Platform("linux", "arm64"), message="hello") as image:
        validate(image)
        config = image.config()
        assert config.platform == Platform("linux", "arm64")
        assert config.created == "1970-01-01T00:00:00Z"
        assert [(h.created_by, h.comment) for h in config.history] == [("dockyard import tree", "hello")]
        [layer] = image.layers()
        assert layer.descriptor.media_type == MediaType.OCI_LAYER_GZIP
        with layer.open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tf:
            names = {m.name: m for m in tf}
        assert names["bin/alias"].issym() and names["bin/alias"].linkname == "tool"
        assert names["bin/tool"].mode & 0o111 and names["etc/hostname"].mtime == 0
        blob = Path(getattr(layer, "path"))  # noqa: B009 - a FileLayer in the temporary directory
        assert blob.is_file()
    assert not blob.exists(), "the layer file outlives the context"


def test_tar_is_kept_byte_for_byte(tmp_path: Path) -> None:
    data = _tar([("etc/hostname", b"box\n"), _link("bin/sh", "/bin/busybox")])
    for suffix, packed in (("tar", data), ("tar.gz", gzip.compress(data)),
                           ("tar.zst", zstandard.ZstdCompressor().compress(data))):
        source = tmp_path / f"rootfs.{suffix}"
        source.write_bytes(packed)
        with imported(source, compression=Compression.ZSTD) as image:
            validate(image)
            [layer] = image.layers()
            assert layer.descriptor.media_type == MediaType.OCI_LAYER_ZSTD
            assert str(layer.diff_id()) == f"sha256:{hashlib.sha256(data).hexdigest()}"
            with layer.open_uncompressed() as stream:
                assert stream.read() == data


def test_changes_and_same_input_same_digest(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    changes = ['CMD ["/bin/tool"]', "ENV PATH=/bin", "USER 65534", "WORKDIR /", "LABEL a=b"]
    with imported(tree, changes=changes) as one, imported(tree, changes=changes) as two:
        assert one.digest() == two.digest()
        run = one.config().config
        assert run.cmd == ("/bin/tool",) and run.env == ("PATH=/bin",) and run.user == "65534"
        assert run.working_dir == "/" and dict(run.labels) == {"a": "b"}
    with imported(tree, compression=Compression.NONE) as plain:
        assert plain.layers()[0].descriptor.media_type == MediaType.OCI_LAYER


def test_missing_and_odd_sources(tmp_path: Path) -> None:
    with pytest.raises(NotFound), imported(tmp_path / "nope"):
        pass
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InvalidArgument), imported(fifo):
        pass
    junk = tmp_path / "junk"
    junk.write_bytes(b"x" * 2000)
    with pytest.raises(InvalidLayer), imported(junk):
        pass
    with pytest.raises(InvalidArgument), imported(_tree(tmp_path / "t"), changes=["RUN true"]):
        pass


@pytest.mark.parametrize("entries", [
    [("../etc/passwd", b"x")],
    [("a/../../b", b"x")],
    [("a/..", b"x")],
    [_link("escape", "/"), ("escape/etc/passwd", b"x")],
    [_link("d", "."), ("d/x", b"x")],
    [_link("a/b", "/tmp"), ("a/b/c/d", b"x")],
    [_link("out", "../../etc/shadow", hard=True)],
    [_link("root", "/"), _link("shadow", "root/etc/shadow", hard=True)],
], ids=["dotdot", "inner-dotdot", "trailing-dotdot", "through-symlink", "through-self-link", "deep", "hardlink-out",
        "hardlink-through-symlink"])
def test_hostile_tars_are_refused(tmp_path: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> None:
    data = _tar(entries)
    for name, packed in (("t.tar", data), ("t.tar.gz", gzip.compress(data)),
                         ("t.tar.zst", zstandard.ZstdCompressor().compress(data))):
        source = tmp_path / name
        source.write_bytes(packed)
        with pytest.raises(UnsafePath, match=re.escape(str(source))):
            check_tar(source)
        with pytest.raises(UnsafePath), imported(source):
            pass


@pytest.mark.parametrize("entries", [
    [_link("bin/sh", "/bin/busybox"), _link("lib", "../usr/lib"), ("usr/lib/x", b"x")],
    [_link("x", "/"), ("x", b"replaced by a file")],
    [_link("x", "/"), _dir("x"), ("x/inner", b"a directory now")],
    [("dir/.wh.gone", b""), ("dir/.wh..wh..opq", b"")],
    [("a..b/c", b"dots in names are fine"), ("..hidden", b"so is this")],
    [("etc/passwd", b"x"), _link("etc/passwd-", "etc/passwd", hard=True)],
])
def test_ordinary_tars_pass(tmp_path: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> None:
    source = tmp_path / "ok.tar"
    source.write_bytes(_tar(entries))
    check_tar(source)
    with imported(source) as image:
        validate(image)


def test_created_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert created_now() == "1970-01-02T00:00:00Z"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created_now())
    assert created_now() > "2024"
