"""Conformance category 1, Pull: every MUST of distribution-spec v1.1 "Pull" against the in-process app."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import MediaType
from dockyard.testing.registry import push_blob, push_image


def test_version_check_returns_200_with_api_version_header(registry_client: TestClient) -> None:
    """spec.md §Determining support / end-1: GET /v2/ is 200; Docker-Distribution-API-Version is registry/2.0."""
    response = registry_client.get("/v2/")
    assert response.status_code == 200
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_pull_manifest_by_tag_and_digest_returns_exact_bytes(registry_client: TestClient) -> None:
    """§Pulling manifests: GET by tag or digest MUST return 200 with the manifest bytes as pushed."""
    manifest = push_image(registry_client, "lib/app", "v1")
    for ref in ("v1", str(manifest.digest)):
        response = registry_client.get(f"/v2/lib/app/manifests/{ref}",
                                       headers={"Accept": MediaType.OCI_MANIFEST.value})
        assert response.status_code == 200
        assert response.content == manifest.raw
        assert response.headers["Content-Type"] == MediaType.OCI_MANIFEST
        assert response.headers["Docker-Content-Digest"] == str(manifest.digest)
        assert response.headers["Content-Length"] == str(len(manifest.raw))


def test_manifest_content_type_is_the_stored_media_type(registry_client: TestClient) -> None:
    """§Pulling manifests: the Content-Type MUST match the manifest's media type (Docker schema2 here)."""
    manifest = push_image(registry_client, "app", "docker", media_type=MediaType.DOCKER_MANIFEST,
                          config_type=MediaType.DOCKER_CONFIG, layer_type=MediaType.DOCKER_LAYER_GZIP)
    response = registry_client.get("/v2/app/manifests/docker")
    assert response.headers["Content-Type"] == MediaType.DOCKER_MANIFEST
    assert response.content == manifest.raw


def test_head_manifest_has_headers_and_no_body(registry_client: TestClient) -> None:
    """§Checking if content exists: HEAD manifest MUST be 200 with Content-Length/Docker-Content-Digest."""
    manifest = push_image(registry_client, "app", "v1")
    response = registry_client.head("/v2/app/manifests/v1")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == str(len(manifest.raw))
    assert response.headers["Docker-Content-Digest"] == str(manifest.digest)


def test_missing_manifest_is_404(registry_client: TestClient) -> None:
    """§Pulling manifests: a manifest that does not exist MUST be 404 (MANIFEST_UNKNOWN / NAME_UNKNOWN)."""
    push_image(registry_client, "app", "v1")
    missing = registry_client.get("/v2/app/manifests/nope")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    unknown_repo = registry_client.get("/v2/ghost/manifests/latest")
    assert unknown_repo.status_code == 404
    assert unknown_repo.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    by_digest = registry_client.head(f"/v2/app/manifests/{Digest.of(b'other')}")
    assert by_digest.status_code == 404


def test_pull_blob_and_head_blob(registry_client: TestClient) -> None:
    """§Pulling blobs: GET blob MUST be 200 with the bytes; HEAD MUST be 200 with Content-Length."""
    data = b"some layer bytes" * 1000
    digest = push_blob(registry_client, "app", data)
    response = registry_client.get(f"/v2/app/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["Docker-Content-Digest"] == str(digest)
    head = registry_client.head(f"/v2/app/blobs/{digest}")
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(data))
    assert head.content == b""


def test_pull_large_blob_streams_in_chunks(registry_client: TestClient) -> None:
    """§Pulling blobs: a multi-MiB blob comes back intact (1 MiB chunks with read-ahead)."""
    data = bytes(range(256)) * (5 * 4096 + 17)
    digest = push_blob(registry_client, "big", data)
    response = registry_client.get(f"/v2/big/blobs/{digest}")
    assert response.content == data


def test_missing_blob_is_404(registry_client: TestClient) -> None:
    """§Pulling blobs: a blob that does not exist MUST be 404 BLOB_UNKNOWN (also in another repository)."""
    digest = push_blob(registry_client, "one", b"data")
    for path in (f"/v2/one/blobs/{Digest.of(b'nope')}", f"/v2/two/blobs/{digest}"):
        response = registry_client.get(path)
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_blob_range_requests(registry_client: TestClient) -> None:
    """§Pulling blobs (Range): a satisfiable Range is 206 with Content-Range; an unsatisfiable one is 416."""
    data = bytes(range(100))
    digest = push_blob(registry_client, "app", data)
    url = f"/v2/app/blobs/{digest}"
    part = registry_client.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == data[10:20]
    assert part.headers["Content-Range"] == "bytes 10-19/100"
    assert registry_client.get(url, headers={"Range": "bytes=90-"}).content == data[90:]
    assert registry_client.get(url, headers={"Range": "bytes=-5"}).content == data[95:]
    assert registry_client.get(url, headers={"Range": "bytes=95-500"}).content == data[95:]
    for bad in ("bytes=100-", "bytes=50-10", "bytes=x-y", "items=1-2", "bytes=1-2,4-5"):
        response = registry_client.get(url, headers={"Range": bad})
        assert response.status_code == 416, bad
        assert response.headers["Content-Range"] == "bytes */100"


def test_accept_negotiation_by_tag(registry_client: TestClient) -> None:
    """§Pulling manifests: a client that accepts none of the stored type gets 404 by tag, like distribution."""
    manifest = push_image(registry_client, "app", "v1")
    refused = registry_client.get("/v2/app/manifests/v1", headers={"Accept": MediaType.DOCKER_MANIFEST.value})
    assert refused.status_code == 404
    accepted = registry_client.get("/v2/app/manifests/v1", headers={
        "Accept": f"{MediaType.DOCKER_MANIFEST}, {MediaType.OCI_MANIFEST};q=0.9"})
    assert accepted.content == manifest.raw
    wildcard = registry_client.get("/v2/app/manifests/v1", headers={"Accept": "*/*"})
    assert wildcard.status_code == 200
    by_digest = registry_client.get(f"/v2/app/manifests/{manifest.digest}",
                                    headers={"Accept": MediaType.DOCKER_MANIFEST.value})
    assert by_digest.status_code == 200


def test_index_pull(registry_client: TestClient) -> None:
    """§Pulling manifests: an image index is served with its own media type."""
    child = push_image(registry_client, "multi", "child")
    index = json.dumps({"schemaVersion": 2, "mediaType": MediaType.OCI_INDEX.value,
                        "manifests": [child.descriptor().to_json()]}).encode()
    put = registry_client.put("/v2/multi/manifests/latest", content=index,
                              headers={"Content-Type": MediaType.OCI_INDEX.value})
    assert put.status_code == 201, put.text
    response = registry_client.get("/v2/multi/manifests/latest")
    assert response.headers["Content-Type"] == MediaType.OCI_INDEX
    assert response.content == index
