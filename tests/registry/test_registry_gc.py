"""`dockyard registry gc`: mark and sweep against a live registry, and pushes racing a collector."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import MediaType
from dockyard.registry.config import RegistryConfig
from dockyard.registry.fsck import check
from dockyard.registry.gc import GCOptions, GCReport, collect, opened
from dockyard.registry.gc_plan import deletion_order
from dockyard.registry.meta.base import ManifestRecord, ManifestRef, RefKind
from dockyard.registry.meta.gcstore import ManifestNode
from dockyard.registry.meta.sqlite import SQLiteMetadata
from dockyard.registry.storage.filesystem import FilesystemDriver
from dockyard.testing.registry import RunningRegistry, image_manifest, push_blob, push_image, running_registry

DOCKYARD = Path(sys.executable).parent / "dockyard"


@dataclass
class Live:
    """A running registry, an HTTP client of it, and its config (for the collector's own connection)."""

    registry: RunningRegistry
    client: httpx.Client

    @property
    def config(self) -> RegistryConfig:
        return self.registry.config

    def gc(self, **options: object) -> GCReport:
        """One collection through separate driver and metadata handles, as `dockyard registry gc` does."""
        with opened(self.config) as (driver, meta):
            return collect(driver, meta, GCOptions(**{"grace": 0.0, **options}))  # type: ignore[arg-type]

    def blob(self, name: str, digest: Digest | str) -> int:
        return self.client.get(f"/v2/{name}/blobs/{digest}").status_code

    def manifest(self, name: str, reference: str) -> int:
        return self.client.get(f"/v2/{name}/manifests/{reference}",
                               headers={"Accept": f"{MediaType.OCI_MANIFEST}, {MediaType.OCI_INDEX}"}).status_code

    def audit_actions(self) -> list[str]:
        meta = SQLiteMetadata(self.config.db_path)
        try:
            return [e.action for e in meta.audit_log(limit=10_000)]
        finally:
            meta.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with running_registry(tmp_path / "registry") as registry, httpx.Client(base_url=registry.url) as client:
        yield Live(registry, client)


def test_gc_deletes_unreferenced_blobs_and_keeps_referenced_ones(live: Live) -> None:
    image = push_image(live.client, "app", "v1", config=b'{"a":1}', layers=(b"layer-one", b"layer-two"))
    stray = push_blob(live.client, "app", b"uploaded but never used")
    report = live.gc()
    assert [b.digest for b in report.blobs_deleted] == [stray]
    assert report.blobs_deleted[0].repositories == ("app",)
    assert report.bytes_deleted == len(b"uploaded but never used")
    assert report.blobs_kept == 4  # config, two layers, the manifest's own bytes
    assert report.bytes_kept == len(b'{"a":1}') + len(b"layer-one") + len(b"layer-two") + len(image.raw)
    assert live.blob("app", stray) == 404
    for desc in (image.config, *image.layers):
        assert live.blob("app", desc.digest) == 200
    assert live.manifest("app", "v1") == 200
    actions = live.audit_actions()
    assert actions[:2] == ["gc.blob.delete", "gc.blob.unlink"]
    again = live.gc()
    assert again.blobs_deleted == () and again.bytes_deleted == 0


def test_gc_keeps_blobs_younger_than_the_grace_window(live: Live) -> None:
    young = push_blob(live.client, "app", b"pushed a moment ago")
    assert live.gc(grace=3600.0).blobs_deleted == ()
    assert live.blob("app", young) == 200
    with opened(live.config) as (driver, meta):  # two hours later, the grace window has passed
        later = collect(driver, meta, GCOptions(grace=3600.0), clock=lambda: time.time() + 7200)
    assert [b.digest for b in later.blobs_deleted] == [young]


def test_gc_leaves_an_upload_in_progress_alone(live: Live) -> None:
    data = os.urandom(3000)
    started = live.client.post("/v2/app/blobs/uploads/")
    location = started.headers["Location"]
    part = live.client.patch(location, content=data[:1000],
                             headers={"Content-Range": "0-999", "Content-Type": "application/octet-stream"})
    assert part.status_code == 202
    report = live.gc()
    assert report.uploads_in_progress == 1 and report.blobs_deleted == ()
    location = part.headers["Location"]
    done = live.client.put(f"{location}{'&' if '?' in location else '?'}digest={Digest.of(data)}", content=data[1000:])
    assert done.status_code == 201, done.text
    assert live.blob("app", Digest.of(data)) == 200
    assert live.gc(grace=60.0).blobs_deleted == ()  # just linked: young


def test_gc_dry_run_reports_and_deletes_nothing(live: Live) -> None:
    push_image(live.client, "app", "v1", layers=(b"old",))
    push_image(live.client, "app", "v1", layers=(b"new",))  # the first manifest is now untagged
    stray = push_blob(live.client, "app", b"stray bytes")
    before = live.audit_actions()
    report = live.gc(dry_run=True, delete_untagged=True)
    assert report.dry_run and len(report.manifests_deleted) == 1
    deleted = {b.digest for b in report.blobs_deleted}
    assert {stray, Digest.of(b"old"), report.manifests_deleted[0].digest} == deleted
    assert report.bytes_deleted == len(b"stray bytes") + len(b"old") + report.manifests_deleted[0].size
    assert live.blob("app", stray) == 200 and live.blob("app", Digest.of(b"old")) == 200
    assert live.manifest("app", str(report.manifests_deleted[0].digest)) == 200
    assert live.audit_actions() == before


def test_gc_delete_untagged_removes_unreachable_manifests_and_their_blobs(live: Live) -> None:
    old = push_image(live.client, "app", "v1", config=b'{"shared":1}', layers=(b"old layer",))
    new = push_image(live.client, "app", "v1", config=b'{"shared":1}', layers=(b"new layer",))
    kept = live.gc()  # without --delete-untagged an untagged manifest keeps its blobs
    assert kept.manifests_deleted == () and kept.blobs_deleted == ()
    report = live.gc(delete_untagged=True)
    assert [(m.repository, m.digest) for m in report.manifests_deleted] == [("app", old.digest)]
    assert {b.digest for b in report.blobs_deleted} == {old.digest, Digest.of(b"old layer")}
    assert live.manifest("app", str(old.digest)) == 404
    assert live.blob("app", Digest.of(b"old layer")) == 404
    assert live.blob("app", Digest.of(b'{"shared":1}')) == 200  # still the config of the tagged image
    assert live.manifest("app", "v1") == 200 and live.manifest("app", str(new.digest)) == 200
    assert "gc.manifest.delete" in live.audit_actions()


def _push_index(live: Live, name: str, tag: str, children: list[bytes]) -> bytes:
    descs = [Descriptor.for_bytes(MediaType.OCI_MANIFEST, raw) for raw in children]
    body = json.dumps({"schemaVersion": 2, "mediaType": MediaType.OCI_INDEX,
                       "manifests": [{"mediaType": d.media_type, "digest": str(d.digest), "size": d.size}
                                     for d in descs]}).encode()
    put = live.client.put(f"/v2/{name}/manifests/{tag}", content=body, headers={"Content-Type": MediaType.OCI_INDEX})
    assert put.status_code == 201, put.text
    return body


def test_gc_keeps_index_children_and_collects_them_with_their_index(live: Live) -> None:
    amd = push_image(live.client, "multi", str(Digest.of(image_manifest(b'{"arch":"amd64"}', (b"amd",)).raw)),
                     config=b'{"arch":"amd64"}', layers=(b"amd",))
    arm = push_image(live.client, "multi", str(Digest.of(image_manifest(b'{"arch":"arm64"}', (b"arm",)).raw)),
                     config=b'{"arch":"arm64"}', layers=(b"arm",))
    index = _push_index(live, "multi", "latest", [amd.raw, arm.raw])
    assert live.gc(delete_untagged=True).manifests_deleted == ()  # the children are reachable through the index
    assert live.manifest("multi", str(amd.digest)) == 200 and live.blob("multi", Digest.of(b"arm")) == 200
    assert live.client.delete("/v2/multi/manifests/latest").status_code == 202  # untag
    report = live.gc(delete_untagged=True)
    assert [m.digest for m in report.manifests_deleted] == [Digest.of(index), *sorted([amd.digest, arm.digest],
                                                                                     key=str)]
    assert live.blob("multi", Digest.of(b"amd")) == 404 and live.manifest("multi", str(arm.digest)) == 404


def test_gc_keeps_referrers_while_their_subject_is_kept(live: Live) -> None:
    subject = push_image(live.client, "signed", "v1", layers=(b"app",))
    sig_ref = str(Digest.of(image_manifest(b"{}", (b"signature",), subject=subject.descriptor(),
                                           artifact_type="application/vnd.example.sig").raw))
    signature = push_image(live.client, "signed", sig_ref, layers=(b"signature",), subject=subject.descriptor(),
                           artifact_type="application/vnd.example.sig")
    assert live.gc(delete_untagged=True).manifests_deleted == ()
    assert live.manifest("signed", str(signature.digest)) == 200
    assert live.client.delete("/v2/signed/manifests/v1").status_code == 202
    report = live.gc(delete_untagged=True)
    assert [m.digest for m in report.manifests_deleted] == [subject.digest, signature.digest]  # subject first
    assert live.blob("signed", Digest.of(b"signature")) == 404


def test_gc_keeps_young_untagged_manifests(live: Live) -> None:
    push_image(live.client, "app", "v1", layers=(b"first",))
    push_image(live.client, "app", "v1", layers=(b"second",))
    assert live.gc(grace=3600.0, delete_untagged=True).manifests_deleted == ()


def test_a_push_revives_a_condemned_blob_and_the_sweep_leaves_it(live: Live) -> None:
    """The protocol step by step: condemn (links gone), push the same bytes again, sweep finds nothing to do."""
    data = b"wanted again"
    digest = push_blob(live.client, "app", data)
    with opened(live.config) as (_, meta):
        assert isinstance(meta, SQLiteMetadata)
        assert meta.condemn_blob(digest, cutoff=time.time(), actor="gc")
        assert live.client.head(f"/v2/app/blobs/{digest}").status_code == 404  # unlinked
        push_blob(live.client, "app", data)  # a push while the collector is between its two transactions
        assert meta.sweep_blob(digest, lambda: pytest.fail("the bytes must not be deleted"), actor="gc") is None
    assert live.client.get(f"/v2/app/blobs/{digest}").content == data
    manifest = image_manifest(data, ())
    put = live.client.put("/v2/app/manifests/v1", content=manifest.raw, headers={"Content-Type": manifest.media_type})
    assert put.status_code == 201


def test_a_manifest_naming_a_condemned_blob_is_refused(live: Live) -> None:
    digest = push_blob(live.client, "app", b"condemned")
    with opened(live.config) as (_, meta):
        assert isinstance(meta, SQLiteMetadata)
        assert meta.condemn_blob(digest, cutoff=time.time(), actor="gc")
    manifest = image_manifest(b"condemned", ())
    put = live.client.put("/v2/app/manifests/v1", content=manifest.raw, headers={"Content-Type": manifest.media_type})
    assert put.status_code == 400 and put.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"
    report = live.gc()  # the collector's interrupted run is finished by the next one
    assert [b.digest for b in report.blobs_deleted] == [digest]


def test_put_manifest_rechecks_requirements_in_its_transaction(tmp_path: Path) -> None:
    meta = SQLiteMetadata(tmp_path / "registry.db")
    blob, child = Digest.of(b"blob"), Digest.of(b"child")
    record = ManifestRecord(Digest.of(b"m"), MediaType.OCI_MANIFEST, 1)
    refs = [ManifestRef(RefKind.LAYER, blob, 4, MediaType.OCI_LAYER)]
    assert meta.put_manifest("app", record, refs, ["v1"], actor="a", require_blobs=[blob],
                             require_manifests=[child]) == [blob, child]
    assert not meta.repository_exists("app") and meta.manifest("app", record.digest) is None
    meta.link_blob("app", blob, 4, actor="a")
    assert meta.put_manifest("app", record, refs, ["v1"], actor="a", require_blobs=[blob]) == []
    assert meta.tag("app", "v1") == record.digest
    assert not meta.link_blob("other", Digest.of(b"nowhere"), 7, actor="a", mount=True)
    meta.close()


def test_deletion_order_puts_parents_and_subjects_first() -> None:
    def node(name: bytes, *, children: tuple[Digest, ...] = (), subject: Digest | None = None) -> ManifestNode:
        refs = tuple(ManifestRef(RefKind.CHILD, c, 1, MediaType.OCI_MANIFEST) for c in children)
        return ManifestNode("r", Digest.of(name), 1, 0.0, subject, (), refs)

    child = node(b"child")
    index = node(b"index", children=(child.digest,))
    sig = node(b"sig", subject=index.digest)
    sig_of_sig = node(b"sig2", subject=sig.digest)
    ordered = deletion_order([sig_of_sig, child, sig, index])
    assert ordered.index(index) < ordered.index(child) and ordered.index(index) < ordered.index(sig)
    assert ordered.index(sig) < ordered.index(sig_of_sig)


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DOCKYARD), *args], capture_output=True, text=True, timeout=60, check=False)


def test_cli_registry_gc_against_a_running_server(live: Live) -> None:
    stray = push_blob(live.client, "app", b"cli stray")
    data_dir = str(live.config.data_dir)
    dry = _run_cli("registry", "gc", "--data-dir", data_dir, "--grace", "0", "--dry-run", "--output", "json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True and report["bytes_deleted"] == len(b"cli stray")
    assert report["blobs_deleted"][0]["digest"] == str(stray)
    assert live.blob("app", stray) == 200
    real = _run_cli("registry", "gc", "--data-dir", data_dir, "--grace", "0s")
    assert real.returncode == 0, real.stderr
    assert "Deleted 0 manifest(s) and 1 blob(s): 9B" in real.stdout
    assert live.blob("app", stray) == 404


def test_cli_registry_gc_errors(tmp_path: Path) -> None:
    missing = _run_cli("registry", "gc", "--data-dir", str(tmp_path / "nothing"))
    assert missing.returncode == 3 and "no registry at" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "nothing").exists()
    bad = _run_cli("registry", "gc", "--data-dir", str(tmp_path), "--grace", "soon")
    assert bad.returncode == 2 and "invalid grace period" in bad.stderr


def test_parse_grace() -> None:
    from dockyard.cli.commands.registry_admin import parse_grace

    assert parse_grace("0") == 0 and parse_grace("90") == 90 and parse_grace("1h30m") == 5400
    assert parse_grace("7d") == 7 * 86400
    for bad in ("-1", "x", "nan", "inf"):
        with pytest.raises(InvalidArgument):
            parse_grace(bad)


# -- pushes racing the collector ---------------------------------------------------------------------------------

PUSHERS = 4
IMAGES_PER_PUSHER = 8
JUNK = b"a blob every pusher uploads and nobody references"


@dataclass(frozen=True)
class Pushed:
    name: str
    tag: str
    manifest: bytes
    blobs: tuple[bytes, ...]


def _upload(client: httpx.Client, name: str, data: bytes, rng: random.Random) -> None:
    """Monolithic or chunked (PATCH, PATCH, PUT) upload, at random."""
    digest = Digest.of(data)
    if rng.random() < 0.5:
        push_blob(client, name, data)
        return
    location = client.post(f"/v2/{name}/blobs/uploads/").headers["Location"]
    half = len(data) // 2
    for start, chunk in ((0, data[:half]), (half, data[half:])):
        answer = client.patch(location, content=chunk, headers={
            "Content-Range": f"{start}-{start + len(chunk) - 1}", "Content-Type": "application/octet-stream"})
        answer.raise_for_status()
        location = answer.headers["Location"]
    client.put(f"{location}{'&' if '?' in location else '?'}digest={digest}").raise_for_status()


def _push_until_committed(client: httpx.Client, name: str, tag: str, blobs: tuple[bytes, ...],
                          rng: random.Random) -> tuple[bytes, int]:
    """Push blobs then the manifest, starting over when GC took a blob first (a client's retry); (raw, tries)."""
    manifest = image_manifest(blobs[0], blobs[1:])
    for attempt in range(1, 200):
        for data in (*blobs, JUNK):
            _upload(client, name, data, rng)
        put = client.put(f"/v2/{name}/manifests/{tag}", content=manifest.raw,
                         headers={"Content-Type": manifest.media_type})
        if put.status_code == 201:
            return manifest.raw, attempt
        assert put.status_code == 400 and put.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN", put.text
    raise AssertionError(f"{name}:{tag} never got through")


def _pusher(url: str, index: int, out: list[Pushed], retries: list[int], errors: list[BaseException]) -> None:
    rng = random.Random(index)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            name = f"race/p{index}"
            for n in range(IMAGES_PER_PUSHER):
                blobs = (json.dumps({"pusher": index, "n": n}).encode(),
                         *(os.urandom(rng.randrange(1, 200_000)) for _ in range(rng.randrange(1, 4))))
                raw, tries = _push_until_committed(client, name, f"v{n}", blobs, rng)
                retries.append(tries - 1)
                if n % 3 == 2:  # some images are untagged again: garbage for --delete-untagged
                    assert client.delete(f"/v2/{name}/manifests/v{n}").status_code == 202
                else:
                    out.append(Pushed(name, f"v{n}", raw, blobs))
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


def _collector(config: RegistryConfig, stop: threading.Event, reports: list[GCReport],
               errors: list[BaseException]) -> None:
    """GC over and over through its own driver and database connection, as a separate process would.

    Mostly with no grace at all, so blobs are condemned while pushes use them; a run takes a few ms and an image
    push about 40 ms here, so the collector pauses a little between runs to let some pushes through at all.
    """
    rng = random.Random(42)
    try:
        driver, meta = FilesystemDriver(config.blobs_root), SQLiteMetadata(config.db_path)
        try:
            while not stop.is_set():
                options = GCOptions(grace=rng.choice((0.0, 0.3)), delete_untagged=len(reports) % 2 == 1)
                reports.append(collect(driver, meta, options))
                stop.wait(rng.uniform(0.01, 0.06))
        finally:
            meta.close()
    except BaseException as exc:
        errors.append(exc)


def _assert_complete(client: httpx.Client, image: Pushed) -> None:
    got = client.get(f"/v2/{image.name}/manifests/{image.tag}", headers={"Accept": MediaType.OCI_MANIFEST})
    assert got.status_code == 200, f"{image.name}:{image.tag}: {got.text}"
    assert got.content == image.manifest
    assert got.headers["Docker-Content-Digest"] == str(Digest.of(image.manifest))
    for data in image.blobs:
        blob = client.get(f"/v2/{image.name}/blobs/{Digest.of(data)}")
        assert blob.status_code == 200, f"{image.name}:{image.tag} lost {Digest.of(data)}"
        assert hashlib.sha256(blob.content).hexdigest() == Digest.of(data).encoded and len(blob.content) == len(data)


def test_pushes_racing_gc_never_lose_a_blob(tmp_path: Path) -> None:
    pushed: list[Pushed] = []
    retries: list[int] = []
    reports: list[GCReport] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    with running_registry(tmp_path / "registry") as registry:
        collector = threading.Thread(target=_collector, args=(registry.config, stop, reports, errors))
        pushers = [threading.Thread(target=_pusher, args=(registry.url, i, pushed, retries, errors))
                   for i in range(PUSHERS)]
        collector.start()
        for thread in pushers:
            thread.start()
        for thread in pushers:
            thread.join(300)
        stop.set()
        collector.join(60)
        assert not errors, errors
        assert len(reports) >= 3, "the collector should have run several times during the pushes"
        assert sum(len(r.blobs_deleted) for r in reports) > 0  # it was not idle: junk and untagged images went
        final = Live(registry, httpx.Client(base_url=registry.url))
        with final.client:
            last = final.gc(delete_untagged=True)
            assert len(pushed) == PUSHERS * (IMAGES_PER_PUSHER - IMAGES_PER_PUSHER // 3)
            for image in pushed:
                _assert_complete(final.client, image)
            assert final.blob("race/p0", Digest.of(JUNK)) == 404  # the junk blob went at last
            assert last.blobs_kept == len({Digest.of(b) for p in pushed for b in (p.manifest, *p.blobs)})
        with opened(registry.config) as (driver, meta):
            report = check(driver, meta, min_age=0)
        assert report.clean, report.findings
