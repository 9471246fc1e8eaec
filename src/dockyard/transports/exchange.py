"""`save` and `load`: many images into one archive, and every image of an archive into the store."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dockyard.errors import InvalidArgument, InvalidContent
from dockyard.image.select import select_image
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.platform import Platform
from dockyard.oci.reference import Reference
from dockyard.transports import archive, ociarchive
from dockyard.transports.location import Transport, parse_location
from dockyard.transports.ociarchive import TarMembers
from dockyard.transports.resolve import open_location
from dockyard.transports.store import Store


class ArchiveFormat(StrEnum):
    DOCKER = "docker-archive"
    OCI = "oci-archive"


@dataclass(frozen=True, slots=True)
class Saved:
    path: Path
    format: ArchiveFormat
    images: tuple[Descriptor, ...]
    names: tuple[str, ...]


def save(refs: Sequence[str], path: str | os.PathLike[str], fmt: ArchiveFormat = ArchiveFormat.DOCKER,
         platform: Platform | None = None) -> Saved:
    """Write the images `refs` name (any transport) into one archive, named as they were named."""
    if not refs:
        raise InvalidArgument("save needs at least one image")
    items = []
    for text in refs:
        loc = parse_location(text)
        name = loc.reference.familiar if loc.transport is Transport.STORE and loc.reference else None
        items.append((open_location(loc), name))
    if fmt is ArchiveFormat.OCI:
        tops = ociarchive.write_many(path, [(a, n) for a, n in items])
        return Saved(Path(path), fmt, tuple(tops), tuple(n for _, n in items if n))
    images = [(select_image(a, platform), [n] if n else []) for a, n in items]
    archive.write(path, images)
    return Saved(Path(path), fmt, tuple(i.manifest().descriptor() for i, _ in images),
                 tuple(n for _, n in items if n))


@dataclass(frozen=True, slots=True)
class Loaded:
    """One image `load` put into the store."""

    descriptor: Descriptor
    names: tuple[str, ...]


def detect_format(path: str | os.PathLike[str]) -> ArchiveFormat:
    """docker-archive when the tar has manifest.json, else oci-archive when it is an OCI layout."""
    members = TarMembers.scan(path)
    if "manifest.json" in members:
        return ArchiveFormat.DOCKER
    if "index.json" in members and "oci-layout" in members:
        return ArchiveFormat.OCI
    raise InvalidContent(f"{path} is neither a docker-archive (no manifest.json) nor an oci-archive (no index.json)")


def load(path: str | os.PathLike[str], store: Store | None = None) -> list[Loaded]:
    """Every image of a docker-archive or oci-archive into the store, with the names the archive gives."""
    store = store or Store.open()
    out = []
    if detect_format(path) is ArchiveFormat.DOCKER:
        for image, tags in archive.DockerArchive.open(path).images():
            names = [Reference.parse(t) for t in tags]
            out.append(Loaded(store.write(image, names), tuple(n.familiar for n in names)))
        return out
    oci = ociarchive.OciArchive.open(path)
    for desc in oci.entries():
        ref_name = desc.ref_name
        names = []
        if ref_name and ("/" in ref_name or ":" in ref_name):
            names = [Reference.parse(ref_name)]
        artifact = oci.get_digest(desc.digest)
        out.append(Loaded(store.write(artifact, names), tuple(n.familiar for n in names)))
    return out
