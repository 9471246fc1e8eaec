"""Lazy image transforms: append, with_config, annotate, and the empty image they start from."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import BinaryIO

import pytest

from dockyard.errors import BlobUnknown
from dockyard.image.empty import EmptyImage
from dockyard.image.validate import validate
from dockyard.layers.filelayer import FileLayer, build_layer
from dockyard.mutate.image import Addendum, annotate, append, with_config
from dockyard.oci.config import History, RunConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image
from dockyard.transports.blobs import BlobImage


class Blobs:
    def __init__(self) -> None:
        self.data: dict[Digest, bytes] = {}

    def add(self, media_type: str, data: bytes) -> Descriptor:
        desc = Descriptor.for_bytes(media_type, data)
        self.data[desc.digest] = data
        return desc

    def open_blob(self, digest: Digest) -> BinaryIO:
        if digest not in self.data:
            raise BlobUnknown(f"no blob {digest}")
        return io.BytesIO(self.data[digest])


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


#: A config as a builder other than us writes it: fields we do not model must survive every transform.
UNKNOWN_FIELDS = {
    "moby.buildkit.buildinfo.v1": "eyJmcm9udGVuZCI6ImRvY2tlcmZpbGUudjAifQ==",
    "container": "abc123",
    "docker_version": "24.0.7",
}
UNKNOWN_RUN_FIELDS = {
    "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30000000000},
    "OnBuild": ["RUN echo child"],
    "ArgsEscaped": True,
}


def _base(docker: bool = False) -> BlobImage:
    """A one-layer gzip image whose config carries fields dockyard does not model."""
    blobs = Blobs()
    tar = _tar({"etc/base.txt": b"base\n"})
    layer_type = MediaType.DOCKER_LAYER_GZIP if docker else MediaType.OCI_LAYER_GZIP
    layer = blobs.add(layer_type, gzip.compress(tar, mtime=0))
    config = {
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z", **UNKNOWN_FIELDS,
        "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"], **UNKNOWN_RUN_FIELDS},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(tar).hexdigest()}"]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "ADD base"}],
    }
    config_type = MediaType.DOCKER_CONFIG if docker else MediaType.OCI_CONFIG
    config_desc = blobs.add(config_type, json.dumps(config).encode())
    manifest_type = MediaType.DOCKER_MANIFEST if docker else MediaType.OCI_MANIFEST
    raw = ImageManifest.build(config_desc, [layer], media_type=manifest_type,
                              annotations={"org.opencontainers.image.source": "https://example.com/base"}).raw
    return BlobImage(blobs, raw)


@pytest.fixture
def added(tmp_path: Path) -> FileLayer:
    tree = tmp_path / "tree"
    (tree / "app").mkdir(parents=True)
    (tree / "app" / "run.sh").write_text("#!/bin/sh\necho app\n")
    return build_layer(tree, tmp_path / "layer.tar.gz")


def test_empty_image_validates() -> None:
    for docker in (False, True):
        image = EmptyImage(Platform("linux", "arm64", "v8"), docker=docker, config=RunConfig(cmd=("/bin/sh",)))
        validate(image)
        assert image.layers() == [] and image.manifest().layers == ()
        assert image.config().platform == Platform("linux", "arm64", "v8")
        assert image.config().config.cmd == ("/bin/sh",)
        assert image.config().diff_ids == ()
        expected = MediaType.DOCKER_MANIFEST if docker else MediaType.OCI_MANIFEST
        assert image.manifest().media_type == expected
        assert image.digest() == Digest.of(image.raw_manifest())
        with image.open_blob(image.manifest().config) as f:
            assert f.read() == image.raw_config()
        with pytest.raises(BlobUnknown):
            image.open_blob(Descriptor.for_bytes(MediaType.OCI_LAYER, b"nope"))
    assert EmptyImage().config().platform == Platform.host()


def test_append_keeps_base_layers_and_adds_diff_ids_and_history(added) -> None:
    base = _base()
    history = History(created="2024-02-02T00:00:00Z", created_by="COPY app /app", comment="second")
    image = append(base, Addendum(added, history), created="2024-02-02T00:00:00Z")
    validate(image)
    manifest = image.manifest()
    assert manifest.layers[0] == base.manifest().layers[0]
    assert manifest.layers[1] == added.descriptor
    assert manifest.media_type == MediaType.OCI_MANIFEST and manifest.config.media_type == MediaType.OCI_CONFIG
    assert dict(manifest.annotations) == dict(base.manifest().annotations)
    config = image.config()
    assert config.diff_ids == (*base.config().diff_ids, added.diff_id())
    assert config.history == (*base.config().history, history)
    assert config.created == "2024-02-02T00:00:00Z"
    assert [layer.descriptor for layer in image.layers()] == list(manifest.layers)
    # blobs: the new layer from the addendum, the base layer from the base, the new config from memory
    with image.open_blob(manifest.layers[1]) as f:
        assert Digest.of(f.read()) == added.descriptor.digest
    with image.open_blob(manifest.layers[0]) as f:
        assert Digest.of(f.read()) == base.manifest().layers[0].digest
    with image.open_blob(manifest.config) as f:
        assert f.read() == image.raw_config()
    # the base is untouched (lazy, immutable)
    assert len(base.layers()) == 1 and len(base.config().diff_ids) == 1


def test_append_several_and_keep_docker_media_types(added) -> None:
    base = _base(docker=True)
    image = append(base, Addendum(added), Addendum(added, History(created_by="again")))
    validate(image)
    assert image.manifest().media_type == MediaType.DOCKER_MANIFEST
    assert image.manifest().config.media_type == MediaType.DOCKER_CONFIG
    assert len(image.layers()) == 3 and len(image.config().history) == 3
    assert image.config().created == "2024-01-01T00:00:00Z"  # unchanged unless given


def test_with_config_keeps_unknown_fields(added) -> None:
    base = append(_base(), Addendum(added))
    run = RunConfig(env=("PATH=/bin",), cmd=("/app/run.sh",), user="1000", labels={"a": "b"})
    step = History(created_by="CMD /app/run.sh", empty_layer=True)
    image = with_config(base, run, created="2024-03-03T00:00:00Z", history=step)
    validate(image)
    raw = json.loads(image.raw_config())
    for key, value in UNKNOWN_FIELDS.items():
        assert raw[key] == value
    for key, value in UNKNOWN_RUN_FIELDS.items():
        assert raw["config"][key] == value
    assert raw["config"]["Cmd"] == ["/app/run.sh"] and raw["config"]["User"] == "1000"
    assert raw["config"]["Env"] == ["PATH=/bin"] and raw["config"]["Labels"] == {"a": "b"}
    assert image.config().config == run
    assert image.config().history[-1] == step and len(image.config().history) == 3
    assert image.config().diff_ids == base.config().diff_ids
    assert [d.digest for d in image.manifest().layers] == [d.digest for d in base.manifest().layers]
    without = with_config(base, run)
    assert len(without.config().history) == 2  # no history entry unless one is given


def test_with_config_can_clear_fields() -> None:
    image = with_config(_base(), RunConfig())
    run = json.loads(image.raw_config())["config"]
    assert "Cmd" not in run and "Env" not in run
    assert run["Healthcheck"] == UNKNOWN_RUN_FIELDS["Healthcheck"]
    validate(image)


def test_annotate_merges_manifest_annotations() -> None:
    base = _base()
    image = annotate(base, {"org.opencontainers.image.version": "1.0",
                            "org.opencontainers.image.source": "https://example.com/app"})
    validate(image)
    assert dict(image.manifest().annotations) == {"org.opencontainers.image.version": "1.0",
                                                  "org.opencontainers.image.source": "https://example.com/app"}
    assert image.raw_config() == base.raw_config()
    assert image.manifest().layers == base.manifest().layers
    assert image.digest() != base.digest()
    twice = annotate(image, {"x": "y"})
    assert twice.manifest().annotations["org.opencontainers.image.version"] == "1.0"
    assert twice.manifest().annotations["x"] == "y"


def test_transforms_compose_from_empty(added) -> None:
    image: Image = EmptyImage(Platform("linux", "amd64"))
    image = append(image, Addendum(added, History(created_by="import")))
    image = with_config(image, RunConfig(cmd=("/app/run.sh",)))
    image = annotate(image, {"k": "v"})
    validate(image)
    assert len(image.layers()) == 1 and image.config().diff_ids == (added.diff_id(),)
    assert image.manifest().annotations == {"k": "v"}
