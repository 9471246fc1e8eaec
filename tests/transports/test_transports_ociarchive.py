"""oci-archive: reading dive/skopeo archives in place, writing ones skopeo reads, and the full round trip."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from dockyard.errors import BlobUnknown, DigestMismatch, InvalidContent, InvalidManifest, NotFound
from dockyard.image.validate import validate
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.transports import archive, ociarchive
from dockyard.transports import layout as oci_layout
from dockyard.transports.archive import DockerArchive
from dockyard.transports.layout import Layout
from dockyard.transports.ociarchive import OciArchive, TarMembers


def _image(artifact: Image | ImageIndex) -> Image:
    assert isinstance(artifact, Image)
    return artifact


def _digests(image: Image) -> list[Digest]:
    m = image.manifest()
    return [image.digest(), m.config.digest, *(d.digest for d in m.layers)]


@pytest.mark.parametrize(("name", "media_type"), [
    ("test-oci-gzip-image.tar", MediaType.OCI_LAYER_GZIP),
    ("test-oci-zstd-image.tar", MediaType.OCI_LAYER_ZSTD),
    ("test-oci-uncompressed-image.tar", MediaType.OCI_LAYER),
])
def test_reads_dive_oci_archives(dive_assets: Path, name: str, media_type: str) -> None:
    arch = OciArchive.open(dive_assets / name)
    assert len(arch.entries()) == 1
    assert arch.entries()[0].platform == Platform("linux", "arm64")
    image = _image(arch.get())
    validate(image)
    assert [layer.descriptor.media_type for layer in image.layers()] == [media_type]
    assert arch.get_digest(image.digest()).digest() == image.digest()


def test_reads_skopeo_oci_archive(images, peer, tmp_path: Path) -> None:
    source = _image(Layout.open(images.layout).get("app"))
    out = tmp_path / "s.tar"
    peer("skopeo", "copy", f"oci:{images.layout}:app", f"oci-archive:{out}:app")
    arch = OciArchive.open(out)
    image = _image(arch.get("app"))
    validate(image)
    assert _digests(image) == _digests(source)


def test_written_oci_archive_passes_skopeo(images, peer, tmp_path: Path) -> None:
    layout = Layout.open(images.layout)
    base, app = _image(layout.get("base")), _image(layout.get("app"))
    out = tmp_path / "o.tar"
    entries = ociarchive.write_many(out, [(base, "base"), (app, "app"), (app, "again")])
    assert [e.ref_name for e in entries] == ["base", "app", "again"]
    for tag, image in (("base", base), ("app", app), ("again", app)):
        assert json.loads(peer("skopeo", "inspect", f"oci-archive:{out}:{tag}"))["Digest"] == str(image.digest())
        got = _image(OciArchive.open(out).get(tag))
        validate(got)
        assert got.raw_manifest() == image.raw_manifest()
    with tarfile.open(out) as tf:
        names = tf.getnames()
    assert names[:2] == ["blobs", "blobs/sha256"] and names[-2:] == ["index.json", "oci-layout"]
    assert len(names) == len(set(names)) == 2 + len(set(_digests(base) + _digests(app))) + 2
    ociarchive.write_many(tmp_path / "o2.tar", [(base, "base"), (app, "app"), (app, "again")])
    assert out.read_bytes() == (tmp_path / "o2.tar").read_bytes()


def test_index_in_oci_archive(images, peer, tmp_path: Path) -> None:
    layout = Layout.open(images.copy_layout(tmp_path / "l"))
    base, app = _image(layout.get("base")), _image(layout.get("app"))
    index = IndexManifest.build([base.manifest().descriptor(platform=Platform("linux", "amd64")),
                                 app.manifest().descriptor(platform=Platform("linux", "arm64"))])
    layout.put_blob(index.descriptor(), io.BytesIO(index.raw))
    layout.add(index.descriptor(), "multi")
    multi = layout.get("multi")
    out = tmp_path / "m.tar"
    ociarchive.write(out, multi, "multi")
    got = OciArchive.open(out).get("multi")
    assert isinstance(got, ImageIndex)
    validate(got)
    assert got.raw_manifest() == index.raw
    raw = json.loads(peer("skopeo", "inspect", "--raw", f"oci-archive:{out}:multi"))
    assert [m["platform"]["architecture"] for m in raw["manifests"]] == ["amd64", "arm64"]


@pytest.mark.parametrize("source", ["layout", "zstd_layout"])
def test_round_trip_layout_docker_archive_oci_archive_layout(images, tmp_path: Path, source: str) -> None:
    """layout -> docker-archive -> oci-archive -> layout keeps every manifest, config and layer byte-exact."""
    start = Layout.open(getattr(images, source))
    originals = [_image(start.get(t)) for t in start.tags()]
    archive.write(tmp_path / "d.tar", [(img, [f"busybox:{t}"]) for img, t in zip(originals, start.tags(), strict=True)])
    docker_images = DockerArchive.open(tmp_path / "d.tar").images()
    ociarchive.write_many(tmp_path / "o.tar", [(img, tags[0].split(":")[1]) for img, tags in docker_images])
    oci = OciArchive.open(tmp_path / "o.tar")
    for tag in oci.tags():
        oci_layout.write(tmp_path / "end", oci.get(tag), tag)
    end = Layout.open(tmp_path / "end")
    assert end.tags() == start.tags()
    for tag, original in zip(start.tags(), originals, strict=True):
        final = _image(end.get(tag))
        validate(final)
        assert final.raw_manifest() == original.raw_manifest()
        assert final.raw_config() == original.raw_config()
        assert _digests(final) == _digests(original)
        for a, b in zip(final.layers(), original.layers(), strict=True):
            with a.open() as fa, b.open() as fb:
                assert Digest.of_stream(fa) == Digest.of_stream(fb)
    assert set(end.blobs()) == end.blobs_in_use()


def test_tar_members_follow_links_and_stay_inside(tmp_path: Path) -> None:
    path = tmp_path / "links.tar"
    with tarfile.open(path, "w") as tf:
        for name, data in (("./dir/real", b"payload"),):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, kind, target in (("dir/sym", tarfile.SYMTYPE, "real"), ("hard", tarfile.LNKTYPE, "dir/real"),
                                   ("escape", tarfile.SYMTYPE, "../../etc/passwd")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tf.addfile(info)
    members = TarMembers.scan(path)
    for name in ("dir/real", "dir/sym", "hard", "./hard"):
        with members.open(name) as f:
            assert f.read() == b"payload"
    assert "escape" not in members
    with pytest.raises(NotFound, match=r"has no file escape"):
        members.open("escape")


# -- bad input ------------------------------------------------------------------------------------------


def _rewrite(src: Path, dest: Path, drop: str | None = None, replace: dict[str, bytes] | None = None) -> Path:
    with tarfile.open(src) as tin, tarfile.open(dest, "w") as tout:
        for m in tin.getmembers():
            if m.name == drop:
                continue
            data = (replace or {}).get(m.name)
            f = tin.extractfile(m) if data is None and m.isreg() else None
            if data is not None:
                m.size = len(data)
                f = io.BytesIO(data)
            tout.addfile(m, f)
    return dest


def test_missing_blob_in_archive(dive_assets: Path, tmp_path: Path) -> None:
    src = dive_assets / "test-oci-gzip-image.tar"
    layer = _image(OciArchive.open(src).get()).manifest().layers[0].digest
    bad = _rewrite(src, tmp_path / "bad.tar", drop=f"blobs/sha256/{layer.encoded}")
    image = _image(OciArchive.open(bad).get())
    with pytest.raises(BlobUnknown, match=str(layer)):
        validate(image)


def test_wrong_blob_content_in_archive(dive_assets: Path, tmp_path: Path) -> None:
    src = dive_assets / "test-oci-gzip-image.tar"
    image = _image(OciArchive.open(src).get())
    config = image.manifest().config.digest
    swapped = image.raw_config().replace(b"arm64", b"amd64")
    bad = _rewrite(src, tmp_path / "bad.tar", replace={f"blobs/sha256/{config.encoded}": swapped})
    with pytest.raises(DigestMismatch, match=str(config)):
        _image(OciArchive.open(bad).get()).config()


def test_not_an_oci_archive(images, dive_assets: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidContent, match=r"not an OCI layout: it needs oci-layout and index.json"):
        OciArchive.open(images.skopeo_archive)
    data = (dive_assets / "test-oci-zstd-image.tar").read_bytes()
    (tmp_path / "t.tar").write_bytes(data[:3000])
    with pytest.raises(InvalidContent, match=r"truncated"):
        OciArchive.open(tmp_path / "t.tar")


def test_bad_index_descriptor_in_archive(dive_assets: Path, tmp_path: Path) -> None:
    src = dive_assets / "test-oci-gzip-image.tar"
    index = json.loads(tarfile.open(src).extractfile("index.json").read())  # type: ignore[union-attr]
    index["manifests"][0]["mediaType"] = 7
    bad = _rewrite(src, tmp_path / "bad.tar", replace={"index.json": json.dumps(index).encode()})
    with pytest.raises(InvalidManifest, match=r"index.json.manifests\[0\]: field 'mediaType' must be a string"):
        OciArchive.open(bad)
    with pytest.raises(NotFound, match=r"'nope' not found"):
        OciArchive.open(src).get("nope")


def test_tar_blob_sink_writes_blob_members(tmp_path: Path) -> None:
    data = b"same bytes"
    desc = Descriptor.for_bytes("application/octet-stream", data)
    with open(tmp_path / "t.tar", "wb") as out:
        writer = ociarchive.TarWriter(out)
        sink = ociarchive.TarBlobSink(writer)
        sink.put_blob(desc, io.BytesIO(data))
        assert sink.has_blob(desc.digest)
        writer.finish()
    members = TarMembers.scan(tmp_path / "t.tar")
    assert members.names() == [f"blobs/sha256/{desc.digest.encoded}"]
    with members.open_blob(desc.digest) as f:
        assert f.read() == data


def test_golden_oci_archive(tiny, tmp_path: Path) -> None:
    """The exact bytes we write for a fixed image."""
    ociarchive.write(tmp_path / "g.tar", tiny, "1")
    with tarfile.open(tmp_path / "g.tar") as tf:
        index = tf.extractfile("index.json").read()  # type: ignore[union-attr]
        assert tf.extractfile("oci-layout").read() == b'{"imageLayoutVersion":"1.0.0"}'  # type: ignore[union-attr]
    assert index == (
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":'
        b'"application/vnd.oci.image.manifest.v1+json","digest":'
        b'"sha256:aebe75518fb0f2e628ff7d7888adc7ccd64fb6b1d9c799a534a28f2477730245","size":398,"annotations":'
        b'{"org.opencontainers.image.ref.name":"1"}}]}'
    )
    assert Digest.of((tmp_path / "g.tar").read_bytes()) == Digest.parse(
        "sha256:2b43257908f8501493ce8f4dbd53640c261802371b95429d5060e528094af46f")
    validate(OciArchive.open(tmp_path / "g.tar").get("1"))
