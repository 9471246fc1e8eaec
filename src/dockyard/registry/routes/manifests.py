"""Manifest endpoints: HEAD/GET with Accept negotiation, PUT (by tag or digest, `?tag=`), DELETE."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dockyard.oci.digest import Digest
from dockyard.oci.jsonvalue import JSONValue
from dockyard.oci.reference import TAG_RE
from dockyard.registry import errcodes
from dockyard.registry.auth import Action
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.meta.base import ManifestRecord
from dockyard.registry.routes.common import (
    Registry,
    Target,
    authorize,
    content_length,
    empty,
    parse_manifest_reference,
)


def _accepted(request: Request) -> list[str]:
    """The media types of every `Accept` header (parameters such as `q=` dropped)."""
    out = []
    for value in request.headers.getlist("accept"):
        for part in value.split(","):
            media_type = part.split(";", 1)[0].strip().lower()
            if media_type:
                out.append(media_type)
    return out


def _acceptable(request: Request, media_type: str) -> bool:
    accepted = _accepted(request)
    major = media_type.split("/", 1)[0]
    return not accepted or any(a in (media_type, "*/*", f"{major}/*") for a in accepted)


def _headers(record: ManifestRecord) -> dict[str, str]:
    return {
        "Content-Type": record.media_type,
        "Docker-Content-Digest": str(record.digest),
        "Content-Length": str(record.size),
        "ETag": f'"{record.digest}"',
    }


async def get_manifest(request: Request, reg: Registry, target: Target) -> Response:
    """end-3: the manifest's exact bytes with its media type; HEAD gets the headers only."""
    await authorize(request, reg, target.name, Action.PULL)
    reference = parse_manifest_reference(target.ref, for_push=False)
    record = reg.manifests.resolve(target.name, reference)
    if not isinstance(reference, Digest) and not _acceptable(request, record.media_type):
        # distribution answers the same way: the client cannot read what this tag holds
        raise RegistryError(errcodes.MANIFEST_UNKNOWN, f"{target.name}:{reference} is a {record.media_type}, "
                            "which the request's Accept header does not allow",
                            detail={"mediaType": record.media_type, "accept": list[JSONValue](_accepted(request))})
    if request.method == "HEAD":
        return Response(b"", headers=_headers(record))
    return Response(await reg.manifests.read(record), headers=_headers(record))


async def _read_body(request: Request, limit: int) -> bytes:
    too_big = RegistryError(errcodes.MANIFEST_INVALID, f"manifest is larger than the {limit}-byte limit",
                            status=413, detail={"limit": limit})
    declared = content_length(request)
    if declared is not None and declared > limit:
        raise too_big
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        parts.append(chunk)
    return b"".join(parts)


async def put_manifest(request: Request, reg: Registry, target: Target) -> Response:
    """end-7: store a manifest exactly as sent (201), after checking everything it references exists."""
    identity = await authorize(request, reg, target.name, Action.PUSH)
    reference = parse_manifest_reference(target.ref, for_push=True)
    extra_tags = request.query_params.getlist("tag")
    for tag in extra_tags:
        if not TAG_RE.match(tag):
            raise RegistryError(errcodes.MANIFEST_INVALID, f"invalid tag {tag[:200]!r}")
    raw = await _read_body(request, reg.config.max_manifest_bytes)
    record = await reg.manifests.put(target.name, reference, raw, request.headers.get("content-type"),
                                     tags=extra_tags, actor=identity.actor)
    headers = {"Location": f"/v2/{target.name}/manifests/{record.digest}", "Docker-Content-Digest": str(record.digest)}
    if record.subject is not None:
        headers["OCI-Subject"] = str(record.subject)
    response = empty(201, headers)
    for tag in extra_tags:
        response.headers.append("OCI-Tag", tag)
    return response


async def delete_manifest(request: Request, reg: Registry, target: Target) -> Response:
    """end-9: delete by digest (with its tags) or untag by tag; 202."""
    identity = await authorize(request, reg, target.name, Action.DELETE)
    if not reg.config.delete_enabled:
        raise RegistryError(errcodes.METHOD_UNSUPPORTED, "deletes are disabled on this registry")
    reg.manifests.delete(target.name, parse_manifest_reference(target.ref, for_push=False), actor=identity.actor)
    return empty(202, {})
