"""dive's own test vectors: the numbers dive's tests expect, and dive's export on its test archives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from analyze_helpers import run_dive  # type: ignore[import-not-found]

from dockyard.analyze import analyze
from dockyard.analyze.formats.json import dumps
from dockyard.transports.resolve import open_image

DIVE = Path(__file__).parents[1] / "assets" / "dive"


def test_analyze_dive_test_image_numbers() -> None:
    report = analyze(open_image(f"docker-archive:{DIVE / 'test-docker-image.tar'}"))
    d = report.dive
    # dive/image/docker/image_archive_analysis_test.go
    assert d.efficiency == 0.9844212134184309
    assert d.size_bytes == 1220598
    assert d.user_size_bytes == 66237
    assert d.wasted_bytes == 32025
    assert d.wasted_user_percent == 0.4834911001404049
    assert [(i.path, i.count, i.cumulative_size) for i in d.inefficiencies] == [
        ("/root/saved.txt", 2, 12810), ("/root/example/somefile1.txt", 2, 12810),
        ("/root/example/somefile3.txt", 2, 6405)]
    # the truth: somefile1 (2 copies, both dead), somefile2, somefile3, and saved.txt's pre-chmod copy
    assert report.reclaim.reclaimable_bytes == 12810 + 6405 + 6405 + 6405
    assert {w.path: w.bytes for w in report.reclaim.paths} == {
        "root/example/somefile1.txt": 12810, "root/example/somefile2.txt": 6405,
        "root/example/somefile3.txt": 6405, "root/saved.txt": 6405}
    saved = next(w for w in report.reclaim.paths if w.path == "root/saved.txt")
    assert saved.fate == "overwritten" and saved.final_layer == 13 and saved.metadata_only
    assert [layer.command for layer in report.layers][2] == "mkdir -p /root/example/really/nested"
    assert report.layers[9].removed_files == 2 and report.layers[9].removed_bytes == 12810


@pytest.mark.parametrize("name", ["test-docker-image.tar", "test-kaniko-image.tar", "test-oci-gzip-image.tar",
                                  "test-oci-zstd-image.tar", "test-oci-uncompressed-image.tar"])
def test_analyze_export_equals_dive(name: str, tmp_path: Path) -> None:
    theirs, _, _ = run_dive(DIVE / name, tmp_path)
    ours = json.loads(dumps(analyze(open_image(f"docker-archive:{DIVE / name}"))))
    for key in ("sizeBytes", "inefficientBytes", "efficiencyScore", "fileReference"):
        assert ours["image"][key] == theirs["image"][key], key
    assert len(ours["layer"]) == len(theirs["layer"])
    for a, b in zip(ours["layer"], theirs["layer"], strict=True):
        for key in ("index", "digestId", "sizeBytes", "command", "fileList"):
            assert a[key] == b[key], (a["index"], key)
