"""RUN's lower dirs (`layer_tree`): a layer whose whiteout or opaque marker sits under its own symlink to a host
directory must change nothing outside the tree (it used to create a 0/0 device on the host)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from types import SimpleNamespace

from dockyard.build.steps.run import layer_tree
from dockyard.layers.filelayer import layer_from_tar
from dockyard.layers.tarformat import EntryType, TarEntry
from dockyard.layers.writer import TarWriter


def test_build_layer_tree_whiteout_through_link_stays_inside(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("host file\n")
    raw = io.BytesIO()
    with TarWriter(raw) as writer:
        writer.add(TarEntry("x", EntryType.SYMLINK, 0, 0o777, linkname=str(victim)), None)
        writer.add(TarEntry("x/.wh.planted", EntryType.FILE, 0, 0o644), b"")
        writer.add(TarEntry("x/.wh.keep", EntryType.FILE, 0, 0o644), b"")
        writer.add(TarEntry("y", EntryType.SYMLINK, 0, 0o777, linkname=str(victim)), None)
        writer.add(TarEntry("y/.wh..wh..opq", EntryType.FILE, 0, 0o644), b"")
    raw.seek(0)
    layer = layer_from_tar(raw, tmp_path / "blob")
    env = SimpleNamespace(cache=SimpleNamespace(trees=tmp_path / "trees"))
    tree = layer_tree(env, layer)  # type: ignore[arg-type]
    assert sorted(os.listdir(victim)) == ["keep"]  # nothing planted, nothing removed on the host
    assert (victim / "keep").read_text() == "host file\n"
    assert os.listxattr(victim) == [] or "trusted.overlay.opaque" not in os.listxattr(victim)
    assert tree.is_dir() and tree.is_relative_to(tmp_path / "trees")
