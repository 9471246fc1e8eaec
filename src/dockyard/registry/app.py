"""The ASGI application factory: `create_app(config)` wires storage, metadata, services, auth and observation.

Nothing here is a module-level singleton: two apps in one process (tests do that) share nothing.
Errors are rendered in exactly one place (`errcodes.render_error`), reached through the handlers below.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from dockyard.errors import Error
from dockyard.registry import errcodes
from dockyard.registry.accesslog import AccessLog
from dockyard.registry.auth import Auth
from dockyard.registry.config import RegistryConfig, StorageKind
from dockyard.registry.errcodes import ErrorBody, error_body, render_error
from dockyard.registry.meta.base import MetadataStore
from dockyard.registry.meta.sqlite import SQLiteMetadata
from dockyard.registry.metrics import Metrics, ObserveMiddleware
from dockyard.registry.routes.common import Registry
from dockyard.registry.routes.dispatch import Dispatcher
from dockyard.registry.services.blobs import BlobService
from dockyard.registry.services.manifests import ManifestService
from dockyard.registry.services.offload import Offload, SourceError
from dockyard.registry.services.referrers import ReferrersService
from dockyard.registry.services.uploads import UploadService
from dockyard.registry.storage.base import StorageDriver
from dockyard.registry.storage.checked import CheckedDriver
from dockyard.registry.storage.filesystem import FilesystemDriver
from dockyard.registry.storage.inmemory import InMemoryDriver

API_VERSION_HEADER = (b"docker-distribution-api-version", b"registry/2.0")
_log = logging.getLogger("dockyard.registry")


def _response(error: ErrorBody) -> Response:
    return Response(error.body, status_code=error.status, headers=dict(error.headers), media_type="application/json")


async def _on_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Error)
    return _response(render_error(exc))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = errcodes.METHOD_UNSUPPORTED if exc.status_code == 405 else errcodes.NOT_FOUND
    return _response(error_body(code, exc.detail, status=exc.status_code, headers=exc.headers))


async def _on_disconnect(request: Request, exc: Exception) -> Response:
    # The client is gone; nobody reads this. Bytes already received stay in the upload session.
    return Response(b"", status_code=400)


async def _on_crash(request: Request, exc: Exception) -> Response:
    _log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return _response(error_body(errcodes.UNKNOWN, "internal server error"))


def build_driver(config: RegistryConfig) -> StorageDriver:
    """The storage driver the config names."""
    if config.storage is StorageKind.INMEMORY:
        return InMemoryDriver()
    return FilesystemDriver(config.blobs_root)


def build_registry(config: RegistryConfig, *, driver: StorageDriver | None = None,
                   meta: MetadataStore | None = None) -> Registry:
    """All services of one registry, sharing one thread pool, driver and metadata store."""
    offload = Offload(config.upload_workers)
    inner = driver if driver is not None else build_driver(config)
    checked = inner if isinstance(inner, CheckedDriver) else CheckedDriver(inner)
    if meta is None:
        in_memory = config.storage is StorageKind.INMEMORY and driver is None
        meta = SQLiteMetadata(None if in_memory else config.db_path)
    metrics = Metrics(checked.stats)
    blobs = BlobService(checked, meta, offload)
    uploads = UploadService(checked, meta, blobs, offload)
    uploads.on_finish.append(metrics.observe_upload)
    manifests = ManifestService(checked, meta, blobs, offload)
    return Registry(
        config=config,
        driver=checked,
        meta=meta,
        offload=offload,
        auth=Auth.from_config(config, offload),
        metrics=metrics,
        blobs=blobs,
        uploads=uploads,
        manifests=manifests,
        referrers=ReferrersService(meta, manifests),
    )


def create_app(config: RegistryConfig, *, driver: StorageDriver | None = None,
               meta: MetadataStore | None = None) -> Starlette:
    """The registry as an ASGI app; `driver`/`meta` override what the config would build (tests)."""
    registry = build_registry(config, driver=driver, meta=meta)
    access_log = AccessLog(config.access_log)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await registry.uploads.purge_stale()
        try:
            yield
        finally:
            access_log.close()
            registry.offload.shutdown()
            registry.meta.close()

    observers = [registry.metrics.observe_request, access_log.observe]
    app = Starlette(
        routes=[],
        middleware=[Middleware(ObserveMiddleware, observers=observers, headers=[API_VERSION_HEADER])],
        exception_handlers={
            Error: _on_error,
            HTTPException: _on_http,
            SourceError: _on_disconnect,
            ClientDisconnect: _on_disconnect,
            Exception: _on_crash,
        },
        lifespan=lifespan,
    )
    # Every path goes to the dispatcher, also those Starlette's path patterns refuse (a newline, say),
    # so every answer is a spec error document.
    app.router.default = Dispatcher()
    app.state.registry = registry
    return app
