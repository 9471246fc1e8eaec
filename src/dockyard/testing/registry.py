"""A real dockyard registry for tests: uvicorn in a thread on a free loopback port, yielding its address.

    with running_registry(tmp_path / "registry") as reg:
        subprocess.run(["skopeo", "copy", "--dest-tls-verify=false", src, f"docker://{reg.host}/repo:tag"])

For in-process tests without sockets, use `create_app` with httpx's ASGI transport instead.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from dockyard.registry.app import create_app
from dockyard.registry.config import RegistryConfig
from dockyard.registry.server import Listen, uvicorn_config

STARTUP_TIMEOUT = 15.0


@dataclass(frozen=True, slots=True)
class RunningRegistry:
    """A started registry: `url` is `http(s)://127.0.0.1:PORT`, `host` is `127.0.0.1:PORT` (for references)."""

    url: str
    host: str
    config: RegistryConfig
    app: Starlette


@contextmanager
def running_registry(data_dir: Path, *, config: RegistryConfig | None = None, htpasswd: Path | None = None,
                     tls: tuple[Path, Path] | None = None, access_log: str = "off") -> Iterator[RunningRegistry]:
    """Start a registry over `data_dir` (or `config`), yield it, and stop it on exit."""
    config = config or RegistryConfig(data_dir, access_log=access_log)
    if htpasswd is not None:
        config = replace(config, htpasswd=htpasswd)
    app = create_app(config)
    listen = Listen("127.0.0.1", 0, tls[0] if tls else None, tls[1] if tls else None)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, listen, log_level="error"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"registry-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test registry on port {port} did not start")
            time.sleep(0.01)
        host = f"127.0.0.1:{port}"
        yield RunningRegistry(f"{listen.scheme}://{host}", host, config, app)
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
        sock.close()
