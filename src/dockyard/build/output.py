"""Writing the built image: into the store under every tag, or to an OCI layout, docker-archive or registry."""

from __future__ import annotations

from dockyard.build.options import BuildRequest, OutputType
from dockyard.errors import InvalidArgument
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.protocols import Image
from dockyard.oci.reference import Reference


def write_output(image: Image, request: BuildRequest) -> tuple[Descriptor, tuple[str, ...]]:
    """Write `image` where `--output` says; returns its manifest descriptor and the destinations written."""
    from dockyard.transports.resolve import write_location
    from dockyard.transports.store import Store

    out = request.output
    tags = [Reference.parse(t) for t in request.tags]
    if out.type is OutputType.STORE:
        desc = Store.open().write(image, tags)
        return desc, tuple(t.familiar for t in tags) or (str(desc.digest),)
    if out.type is OutputType.REGISTRY:
        if not tags:
            raise InvalidArgument("--output type=registry needs a -t NAME:TAG to push to")
        written = [write_location(f"docker://{t}", image) for t in tags]
        return written[0].descriptor, tuple(w.destination for w in written)
    assert out.dest is not None
    prefix = "oci" if out.type is OutputType.OCI else "docker-archive"
    suffix = f":{tags[0].familiar if prefix == 'docker-archive' else (tags[0].tag or 'latest')}" if tags else ""
    written_one = write_location(f"{prefix}:{out.dest}{suffix}", image)
    return written_one.descriptor, (written_one.destination,)
