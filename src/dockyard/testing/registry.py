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

import httpx
import uvicorn
from starlette.applications import Starlette

from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest
from dockyard.oci.mediatype import MediaType
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


def push_blob(client: httpx.Client, name: str, data: bytes, *, algorithm: str = "sha256") -> Digest:
    """Push a blob monolithically (POST then PUT) and return its digest; raises on any failure."""
    digest = Digest.of(data, algorithm)
    started = client.post(f"/v2/{name}/blobs/uploads/")
    started.raise_for_status()
    location = started.headers["Location"]
    joiner = "&" if "?" in location else "?"
    done = client.put(f"{location}{joiner}digest={digest}", content=data,
                      headers={"Content-Type": "application/octet-stream"})
    done.raise_for_status()
    return digest


def image_manifest(config: bytes = b"{}", layers: tuple[bytes, ...] = (), *,
                   config_type: str = MediaType.OCI_CONFIG, media_type: str = MediaType.OCI_MANIFEST,
                   layer_type: str = MediaType.OCI_LAYER_GZIP, subject: Descriptor | None = None,
                   artifact_type: str | None = None, annotations: dict[str, str] | None = None) -> ImageManifest:
    """A manifest over the given config and layer bytes (not pushed)."""
    return ImageManifest.build(
        Descriptor.for_bytes(config_type, config),
        [Descriptor.for_bytes(layer_type, layer) for layer in layers],
        media_type=media_type, subject=subject, artifact_type=artifact_type, annotations=annotations)


def push_image(client: httpx.Client, name: str, reference: str, *, config: bytes = b"{}",
               layers: tuple[bytes, ...] = (b"layer",), **kw: object) -> ImageManifest:
    """Push config, layers and the manifest (keyword arguments go to `image_manifest`)."""
    for blob in (config, *layers):
        push_blob(client, name, blob)
    manifest = image_manifest(config, layers, **kw)  # type: ignore[arg-type]
    response = client.put(f"/v2/{name}/manifests/{reference}", content=manifest.raw,
                          headers={"Content-Type": manifest.media_type})
    response.raise_for_status()
    return manifest
