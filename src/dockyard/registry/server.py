"""Running the registry: uvicorn settings (TLS, no duplicate access log) and the bind-safety check."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from dockyard.errors import InvalidArgument
from dockyard.registry.config import RegistryConfig, check_bind


@dataclass(frozen=True, slots=True)
class Listen:
    """Where and how to listen: address, port and an optional TLS certificate/key pair (PEM files)."""

    host: str = "127.0.0.1"
    port: int = 5000
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    def check(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise InvalidArgument("--tls-cert and --tls-key go together")
        for what in (self.tls_cert, self.tls_key):
            if what is not None and not what.is_file():
                raise InvalidArgument(f"TLS file {what} does not exist")
        if not 0 <= self.port <= 65535:
            raise InvalidArgument(f"invalid port {self.port}")


def uvicorn_config(app: Starlette, listen: Listen, *, log_level: str = "warning") -> uvicorn.Config:
    """uvicorn settings for the registry: our own JSON access log replaces uvicorn's."""
    return uvicorn.Config(
        app,
        host=listen.host,
        port=listen.port,
        ssl_certfile=str(listen.tls_cert) if listen.tls_cert else None,
        ssl_keyfile=str(listen.tls_key) if listen.tls_key else None,
        access_log=False,
        log_level=log_level,
        server_header=False,
        lifespan="on",
        timeout_keep_alive=75,
    )


def serve(config: RegistryConfig, listen: Listen, *, insecure_no_auth: bool = False) -> None:
    """Serve until interrupted; refuses an unauthenticated non-loopback bind unless `insecure_no_auth`."""
    from dockyard.registry.app import create_app

    listen.check()
    check_bind(listen.host, config, insecure_no_auth=insecure_no_auth)
    app = create_app(config)
    server = uvicorn.Server(uvicorn_config(app, listen, log_level="error"))
    family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((listen.host.strip("[]"), listen.port))
    except OSError as exc:
        sock.close()
        raise InvalidArgument(f"cannot listen on {listen.host}:{listen.port}: {exc.strerror or exc}") from None
    sock.listen(1024)
    server.run(sockets=[sock])
