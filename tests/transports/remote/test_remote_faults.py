"""Faults between us and a registry: corrupt bytes, cut connections, 429 storms, redirects to another host."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from remote_testkit import Blobs, FaultProxy, basic_auth, make_image, serve, start_fault_proxy

from dockyard.errors import DigestMismatch, Error
from dockyard.image.validate import validate
from dockyard.oci.digest import Digest
from dockyard.oci.platform import Platform
from dockyard.testing.cncf import CncfRegistry
from dockyard.transports import remote
from dockyard.transports.remote import RemoteOptions
from dockyard.transports.store import Store

FAST = RemoteOptions(backoff=0.01)


def _big_image(blobs: Blobs) -> tuple[object, Digest]:
    image = make_image(blobs, Platform("linux", "amd64"), {"random": os.urandom(4 << 20)})
    return image, image.manifest().layers[0].digest


def test_remote_corrupt_blob_is_rejected_and_nothing_stored(registry: CncfRegistry, fault_proxy: FaultProxy,
                                                            blobs: Blobs, repo: str) -> None:
    image, layer = _big_image(blobs)
    remote.push(image, registry.ref(f"{repo}:1"))  # type: ignore[arg-type]
    fault_proxy.corrupt.add(str(layer))
    pulled = remote.open_remote(f"{fault_proxy.host}/{repo}:1", options=FAST)
    with Store.open() as store:
        with pytest.raises(DigestMismatch):
            store.write(pulled, [f"{fault_proxy.host}/{repo}:1"])
        assert store.list() == []
        assert store.disk_usage().blobs == 0


def test_remote_corrupt_manifest_is_rejected(registry: CncfRegistry, fault_proxy: FaultProxy, blobs: Blobs,
                                             repo: str) -> None:
    image = make_image(blobs, Platform("linux", "amd64"), {"m": b"manifest\n"})
    remote.push(image, registry.ref(f"{repo}:1"))
    fault_proxy.corrupt_manifests = True
    with pytest.raises(DigestMismatch, match="hashes to"):
        remote.open_remote(f"{fault_proxy.host}/{repo}@{image.digest()}", options=FAST)
    with pytest.raises(DigestMismatch, match="the registry announced"):
        remote.open_remote(f"{fault_proxy.host}/{repo}:1", options=FAST)


@pytest.mark.parametrize("ignore_range", [False, True], ids=["range", "no-range"])
def test_remote_cut_connection_resumes(registry: CncfRegistry, fault_proxy: FaultProxy, blobs: Blobs, repo: str,
                                       ignore_range: bool) -> None:
    image, layer = _big_image(blobs)
    remote.push(image, registry.ref(f"{repo}:1"))  # type: ignore[arg-type]
    fault_proxy.cut_once.add(str(layer))
    fault_proxy.ignore_range = ignore_range
    with Store.open() as store:
        desc = store.write(remote.open_remote(f"{fault_proxy.host}/{repo}:1", options=FAST), [f"{repo}:1"])
        assert desc.digest == image.digest()  # type: ignore[attr-defined]
        validate(store.get(f"{repo}:1"))
    blob_gets = [h for method, path, h in fault_proxy.seen if method == "GET" and path.endswith(str(layer))]
    assert len(blob_gets) == 2
    assert "Range" not in blob_gets[0]
    assert blob_gets[1]["Range"].startswith("bytes=") and blob_gets[1]["Range"] != "bytes=0-"


def test_remote_429_storm_honours_retry_after(registry: CncfRegistry, fault_proxy: FaultProxy, blobs: Blobs,
                                              repo: str) -> None:
    image = make_image(blobs, Platform("linux", "amd64"), {"busy": b"registry\n"})
    fault_proxy.throttle, fault_proxy.retry_after = 4, "0"
    remote.push(image, f"{fault_proxy.host}/{repo}:1", FAST)  # uploads start over after a 429
    fault_proxy.throttle, fault_proxy.retry_after = 3, "1"  # the /v2/ ping takes one (it never waits)
    start = time.monotonic()
    pulled = remote.open_remote(f"{fault_proxy.host}/{repo}:1", options=FAST)
    assert time.monotonic() - start >= 2.0, "waited Retry-After (1 s) twice, not the 10 ms backoff"
    validate(pulled)


def test_remote_429_forever_gives_up_clearly(fault_proxy: FaultProxy, repo: str) -> None:
    fault_proxy.throttle, fault_proxy.retry_after = 10_000, "0"
    with pytest.raises(Error) as info:
        remote.open_remote(f"{fault_proxy.host}/{repo}:1", options=RemoteOptions(retries=2, backoff=0.01))
    assert info.value.message.startswith(f"{fault_proxy.host}: ")
    assert "too many requests" in info.value.message
    assert info.value.hint is not None and "gave up after 3 attempts" in info.value.hint


# -- a fake registry that redirects blob downloads to another host ----------------------------------


@dataclass
class _Fake:
    blobs: Blobs
    manifest: bytes
    auth: str
    storage: str = ""
    storage_headers: list[dict[str, str]] = field(default_factory=list)
    registry_auth: list[str | None] = field(default_factory=list)


class _FakeRegistry(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _FakeServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        fake = self.server.fake
        if self.path.startswith("/storage/"):
            fake.storage_headers.append(dict(self.headers))
            self._reply(200, fake.blobs.data[Digest.parse(self.path.split("/")[2].split("?")[0])])
            return
        fake.registry_auth.append(self.headers.get("Authorization"))
        if self.headers.get("Authorization") != f"Basic {fake.auth}":
            self._reply(401, json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "login"}]}).encode(),
                        {"WWW-Authenticate": 'Basic realm="fake"'})
        elif self.path == "/v2/":
            self._reply(200, b"{}")
        elif "/manifests/" in self.path:
            self._reply(200, fake.manifest, {"Content-Type": "application/vnd.oci.image.manifest.v1+json",
                                             "Docker-Content-Digest": str(Digest.of(fake.manifest))})
        else:
            digest = self.path.rsplit("/", 1)[1]
            self._reply(307, b"", {"Location": f"http://{fake.storage}/storage/{digest}?signature=abc"})

    do_HEAD = do_GET


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: _Fake


@pytest.fixture
def redirecting(blobs: Blobs) -> Iterator[tuple[str, _Fake]]:
    image = make_image(blobs, Platform("linux", "amd64"), {"r": b"redirected\n"})
    fake = _Fake(blobs, image.raw_manifest(), basic_auth("carol", "pw"))
    registry, storage = _FakeServer(("127.0.0.1", 0), _FakeRegistry), _FakeServer(("127.0.0.1", 0), _FakeRegistry)
    registry.fake = storage.fake = fake
    fake.storage = f"127.0.0.1:{storage.server_address[1]}"
    stops = [serve(registry), serve(storage)]
    try:
        yield f"127.0.0.1:{registry.server_address[1]}", fake
    finally:
        for stop in stops:
            stop()


def test_remote_redirect_never_carries_authorization(redirecting: tuple[str, _Fake], tmp_path: Path) -> None:
    host, fake = redirecting
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auths": {host: {"auth": base64.b64encode(b"carol:pw").decode()}}}))
    pulled = remote.open_remote(f"{host}/app:1", options=RemoteOptions(auth_file=auth_file))
    validate(pulled)
    assert len(fake.storage_headers) >= 2  # config and layer, both fetched from the storage host
    assert all("Authorization" not in h for h in fake.storage_headers)
    assert f"Basic {fake.auth}" in fake.registry_auth


@pytest.mark.parametrize("chunk", [0, 1 << 20], ids=["one-patch", "1MiB-chunks"])
def test_remote_push_resumes_a_cut_upload(tmp_path: Path, blobs: Blobs, repo: str, chunk: int) -> None:
    """The connection drops in the middle of a PATCH after dockyard's registry took half of it: the retry asks
    where the upload stands (GET, `Range: 0-N`) and sends only the rest; the image is complete and valid."""
    from dockyard.testing.registry import running_registry

    with running_registry(tmp_path / "dockyard-registry") as reg:
        proxy, stop = start_fault_proxy(reg.host)
        try:
            seen = _push_through_cut(proxy, blobs, repo, chunk, reg.host)
        finally:
            stop()
    posts = [p for m, p, _ in seen if m == "POST"]
    status = [p for m, p, _ in seen if m == "GET" and "/blobs/uploads/" in p]
    resumed = [int(h["Content-Range"].split("-")[0]) for m, _, h in seen if m == "PATCH" and "Content-Range" in h]
    assert len(posts) == 2 and len(status) == 1  # config + layer, one status query, never started over
    assert any(start > 0 and start % (1 << 20) != 0 for start in resumed)  # resumed mid-way, not at a chunk edge


def test_remote_push_restarts_when_the_registry_cannot_resume(registry: CncfRegistry, fault_proxy: FaultProxy,
                                                              blobs: Blobs, repo: str) -> None:
    """The CNCF registry signs the offset into the upload URL (`_state`), so after a cut the URL the client holds
    is stale (404 on the status query): the push starts that blob over and still completes."""
    seen = _push_through_cut(fault_proxy, blobs, repo, 0, registry.host)
    assert len([1 for m, _, _ in seen if m == "POST"]) == 3  # config, layer, the layer again
    assert len([1 for m, p, _ in seen if m == "GET" and "/blobs/uploads/" in p]) == 1


def _push_through_cut(proxy: FaultProxy, blobs: Blobs, repo: str, chunk: int,
                      upstream: str) -> list[tuple[str, str, dict[str, str]]]:
    import dataclasses

    image, _layer = _big_image(blobs)
    proxy.cut_patch_once = True
    options = dataclasses.replace(FAST, monolithic_limit=1 << 20, chunk_size=chunk)
    desc = remote.push(image, f"{proxy.host}/{repo}:1", options)  # type: ignore[arg-type]
    assert desc.digest == image.digest()  # type: ignore[attr-defined]
    with Store.open() as store:
        store.write(remote.open_remote(f"{upstream}/{repo}:1", options=FAST), [f"{repo}:1"])
        validate(store.get(f"{repo}:1"))
    return list(proxy.seen)
