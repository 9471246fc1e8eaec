"""Transport references: one grammar for every place an image can live.

    NAME[:TAG|@DIGEST]            the local store (same as store:NAME...)
    store:NAME[:TAG|@DIGEST]      the local store, explicitly
    oci:DIR[:TAG]                 an OCI image layout directory
    docker-archive:FILE[:REF]     a `docker save` tar (REF = name:tag inside it, or @N: the N-th image, from 0)
    oci-archive:FILE[:TAG]        a tar of an OCI layout
    docker://REGISTRY/REPO[:TAG]  a registry, explicitly (skopeo's spelling)

A plain name that starts with a registry host (`localhost:5000/app:1`, `ghcr.io/o/r`) is read from the
store when the store has it, else from that registry; as a destination it means the registry (a push).
Use `store:` to name such an image in the store explicitly. As in skopeo, a path ends at the first ':'
after the transport name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dockyard.errors import InvalidReference, Unsupported
from dockyard.oci.reference import Reference

#: skopeo transports we recognize but cannot read or write yet.
UNSUPPORTED = frozenset({"dir", "containers-storage", "docker-daemon"})


class Transport(StrEnum):
    STORE = "store"
    OCI = "oci"
    DOCKER_ARCHIVE = "docker-archive"
    OCI_ARCHIVE = "oci-archive"
    REGISTRY = "docker"


class Role(StrEnum):
    """Whether a reference is read from or written to (a plain registry-qualified name differs)."""

    SOURCE = "source"
    DESTINATION = "destination"


@dataclass(frozen=True, slots=True)
class Location:
    """A parsed transport reference."""

    transport: Transport
    path: Path | None = None
    tag: str | None = None
    reference: Reference | None = None
    #: For the store: the text as given (a name, a digest or a short image ID).
    text: str | None = None
    #: A store source named with a registry host: read from that registry when the store lacks it.
    remote_fallback: bool = False

    def __str__(self) -> str:
        if self.transport is Transport.REGISTRY:
            return f"docker://{self.reference}"
        if self.transport is Transport.STORE:
            return f"store:{self.reference.familiar if self.reference else self.text}"
        suffix = f":{self.tag}" if self.tag else ""
        return f"{self.transport.value}:{self.path}{suffix}"


def has_registry_host(text: str) -> bool:
    """True when a plain name starts with a registry host, as Docker decides (`.`, `:` or `localhost`)."""
    first, slash, _ = text.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def parse_location(text: str, *, default_tag: bool = True, role: Role = Role.SOURCE) -> Location:
    """Parse a transport reference; a plain image name means the local store (see the module doc)."""
    if text.startswith("docker://"):
        return Location(Transport.REGISTRY, reference=Reference.parse(text[len("docker://"):],
                                                                       default_tag=default_tag))
    prefix, sep, rest = text.partition(":")
    if sep and prefix in {t.value for t in Transport} and prefix != Transport.REGISTRY:
        transport = Transport(prefix)
        if transport is Transport.STORE:
            return _store(rest, default_tag)
        path, _, tag = rest.partition(":")
        if not path:
            raise InvalidReference(f"invalid reference {text!r}: {prefix}: needs a path")
        if transport is Transport.DOCKER_ARCHIVE and tag and not (tag.startswith("@") and tag[1:].isdigit()):
            Reference.parse(tag)  # validate early: docker-archive refs are name:tag or @N (the N-th image)
        return Location(transport, Path(path), tag or None)
    if sep and prefix in UNSUPPORTED:
        # `dir:1.0` is also an image name; skopeo's `dir:/path` is not.
        try:
            return _store(text, default_tag)
        except InvalidReference:
            pass
        raise Unsupported(f"transport {prefix!r} is not supported yet in {text!r}",
                          hint="use oci:, oci-archive:, docker-archive:, docker:// or a store name")
    loc = _store(text, default_tag)
    if loc.reference is not None and has_registry_host(text):
        if role is Role.DESTINATION:
            return Location(Transport.REGISTRY, reference=loc.reference)
        return Location(Transport.STORE, reference=loc.reference, text=text, remote_fallback=True)
    return loc


_ID = re.compile(r"(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}|[a-f0-9]{4,128})")


def _store(text: str, default_tag: bool) -> Location:
    """A store location: a name, or an image ID / digest (the store resolves those itself)."""
    try:
        ref = Reference.parse(text, default_tag=default_tag)
    except InvalidReference:
        if not _ID.fullmatch(text):
            raise
        ref = None
    return Location(Transport.STORE, reference=ref, text=text)
