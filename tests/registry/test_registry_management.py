"""Conformance category 4, Content management: deleting tags, manifests and blobs."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from dockyard.oci.digest import Digest
from dockyard.testing.registry import push_blob, push_image


def test_delete_tag_untags_only(registry_client: TestClient) -> None:
    """§Deleting tags: DELETE /manifests/<tag> is 202; the tag goes, the manifest stays by digest."""
    manifest = push_image(registry_client, "app", "v1")
    assert registry_client.delete("/v2/app/manifests/v1").status_code == 202
    assert registry_client.get("/v2/app/manifests/v1").status_code == 404
    assert registry_client.get(f"/v2/app/manifests/{manifest.digest}").status_code == 200
    assert registry_client.get("/v2/app/tags/list").json()["tags"] == []
    assert registry_client.delete("/v2/app/manifests/v1").status_code == 404


def test_delete_manifest_by_digest(registry_client: TestClient) -> None:
    """§Deleting manifests: 202, then the manifest and its tags are gone (404)."""
    manifest = push_image(registry_client, "app", "v1")
    registry_client.put("/v2/app/manifests/v2", content=manifest.raw, headers={"Content-Type": manifest.media_type})
    response = registry_client.delete(f"/v2/app/manifests/{manifest.digest}")
    assert response.status_code == 202
    assert registry_client.get(f"/v2/app/manifests/{manifest.digest}").status_code == 404
    assert registry_client.get("/v2/app/tags/list").json()["tags"] == []
    again = registry_client.delete(f"/v2/app/manifests/{manifest.digest}")
    assert again.status_code == 404
    assert again.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_delete_manifest_in_unknown_repository_is_404(registry_client: TestClient) -> None:
    """§Deleting manifests: if the repository does not exist the response MUST be 404."""
    response = registry_client.delete(f"/v2/ghost/manifests/{Digest.of(b'x')}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_delete_blob(registry_client: TestClient) -> None:
    """§Deleting blobs: 202, then 404; deleting an unknown blob is 404."""
    digest = push_blob(registry_client, "app", b"bytes")
    other = push_blob(registry_client, "other", b"bytes")
    response = registry_client.delete(f"/v2/app/blobs/{digest}")
    assert response.status_code == 202
    assert registry_client.head(f"/v2/app/blobs/{digest}").status_code == 404
    assert registry_client.head(f"/v2/other/blobs/{other}").status_code == 200  # links are per repository
    missing = registry_client.delete(f"/v2/app/blobs/{digest}")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_deletes_can_be_disabled(client_factory: Callable[..., TestClient]) -> None:
    """§Content management: a registry that disables deletion answers 405 (UNSUPPORTED)."""
    client = client_factory(delete_enabled=False)
    manifest = push_image(client, "app", "v1")
    for path in ("/v2/app/manifests/v1", f"/v2/app/manifests/{manifest.digest}",
                 f"/v2/app/blobs/{manifest.config.digest}"):
        response = client.delete(path)
        assert response.status_code == 405
        assert response.json()["errors"][0]["code"] == "UNSUPPORTED"
    assert client.get("/v2/app/manifests/v1").status_code == 200
