"""Image names as a Dockerfile writes them in `FROM` and `COPY --from`: registry, repository, tag and digest.

Unlike `dockyard.oci.reference`, this never rejects text: `$VAR`s and odd names are kept as written, since a
linter must say something useful about any FROM line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImageName:
    """`[registry/]repository[:tag][@digest]` split the way docker does (a registry has a `.` or `:`, or is
    `localhost`)."""

    text: str
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> ImageName:
        rest, _, digest = text.partition("@")
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        tag = None
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1:]
        registry = None
        first, sep, remainder = rest.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            registry, rest = first, remainder
        return cls(text, registry, rest, tag, digest or None)

    @property
    def is_variable(self) -> bool:
        return "$" in self.text

    @property
    def basename(self) -> str:
        """The last path component of the repository (`library/python` -> `python`)."""
        return self.repository.rsplit("/", 1)[-1]

    @property
    def is_official(self) -> bool:
        """A Docker Hub official image (`python`, `library/python`, `docker.io/library/python`)."""
        hub = self.registry in (None, "docker.io", "index.docker.io", "registry-1.docker.io")
        return hub and (self.repository.count("/") == 0 or self.repository.startswith("library/"))


def registry_allowed(registry: str | None, allowed: tuple[str, ...]) -> bool:
    """hadolint's DL3026 test: a Hub image is allowed when `docker.io` or `hub.docker.com` is trusted; `*.x.io`
    matches any subdomain of `x.io`."""
    if registry is None:
        return "docker.io" in allowed or "hub.docker.com" in allowed
    for pattern in allowed:
        if pattern == registry:
            return True
        if pattern.startswith("*.") and registry.endswith(pattern[1:]):
            return True
    return False
