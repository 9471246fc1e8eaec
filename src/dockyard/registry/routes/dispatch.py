"""URL dispatch for the distribution API: repository names contain slashes, so endpoints match by suffix.

Every request goes through `Dispatcher` (one ASGI app): it finds the endpoint, records its template as the
metrics route label, validates the repository name, and calls the handler. Unknown paths are 404 and
unknown methods 405, both as spec JSON errors.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from dockyard.registry import errcodes
from dockyard.registry.auth import Action
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.metrics import ROUTE_KEY
from dockyard.registry.routes import blobs, listing, manifests, uploads
from dockyard.registry.routes.common import Registry, Target, authorize, check_name, registry_of

Handler = Callable[[Request, Registry, Target], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One URL shape and its handlers by method."""

    pattern: re.Pattern[str]
    template: str
    methods: Mapping[str, Handler]


def _endpoint(suffix: str, template: str, methods: Mapping[str, Handler]) -> Endpoint:
    return Endpoint(re.compile(rf"^/v2/(?P<name>.+?){suffix}\Z", re.DOTALL), template, methods)


ENDPOINTS = (
    _endpoint(r"/blobs/uploads/?", "/v2/<name>/blobs/uploads/", {"POST": uploads.start_upload}),
    _endpoint(r"/blobs/uploads/(?P<ref>[^/]+)", "/v2/<name>/blobs/uploads/<uuid>", {
        "GET": uploads.upload_status, "PATCH": uploads.patch_upload, "PUT": uploads.put_upload,
        "DELETE": uploads.cancel_upload}),
    _endpoint(r"/blobs/(?P<ref>[^/]+)", "/v2/<name>/blobs/<digest>", {
        "GET": blobs.get_blob, "HEAD": blobs.get_blob, "DELETE": blobs.delete_blob}),
    _endpoint(r"/manifests/(?P<ref>[^/]+)", "/v2/<name>/manifests/<reference>", {
        "GET": manifests.get_manifest, "HEAD": manifests.get_manifest, "PUT": manifests.put_manifest,
        "DELETE": manifests.delete_manifest}),
    _endpoint(r"/tags/list", "/v2/<name>/tags/list", {"GET": listing.list_tags, "HEAD": listing.list_tags}),
    _endpoint(r"/referrers/(?P<ref>[^/]+)", "/v2/<name>/referrers/<digest>", {
        "GET": listing.referrers, "HEAD": listing.referrers}),
)


def _route(request: Request, template: str) -> None:
    request.scope.setdefault("state", {})[ROUTE_KEY] = template


def _method_unsupported(methods: Mapping[str, Handler] | tuple[str, ...]) -> RegistryError:
    allowed = ", ".join(sorted(methods))
    return RegistryError(errcodes.METHOD_UNSUPPORTED, f"method not allowed here; allowed: {allowed}",
                         headers={"Allow": allowed})


async def version_check(request: Request, reg: Registry) -> Response:
    """end-1: 200 when the caller may use the registry (401 with a challenge otherwise)."""
    await authorize(request, reg, "", Action.PULL)
    return Response(b"{}", media_type="application/json")


async def metrics(request: Request, reg: Registry) -> Response:
    """The Prometheus scrape endpoint."""
    if not reg.config.metrics:
        raise RegistryError(errcodes.NOT_FOUND, "metrics are disabled")
    return PlainTextResponse(reg.metrics.render(), media_type="text/plain; version=0.0.4")


FIXED: Mapping[str, tuple[str, Callable[[Request, Registry], Awaitable[Response]]]] = {
    "/v2/": ("/v2/", version_check),
    "/v2": ("/v2/", version_check),
    "/v2/_catalog": ("/v2/_catalog", listing.catalog),
    "/metrics": ("/metrics", metrics),
}


async def dispatch(request: Request) -> Response:
    reg = registry_of(request)
    path = request.scope["path"]
    method = request.method
    fixed = FIXED.get(path)
    if fixed is not None:
        _route(request, fixed[0])
        if method not in ("GET", "HEAD"):
            raise _method_unsupported(("GET", "HEAD"))
        return await fixed[1](request, reg)  # the server drops the body of a HEAD response
    for endpoint in ENDPOINTS:
        match = endpoint.pattern.match(path)
        if match is None:
            continue
        _route(request, endpoint.template)
        groups = match.groupdict()
        target = Target(check_name(groups["name"]), groups.get("ref") or "")
        endpoint_handler = endpoint.methods.get(method)
        if endpoint_handler is None:
            raise _method_unsupported(endpoint.methods)
        return await endpoint_handler(request, reg, target)
    _route(request, "other")
    raise RegistryError(errcodes.NOT_FOUND, f"no endpoint at {path[:200]!r}")


class Dispatcher:
    """The ASGI app behind every path (so Starlette's router never answers with plain-text errors)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await dispatch(Request(scope, receive))
        await response(scope, receive, send)
