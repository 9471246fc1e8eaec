"""Registry references: `REGISTRY/REPOSITORY[:TAG][@DIGEST]` and the API host and path they address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from dockyard.errors import InvalidReference
from dockyard.oci.digest import Digest
from dockyard.oci.reference import DOCKER_HUB, Reference, validate_tag

#: Docker Hub's API lives on another host than the name people use.
DOCKER_HUB_API = "registry-1.docker.io"


@dataclass(frozen=True, slots=True)
class RemoteRef:
    """A manifest in a registry: by tag, by digest, or both (the digest wins)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str, *, default_tag: bool = True) -> Self:
        """Parse with docker's normalization (`busybox` is `docker.io/library/busybox:latest`)."""
        return cls.of(Reference.parse(text, default_tag=default_tag))

    @classmethod
    def of(cls, ref: Reference | RemoteRef | str) -> Self:
        if isinstance(ref, str):
            return cls.parse(ref)
        return cls(ref.registry, ref.repository, ref.tag, ref.digest)

    @property
    def api_host(self) -> str:
        """The host (and port) the distribution API is served on."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def target(self) -> str:
        """What goes after `/manifests/`: the digest if there is one, else the tag."""
        if self.digest is not None:
            return str(self.digest)
        if self.tag is None:
            raise InvalidReference(f"{self} names no tag or digest")
        return self.tag

    @property
    def reference(self) -> Reference:
        return Reference(self.registry, self.repository, self.tag, self.digest)

    def with_digest(self, digest: Digest) -> RemoteRef:
        return RemoteRef(self.registry, self.repository, self.tag, digest)

    def with_tag(self, tag: str) -> RemoteRef:
        return RemoteRef(self.registry, self.repository, validate_tag(tag), None)

    def in_repository(self, repository: str) -> RemoteRef:
        """The same registry, another repository, no tag or digest."""
        return RemoteRef(self.registry, repository)

    def __str__(self) -> str:
        out = f"{self.registry}/{self.repository}"
        out += f":{self.tag}" if self.tag else ""
        return out + (f"@{self.digest}" if self.digest else "")
