"""`copy`: any transport to any transport, whole indexes by default or one platform on request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from dockyard.errors import NotFound
from dockyard.oci.platform import Platform
from dockyard.transports.location import Location, Role, Transport, parse_location
from dockyard.transports.observe import observed, total_size
from dockyard.transports.resolve import BlobCallback, Written, narrow, open_location, store_name, write_location

if TYPE_CHECKING:
    from dockyard.transports.remote import RemoteOptions


class Progress(Protocol):
    """Receives the size of a transfer, then its bytes as they are read."""

    def start(self, total: int) -> None: ...

    def advance(self, n: int) -> None: ...


def source_name(loc: Location) -> str | None:
    """The name a source carries, used to name the destination when it names nothing itself."""
    if loc.transport is Transport.REGISTRY:
        return loc.reference.familiar if loc.reference and loc.reference.tag else None
    if loc.transport is Transport.STORE:
        try:
            return store_name(loc)
        except NotFound:  # a registry-qualified name read from its registry
            return loc.reference.familiar if loc.reference and loc.reference.tag else None
    return loc.tag if loc.tag and not loc.tag.startswith("@") else None


def copy(src: str, dst: str, *, platform: Platform | None = None,
         on_blob: BlobCallback | None = None, progress: Progress | None = None,
         remote: RemoteOptions | None = None) -> Written:
    """Copy the image or index `src` names to `dst`, byte for byte.

    With `platform`, an index is narrowed to that one image. Digests never change: blobs and manifests
    are copied as stored, never recompressed or re-serialized. `progress` is told the total bytes to
    read and then every byte read from the source.
    """
    source = parse_location(src)
    dest = parse_location(dst, default_tag=True, role=Role.DESTINATION)
    artifact = open_location(source, remote=remote, platform=platform)
    if platform is not None:
        artifact = narrow(artifact, platform, src)
    if progress is not None:
        progress.start(total_size(artifact))
        artifact = observed(artifact, progress.advance)
    name = source_name(source)
    if dest.transport in (Transport.OCI, Transport.OCI_ARCHIVE) and name and ":" in name:
        name = name.rsplit(":", 1)[1]  # layouts carry the tag as ref.name, as skopeo writes it
    elif dest.transport is Transport.DOCKER_ARCHIVE and source.transport in (Transport.OCI, Transport.OCI_ARCHIVE):
        name = None  # a bare layout tag is not a repository name; the destination must name one
    return write_location(dest, artifact, source_name=name, platform=platform, on_blob=on_blob, remote=remote)
