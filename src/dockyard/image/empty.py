"""The empty image: a config for a platform and no layers, the start of `import` and `FROM scratch`."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import BinaryIO

from dockyard.errors import BlobUnknown
from dockyard.oci.config import ImageConfig, RunConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Layer


class EmptyImage:
    """An image with no layers; every mutation starts somewhere."""

    def __init__(self, platform: Platform | None = None, *, docker: bool = False,
                 config: RunConfig | None = None) -> None:
        self._config = ImageConfig.build(platform or Platform.host(), config=config)
        config_type = MediaType.DOCKER_CONFIG if docker else MediaType.OCI_CONFIG
        manifest_type = MediaType.DOCKER_MANIFEST if docker else MediaType.OCI_MANIFEST
        self._manifest = ImageManifest.build(
            Descriptor.for_bytes(config_type, self._config.raw), [], media_type=manifest_type
        )

    def raw_manifest(self) -> bytes:
        return self._manifest.raw

    def manifest(self) -> ImageManifest:
        return self._manifest

    def digest(self) -> Digest:
        return self._manifest.digest

    def raw_config(self) -> bytes:
        return self._config.raw

    def config(self) -> ImageConfig:
        return self._config

    def layers(self) -> Sequence[Layer]:
        return []

    def open_blob(self, descriptor: Descriptor) -> BinaryIO:
        if descriptor.digest == self._manifest.config.digest:
            return io.BytesIO(self._config.raw)
        raise BlobUnknown(f"blob {descriptor.digest} is not part of the empty image")
