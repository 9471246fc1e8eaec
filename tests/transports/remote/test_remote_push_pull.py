"""Push and pull against a real CNCF distribution registry: images, indexes, artifacts, tags, deletes."""

from __future__ import annotations

import os

import pytest
from remote_testkit import Blobs, FaultProxy, make_artifact, make_image, make_index

from dockyard.errors import Error, InvalidArgument, ManifestUnknown, NotFound
from dockyard.image.validate import validate
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import EMPTY_DIGEST, MediaType
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.testing.cncf import CncfRegistry, free_port
from dockyard.transports import remote
from dockyard.transports.remote import BlobState, Progress, RemoteOptions
from dockyard.transports.store import Store


def test_remote_push_pull_single_image(registry: CncfRegistry, repo: str, busybox: Image) -> None:
    events: list[Progress] = []
    desc = remote.push(busybox, registry.ref(f"{repo}:1"), RemoteOptions(on_progress=events.append))
    assert desc.digest == busybox.digest()
    assert desc.media_type == MediaType.OCI_MANIFEST
    states = {e.state for e in events}
    assert {BlobState.UPLOADED, BlobState.MANIFEST} <= states
    pulled = remote.open_remote(registry.ref(f"{repo}:1"))
    assert isinstance(pulled, Image)
    assert pulled.raw_manifest() == busybox.raw_manifest()
    assert pulled.raw_config() == busybox.raw_config()
    validate(pulled)
    by_digest = remote.open_remote(registry.ref(f"{repo}@{desc.digest}"))
    assert by_digest.digest() == desc.digest
    events.clear()
    remote.push(busybox, registry.ref(f"{repo}:2"), RemoteOptions(on_progress=events.append))
    assert {e.state for e in events if e.state is not BlobState.MANIFEST} == {BlobState.EXISTS}
    assert sorted(remote.list_tags(registry.ref(repo))) == ["1", "2"]


def test_remote_pull_into_store(registry: CncfRegistry, repo: str, busybox: Image) -> None:
    remote.push(busybox, registry.ref(f"{repo}:v1"))
    with Store.open() as store:
        desc = store.write(remote.open_remote(registry.ref(f"{repo}:v1")), [registry.ref(f"{repo}:v1")])
        assert desc.digest == busybox.digest()
        validate(store.get(registry.ref(f"{repo}:v1")))


def test_remote_manifest_raw_and_head(registry: CncfRegistry, repo: str, busybox: Image) -> None:
    remote.push(busybox, registry.ref(f"{repo}:t"))
    raw = remote.get_manifest_raw(registry.ref(f"{repo}:t"))
    assert raw.raw == busybox.raw_manifest()
    assert raw.digest == busybox.digest()
    head = remote.head_digest(registry.ref(f"{repo}:t"))
    assert (head.digest, head.size, head.media_type) == (busybox.digest(), len(raw.raw), MediaType.OCI_MANIFEST)


def test_remote_multiarch_index(registry: CncfRegistry, repo: str, blobs: Blobs) -> None:
    amd = make_image(blobs, Platform("linux", "amd64"), {"arch": b"amd64\n"})
    arm = make_image(blobs, Platform("linux", "arm64", "v8"), {"arch": b"arm64\n"})
    attestation = make_artifact(blobs, "application/vnd.in-toto+json", b'{"_type":"statement"}')
    index = make_index(blobs, [(amd, Platform("linux", "amd64")), (arm, Platform("linux", "arm64", "v8")),
                               (attestation, Platform("unknown", "unknown"))])
    desc = remote.push(index, registry.ref(f"{repo}:multi"))
    assert desc.digest == index.digest()
    assert desc.media_type == MediaType.OCI_INDEX
    pulled = remote.open_remote(registry.ref(f"{repo}:multi"))
    assert isinstance(pulled, ImageIndex)
    assert pulled.raw_manifest() == index.raw_manifest()
    validate(pulled)
    arm_pulled = remote.open_remote(registry.ref(f"{repo}:multi"), platform=Platform.parse("linux/arm64"))
    assert isinstance(arm_pulled, Image)
    assert arm_pulled.digest() == arm.digest()
    with pytest.raises(Error, match="no image for platform"):
        remote.open_remote(registry.ref(f"{repo}:multi"), platform=Platform.parse("unknown/unknown"))
    # Children are reachable by digest on the manifests endpoint too.
    assert remote.get_manifest_raw(registry.ref(f"{repo}@{amd.digest()}")).raw == amd.raw_manifest()


def test_remote_artifact_with_empty_config(registry: CncfRegistry, repo: str, blobs: Blobs) -> None:
    artifact = make_artifact(blobs, "application/vnd.dockyard.sbom+json", b'{"packages":[]}',
                             annotations={"org.example": "yes"})
    remote.push(artifact, registry.ref(f"{repo}:sbom"))
    pulled = remote.open_remote(registry.ref(f"{repo}:sbom"))
    assert isinstance(pulled, Image)
    manifest = pulled.manifest()
    assert manifest.artifact_type == "application/vnd.dockyard.sbom+json"
    assert manifest.config.media_type == MediaType.OCI_EMPTY
    assert str(manifest.config.digest) == EMPTY_DIGEST
    assert pulled.raw_config() == b"{}"
    with pulled.layers()[0].open() as stream:
        assert stream.read() == b'{"packages":[]}'


def test_remote_delete(registry: CncfRegistry, repo: str, blobs: Blobs) -> None:
    image = make_image(blobs, Platform("linux", "amd64"), {"gone": b"soon\n"})
    remote.push(image, registry.ref(f"{repo}:del"))
    assert remote.delete(registry.ref(f"{repo}:del")) == image.digest()
    with pytest.raises(ManifestUnknown):
        remote.open_remote(registry.ref(f"{repo}:del"))
    with pytest.raises(ManifestUnknown):
        remote.delete(registry.ref(f"{repo}@{image.digest()}"))


def test_remote_unknown_tag_is_manifest_unknown(registry: CncfRegistry, repo: str, busybox: Image) -> None:
    remote.push(busybox, registry.ref(f"{repo}:exists"))
    with pytest.raises(ManifestUnknown, match=rf"{repo}:missing"):
        remote.open_remote(registry.ref(f"{repo}:missing"))
    with pytest.raises(ManifestUnknown):
        remote.head_digest(registry.ref(f"{repo}:missing"))
    with pytest.raises(ManifestUnknown):
        remote.open_remote(registry.ref("never-pushed-repository:latest"))


def test_remote_connection_refused_names_registry() -> None:
    host = f"127.0.0.1:{free_port()}"
    with pytest.raises(Error) as info:
        remote.open_remote(f"{host}/x:1")
    assert info.value.message == f"cannot connect to registry {host}: connection refused"


def test_remote_chunked_upload(registry: CncfRegistry, repo: str, blobs: Blobs) -> None:
    """Blobs over the monolithic limit go up with PATCH; here in several Content-Range pieces."""
    image = make_image(blobs, Platform("linux", "amd64"), {"big": os.urandom(3 << 20)})
    options = RemoteOptions(monolithic_limit=1 << 20, chunk_size=1 << 20)
    remote.push(image, registry.ref(f"{repo}:big"), options)
    pulled = remote.open_remote(registry.ref(f"{repo}:big"))
    validate(pulled)
    single = RemoteOptions(monolithic_limit=1024)  # one streamed PATCH
    other = make_image(blobs, Platform("linux", "amd64"), {"big2": os.urandom(2 << 20)})
    remote.push(other, registry.ref(f"{repo}:big2"), single)
    validate(remote.open_remote(registry.ref(f"{repo}:big2")))


def test_remote_cross_repository_mount(registry: CncfRegistry, repo: str, busybox: Image) -> None:
    remote.push(busybox, registry.ref(f"{repo}-a:1"))
    source = remote.open_remote(registry.ref(f"{repo}-a:1"))
    events: list[Progress] = []
    remote.push(source, registry.ref(f"{repo}-b:1"), RemoteOptions(on_progress=events.append))
    blob_states = [e.state for e in events if e.state is not BlobState.MANIFEST]
    assert blob_states == [BlobState.MOUNTED, BlobState.MOUNTED]
    validate(remote.open_remote(registry.ref(f"{repo}-b:1")))


def test_remote_tags_pagination_and_catalog(registry: CncfRegistry, repo: str, blobs: Blobs) -> None:
    image = make_image(blobs, Platform("linux", "amd64"), {"t": b"tags\n"})
    tags = [f"t{i:02d}" for i in range(7)]
    for tag in tags:
        remote.push(image, registry.ref(f"{repo}:{tag}"))
        remote.push(image, registry.ref(f"{repo}-{tag}:x"))
    # distribution 2.8 ignores `n` on tags/list and answers in no order; _catalog does paginate.
    assert sorted(remote.list_tags(registry.ref(repo), page_size=3)) == tags
    repositories = remote.catalog(registry.host, page_size=2)
    assert len(repositories) == len(set(repositories))
    assert {repo, *(f"{repo}-{t}" for t in tags)} <= set(repositories)


def test_remote_push_by_digest_must_match(registry: CncfRegistry, repo: str, blobs: Blobs) -> None:
    image = make_image(blobs, Platform("linux", "amd64"), {"d": b"digest\n"})
    desc = remote.push(image, registry.ref(f"{repo}@{image.digest()}"))
    assert desc.digest == image.digest()
    with pytest.raises(NotFound, match="repository name not known"):  # no tag at all: distribution says NAME_UNKNOWN
        remote.list_tags(registry.ref(repo))
    assert remote.get_manifest_raw(registry.ref(f"{repo}@{image.digest()}")).raw == image.raw_manifest()
    wrong = Digest.of(b"something else")
    with pytest.raises(InvalidArgument):
        remote.push(image, registry.ref(f"{repo}@{wrong}"))


def test_remote_referrers_fallback_tag(registry: CncfRegistry, repo: str, blobs: Blobs) -> None:
    """distribution 2.8 has no referrers API: attach maintains the `sha256-<hex>` index, list reads it."""
    image = make_image(blobs, Platform("linux", "amd64"), {"subject": b"me\n"})
    subject = remote.push(image, registry.ref(f"{repo}:app"))
    assert remote.list_referrers(registry.ref(f"{repo}:app")) == []
    sig = make_artifact(blobs, "application/vnd.dev.cosign.artifact.sig.v1+json", b"sig", subject=subject,
                        annotations={"kind": "sig"})
    sbom = make_artifact(blobs, "application/spdx+json", b"{}", subject=subject)
    remote.attach(registry.ref(f"{repo}:app"), sig)
    remote.attach(registry.ref(f"{repo}@{subject.digest}"), sbom)
    remote.attach(registry.ref(f"{repo}:app"), sig)  # again: listed once
    found = remote.list_referrers(registry.ref(f"{repo}:app"))
    assert [d.digest for d in found] == [sig.digest(), sbom.digest()]
    assert found[0].artifact_type == "application/vnd.dev.cosign.artifact.sig.v1+json"
    assert found[0].annotations == {"kind": "sig"}
    only = remote.list_referrers(registry.ref(f"{repo}:app"), artifact_type="application/spdx+json")
    assert [d.digest for d in only] == [sbom.digest()]
    tag = f"sha256-{subject.digest.encoded}"
    assert tag in remote.list_tags(registry.ref(repo))
    unrelated = make_artifact(blobs, "application/x", b"x")
    with pytest.raises(InvalidArgument, match="subject"):
        remote.attach(registry.ref(f"{repo}:app"), unrelated)


def test_remote_referrers_api(registry: CncfRegistry, fault_proxy: FaultProxy, repo: str, blobs: Blobs) -> None:
    """Against an OCI 1.1 registry (emulated by the proxy): `OCI-Subject` answered, so no fallback tag."""
    fault_proxy.referrers_api = True
    image = make_image(blobs, Platform("linux", "amd64"), {"subject": b"api\n"})
    subject = remote.push(image, f"{fault_proxy.host}/{repo}:app")
    sig = make_artifact(blobs, "application/vnd.dev.sigstore.bundle.v0.3+json", b"bundle", subject=subject)
    sbom = make_artifact(blobs, "application/spdx+json", b"{}", subject=subject)
    for artifact in (sig, sbom):
        remote.attach(f"{fault_proxy.host}/{repo}:app", artifact)
    assert remote.list_tags(registry.ref(repo)) == ["app"]
    found = remote.list_referrers(f"{fault_proxy.host}/{repo}@{subject.digest}")
    assert [d.digest for d in found] == [sig.digest(), sbom.digest()]
    only = remote.list_referrers(f"{fault_proxy.host}/{repo}:app", artifact_type="application/spdx+json")
    assert [d.digest for d in only] == [sbom.digest()]
    assert any("/referrers/" in path and "artifactType=" in path for _, path, _ in fault_proxy.seen)
