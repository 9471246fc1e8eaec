"""`copy()` between transports, checked by real peers: skopeo and umoci read what we write, we read what they write."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.cli.main import run
from dockyard.errors import DigestMismatch, InvalidArgument
from dockyard.image.validate import validate
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.transports.archive import DockerArchive
from dockyard.transports.blobs import BlobIndex
from dockyard.transports.copy import copy
from dockyard.transports.resolve import open_image, open_location
from dockyard.transports.store import Store

Peer = Callable[..., str]


def _image(ref: str) -> Image:
    artifact = open_location(ref)
    assert isinstance(artifact, Image)
    return artifact


def _digests(image: Image) -> tuple[str, str, list[str]]:
    m = image.manifest()
    return str(image.digest()), str(m.config.digest), [str(d.digest) for d in m.layers]


def test_layout_to_store_and_back_out_for_skopeo_and_umoci(images, peer: Peer, tmp_path: Path) -> None:
    source = _image(f"oci:{images.layout}:app")
    written = copy(f"oci:{images.layout}:app", "busybox:app")
    assert written.descriptor.digest == source.digest() and written.names == ("busybox:app",)
    stored = _image("busybox:app")
    validate(stored)
    assert stored.raw_manifest() == source.raw_manifest()

    out = tmp_path / "out"
    copy("busybox:app", f"oci:{out}:v1")
    inspected = json.loads(peer("skopeo", "inspect", f"oci:{out}:v1"))
    assert inspected["Digest"] == str(source.digest())
    assert inspected["Layers"] == [str(d.digest) for d in source.manifest().layers]
    assert peer("skopeo", "inspect", "--raw", f"oci:{out}:v1").encode() == source.raw_manifest()
    stat = peer("umoci", "stat", "--image", f"{out}:v1")
    assert all(str(d.digest) in stat for d in source.manifest().layers)
    peer("umoci", "unpack", "--rootless", "--image", f"{out}:v1", tmp_path / "bundle")
    assert (tmp_path / "bundle" / "rootfs" / "etc" / "hello.txt").read_text() == "hello from layer two\n"


def test_destination_tags(images, tmp_path: Path) -> None:
    copy(f"oci:{images.layout}:base", "busybox:base")
    copy("busybox:base", f"oci:{tmp_path / 'l'}")  # the layout tag follows the store tag
    assert Store.open().resolve("busybox:base").digest == _image(f"oci:{tmp_path / 'l'}:base").digest()
    copy(f"oci:{images.layout}:base", f"docker-archive:{tmp_path / 'unnamed.tar'}")
    copy(f"oci:{images.layout}:base", f"docker-archive:{tmp_path / 'named.tar'}:busybox:base")
    assert DockerArchive.open(tmp_path / "unnamed.tar").tags() == []
    assert DockerArchive.open(tmp_path / "named.tar").tags() == ["busybox:base"]
    with pytest.raises(InvalidArgument):
        copy("busybox:base", f"store:busybox@sha256:{'0' * 64}")


def _skopeo_outputs(peer: Peer, layout: Path, tmp_path: Path) -> dict[str, str]:
    """The same image written by skopeo in each format it has, keyed by name."""
    refs = {
        "oci-gzip": f"oci:{tmp_path / 'gzip'}:app",
        "oci-zstd": f"oci:{tmp_path / 'zstd'}:app",
        "oci-uncompressed": f"oci:{tmp_path / 'plain'}:app",
        "oci-archive": f"oci-archive:{tmp_path / 'app.oci.tar'}:app",
        "docker-archive": f"docker-archive:{tmp_path / 'app.tar'}:skopeo/app:1",
        "docker-archive-zstd": f"docker-archive:{tmp_path / 'app-zstd.tar'}:skopeo/app:2",
    }
    flags = {
        "oci-gzip": ["--dest-compress", "--dest-compress-format", "gzip"],
        "oci-zstd": ["--dest-compress-format", "zstd"],
        "oci-uncompressed": ["--dest-decompress"],
        "docker-archive-zstd": ["--dest-compress", "--dest-compress-format", "zstd"],
    }
    for name, ref in refs.items():
        peer("skopeo", "copy", "-q", *flags.get(name, []), f"oci:{layout}:app", ref)
    return refs


def test_skopeo_outputs_copy_into_the_store(images, peer: Peer, tmp_path: Path) -> None:
    original = _image(f"oci:{images.layout}:app")
    for name, ref in _skopeo_outputs(peer, images.layout, tmp_path).items():
        with pytest.raises(SystemExit) as done:  # `dockyard copy`, as a user runs it (in-process)
            run(["copy", ref, f"from-skopeo:{name}"])
            raise SystemExit(0)
        assert done.value.code == 0, name
        stored = _image(f"from-skopeo:{name}")
        validate(stored)
        theirs = open_image(ref)
        assert _digests(stored) == _digests(theirs), name
        assert stored.config().diff_ids == original.config().diff_ids, name
        assert stored.config().config == original.config().config, name
        if name == "oci-zstd":
            assert all(d.media_type.endswith("+zstd") for d in stored.manifest().layers)
    assert len(Store.open().list()) == 6


def test_index_copies_whole_or_by_platform(images, tmp_path: Path) -> None:
    store = Store.open()
    parts = []
    for arch, tag in (("amd64", "base"), ("arm64", "app")):  # two images posing as two platforms
        desc = copy(f"oci:{images.layout}:{tag}", f"part:{arch}").descriptor
        parts.append(Descriptor(desc.media_type, desc.digest, desc.size, platform=Platform("linux", arch)))
    index = store.write(BlobIndex(store, IndexManifest.build(parts).raw), ["multi:1"])
    copy("multi:1", f"oci:{tmp_path / 'whole'}:1")
    copy("multi:1", f"oci-archive:{tmp_path / 'whole.tar'}")
    for ref in (f"oci:{tmp_path / 'whole'}:1", f"oci-archive:{tmp_path / 'whole.tar'}:1"):
        artifact = open_location(ref)
        assert isinstance(artifact, ImageIndex) and artifact.digest() == index.digest
        validate(artifact)
    one = copy("multi:1", f"oci:{tmp_path / 'one'}:arm", platform=Platform("linux", "arm64"))
    assert one.descriptor.digest == parts[1].digest
    copy(f"oci:{tmp_path / 'whole'}:1", "multi:back")
    assert store.resolve("multi:back").digest == index.digest
    # docker-archive holds images only: an index is narrowed to one platform
    copy("multi:1", f"docker-archive:{tmp_path / 'amd.tar'}:multi:amd", platform=Platform("linux", "amd64"))
    assert open_image(f"docker-archive:{tmp_path / 'amd.tar'}").digest() == parts[0].digest


def test_copy_refuses_a_corrupt_source_and_records_nothing(images, tmp_path: Path) -> None:
    layout = images.copy_layout(tmp_path / "layout")
    source = _image(f"oci:{layout}:app")
    top = source.manifest().layers[-1]
    blob = layout / "blobs" / "sha256" / top.digest.encoded
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[-20] ^= 0x01
    blob.write_bytes(bytes(data))
    with pytest.raises(DigestMismatch):
        copy(f"oci:{layout}:app", "broken:1")
    store = Store.open()
    assert store.list() == [] and list(store.blobs.files()) == []
    assert list((store.root / "tmp").iterdir()) == []
