"""skopeo against `dockyard serve`: OCI and Docker schema2, gzip and zstd layers, a multi-arch index, round trips.

"Round trip" means the manifest digest skopeo pushed is the one the registry reports and the one that comes
back out: `dir:` keeps the manifest bytes as served, and an unchanged re-push lands on the same digest.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
from interop_support import Images, Skopeo

from dockyard.oci.mediatype import MediaType
from dockyard.testing.registry import RunningRegistry


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layout_digest(layout: Path, tag: str) -> str:
    for entry in json.loads((layout / "index.json").read_text())["manifests"]:
        if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return str(entry["digest"])
    raise AssertionError(f"tag {tag} not in {layout}")


def _served(reg: RunningRegistry, name: str, reference: str, accept: str) -> httpx.Response:
    with httpx.Client(base_url=reg.url, timeout=30) as client:
        response = client.get(f"/v2/{name}/manifests/{reference}", headers={"Accept": accept})
    response.raise_for_status()
    return response


def test_interop_skopeo_oci_round_trip(registry: RunningRegistry, images: Images, skopeo: Skopeo,
                                       tmp_path: Path) -> None:
    """An OCI image goes in unchanged (same digest), comes back out to an OCI layout byte for byte."""
    dest = f"docker://{registry.host}/skopeo/oci:1"
    skopeo.copy(images.ref("1"), dest)
    raw = skopeo.raw(dest)
    assert _sha256(raw) == images.digests["1"]
    served = _served(registry, "skopeo/oci", "1", MediaType.OCI_MANIFEST)
    assert served.headers["Docker-Content-Digest"] == images.digests["1"]
    assert served.headers["Content-Type"] == MediaType.OCI_MANIFEST
    back = tmp_path / "back"
    skopeo.copy(dest, f"oci:{back}:1")
    assert _layout_digest(back, "1") == images.digests["1"]
    for blob in (back / "blobs" / "sha256").iterdir():
        assert blob.read_bytes() == (images.layout / "blobs" / "sha256" / blob.name).read_bytes()
    assert json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{registry.host}/skopeo/oci").stdout)[
        "Tags"] == ["1"]


@pytest.mark.parametrize(("fmt", "compress", "manifest_type", "layer_type"), [
    ("v2s2", None, MediaType.DOCKER_MANIFEST, MediaType.DOCKER_LAYER_GZIP),
    ("oci", "zstd", MediaType.OCI_MANIFEST, MediaType.OCI_LAYER_ZSTD),
    ("oci", "gzip", MediaType.OCI_MANIFEST, MediaType.OCI_LAYER_GZIP),
], ids=["docker-v2s2-gzip", "oci-zstd", "oci-gzip-recompressed"])
def test_interop_skopeo_converted(registry: RunningRegistry, images: Images, skopeo: Skopeo, tmp_path: Path,
                                  fmt: str, compress: str | None, manifest_type: str, layer_type: str) -> None:
    """skopeo converts on the way in (schema2, zstd); what the registry stores comes back with the same digest."""
    dest = f"docker://{registry.host}/skopeo/{fmt}-{compress or 'keep'}:1"
    extra = ["--format", fmt]
    if compress:
        extra += ["--dest-compress", "--dest-compress-format", compress]
    skopeo.copy(images.ref("1"), dest, *extra)
    raw = skopeo.raw(dest)
    manifest = json.loads(raw)
    assert manifest["mediaType"] == manifest_type
    assert [layer["mediaType"] for layer in manifest["layers"]] == [layer_type]
    digest = _sha256(raw)
    served = _served(registry, dest.split("/", 3)[3].split(":", maxsplit=1)[0], "1", manifest_type)
    assert served.headers["Docker-Content-Digest"] == digest
    assert served.content == raw
    saved = tmp_path / "dir"
    skopeo.copy(dest, f"dir:{saved}")
    assert _sha256((saved / "manifest.json").read_bytes()) == digest
    again = f"docker://{registry.host}/skopeo/again:{fmt}"
    skopeo.copy(f"dir:{saved}", again)
    assert _sha256(skopeo.raw(again)) == digest


def test_interop_skopeo_dockyard_zstd_layer(registry: RunningRegistry, images: Images, skopeo: Skopeo,
                                            tmp_path: Path) -> None:
    """A zstd image made by dockyard is pushed as is and pulled back as is."""
    dest = f"docker://{registry.host}/skopeo/zstd:1"
    skopeo.copy(images.ref("zstd"), dest)
    raw = skopeo.raw(dest)
    assert _sha256(raw) == images.digests["zstd"]
    assert json.loads(raw)["layers"][0]["mediaType"] == MediaType.OCI_LAYER_ZSTD
    back = tmp_path / "back"
    skopeo.copy(dest, f"oci:{back}:z")
    assert _layout_digest(back, "z") == images.digests["zstd"]


@pytest.mark.parametrize("fmt", ["oci", "v2s2"])
def test_interop_skopeo_multi_arch(registry: RunningRegistry, images: Images, skopeo: Skopeo, tmp_path: Path,
                                   fmt: str) -> None:
    """`--all` pushes an index and both platform images; registry-to-registry and back out keep every digest."""
    first = f"docker://{registry.host}/skopeo/multi:{fmt}"
    skopeo.copy(images.ref("multi"), first, "--all", *(["--format", fmt] if fmt != "oci" else []))
    raw = skopeo.raw(first)
    index = json.loads(raw)
    if fmt == "oci":
        assert _sha256(raw) == images.digests["multi"]
        assert index["mediaType"] == MediaType.OCI_INDEX
    else:
        assert index["mediaType"] == MediaType.DOCKER_MANIFEST_LIST
    platforms = sorted(m["platform"]["architecture"] for m in index["manifests"])
    assert platforms == ["amd64", "arm64"]
    for child in index["manifests"]:  # every child manifest is there, by digest
        by_digest = f"docker://{registry.host}/skopeo/multi@{child['digest']}"
        assert _sha256(skopeo.raw(by_digest)) == child["digest"]
    second = f"docker://{registry.host}/mirror/multi:{fmt}"
    skopeo.copy(first, second, "--all")  # blobs cross repositories (mount or upload)
    assert skopeo.raw(second) == raw
    back = tmp_path / "back"
    if fmt == "oci":
        skopeo.copy(second, f"oci:{back}:all", "--all")
        assert _layout_digest(back, "all") == _sha256(raw)
    else:  # an OCI layout would hold an OCI index: `dir:` keeps the manifest list as served
        skopeo.copy(second, f"dir:{back}", "--all")
        assert (back / "manifest.json").read_bytes() == raw
    arm = tmp_path / "arm"
    skopeo.copy(second, f"dir:{arm}", "--override-arch", "arm64")  # one platform picked from the index
    arm_digest = next(m["digest"] for m in index["manifests"] if m["platform"]["architecture"] == "arm64")
    assert _sha256((arm / "manifest.json").read_bytes()) == arm_digest


def test_interop_skopeo_basic_auth(auth_registry: RunningRegistry, images: Images, skopeo: Skopeo,
                                   tmp_path: Path) -> None:
    """`--dest-creds` / `--src-creds` against an htpasswd registry; anonymous and wrong credentials are refused."""
    dest = f"docker://{auth_registry.host}/private/busybox:1"
    anonymous = skopeo.copy(images.ref("1"), dest, check=False)
    assert anonymous.returncode != 0 and "unauthorized" in anonymous.stderr.lower()
    wrong = skopeo.copy(images.ref("1"), dest, "--dest-creds", "ci:wrong", check=False)
    assert wrong.returncode != 0
    skopeo.copy(images.ref("1"), dest, "--dest-creds", "ci:s3cret")
    assert _sha256(skopeo.raw(dest, "--creds", "ci:s3cret")) == images.digests["1"]
    assert skopeo("inspect", "--raw", "--tls-verify=false", dest, check=False).returncode != 0
    back = tmp_path / "back"
    skopeo.copy(dest, f"oci:{back}:1", "--src-creds", "ci:s3cret")
    assert _layout_digest(back, "1") == images.digests["1"]
