"""End-to-end validation of images and indexes: digests, sizes and diff_ids, with each kind of damage."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from image_testkit import MemorySource, put_image, put_index, tar_of

from dockyard.errors import BlobUnknown, DigestMismatch, InvalidManifest, SizeMismatch
from dockyard.image.validate import validate, validate_image, validate_index
from dockyard.oci.config import ImageConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest
from dockyard.oci.mediatype import EMPTY_DIGEST, EMPTY_JSON, MediaType
from dockyard.oci.platform import Platform
from dockyard.transports.blobs import BlobImage, BlobIndex

AMD64 = Platform("linux", "amd64")
FILES = {"etc/hostname": b"dockyard\n", "bin/hello": b"#!/bin/sh\necho hello\n" * 50}


def _image(source: MemorySource) -> tuple[BlobImage, ImageManifest]:
    manifest = put_image(source, AMD64, FILES)
    return BlobImage(source, manifest.raw), manifest


def test_valid_image_passes() -> None:
    source = MemorySource()
    image, _ = _image(source)
    validate_image(image)
    validate(image)


def test_real_buildx_image_and_index_pass(assets: Path) -> None:
    source = MemorySource()
    index = BlobIndex(source, source.load_layout(assets / "oci/dive-oci-gzip"))
    validate_index(index)
    validate(index)
    (desc,) = index.manifests()
    image = index.image(desc.digest)
    validate(image)
    (layer,) = image.layers()
    assert str(layer.diff_id()) == "sha256:356d5e7f4012d87cb1078ac1f480e90528eec4940ce45c50380321436db38758"


def test_real_docker_manifest_list_passes(assets: Path) -> None:
    source = MemorySource()
    source.load_layout(assets / "oci/dive-oci-gzip")
    source.put(MediaType.DOCKER_MANIFEST, (assets / "oci/skopeo-v2s2/manifest.json").read_bytes())
    validate(BlobIndex(source, (assets / "oci/skopeo-v2s2/manifest-list.json").read_bytes()))


def test_corrupted_layer_same_size() -> None:
    source = MemorySource()
    image, manifest = _image(source)
    digest = manifest.layers[0].digest
    blob = bytearray(source.blobs[digest])
    blob[len(blob) // 2] ^= 0xFF
    source.blobs[digest] = bytes(blob)
    with pytest.raises(DigestMismatch, match=str(digest)):
        validate_image(image)
    validate_image(image, layers=False)  # manifest and config are still fine


def test_truncated_and_extended_layers() -> None:
    source = MemorySource()
    image, manifest = _image(source)
    digest = manifest.layers[0].digest
    good = source.blobs[digest]
    source.blobs[digest] = good[:-1]
    with pytest.raises(SizeMismatch):
        validate_image(image)
    source.blobs[digest] = good + b"\0"
    with pytest.raises(SizeMismatch):
        validate_image(image)
    source.blobs[digest] = good
    validate_image(image)


def test_wrong_diff_id() -> None:
    source = MemorySource()
    tar = tar_of(FILES)
    layer = source.put(MediaType.OCI_LAYER_GZIP, gzip.compress(tar, mtime=0))
    wrong = Digest.of(tar + b"\0")
    config = source.put(MediaType.OCI_CONFIG, ImageConfig.build(AMD64, [wrong]).raw)
    image = BlobImage(source, ImageManifest.build(config, [layer]).raw)
    with pytest.raises(DigestMismatch, match=f"diff_id {wrong}"):
        validate_image(image)
    validate_image(image, layers=False)


def test_diff_id_count_mismatch() -> None:
    source = MemorySource()
    tar = tar_of(FILES)
    layer = source.put(MediaType.OCI_LAYER_GZIP, gzip.compress(tar, mtime=0))
    config = source.put(MediaType.OCI_CONFIG, ImageConfig.build(AMD64, [Digest.of(tar), Digest.of(tar)]).raw)
    with pytest.raises(InvalidManifest, match="2 diff_ids for 1 layers"):
        validate_image(BlobImage(source, ImageManifest.build(config, [layer]).raw), layers=False)


def test_wrong_config_size() -> None:
    source = MemorySource()
    _, manifest = _image(source)
    c = manifest.config
    for size in (c.size + 1, c.size - 1):
        bad = ImageManifest.build(Descriptor(c.media_type, c.digest, size), manifest.layers)
        with pytest.raises(SizeMismatch):
            validate_image(BlobImage(source, bad.raw), layers=False)


def test_wrong_config_content() -> None:
    source = MemorySource()
    image, manifest = _image(source)
    raw = source.blobs[manifest.config.digest]
    source.blobs[manifest.config.digest] = raw.replace(b"amd64", b"arm64")
    with pytest.raises(DigestMismatch):
        validate_image(image, layers=False)


def test_missing_blobs() -> None:
    source = MemorySource()
    image, manifest = _image(source)
    del source.blobs[manifest.layers[0].digest]
    with pytest.raises(BlobUnknown):
        validate_image(image)
    validate_image(image, layers=False)
    del source.blobs[manifest.config.digest]
    with pytest.raises(BlobUnknown):
        validate_image(BlobImage(source, manifest.raw), layers=False)


def test_uncompressed_and_docker_layers() -> None:
    source = MemorySource()
    tar = tar_of(FILES)
    layer = source.put(MediaType.OCI_LAYER, tar)
    config = source.put(MediaType.OCI_CONFIG, ImageConfig.build(AMD64, [Digest.of(tar)]).raw)
    validate(BlobImage(source, ImageManifest.build(config, [layer]).raw))
    docker = put_image(source, AMD64, FILES, media_type=MediaType.DOCKER_MANIFEST)
    validate(BlobImage(source, docker.raw))


def test_artifact_without_diff_ids() -> None:
    source = MemorySource()
    empty = Descriptor(MediaType.OCI_EMPTY, Digest.parse(EMPTY_DIGEST), 2, data=EMPTY_JSON)
    blob = source.put("application/spdx+json", b'{"spdxVersion":"SPDX-2.3"}')
    artifact = ImageManifest.build(empty, [blob], artifact_type="application/vnd.example.sbom")
    image = BlobImage(source, artifact.raw)
    validate(image)  # the config is {} and carried inline; the blob is checked by digest only
    source.blobs[blob.digest] = b'{"spdxVersion":"SPDX-2.2"}'
    with pytest.raises(DigestMismatch):
        validate(image)


def test_index_with_nested_index() -> None:
    source = MemorySource()
    amd = put_image(source, AMD64, FILES)
    arm = put_image(source, Platform("linux", "arm64"), {"x": b"y"})
    inner = put_index(source, [arm.descriptor(platform=Platform("linux", "arm64"))])
    outer = BlobIndex(source, put_index(source, [amd.descriptor(platform=AMD64), inner.descriptor()]).raw)
    validate(outer)
    source.blobs[arm.layers[0].digest] = b"garbage"
    with pytest.raises(SizeMismatch):
        validate(outer)
    validate(outer, layers=False)


def test_index_child_media_type_mismatch() -> None:
    source = MemorySource()
    oci = put_image(source, AMD64, FILES)
    d = oci.descriptor()
    liar = Descriptor(MediaType.DOCKER_MANIFEST, d.digest, d.size, platform=AMD64)
    with pytest.raises(InvalidManifest, match=r"the index says application/vnd\.docker"):
        validate(BlobIndex(source, put_index(source, [liar]).raw), layers=False)


def test_index_child_size_and_presence() -> None:
    source = MemorySource()
    oci = put_image(source, AMD64, FILES)
    d = oci.descriptor()
    wrong_size = Descriptor(d.media_type, d.digest, d.size + 1)
    with pytest.raises(SizeMismatch):
        validate(BlobIndex(source, put_index(source, [wrong_size]).raw), layers=False)
    del source.blobs[d.digest]
    with pytest.raises(BlobUnknown):
        validate(BlobIndex(source, put_index(source, [d]).raw), layers=False)
