"""The registry over real sockets (uvicorn in a thread): raw HTTP, TLS, disconnects, metrics, and skopeo."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from dockyard.oci.digest import Digest
from dockyard.testing.peers import require_tool
from dockyard.testing.registry import push_blob, push_image, running_registry


def _raw(host: str, request: bytes) -> bytes:
    address, port = host.split(":")
    with socket.create_connection((address, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def test_live_push_pull_big_blob(tmp_path: Path) -> None:
    """A 24 MiB blob streamed up with PATCH and down again over HTTP, byte for byte."""
    data = bytes(range(256)) * (24 * 4096)
    with running_registry(tmp_path / "reg") as reg, httpx.Client(base_url=reg.url, timeout=60) as client:
        assert client.get("/v2/").headers["Docker-Distribution-API-Version"] == "registry/2.0"
        location = client.post("/v2/big/blobs/uploads/").headers["Location"]

        def body() -> object:
            for i in range(0, len(data), 1 << 20):
                yield data[i:i + (1 << 20)]

        patched = client.patch(location, content=body())  # type: ignore[arg-type]
        assert patched.headers["Range"] == f"0-{len(data) - 1}"
        digest = Digest.of(data)
        assert client.put(f"{patched.headers['Location']}?digest={digest}").status_code == 201
        with client.stream("GET", f"/v2/big/blobs/{digest}") as response:
            received = b"".join(response.iter_bytes())
        assert received == data
        part = client.get(f"/v2/big/blobs/{digest}", headers={"Range": f"bytes={len(data) - 10}-"})
        assert part.status_code == 206 and part.content == data[-10:]


@pytest.mark.parametrize("path", [b"/v2/../../etc/passwd/manifests/latest", b"/v2/%2e%2e/%2e%2e/etc/tags/list",
                                  b"/v2/a/..%2f..%2fb/blobs/sha256:00"])
def test_live_path_tricks_are_name_invalid(tmp_path: Path, path: bytes) -> None:
    """Un-normalized `..` over the wire is NAME_INVALID (400), never a file outside the data dir."""
    with running_registry(tmp_path / "reg") as reg:
        answer = _raw(reg.host, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert json.loads(body)["errors"][0]["code"] == "NAME_INVALID"


def test_live_disconnect_keeps_received_bytes(tmp_path: Path) -> None:
    """A client that drops mid-PATCH can resume: the bytes that arrived are kept (resumable push)."""
    with running_registry(tmp_path / "reg") as reg, httpx.Client(base_url=reg.url) as client:
        location = client.post("/v2/app/blobs/uploads/").headers["Location"]
        address, port = reg.host.split(":")
        with socket.create_connection((address, int(port)), timeout=10) as sock:
            sock.sendall(f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n".encode()
                         + b"a" * 1500)
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while client.get(location).headers["Range"] != "0-1499" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get(location).headers["Range"] == "0-1499"
        rest = client.patch(location, content=b"b" * 500, headers={"Content-Range": "1500-1999"})
        assert rest.status_code == 202
        digest = Digest.of(b"a" * 1500 + b"b" * 500)
        assert client.put(f"{location}?digest={digest}").status_code == 201


def test_live_tls(tmp_path: Path) -> None:
    """--tls-cert/--tls-key: the registry speaks HTTPS."""
    openssl = require_tool("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    with running_registry(tmp_path / "reg", tls=(cert, key)) as reg:
        assert reg.url.startswith("https://")
        with httpx.Client(base_url=reg.url, verify=False) as client:
            assert client.get("/v2/").status_code == 200


def test_live_metrics_and_access_log(tmp_path: Path) -> None:
    """/metrics speaks the Prometheus text format; the access log has one JSON object per request."""
    log = tmp_path / "access.log"
    with running_registry(tmp_path / "reg", access_log=str(log)) as reg, \
            httpx.Client(base_url=reg.url) as client:
        push_image(client, "app", "v1")
        client.get("/v2/app/manifests/v1")
        text = client.get("/metrics").text
    assert 'dockyard_http_requests_total{method="PUT",route="/v2/<name>/manifests/<reference>",status="201"} 1' in text
    assert "dockyard_upload_duration_seconds_count 2" in text
    assert "dockyard_storage_bytes_written_total" in text
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert {"time", "method", "path", "status", "bytes_in", "bytes_out", "duration_ms", "user"} <= set(entries[0])
    assert any(e["route"] == "/v2/<name>/manifests/<reference>" and e["status"] == 200 for e in entries)


def _layout(tmp_path: Path, assets: Path) -> Path:
    layout = tmp_path / "layout"
    shutil.copytree(assets / "oci" / "dive-oci-gzip", layout)
    return layout


def test_skopeo_round_trip(tmp_path: Path, assets: Path) -> None:
    """Real client interop: `skopeo copy` a layout in, an index registry to registry (--all), and back out."""
    skopeo = require_tool("skopeo")
    layout = _layout(tmp_path, assets)
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"]
    with running_registry(tmp_path / "reg") as reg:
        def run(*args: str) -> str:
            done = subprocess.run([skopeo, "--insecure-policy", *args], check=False, capture_output=True, text=True,
                                  timeout=120)
            assert done.returncode == 0, done.stderr
            return done.stdout

        run("copy", "--dest-tls-verify=false", f"oci:{layout}", f"docker://{reg.host}/dive/test:1")
        inspected = json.loads(run("inspect", "--tls-verify=false", f"docker://{reg.host}/dive/test:1"))
        assert inspected["Digest"] == manifest_digest
        index_doc = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                "manifests": index["manifests"]}).encode()
        with httpx.Client(base_url=reg.url) as client:
            assert client.put("/v2/dive/test/manifests/multi", content=index_doc, headers={
                "Content-Type": "application/vnd.oci.image.index.v1+json"}).status_code == 201
        run("copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false",
            f"docker://{reg.host}/dive/test:multi", f"docker://{reg.host}/other/copy:multi")
        raw = run("inspect", "--raw", "--tls-verify=false", f"docker://{reg.host}/other/copy:multi")
        assert raw.encode() == index_doc
        tags = json.loads(run("list-tags", "--tls-verify=false", f"docker://{reg.host}/dive/test"))
        assert tags["Tags"] == ["1", "multi"]
        back = tmp_path / "back"
        run("copy", "--src-tls-verify=false", f"docker://{reg.host}/dive/test:1", f"oci:{back}:1")
        run("copy", "--all", "--src-tls-verify=false", f"docker://{reg.host}/other/copy:multi", f"oci:{back}:all")
    original = {p.name for p in (layout / "blobs" / "sha256").iterdir()}
    copied = {p.name for p in (back / "blobs" / "sha256").iterdir()}
    assert original <= copied
    for name in original:
        assert (back / "blobs" / "sha256" / name).read_bytes() == (layout / "blobs" / "sha256" / name).read_bytes()


def test_skopeo_with_basic_auth(tmp_path: Path, assets: Path) -> None:
    """skopeo logs in with --dest-creds against an htpasswd (bcrypt) registry; anonymous pushes get 401."""
    skopeo = require_tool("skopeo")
    htpasswd = tmp_path / "htpasswd"
    subprocess.run([require_tool("htpasswd"), "-B", "-b", "-c", "-C", "5", str(htpasswd), "ci", "pw"], check=True,
                   capture_output=True)
    layout = _layout(tmp_path, assets)
    with running_registry(tmp_path / "reg", htpasswd=htpasswd) as reg:
        base = [skopeo, "--insecure-policy", "copy", "--dest-tls-verify=false", f"oci:{layout}"]
        denied = subprocess.run([*base, f"docker://{reg.host}/app:1"], check=False, capture_output=True, text=True,
                                timeout=120)
        assert denied.returncode != 0
        ok = subprocess.run([*base, "--dest-creds", "ci:pw", f"docker://{reg.host}/app:1"], check=False,
                            capture_output=True, text=True, timeout=120)
        assert ok.returncode == 0, ok.stderr
        with httpx.Client(base_url=reg.url, auth=("ci", "pw")) as client:
            assert client.get("/v2/app/tags/list").json()["tags"] == ["1"]
            push_blob(client, "app", b"more")
