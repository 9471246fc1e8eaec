"""The tree-diff fallback: the layer made by comparing a tree before and after changes, applied over the
original, must reproduce the changed tree exactly (content, types, modes, owners, hardlinks, deletions,
replaced directories)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from dockyard.build.treediff import diff_layer, take
from dockyard.layers.compression import decompress
from dockyard.layers.extract import extract_layers
from dockyard.layers.tarreader import TarReader
from dockyard.transports.rootfs import imported


def listing(root: Path) -> dict[str, tuple[object, ...]]:
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            st = os.lstat(full)
            rel = str(full.relative_to(root))
            body: object = None
            if stat.S_ISREG(st.st_mode):
                body = full.read_bytes()
            elif stat.S_ISLNK(st.st_mode):
                body = os.readlink(full)
            out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, body)
    return out


def original(root: Path) -> Path:
    for d in ("etc", "keep/deep", "gone/sub", "replaced/old", "file2dir", "var/cache"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "etc/conf").write_text("a=1\n")
    (root / "etc/same").write_text("same\n")
    (root / "keep/deep/f").write_text("deep\n")
    (root / "gone/sub/x").write_text("x\n")
    (root / "replaced/old/y").write_text("y\n")
    (root / "dir2file").mkdir()
    (root / "dir2file/z").write_text("z\n")
    (root / "var/cache/big").write_bytes(b"c" * 5000)
    (root / "file2dir/was").write_text("file\n")
    (root / "link").symlink_to("etc/conf")
    return root


def mutate(root: Path) -> None:
    (root / "etc/conf").write_text("a=2\n")
    os.chmod(root / "etc/same", 0o600)
    os.chown(root / "keep/deep/f", 1000, 1000)
    shutil.rmtree(root / "gone")
    shutil.rmtree(root / "replaced")
    (root / "replaced").mkdir()
    (root / "replaced/new").write_text("new\n")
    shutil.rmtree(root / "dir2file")
    (root / "dir2file").write_text("now a file\n")
    (root / "file2dir/was").unlink()
    (root / "file2dir/was").mkdir()
    (root / "file2dir/was/inside").write_text("in\n")
    (root / "var/cache/big").unlink()
    (root / "new.txt").write_text("new file\n")
    os.link(root / "new.txt", root / "new-hardlink")
    (root / "link").unlink()
    (root / "link").symlink_to("etc/same")
    os.mkfifo(root / "fifo")


def test_build_treediff_reproduces_the_changed_tree(tmp_path: Path) -> None:
    work = original(tmp_path / "work")
    with imported(work) as base:
        before = take(work)
        mutate(work)
        layer, count = diff_layer(work, before, tmp_path / "blob")
        assert count > 0
        applied = tmp_path / "applied"
        extract_layers([*base.layers(), layer], applied, preserve_owners=True)
    assert listing(applied) == listing(work)

    with layer.open() as raw:
        names = {e.path: e for e in TarReader(decompress(raw))}
    assert "gone/.wh..wh..opq" not in names and "gone/sub/.wh.x" not in names
    assert ".wh.gone" in names and "var/cache/.wh.big" in names  # only the topmost deleted path
    assert "replaced/.wh..wh..opq" in names  # a directory made anew hides everything below the old one
    assert "keep/deep/f" in names and "etc/same" in names  # owner-only and mode-only changes
    linked = [e for e in names.values() if e.type.name == "HARDLINK"]
    assert [(e.path, e.linkname) for e in linked] == [("new.txt", "new-hardlink")]


def test_build_treediff_unchanged_tree_is_an_empty_layer(tmp_path: Path) -> None:
    work = original(tmp_path / "work")
    before = take(work)
    _, count = diff_layer(work, before, tmp_path / "blob")
    assert count == 0


def test_build_treediff_ignores_runtime_points_and_maps_owner(tmp_path: Path) -> None:
    work = original(tmp_path / "work")
    before = take(work)
    (work / "proc").mkdir()
    (work / "proc/self").write_text("runtime\n")
    (work / "etc/hosts").write_text("127.0.0.1 localhost\n")
    (work / "made").write_text("by the step\n")
    os.chown(work / "made", 4321, 4321)
    layer, _ = diff_layer(work, before, tmp_path / "blob", ignore={"proc", "etc/hosts"}, owner_map=(4321, 4321))
    with layer.open() as raw:
        names = {e.path: e for e in TarReader(decompress(raw))}
    assert "proc" not in names and "proc/self" not in names and "etc/hosts" not in names
    assert (names["made"].uid, names["made"].gid) == (0, 0)
