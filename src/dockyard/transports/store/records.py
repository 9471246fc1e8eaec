"""What the store records about an image: every blob it needs, its platforms and creation time, from stored bytes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from dockyard.errors import BlobUnknown, LimitExceeded
from dockyard.oci.config import ImageConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest, IndexManifest, parse_any
from dockyard.oci.mediatype import CONFIG_TYPES
from dockyard.oci.platform import Platform
from dockyard.transports.blobs import MAX_CONFIG, MAX_MANIFEST, BlobSource, read_verified

#: Indexes nested deeper than this are refused (content addressing rules out cycles, not depth).
MAX_DEPTH = 8


class BlobKind(StrEnum):
    """The role a blob plays in an image."""

    INDEX = "index"
    MANIFEST = "manifest"
    CONFIG = "config"
    LAYER = "layer"


@dataclass(frozen=True, slots=True)
class BlobRef:
    """One blob an image record keeps alive."""

    digest: Digest
    size: int
    kind: BlobKind
    media_type: str


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """Everything the metadata database stores about one image or index."""

    descriptor: Descriptor
    config_digest: Digest | None
    created: str | None
    platforms: tuple[Platform, ...]
    subject: Digest | None
    blobs: tuple[BlobRef, ...]

    @property
    def size(self) -> int:
        """Bytes of all distinct blobs (manifests, configs, layers) as stored, not uncompressed."""
        return sum(b.size for b in self.blobs)


class ReadableBlobs(BlobSource, Protocol):
    def has_blob(self, digest: Digest) -> bool: ...


class _Walk:
    def __init__(self, source: ReadableBlobs) -> None:
        self.source = source
        self.refs: dict[Digest, BlobRef] = {}

    def need(self, desc: Descriptor, kind: BlobKind, owner: str) -> None:
        if not self.source.has_blob(desc.digest):
            raise BlobUnknown(f"{owner} references {kind} {desc.digest}, which is missing",
                              hint="the source image is incomplete; nothing was recorded")
        self.refs.setdefault(desc.digest, BlobRef(desc.digest, desc.size, kind, desc.media_type))

    def visit(self, desc: Descriptor, owner: str, depth: int) -> tuple[str | None, tuple[Platform, ...]]:
        """Record `desc` and what it references; returns (created, platforms)."""
        return self.visit_parsed(desc, self.read(desc, owner), depth)

    def read(self, desc: Descriptor, owner: str) -> ImageManifest | IndexManifest:
        self.need(desc, BlobKind.MANIFEST, owner)
        return parse_any(read_verified(self.source, desc, MAX_MANIFEST), f"manifest {desc.digest}")

    def visit_parsed(self, desc: Descriptor, parsed: ImageManifest | IndexManifest,
                     depth: int) -> tuple[str | None, tuple[Platform, ...]]:
        if depth > MAX_DEPTH:
            raise LimitExceeded(f"index {desc.digest}: indexes nested more than {MAX_DEPTH} deep")
        kind = BlobKind.INDEX if isinstance(parsed, IndexManifest) else BlobKind.MANIFEST
        self.refs[desc.digest] = BlobRef(desc.digest, desc.size, kind, parsed.media_type)
        if isinstance(parsed, IndexManifest):
            return self.visit_index(parsed, f"index {desc.digest}", depth)
        return self.visit_image(parsed, f"manifest {desc.digest}")

    def visit_index(self, index: IndexManifest, what: str, depth: int) -> tuple[str | None, tuple[Platform, ...]]:
        created: str | None = None
        platforms: list[Platform] = []
        for child in index.manifests:
            child_created, child_platforms = self.visit(child, what, depth + 1)
            if child_created and (created is None or child_created > created):
                created = child_created
            if child.platform is not None:
                child_platforms = (child.platform,)
            platforms.extend(p for p in child_platforms if not p.is_unknown and p not in platforms)
        return created, tuple(platforms)

    def visit_image(self, manifest: ImageManifest, what: str) -> tuple[str | None, tuple[Platform, ...]]:
        self.need(manifest.config, BlobKind.CONFIG, what)
        created: str | None = None
        platforms: tuple[Platform, ...] = ()
        if manifest.config.media_type in CONFIG_TYPES:
            config = ImageConfig.parse(read_verified(self.source, manifest.config, MAX_CONFIG), f"config of {what}")
            created = config.created
            if config.os and config.architecture:
                platforms = (config.platform,)
        for layer in manifest.layers:
            if layer.urls and not self.source.has_blob(layer.digest):
                continue  # a foreign layer fetched from its URLs, legitimately absent
            self.need(layer, BlobKind.LAYER, what)
        return created, platforms


def describe(source: ReadableBlobs, top: Descriptor) -> ImageInfo:
    """Walk a stored image or index (reading and verifying manifests and configs) into an ImageInfo.

    Raises BlobUnknown naming the first missing blob, so an incomplete image is never recorded.
    """
    walk = _Walk(source)
    parsed = walk.read(top, "the image")
    created, platforms = walk.visit_parsed(top, parsed, 0)
    config_digest = parsed.config.digest if isinstance(parsed, ImageManifest) else None
    subject = parsed.subject.digest if parsed.subject is not None else None
    descriptor = Descriptor(parsed.media_type, top.digest, top.size)
    return ImageInfo(descriptor, config_digest, created, platforms, subject, tuple(walk.refs.values()))
