"""`dockyard registry fsck`: re-hashing blobs and finding dangling references in a registry's data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import MediaType
from dockyard.registry.config import RegistryConfig
from dockyard.registry.fsck import FindingKind, FsckReport, check
from dockyard.registry.gc import opened
from dockyard.testing.registry import RunningRegistry, image_manifest, push_blob, push_image, running_registry

DOCKYARD = Path(sys.executable).parent / "dockyard"
LAYER = b"the layer bytes"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[RunningRegistry, httpx.Client]]:
    with running_registry(tmp_path / "registry") as reg, httpx.Client(base_url=reg.url) as client:
        push_image(client, "app", "v1", config=b'{"os":"linux"}', layers=(LAYER,))
        yield reg, client


def _fsck(config: RegistryConfig, *, min_age: float = 0.0) -> FsckReport:
    with opened(config) as (driver, meta):
        return check(driver, meta, min_age=min_age, workers=2)


def _blob_file(config: RegistryConfig, digest: Digest) -> Path:
    return config.blobs_root / "blobs" / digest.algorithm / digest.encoded[:2] / digest.encoded / "data"


def _kinds(report: FsckReport) -> set[tuple[FindingKind, str]]:
    return {(f.kind, f.subject) for f in report.findings}


def test_fsck_of_a_consistent_registry_is_clean(registry: tuple[RunningRegistry, httpx.Client]) -> None:
    reg, _ = registry
    report = _fsck(reg.config)
    assert report.clean and report.findings == ()
    assert report.blobs_checked == 3 and report.manifests_checked == 1 and report.links_checked == 3
    assert report.bytes_checked == sum(p.stat().st_size for p in (reg.config.blobs_root / "blobs").rglob("data"))
    assert report.unreferenced_blobs == 0


def test_fsck_finds_a_corrupted_blob(registry: tuple[RunningRegistry, httpx.Client]) -> None:
    reg, _ = registry
    path = _blob_file(reg.config, Digest.of(LAYER))
    path.write_bytes(b"X" * len(LAYER))  # same size, other bytes: bit rot
    report = _fsck(reg.config)
    assert not report.clean
    assert _kinds(report) == {(FindingKind.DIGEST_MISMATCH, str(Digest.of(LAYER)))}
    assert str(Digest.of(b"X" * len(LAYER))) in report.findings[0].message


def test_a_corrupted_blob_is_repaired_by_deleting_it_and_pushing_again(
        registry: tuple[RunningRegistry, httpx.Client]) -> None:
    reg, client = registry
    path = _blob_file(reg.config, Digest.of(LAYER))
    path.write_bytes(b"Z" * len(LAYER))
    push_blob(client, "app", LAYER)  # the stored copy is kept: a push does not look inside
    assert not _fsck(reg.config).clean
    path.unlink()
    push_blob(client, "app", LAYER)
    assert _fsck(reg.config).clean
    assert client.get(f"/v2/app/blobs/{Digest.of(LAYER)}").content == LAYER


def test_fsck_finds_a_truncated_blob_by_hash_and_size(registry: tuple[RunningRegistry, httpx.Client]) -> None:
    reg, _ = registry
    _blob_file(reg.config, Digest.of(LAYER)).write_bytes(LAYER[:4])
    kinds = {f.kind for f in _fsck(reg.config).findings}
    assert kinds == {FindingKind.DIGEST_MISMATCH, FindingKind.SIZE_MISMATCH}


def test_fsck_finds_a_blob_a_manifest_needs_missing(registry: tuple[RunningRegistry, httpx.Client]) -> None:
    reg, _ = registry
    _blob_file(reg.config, Digest.of(LAYER)).unlink()
    report = _fsck(reg.config)
    layer = str(Digest.of(LAYER))
    assert _kinds(report) == {(FindingKind.BLOB_MISSING, layer), (FindingKind.LINK_DANGLING, layer)}
    missing = next(f for f in report.findings if f.kind is FindingKind.BLOB_MISSING)
    assert missing.repository == "app" and "layer of manifest" in missing.message


def test_fsck_finds_a_tag_pointing_at_missing_manifest_bytes(registry: tuple[RunningRegistry, httpx.Client]) -> None:
    reg, client = registry
    digest = Digest.parse(client.head("/v2/app/manifests/v1", headers={"Accept": MediaType.OCI_MANIFEST})
                          .headers["Docker-Content-Digest"])
    _blob_file(reg.config, digest).unlink()
    report = _fsck(reg.config)
    assert (FindingKind.MANIFEST_MISSING, str(digest)) in _kinds(report)
    assert "tags: v1" in next(f.message for f in report.findings if f.kind is FindingKind.MANIFEST_MISSING)


def test_fsck_finds_an_index_child_deleted_from_its_repository(
        registry: tuple[RunningRegistry, httpx.Client]) -> None:
    reg, client = registry
    child = image_manifest(b'{"os":"linux"}', (LAYER,))
    index = json.dumps({"schemaVersion": 2, "mediaType": MediaType.OCI_INDEX, "manifests": [
        {"mediaType": child.media_type, "digest": str(child.digest), "size": len(child.raw)}]}).encode()
    assert client.put("/v2/app/manifests/multi", content=index,
                      headers={"Content-Type": MediaType.OCI_INDEX}).status_code == 201
    assert client.delete(f"/v2/app/manifests/{child.digest}").status_code == 202  # the API allows it
    report = _fsck(reg.config)
    assert _kinds(report) == {(FindingKind.MANIFEST_MISSING, str(child.digest))}
    assert str(Digest.of(index)) in report.findings[0].message


def test_fsck_finds_leftover_files_but_not_live_uploads(registry: tuple[RunningRegistry, httpx.Client]) -> None:
    reg, client = registry
    live = client.post("/v2/app/blobs/uploads/")  # an upload in progress: its session owns its bytes
    assert live.status_code == 202
    pending = reg.config.blobs_root / ".uploads"
    orphan = pending / "uploads" / str(uuid.uuid4()) / "data"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half an upload")
    temp = pending / ".put-abandoned"
    temp.write_bytes(b"{}")
    stray = reg.config.blobs_root / "blobs" / "sha256" / "notes.txt"
    stray.write_text("hello")
    old = time.time() - 7200
    for path in (orphan, temp):
        os.utime(path, (old, old))
    report = _fsck(reg.config, min_age=3600)
    assert {(f.kind, Path(f.subject).name) for f in report.findings} == {
        (FindingKind.ORPHAN_UPLOAD, "data"), (FindingKind.ORPHAN_TEMP, ".put-abandoned"),
        (FindingKind.STRAY_FILE, "notes.txt")}
    orphan_finding = next(f for f in report.findings if f.kind is FindingKind.ORPHAN_UPLOAD)
    assert orphan.parent.name in orphan_finding.subject


def test_fsck_ignores_fresh_leftovers(registry: tuple[RunningRegistry, httpx.Client]) -> None:
    reg, _ = registry
    (reg.config.blobs_root / ".uploads" / ".put-in-flight").write_bytes(b"x")
    assert _fsck(reg.config, min_age=3600).clean


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DOCKYARD), *args], capture_output=True, text=True, timeout=60, check=False)


def test_cli_registry_fsck_exit_codes_and_json(registry: tuple[RunningRegistry, httpx.Client]) -> None:
    reg, _ = registry
    data_dir = str(reg.config.data_dir)
    clean = _run_cli("registry", "fsck", "--data-dir", data_dir)
    assert clean.returncode == 0, clean.stderr
    assert "Checked 3 blob(s)" in clean.stdout and clean.stdout.rstrip().endswith(": clean")
    _blob_file(reg.config, Digest.of(LAYER)).write_bytes(b"Y" * len(LAYER))
    table = _run_cli("registry", "fsck", "--data-dir", data_dir)
    assert table.returncode == 1 and "digest-mismatch" in table.stdout and "1 problem(s)" in table.stdout
    as_json = _run_cli("registry", "fsck", "--data-dir", data_dir, "--output", "json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["clean"] is False and report["blobs_checked"] == 3
    assert report["findings"] == [{"kind": "digest-mismatch", "subject": str(Digest.of(LAYER)), "repository": None,
                                   "message": f"stored bytes hash to {Digest.of(b'Y' * len(LAYER))} "
                                              f"({len(LAYER)} bytes)"}]


def test_cli_registry_fsck_uses_the_config_file(tmp_path: Path, registry: tuple[RunningRegistry, httpx.Client]) -> None:
    reg, _ = registry
    config = tmp_path / "registry.toml"
    config.write_text(f'data_dir = "{reg.config.data_dir}"\n')
    result = _run_cli("registry", "fsck", "--config", str(config), "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["manifests_checked"] == 1
