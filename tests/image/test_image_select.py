"""Choosing an image out of an index by platform, over real blob-backed images and indexes."""

from __future__ import annotations

from pathlib import Path

import pytest
from image_testkit import MemorySource, put_image, put_index

from dockyard.errors import NotFound
from dockyard.image.select import platform_entries, select_image
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.transports.blobs import BlobImage, BlobIndex

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64", "v8")
UNKNOWN = Platform("unknown", "unknown")


def _multi(source: MemorySource) -> BlobIndex:
    """An index as BuildKit pushes it: an attestation entry first, then amd64 and arm64/v8."""
    attestation = put_image(source, UNKNOWN, {"intoto.json": b"{}"})
    amd = put_image(source, AMD64, {"arch": b"amd64"})
    arm = put_image(source, ARM64, {"arch": b"arm64"})
    index = put_index(source, [
        attestation.descriptor(platform=UNKNOWN,
                               annotations={"vnd.docker.reference.type": "attestation-manifest"}),
        amd.descriptor(platform=AMD64),
        arm.descriptor(platform=ARM64),
    ])
    return BlobIndex(source, index.raw)


def _arch(image: Image) -> str:
    return str(image.config().platform)


@pytest.mark.parametrize(
    ("want", "got"),
    [
        ("linux/amd64", "linux/amd64"),
        ("x86_64", "linux/amd64"),
        ("amd64", "linux/amd64"),
        ("linux/arm64", "linux/arm64/v8"),
        ("linux/arm64/v8", "linux/arm64/v8"),
        ("arm64", "linux/arm64/v8"),
        ("aarch64", "linux/arm64/v8"),
    ],
)
def test_select_by_platform(want: str, got: str) -> None:
    index = _multi(MemorySource())
    image = select_image(index, Platform.parse(want))
    assert isinstance(image, Image)
    assert _arch(image) == got
    # The chosen image is the very one the index lists for that platform.
    listed = [d for d in index.manifests() if d.platform is not None and str(d.platform) == got]
    assert [d.digest for d in listed] == [image.digest()]


def test_select_defaults_to_host() -> None:
    host = Platform.host()
    if host.architecture not in ("amd64", "arm64"):
        pytest.skip(f"host {host} is not in the test index")
    assert select_image(_multi(MemorySource())).config().architecture == host.architecture


def test_attestations_are_never_chosen() -> None:
    index = _multi(MemorySource())
    with pytest.raises(NotFound):
        select_image(index, UNKNOWN)


def test_no_match_lists_available_platforms() -> None:
    index = _multi(MemorySource())
    with pytest.raises(NotFound) as info:
        select_image(index, Platform.parse("linux/s390x"))
    err = info.value
    assert "linux/s390x" in err.message
    assert str(index.digest()) in err.message
    assert err.diagnostics().endswith("(available: linux/amd64, linux/arm64/v8)")
    assert "unknown" not in err.diagnostics()


def test_variant_mismatch_is_not_found() -> None:
    with pytest.raises(NotFound, match="linux/arm64/v9"):
        select_image(_multi(MemorySource()), Platform.parse("linux/arm64/v9"))


def test_image_is_returned_as_is() -> None:
    source = MemorySource()
    image = BlobImage(source, put_image(source, AMD64, {"a": b"a"}).raw)
    assert select_image(image, ARM64) is image


def test_nested_indexes() -> None:
    source = MemorySource()
    inner = _multi(source)
    ppc = put_image(source, Platform("linux", "ppc64le"), {"arch": b"ppc"})
    other = put_index(source, [ppc.descriptor(platform=Platform("linux", "ppc64le"))])
    outer = BlobIndex(source, put_index(source, [inner.index_manifest().descriptor(),
                                                 other.descriptor()]).raw)
    assert _arch(select_image(outer, Platform.parse("linux/ppc64le"))) == "linux/ppc64le"
    assert _arch(select_image(outer, Platform.parse("arm64"))) == "linux/arm64/v8"
    entries = list(platform_entries(outer))
    assert [str(d.platform) for d, _ in entries] == ["unknown/unknown", "linux/amd64", "linux/arm64/v8",
                                                     "linux/ppc64le"]
    assert isinstance(entries[0][1], ImageIndex)
    assert entries[0][1].digest() == inner.digest()
    assert entries[3][1].digest() == other.digest
    with pytest.raises(NotFound) as info:
        select_image(outer, Platform.parse("windows/amd64"))
    assert "linux/amd64, linux/arm64/v8, linux/ppc64le" in info.value.diagnostics()


def test_arm_variant_preference() -> None:
    source = MemorySource()
    entries = []
    for variant in ("v5", "v6", "v7"):
        plat = Platform("linux", "arm", variant)
        entries.append(put_image(source, plat, {"v": variant.encode()}).descriptor(platform=plat))
    index = BlobIndex(source, put_index(source, entries).raw)
    assert _arch(select_image(index, Platform.parse("linux/arm"))) == "linux/arm/v7"  # not the first listed
    assert _arch(select_image(index, Platform.parse("linux/arm/v6"))) == "linux/arm/v6"
    assert _arch(select_image(index, Platform.parse("armel"))) == "linux/arm/v6"
    assert _arch(select_image(index, Platform.parse("armhf"))) == "linux/arm/v7"


def test_entries_without_platform() -> None:
    source = MemorySource()
    plain = put_image(source, Platform("linux", "riscv64"), {"a": b"1"})
    amd = put_image(source, AMD64, {"a": b"2"})
    only_plain = BlobIndex(source, put_index(source, [plain.descriptor()]).raw)
    # With nothing better, an entry without a platform is taken as it is.
    assert select_image(only_plain, AMD64).digest() == plain.digest
    both = BlobIndex(source, put_index(source, [plain.descriptor(), amd.descriptor(platform=AMD64)]).raw)
    assert select_image(both, AMD64).digest() == amd.digest


def test_real_buildx_index(assets: Path) -> None:
    source = MemorySource()
    index = BlobIndex(source, source.load_layout(assets / "oci/dive-oci-gzip"))
    image = select_image(index, Platform.parse("linux/arm64"))
    assert str(image.digest()) == "sha256:7d255e9e3d216a9a92a5c1ce0563a5ddd92f28a34a9df025d3cf8dfa5ea08366"
    assert image.config().architecture == "arm64"
    with pytest.raises(NotFound) as info:
        select_image(index, AMD64)
    assert "available: linux/arm64" in info.value.diagnostics()


def test_real_docker_manifest_list(assets: Path) -> None:
    source = MemorySource()
    source.load_layout(assets / "oci/dive-oci-gzip")
    schema2 = source.put(MediaType.DOCKER_MANIFEST, (assets / "oci/skopeo-v2s2/manifest.json").read_bytes())
    index = BlobIndex(source, (assets / "oci/skopeo-v2s2/manifest-list.json").read_bytes())
    assert index.index_manifest().media_type == MediaType.DOCKER_MANIFEST_LIST
    image = select_image(index, Platform.parse("arm64"))
    assert image.digest() == schema2.digest
    assert image.manifest().media_type == MediaType.DOCKER_MANIFEST
    assert image.config().platform == Platform("linux", "arm64")
