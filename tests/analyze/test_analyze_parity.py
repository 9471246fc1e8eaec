"""Images with known waste: our dive-compatible numbers equal dive 0.13.1's on the same docker-archive, and our
reclaimable bytes equal an independent apply-the-layers count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from analyze_helpers import build_image, independent_reclaimable, run_dive  # type: ignore[import-not-found]

from dockyard.analyze import analyze
from dockyard.analyze.formats.json import dumps
from dockyard.layers.members import Member
from dockyard.transports.resolve import open_image

F, D, W, OPQ = Member.file, Member.dir, Member.whiteout, Member.opaque
X = b"x" * 1000

CASES: dict[str, tuple[list[list[Member]], int]] = {
    # name: (layers, expected reclaimable bytes)
    "duplicated": ([[D("a"), F("a/f", X)], [D("a"), F("a/f", X)], [D("a"), F("a/f", X)]], 2000),
    "overwritten": ([[F("f", b"1" * 300), F("g", b"g" * 10)], [F("f", b"2" * 700)]], 300),
    "chmod-only": ([[D("bin"), F("bin/tool", X, mode=0o644)], [D("bin"), F("bin/tool", X, mode=0o755)]], 1000),
    "opaque-dir": ([[D("d"), F("d/a", b"a" * 100), D("d/sub"), F("d/sub/b", b"b" * 200)],
                    [D("d"), OPQ("d"), F("d/new", b"n" * 50)]], 300),
    "whole-dir-deletion": ([[D("opt"), D("opt/app"), F("opt/app/x", X), D("opt/app/lib"), F("opt/app/lib/y", X)],
                            [D("opt"), W("opt/app")]], 2000),
    "deleted-file": ([[D("tmp"), F("tmp/build.tar", b"t" * 4096), F("keep", b"k")], [D("tmp"), W("tmp/build.tar")]],
                     4096),
    "hardlinks": ([[F("data", b"d" * 500), Member.hardlink("link1", "data")],
                   [Member.hardlink("link2", "data")], [W("data"), W("link1")]], 0),
    "hardlink-then-overwrite": ([[F("orig", b"o" * 400), Member.hardlink("zalias", "orig")], [F("orig", b"n" * 10)]],
                                0),
    "symlinks": ([[F("target", b"t" * 64), Member.symlink("ln", "target")],
                  [Member.symlink("ln", "elsewhere"), F("target", b"u" * 64)]], 64),
    "spaces-and-unicode": ([[D("my dir"), F("my dir/file one.txt", b"1" * 111), F("caf\u00e9 \u2603.txt", b"2" * 22)],
                            [D("my dir"), F("my dir/file one.txt", b"3" * 33)], [W("caf\u00e9 \u2603.txt")]], 133),
    "missing-whiteout-target": ([[F("a", b"a" * 10), D("x"), F("x/y", b"y" * 20)],
                                 [W("nothere"), F("z", b"z" * 7), F("a", b"b" * 3)], [W("x")]], 30),
    "file-becomes-dir": ([[F("p", b"p" * 90)], [W("p"), D("p"), F("p/q", b"q" * 9)]], 90),
    "dir-becomes-file": ([[D("p"), F("p/q", b"q" * 9)], [W("p"), F("p", b"p" * 5)]], 9),
    "single-layer": ([[D("etc"), F("etc/os-release", b"ID=test\n")]], 0),
    "empty-layer": ([[F("a", b"a")], [], [F("a", b"b")]], 1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_analyze_matches_dive_and_extraction(case: str, tmp_path: Path) -> None:
    layers, expected = CASES[case]
    path, image = build_image(tmp_path, layers)
    theirs, _, _ = run_dive(path, tmp_path)
    report = analyze(open_image(f"docker-archive:{path}"))
    ours = json.loads(dumps(report))
    for key in ("sizeBytes", "inefficientBytes", "efficiencyScore"):
        assert ours["image"][key] == theirs["image"][key], key
    refs = sorted((r["file"], r["count"], r["sizeBytes"]) for r in ours["image"]["fileReference"])
    assert refs == sorted((r["file"], r["count"], r["sizeBytes"]) for r in theirs["image"]["fileReference"])
    for a, b in zip(ours["layer"], theirs["layer"], strict=True):
        assert (a["sizeBytes"], a["fileList"]) == (b["sizeBytes"], b["fileList"]), a["index"]

    added, visible, _ = independent_reclaimable(image, tmp_path / "x")
    assert report.reclaim.added_bytes == added
    assert report.reclaim.visible_bytes == visible
    assert report.reclaim.reclaimable_bytes == added - visible == expected
    assert sum(layer.reclaimable_bytes for layer in report.layers) == expected
    assert sum(w.bytes for w in report.reclaim.paths) == expected


def test_analyze_unsorted_tar_and_implied_parents(tmp_path: Path) -> None:
    """Layers with no directory entries, children before parents, and a whiteout before what it spares."""
    layers = [[F("x/y/z", b"z" * 100), F("x/w", b"w" * 10), D("q")],
              [F("x/y/z2", b"z" * 100), F("zz", b"1" * 7), D("x"), F("a", b"2" * 3)],
              [F("x/y", b"f" * 5), W("x/y"), F("x/w", b"w" * 10)]]
    path, _ = build_image(tmp_path, layers, sort=False)
    theirs, _, _ = run_dive(path, tmp_path)
    ours = json.loads(dumps(analyze(open_image(f"docker-archive:{path}"))))
    for key in ("sizeBytes", "inefficientBytes", "efficiencyScore", "fileReference"):
        assert ours["image"][key] == theirs["image"][key], key
    for a, b in zip(ours["layer"], theirs["layer"], strict=True):
        assert a["fileList"] == b["fileList"]
