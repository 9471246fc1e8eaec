"""Image references (`[registry/]repository[:tag][@digest]`) with Docker's normalization rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from dockyard.errors import InvalidArgument, InvalidReference
from dockyard.oci.digest import Digest

DOCKER_HUB = "docker.io"
DEFAULT_TAG = "latest"
MAX_NAME = 255

# The distribution-spec grammars (reference/regexp.go).
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
# `\Z`, not `$`: `$` also matches before a trailing newline, which would let "tag\n" through.
NAME_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*\Z")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\Z")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
DOMAIN_RE = re.compile(
    rf"^(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?\Z"
)
# A bare 64-hex string is an image ID, never a repository name (distribution's anchoredIdentifierRegexp).
_IDENTIFIER_RE = re.compile(r"^[a-f0-9]{64}\Z")


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, path = first, rest
    else:
        domain, path = DOCKER_HUB, name
    if domain == "index.docker.io":
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return domain, path


@dataclass(frozen=True, slots=True)
class Reference:
    """A normalized image reference; `tag` and `digest` may both be set (the digest wins on pull)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str, *, default_tag: bool = True) -> Self:
        """Parse `text`; without tag or digest the tag is `latest` unless `default_tag` is False."""
        if not text or text != text.strip():
            raise InvalidReference(f"invalid reference {text!r}: empty or surrounded by whitespace")
        if _IDENTIFIER_RE.match(text):
            raise InvalidReference(f"invalid reference {text!r}: a 64-hex string is an image ID, not a repository")
        rest, at, digest_text = text.partition("@")
        digest = None
        if at:
            try:
                digest = Digest.parse(digest_text)
            except InvalidArgument as exc:
                raise InvalidReference(f"invalid reference {text!r}: {exc.message}") from None
        tag = None
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1:]
            if not TAG_RE.match(tag):
                raise InvalidReference(
                    f"invalid reference {text!r}: tag {tag!r} must match [A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}"
                )
        domain, path = _split_domain(rest)
        if not DOMAIN_RE.match(domain):
            raise InvalidReference(f"invalid reference {text!r}: bad registry host {domain!r}")
        if path != path.lower() and NAME_RE.match(path.lower()):
            raise InvalidReference(f"invalid reference {text!r}: repository name must be lowercase")
        if not NAME_RE.match(path):
            raise InvalidReference(
                f"invalid reference {text!r}: repository {path!r} must be lowercase components "
                "of [a-z0-9] separated by '.', '_', '__' or '-', joined by '/'"
            )
        if len(domain) + 1 + len(path) > MAX_NAME:
            raise InvalidReference(f"invalid reference {text!r}: name longer than {MAX_NAME} characters")
        if tag is None and digest is None and default_tag:
            tag = DEFAULT_TAG
        return cls(domain, path, tag, digest)

    @property
    def name(self) -> str:
        """`registry/repository`, fully qualified."""
        return f"{self.registry}/{self.repository}"

    @property
    def familiar_name(self) -> str:
        """The short name Docker shows: `busybox` for `docker.io/library/busybox`."""
        if self.registry == DOCKER_HUB:
            short = self.repository.removeprefix("library/")
            # docker.io/library/foo/bar stays library/foo/bar: only official one-component names shorten.
            return short if "/" not in short else self.repository
        return self.name

    def with_tag(self, tag: str) -> Reference:
        if not TAG_RE.match(tag):
            raise InvalidReference(f"invalid tag {tag!r}")
        return Reference(self.registry, self.repository, tag, None)

    def with_digest(self, digest: Digest) -> Reference:
        return Reference(self.registry, self.repository, self.tag, digest)

    def _suffix(self) -> str:
        out = f":{self.tag}" if self.tag else ""
        return out + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.name + self._suffix()

    @property
    def familiar(self) -> str:
        """The reference as Docker prints it (`busybox:latest`)."""
        return self.familiar_name + self._suffix()


def validate_tag(tag: str) -> str:
    """Return `tag` or raise InvalidReference."""
    if not TAG_RE.match(tag):
        raise InvalidReference(f"invalid tag {tag!r}: must match [A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}")
    return tag
