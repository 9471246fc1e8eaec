"""Observing reads: wrap an image or index so every blob byte read from it is reported (progress bars)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import BinaryIO, cast

from dockyard.oci.config import ImageConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest, IndexManifest
from dockyard.oci.protocols import Image, ImageIndex, Layer

OnBytes = Callable[[int], None]


class _Counting(io.RawIOBase):
    def __init__(self, inner: BinaryIO, on_bytes: OnBytes) -> None:
        super().__init__()
        self._inner = inner
        self._on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if n:
            self._on_bytes(n)
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


def _counted(stream: BinaryIO, on_bytes: OnBytes) -> BinaryIO:
    return cast(BinaryIO, io.BufferedReader(_Counting(stream, on_bytes), 1 << 20))


class _ObservedLayer:
    def __init__(self, inner: Layer, on_bytes: OnBytes) -> None:
        self._inner = inner
        self._on_bytes = on_bytes

    @property
    def descriptor(self) -> Descriptor:
        return self._inner.descriptor

    def diff_id(self) -> Digest:
        return self._inner.diff_id()

    def open(self) -> BinaryIO:
        return _counted(self._inner.open(), self._on_bytes)

    def open_uncompressed(self) -> BinaryIO:
        return self._inner.open_uncompressed()


class ObservedImage:
    """The same image; reads of its layers and blobs call `on_bytes(n)`."""

    def __init__(self, inner: Image, on_bytes: OnBytes) -> None:
        self._inner = inner
        self._on_bytes = on_bytes

    def raw_manifest(self) -> bytes:
        return self._inner.raw_manifest()

    def manifest(self) -> ImageManifest:
        return self._inner.manifest()

    def digest(self) -> Digest:
        return self._inner.digest()

    def raw_config(self) -> bytes:
        return self._inner.raw_config()

    def config(self) -> ImageConfig:
        return self._inner.config()

    def layers(self) -> Sequence[Layer]:
        return [_ObservedLayer(layer, self._on_bytes) for layer in self._inner.layers()]

    def open_blob(self, descriptor: Descriptor) -> BinaryIO:
        return _counted(self._inner.open_blob(descriptor), self._on_bytes)


class ObservedIndex:
    """The same index; its children are observed too."""

    def __init__(self, inner: ImageIndex, on_bytes: OnBytes) -> None:
        self._inner = inner
        self._on_bytes = on_bytes

    def raw_manifest(self) -> bytes:
        return self._inner.raw_manifest()

    def index_manifest(self) -> IndexManifest:
        return self._inner.index_manifest()

    def digest(self) -> Digest:
        return self._inner.digest()

    def manifests(self) -> Sequence[Descriptor]:
        return self._inner.manifests()

    def image(self, digest: Digest) -> Image:
        return ObservedImage(self._inner.image(digest), self._on_bytes)

    def index(self, digest: Digest) -> ImageIndex:
        return ObservedIndex(self._inner.index(digest), self._on_bytes)


def observed(artifact: Image | ImageIndex, on_bytes: OnBytes) -> Image | ImageIndex:
    """`artifact`, reporting every blob byte read through it."""
    if isinstance(artifact, Image):
        return ObservedImage(artifact, on_bytes)
    return ObservedIndex(artifact, on_bytes)


def total_size(artifact: Image | ImageIndex) -> int:
    """Bytes of all blobs (config + layers) an artifact holds, counting each digest once."""
    seen: dict[Digest, int] = {}

    def visit(a: Image | ImageIndex) -> None:
        if isinstance(a, Image):
            m = a.manifest()
            for d in (m.config, *m.layers):
                seen[d.digest] = d.size
            return
        for child in a.manifests():
            from dockyard.transports.blobs import child_of

            visit(child_of(a, child))

    visit(artifact)
    return sum(seen.values())
