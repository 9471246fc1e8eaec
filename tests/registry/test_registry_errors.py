"""Bad input gets a spec error, never a 500: names, path tricks, tags, digests, ranges, methods, and fuzzing."""

from __future__ import annotations

import json
import string
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import MediaType
from dockyard.registry.app import create_app
from dockyard.registry.config import RegistryConfig
from dockyard.registry.errcodes import TABLE
from dockyard.testing.registry import push_blob, push_image


def _error(client: TestClient, method: str, path: str, **kw: object) -> tuple[int, str]:
    response = client.request(method, path, **kw)  # type: ignore[arg-type]
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    return response.status_code, body["errors"][0]["code"]


@pytest.mark.parametrize("path", [
    "/v2/UPPER/manifests/latest",
    "/v2/%2e%2e/manifests/latest",
    "/v2/a/%2e%2e/b/manifests/latest",
    "/v2/a/%2E%2E/%2E%2E/etc/blobs/" + str(Digest.of(b"x")),
    "/v2/a//b/tags/list",
    "/v2/-a/tags/list",
    "/v2/a__-b/tags/list",
    "/v2/" + "a" * 256 + "/tags/list",
    "/v2/a%00b/tags/list",
    "/v2/a%0Ab/blobs/uploads/",
])
def test_invalid_names_are_name_invalid(fs_client: TestClient, path: str) -> None:
    """Names must match the spec's grammar (< 256 chars): 400 NAME_INVALID, also for `..` and `%2e%2e`."""
    assert _error(fs_client, "GET", path) == (400, "NAME_INVALID")


def test_invalid_tags_and_digests(fs_client: TestClient) -> None:
    """An invalid tag is MANIFEST_INVALID on push and 404 on pull; bad digests are DIGEST_INVALID."""
    push_image(fs_client, "app", "v1")
    body = b'{"schemaVersion":2}'
    assert _error(fs_client, "PUT", "/v2/app/manifests/-bad", content=body) == (400, "MANIFEST_INVALID")
    assert _error(fs_client, "PUT", "/v2/app/manifests/" + "t" * 129, content=body) == (400, "MANIFEST_INVALID")
    assert _error(fs_client, "GET", "/v2/app/manifests/.hidden") == (404, "MANIFEST_UNKNOWN")
    assert _error(fs_client, "PUT", "/v2/app/manifests/sha256:abc", content=body) == (400, "DIGEST_INVALID")
    assert _error(fs_client, "GET", "/v2/app/manifests/sha256:abc") == (404, "MANIFEST_UNKNOWN")
    for bad in ("sha256:xyz", "md5:" + "0" * 32, "sha384:" + "0" * 96, "SHA256:" + "0" * 64, "nocolon"):
        assert _error(fs_client, "GET", f"/v2/app/blobs/{bad}") == (400, "DIGEST_INVALID"), bad
    location = fs_client.post("/v2/app/blobs/uploads/").headers["Location"]
    assert _error(fs_client, "PUT", f"{location}?digest=sha256:zz", content=b"x") == (400, "DIGEST_INVALID")
    assert _error(fs_client, "POST", "/v2/app/blobs/uploads/?digest-algorithm=md5") == (400, "DIGEST_INVALID")
    assert _error(fs_client, "POST", "/v2/app/blobs/uploads/?mount=bogus&from=x") == (400, "DIGEST_INVALID")
    assert _error(fs_client, "POST", f"/v2/app/blobs/uploads/?mount={Digest.of(b'q')}&from=BAD") == (
        400, "NAME_INVALID")


def test_bad_upload_requests(fs_client: TestClient) -> None:
    """Malformed Content-Range is 416, Content-Length disagreeing with it SIZE_INVALID, unknown ids 404."""
    location = fs_client.post("/v2/app/blobs/uploads/").headers["Location"]
    assert _error(fs_client, "PATCH", location, content=b"abc", headers={"Content-Range": "a-b"})[0] == 416
    assert _error(fs_client, "PATCH", location, content=b"abc", headers={"Content-Range": "0-9"}) == (
        400, "SIZE_INVALID")
    assert _error(fs_client, "PATCH", "/v2/app/blobs/uploads/00000000-0000-0000-0000-000000000000",
                  content=b"x") == (404, "BLOB_UPLOAD_UNKNOWN")
    assert _error(fs_client, "PATCH", "/v2/app/blobs/uploads/..%2F..%2Fetc", content=b"x")[0] in (400, 404)


def test_unknown_paths_and_methods(fs_client: TestClient) -> None:
    """Unknown endpoints are 404 and wrong methods 405, both as spec JSON with an Allow header."""
    assert _error(fs_client, "GET", "/v2/app")[0] == 404
    assert _error(fs_client, "GET", "/nothing/here")[0] == 404
    response = fs_client.request("POST", "/v2/app/manifests/latest")
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"
    assert "PUT" in response.headers["Allow"]
    assert fs_client.request("PROPFIND", "/v2/").status_code == 405


def test_error_table_is_consistent() -> None:
    """One table: every code is upper-case with underscores, every status a 4xx/5xx."""
    for code in TABLE:
        assert set(code.code) <= set(string.ascii_uppercase + "_")
        assert 400 <= code.status < 600


def test_manifest_garbage_is_manifest_invalid(fs_client: TestClient) -> None:
    """Structurally broken manifests never reach storage: 400 MANIFEST_INVALID."""
    bad_docs = [
        b"[]", b'{"schemaVersion": 2, "config": 5}', b'{"schemaVersion": "2"}',
        json.dumps({"schemaVersion": 2, "mediaType": MediaType.OCI_MANIFEST.value,
                    "config": {"mediaType": "x", "digest": "sha256:00", "size": 1}}).encode(),
        json.dumps({"schemaVersion": 2, "mediaType": MediaType.OCI_INDEX.value, "manifests": [{}]}).encode(),
        json.dumps({"schemaVersion": 2, "mediaType": MediaType.OCI_MANIFEST.value, "manifests": []}).encode(),
        b"\xff\xfe", b"{" * 100_000,
    ]
    for doc in bad_docs:
        assert _error(fs_client, "PUT", "/v2/app/manifests/x", content=doc) == (400, "MANIFEST_INVALID"), doc[:80]


_NAMES = st.sampled_from(["app", "lib/app", "APP", "..", "%2e%2e", "a/../b", "", "_catalog", "a" * 300, "a//b",
                          "x.y-z_w"])
_REFS = st.one_of(
    st.sampled_from(["latest", "v1", str(Digest.of(b"{}")), "sha256:", "sha512:00", "..", "%2e%2e", "-x",
                     "00000000-0000-0000-0000-000000000000", str(Digest.of(b"layer", "sha512"))]),
    st.text(min_size=0, max_size=40),
)
_KINDS = st.sampled_from(["blobs", "manifests", "tags/list", "referrers", "blobs/uploads", "blobs/uploads/",
                          "_catalog", ""])
_QUERIES = st.lists(st.tuples(st.sampled_from(["digest", "mount", "from", "n", "last", "artifactType", "tag",
                                               "digest-algorithm"]),
                              st.one_of(_REFS, st.integers(-5, 10**20).map(str))), max_size=3)
_HEADER_VALUES = st.text(alphabet=string.printable.strip("\r\n\x0b\x0c"), max_size=40)
_HEADERS = st.dictionaries(
    st.sampled_from(["Content-Range", "Range", "Accept", "Content-Type", "Authorization", "Content-Length"]),
    st.one_of(_HEADER_VALUES, st.sampled_from(["bytes=0-", "0-0", "bytes=-1", "5-2", MediaType.OCI_INDEX.value,
                                               "Basic !!!", "Basic Og==", "-1", "99999999999999999999"])),
    max_size=3)


def test_fuzz_never_500(tmp_path: Path) -> None:
    """Random methods, paths, queries, headers and bodies: every answer is < 500."""
    config = RegistryConfig(tmp_path / "registry", access_log="off")
    with TestClient(create_app(config), base_url="http://registry.test") as client:
        push_image(client, "app", "latest", layers=(b"layer",))
        push_blob(client, "lib/app", b"layer", algorithm="sha512")

        @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
        @given(method=st.sampled_from(["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "TRACE"]),
               name=_NAMES, kind=_KINDS, ref=_REFS, query=_QUERIES, headers=_HEADERS,
               body=st.one_of(st.just(b""), st.binary(max_size=256), st.just(b'{"schemaVersion":2}')))
        def check(method: str, name: str, kind: str, ref: str, query: list[tuple[str, str]],
                  headers: dict[str, str], body: bytes) -> None:
            path = quote(f"/v2/{name}/{kind}/{ref}".replace("//", "/"), safe="/:%")
            if query:
                path += "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
            if "Content-Length" in headers:  # httpx sets the real one; a bogus one goes as an extra header
                headers = {**headers, "X-Content-Length": headers.pop("Content-Length")}
            response = client.request(method, path, headers=headers, content=body or None)
            assert response.status_code < 500, (method, path, headers, response.text)
            if response.status_code >= 400 and method != "HEAD":
                assert "errors" in response.json()

        check()
