"""A plain description of an image or index for `inspect`: the facts, not the JSON of any one tool."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dockyard.oci.config import History, RunConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.protocols import Image, ImageIndex


@dataclass(frozen=True, slots=True)
class LayerInfo:
    digest: Digest
    diff_id: Digest | None
    size: int
    media_type: str


@dataclass(frozen=True, slots=True)
class ImageDescription:
    """What `dockyard inspect` shows for one image."""

    digest: Digest
    media_type: str
    config_digest: Digest
    platform: str
    created: str | None
    author: str | None
    size: int
    """Manifest + config + stored layer bytes."""
    config: RunConfig
    layers: tuple[LayerInfo, ...]
    history: tuple[History, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)
    artifact_type: str | None = None
    subject: Digest | None = None


@dataclass(frozen=True, slots=True)
class IndexDescription:
    """What `dockyard inspect` shows for an index: its entries with their platforms."""

    digest: Digest
    media_type: str
    size: int
    manifests: tuple[Descriptor, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)


def describe(artifact: Image | ImageIndex) -> ImageDescription | IndexDescription:
    if not isinstance(artifact, Image):
        idx = artifact.index_manifest()
        return IndexDescription(artifact.digest(), idx.media_type, len(idx.raw), idx.manifests,
                                dict(idx.annotations))
    manifest = artifact.manifest()
    config = artifact.config()
    diff_ids: list[Digest | None] = list(config.diff_ids)
    if len(diff_ids) != len(manifest.layers):
        diff_ids = [None] * len(manifest.layers)
    layers = tuple(LayerInfo(d.digest, i, d.size, d.media_type)
                   for d, i in zip(manifest.layers, diff_ids, strict=True))
    size = len(manifest.raw) + manifest.config.size + sum(d.size for d in manifest.layers)
    return ImageDescription(
        digest=artifact.digest(), media_type=manifest.media_type, config_digest=manifest.config.digest,
        platform=str(config.platform), created=config.created, author=config.author, size=size,
        config=config.config, layers=layers, history=config.history, annotations=dict(manifest.annotations),
        artifact_type=manifest.artifact_type, subject=manifest.subject.digest if manifest.subject else None,
    )
