"""Media types of the OCI image spec and Docker schema2, and predicates over them."""

from __future__ import annotations

from enum import StrEnum


class MediaType(StrEnum):
    """Media types dockyard reads and writes; unknown ones travel as plain strings."""

    OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
    OCI_INDEX = "application/vnd.oci.image.index.v1+json"
    OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
    OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
    OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
    OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
    OCI_LAYER_ND = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    OCI_LAYER_ND_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    OCI_LAYER_ND_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
    OCI_EMPTY = "application/vnd.oci.empty.v1+json"
    OCI_LAYOUT_HEADER = "application/vnd.oci.layout.header.v1+json"
    DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
    DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
    DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
    DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
    DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd"
    DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
    DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
    DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"


INDEX_TYPES = frozenset({MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = frozenset({MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST})
CONFIG_TYPES = frozenset({MediaType.OCI_CONFIG, MediaType.DOCKER_CONFIG})
GZIP_LAYERS = frozenset(
    {MediaType.OCI_LAYER_GZIP, MediaType.OCI_LAYER_ND_GZIP, MediaType.DOCKER_LAYER_GZIP,
     MediaType.DOCKER_FOREIGN_LAYER}
)
ZSTD_LAYERS = frozenset({MediaType.OCI_LAYER_ZSTD, MediaType.OCI_LAYER_ND_ZSTD, MediaType.DOCKER_LAYER_ZSTD})
PLAIN_LAYERS = frozenset({MediaType.OCI_LAYER, MediaType.OCI_LAYER_ND, MediaType.DOCKER_LAYER})
LAYER_TYPES = GZIP_LAYERS | ZSTD_LAYERS | PLAIN_LAYERS
SCHEMA1_TYPES = frozenset({MediaType.DOCKER_SCHEMA1, MediaType.DOCKER_SCHEMA1_SIGNED})

#: The empty JSON blob `{}`: the config of artifacts, per image-spec manifest.md.
EMPTY_JSON = b"{}"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def is_index(media_type: str) -> bool:
    return media_type in INDEX_TYPES


def is_manifest(media_type: str) -> bool:
    return media_type in MANIFEST_TYPES


def is_layer(media_type: str) -> bool:
    return media_type in LAYER_TYPES


def is_docker(media_type: str) -> bool:
    """True for Docker schema2 types (manifests, lists, configs, layers)."""
    return media_type.startswith("application/vnd.docker.")


class Compression(StrEnum):
    """How a layer blob is compressed."""

    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"


def layer_compression(media_type: str) -> Compression:
    """The compression a layer media type declares (unknown types count as uncompressed)."""
    if media_type in GZIP_LAYERS:
        return Compression.GZIP
    if media_type in ZSTD_LAYERS:
        return Compression.ZSTD
    return Compression.NONE


def layer_type(compression: Compression, *, docker: bool = False) -> MediaType:
    """The layer media type for a compression, in OCI or Docker flavour."""
    if docker:
        return {
            Compression.NONE: MediaType.DOCKER_LAYER,
            Compression.GZIP: MediaType.DOCKER_LAYER_GZIP,
            Compression.ZSTD: MediaType.DOCKER_LAYER_ZSTD,
        }[compression]
    return {
        Compression.NONE: MediaType.OCI_LAYER,
        Compression.GZIP: MediaType.OCI_LAYER_GZIP,
        Compression.ZSTD: MediaType.OCI_LAYER_ZSTD,
    }[compression]
