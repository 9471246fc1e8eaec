"""Crash safety of `dockyard serve` (a real process): `kill -9` during 10 concurrent uploads and during a skopeo push,
restart on the same data dir: no partial blob is visible, the data dir checks clean, and the clients' retries
succeed. Also: 10 clients pushing the same blob at once all succeed and leave one copy."""

from __future__ import annotations

import gzip
import io
import os
import random
import signal
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from interop_support import ServedRegistry, Skopeo, check_data_dir, free_port, served

from dockyard.oci.config import ImageConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform
from dockyard.transports import layout as oci_layout
from dockyard.transports.blobs import BlobImage

MIB = 1 << 20
PIECE = 256 << 10
#: Each client sends a piece, then sleeps this long: about 12 MiB/s each, so the large blobs are mid-flight at the kill.
PAUSE = 0.02


@dataclass
class Upload:
    """One client's blob and what happened to it."""

    index: int
    data: bytes
    chunked: bool
    digest: Digest = field(init=False)
    location: str | None = None
    sent: int = 0
    done: bool = False
    error: str = ""

    def __post_init__(self) -> None:
        self.digest = Digest.of(self.data)


def _throttled(upload: Upload, start: int, end: int) -> Iterator[bytes]:
    for offset in range(start, end, PIECE):
        piece = upload.data[offset:min(offset + PIECE, end)]
        yield piece
        upload.sent = offset + len(piece)
        time.sleep(PAUSE)


def _push(base: str, upload: Upload) -> None:
    """Monolithic (POST ?digest= with a streamed body) or chunked (POST, PATCH 1 MiB pieces, PUT)."""
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            size = len(upload.data)
            if not upload.chunked:
                response = client.post(f"/v2/crash/blobs/uploads/?digest={upload.digest}",
                                       content=_throttled(upload, 0, size),
                                       headers={"Content-Length": str(size),
                                                "Content-Type": "application/octet-stream"})
            else:
                started = client.post("/v2/crash/blobs/uploads/")
                started.raise_for_status()
                upload.location = started.headers["Location"]
                for offset in range(0, size, MIB):
                    end = min(offset + MIB, size)
                    client.patch(upload.location, content=_throttled(upload, offset, end), headers={
                        "Content-Range": f"{offset}-{end - 1}", "Content-Length": str(end - offset),
                        "Content-Type": "application/octet-stream"}).raise_for_status()
                response = client.put(f"{upload.location}?digest={upload.digest}")
            response.raise_for_status()
            upload.done = True
    except httpx.HTTPError as exc:
        upload.error = f"{type(exc).__name__}: {exc}"


def _retry(base: str, upload: Upload) -> str:
    """What a resumable client does after the outage: resume a surviving session, else push again."""
    with httpx.Client(base_url=base, timeout=60) as client:
        if upload.location is not None:
            status = client.get(upload.location)
            if status.status_code == 204:
                start = int(status.headers["Range"].split("-")[1]) + 1 if status.headers["Range"] != "0-0" else 0
                start = min(start, len(upload.data))
                assert start <= upload.sent or start == len(upload.data)
                rest = upload.data[start:]
                headers = {"Content-Range": f"{start}-{len(upload.data) - 1}"} if rest else {}
                if rest:
                    client.patch(upload.location, content=rest, headers=headers).raise_for_status()
                client.put(f"{upload.location}?digest={upload.digest}").raise_for_status()
                return "resumed"
            assert status.status_code == 404 and status.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
        client.post(f"/v2/crash/blobs/uploads/?digest={upload.digest}", content=upload.data).raise_for_status()
        return "pushed again"


def _visible(reg: ServedRegistry, uploads: list[Upload]) -> dict[int, str]:
    """Each blob is either absent (404 BLOB_UNKNOWN) or whole and correct; never partial."""
    seen: dict[int, str] = {}
    with httpx.Client(base_url=reg.url, timeout=60) as client:
        for upload in uploads:
            head = client.head(f"/v2/crash/blobs/{upload.digest}")
            got = client.get(f"/v2/crash/blobs/{upload.digest}")
            if got.status_code == 404:
                assert head.status_code == 404
                assert got.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
                seen[upload.index] = "absent"
            else:
                assert got.status_code == 200 and head.status_code == 200
                assert int(head.headers["Content-Length"]) == len(upload.data)
                assert got.content == upload.data, f"blob {upload.index} is visible but not intact"
                seen[upload.index] = "complete"
    return seen


def test_interop_kill_9_during_concurrent_uploads(tmp_path: Path) -> None:
    rng = random.Random(9)
    uploads = [Upload(i, rng.randbytes((i + 1) * 3 * MIB), chunked=i % 2 == 1) for i in range(10)]
    data_dir = tmp_path / "data"
    port = free_port()
    with served(data_dir, port=port) as reg:
        threads = [threading.Thread(target=_push, args=(reg.url, u), daemon=True) for u in uploads]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while sum(u.done for u in uploads) < 3 and time.monotonic() < deadline:  # the small ones are in
            time.sleep(0.005)
        os.kill(reg.process.pid, signal.SIGKILL)
        reg.process.wait(timeout=10)
        for thread in threads:
            thread.join(60)
    finished = {u.index for u in uploads if u.done}
    assert finished, "no upload finished before the kill"
    assert len(finished) < len(uploads), "every upload finished before the kill: nothing was interrupted"
    assert all(u.error for u in uploads if not u.done)

    check_data_dir(data_dir)
    with served(data_dir, port=port) as reg:
        seen = _visible(reg, uploads)
        assert all(seen[i] == "complete" for i in finished), "an acknowledged upload was lost"
        outcomes = {u.index: _retry(reg.url, u) for u in uploads if not u.done}
        assert "resumed" in outcomes.values() or not any(u.chunked and not u.done for u in uploads)
        assert set(_visible(reg, uploads).values()) == {"complete"}
    check_data_dir(data_dir)


def test_interop_same_blob_ten_clients(tmp_path: Path) -> None:
    """10 clients push one blob at once (to one repository and to others): all get 201, one copy is stored."""
    data = random.Random(10).randbytes(16 * MIB)
    digest = Digest.of(data)
    barrier = threading.Barrier(10)
    results: list[int] = []
    data_dir = tmp_path / "data"

    def push(reg: ServedRegistry, i: int) -> None:
        repo = "same/blob" if i % 2 else f"same/blob-{i}"
        with httpx.Client(base_url=reg.url, timeout=60) as client:
            location = client.post(f"/v2/{repo}/blobs/uploads/").headers["Location"]
            barrier.wait(30)
            patched = client.patch(location, content=iter([data[j:j + MIB] for j in range(0, len(data), MIB)]))
            patched.raise_for_status()
            results.append(client.put(f"{location}?digest={digest}").status_code)

    with served(data_dir) as reg:
        threads = [threading.Thread(target=push, args=(reg, i)) for i in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert results == [201] * 10
        with httpx.Client(base_url=reg.url, timeout=60) as client:
            for repo in ["same/blob", *(f"same/blob-{i}" for i in range(0, 10, 2))]:
                assert client.get(f"/v2/{repo}/blobs/{digest}").content == data
    stored = [p for p in (data_dir / "storage").rglob("*") if p.is_file()]
    assert [p.relative_to(data_dir / "storage").as_posix() for p in stored] == [
        f"blobs/sha256/{digest.encoded[:2]}/{digest.encoded}/data"]
    check_data_dir(data_dir)


def _random_image(layout: Path, layers: int, size: int) -> str:
    """An OCI layout with `layers` gzip (stored, level 0) layers of random bytes; returns the manifest digest."""
    rng = random.Random(42)
    blobs: dict[Digest, bytes] = {}
    descs, diff_ids = [], []
    for i in range(layers):
        tar = io.BytesIO()
        with tarfile.open(fileobj=tar, mode="w", format=tarfile.PAX_FORMAT) as tf:
            info = tarfile.TarInfo(f"random-{i}.bin")
            info.size = size
            tf.addfile(info, io.BytesIO(rng.randbytes(size)))
        diff_ids.append(Digest.of(tar.getvalue()))
        blob = gzip.compress(tar.getvalue(), compresslevel=0, mtime=0)
        desc = Descriptor.for_bytes(MediaType.OCI_LAYER_GZIP, blob)
        blobs[desc.digest] = blob
        descs.append(desc)
    config = ImageConfig.build(Platform("linux", "amd64"), diff_ids)
    config_desc = Descriptor.for_bytes(MediaType.OCI_CONFIG, config.raw)
    blobs[config_desc.digest] = config.raw

    class Source:
        def open_blob(self, digest: Digest) -> io.BytesIO:
            return io.BytesIO(blobs[digest])

    image = BlobImage(Source(), ImageManifest.build(config_desc, descs).raw)
    return str(oci_layout.write(layout, image, "big").digest)


def test_interop_kill_9_during_skopeo_push(tmp_path: Path, skopeo: Skopeo) -> None:
    """The server dies mid-push; after a restart skopeo's retry (the same command again) succeeds."""
    layout = tmp_path / "layout"
    digest = _random_image(layout, layers=4, size=24 * MIB)
    data_dir = tmp_path / "data"
    port = free_port()
    dest = f"docker://127.0.0.1:{port}/crash/skopeo:1"
    argv = [skopeo.binary, "--insecure-policy", "copy", "--dest-tls-verify=false", f"oci:{layout}:big", dest]
    with served(data_dir, port=port) as reg:
        client = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        pending = data_dir / "storage" / ".uploads"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and client.poll() is None:
            if any(p.is_file() and p.stat().st_size >= 4 * MIB for p in pending.rglob("data")):
                break
            time.sleep(0.002)
        os.kill(reg.process.pid, signal.SIGKILL)
        reg.process.wait(timeout=10)
        _, err = client.communicate(timeout=120)
    if client.returncode == 0:
        pytest.fail("skopeo finished before the kill; the test did not interrupt anything")
    check_data_dir(data_dir)
    with served(data_dir, port=port):
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:big", dest)
        assert Digest.of(skopeo.raw(dest)) == Digest.parse(digest)
        back = tmp_path / "back"
        skopeo.copy(dest, f"oci:{back}:big")
    for blob in (layout / "blobs" / "sha256").iterdir():
        assert (back / "blobs" / "sha256" / blob.name).read_bytes() == blob.read_bytes()
    check_data_dir(data_dir)
    assert err  # skopeo said why it failed the first time
