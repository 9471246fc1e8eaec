"""prune: dangling images, --all, --filter until, dry runs, referrers, orphan blobs and temp files."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from store_testkit import MemoryBlobs, blob_files, make_image, make_index

from dockyard.errors import InvalidArgument
from dockyard.image.validate import validate
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.manifest import ImageManifest
from dockyard.oci.mediatype import EMPTY_JSON, MediaType
from dockyard.oci.reference import Reference
from dockyard.transports.blobs import BlobImage
from dockyard.transports.store import Store, parse_until, prune


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.open(clock=Clock(1_000_000.0)) as s:
        yield s


def sizes(src: MemoryBlobs, *imgs: BlobImage) -> int:
    """Bytes of the distinct blobs of some images."""
    digests = {d for img in imgs for d in (img.digest(), img.manifest().config.digest,
                                           *(lay.digest for lay in img.manifest().layers))}
    return sum(len(src.blobs[d]) for d in digests)


def test_store_prune_default_removes_dangling_and_their_blobs(store: Store) -> None:
    src = MemoryBlobs()
    base = b"base layer " * 20
    tagged = make_image(src, "tagged", shared_layer=base)
    dangling = make_image(src, "dangling", shared_layer=base)
    store.write(tagged, [Reference.parse("app:1")])
    store.write(dangling, [])
    orphan = Descriptor.for_bytes("application/octet-stream", b"nobody needs me")
    store.put_blob(orphan, io.BytesIO(b"nobody needs me"))
    only_dangling = sizes(src, tagged, dangling) - sizes(src, tagged)
    report = prune(store)
    assert not report.dry_run
    assert [i.digest for i in report.images] == [dangling.digest()]
    assert report.images[0].names == () and report.untagged == ()
    assert report.bytes_reclaimed == only_dangling + orphan.size
    assert len(report.blobs) == 3 + 1  # manifest, config, own layer; the orphan
    assert orphan.digest in report.blobs
    assert tagged.manifest().layers[0].digest not in report.blobs  # the shared base stays
    validate(store.get("app:1"))
    assert [r.tag for r in store.list()] == ["1"]
    assert prune(store).bytes_reclaimed == 0  # idempotent


def test_store_prune_all_removes_tagged_images_too(store: Store) -> None:
    src = MemoryBlobs()
    a, b = make_image(src, "a"), make_image(src, "b")
    store.write(a, [Reference.parse("a:1")])
    store.write(b, [])
    report = prune(store, all=True)
    assert {i.digest for i in report.images} == {a.digest(), b.digest()}
    assert report.untagged == (Reference.parse("a:1"),)
    assert report.bytes_reclaimed == sum(len(v) for v in src.blobs.values())
    assert store.list() == [] and blob_files(store.root) == []


def test_store_prune_until_keeps_recent_images(store: Store) -> None:
    clock = store.clock
    assert isinstance(clock, Clock)
    src = MemoryBlobs()
    old_tagged, old_dangling = make_image(src, "old-t"), make_image(src, "old-d")
    new_tagged, new_dangling = make_image(src, "new-t"), make_image(src, "new-d")
    clock.now = 1_000_000.0
    store.write(old_tagged, ["old:1"])
    store.write(old_dangling, [])
    clock.now += 3 * 86400
    store.write(new_tagged, ["new:1"])
    store.write(new_dangling, [])
    clock.now += 3600
    # default mode with until: only dangling images older than the cutoff
    report = prune(store, until=timedelta(days=1), dry_run=True)
    assert [i.digest for i in report.images] == [old_dangling.digest()]
    # --all with until=24h: every image added more than 24h ago
    report = prune(store, all=True, until=parse_until("24h", now=datetime.fromtimestamp(clock.now, UTC)))
    assert {i.digest for i in report.images} == {old_tagged.digest(), old_dangling.digest()}
    assert report.bytes_reclaimed == sizes(src, old_tagged, old_dangling)
    assert {r.digest for r in store.list()} == {new_tagged.digest(), new_dangling.digest()}
    # a cutoff before everything removes nothing
    assert prune(store, all=True, until=datetime(1970, 1, 2, tzinfo=UTC)).images == ()


def test_store_prune_dry_run_reports_exactly_what_a_real_run_removes(store: Store) -> None:
    src = MemoryBlobs()
    keep = make_image(src, "keep")
    store.write(keep, ["keep:1"])
    for i in range(3):
        store.write(make_image(src, f"gone{i}", layers=2, layer_size=1000), [])
    stale = store.root / "tmp" / "leftover.tmp"
    stale.write_bytes(b"x" * 123)
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fresh = store.root / "tmp" / "inflight.tmp"
    fresh.write_bytes(b"y" * 50)
    before = blob_files(store.root)
    dry = prune(store, dry_run=True)
    assert dry.dry_run and blob_files(store.root) == before and stale.exists()
    assert len(store.list()) == 4
    real = prune(store)
    assert (real.images, real.blobs, real.bytes_reclaimed, real.temp_files) == \
        (dry.images, dry.blobs, dry.bytes_reclaimed, dry.temp_files)
    assert real.temp_files == 1 and not stale.exists() and fresh.exists()
    assert real.bytes_reclaimed == sum(len(v) for v in src.blobs.values()) - sizes(src, keep) + 123
    assert store.disk_usage().reclaimable == 0


def test_store_prune_keeps_index_children_and_referrers(store: Store) -> None:
    src = MemoryBlobs()
    index = make_index(src, [make_image(src, "amd"), make_image(src, "arm")])
    store.write(index, ["multi:1"])
    subject = index.index_manifest().descriptor()
    src.add(EMPTY_JSON)
    sbom = b'{"sbom": true}'
    src.add(sbom)
    referrer = ImageManifest.build(Descriptor.for_bytes(MediaType.OCI_EMPTY, EMPTY_JSON),
                                   [Descriptor.for_bytes("application/spdx+json", sbom)],
                                   subject=subject, artifact_type="application/spdx+json")
    src.add(referrer.raw)
    store.write(BlobImage(src, referrer.raw), [])  # a referrer has no tag of its own
    report = prune(store)
    assert report.images == () and report.blobs == ()
    validate(store.get("multi:1"))
    store.untag("multi:1")
    report = prune(store)
    assert {i.digest for i in report.images} == {index.digest(), referrer.digest}
    assert blob_files(store.root) == []


def test_store_parse_until() -> None:
    now = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    assert parse_until("10m", now=now) == now - timedelta(minutes=10)
    assert parse_until("2h30m", now=now) == now - timedelta(hours=2, minutes=30)
    assert parse_until("24h", now=now) == now - timedelta(days=1)
    assert parse_until("7d", now=now) == now - timedelta(days=7)
    assert parse_until("1.5h", now=now) == now - timedelta(minutes=90)
    assert parse_until("1700000000") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert parse_until("2024-01-02T03:04:05Z") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_until("2024-01-02T03:04:05.123456789+02:00") == datetime(2024, 1, 2, 1, 4, 5, 123456, tzinfo=UTC)
    assert parse_until("2024-01-02").date().isoformat() == "2024-01-02"
    for bad in ("", "yesterday", "10x", "-5m", "24 h", "h"):
        with pytest.raises(InvalidArgument):
            parse_until(bad)
    with pytest.raises(InvalidArgument):
        prune(Store.open(), until=timedelta(hours=-1))
