"""Bad input never changes the store: mismatched blobs, incomplete images, corrupted files, path tricks."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from store_testkit import MemoryBlobs, blob_files, make_image, make_index

from dockyard.errors import BlobUnknown, DigestMismatch, InvalidArgument, InvalidContent, SizeMismatch, Unsupported
from dockyard.image.validate import validate
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.protocols import Layer
from dockyard.oci.reference import Reference
from dockyard.transports.blobs import BlobImage, BlobIndex
from dockyard.transports.store import Store
from dockyard.transports.store.db import SCHEMA_VERSION


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.open() as s:
        yield s


def assert_empty(store: Store) -> None:
    assert blob_files(store.root) == []
    assert list((store.root / "tmp").iterdir()) == []
    assert store.list() == []


def test_store_put_blob_digest_mismatch_leaves_nothing(store: Store) -> None:
    desc = Descriptor.for_bytes("application/octet-stream", b"the real content")
    with pytest.raises(DigestMismatch):
        store.put_blob(desc, io.BytesIO(b"the fake content"))  # same length, other bytes
    assert_empty(store)
    assert not store.has_blob(desc.digest)


def test_store_put_blob_size_mismatch(store: Store) -> None:
    desc = Descriptor.for_bytes("application/octet-stream", b"12345")
    with pytest.raises(SizeMismatch, match="larger"):
        store.put_blob(desc, io.BytesIO(b"123456789"))
    with pytest.raises(SizeMismatch):
        store.put_blob(desc, io.BytesIO(b"123"))
    assert_empty(store)


def test_store_write_with_a_corrupt_layer_changes_nothing(store: Store) -> None:
    src = MemoryBlobs()
    img = make_image(src, "bad", layers=2)
    bad = img.manifest().layers[1].digest
    src.blobs[bad] = src.blobs[bad][:-1] + bytes([src.blobs[bad][-1] ^ 1])
    with pytest.raises(DigestMismatch):
        store.write(img, [Reference.parse("bad:1")])
    # all-or-nothing: not even the config and first layer, which were fine, reached blobs/
    assert_empty(store)


class _MissingLayers(BlobImage):
    """An image that lists a layer in its manifest but does not provide it."""

    def layers(self) -> Sequence[Layer]:
        return []


def test_store_manifest_referencing_a_missing_blob(store: Store) -> None:
    src = MemoryBlobs()
    img = make_image(src, "incomplete")
    with pytest.raises(BlobUnknown, match=r"references layer .* which is missing"):
        store.write(_MissingLayers(src, img.raw_manifest()), [Reference.parse("inc:1")])
    assert_empty(store)
    # and when the source itself lacks the blob, its own clear error propagates
    del src.blobs[img.manifest().layers[0].digest]
    with pytest.raises(BlobUnknown, match="not in the test source"):
        store.write(img, [Reference.parse("inc:1")])
    assert_empty(store)


def test_store_index_with_a_missing_child(store: Store) -> None:
    src = MemoryBlobs()
    child = make_image(src, "child")
    ghost = Descriptor(MediaType.OCI_MANIFEST, Digest.of(b"no such manifest"), 16)
    index = IndexManifest.build([child.manifest().descriptor(), ghost])
    src.add(index.raw)
    with pytest.raises(BlobUnknown):
        store.write(BlobIndex(src, index.raw), [Reference.parse("idx:1")])
    assert_empty(store)


def test_store_corrupted_blob_on_disk_is_detected_on_read(store: Store) -> None:
    src = MemoryBlobs()
    img = make_image(src, "rot", layers=1, layer_size=5000)
    store.write(img, [Reference.parse("rot:1")])
    layer = store.root / "blobs" / "sha256" / img.manifest().layers[0].digest.encoded
    data = bytearray(layer.read_bytes())
    data[len(data) // 2] ^= 0xFF
    layer.chmod(0o644)
    layer.write_bytes(bytes(data))
    with pytest.raises(DigestMismatch):
        validate(store.get("rot:1"))
    manifest = store.root / "blobs" / "sha256" / img.digest().encoded
    manifest.chmod(0o644)
    manifest.write_bytes(img.raw_manifest().replace(b"schemaVersion", b"schemaVersiom"))
    with pytest.raises(DigestMismatch):
        store.get("rot:1")


def test_store_index_child_corruption_detected(store: Store) -> None:
    src = MemoryBlobs()
    index = make_index(src, [make_image(src, "a"), make_image(src, "b")])
    store.write(index, [Reference.parse("i:1")])
    child = index.manifests()[1].digest
    path = store.root / "blobs" / "sha256" / child.encoded
    path.chmod(0o644)
    path.write_bytes(b"{}" + b" " * (path.stat().st_size - 2))
    with pytest.raises(DigestMismatch):
        validate(store.get("i:1"))


def test_store_rejects_digest_path_tricks(store: Store) -> None:
    evil = Digest("sha256", "../../../../etc/passwd")
    with pytest.raises(InvalidArgument):
        store.has_blob(evil)
    with pytest.raises(InvalidArgument):
        store.open_blob(Digest("md5", "d41d8cd98f00b204e9800998ecf8427e"))
    with pytest.raises(InvalidArgument):
        store.put_blob(Descriptor("x", evil, 1), io.BytesIO(b"x"))
    assert_empty(store)


def test_store_endless_stream_is_cut_at_declared_size(store: Store) -> None:
    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
            b[:] = b"\0" * len(b)
            return len(b)

    desc = Descriptor("application/octet-stream", Digest.of(b"x" * 10), 10)
    with pytest.raises(SizeMismatch):
        store.put_blob(desc, io.BufferedReader(Endless()))
    assert_empty(store)


def test_store_unusable_locations_and_databases(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(InvalidArgument, match="cannot create the local store"):
        Store.open(tmp_path / "file" / "store")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "store.db").write_bytes(b"this is not an sqlite database" * 100)
    with pytest.raises(InvalidContent, match="store database"):
        Store.open(damaged)
    newer = tmp_path / "newer"
    Store.open(newer).close()
    conn = sqlite3.connect(newer / "store.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(Unsupported, match="schema version"):
        Store.open(newer)
