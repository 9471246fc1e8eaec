"""docker-archive: reading skopeo, docker, kaniko and dive archives; writing ones docker load and skopeo accept."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from dockyard.errors import InvalidContent, InvalidManifest, NotFound, Unsupported
from dockyard.image.validate import validate
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image
from dockyard.testing.docker import docker
from dockyard.transports import archive
from dockyard.transports.archive import DockerArchive
from dockyard.transports.blobs import write_artifact
from dockyard.transports.layout import Layout, blob_name
from dockyard.transports.ociarchive import TarBlobSink, TarWriter


def _image(layout_dir: Path, tag: str) -> Image:
    image = Layout.open(layout_dir).get(tag)
    assert isinstance(image, Image)
    return image


def _digests(image: Image) -> list[Digest]:
    m = image.manifest()
    return [image.digest(), m.config.digest, *(d.digest for d in m.layers)]


def test_reads_skopeo_archive(images) -> None:
    source = _image(images.layout, "app")
    arch = DockerArchive.open(images.skopeo_archive)
    assert arch.tags() == ["docker.io/library/busybox:app"]
    image = arch.image("busybox:app")
    validate(image)
    assert arch.image("docker.io/library/busybox:app").digest() == image.digest() == arch.image().digest()
    m = image.manifest()
    assert m.media_type == MediaType.DOCKER_MANIFEST
    assert m.config.media_type == MediaType.DOCKER_CONFIG
    assert m.config.digest == source.manifest().config.digest
    # skopeo stores layers uncompressed: the stored digest is the diff_id
    assert [d.digest for d in m.layers] == list(image.config().diff_ids)
    assert {d.media_type for d in m.layers} == {MediaType.DOCKER_LAYER}


@pytest.mark.parametrize(("name", "tag", "layers", "media_type"), [
    ("test-docker-image.tar", "dive-test:latest", 14, MediaType.DOCKER_LAYER),
    ("test-kaniko-image.tar", "dive-test:kaniko-latest", 14, MediaType.DOCKER_LAYER_GZIP),
])
def test_reads_dive_archives(dive_assets: Path, name: str, tag: str, layers: int, media_type: str) -> None:
    arch = DockerArchive.open(dive_assets / name)
    assert arch.tags() == [tag]
    image = arch.image(tag)
    validate(image)
    assert len(image.layers()) == layers
    assert {layer.descriptor.media_type for layer in image.layers()} == {media_type}
    assert image.config().raw == image.raw_config()


@pytest.mark.parametrize("name", ["test-oci-gzip-image.tar", "test-oci-zstd-image.tar",
                                  "test-oci-uncompressed-image.tar"])
def test_reads_oci_layout_tars_as_docker_archives(dive_assets: Path, name: str) -> None:
    """dive reads these with `--source docker-archive`: a tar with index.json and no manifest.json."""
    arch = DockerArchive.open(dive_assets / name)
    assert arch.entries() == ()
    image = arch.image()
    validate(image)
    assert image.manifest().media_type == MediaType.OCI_MANIFEST


def test_dive_image_config_is_its_legacy_id(dive_assets: Path) -> None:
    image = DockerArchive.open(dive_assets / "test-docker-image.tar").image()
    assert image.manifest().config.digest.encoded == "75ae28b8ebf89b203319069ddcbecdf5c3838503bbebc0d0d85e4b8589c5de3a"


def test_written_archive_round_trips_and_passes_skopeo(images, peer, tmp_path: Path) -> None:
    base, app = _image(images.layout, "base"), _image(images.layout, "app")
    out = tmp_path / "out.tar"
    archive.write(out, [(base, ["busybox:base", "example.com/team/busybox:1"]), (app, ["busybox:app"])])
    names = tarfile.open(out).getnames()
    assert names[:2] == ["blobs", "blobs/sha256"]
    assert names[-4:] == ["index.json", "manifest.json", "oci-layout", "repositories"]
    manifest = json.loads(tarfile.open(out).extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest[0]["RepoTags"] == ["busybox:base", "example.com/team/busybox:1"]
    assert manifest[1]["Config"] == f"blobs/sha256/{app.manifest().config.digest.encoded}"
    index = json.loads(tarfile.open(out).extractfile("index.json").read())  # type: ignore[union-attr]
    assert [m["annotations"] for m in index["manifests"]][:2] == [
        {"io.containerd.image.name": "docker.io/library/busybox:base", "org.opencontainers.image.ref.name": "base"},
        {"io.containerd.image.name": "example.com/team/busybox:1", "org.opencontainers.image.ref.name": "1"},
    ]
    back = DockerArchive.open(out)
    for tag, image in (("busybox:base", base), ("example.com/team/busybox:1", base), ("busybox:app", app)):
        got = back.image(tag)
        validate(got)
        assert got.raw_manifest() == image.raw_manifest()
        assert _digests(got) == _digests(image)
        inspected = json.loads(peer("skopeo", "inspect", f"docker-archive:{out}:{tag}"))
        assert inspected["Layers"] == [str(d) for d in image.config().diff_ids]
    assert [tags for _, tags in back.images()] == [("busybox:base", "example.com/team/busybox:1"), ("busybox:app",)]
    # skopeo copies it on into an OCI layout with every diff_id intact
    peer("skopeo", "copy", f"docker-archive:{out}:busybox:app", f"oci:{tmp_path / 'lay'}:app")
    validate(_image(tmp_path / "lay", "app"))


def test_written_archive_is_deterministic(images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _image(images.layout, "app")
    archive.write(tmp_path / "a.tar", [(app, ["busybox:app"])])
    archive.write(tmp_path / "b.tar", [(app, ["busybox:app"])])
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    archive.write(tmp_path / "c.tar", [(app, ["busybox:app"])])
    with tarfile.open(tmp_path / "c.tar") as tf:
        members = tf.getmembers()
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(1700000000, 0, 0, "", "")}
    assert not list(tmp_path.glob(".*.tmp-*"))


def test_zstd_image_in_docker_archive(images, peer, tmp_path: Path) -> None:
    zstd = _image(images.zstd_layout, "app")
    archive.write(tmp_path / "z.tar", [(zstd, ["busybox:zstd"])])
    got = DockerArchive.open(tmp_path / "z.tar").image("busybox:zstd")
    validate(got)
    assert got.raw_manifest() == zstd.raw_manifest()
    inspected = json.loads(peer("skopeo", "inspect", f"docker-archive:{tmp_path / 'z.tar'}"))
    assert inspected["Layers"] == [str(d) for d in zstd.config().diff_ids]


def test_synthesized_manifest_uses_layer_sources(images, tar_of, tmp_path: Path) -> None:
    """Foreign layers keep the descriptor docker recorded in LayerSources (media type, urls)."""
    base = _image(images.layout, "base")
    layer = base.manifest().layers[0]
    with base.layers()[0].open() as f:
        layer_bytes = f.read()
    foreign = {"mediaType": MediaType.DOCKER_FOREIGN_LAYER, "digest": str(layer.digest), "size": layer.size,
               "urls": ["https://example.invalid/layer"]}
    entry = {"Config": "c.json", "RepoTags": ["f:1"], "Layers": ["l.tar.gz"],
             "LayerSources": {str(base.config().diff_ids[0]): foreign}}
    path = tar_of(tmp_path / "f.tar", {"c.json": base.raw_config(), "l.tar.gz": layer_bytes,
                                       "manifest.json": json.dumps([entry]).encode()})
    got = DockerArchive.open(path).image("f:1")
    validate(got)
    desc = got.manifest().layers[0]
    assert (desc.media_type, desc.digest, desc.urls) == (MediaType.DOCKER_FOREIGN_LAYER, layer.digest,
                                                         ("https://example.invalid/layer",))


def test_compressed_archive_reads(images, tmp_path: Path) -> None:
    gz = tmp_path / "a.tar.gz"
    gz.write_bytes(gzip.compress(images.skopeo_archive.read_bytes()))
    validate(DockerArchive.open(gz).image("busybox:app"))


@pytest.mark.peer("docker")
def test_docker_load_and_run_our_archive(images, docker_host: str, tmp_path: Path) -> None:
    base, zstd = _image(images.layout, "app"), _image(images.zstd_layout, "app")
    out = tmp_path / "load.tar"
    archive.write(out, [(base, ["dockyard-test/busybox:gzip"]), (zstd, ["dockyard-test/busybox:zstd"])])
    loaded = docker(docker_host, "load", "-i", str(out)).stdout.decode()
    assert "dockyard-test/busybox:gzip" in loaded and "dockyard-test/busybox:zstd" in loaded
    for tag, image in (("gzip", base), ("zstd", zstd)):
        ref = f"dockyard-test/busybox:{tag}"
        ran = docker(docker_host, "run", "--rm", "--network", "none", ref,
                     "/bin/sh", "-c", "cat /etc/hello.txt; echo ok")
        assert ran.stdout.decode().splitlines() == ["hello from layer two", "ok"]
        image_id = docker(docker_host, "image", "inspect", "--format", "{{.Id}}", ref).stdout.decode().strip()
        assert image_id == str(image.manifest().config.digest)


@pytest.mark.peer("docker")
def test_reads_docker_save_output(images, docker_host: str, tmp_path: Path) -> None:
    app = _image(images.layout, "app")
    out = tmp_path / "in.tar"
    archive.write(out, [(app, ["dockyard-test/saved:1"])])
    docker(docker_host, "load", "-i", str(out))
    saved = tmp_path / "saved.tar"
    docker(docker_host, "save", "-o", str(saved), "dockyard-test/saved:1")
    image = DockerArchive.open(saved).image("dockyard-test/saved:1")
    validate(image)
    assert image.manifest().config.digest == app.manifest().config.digest
    assert image.config().diff_ids == app.config().diff_ids


# -- bad input ------------------------------------------------------------------------------------------


def test_truncated_archive(images, tmp_path: Path) -> None:
    data = images.skopeo_archive.read_bytes()
    for cut in (len(data) // 2, len(data) - 1024):
        bad = tmp_path / f"cut{cut}.tar"
        bad.write_bytes(data[:cut])
        with pytest.raises(InvalidContent, match=r"truncated"):
            DockerArchive.open(bad)


def test_not_a_tar(tmp_path: Path) -> None:
    (tmp_path / "x.tar").write_bytes(b"definitely not a tar file" * 100)
    with pytest.raises(InvalidContent, match=r"not a valid tar"):
        DockerArchive.open(tmp_path / "x.tar")
    with pytest.raises(NotFound, match=r"does not exist"):
        DockerArchive.open(tmp_path / "missing.tar")


def test_manifest_json_not_json(tar_of, tmp_path: Path) -> None:
    bad = tar_of(tmp_path / "bad.tar", {"manifest.json": b"[{not json"})
    with pytest.raises(InvalidManifest, match=r"manifest.json is not valid JSON"):
        DockerArchive.open(bad)
    bad = tar_of(tmp_path / "bad2.tar", {"manifest.json": b'[{"Config": 3}]'})
    with pytest.raises(InvalidManifest, match=r"manifest.json\[0\] must be an object with a string 'Config'"):
        DockerArchive.open(bad)


def test_no_manifest_json(tar_of, tmp_path: Path) -> None:
    with pytest.raises(InvalidContent, match=r"not a docker-archive: it has no manifest.json"):
        DockerArchive.open(tar_of(tmp_path / "a.tar", {"hello": b"x"}))
    with pytest.raises(Unsupported, match=r"legacy format"):
        DockerArchive.open(tar_of(tmp_path / "b.tar", {"repositories": b"{}"}))


def test_missing_layer_file_and_layer_count(images, tar_of, tmp_path: Path) -> None:
    app = _image(images.layout, "app")
    config = app.raw_config()
    entry = {"Config": "c.json", "RepoTags": ["x:y"], "Layers": ["l1.tar", "l2.tar"]}
    bad = tar_of(tmp_path / "a.tar", {"c.json": config, "manifest.json": json.dumps([entry]).encode()})
    with pytest.raises(NotFound, match=r"has no file l1.tar"):
        DockerArchive.open(bad).image()
    entry["Layers"] = ["l1.tar"]
    bad = tar_of(tmp_path / "b.tar", {"c.json": config, "l1.tar": b"", "manifest.json": json.dumps([entry]).encode()})
    with pytest.raises(InvalidManifest, match=r"lists 1 layers, the config has 2 diff_ids"):
        DockerArchive.open(bad).image()


def test_tag_not_found_lists_tags(images) -> None:
    arch = DockerArchive.open(images.skopeo_archive)
    with pytest.raises(NotFound, match=r"'busybox:nope' not found.*available: docker.io/library/busybox:app"):
        arch.image("busybox:nope")
    with pytest.raises(NotFound, match=r"no image @3"):
        arch.image("@3")
    assert arch.image("@0").digest() == arch.image().digest()


def test_containerd_store_archive_with_partial_index(images, tmp_path: Path) -> None:
    """Docker 25+ with the containerd store saves the whole index, but only the host platform's blobs."""
    app = _image(images.layout, "app")
    missing = Descriptor(MediaType.OCI_MANIFEST, Digest.of(b"absent"), 6, platform=Platform("linux", "arm64"))
    index = IndexManifest.build([missing, app.manifest().descriptor(platform=Platform("linux", "amd64"))])
    m = app.manifest()
    entry = {"Config": blob_name(m.config.digest), "RepoTags": ["busybox:multi"],
             "Layers": [blob_name(d.digest) for d in m.layers]}
    path = tmp_path / "c.tar"
    with open(path, "wb") as out:
        writer = TarWriter(out)
        sink = TarBlobSink(writer)
        write_artifact(sink, app)
        sink.put_blob(index.descriptor(), io.BytesIO(index.raw))
        named = index.descriptor(annotations={"io.containerd.image.name": "docker.io/library/busybox:multi",
                                              "org.opencontainers.image.ref.name": "multi"})
        writer.add_bytes("index.json", IndexManifest.build([named]).raw)
        writer.add_bytes("manifest.json", json.dumps([entry]).encode())
        writer.add_bytes("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        writer.finish()
    got = DockerArchive.open(path).image("busybox:multi")
    validate(got)
    assert got.raw_manifest() == app.raw_manifest()


def test_golden_docker_archive(tiny, tmp_path: Path) -> None:
    """The exact bytes we write for a fixed image: any change to the format shows up here."""
    out = tmp_path / "g.tar"
    archive.write(out, [(tiny, ["tiny:1"])])
    config, layer, manifest = (
        "d7b71075ddd44baf660e60735ac67891114d8d30c5dc94d39fb953971c837fe2",
        "ffeb13b155f7fcdeb9274589c048449447ddc14f30a738e31bd53d8b653a7c63",
        "aebe75518fb0f2e628ff7d7888adc7ccd64fb6b1d9c799a534a28f2477730245",
    )
    with tarfile.open(out) as tf:
        assert tf.getnames() == ["blobs", "blobs/sha256", f"blobs/sha256/{config}", f"blobs/sha256/{layer}",
                                 f"blobs/sha256/{manifest}", "index.json", "manifest.json", "oci-layout",
                                 "repositories"]
        files = {n: tf.extractfile(n).read() for n in ("index.json", "manifest.json", "repositories")}  # type: ignore[union-attr]
    assert files["manifest.json"] == (
        f'[{{"Config":"blobs/sha256/{config}","RepoTags":["tiny:1"],"Layers":["blobs/sha256/{layer}"]}}]\n'
    ).encode()
    assert files["index.json"] == (
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":'
        f'"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest}","size":398,"annotations":'
        '{"io.containerd.image.name":"docker.io/library/tiny:1","org.opencontainers.image.ref.name":"1"}}]}'
    ).encode()
    assert files["repositories"] == f'{{"tiny":{{"1":"{layer}"}}}}\n'.encode()
    assert Digest.of(out.read_bytes()) == Digest.parse(
        "sha256:f19809d853694e7b7ba3d325c24a1923e95745cb1888dd7d493da2e0e833a275")
