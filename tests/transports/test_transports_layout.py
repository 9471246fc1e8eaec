"""OCI layout directories: reading umoci/skopeo layouts, writing ones skopeo and umoci accept, bad input."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from dockyard.errors import (
    BlobUnknown,
    DigestMismatch,
    InvalidArgument,
    InvalidManifest,
    ManifestUnknown,
    NotFound,
    SizeMismatch,
    Unsupported,
)
from dockyard.image.validate import validate
from dockyard.oci.descriptor import REF_NAME, Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.transports import layout as oci_layout
from dockyard.transports.layout import Layout


def _image(artifact: Image | ImageIndex) -> Image:
    assert isinstance(artifact, Image)
    return artifact


def _blob_digests(image: Image) -> list[Digest]:
    m = image.manifest()
    return [image.digest(), m.config.digest, *(d.digest for d in m.layers)]


def _add_index(layout: Layout, tag: str, children: list[Descriptor]) -> Descriptor:
    index = IndexManifest.build(children)
    desc = index.descriptor()
    layout.put_blob(desc, io.BytesIO(index.raw))
    return layout.add(desc, tag)


def test_reads_umoci_layout(images) -> None:
    layout = Layout.open(images.layout)
    assert layout.tags() == ["app", "base"]
    base, app = _image(layout.get("base")), _image(layout.get("app"))
    validate(base)
    validate(app)
    assert len(base.layers()) == 1 and len(app.layers()) == 2
    assert app.layers()[0].descriptor == base.layers()[0].descriptor
    assert base.config().config.cmd == ("/bin/sh",)
    assert base.layers()[0].descriptor.media_type == MediaType.OCI_LAYER_GZIP
    assert layout.get_digest(base.digest()).digest() == base.digest()


def test_reads_zstd_layout_from_skopeo(images) -> None:
    image = _image(Layout.open(images.zstd_layout).get("app"))
    validate(image)
    assert {d.media_type for d in image.manifest().layers} == {MediaType.OCI_LAYER_ZSTD}


def test_tag_forms_name_and_bare(peer, images, tmp_path: Path) -> None:
    dest = tmp_path / "named"
    peer("skopeo", "copy", f"oci:{images.layout}:base", f"oci:{dest}:busybox:1.36")
    layout = Layout.open(dest)
    assert layout.entries()[0].ref_name == "busybox:1.36"
    want = layout.get("busybox:1.36").digest()
    assert layout.get("1.36").digest() == want
    assert layout.get("docker.io/library/busybox:1.36").digest() == want
    bare = Layout.open(images.layout)
    assert bare.get("someimage:base").digest() == bare.get("base").digest()


def test_single_entry_needs_no_tag_but_several_do(peer, images, tmp_path: Path) -> None:
    one = tmp_path / "one"
    peer("skopeo", "copy", f"oci:{images.layout}:base", f"oci:{one}:only")
    assert Layout.open(one).get().digest() == Layout.open(images.layout).get("base").digest()
    with pytest.raises(InvalidArgument, match=r"holds 2 images") as info:
        Layout.open(images.layout).get()
    assert "app, base" in (info.value.hint or "")


def test_written_layout_passes_skopeo_and_umoci(peer, images, tmp_path: Path) -> None:
    source = Layout.open(images.layout)
    dest = tmp_path / "out"
    base, app = _image(source.get("base")), _image(source.get("app"))
    oci_layout.write(dest, base, "base")
    entry = oci_layout.write(dest, app, "v1.0")
    assert entry.ref_name == "v1.0" and entry.digest == app.digest()
    assert json.loads((dest / "oci-layout").read_bytes()) == {"imageLayoutVersion": "1.0.0"}
    for tag, image in (("base", base), ("v1.0", app)):
        inspected = json.loads(peer("skopeo", "inspect", f"oci:{dest}:{tag}"))
        assert inspected["Digest"] == str(image.digest())
        raw = peer("skopeo", "inspect", "--raw", f"oci:{dest}:{tag}").encode()
        assert raw == image.raw_manifest()
        stat = peer("umoci", "stat", "--json", "--image", f"{dest}:{tag}")
        assert json.loads(stat)["history"]
    written = Layout.open(dest)
    for tag, image in (("base", base), ("v1.0", app)):
        got = _image(written.get(tag))
        validate(got)
        assert _blob_digests(got) == _blob_digests(image)
    assert not [p for p in dest.rglob(".tmp-*")]


def test_write_replaces_same_tag_and_keeps_others(peer, images, tmp_path: Path) -> None:
    source = Layout.open(images.layout)
    base, app = _image(source.get("base")), _image(source.get("app"))
    dest = tmp_path / "l"
    oci_layout.write(dest, base, "keep")
    oci_layout.write(dest, base, "moving")
    oci_layout.write(dest, app, "moving")
    layout = Layout.open(dest)
    assert [(d.ref_name, d.digest) for d in layout.entries()] == [("keep", base.digest()), ("moving", app.digest())]
    peer("skopeo", "inspect", f"oci:{dest}:moving")
    in_use = layout.blobs_in_use()
    assert set(_blob_digests(app)) | set(_blob_digests(base)) == in_use
    assert in_use <= set(layout.blobs())
    removed = layout.remove("keep")
    assert removed.digest == base.digest()
    assert layout.tags() == ["moving"]
    assert base.digest() not in layout.blobs_in_use()
    with pytest.raises(NotFound, match=r"'keep' not found.*available: moving"):
        layout.get("keep")


def test_untagged_write_is_not_duplicated(images, tmp_path: Path) -> None:
    base = _image(Layout.open(images.layout).get("base"))
    oci_layout.write(tmp_path / "u", base)
    oci_layout.write(tmp_path / "u", base)
    layout = Layout.open(tmp_path / "u")
    assert len(layout.entries()) == 1
    assert layout.get().digest() == base.digest()


def test_nested_indexes_round_trip(peer, images, tmp_path: Path) -> None:
    layout = Layout.open(images.copy_layout(tmp_path / "src"))
    base, app = _image(layout.get("base")), _image(layout.get("app"))
    amd64, arm64 = Platform("linux", "amd64"), Platform("linux", "arm64")
    inner = _add_index(layout, "multi", [base.manifest().descriptor(platform=amd64),
                                         app.manifest().descriptor(platform=arm64)])
    _add_index(layout, "nested", [Descriptor(inner.media_type, inner.digest, inner.size)])
    nested = layout.get("nested")
    assert isinstance(nested, ImageIndex)
    validate(nested)
    child = nested.index(inner.digest)
    assert child.image(app.digest()).digest() == app.digest()
    assert layout.get_digest(app.digest()).digest() == app.digest()
    dest = tmp_path / "dest"
    entry = oci_layout.write(dest, nested, "nested")
    copy = Layout.open(dest)
    validate(copy.get("nested"))
    assert entry.digest == nested.digest()
    assert set(copy.blobs()) == copy.blobs_in_use()
    assert json.loads(peer("skopeo", "inspect", "--raw", f"oci:{dest}:nested"))["manifests"][0]["digest"] == str(
        inner.digest)


def test_put_blob_verifies_and_leaves_nothing_behind(tmp_path: Path) -> None:
    layout = Layout.create(tmp_path / "l")
    data = b"hello blob"
    good = Descriptor.for_bytes("application/octet-stream", data)
    layout.put_blob(good, io.BytesIO(data))
    with layout.open_blob(good.digest) as f:
        assert f.read() == data
    assert oct(os.stat(layout.blob_path(good.digest)).st_mode & 0o777) == "0o644"
    wrong = Descriptor("application/octet-stream", Digest.of(b"other"), len(data))
    with pytest.raises(DigestMismatch):
        layout.put_blob(wrong, io.BytesIO(data))
    with pytest.raises(SizeMismatch):
        layout.put_blob(Descriptor("x", Digest.of(b"other"), 3), io.BytesIO(data))
    assert not layout.has_blob(wrong.digest)
    assert sorted(p.name for p in (tmp_path / "l" / "blobs" / "sha256").iterdir()) == [good.digest.encoded]


def test_bad_tags_are_refused(images, tmp_path: Path) -> None:
    base = Layout.open(images.layout).get("base")
    for bad in ("", "-x", "a b", "a//b"):
        with pytest.raises(InvalidArgument, match=r"invalid OCI layout tag"):
            oci_layout.write(tmp_path / "l", base, bad)


# -- bad input ------------------------------------------------------------------------------------------


def test_not_a_layout(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"no OCI layout"):
        Layout.open(tmp_path / "missing")
    with pytest.raises(InvalidArgument, match=r"no oci-layout file"):
        Layout.open(tmp_path)
    (tmp_path / "oci-layout").write_text('{"imageLayoutVersion":"2.0.0"}')
    with pytest.raises(Unsupported, match=r"version 2.0.0"):
        Layout.open(tmp_path)
    (tmp_path / "oci-layout").write_text("nope")
    with pytest.raises(InvalidManifest, match=r"oci-layout is not valid JSON"):
        Layout.open(tmp_path)


def test_index_json_missing_or_not_json(images, tmp_path: Path) -> None:
    layout = Layout.open(images.copy_layout(tmp_path / "l"))
    (tmp_path / "l" / "index.json").unlink()
    with pytest.raises(InvalidManifest, match=r"has no index.json"):
        layout.get("base")
    (tmp_path / "l" / "index.json").write_text("{not json")
    with pytest.raises(InvalidManifest, match=r"index.json is not valid JSON"):
        layout.tags()


def test_index_json_with_bad_descriptor(images, tmp_path: Path) -> None:
    layout = Layout.open(images.copy_layout(tmp_path / "l"))
    index = json.loads((tmp_path / "l" / "index.json").read_text())
    index["manifests"][1]["digest"] = "sha256:1234"
    (tmp_path / "l" / "index.json").write_text(json.dumps(index))
    with pytest.raises(InvalidManifest, match=r"index.json.manifests\[1\].*sha256 digest"):
        layout.get("base")
    index["manifests"][1]["digest"] = index["manifests"][0]["digest"]
    index["manifests"][1].pop("size")
    (tmp_path / "l" / "index.json").write_text(json.dumps(index))
    with pytest.raises(InvalidManifest, match=r"manifests\[1\]: field 'size' must be an integer"):
        layout.get("base")


def test_missing_blobs_name_their_digest(images, tmp_path: Path) -> None:
    layout = Layout.open(images.copy_layout(tmp_path / "l"))
    app = _image(layout.get("app"))
    top_layer = app.manifest().layers[1].digest
    layout.blob_path(top_layer).unlink()
    with pytest.raises(BlobUnknown, match=str(top_layer)):
        validate(app)
    layout.blob_path(app.digest()).unlink()
    with pytest.raises(BlobUnknown, match=rf"manifest {app.digest()}.*missing"):
        layout.get("app")
    with pytest.raises(ManifestUnknown, match=str(app.digest())):
        layout.get_digest(app.digest())
    assert app.digest() in layout.blobs_in_use()  # still referenced: a gc must not think otherwise


def test_wrong_blob_content_is_a_digest_mismatch(images, tmp_path: Path) -> None:
    layout = Layout.open(images.copy_layout(tmp_path / "l"))
    base = _image(layout.get("base"))
    layer = base.layers()[0]
    path = layout.blob_path(layer.descriptor.digest)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DigestMismatch, match=str(layer.descriptor.digest)), layer.open() as f:
        while f.read(1 << 20):
            pass
    config_path = layout.blob_path(base.manifest().config.digest)
    config_path.write_bytes(config_path.read_bytes().replace(b"/bin/sh", b"/bin/xx"))
    with pytest.raises(DigestMismatch):
        _image(layout.get("base")).config()


def test_manifest_that_is_not_json(images, tmp_path: Path) -> None:
    layout = Layout.open(images.copy_layout(tmp_path / "l"))
    garbage = b"\x00 this is not a manifest"
    desc = Descriptor.for_bytes(MediaType.OCI_MANIFEST, garbage)
    layout.put_blob(desc, io.BytesIO(garbage))
    layout.add(desc, "broken")
    with pytest.raises(InvalidManifest, match=rf"manifest {desc.digest}.*not valid JSON"):
        layout.get("broken")
    assert [d.ref_name for d in layout.entries()] == ["base", "app", "broken"]
    assert layout.entries()[2].annotations[REF_NAME] == "broken"
