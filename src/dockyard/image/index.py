"""An in-memory image index over finished images: what a multi-platform build writes.

    index = ImageListIndex([amd64_image, arm64_image])   # one entry per image, platform from its config
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.protocols import Image, ImageIndex


class ImageListIndex:
    """An OCI index listing `images` in order, each descriptor carrying its config's platform.

    Two images for the same platform are refused: a client could not choose between them.
    """

    def __init__(self, images: Sequence[Image]) -> None:
        if not images:
            raise InvalidArgument("an image index needs at least one image")
        self._images = {image.digest(): image for image in images}
        seen: dict[str, Digest] = {}
        for image in images:
            platform = str(image.config().platform)
            if platform in seen and seen[platform] != image.digest():
                raise InvalidArgument(f"two different images for platform {platform}")
            seen[platform] = image.digest()
        self._order = list(dict.fromkeys(image.digest() for image in images))

    @cached_property
    def _manifest(self) -> IndexManifest:
        entries = [self._images[d].manifest().descriptor(platform=self._images[d].config().platform)
                   for d in self._order]
        return IndexManifest.build(entries, media_type=MediaType.OCI_INDEX)

    def raw_manifest(self) -> bytes:
        return self._manifest.raw

    def index_manifest(self) -> IndexManifest:
        return self._manifest

    def digest(self) -> Digest:
        return self._manifest.digest

    def manifests(self) -> Sequence[Descriptor]:
        return self._manifest.manifests

    def image(self, digest: Digest) -> Image:
        try:
            return self._images[digest]
        except KeyError:
            raise NotFound(f"no image {digest} in this index") from None

    def index(self, digest: Digest) -> ImageIndex:
        raise NotFound(f"no nested index {digest} in this index")
