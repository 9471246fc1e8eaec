"""Conformance category 3, Content discovery: tag listing (with pagination), the catalog, and referrers."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import EMPTY_JSON, MediaType
from dockyard.testing.registry import push_image


def _tag_all(client: TestClient, name: str, tags: list[str]) -> None:
    manifest = push_image(client, name, tags[0])
    for tag in tags[1:]:
        response = client.put(f"/v2/{name}/manifests/{tag}", content=manifest.raw,
                              headers={"Content-Type": manifest.media_type})
        assert response.status_code == 201


def test_tags_list_sorted(registry_client: TestClient) -> None:
    """§Listing tags: 200 with {"name", "tags"}, tags in lexical (ASCII) order."""
    _tag_all(registry_client, "lib/app", ["v2", "latest", "V1", "v10"])
    response = registry_client.get("/v2/lib/app/tags/list")
    assert response.status_code == 200
    assert response.json() == {"name": "lib/app", "tags": ["V1", "latest", "v10", "v2"]}
    assert "Link" not in response.headers


def test_tags_list_unknown_repository_is_404(registry_client: TestClient) -> None:
    """§Listing tags: a repository that does not exist is 404 NAME_UNKNOWN."""
    response = registry_client.get("/v2/ghost/tags/list")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_tags_pagination_with_n_and_last(registry_client: TestClient) -> None:
    """§Listing tags: `n` returns exactly n (with a Link to the rest), `last` starts after that tag, n=0 is empty."""
    tags = [f"t{i:02d}" for i in range(7)]
    _tag_all(registry_client, "app", tags)
    first = registry_client.get("/v2/app/tags/list?n=3")
    assert first.json()["tags"] == tags[:3]
    assert first.headers["Link"] == '</v2/app/tags/list?n=3&last=t02>; rel="next"'
    follow = registry_client.get(first.headers["Link"].split(";")[0].strip("<>"))
    assert follow.json()["tags"] == tags[3:6]
    last_page = registry_client.get("/v2/app/tags/list?n=3&last=t05")
    assert last_page.json()["tags"] == ["t06"]
    assert "Link" not in last_page.headers
    exact = registry_client.get("/v2/app/tags/list?n=7")
    assert exact.json()["tags"] == tags
    assert "Link" not in exact.headers
    zero = registry_client.get("/v2/app/tags/list?n=0")
    assert zero.json()["tags"] == []
    assert "Link" not in zero.headers
    assert registry_client.get("/v2/app/tags/list?last=t04").json()["tags"] == ["t05", "t06"]
    bad = registry_client.get("/v2/app/tags/list?n=-1")
    assert bad.status_code == 400


def test_catalog_pagination(registry_client: TestClient) -> None:
    """/v2/_catalog lists repositories in order, paginated like tags."""
    for name in ("b/two", "a/one", "c"):
        push_image(registry_client, name, "v1")
    assert registry_client.get("/v2/_catalog").json() == {"repositories": ["a/one", "b/two", "c"]}
    page = registry_client.get("/v2/_catalog?n=2")
    assert page.json()["repositories"] == ["a/one", "b/two"]
    assert page.headers["Link"] == '</v2/_catalog?n=2&last=b%2Ftwo>; rel="next"'
    assert registry_client.get("/v2/_catalog?n=2&last=b/two").json()["repositories"] == ["c"]


def _artifact(client: TestClient, subject: Descriptor, artifact_type: str | None, payload: bytes,
              annotations: dict[str, str] | None = None, config_type: str = MediaType.OCI_EMPTY) -> Digest:
    manifest = push_image(client, "app", str(Digest.of(payload)).replace(":", "-")[:60], config=EMPTY_JSON,
                          config_type=config_type, layers=(payload,), subject=subject,
                          artifact_type=artifact_type, annotations=annotations)
    return manifest.digest


def test_referrers_list_filter_and_empty(registry_client: TestClient) -> None:
    """§Listing referrers (end-12a/b): an image index with artifactType and annotations per referrer;
    `artifactType` filters and sets OCI-Filters-Applied; no referrers is an empty index, not 404."""
    image = push_image(registry_client, "app", "v1")
    subject = image.descriptor()
    sig = _artifact(registry_client, subject, "application/vnd.example.sig", b"sig",
                    annotations={"org.example.kind": "signature"})
    sbom = _artifact(registry_client, subject, None, b"sbom", config_type="application/vnd.example.sbom.config")
    response = registry_client.get(f"/v2/app/referrers/{subject.digest}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MediaType.OCI_INDEX
    index = response.json()
    assert index["schemaVersion"] == 2 and index["mediaType"] == MediaType.OCI_INDEX
    by_digest = {entry["digest"]: entry for entry in index["manifests"]}
    assert by_digest[str(sig)]["artifactType"] == "application/vnd.example.sig"
    assert by_digest[str(sig)]["annotations"] == {"org.example.kind": "signature"}
    assert by_digest[str(sbom)]["artifactType"] == "application/vnd.example.sbom.config"
    assert by_digest[str(sig)]["mediaType"] == MediaType.OCI_MANIFEST
    filtered = registry_client.get(f"/v2/app/referrers/{subject.digest}?artifactType=application/vnd.example.sig")
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [m["digest"] for m in filtered.json()["manifests"]] == [str(sig)]
    none = registry_client.get(f"/v2/app/referrers/{Digest.of(b'nothing refers to me')}")
    assert none.status_code == 200
    assert none.json()["manifests"] == []
    assert registry_client.get("/v2/app/referrers/sha256:nothex").status_code == 400


def test_referrers_of_missing_subject(registry_client: TestClient) -> None:
    """OCI_DATA_SUBJECT_MISSING: referrers pushed before their subject are listed for it."""
    subject = Descriptor.for_bytes(MediaType.OCI_MANIFEST, b"arrives later")
    sig = _artifact(registry_client, subject, "application/vnd.example.sig", b"early")
    listed = registry_client.get(f"/v2/app/referrers/{subject.digest}").json()["manifests"]
    assert [m["digest"] for m in listed] == [str(sig)]


def test_referrers_include_a_legacy_referrers_tag(registry_client: TestClient) -> None:
    """§Enabling the referrers API: manifests listed in a pre-existing `sha256-<hex>` tag index are included."""
    image = push_image(registry_client, "app", "v1")
    legacy = push_image(registry_client, "app", "legacy-sig", config=b'{"a":1}', layers=(b"old sig",))
    entry = legacy.descriptor(artifact_type="application/vnd.example.legacy")
    index = json.dumps({"schemaVersion": 2, "mediaType": MediaType.OCI_INDEX.value,
                        "manifests": [entry.to_json()]}).encode()
    tag = f"sha256-{image.digest.encoded}"
    assert registry_client.put(f"/v2/app/manifests/{tag}", content=index,
                               headers={"Content-Type": MediaType.OCI_INDEX.value}).status_code == 201
    listed = registry_client.get(f"/v2/app/referrers/{image.digest}").json()["manifests"]
    assert [(m["digest"], m["artifactType"]) for m in listed] == [(str(legacy.digest),
                                                                   "application/vnd.example.legacy")]
