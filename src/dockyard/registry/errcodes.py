"""The registry's error codes (ONE table) and the one place that renders errors as distribution-spec JSON.

Handlers raise; `render_error` turns any exception into `{"errors": [{"code", "message", "detail"}]}`
with the status the table gives. Core `dockyard.errors` classes map here too, so services can raise
the hierarchy they already know (ManifestUnknown, DigestMismatch, ...) and the client still sees the
spec's code. Codes are the spec's (code-1..code-15) plus two distribution kept for ranges and paging.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from dockyard.errors import (
    BlobUnknown,
    Conflict,
    DigestMismatch,
    Error,
    InvalidArgument,
    InvalidContent,
    InvalidManifest,
    InvalidReference,
    LimitExceeded,
    ManifestUnknown,
    NotFound,
    SizeMismatch,
    Unsupported,
)
from dockyard.oci.jsonvalue import JSONValue


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One row of the table: the spec's code, its HTTP status and its default message."""

    code: str
    status: int
    message: str


BLOB_UNKNOWN = ErrorCode("BLOB_UNKNOWN", 404, "blob unknown to registry")
BLOB_UPLOAD_INVALID = ErrorCode("BLOB_UPLOAD_INVALID", 400, "blob upload invalid")
BLOB_UPLOAD_UNKNOWN = ErrorCode("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry")
DIGEST_INVALID = ErrorCode("DIGEST_INVALID", 400, "provided digest did not match uploaded content")
MANIFEST_BLOB_UNKNOWN = ErrorCode("MANIFEST_BLOB_UNKNOWN", 400, "manifest references a blob unknown to the registry")
MANIFEST_INVALID = ErrorCode("MANIFEST_INVALID", 400, "manifest invalid")
MANIFEST_UNKNOWN = ErrorCode("MANIFEST_UNKNOWN", 404, "manifest unknown")
NAME_INVALID = ErrorCode("NAME_INVALID", 400, "invalid repository name")
NAME_UNKNOWN = ErrorCode("NAME_UNKNOWN", 404, "repository name not known to registry")
SIZE_INVALID = ErrorCode("SIZE_INVALID", 400, "provided length did not match content length")
UNAUTHORIZED = ErrorCode("UNAUTHORIZED", 401, "authentication required")
DENIED = ErrorCode("DENIED", 403, "requested access to the resource is denied")
UNSUPPORTED = ErrorCode("UNSUPPORTED", 415, "the operation is unsupported")
METHOD_UNSUPPORTED = ErrorCode("UNSUPPORTED", 405, "the method is not supported on this endpoint")
TOOMANYREQUESTS = ErrorCode("TOOMANYREQUESTS", 429, "too many requests")
# Not in the OCI list but what distribution answers; clients treat unknown codes as UNKNOWN.
RANGE_INVALID = ErrorCode("RANGE_INVALID", 416, "invalid content range")
PAGINATION_NUMBER_INVALID = ErrorCode("PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested")
NOT_FOUND = ErrorCode("NAME_UNKNOWN", 404, "no such endpoint")
UNKNOWN = ErrorCode("UNKNOWN", 500, "unknown error")

TABLE: tuple[ErrorCode, ...] = (
    BLOB_UNKNOWN, BLOB_UPLOAD_INVALID, BLOB_UPLOAD_UNKNOWN, DIGEST_INVALID, MANIFEST_BLOB_UNKNOWN,
    MANIFEST_INVALID, MANIFEST_UNKNOWN, NAME_INVALID, NAME_UNKNOWN, SIZE_INVALID, UNAUTHORIZED, DENIED,
    UNSUPPORTED, METHOD_UNSUPPORTED, TOOMANYREQUESTS, RANGE_INVALID, PAGINATION_NUMBER_INVALID, NOT_FOUND, UNKNOWN,
)


class RegistryError(Error):
    """An error with an explicit registry code; `status` overrides the table (413 for a huge manifest)."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        *,
        detail: JSONValue = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message or code.message)
        self.code = code
        self.detail = detail
        self.status = status or code.status
        self.headers = dict(headers or {})


class Unauthenticated(RegistryError):
    """No or bad credentials: 401 with a `WWW-Authenticate` challenge."""

    def __init__(self, challenge: str, message: str | None = None) -> None:
        super().__init__(UNAUTHORIZED, message, headers={"WWW-Authenticate": challenge})


class Denied(RegistryError):
    """Authenticated, but not allowed to do this."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(DENIED, message)


def classify(exc: Error) -> tuple[ErrorCode, int]:
    """The code and status for any dockyard error (most specific class first)."""
    if isinstance(exc, RegistryError):
        return exc.code, exc.status
    code = UNKNOWN
    for cls, mapped in _CORE:
        if isinstance(exc, cls):
            code = mapped
            break
    return code, code.status


_CORE: tuple[tuple[type[Error], ErrorCode], ...] = (
    (ManifestUnknown, MANIFEST_UNKNOWN),
    (BlobUnknown, BLOB_UNKNOWN),
    (NotFound, NAME_UNKNOWN),
    (DigestMismatch, DIGEST_INVALID),
    (SizeMismatch, SIZE_INVALID),
    (LimitExceeded, MANIFEST_INVALID),
    (InvalidManifest, MANIFEST_INVALID),
    (InvalidReference, NAME_INVALID),
    (InvalidArgument, BLOB_UPLOAD_INVALID),
    (InvalidContent, MANIFEST_INVALID),
    (Unsupported, UNSUPPORTED),
    (Conflict, TOOMANYREQUESTS),
)


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """What a response carries for an error: status, headers and the JSON body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def error_body(code: ErrorCode, message: str, detail: JSONValue = None, *, status: int | None = None,
               headers: Mapping[str, str] | None = None) -> ErrorBody:
    """Build the spec's error document."""
    entry: dict[str, JSONValue] = {"code": code.code, "message": message}
    if detail is not None:
        entry["detail"] = detail
    body = json.dumps({"errors": [entry]}, separators=(",", ":")).encode()
    out = dict(headers or {})
    if code is TOOMANYREQUESTS and "Retry-After" not in out:
        out["Retry-After"] = "1"
    return ErrorBody(status or code.status, out, body)


def render_error(exc: Error) -> ErrorBody:
    """The response for a dockyard error: spec code, status, message (hint as detail), extra headers."""
    code, status = classify(exc)
    detail: JSONValue = exc.detail if isinstance(exc, RegistryError) else None
    if detail is None and exc.hint:
        detail = exc.hint
    headers = exc.headers if isinstance(exc, RegistryError) else {}
    return error_body(code, exc.message, detail, status=status, headers=headers)
