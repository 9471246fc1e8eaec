"""Tiny real images for the store tests: tar layers built with tarfile, configs and manifests built by the core."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import BinaryIO

from dockyard.errors import BlobUnknown
from dockyard.oci.config import ImageConfig, RunConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest, IndexManifest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform
from dockyard.transports.blobs import BlobImage, BlobIndex


class MemoryBlobs:
    """A BlobSource over a dict; `corrupt` serves wrong bytes for a digest (a hostile source)."""

    def __init__(self) -> None:
        self.blobs: dict[Digest, bytes] = {}

    def add(self, data: bytes) -> Digest:
        digest = Digest.of(data)
        self.blobs[digest] = data
        return digest

    def open_blob(self, digest: Digest) -> BinaryIO:
        if digest not in self.blobs:
            raise BlobUnknown(f"blob {digest} is not in the test source")
        return io.BytesIO(self.blobs[digest])


def layer_tar(files: dict[str, bytes]) -> bytes:
    """A reproducible uncompressed tar of regular files."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_image(
    source: MemoryBlobs,
    seed: str,
    *,
    platform: Platform | None = None,
    layers: int = 1,
    layer_size: int = 100,
    created: str = "2024-01-02T03:04:05Z",
    shared_layer: bytes | None = None,
    docker: bool = False,
) -> BlobImage:
    """An image whose content depends on `seed`; its blobs go into `source`."""
    descs: list[Descriptor] = []
    diff_ids: list[Digest] = []
    contents = [layer_tar({"base/shared": shared_layer})] if shared_layer is not None else []
    for i in range(layers):
        body = (f"{seed}-{i}-".encode() * (layer_size // max(1, len(seed) + 3) + 1))[:layer_size]
        contents.append(layer_tar({f"layer{i}/{seed}.txt": body}))
    for tar in contents:
        gz = gzip.compress(tar, mtime=0)
        source.add(gz)
        descs.append(Descriptor.for_bytes(MediaType.DOCKER_LAYER_GZIP if docker else MediaType.OCI_LAYER_GZIP, gz))
        diff_ids.append(Digest.of(tar))
    config = ImageConfig.build(platform or Platform("linux", "amd64"), diff_ids, created=created,
                               config=RunConfig(labels={"seed": seed}, cmd=("/bin/sh",)))
    source.add(config.raw)
    config_type = MediaType.DOCKER_CONFIG if docker else MediaType.OCI_CONFIG
    manifest = ImageManifest.build(Descriptor.for_bytes(config_type, config.raw), descs,
                                   media_type=MediaType.DOCKER_MANIFEST if docker else MediaType.OCI_MANIFEST)
    source.add(manifest.raw)
    return BlobImage(source, manifest.raw)


def make_index(source: MemoryBlobs, images: list[BlobImage], *, docker: bool = False) -> BlobIndex:
    """An index (or Docker manifest list) over images, platform taken from each config."""
    descs = [img.manifest().descriptor(platform=img.config().platform) for img in images]
    index = IndexManifest.build(descs, media_type=MediaType.DOCKER_MANIFEST_LIST if docker else MediaType.OCI_INDEX)
    source.add(index.raw)
    return BlobIndex(source, index.raw)


def blob_files(root: Path) -> list[str]:
    """Relative paths of every file under <store>/blobs (for 'store unchanged' assertions)."""
    base = root / "blobs"
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())
