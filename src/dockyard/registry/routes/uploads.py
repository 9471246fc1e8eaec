"""Upload endpoints: POST (session, monolithic `?digest=`, `?mount=&from=`), PATCH, PUT, GET status, DELETE."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dockyard.oci.digest import ALGORITHMS
from dockyard.registry import errcodes
from dockyard.registry.auth import Access, Action, Identity
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.routes.common import Registry, Target, authorize, check_name, chunk_of, empty, parse_digest
from dockyard.registry.services.offload import SourceError
from dockyard.registry.services.uploads import UploadStatus, range_header


def _session_headers(status: UploadStatus) -> dict[str, str]:
    return {
        "Location": f"/v2/{status.repository}/blobs/uploads/{status.uuid}",
        "Docker-Upload-UUID": status.uuid,
        "Range": range_header(status.size),
    }


def _created(name: str, digest: str) -> Response:
    return empty(201, {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})


def _mount(request: Request, reg: Registry, target: Target, identity: Identity) -> Response | None:
    """end-11: link an existing blob from `from` (or, with auto_mount, from any readable repository)."""
    digest = parse_digest(request.query_params.get("mount"))
    source = request.query_params.get("from")
    if source:
        candidates = [check_name(source)]
    elif reg.config.auto_mount:
        candidates = [target.name, *reg.meta.repositories_with_blob(digest)]
    else:
        return None
    size = reg.blobs.mount(target.name, digest, candidates,
                           lambda repo: reg.auth.may(identity, Access(repo, Action.PULL)), actor=identity.actor)
    return None if size is None else _created(target.name, str(digest))


async def start_upload(request: Request, reg: Registry, target: Target) -> Response:
    """end-4a/4b/4c/11: open a session (202), take a whole blob (201), or mount one (201)."""
    identity = await authorize(request, reg, target.name, Action.PUSH)
    params = request.query_params
    if "mount" in params:
        mounted = _mount(request, reg, target, identity)
        if mounted is not None:
            return mounted
    algorithm = params.get("digest-algorithm", "sha256")
    if algorithm not in ALGORITHMS:
        raise RegistryError(errcodes.DIGEST_INVALID, f"unsupported digest algorithm {algorithm[:50]!r}")
    if "digest" in params and "mount" not in params:
        digest = parse_digest(params.get("digest"))
        chunk = chunk_of(request)
        status = await reg.uploads.start(target.name, actor=identity.actor, algorithm=digest.algorithm)
        try:
            await reg.uploads.finish(target.name, status.uuid, digest, request.stream(), chunk, actor=identity.actor)
        except SourceError:
            await reg.uploads.cancel(target.name, status.uuid)  # nobody can resume a session they never saw
            raise
        return _created(target.name, str(digest))
    status = await reg.uploads.start(target.name, actor=identity.actor, algorithm=algorithm)
    return empty(202, _session_headers(status))


async def upload_status(request: Request, reg: Registry, target: Target) -> Response:
    """end-13: how many bytes the session holds (204 + Range)."""
    await authorize(request, reg, target.name, Action.PUSH)
    return empty(204, _session_headers(await reg.uploads.status(target.name, target.ref)))


async def patch_upload(request: Request, reg: Registry, target: Target) -> Response:
    """end-5: append a chunk (with Content-Range, in order or 416) or stream the whole body."""
    await authorize(request, reg, target.name, Action.PUSH)
    chunk = chunk_of(request)
    try:
        status = await reg.uploads.append(target.name, target.ref, request.stream(), chunk)
    except RegistryError as exc:
        if exc.code is errcodes.RANGE_INVALID:  # tell the client where to resume
            exc.headers.update({"Location": f"/v2/{target.name}/blobs/uploads/{target.ref}",
                                "Docker-Upload-UUID": target.ref})
        raise
    return empty(202, _session_headers(status))


async def put_upload(request: Request, reg: Registry, target: Target) -> Response:
    """end-6: close the session with the digest of the whole blob, optionally with a last chunk (201)."""
    identity = await authorize(request, reg, target.name, Action.PUSH)
    digest = parse_digest(request.query_params.get("digest"))
    await reg.uploads.finish(target.name, target.ref, digest, request.stream(), chunk_of(request),
                             actor=identity.actor)
    return _created(target.name, str(digest))


async def cancel_upload(request: Request, reg: Registry, target: Target) -> Response:
    """end-14: abandon the session (204)."""
    identity = await authorize(request, reg, target.name, Action.PUSH)
    await reg.uploads.cancel(target.name, target.ref, actor=identity.actor)
    return empty(204, {})
