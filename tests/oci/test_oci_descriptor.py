"""Descriptors: embedded data checked against the digest, optional fields, and a lossless JSON round trip."""

from __future__ import annotations

import base64

import pytest

from dockyard.errors import InvalidManifest, Unsupported
from dockyard.oci.descriptor import REF_NAME, Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.jsonvalue import JSONObject
from dockyard.oci.mediatype import EMPTY_DIGEST, EMPTY_JSON, MediaType
from dockyard.oci.platform import Platform

LAYER = "sha256:9aef42427209c9a180c61bb36b0b09681cbe3d3ff6409408bde0eb17ec1ba0cc"


def _layer(**extra: object) -> JSONObject:
    obj: JSONObject = {"mediaType": MediaType.OCI_LAYER_GZIP.value, "digest": LAYER, "size": 4132}
    obj.update(extra)  # type: ignore[arg-type]
    return obj


def test_minimal() -> None:
    d = Descriptor.from_json(_layer())
    assert d.media_type == MediaType.OCI_LAYER_GZIP
    assert d.digest == Digest.parse(LAYER)
    assert d.size == 4132
    assert d.annotations == {}
    assert d.platform is None and d.artifact_type is None and d.data is None
    assert d.urls == ()
    assert d.to_json() == _layer()


def test_data_matching_digest() -> None:
    d = Descriptor.from_json({"mediaType": MediaType.OCI_EMPTY.value, "digest": EMPTY_DIGEST, "size": 2,
                              "data": "e30="})
    assert d.data == EMPTY_JSON == b"{}"
    assert d.to_json()["data"] == "e30="


def test_data_not_matching_digest() -> None:
    other = base64.b64encode(b"[]").decode()
    with pytest.raises(InvalidManifest, match="embedded data does not match"):
        Descriptor.from_json({"mediaType": MediaType.OCI_EMPTY.value, "digest": EMPTY_DIGEST, "size": 2,
                              "data": other})


def test_data_not_matching_size() -> None:
    with pytest.raises(InvalidManifest, match="embedded data"):
        Descriptor.from_json({"mediaType": MediaType.OCI_EMPTY.value, "digest": EMPTY_DIGEST, "size": 3,
                              "data": "e30="})


@pytest.mark.parametrize("data", ["e30", "!!!!", "e3 0=", 5])
def test_data_not_base64(data: object) -> None:
    with pytest.raises(InvalidManifest, match="data"):
        Descriptor.from_json({"mediaType": MediaType.OCI_EMPTY.value, "digest": EMPTY_DIGEST, "size": 2,
                              "data": data})  # type: ignore[dict-item]


def test_data_sha512() -> None:
    payload = b'{"hello":"world"}'
    digest = Digest.of(payload, "sha512")
    d = Descriptor.from_json({"mediaType": "application/json", "digest": str(digest), "size": len(payload),
                              "data": base64.b64encode(payload).decode()})
    assert d.data == payload


def test_all_fields_round_trip() -> None:
    d = Descriptor(
        media_type=MediaType.OCI_MANIFEST,
        digest=Digest.of(b"manifest"),
        size=8,
        annotations={REF_NAME: "v1", "org.example.note": "x"},
        platform=Platform("linux", "arm64", "v8", None, ()),
        artifact_type="application/vnd.example.sbom+json",
        urls=("https://mirror.example.com/blob",),
        data=b"manifest",
    )
    obj = d.to_json()
    # The order of Go's ocispec.Descriptor, so that re-encoded descriptors look like everyone else's.
    assert list(obj) == ["mediaType", "digest", "size", "urls", "annotations", "data", "platform", "artifactType"]
    assert obj["platform"] == {"architecture": "arm64", "os": "linux", "variant": "v8"}
    assert obj["artifactType"] == "application/vnd.example.sbom+json"
    back = Descriptor.from_json(obj)
    assert back == d
    assert back.ref_name == "v1"


def test_foreign_layer_urls() -> None:
    d = Descriptor.from_json(_layer(mediaType=MediaType.DOCKER_FOREIGN_LAYER.value,
                                    urls=["https://a.example/1", "https://b.example/2"]))
    assert d.urls == ("https://a.example/1", "https://b.example/2")


def test_for_bytes_and_copies() -> None:
    d = Descriptor.for_bytes(MediaType.OCI_CONFIG, b'{"os":"linux"}')
    assert d.digest == Digest.of(b'{"os":"linux"}')
    assert d.size == 14
    annotated = d.with_annotations({REF_NAME: "latest"})
    assert annotated.ref_name == "latest"
    assert d.ref_name is None  # the original is unchanged
    again = annotated.with_annotations({REF_NAME: "v2", "x": "y"})
    assert again.annotations == {REF_NAME: "v2", "x": "y"}
    with_plat = again.with_platform(Platform("linux", "amd64"))
    assert with_plat.platform == Platform("linux", "amd64")
    assert with_plat.annotations == again.annotations
    assert with_plat.with_platform(None).platform is None


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"digest": LAYER, "size": 1}, "mediaType"),
        ({"mediaType": 7, "digest": LAYER, "size": 1}, "mediaType"),
        ({"mediaType": "x", "size": 1}, "digest"),
        ({"mediaType": "x", "digest": "sha256:abc", "size": 1}, "digest"),
        ({"mediaType": "x", "digest": LAYER.upper(), "size": 1}, "digest"),
        ({"mediaType": "x", "digest": LAYER}, "size"),
        ({"mediaType": "x", "digest": LAYER, "size": "1"}, "size"),
        ({"mediaType": "x", "digest": LAYER, "size": 1.0}, "size"),
        ({"mediaType": "x", "digest": LAYER, "size": True}, "size"),
        ({"mediaType": "x", "digest": LAYER, "size": -1}, "size"),
        ({"mediaType": "x", "digest": LAYER, "size": 1, "annotations": []}, "annotations"),
        ({"mediaType": "x", "digest": LAYER, "size": 1, "annotations": {"a": 1}}, "annotations"),
        ({"mediaType": "x", "digest": LAYER, "size": 1, "platform": "linux/amd64"}, "platform"),
        ({"mediaType": "x", "digest": LAYER, "size": 1, "platform": {"os": "linux"}}, "architecture"),
        ({"mediaType": "x", "digest": LAYER, "size": 1, "artifactType": 1}, "artifactType"),
        ({"mediaType": "x", "digest": LAYER, "size": 1, "urls": "https://a.example"}, "urls"),
        ({"mediaType": "x", "digest": LAYER, "size": 1, "urls": [1]}, "urls"),
    ],
)
def test_invalid_fields_are_named(obj: JSONObject, field: str) -> None:
    with pytest.raises(InvalidManifest, match=field) as info:
        Descriptor.from_json(obj, "manifest.layers[3]")
    assert info.value.message.startswith("manifest.layers[3]")


@pytest.mark.parametrize("value", [None, [], "x", 1])
def test_not_an_object(value: object) -> None:
    with pytest.raises(InvalidManifest, match="must be a JSON object"):
        Descriptor.from_json(value)  # type: ignore[arg-type]


def test_unregistered_algorithm_is_unsupported() -> None:
    with pytest.raises(Unsupported, match="sha384"):
        Descriptor.from_json({"mediaType": "x", "digest": "sha384:" + "a" * 96, "size": 1}, "manifest.config")


def test_zero_size_is_valid() -> None:
    d = Descriptor.from_json({"mediaType": "x", "digest": str(Digest.of(b"")), "size": 0})
    assert d.size == 0
