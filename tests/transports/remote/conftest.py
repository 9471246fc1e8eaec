"""Fixtures for the registry client tests: a real CNCF registry, images to push, and in-process fault servers."""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import shutil
import socket
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

import pytest

from dockyard.errors import BlobUnknown
from dockyard.oci.config import ImageConfig, RunConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest, IndexManifest
from dockyard.oci.mediatype import EMPTY_JSON, MediaType
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image
from dockyard.testing.cncf import CncfRegistry, cncf_registry
from dockyard.testing.peers import missing_peer
from dockyard.transports.blobs import BlobImage, BlobIndex
from dockyard.transports.rootfs import imported

BUSYBOX = Path("/bin/busybox")


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CncfRegistry]:
    """One anonymous CNCF registry for the session; tests use their own repository names."""
    with cncf_registry(tmp_path_factory.mktemp("cncf")) as reg:
        yield reg


@pytest.fixture
def repo(request: pytest.FixtureRequest) -> str:
    """A repository name unique to the test."""
    return re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:100]


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not BUSYBOX.is_file():
        missing_peer("busybox-static is not installed (apt-get install busybox-static)")
    root = tmp_path_factory.mktemp("rootfs")
    (root / "bin").mkdir()
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    (root / "bin" / "sh").symlink_to("busybox")
    (root / "etc").mkdir()
    (root / "etc" / "hostname").write_text("dockyard\n")
    return root


@pytest.fixture
def busybox(busybox_rootfs: Path) -> Iterator[Image]:
    """A real one-layer (gzip) busybox image for linux/amd64."""
    with imported(busybox_rootfs, platform=Platform("linux", "amd64")) as image:
        yield image


class Blobs:
    """A dict-backed BlobSource for hand-made images."""

    def __init__(self) -> None:
        self.data: dict[Digest, bytes] = {}

    def add(self, media_type: str, data: bytes, **kw: object) -> Descriptor:
        desc = Descriptor.for_bytes(media_type, data, **kw)
        self.data[desc.digest] = data
        return desc

    def open_blob(self, digest: Digest) -> BinaryIO:
        if digest not in self.data:
            raise BlobUnknown(f"no blob {digest}")
        return io.BytesIO(self.data[digest])


def layer_tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def make_image(blobs: Blobs, platform: Platform, files: dict[str, bytes]) -> BlobImage:
    """A one-layer (uncompressed) image with the given files."""
    layer = blobs.add(MediaType.OCI_LAYER, layer_tar(files))
    config = ImageConfig.build(platform, [layer.digest], config=RunConfig(cmd=("/bin/sh",)))
    cfg = blobs.add(MediaType.OCI_CONFIG, config.raw)
    return BlobImage(blobs, ImageManifest.build(cfg, [layer]).raw)


def make_index(blobs: Blobs, images: list[tuple[BlobImage, Platform]]) -> BlobIndex:
    descs = []
    for image, platform in images:
        raw = image.raw_manifest()
        descs.append(blobs.add(MediaType.OCI_MANIFEST, raw, platform=platform))
    return BlobIndex(blobs, IndexManifest.build(descs).raw)


def make_artifact(blobs: Blobs, artifact_type: str, payload: bytes, *, subject: Descriptor | None = None,
                  annotations: dict[str, str] | None = None) -> BlobImage:
    """An OCI 1.1 artifact: empty config `{}`, one payload layer, `artifactType`, maybe a `subject`."""
    empty = blobs.add(MediaType.OCI_EMPTY, EMPTY_JSON)
    layer = blobs.add("application/vnd.dockyard.test+json", payload)
    manifest = ImageManifest.build(empty, [layer], artifact_type=artifact_type, subject=subject,
                                   annotations=annotations)
    return BlobImage(blobs, manifest.raw)


@pytest.fixture
def blobs() -> Blobs:
    return Blobs()


# -- in-process servers -------------------------------------------------------------------------

_BLOB = re.compile(r"^/v2/.+/blobs/(sha256:[0-9a-f]{64})$")


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts = []
        while size := int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16):
            parts.append(handler.rfile.read(size))
            handler.rfile.readline()
        handler.rfile.readline()
        return b"".join(parts)
    return handler.rfile.read(int(handler.headers.get("Content-Length", "0") or 0))


@dataclass
class FaultProxy:
    """A proxy in front of a registry that can corrupt, cut or throttle answers."""

    upstream: str
    host: str = ""
    corrupt: set[str] = field(default_factory=set)
    cut_once: set[str] = field(default_factory=set)
    ignore_range: bool = False
    throttle: int = 0
    retry_after: str = "1"
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, *, head: bool = False) -> None:
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _proxy(self) -> None:
        p = self.server.proxy
        body = _read_body(self)
        p.seen.append((self.command, self.path, dict(self.headers)))
        if p.throttle > 0:
            p.throttle -= 1
            doc = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "too many requests"}]}).encode()
            self._send(429, [("Retry-After", p.retry_after), ("Content-Type", "application/json"),
                             ("Content-Length", str(len(doc)))], doc, head=self.command == "HEAD")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "transfer-encoding")}
        if p.ignore_range:
            headers.pop("Range", None)
        conn = http.client.HTTPConnection(p.upstream, timeout=30)
        conn.request(self.command, self.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        match = _BLOB.match(self.path.split("?")[0])
        digest = match[1] if match and self.command == "GET" else None
        if digest in p.corrupt and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        out = [(k, v) for k, v in resp.getheaders() if k.lower() not in ("connection", "transfer-encoding",
                                                                          "content-length")]
        length = resp.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data))
        out.append(("Content-Length", length))
        if digest in p.cut_once and "Range" not in self.headers and len(data) > 2:
            p.cut_once.discard(digest)
            self.send_response(resp.status)
            for k, v in out:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(resp.status, out, data, head=self.command == "HEAD")

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _proxy


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy


def serve(server: ThreadingHTTPServer) -> Callable[[], None]:
    """Run `server` in a thread; returns its stop function."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    return stop


@pytest.fixture
def fault_proxy(registry: CncfRegistry) -> Iterator[FaultProxy]:
    """A FaultProxy in front of the session registry."""
    server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
    server.proxy = FaultProxy(registry.host, host=f"127.0.0.1:{server.server_address[1]}")
    stop = serve(server)
    try:
        yield server.proxy
    finally:
        stop()


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, object]], Path]:
    """Write a docker config.json in a private DOCKER_CONFIG (and clear other credential sources)."""
    base = tmp_path / "docker-config"
    base.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(base))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg-runtime"))

    def write(doc: dict[str, object]) -> Path:
        path = base / "config.json"
        path.write_text(json.dumps(doc))
        return path

    return write


def basic_auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(autouse=True)
def _no_user_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the real user's docker or podman credentials."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "no-xdg-runtime"))
