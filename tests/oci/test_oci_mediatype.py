"""Media types: the predicates and the compression each layer type declares."""

from __future__ import annotations

import pytest

from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import (
    EMPTY_DIGEST,
    EMPTY_JSON,
    Compression,
    MediaType,
    is_docker,
    is_index,
    is_layer,
    is_manifest,
    layer_compression,
    layer_type,
)


def test_empty_descriptor_constants() -> None:
    assert str(Digest.of(EMPTY_JSON)) == EMPTY_DIGEST


@pytest.mark.parametrize(
    ("media_type", "compression"),
    [
        (MediaType.OCI_LAYER, Compression.NONE),
        (MediaType.OCI_LAYER_GZIP, Compression.GZIP),
        (MediaType.OCI_LAYER_ZSTD, Compression.ZSTD),
        (MediaType.OCI_LAYER_ND_GZIP, Compression.GZIP),
        (MediaType.DOCKER_LAYER, Compression.NONE),
        (MediaType.DOCKER_LAYER_GZIP, Compression.GZIP),
        (MediaType.DOCKER_LAYER_ZSTD, Compression.ZSTD),
        (MediaType.DOCKER_FOREIGN_LAYER, Compression.GZIP),
        ("application/vnd.example.blob", Compression.NONE),
    ],
)
def test_layer_compression(media_type: str, compression: Compression) -> None:
    assert layer_compression(media_type) is compression


def test_layer_type_round_trips() -> None:
    for compression in Compression:
        assert layer_compression(layer_type(compression)) is compression
        assert layer_compression(layer_type(compression, docker=True)) is compression
        assert is_docker(layer_type(compression, docker=True))
        assert not is_docker(layer_type(compression))
    assert layer_type(Compression.GZIP) == "application/vnd.oci.image.layer.v1.tar+gzip"
    assert layer_type(Compression.GZIP, docker=True) == "application/vnd.docker.image.rootfs.diff.tar.gzip"


def test_predicates_accept_plain_strings() -> None:
    assert is_index("application/vnd.oci.image.index.v1+json")
    assert is_index(MediaType.DOCKER_MANIFEST_LIST)
    assert not is_index(MediaType.OCI_MANIFEST)
    assert is_manifest("application/vnd.docker.distribution.manifest.v2+json")
    assert not is_manifest(MediaType.DOCKER_SCHEMA1)
    assert is_layer("application/vnd.oci.image.layer.v1.tar+zstd")
    assert not is_layer(MediaType.OCI_CONFIG)
    assert not is_layer(MediaType.OCI_EMPTY)
    assert is_docker(MediaType.DOCKER_CONFIG) and not is_docker(MediaType.OCI_CONFIG)
