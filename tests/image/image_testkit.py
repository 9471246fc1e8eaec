"""An in-memory blob source and tiny real images (tar layers, configs, manifests) for the image/ tests."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import BinaryIO

from dockyard.errors import BlobUnknown
from dockyard.oci.config import History, ImageConfig, RunConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest, IndexManifest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform


class MemorySource:
    """A BlobSource over a dict; `blobs` may be edited by tests to corrupt content."""

    def __init__(self) -> None:
        self.blobs: dict[Digest, bytes] = {}

    def open_blob(self, digest: Digest) -> BinaryIO:
        try:
            return io.BytesIO(self.blobs[digest])
        except KeyError:
            raise BlobUnknown(f"blob {digest} not found") from None

    def put(self, media_type: str, content: bytes, **kw: object) -> Descriptor:
        desc = Descriptor.for_bytes(media_type, content, **kw)
        self.blobs[desc.digest] = content
        return desc

    def load_layout(self, layout: Path) -> bytes:
        """Add every blob of an OCI layout directory; returns its index.json bytes."""
        for path in (layout / "blobs" / "sha256").iterdir():
            self.blobs[Digest("sha256", path.name)] = path.read_bytes()
        return (layout / "index.json").read_bytes()


def tar_of(files: dict[str, bytes]) -> bytes:
    """A small reproducible tar with regular files."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def put_image(source: MemorySource, platform: Platform, files: dict[str, bytes], *,
              media_type: str = MediaType.OCI_MANIFEST) -> ImageManifest:
    """Store a one-layer gzip image for `platform` in `source`; returns its manifest (also stored)."""
    docker = media_type == MediaType.DOCKER_MANIFEST
    tar = tar_of(files)
    layer = source.put(MediaType.DOCKER_LAYER_GZIP if docker else MediaType.OCI_LAYER_GZIP,
                       gzip.compress(tar, mtime=0))
    config = ImageConfig.build(platform, [Digest.of(tar)], config=RunConfig(cmd=("sh",)),
                               history=[History(created_by=f"ADD {sorted(files)}")])
    config_desc = source.put(MediaType.DOCKER_CONFIG if docker else MediaType.OCI_CONFIG, config.raw)
    manifest = ImageManifest.build(config_desc, [layer], media_type=media_type)
    source.blobs[manifest.digest] = manifest.raw
    return manifest


def put_index(source: MemorySource, entries: list[Descriptor], *,
              media_type: str = MediaType.OCI_INDEX) -> IndexManifest:
    index = IndexManifest.build(entries, media_type=media_type)
    source.blobs[index.digest] = index.raw
    return index
