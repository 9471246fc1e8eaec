"""Lazy Image -> Image transforms: append layers, replace the run config, set annotations, created time."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from dockyard.oci.config import History, ImageConfig, RunConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest
from dockyard.oci.mediatype import MediaType, is_docker
from dockyard.oci.protocols import Image, Layer


@dataclass(frozen=True, slots=True)
class Addendum:
    """A layer to append and the history entry that explains it."""

    layer: Layer
    history: History = field(default_factory=History)


class MutatedImage:
    """An image derived from a base: its config and manifest are recomputed, blobs delegate to the base.

    `added` layers go on top of the base's; with `replace_layers` they are the whole layer list instead (the same
    diff_ids stored another way, e.g. recompressed).
    """

    def __init__(self, base: Image, config: ImageConfig, added: Sequence[Layer],
                 annotations: Mapping[str, str] | None = None, *, replace_layers: bool = False) -> None:
        self._base = base
        self._config = config
        self._added = list(added)
        self._layers: list[Layer] = self._added if replace_layers else [*base.layers(), *self._added]
        base_manifest = base.manifest()
        docker = is_docker(base_manifest.media_type)
        config_type = MediaType.DOCKER_CONFIG if docker else MediaType.OCI_CONFIG
        merged = dict(base_manifest.annotations)
        merged.update(annotations or {})
        self._manifest = ImageManifest.build(
            Descriptor.for_bytes(config_type, config.raw),
            [layer.descriptor for layer in self._layers],
            media_type=base_manifest.media_type,
            annotations=merged or None,
        )
        self._by_digest = {layer.descriptor.digest: layer for layer in self._added}

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
        return self._layers

    def open_blob(self, descriptor: Descriptor) -> BinaryIO:
        if descriptor.digest == self._manifest.config.digest:
            return io.BytesIO(self._config.raw)
        layer = self._by_digest.get(descriptor.digest)
        if layer is not None:
            return layer.open()
        return self._base.open_blob(descriptor)


def append(base: Image, *additions: Addendum, created: str | None = None) -> Image:
    """`base` plus layers on top, with their diff_ids and history recorded in the config."""
    config = base.config()
    diff_ids = [*config.diff_ids, *(a.layer.diff_id() for a in additions)]
    history = [*config.history, *(a.history for a in additions)]
    new = config.evolve(diff_ids=diff_ids, history=history, created=created)
    return MutatedImage(base, new, [a.layer for a in additions])


def with_config(base: Image, run: RunConfig, *, created: str | None = None,
                history: History | None = None) -> Image:
    """`base` with a new run config (CMD, ENV, USER...); an empty-layer history entry is added if given."""
    config = base.config()
    hist = [*config.history, history] if history is not None else None
    new = config.evolve(config=run, created=created, history=hist)
    return MutatedImage(base, new, [])


def annotate(base: Image, annotations: Mapping[str, str]) -> Image:
    """`base` with manifest annotations merged in."""
    return MutatedImage(base, base.config(), [], annotations)
