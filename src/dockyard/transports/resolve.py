"""From a transport reference to an image: open any source, write to any destination."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockyard.errors import InvalidArgument, NotFound
from dockyard.image.select import select_image
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.oci.reference import Reference
from dockyard.transports import archive, layout, ociarchive
from dockyard.transports.location import Location, Role, Transport, parse_location

if TYPE_CHECKING:
    from dockyard.transports.remote import RemoteOptions

Artifact = Image | ImageIndex
BlobCallback = Callable[[Descriptor, bool], None]


def open_location(loc: Location | str, *, remote: RemoteOptions | None = None,
                  platform: Platform | None = None) -> Artifact:
    """The image or index a transport reference names.

    `remote` configures registry access; `platform` lets a registry pull skip the other platforms' blobs.
    """
    loc = parse_location(loc) if isinstance(loc, str) else loc
    if loc.transport is Transport.REGISTRY:
        from dockyard.transports.remote import RemoteRef, open_remote

        assert loc.reference is not None
        return open_remote(RemoteRef.of(loc.reference), platform=platform, options=remote)
    if loc.transport is Transport.STORE:
        from dockyard.transports.store import Store

        assert loc.text is not None
        try:
            return Store.open().get(loc.text)
        except NotFound:
            if not loc.remote_fallback or loc.reference is None:
                raise
        from dockyard.transports.remote import RemoteRef, open_remote

        return open_remote(RemoteRef.of(loc.reference), platform=platform, options=remote)
    assert loc.path is not None
    if loc.transport is Transport.OCI:
        found = layout.Layout.open(loc.path)
        if loc.tag and loc.tag.startswith("@"):
            return found.get_digest(Digest.parse(loc.tag[1:]))
        return found.get(loc.tag)
    if loc.transport is Transport.OCI_ARCHIVE:
        return ociarchive.OciArchive.open(loc.path).get(loc.tag)
    return archive.DockerArchive.open(loc.path).image(loc.tag)


def store_name(loc: Location) -> str | None:
    """The tagged name a store location found its image by (`busybox:1.0`); None for IDs and digests.

    An image ID like `0123456789ab` or `sha256:<hex>` also parses as a name with a tag; only the store
    knows whether it named an image or matched an ID, and an ID must not become a name elsewhere.
    """
    from dockyard.transports.store import Store

    assert loc.transport is Transport.STORE and loc.text is not None
    found = Store.open().info(loc.text).reference
    return found.familiar if found is not None and found.tag and found.digest is None else None


def narrow(artifact: Artifact, platform: Platform | None, what: object = "the image") -> Image:
    """One image: an index narrowed to `platform` (default: this machine's); a single image is kept as it
    is, but when a platform is asked for it must be that image's (NotFound otherwise, as docker does)."""
    image = select_image(artifact, platform)
    if platform is not None and image is artifact and not platform.matches(have := image.config().platform):
        raise NotFound(f"{what} is a {have} image, not {platform}", hint="leave out --platform for single images")
    return image


def open_image(loc: Location | str, platform: Platform | None = None) -> Image:
    """One image: an index is narrowed to `platform` (default: this machine's)."""
    return select_image(open_location(loc), platform)


@dataclass(frozen=True, slots=True)
class Written:
    """What a write produced."""

    destination: str
    descriptor: Descriptor
    names: tuple[str, ...]


def _name_for(loc: Location, source_name: str | None) -> str | None:
    """The tag/name to record at the destination (its own, else the source's)."""
    if loc.tag:
        return loc.tag
    return source_name


def write_location(loc: Location | str, artifact: Artifact, *, source_name: str | None = None,
                   platform: Platform | None = None, on_blob: BlobCallback | None = None,
                   remote: RemoteOptions | None = None) -> Written:
    """Write `artifact` to a transport reference. docker-archive holds single images only."""
    loc = parse_location(loc, role=Role.DESTINATION) if isinstance(loc, str) else loc
    if loc.transport is Transport.REGISTRY:
        from dockyard.transports.remote import RemoteRef, push

        assert loc.reference is not None
        desc = push(artifact, RemoteRef.of(loc.reference), remote)
        return Written(str(loc), desc, (loc.reference.familiar,))
    if loc.transport is Transport.STORE:
        from dockyard.transports.store import Store

        if loc.reference is None or loc.reference.digest is not None:
            raise InvalidArgument(f"cannot name a destination by digest: {loc.reference}")
        desc = Store.open().write(artifact, [loc.reference])
        return Written(str(loc), desc, (loc.reference.familiar,))
    assert loc.path is not None
    name = _name_for(loc, source_name)
    if loc.transport is Transport.OCI:
        desc = layout.write(loc.path, artifact, tag=name)
    elif loc.transport is Transport.OCI_ARCHIVE:
        desc = ociarchive.write(loc.path, artifact, tag=name)
    else:
        image = narrow(artifact, platform, loc)
        tags = [Reference.parse(name).familiar] if name else []
        archive.write(loc.path, [(image, tags)])
        desc = image.manifest().descriptor()
    return Written(str(loc), desc, (name,) if name else ())

