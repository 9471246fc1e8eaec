"""Manifests and indexes: real documents from buildx, skopeo and umoci, raw bytes kept, hostile input refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from dockyard.errors import InvalidManifest, LimitExceeded, Unsupported
from dockyard.oci.descriptor import CREATED, REF_NAME, Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest, IndexManifest, parse_any, sniff_media_type
from dockyard.oci.mediatype import EMPTY_DIGEST, EMPTY_JSON, MediaType
from dockyard.oci.platform import Platform

DIVE = "oci/dive-oci-gzip"
MANIFEST_HEX = "7d255e9e3d216a9a92a5c1ce0563a5ddd92f28a34a9df025d3cf8dfa5ea08366"
CONFIG = "sha256:3eaccc100f866490f00ae82727b459a737af031dcf44c791d8aa714a70f24959"
LAYER = "sha256:9aef42427209c9a180c61bb36b0b09681cbe3d3ff6409408bde0eb17ec1ba0cc"
SCHEMA2 = "sha256:c8a660bd67f0fad0a77c5caa178cbb41e1a6cf588c996901c68df7608a0b893e"


def _read(assets: Path, name: str) -> bytes:
    return (assets / name).read_bytes()


def test_buildx_oci_manifest(assets: Path) -> None:
    raw = _read(assets, f"{DIVE}/blobs/sha256/{MANIFEST_HEX}")
    m = ImageManifest.parse(raw)
    assert m.raw is raw
    assert m.media_type == MediaType.OCI_MANIFEST
    assert str(m.digest) == f"sha256:{MANIFEST_HEX}"  # pretty-printed bytes, hashed as they are
    assert m.config == Descriptor(MediaType.OCI_CONFIG, Digest.parse(CONFIG), 452)
    assert m.layers == (Descriptor(MediaType.OCI_LAYER_GZIP, Digest.parse(LAYER), 4132),)
    assert m.annotations == {} and m.subject is None and m.artifact_type is None
    d = m.descriptor()
    assert (d.media_type, d.digest, d.size) == (MediaType.OCI_MANIFEST, m.digest, 477)


def test_buildx_oci_index(assets: Path) -> None:
    raw = _read(assets, f"{DIVE}/index.json")
    idx = IndexManifest.parse(raw)
    assert idx.media_type == MediaType.OCI_INDEX
    assert idx.digest == Digest.of(raw)
    (entry,) = idx.manifests
    assert entry.media_type == MediaType.OCI_MANIFEST
    assert str(entry.digest) == f"sha256:{MANIFEST_HEX}"
    assert entry.size == 477
    assert entry.platform == Platform("linux", "arm64")
    assert entry.annotations == {CREATED: "2025-01-26T22:05:42Z"}
    assert isinstance(parse_any(raw), IndexManifest)


def test_skopeo_docker_schema2(assets: Path) -> None:
    raw = _read(assets, "oci/skopeo-v2s2/manifest.json")
    m = parse_any(raw)
    assert isinstance(m, ImageManifest)
    assert m.media_type == MediaType.DOCKER_MANIFEST
    assert str(m.digest) == SCHEMA2
    assert m.config.media_type == MediaType.DOCKER_CONFIG
    assert str(m.config.digest) == CONFIG  # the same config blob as the OCI original
    assert [(layer.media_type, str(layer.digest), layer.size) for layer in m.layers] == [
        (MediaType.DOCKER_LAYER_GZIP, LAYER, 4132)
    ]


def test_skopeo_docker_manifest_list(assets: Path) -> None:
    raw = _read(assets, "oci/skopeo-v2s2/manifest-list.json")
    idx = parse_any(raw)
    assert isinstance(idx, IndexManifest)
    assert idx.media_type == MediaType.DOCKER_MANIFEST_LIST
    (entry,) = idx.manifests
    assert (entry.media_type, str(entry.digest), entry.size) == (MediaType.DOCKER_MANIFEST, SCHEMA2, 424)
    assert entry.platform == Platform("linux", "arm64")


def test_umoci_manifest_without_media_type_is_sniffed(assets: Path) -> None:
    raw = _read(assets, "oci/umoci/manifest.json")
    assert b"mediaType\":\"application/vnd.oci.image.manifest" not in raw
    assert sniff_media_type(raw) == MediaType.OCI_MANIFEST
    m = parse_any(raw)
    assert isinstance(m, ImageManifest)
    assert m.media_type == MediaType.OCI_MANIFEST
    assert m.layers == ()
    assert str(m.digest) == "sha256:2add331f3b47787ef4144702743e2386bba237783dcc0b5dc17ead70edebefab"


def test_index_without_media_type_is_sniffed() -> None:
    raw = b'{"schemaVersion":2,"manifests":[]}'
    assert sniff_media_type(raw) == MediaType.OCI_INDEX
    idx = parse_any(raw)
    assert isinstance(idx, IndexManifest) and idx.manifests == ()


def test_raw_bytes_are_the_truth() -> None:
    # Odd whitespace, odd key order, escaped slashes, a trailing newline: the digest is of these exact bytes.
    raw = (
        b'\n{ "layers" : [ ],\r\n\t"config":{"size":2,"digest":"' + EMPTY_DIGEST.encode()
        + b'","mediaType":"application\\/vnd.oci.empty.v1+json"},'
        b'  "annotations": {"z":"1","a":"\\u00e9"}, "schemaVersion" :2 }\n'
    )
    m = ImageManifest.parse(raw)
    assert m.raw == raw
    assert m.digest.encoded == hashlib.sha256(raw).hexdigest()
    assert m.descriptor().size == len(raw)
    assert m.config.media_type == MediaType.OCI_EMPTY
    assert m.annotations == {"z": "1", "a": "\u00e9"}
    assert m.digest != ImageManifest.build(m.config, m.layers, annotations=m.annotations).digest


def test_unknown_fields_are_kept_in_raw() -> None:
    doc = {"schemaVersion": 2, "mediaType": MediaType.OCI_MANIFEST.value, "x-vendor": {"deep": [1, 2]},
           "config": {"mediaType": MediaType.OCI_CONFIG.value, "digest": CONFIG, "size": 452, "x": 1},
           "layers": []}
    raw = json.dumps(doc, indent=3).encode()
    assert json.loads(ImageManifest.parse(raw).raw)["x-vendor"] == {"deep": [1, 2]}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"schemaVersion":1,"name":"library/busybox","tag":"latest","architecture":"amd64",'
        b'"fsLayers":[{"blobSum":"' + LAYER.encode() + b'"}],"history":[{"v1Compatibility":"{}"}]}',
        b'{"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws",'
        b'"name":"a","tag":"b","fsLayers":[],"history":[],"signatures":[]}',
        b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v1+json","fsLayers":[]}',
    ],
)
def test_schema1_is_unsupported(raw: bytes) -> None:
    with pytest.raises(Unsupported, match="schema1"):
        parse_any(raw)
    with pytest.raises(Unsupported, match="schema1"):
        ImageManifest.parse(raw)


@pytest.mark.parametrize("version", [b"3", b"0", b'"2"', b"2.0", b"true", b"1.0", b"null", None])
def test_schema_version_must_be_2(version: bytes | None) -> None:
    field = b'"schemaVersion":' + version + b"," if version is not None else b""
    raw = b"{" + field + b'"config":{"mediaType":"x","digest":"' + CONFIG.encode() + b'","size":1},"layers":[]}'
    with pytest.raises(InvalidManifest, match="schemaVersion must be 2"):
        parse_any(raw)
    with pytest.raises(InvalidManifest, match="schemaVersion"):
        IndexManifest.parse(b"{" + field + b'"manifests":[]}')


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not valid JSON"),
        (b"not json", "not valid JSON"),
        (b'{"schemaVersion":2,', "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b'{"a":"\xc3\x28"}', "not valid JSON"),
        (b"[]", "must be a JSON object, got list"),
        (b'[{"schemaVersion":2}]', "must be a JSON object"),
        (b'"manifest"', "must be a JSON object, got str"),
        (b"null", "must be a JSON object"),
        (b"2", "must be a JSON object"),
    ],
)
def test_not_a_json_object(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidManifest, match=message):
        parse_any(raw)


def test_deeply_nested_json() -> None:
    depth = 200_000
    for raw in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
        with pytest.raises(InvalidManifest, match=r"nested too deeply|not valid JSON"):
            parse_any(raw)


def test_oversized_manifest_is_refused_before_parsing() -> None:
    raw = b'{"schemaVersion":2,"annotations":{"pad":"' + b"x" * (5 << 20) + b'"},"config":{},"layers":[]}'
    with pytest.raises((LimitExceeded, InvalidManifest), match="limit"):
        parse_any(raw)
    with pytest.raises((LimitExceeded, InvalidManifest), match="limit"):
        ImageManifest.parse(raw)


def _manifest_with_layer(layer: str) -> bytes:
    return (b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":'
            b'{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"' + CONFIG.encode()
            + b'","size":452},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"'
            + LAYER.encode() + b'","size":1},' + layer.encode() + b"]}")


@pytest.mark.parametrize(
    ("layer", "field"),
    [
        ('{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"' + LAYER + '","size":-5}', "size"),
        ('{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:1234","size":5}', "digest"),
        ('{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"' + LAYER.upper() + '","size":5}',
         "digest"),
        ('{"mediaType":"application/vnd.oci.image.layer.v1.tar","size":5}', "digest"),
        ('{"digest":"' + LAYER + '","size":5}', "mediaType"),
        ('{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"' + LAYER + '","size":"5"}', "size"),
        ('"' + LAYER + '"', "must be a JSON object"),
    ],
)
def test_bad_layer_names_the_field(layer: str, field: str) -> None:
    with pytest.raises(InvalidManifest, match=field) as info:
        ImageManifest.parse(_manifest_with_layer(layer))
    assert "manifest.layers[1]" in info.value.message


def test_bad_config_and_lists() -> None:
    base = {"schemaVersion": 2, "mediaType": MediaType.OCI_MANIFEST.value}
    cases: list[tuple[dict[str, object], str]] = [
        (base, "manifest.config"),
        ({**base, "config": {"mediaType": "x", "digest": "sha256:00", "size": 1}}, "manifest.config"),
        ({**base, "config": {"mediaType": "x", "digest": CONFIG, "size": 1}, "layers": {}}, "layers"),
        ({**base, "config": {"mediaType": "x", "digest": CONFIG, "size": 1}, "annotations": {"a": 1}},
         "annotations"),
        ({**base, "config": {"mediaType": "x", "digest": CONFIG, "size": 1}, "subject": []}, "subject"),
        ({**base, "config": {"mediaType": "x", "digest": CONFIG, "size": 1}, "mediaType": 5}, "mediaType"),
    ]
    for doc, field in cases:
        with pytest.raises(InvalidManifest, match=field):
            ImageManifest.parse(json.dumps(doc).encode())


def test_kind_mismatch() -> None:
    index = IndexManifest.build([]).raw
    manifest = ImageManifest.build(Descriptor.for_bytes(MediaType.OCI_CONFIG, b"{}"), []).raw
    with pytest.raises(InvalidManifest, match="not an image manifest"):
        ImageManifest.parse(index)
    with pytest.raises(InvalidManifest, match="not an image index"):
        IndexManifest.parse(manifest)
    with pytest.raises(InvalidManifest, match="not an image manifest"):
        parse_any(b'{"schemaVersion":2,"mediaType":"application/vnd.example+json","config":{}}')


def test_build_parses_back() -> None:
    config = Descriptor.for_bytes(MediaType.OCI_CONFIG, b'{"architecture":"amd64","os":"linux"}')
    layers = [Descriptor.for_bytes(MediaType.OCI_LAYER_GZIP, b"layer-1"),
              Descriptor.for_bytes(MediaType.OCI_LAYER_ZSTD, b"layer-2", annotations={"k": "v"})]
    m = ImageManifest.build(config, layers, annotations={CREATED: "1970-01-01T00:00:00Z"})
    assert ImageManifest.parse(m.raw) == m
    assert m.config == config
    assert m.layers == tuple(layers)
    assert m.annotations == {CREATED: "1970-01-01T00:00:00Z"}
    assert m.digest == Digest.of(m.raw)
    assert json.loads(m.raw)["schemaVersion"] == 2
    assert list(json.loads(m.raw)) == ["schemaVersion", "mediaType", "config", "layers", "annotations"]
    assert b" " not in m.raw.replace(b"1970-01-01T00:00:00Z", b"")  # compact, like Go's json.Marshal
    # Building again gives the same bytes: builds are deterministic.
    assert ImageManifest.build(config, layers, annotations={CREATED: "1970-01-01T00:00:00Z"}).raw == m.raw


def test_build_docker_schema2() -> None:
    config = Descriptor.for_bytes(MediaType.DOCKER_CONFIG, b"{}")
    m = ImageManifest.build(config, [Descriptor.for_bytes(MediaType.DOCKER_LAYER_GZIP, b"l")],
                            media_type=MediaType.DOCKER_MANIFEST)
    assert parse_any(m.raw) == m
    assert m.media_type == MediaType.DOCKER_MANIFEST


def test_artifact_manifest_with_empty_config_and_subject(assets: Path) -> None:
    subject = ImageManifest.parse(_read(assets, f"{DIVE}/blobs/sha256/{MANIFEST_HEX}")).descriptor()
    empty = Descriptor(MediaType.OCI_EMPTY, Digest.parse(EMPTY_DIGEST), 2, data=EMPTY_JSON)
    assert Digest.of(EMPTY_JSON) == empty.digest
    sbom = Descriptor.for_bytes("application/spdx+json", b'{"spdxVersion":"SPDX-2.3"}',
                                annotations={"org.opencontainers.image.title": "sbom.spdx.json"})
    m = ImageManifest.build(empty, [sbom], subject=subject, artifact_type="application/vnd.example.sbom",
                            annotations={CREATED: "1970-01-01T00:00:00Z"})
    back = ImageManifest.parse(m.raw)
    assert back == m
    assert back.artifact_type == "application/vnd.example.sbom"
    assert back.config.media_type == MediaType.OCI_EMPTY and back.config.data == b"{}"
    assert back.subject == subject
    assert back.subject is not None and str(back.subject.digest) == f"sha256:{MANIFEST_HEX}"
    assert back.layers[0].media_type == "application/spdx+json"
    doc = json.loads(m.raw)
    assert list(doc) == ["schemaVersion", "mediaType", "artifactType", "config", "layers", "subject", "annotations"]
    assert doc["config"] == {"mediaType": MediaType.OCI_EMPTY.value, "digest": EMPTY_DIGEST, "size": 2, "data": "e30="}


def test_handwritten_artifact_manifest() -> None:
    # The shape of the image-spec's artifact example: empty config, one blob, a subject.
    raw = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.example+type",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_DIGEST, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_DIGEST, "size": 2}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": f"sha256:{MANIFEST_HEX}", "size": 477},
        "annotations": {"oci.opencontainers.image.created": "2023-01-02T03:04:05Z"},
    }, indent=2).encode()
    m = parse_any(raw)
    assert isinstance(m, ImageManifest)
    assert m.artifact_type == "application/vnd.example+type"
    assert m.subject is not None and m.subject.size == 477
    assert m.layers[0].digest == m.config.digest


def test_index_build_parses_back() -> None:
    amd = Descriptor.for_bytes(MediaType.OCI_MANIFEST, b"amd", platform=Platform("linux", "amd64"))
    arm = Descriptor.for_bytes(MediaType.OCI_MANIFEST, b"arm", platform=Platform("linux", "arm64", "v8"),
                               annotations={REF_NAME: "v1"})
    att = Descriptor.for_bytes(MediaType.OCI_MANIFEST, b"att", platform=Platform("unknown", "unknown"),
                               annotations={"vnd.docker.reference.type": "attestation-manifest",
                                            "vnd.docker.reference.digest": str(amd.digest)})
    nested = IndexManifest.build([amd]).descriptor()
    idx = IndexManifest.build([amd, arm, att, nested], annotations={"a": "b"}, artifact_type="application/x")
    back = IndexManifest.parse(idx.raw)
    assert back == idx
    assert [d.platform for d in back.manifests] == [amd.platform, arm.platform, att.platform, None]
    assert back.manifests[1].ref_name == "v1"
    assert back.manifests[3].media_type == MediaType.OCI_INDEX
    assert back.artifact_type == "application/x"
    assert idx.descriptor(annotations={REF_NAME: "x"}).ref_name == "x"
    docker = IndexManifest.build([amd], media_type=MediaType.DOCKER_MANIFEST_LIST)
    assert parse_any(docker.raw) == docker


def test_index_bad_entries() -> None:
    with pytest.raises(InvalidManifest, match=r"index.manifests\[0\]"):
        IndexManifest.parse(b'{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:1","size":1}]}')
    with pytest.raises(InvalidManifest, match="manifests"):
        IndexManifest.parse(b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'
                            b'"manifests":{}}')
    with pytest.raises(InvalidManifest, match="platform"):
        IndexManifest.parse(b'{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"' + CONFIG.encode()
                            + b'","size":1,"platform":{"os":"linux"}}]}')
