"""Conformance category 2, Push: blob uploads (monolithic, chunked, streamed, mounted) and manifest pushes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
from starlette.testclient import TestClient

from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import EMPTY_DIGEST, EMPTY_JSON, MediaType
from dockyard.registry.app import create_app
from dockyard.registry.config import RegistryConfig
from dockyard.testing.registry import image_manifest, push_blob, push_image


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["code"])


def _start(client: TestClient, name: str = "app") -> str:
    response = client.post(f"/v2/{name}/blobs/uploads/")
    assert response.status_code == 202
    return response.headers["Location"]


def test_post_then_put_monolithic(registry_client: TestClient) -> None:
    """§Pushing a blob monolithically (POST then PUT): 202 + Location, then 201 + Location + digest header."""
    started = registry_client.post("/v2/app/blobs/uploads/")
    assert started.status_code == 202
    location = started.headers["Location"]
    assert location.startswith("/v2/app/blobs/uploads/")
    assert started.headers["Docker-Upload-UUID"] in location
    assert started.headers["Range"] == "0-0"
    digest = Digest.of(b"blob")
    done = registry_client.put(f"{location}?digest={digest}", content=b"blob")
    assert done.status_code == 201
    assert done.headers["Location"] == f"/v2/app/blobs/{digest}"
    assert done.headers["Docker-Content-Digest"] == str(digest)
    assert registry_client.get(done.headers["Location"]).content == b"blob"


def test_single_post_monolithic(registry_client: TestClient) -> None:
    """§Single POST: POST ?digest= with the body is 201 with Location."""
    digest = Digest.of(b"one shot")
    response = registry_client.post(f"/v2/app/blobs/uploads/?digest={digest}", content=b"one shot",
                                    headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 201
    assert response.headers["Location"] == f"/v2/app/blobs/{digest}"
    bad = registry_client.post(f"/v2/app/blobs/uploads/?digest={Digest.of(b'x')}", content=b"not x")
    assert bad.status_code == 400
    assert _code(bad) == "DIGEST_INVALID"


def test_chunked_upload_in_order_and_out_of_order(registry_client: TestClient) -> None:
    """§Pushing a blob in chunks: 202 + Range per chunk; an out-of-order chunk MUST be 416; GET shows progress."""
    location = _start(registry_client)
    data = b"0123456789abcdefghij"
    first = registry_client.patch(location, content=data[:8],
                                  headers={"Content-Range": "0-7", "Content-Type": "application/octet-stream"})
    assert first.status_code == 202
    assert first.headers["Range"] == "0-7"
    location = first.headers["Location"]
    skipped = registry_client.patch(location, content=data[12:], headers={"Content-Range": "12-19"})
    assert skipped.status_code == 416
    assert skipped.headers["Range"] == "0-7"
    status = registry_client.get(location)
    assert status.status_code == 204
    assert status.headers["Range"] == "0-7"
    assert status.headers["Location"] == location
    second = registry_client.patch(location, content=data[8:16], headers={"Content-Range": "8-15"})
    assert second.headers["Range"] == "0-15"
    digest = Digest.of(data)
    done = registry_client.put(f"{location}?digest={digest}", content=data[16:], headers={"Content-Range": "16-19"})
    assert done.status_code == 201
    assert registry_client.get(f"/v2/app/blobs/{digest}").content == data


def test_streamed_patch_without_content_range(registry_client: TestClient) -> None:
    """§Pushing a blob in chunks: a PATCH without Content-Range streams the body (what docker and skopeo do)."""
    location = _start(registry_client)
    data = bytes(range(256)) * 20_000  # ~5 MiB: several 1 MiB batches through the thread pool

    def body() -> object:
        for i in range(0, len(data), 65536):
            yield data[i:i + 65536]

    patched = registry_client.patch(location, content=body())  # type: ignore[arg-type]
    assert patched.status_code == 202
    assert patched.headers["Range"] == f"0-{len(data) - 1}"
    digest = Digest.of(data)
    assert registry_client.put(f"{patched.headers['Location']}?digest={digest}").status_code == 201
    assert registry_client.get(f"/v2/app/blobs/{digest}").content == data


def test_put_with_wrong_digest_discards_the_upload(registry_client: TestClient) -> None:
    """§Pushing blobs: a digest that does not match MUST fail (400 DIGEST_INVALID); nothing is stored."""
    location = _start(registry_client)
    wrong = Digest.of(b"something else")
    response = registry_client.put(f"{location}?digest={wrong}", content=b"actual")
    assert response.status_code == 400
    assert _code(response) == "DIGEST_INVALID"
    assert registry_client.get(location).status_code == 404
    assert registry_client.head(f"/v2/app/blobs/{wrong}").status_code == 404
    missing = registry_client.put(_start(registry_client), content=b"x")
    assert missing.status_code == 400
    assert _code(missing) == "DIGEST_INVALID"


def test_cancel_upload(registry_client: TestClient) -> None:
    """end-14: DELETE on an upload location is 204; the session is then unknown (404 BLOB_UPLOAD_UNKNOWN)."""
    location = _start(registry_client)
    registry_client.patch(location, content=b"partial")
    assert registry_client.delete(location).status_code == 204
    gone = registry_client.get(location)
    assert gone.status_code == 404
    assert _code(gone) == "BLOB_UPLOAD_UNKNOWN"
    assert registry_client.delete(location).status_code == 404


def test_upload_belongs_to_its_repository(registry_client: TestClient) -> None:
    """An upload id from one repository is unknown in another (no cross-repository session hijack)."""
    location = _start(registry_client, "one")
    other = location.replace("/v2/one/", "/v2/two/")
    assert registry_client.get(other).status_code == 404
    assert registry_client.get("/v2/one/blobs/uploads/not-a-uuid").status_code == 404


def test_mount_from_another_repository(registry_client: TestClient) -> None:
    """§Mounting a blob: 201 + Location when `from` holds it; 202 (a new session) when it does not."""
    digest = push_blob(registry_client, "source", b"shared layer")
    mounted = registry_client.post(f"/v2/target/blobs/uploads/?mount={digest}&from=source")
    assert mounted.status_code == 201
    assert mounted.headers["Location"] == f"/v2/target/blobs/{digest}"
    assert mounted.headers["Docker-Content-Digest"] == str(digest)
    assert registry_client.get(f"/v2/target/blobs/{digest}").content == b"shared layer"
    fallback = registry_client.post(f"/v2/target2/blobs/uploads/?mount={Digest.of(b'nope')}&from=source")
    assert fallback.status_code == 202
    assert "/blobs/uploads/" in fallback.headers["Location"]


def test_automatic_mount_without_from(client_factory: Callable[..., TestClient]) -> None:
    """§Mounting a blob: the registry MAY mount without `from` (OCI_AUTOMATIC_CROSSMOUNT); off means 202."""
    client = client_factory()
    digest = push_blob(client, "source", b"layer")
    assert client.post(f"/v2/elsewhere/blobs/uploads/?mount={digest}").status_code == 201
    strict = client_factory(auto_mount=False)
    digest = push_blob(strict, "source", b"layer")
    assert strict.post(f"/v2/elsewhere/blobs/uploads/?mount={digest}").status_code == 202


def test_push_manifest_by_tag_and_by_digest(registry_client: TestClient) -> None:
    """§Pushing manifests: 201 with Location and the Docker-Content-Digest of the exact bytes."""
    push_blob(registry_client, "app", b"{}")
    push_blob(registry_client, "app", b"layer")
    manifest = image_manifest(b"{}", (b"layer",))
    by_tag = registry_client.put("/v2/app/manifests/v1", content=manifest.raw,
                                 headers={"Content-Type": MediaType.OCI_MANIFEST.value})
    assert by_tag.status_code == 201
    assert by_tag.headers["Docker-Content-Digest"] == str(manifest.digest)
    assert by_tag.headers["Location"] == f"/v2/app/manifests/{manifest.digest}"
    by_digest = registry_client.put(f"/v2/app/manifests/{manifest.digest}", content=manifest.raw,
                                    headers={"Content-Type": MediaType.OCI_MANIFEST.value})
    assert by_digest.status_code == 201
    mismatch = registry_client.put(f"/v2/app/manifests/{Digest.of(b'other')}", content=manifest.raw,
                                   headers={"Content-Type": MediaType.OCI_MANIFEST.value})
    assert mismatch.status_code == 400
    assert _code(mismatch) == "DIGEST_INVALID"


def test_push_manifest_with_several_tags(registry_client: TestClient) -> None:
    """end-7b: PUT by digest with ?tag=a&tag=b tags it under each name and echoes OCI-Tag."""
    manifest = push_image(registry_client, "app", "first")
    response = registry_client.put(f"/v2/app/manifests/{manifest.digest}?tag=a&tag=b", content=manifest.raw,
                                   headers={"Content-Type": MediaType.OCI_MANIFEST.value})
    assert response.status_code == 201
    assert response.headers.get_list("OCI-Tag") == ["a", "b"]
    assert registry_client.get("/v2/app/tags/list").json()["tags"] == ["a", "b", "first"]


def test_manifest_referencing_missing_blob_is_rejected(registry_client: TestClient) -> None:
    """§Pushing manifests: blobs MUST exist in the repository first (400 MANIFEST_BLOB_UNKNOWN)."""
    push_blob(registry_client, "app", b"{}")
    push_blob(registry_client, "other", b"layer")  # present, but in another repository
    manifest = image_manifest(b"{}", (b"layer",))
    response = registry_client.put("/v2/app/manifests/v1", content=manifest.raw,
                                   headers={"Content-Type": MediaType.OCI_MANIFEST.value})
    assert response.status_code == 400
    assert _code(response) == "MANIFEST_BLOB_UNKNOWN"
    assert response.json()["errors"][0]["detail"]["missing"] == [str(Digest.of(b"layer"))]


def test_index_children_must_be_manifests_in_the_repository(registry_client: TestClient) -> None:
    """§Pushing manifests: an index's children must already be manifests in the repository."""
    child = image_manifest(b"{}", (b"layer",))
    index = json.dumps({"schemaVersion": 2, "mediaType": MediaType.OCI_INDEX.value,
                        "manifests": [child.descriptor().to_json()]}).encode()
    missing = registry_client.put("/v2/app/manifests/multi", content=index,
                                  headers={"Content-Type": MediaType.OCI_INDEX.value})
    assert missing.status_code == 400
    assert _code(missing) == "MANIFEST_BLOB_UNKNOWN"
    push_image(registry_client, "app", str(child.digest))
    ok = registry_client.put("/v2/app/manifests/multi", content=index,
                             headers={"Content-Type": MediaType.OCI_INDEX.value})
    assert ok.status_code == 201


def test_subject_header_and_missing_subject(registry_client: TestClient) -> None:
    """§Pushing manifests with subject: the registry MUST answer OCI-Subject; a missing subject is accepted."""
    subject = Descriptor.for_bytes(MediaType.OCI_MANIFEST, b"not pushed anywhere")
    manifest = push_image(registry_client, "app", "sig", config=EMPTY_JSON, config_type=MediaType.OCI_EMPTY,
                          layers=(b"signature",), artifact_type="application/vnd.example.sig", subject=subject)
    again = registry_client.put(f"/v2/app/manifests/{manifest.digest}", content=manifest.raw,
                                headers={"Content-Type": MediaType.OCI_MANIFEST.value})
    assert again.status_code == 201
    assert again.headers["OCI-Subject"] == str(subject.digest)


def test_manifest_too_large_is_413(registry_client: TestClient) -> None:
    """§Pushing manifests: a manifest over the registry's limit (4 MiB) is 413."""
    huge = json.dumps({"schemaVersion": 2, "mediaType": MediaType.OCI_MANIFEST.value,
                       "annotations": {"pad": "x" * (4 << 20)}}).encode()
    response = registry_client.put("/v2/app/manifests/huge", content=huge,
                                   headers={"Content-Type": MediaType.OCI_MANIFEST.value})
    assert response.status_code == 413
    assert _code(response) == "MANIFEST_INVALID"


def test_schema1_and_unknown_media_types_are_rejected(registry_client: TestClient) -> None:
    """Docker schema1 and non-manifest documents are MANIFEST_INVALID (400)."""
    schema1 = json.dumps({"schemaVersion": 1, "name": "app", "tag": "v1", "fsLayers": []}).encode()
    response = registry_client.put("/v2/app/manifests/v1", content=schema1, headers={
        "Content-Type": MediaType.DOCKER_SCHEMA1_SIGNED.value})
    assert response.status_code == 400
    assert _code(response) == "MANIFEST_INVALID"
    weird = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.example+json"}).encode()
    assert _code(registry_client.put("/v2/app/manifests/v1", content=weird)) == "MANIFEST_INVALID"
    assert _code(registry_client.put("/v2/app/manifests/v1", content=b"not json")) == "MANIFEST_INVALID"


def test_sha512_blobs_and_manifests(registry_client: TestClient) -> None:
    """OCI_DATA_SHA512: sha512 blobs upload and pull; a manifest PUT by sha512 digest answers that digest."""
    layer = push_blob(registry_client, "app", b"layer", algorithm="sha512")
    assert registry_client.get(f"/v2/app/blobs/{layer}").content == b"layer"
    digest = Digest.of(b"hashed-as-sha512", "sha512")
    start = registry_client.post("/v2/app/blobs/uploads/?digest-algorithm=sha512")
    assert registry_client.put(f"{start.headers['Location']}?digest={digest}",
                               content=b"hashed-as-sha512").status_code == 201
    config = push_blob(registry_client, "app", b"{}")
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MediaType.OCI_MANIFEST.value,
        "config": {"mediaType": MediaType.OCI_CONFIG.value, "digest": str(config), "size": 2},
        "layers": [{"mediaType": MediaType.OCI_LAYER_GZIP.value, "digest": str(layer), "size": 5}],
    }).encode()
    ref = Digest.of(manifest, "sha512")
    response = registry_client.put(f"/v2/app/manifests/{ref}", content=manifest,
                                   headers={"Content-Type": MediaType.OCI_MANIFEST.value})
    assert response.status_code == 201
    assert response.headers["Docker-Content-Digest"] == str(ref)
    assert registry_client.get(f"/v2/app/manifests/{ref}").content == manifest


def test_empty_blob_no_layers_and_data_field(registry_client: TestClient) -> None:
    """OCI_DATA_EMPTY_BLOB / NO_LAYERS / DATA_FIELD: the empty blob, a layerless manifest, embedded data."""
    empty = push_blob(registry_client, "app", b"")
    assert registry_client.get(f"/v2/app/blobs/{empty}").content == b""
    assert registry_client.head(f"/v2/app/blobs/{empty}").headers["Content-Length"] == "0"
    no_layers = image_manifest(EMPTY_JSON, (), config_type=MediaType.OCI_EMPTY, artifact_type="application/x.t")
    # the empty config is never pushed: its bytes are well known
    assert registry_client.put("/v2/app/manifests/bare", content=no_layers.raw, headers={
        "Content-Type": MediaType.OCI_MANIFEST.value}).status_code == 201
    assert registry_client.get(f"/v2/app/blobs/{EMPTY_DIGEST}").content == EMPTY_JSON
    embedded = b"inline config"
    with_data = json.dumps({
        "schemaVersion": 2, "mediaType": MediaType.OCI_MANIFEST.value,
        "config": {"mediaType": "application/x.cfg", "digest": str(Digest.of(embedded)), "size": len(embedded),
                   "data": base64.b64encode(embedded).decode()},
        "layers": [],
    }).encode()
    assert registry_client.put("/v2/app/manifests/data", content=with_data).status_code == 201
    assert registry_client.get(f"/v2/app/blobs/{Digest.of(embedded)}").content == embedded


def test_manifest_without_media_type_uses_content_type(registry_client: TestClient) -> None:
    """A manifest without `mediaType` (umoci writes them) takes its type from Content-Type, else its shape."""
    push_blob(registry_client, "app", b"{}")
    raw = json.dumps({"schemaVersion": 2, "config": {"mediaType": MediaType.DOCKER_CONFIG.value,
                                                     "digest": str(Digest.of(b"{}")), "size": 2},
                      "layers": []}).encode()
    registry_client.put("/v2/app/manifests/docker", content=raw,
                        headers={"Content-Type": MediaType.DOCKER_MANIFEST.value})
    assert registry_client.head("/v2/app/manifests/docker").headers["Content-Type"] == MediaType.DOCKER_MANIFEST
    other = raw.replace(b'"layers"', b'"annotations": {"a": "b"}, "layers"')
    registry_client.put("/v2/app/manifests/plain", content=other, headers={"Content-Type": "application/json"})
    assert registry_client.head("/v2/app/manifests/plain").headers["Content-Type"] == MediaType.OCI_MANIFEST


def test_upload_resumes_after_restart(tmp_path: Path) -> None:
    """Resumable push: after a restart the session and its bytes survive; the blob is rehashed from storage."""
    config = RegistryConfig(tmp_path / "registry", access_log="off")
    data = b"first half|second half"
    with TestClient(create_app(config)) as first:
        location = _start(first)
        assert first.patch(location, content=data[:11], headers={"Content-Range": "0-10"}).status_code == 202
    with TestClient(create_app(config)) as second:
        status = second.get(location)
        assert status.status_code == 204
        assert status.headers["Range"] == "0-10"
        assert second.patch(location, content=data[11:], headers={"Content-Range": f"11-{len(data) - 1}"}
                            ).status_code == 202
        digest = Digest.of(data)
        assert second.put(f"{location}?digest={digest}").status_code == 201
        assert second.get(f"/v2/app/blobs/{digest}").content == data


def test_final_digest_in_another_algorithm_is_rehashed(registry_client: TestClient) -> None:
    """A session hashed as sha256 but closed with a sha512 digest is verified by rehashing what is stored."""
    location = _start(registry_client)
    digest = Digest.of(b"payload", "sha512")
    assert registry_client.put(f"{location}?digest={digest}", content=b"payload").status_code == 201
    assert registry_client.get(f"/v2/app/blobs/{digest}").content == b"payload"


def test_ten_clients_pushing_the_same_blob(tmp_path: Path) -> None:
    """Concurrent pushes of one blob all succeed and leave exactly one stored copy."""
    app = create_app(RegistryConfig(tmp_path / "registry", access_log="off"))
    data = bytes(range(256)) * 8192  # 2 MiB
    digest = Digest.of(data)

    async def push_one(client: httpx.AsyncClient, n: int) -> int:
        started = await client.post(f"/v2/repo{n % 3}/blobs/uploads/")
        patched = await client.patch(started.headers["Location"], content=data)
        done = await client.put(f"{patched.headers['Location']}?digest={digest}")
        return done.status_code

    async def main() -> list[int]:
        results: list[int] = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:

            async def run(n: int) -> None:
                results.append(await push_one(client, n))

            async with anyio.create_task_group() as group:
                for n in range(10):
                    group.start_soon(run, n)
        return results

    assert anyio.run(main) == [201] * 10
    stored = list((tmp_path / "registry" / "storage" / "blobs").rglob("data"))
    assert len(stored) == 1
    assert stored[0].read_bytes() == data
    assert not [p for p in (tmp_path / "registry" / "storage").rglob("*") if p.is_file() and "uploads" in str(p)]


def test_writes_are_audited(fs_client: TestClient) -> None:
    """Every write lands in the audit log (who, what, when)."""
    push_image(fs_client, "app", "v1")
    fs_client.delete(_start(fs_client))
    fs_client.delete("/v2/app/manifests/v1")
    meta = fs_client.app.state.registry.meta  # type: ignore[attr-defined]
    actions = [entry.action for entry in meta.audit_log()]
    assert {"upload.start", "upload.cancel", "blob.link", "manifest.put", "tag.put", "tag.delete"} <= set(actions)
    assert all(entry.actor == "anonymous" for entry in meta.audit_log())
