"""`save` and `load`: many images into one archive, and every image of an archive into the store."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dockyard.errors import InvalidArgument, InvalidContent, InvalidReference
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.platform import Platform
from dockyard.oci.reference import Reference
from dockyard.transports import archive, ociarchive
from dockyard.transports.layoutindex import IMAGE_NAME
from dockyard.transports.location import Transport, parse_location
from dockyard.transports.ociarchive import TarMembers
from dockyard.transports.resolve import narrow, open_location, store_name
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
        name = store_name(loc) if loc.transport is Transport.STORE else None
        items.append((open_location(loc), name))
    if fmt is ArchiveFormat.OCI:
        tops = ociarchive.write_many(path, [(a, n) for a, n in items])
        return Saved(Path(path), fmt, tuple(tops), tuple(n for _, n in items if n))
    images = [(narrow(a, platform, text), [n] if n else []) for (a, n), text in zip(items, refs, strict=True)]
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


def load(path: str | os.PathLike[str], store: Store | None = None, *,
         on_loaded: Callable[[Loaded], None] | None = None) -> list[Loaded]:
    """Every image of a docker-archive or oci-archive into the store, with the names the archive gives.

    Images are stored one by one (each all-or-nothing); `on_loaded` hears of each as it lands, so a
    caller can report the ones stored before a later image of the archive turns out to be broken.
    """
    store = store or Store.open()
    out: list[Loaded] = []

    def done(item: Loaded) -> None:
        out.append(item)
        if on_loaded is not None:
            on_loaded(item)

    if detect_format(path) is ArchiveFormat.DOCKER:
        for image, tags in archive.DockerArchive.open(path).images():
            names = [Reference.parse(t) for t in tags]
            done(Loaded(store.write(image, names), tuple(n.familiar for n in names)))
        return out
    oci = ociarchive.OciArchive.open(path)
    for desc in oci.entries():
        names = _archive_names(desc)
        artifact = oci.get_digest(desc.digest)
        done(Loaded(store.write(artifact, names), tuple(n.familiar for n in names)))
    return out


def _archive_names(desc: Descriptor) -> list[Reference]:
    """The image name an oci-archive entry carries: containerd's full name, else a ref.name that is a name.

    A bare tag (`1.0`, as skopeo writes `oci-archive:F:1.0`) names no repository, and a valid OCI ref.name
    (`My:Tag`) need not be a valid image name: such entries load unnamed, as with `docker load`.
    """
    for text in (desc.annotations.get(IMAGE_NAME), desc.ref_name):
        if text and ("/" in text or ":" in text):
            try:
                return [Reference.parse(text)]
            except InvalidReference:
                continue
    return []
