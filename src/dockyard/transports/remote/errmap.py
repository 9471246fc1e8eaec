"""Registry answers to dockyard errors: the OCI error body (`{"errors":[{code,message,detail}]}`) and HTTP status."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NoReturn

import httpx

from dockyard.errors import (
    BlobUnknown,
    Conflict,
    Denied,
    DigestMismatch,
    Error,
    InvalidArgument,
    InvalidManifest,
    InvalidReference,
    LimitExceeded,
    ManifestUnknown,
    NotFound,
    SizeMismatch,
    Unauthorized,
    Unsupported,
)

#: Error bodies are small; never read more of one.
MAX_ERROR_BODY = 64 << 10

_BY_CODE: dict[str, type[Error]] = {
    "BLOB_UNKNOWN": BlobUnknown,
    "BLOB_UPLOAD_UNKNOWN": NotFound,
    "MANIFEST_UNKNOWN": ManifestUnknown,
    "NAME_UNKNOWN": NotFound,
    "MANIFEST_INVALID": InvalidManifest,
    "MANIFEST_BLOB_UNKNOWN": InvalidManifest,
    "BLOB_UPLOAD_INVALID": InvalidArgument,
    "DIGEST_INVALID": DigestMismatch,
    "SIZE_INVALID": SizeMismatch,
    "NAME_INVALID": InvalidReference,
    "TAG_INVALID": InvalidReference,
    "UNAUTHORIZED": Unauthorized,
    "DENIED": Denied,
    "UNSUPPORTED": Unsupported,
}
_BY_STATUS: dict[int, type[Error]] = {
    400: InvalidArgument, 401: Unauthorized, 403: Denied, 404: NotFound, 405: Unsupported, 409: Conflict,
    413: LimitExceeded,
}


@dataclass(frozen=True, slots=True)
class RegistryError:
    """One entry of an OCI error body."""

    code: str
    message: str
    detail: str = ""


def parse_errors(body: bytes) -> list[RegistryError]:
    """The entries of an OCI error body; an empty list when the body is something else."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return []
    entries = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return []
    out = []
    for e in entries:
        if isinstance(e, dict):
            detail = e.get("detail")
            # Structured details (distribution sends {"Tag": "x"}) repeat what the caller asked: keep text only.
            out.append(RegistryError(str(e.get("code", "")), str(e.get("message", "")),
                                     detail if isinstance(detail, str) else ""))
    return out


def describe(status: int, reason: str, body: bytes) -> tuple[str, str]:
    """(first error code, one-line message) of a failed answer."""
    errors = parse_errors(body)
    if errors:
        first = errors[0]
        text = first.message or first.code.lower().replace("_", " ")
        if first.detail and len(first.detail) < 200:
            text += f" ({first.detail})"
        return first.code, text
    plain = body[:200].decode("utf-8", "replace").strip()
    return "", f"HTTP {status} {reason}" + (f": {plain}" if plain and "<" not in plain[:1] else "")


def raise_for(response: httpx.Response, body: bytes, *, registry: str, what: str,
              missing: type[NotFound] | None = None) -> NoReturn:
    """Raise the dockyard error for a failed registry answer to a request about `what`.

    `missing` is the error for any 404 (ManifestUnknown on the manifests endpoint, whatever the code).
    """
    status = response.status_code
    code, text = describe(status, response.reason_phrase, body)
    kind = missing if status == 404 and missing is not None else _BY_CODE.get(code) or _BY_STATUS.get(status) or Error
    if status == 401:
        raise Unauthorized(f"{registry}: authentication failed for {what}: {text}",
                           hint=f"check the credentials or run: dockyard login {registry}")
    if status == 403:
        raise Denied(f"{registry}: access denied to {what}: {text}")
    if kind is ManifestUnknown:
        raise ManifestUnknown(f"manifest unknown: {what}" + ("" if text == "manifest unknown" else f" ({text})"))
    if kind is BlobUnknown:
        raise BlobUnknown(f"blob unknown: {what} in {registry}" + ("" if text == "blob unknown" else f" ({text})"))
    if status == 404 and kind is NotFound:
        raise NotFound(f"{registry}: {what} not found: {text}")
    if status == 429 or status >= 500:
        raise Error(f"{registry}: {what} failed: {text}", hint="the registry is overloaded or failing; retry later")
    raise kind(f"{registry}: {what} failed: {text}")


def read_error_body(response: httpx.Response) -> bytes:
    """Up to MAX_ERROR_BODY bytes of a (maybe streamed) failed answer, then close it."""
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            parts.append(chunk)
            size += len(chunk)
            if size >= MAX_ERROR_BODY:
                break
    except (httpx.HTTPError, httpx.StreamError):
        pass
    finally:
        response.close()
    return b"".join(parts)[:MAX_ERROR_BODY]
