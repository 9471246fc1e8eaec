"""Choosing images out of indexes: by platform, or all of them, skipping attestation entries."""

from __future__ import annotations

from collections.abc import Iterator

from dockyard.errors import NotFound
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.mediatype import is_index
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex


def platform_entries(index: ImageIndex) -> Iterator[tuple[Descriptor, ImageIndex]]:
    """Every image descriptor in an index tree, with the index that lists it (nested indexes flattened)."""
    for desc in index.manifests():
        if is_index(desc.media_type):
            yield from platform_entries(index.index(desc.digest))
        else:
            yield desc, index


def select_image(artifact: Image | ImageIndex, platform: Platform | None = None) -> Image:
    """The image for `platform` (default: the host's) out of an index; an image is returned as is.

    `unknown/unknown` entries (BuildKit attestations) are never chosen.
    """
    if isinstance(artifact, Image):
        return artifact
    want = platform or Platform.host()
    candidates = []
    for desc, parent in platform_entries(artifact):
        if desc.platform is not None and desc.platform.is_unknown:
            continue
        if desc.platform is None or want.matches(desc.platform):
            candidates.append((desc, parent))
    exact = [c for c in candidates if c[0].platform is not None]
    # A loose match (`linux/arm` against arm/v5, v6, v7) prefers the entry whose variant is the wanted one.
    wanted_variant = want.normalized().variant
    exact.sort(key=lambda c: c[0].platform is None or c[0].platform.normalized().variant != wanted_variant)
    chosen = (exact or candidates)
    if not chosen:
        available = sorted({str(d.platform) for d, _ in platform_entries(artifact)
                            if d.platform and not d.platform.is_unknown})
        raise NotFound(f"no image for platform {want} in index {artifact.digest()}",
                       hint=f"available: {', '.join(available) or 'none'}")
    desc, parent = chosen[0]
    return parent.image(desc.digest)
