"""Listing endpoints: tags of a repository (end-8a/8b), the catalog, and referrers (end-12a/12b)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from dockyard.oci.mediatype import MediaType
from dockyard.registry import errcodes
from dockyard.registry.auth import Access, Action
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.routes.common import Registry, Target, authorize, parse_digest
from dockyard.registry.services.listing import Page, paginate, parse_n


def _json(document: dict[str, object], page: Page, path: str) -> Response:
    headers = {}
    link = page.link(path)
    if link:
        headers["Link"] = link
    body = json.dumps(document, separators=(",", ":")).encode()
    return Response(body, media_type="application/json", headers=headers)


async def list_tags(request: Request, reg: Registry, target: Target) -> Response:
    """Tags in ASCII order; `n` and `last` paginate, with a `Link` to the next page."""
    await authorize(request, reg, target.name, Action.PULL)
    if not reg.meta.repository_exists(target.name):
        raise RegistryError(errcodes.NAME_UNKNOWN, f"repository {target.name} is not known")
    n = parse_n(request.query_params.get("n"))
    page = paginate(lambda last, limit: reg.meta.tags(target.name, last=last, limit=limit), n,
                    request.query_params.get("last"))
    return _json({"name": target.name, "tags": list(page.items)}, page, f"/v2/{target.name}/tags/list")


async def catalog(request: Request, reg: Registry) -> Response:
    """`/v2/_catalog`: the repositories the caller may pull from, paginated like tags."""
    identity = await authorize(request, reg, "", Action.CATALOG)
    n = parse_n(request.query_params.get("n"))

    def readable(last: str | None, limit: int | None) -> list[str]:
        out: list[str] = []
        while limit is None or len(out) < limit:
            batch = reg.meta.repositories(last=last, limit=None if limit is None else limit * 2)
            out += [r for r in batch if reg.auth.may(identity, Access(r, Action.PULL))]
            if limit is None or len(batch) < limit * 2:
                break
            last = batch[-1]
        return out if limit is None else out[:limit]

    page = paginate(readable, n, request.query_params.get("last"))
    return _json({"repositories": list(page.items)}, page, "/v2/_catalog")


async def referrers(request: Request, reg: Registry, target: Target) -> Response:
    """An image index of the manifests whose subject is the digest (empty, not 404, when there are none)."""
    await authorize(request, reg, target.name, Action.PULL)
    digest = parse_digest(target.ref)
    artifact_type = request.query_params.get("artifactType") or None
    index = await reg.referrers.index(target.name, digest, artifact_type)
    headers = {"OCI-Filters-Applied": "artifactType"} if index.filtered else {}
    return Response(index.body, media_type=MediaType.OCI_INDEX.value, headers=headers)
