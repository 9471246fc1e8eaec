"""Our own client (the `dockyard` CLI and `dockyard.transports.remote`) against our own server, and skopeo reading
what it pushed; referrers through the API path (the server answers `OCI-Subject`, so no fallback tag appears)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import BinaryIO

import httpx
from interop_support import DOCKYARD, Images, Skopeo, run

from dockyard.errors import BlobUnknown
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest
from dockyard.oci.mediatype import EMPTY_JSON, MediaType
from dockyard.testing.registry import RunningRegistry
from dockyard.transports import remote
from dockyard.transports.blobs import BlobImage
from dockyard.transports.layout import Layout, open_artifact


def dockyard(*args: str) -> str:
    """The CLI as a user runs it (DOCKYARD_HOME is the test's own, set by the root conftest)."""
    return run([DOCKYARD, *args]).stdout


class _Blobs:
    def __init__(self) -> None:
        self.blobs: dict[Digest, bytes] = {}

    def add(self, media_type: str, data: bytes) -> Descriptor:
        desc = Descriptor.for_bytes(media_type, data)
        self.blobs[desc.digest] = data
        return desc

    def open_blob(self, digest: Digest) -> BinaryIO:
        if digest not in self.blobs:
            raise BlobUnknown(f"{digest} is not here")
        return io.BytesIO(self.blobs[digest])


def _artifact(subject: Descriptor, artifact_type: str, payload: bytes) -> BlobImage:
    blobs = _Blobs()
    config = blobs.add(MediaType.OCI_EMPTY, EMPTY_JSON)
    layer = blobs.add("application/octet-stream", payload)
    manifest = ImageManifest.build(config, [layer], subject=subject, artifact_type=artifact_type,
                                   annotations={"org.example.payload": payload.decode()})
    return BlobImage(blobs, manifest.raw)


def test_interop_dockyard_cli_push_pull(registry: RunningRegistry, images: Images, skopeo: Skopeo,
                                        tmp_path: Path) -> None:
    """`dockyard push` of an image and an index keeps their digests; `dockyard pull`, tags, catalog; skopeo agrees."""
    host = registry.host
    dockyard("push", images.ref("1"), f"{host}/own/busybox:1")
    assert dockyard("digest", f"{host}/own/busybox:1").strip() == images.digests["1"]
    dockyard("push", images.ref("multi"), f"{host}/own/multi:1")
    assert dockyard("digest", f"{host}/own/multi:1").strip() == images.digests["multi"]
    assert json.loads(dockyard("tags", f"{host}/own/busybox", "-o", "json"))["tags"] == ["1"]
    catalog = json.loads(dockyard("catalog", host, "-o", "json"))["repositories"]
    assert set(catalog) == {"own/busybox", "own/multi"}
    dockyard("pull", f"{host}/own/busybox:1")
    assert images.digests["1"] in [image["digest"] for image in json.loads(dockyard("images", "-o", "json"))]
    raw = skopeo.raw(f"docker://{host}/own/multi:1")
    assert Digest.of(raw) == Digest.parse(images.digests["multi"])
    skopeo.copy(f"docker://{host}/own/busybox:1", f"dir:{tmp_path / 'dir'}")
    assert Digest.of((tmp_path / "dir" / "manifest.json").read_bytes()) == Digest.parse(images.digests["1"])


def test_interop_dockyard_library_referrers(registry: RunningRegistry, images: Images) -> None:
    """`remote.push`, `open_remote`, then `attach` two artifacts and list them, with and without a type filter."""
    host = registry.host
    source = Layout.open(images.layout)
    entry = next(d for d in json_index(images) if d.digest == Digest.parse(images.digests["1"]))
    top = remote.push(open_artifact(source, entry, "layout"), f"{host}/lib/app:1")
    assert str(top.digest) == images.digests["1"]
    pulled = remote.open_remote(f"{host}/lib/app:1")
    assert str(pulled.digest()) == images.digests["1"]

    subject = Descriptor(top.media_type, top.digest, top.size)
    sbom = remote.attach(f"{host}/lib/app:1", _artifact(subject, "application/spdx+json", b"sbom"))
    sig = remote.attach(f"{host}/lib/app:1", _artifact(subject, "application/vnd.dev.cosign.simplesigning", b"sig"))
    found = remote.list_referrers(f"{host}/lib/app:1")
    assert {d.digest for d in found} == {sbom.digest, sig.digest}
    only = remote.list_referrers(f"{host}/lib/app:1", artifact_type="application/spdx+json")
    assert [(d.digest, d.artifact_type, dict(d.annotations)) for d in only] == [
        (sbom.digest, "application/spdx+json", {"org.example.payload": "sbom"})]
    assert remote.list_tags(f"{host}/lib/app") == ["1"]  # OCI-Subject was answered: no fallback tag
    with httpx.Client(base_url=registry.url) as client:
        response = client.get(f"/v2/lib/app/referrers/{top.digest}", params={"artifactType": "application/spdx+json"})
    assert response.headers["OCI-Filters-Applied"] == "artifactType"
    listed = json.loads(dockyard("referrers", f"{host}/lib/app:1", "--artifact-type", "application/spdx+json",
                                 "-o", "json"))
    assert [item["digest"] for item in listed] == [str(sbom.digest)]


def json_index(images: Images) -> list[Descriptor]:
    raw = (images.layout / "index.json").read_bytes()
    return [Descriptor.from_json(d) for d in json.loads(raw)["manifests"]]
