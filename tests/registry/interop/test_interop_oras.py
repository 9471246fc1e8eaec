"""The Python `oras` client against `dockyard serve`: artifacts with an artifactType and a subject, pulled back,
then found through the referrers API (with `artifactType` filtering and `OCI-Filters-Applied`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from interop_support import Images, Skopeo

from dockyard.oci.mediatype import EMPTY_DIGEST, MediaType
from dockyard.testing.peers import missing_peer
from dockyard.testing.registry import RunningRegistry

try:
    import oras.oci  # type: ignore[import-untyped]
    import oras.provider  # type: ignore[import-untyped]
except ImportError:  # a missing peer: skipped, or failed under DOCKYARD_REQUIRE_PEERS=1 (see `_oras`)
    HAVE_ORAS = False
else:
    HAVE_ORAS = True

SBOM_TYPE = "application/vnd.dockyard.sbom.v1+json"
SIG_TYPE = "application/vnd.dockyard.signature.v1"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _oras(host: str, **kw: object) -> oras.provider.Registry:
    """An oras client for a plain-HTTP registry."""
    if not HAVE_ORAS:
        missing_peer("the Python oras client is not installed (pip install oras)")
    return oras.provider.Registry(hostname=host, insecure=True, **kw)


@pytest.fixture
def oras_client(registry: RunningRegistry) -> Iterator[oras.provider.Registry]:
    client = _oras(registry.host)
    yield client
    client.session.close()


@pytest.fixture
def subject(registry: RunningRegistry, images: Images, skopeo: Skopeo,
            oras_client: oras.provider.Registry) -> oras.oci.Subject:
    """The busybox image, pushed by skopeo: what the artifacts refer to."""
    skopeo.copy(images.ref("1"), f"docker://{registry.host}/oras/app:1")
    raw = skopeo.raw(f"docker://{registry.host}/oras/app:1")
    return oras.oci.Subject(MediaType.OCI_MANIFEST, _sha256(raw), len(raw))


def _push_signature(client: oras.provider.Registry, host: str, subject: oras.oci.Subject, tmp_path: Path) -> str:
    """A manifest with an explicit `artifactType`, the empty config and one layer, built with oras's own parts."""
    container = client.get_container(f"{host}/oras/app:sig")
    payload = tmp_path / "signature.bin"
    payload.write_bytes(b"not really a signature\n")
    layer = oras.oci.NewLayer(str(payload), media_type="application/octet-stream")
    assert client.upload_blob(str(payload), container, layer, do_chunked=True, chunk_size=8).status_code in (200, 201)
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"{}")
    config = {"mediaType": MediaType.OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2}
    assert client.upload_blob(str(empty), container, config).status_code in (200, 201)
    manifest = oras.oci.NewManifest()
    manifest.update(artifactType=SIG_TYPE, config=config, layers=[layer], subject=subject.__dict__,
                    annotations={"org.example.kind": "signature"})
    response = client.upload_manifest(manifest, container)
    assert response.status_code == 201, response.text
    assert response.headers["OCI-Subject"] == subject.digest
    return str(response.headers["Docker-Content-Digest"])


def test_interop_oras_artifacts_and_referrers(registry: RunningRegistry, oras_client: oras.provider.Registry,
                                              subject: oras.oci.Subject, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    sbom = tmp_path / "sbom.json"
    sbom.write_text(json.dumps({"spdxVersion": "SPDX-2.3", "name": "busybox"}))
    pushed = oras_client.push(target=f"{registry.host}/oras/app:sbom", files=[f"sbom.json:{SBOM_TYPE}"],
                              manifest_config=f"config.json:{SBOM_TYPE}", subject=subject,
                              manifest_annotations={"org.example.kind": "sbom"}, quiet=True)
    assert pushed.status_code == 201
    assert pushed.headers["OCI-Subject"] == subject.digest
    sbom_digest = pushed.headers["Docker-Content-Digest"]
    sig_digest = _push_signature(oras_client, registry.host, subject, tmp_path)

    out = tmp_path / "pulled"
    files = oras_client.pull(target=f"{registry.host}/oras/app:sbom", outdir=str(out))
    assert [Path(f).name for f in files] == ["sbom.json"]
    assert Path(files[0]).read_bytes() == sbom.read_bytes()
    manifest = oras_client.get_manifest(f"{registry.host}/oras/app:sig")
    assert manifest["artifactType"] == SIG_TYPE and manifest["subject"]["digest"] == subject.digest
    assert sorted(oras_client.get_tags(f"{registry.host}/oras/app")) == ["1", "sbom", "sig"]

    with httpx.Client(base_url=registry.url, timeout=30) as client:
        everything = client.get(f"/v2/oras/app/referrers/{subject.digest}")
        assert everything.status_code == 200
        assert everything.headers["Content-Type"] == MediaType.OCI_INDEX
        assert "OCI-Filters-Applied" not in everything.headers
        index = everything.json()
        assert index["mediaType"] == MediaType.OCI_INDEX
        found = {d["digest"]: d for d in index["manifests"]}
        assert set(found) == {sbom_digest, sig_digest}
        assert found[sbom_digest]["artifactType"] == SBOM_TYPE  # from config.mediaType: no artifactType field
        assert found[sig_digest]["artifactType"] == SIG_TYPE
        assert found[sig_digest]["annotations"] == {"org.example.kind": "signature"}
        assert all(d["mediaType"] == MediaType.OCI_MANIFEST for d in index["manifests"])

        filtered = client.get(f"/v2/oras/app/referrers/{subject.digest}", params={"artifactType": SIG_TYPE})
        assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
        assert [d["digest"] for d in filtered.json()["manifests"]] == [sig_digest]
        none = client.get(f"/v2/oras/app/referrers/{subject.digest}", params={"artifactType": "application/x-none"})
        assert none.status_code == 200 and none.json()["manifests"] == []

        unknown = client.get(f"/v2/oras/app/referrers/{_sha256(b'no such manifest')}")
        assert unknown.status_code == 200 and unknown.json()["manifests"] == []

        assert client.delete(f"/v2/oras/app/manifests/{sig_digest}").status_code == 202
        after = client.get(f"/v2/oras/app/referrers/{subject.digest}").json()
        assert [d["digest"] for d in after["manifests"]] == [sbom_digest]


def test_interop_oras_basic_auth(auth_registry: RunningRegistry, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """oras with Basic credentials pushes and pulls; without them it is refused."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello oras\n")
    wrong = _oras(auth_registry.host, auth_backend="basic")
    wrong.auth.set_basic_auth("ci", "wrong")
    with pytest.raises(ValueError, match=r"401|nauthorized|UNAUTHORIZED"):
        wrong.push(target=f"{auth_registry.host}/oras/notes:1", files=["notes.txt"], quiet=True)
    client = _oras(auth_registry.host, auth_backend="basic")
    client.auth.set_basic_auth("ci", "s3cret")
    assert client.push(target=f"{auth_registry.host}/oras/notes:1", files=["notes.txt"], quiet=True).status_code == 201
    files = client.pull(target=f"{auth_registry.host}/oras/notes:1", outdir=str(tmp_path / "out"))
    assert Path(files[0]).read_text() == "hello oras\n"
