"""The three protocols every source, sink and transform speaks: Layer, Image and ImageIndex."""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO, Protocol, runtime_checkable

from dockyard.oci.config import ImageConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest, IndexManifest


@runtime_checkable
class Layer(Protocol):
    """One layer blob: `open()` gives the stored (maybe compressed) bytes, `open_uncompressed()` the tar."""

    @property
    def descriptor(self) -> Descriptor: ...

    def diff_id(self) -> Digest: ...

    def open(self) -> BinaryIO: ...

    def open_uncompressed(self) -> BinaryIO: ...


@runtime_checkable
class Image(Protocol):
    """A single-platform image; `digest() == sha256(raw_manifest())` always."""

    def raw_manifest(self) -> bytes: ...

    def manifest(self) -> ImageManifest: ...

    def digest(self) -> Digest: ...

    def raw_config(self) -> bytes: ...

    def config(self) -> ImageConfig: ...

    def layers(self) -> Sequence[Layer]: ...

    def open_blob(self, descriptor: Descriptor) -> BinaryIO:
        """Any blob the manifest references (config, layers, or a non-layer artifact blob)."""
        ...


@runtime_checkable
class ImageIndex(Protocol):
    """A multi-platform index (or Docker manifest list); children are images or nested indexes."""

    def raw_manifest(self) -> bytes: ...

    def index_manifest(self) -> IndexManifest: ...

    def digest(self) -> Digest: ...

    def manifests(self) -> Sequence[Descriptor]: ...

    def image(self, digest: Digest) -> Image: ...

    def index(self, digest: Digest) -> ImageIndex: ...


Artifact = Image | ImageIndex
