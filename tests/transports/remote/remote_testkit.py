"""Helpers for the registry client tests: hand-made images and artifacts, and a fault-injecting registry proxy."""

from __future__ import annotations

import base64
import gzip
import http.client
import io
import json
import re
import socket
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import BinaryIO

from dockyard.errors import BlobUnknown
from dockyard.oci.config import ImageConfig, RunConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest, IndexManifest
from dockyard.oci.mediatype import EMPTY_JSON, MediaType
from dockyard.oci.platform import Platform
from dockyard.transports.blobs import BlobImage, BlobIndex


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


def make_image(blobs: Blobs, platform: Platform, files: dict[str, bytes], *, gzipped: bool = False) -> BlobImage:
    """A one-layer image with the given files (an uncompressed layer unless `gzipped`)."""
    tar = layer_tar(files)
    if gzipped:
        layer = blobs.add(MediaType.OCI_LAYER_GZIP, gzip.compress(tar, mtime=0))
    else:
        layer = blobs.add(MediaType.OCI_LAYER, tar)
    config = ImageConfig.build(platform, [Digest.of(tar)], config=RunConfig(cmd=("/bin/sh",)))
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
    corrupt_manifests: bool = False
    referrers_api: bool = False  # answer GET .../referrers/<digest> and `OCI-Subject`, as an OCI 1.1 registry
    referrers: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    throttle: int = 0
    retry_after: str = "1"
    cut_patch_once: bool = False  # forward half of the next PATCH body upstream, then drop the client's connection
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
        if p.referrers_api and "/referrers/" in self.path:
            self._referrers_list(p)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "transfer-encoding")}
        if p.ignore_range:
            headers.pop("Range", None)
        if p.cut_patch_once and self.command == "PATCH" and len(body) > 2:
            p.cut_patch_once = False
            half = body[: len(body) // 2]  # what the registry got before the connection broke
            headers["Content-Length"] = str(len(half))
            if "Content-Range" in headers:
                first = int(headers["Content-Range"].split("-")[0])
                headers["Content-Range"] = f"{first}-{first + len(half) - 1}"
            conn = http.client.HTTPConnection(p.upstream, timeout=30)
            conn.request("PATCH", self.path, body=half, headers=headers)
            conn.getresponse().read()
            conn.close()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        conn = http.client.HTTPConnection(p.upstream, timeout=30)
        conn.request(self.command, self.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        match = _BLOB.match(self.path.split("?")[0])
        digest = match[1] if match and self.command == "GET" else None
        if digest in p.corrupt and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        if p.corrupt_manifests and self.command == "GET" and "/manifests/" in self.path and data:
            data = data.replace(b"}", b" }", 1)
        out = [(k, v) for k, v in resp.getheaders() if k.lower() not in ("connection", "transfer-encoding",
                                                                          "content-length")]
        length = resp.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data))
        out.append(("Content-Length", length))
        if p.referrers_api and self.command == "PUT" and "/manifests/" in self.path and resp.status == 201:
            subject = self._record_referrer(p, body)
            if subject:
                out.append(("OCI-Subject", subject))
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

    def _record_referrer(self, p: FaultProxy, body: bytes) -> str | None:
        doc = json.loads(body)
        subject = doc.get("subject")
        if not subject:
            return None
        kind = doc.get("artifactType") or doc.get("config", {}).get("mediaType")
        entry: dict[str, object] = {"mediaType": doc["mediaType"], "digest": str(Digest.of(body)), "size": len(body),
                                    "artifactType": kind}
        if doc.get("annotations"):
            entry["annotations"] = doc["annotations"]
        p.referrers.setdefault(subject["digest"], []).append(entry)
        return str(subject["digest"])

    def _referrers_list(self, p: FaultProxy) -> None:
        path, _, query = self.path.partition("?")
        wanted = re.search(r"artifactType=([^&]+)", query)
        entries = p.referrers.get(path.rsplit("/", 1)[1], [])
        headers = [("Content-Type", MediaType.OCI_INDEX)]
        if wanted:
            kind = wanted[1].replace("%2B", "+").replace("%2F", "/")
            entries = [e for e in entries if e["artifactType"] == kind]
            headers.append(("OCI-Filters-Applied", "artifactType"))
        doc = json.dumps({"schemaVersion": 2, "mediaType": MediaType.OCI_INDEX, "manifests": entries}).encode()
        self._send(200, [*headers, ("Content-Length", str(len(doc)))], doc)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _proxy


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy


def serve(server: ThreadingHTTPServer) -> Callable[[], None]:
    """Run `server` in a thread; returns its stop function."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    return stop


def basic_auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def start_fault_proxy(upstream: str) -> tuple[FaultProxy, Callable[[], None]]:
    """A FaultProxy in front of `upstream` (`host:port`), and its stop function."""
    server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
    server.proxy = FaultProxy(upstream, host=f"127.0.0.1:{server.server_address[1]}")
    return server.proxy, serve(server)
