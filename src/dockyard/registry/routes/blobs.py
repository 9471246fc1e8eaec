"""Blob endpoints: HEAD/GET `/v2/<name>/blobs/<digest>` (with Range) and DELETE."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dockyard.registry import errcodes
from dockyard.registry.auth import Action
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.routes.blobresponse import BlobResponse, parse_range
from dockyard.registry.routes.common import Registry, Target, authorize, empty, parse_digest


async def get_blob(request: Request, reg: Registry, target: Target) -> Response:
    """end-2: the blob's bytes (206 for a `Range`), or only its headers for HEAD."""
    await authorize(request, reg, target.name, Action.PULL)
    digest = parse_digest(target.ref)
    source = await reg.blobs.source(target.name, digest, request.method)
    headers = {
        "Docker-Content-Digest": str(digest),
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
        "ETag": f'"{digest}"',
        "Cache-Control": "max-age=31536000",
    }
    if source.redirect:
        return RedirectResponse(source.redirect, status_code=307, headers={"Docker-Content-Digest": str(digest)})
    head = request.method == "HEAD"
    range_header = request.headers.get("range")
    if range_header:
        start, end = parse_range(range_header, source.size)
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{source.size}"
        return BlobResponse(reg.blobs, source, start=start, end=end, status_code=206, headers=headers, head=head)
    return BlobResponse(reg.blobs, source, start=0, end=source.size, status_code=200, headers=headers, head=head)


async def delete_blob(request: Request, reg: Registry, target: Target) -> Response:
    """end-10: unlink the blob from the repository (202); the bytes go at garbage collection."""
    identity = await authorize(request, reg, target.name, Action.DELETE)
    if not reg.config.delete_enabled:
        raise RegistryError(errcodes.METHOD_UNSUPPORTED, "deletes are disabled on this registry")
    digest = parse_digest(target.ref)
    reg.blobs.delete(target.name, digest, actor=identity.actor)
    return empty(202, {"Docker-Content-Digest": str(digest)})
