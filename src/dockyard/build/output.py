"""Writing the built image: into the store under every tag, or to an OCI layout, docker-archive or registry."""

from __future__ import annotations

from dockyard.build.options import BuildRequest, OutputType
from dockyard.errors import InvalidArgument
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.oci.reference import Reference


def names_registry(tag: str) -> bool:
    """Whether `-t tag` starts with a registry host (`host.domain/`, `host:port/` or `localhost/`)."""
    first, sep, _rest = tag.partition("/")
    return bool(sep) and ("." in first or ":" in first or first == "localhost")


def write_output(image: Image | ImageIndex, request: BuildRequest) -> tuple[Descriptor, tuple[str, ...]]:
    """Write `image` where `--output` says, then push it under its registry tags when `--push` is set.

    Returns its manifest descriptor and every destination written.
    """
    if request.push and request.output.type is not OutputType.REGISTRY:
        pushed = [t for t in request.tags if names_registry(t)]
        if not pushed:
            raise InvalidArgument("--push needs a -t REGISTRY/NAME:TAG (a tag that names a registry host)")
        desc, where = _write(image, request)
        return desc, (*where, *_push(image, pushed))
    return _write(image, request)


def _push(image: Image | ImageIndex, tags: list[str]) -> tuple[str, ...]:
    from dockyard.transports.resolve import write_location

    return tuple(write_location(f"docker://{Reference.parse(t)}", image).destination for t in tags)


def _write(image: Image | ImageIndex, request: BuildRequest) -> tuple[Descriptor, tuple[str, ...]]:
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
