"""What every route shares: the registry context, URL target validation, auth, and header parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from starlette.requests import Request
from starlette.responses import Response

from dockyard.errors import Error
from dockyard.oci.digest import Digest
from dockyard.oci.reference import NAME_RE, TAG_RE
from dockyard.registry import errcodes
from dockyard.registry.auth import Access, Action, Auth, Identity
from dockyard.registry.config import RegistryConfig
from dockyard.registry.errcodes import ErrorCode, RegistryError
from dockyard.registry.meta.base import MetadataStore
from dockyard.registry.metrics import USER_KEY, Metrics
from dockyard.registry.services.blobs import BlobService
from dockyard.registry.services.manifests import ManifestReference, ManifestService
from dockyard.registry.services.offload import Offload
from dockyard.registry.services.referrers import ReferrersService
from dockyard.registry.services.uploads import Chunk, UploadService
from dockyard.registry.storage.base import StorageDriver

#: Repository names are shorter than 256 characters (distribution-spec "Pulling manifests").
MAX_NAME = 255
_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?([0-9]{1,19})-([0-9]{1,19})(?:/(?:[0-9]{1,19}|\*))?\Z")


@dataclass(frozen=True, slots=True)
class Registry:
    """Everything a request handler may use; one per app (no module-level singletons)."""

    config: RegistryConfig
    driver: StorageDriver
    meta: MetadataStore
    offload: Offload
    auth: Auth
    metrics: Metrics
    blobs: BlobService
    uploads: UploadService
    manifests: ManifestService
    referrers: ReferrersService


@dataclass(frozen=True, slots=True)
class Target:
    """What a URL names: a validated repository and the rest (digest, tag or upload id; may be empty)."""

    name: str
    ref: str


def registry_of(request: Request) -> Registry:
    return cast(Registry, request.app.state.registry)


def check_name(name: str) -> str:
    """A repository name matching the spec's grammar, or NAME_INVALID (this also stops `..` tricks)."""
    if len(name) > MAX_NAME or not NAME_RE.match(name):
        raise RegistryError(errcodes.NAME_INVALID, f"invalid repository name {name[:300]!r}",
                            detail="lowercase [a-z0-9] components separated by '.', '_', '__' or '-', joined by '/'")
    return name


def parse_digest(text: str | None, code: ErrorCode = errcodes.DIGEST_INVALID) -> Digest:
    """A sha256/sha512 digest, or a RegistryError with `code`."""
    if not text:
        raise RegistryError(code, "a digest is required")
    try:
        return Digest.parse(text)
    except Error as exc:
        raise RegistryError(code, exc.message) from None


def parse_manifest_reference(text: str, *, for_push: bool) -> ManifestReference:
    """A `<reference>` path segment: a digest if it has a colon, else a tag."""
    if ":" in text:
        return parse_digest(text, errcodes.DIGEST_INVALID if for_push else errcodes.MANIFEST_UNKNOWN)
    if not TAG_RE.match(text):
        code = errcodes.MANIFEST_INVALID if for_push else errcodes.MANIFEST_UNKNOWN
        raise RegistryError(code, f"invalid tag {text[:200]!r}", detail="tags match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
    return text


async def authorize(request: Request, reg: Registry, repository: str, action: Action) -> Identity:
    """Identify the caller and check they may do `action`; records the user for the access log."""
    identity = await reg.auth.identify(request.headers.get("authorization"))
    request.scope.setdefault("state", {})[USER_KEY] = identity.actor
    reg.auth.authorize(identity, Access(repository, action))
    return identity


def content_length(request: Request) -> int | None:
    """The `Content-Length` header as a number (None when absent); garbage is SIZE_INVALID."""
    text = request.headers.get("content-length")
    if text is None:
        return None
    if not text.strip().isdigit():
        raise RegistryError(errcodes.SIZE_INVALID, f"invalid Content-Length {text[:50]!r}")
    return int(text)


def chunk_of(request: Request) -> Chunk:
    """The `Content-Range`/`Content-Length` pair of an upload request."""
    length = content_length(request)
    text = request.headers.get("content-range")
    if not text:
        return Chunk(length=length)
    match = _CONTENT_RANGE.match(text.strip())
    if match is None:
        raise RegistryError(errcodes.RANGE_INVALID, f"invalid Content-Range {text[:100]!r}",
                            detail="expected <start>-<end>, inclusive")
    return Chunk(int(match[1]), int(match[2]), length)


def empty(status: int, headers: dict[str, str]) -> Response:
    """A response with no body (Content-Length: 0, except on 204 where HTTP forbids the header)."""
    extra = {} if status == 204 else {"Content-Length": "0"}
    return Response(b"", status_code=status, headers={**headers, **extra})
