"""Helpers for analysis tests: synthetic images with known waste, saved as docker-archives, and dive runs."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dockyard.image.empty import EmptyImage
from dockyard.layers.filelayer import FileLayer
from dockyard.layers.members import Member, write_members
from dockyard.mutate.image import Addendum, annotate, append
from dockyard.oci.config import History
from dockyard.oci.protocols import Image
from dockyard.testing.peers import require_tool
from dockyard.transports import archive

Build = Callable[..., Path]


def build_image(tmp: Path, layers: Sequence[Sequence[Member]], *, sort: bool = True,
                annotations: Mapping[str, str] | None = None, name: str = "img") -> tuple[Path, Image]:
    """A docker-archive at tmp/NAME.tar of one layer per member list (tar order kept when `sort` is False)."""
    tmp.mkdir(parents=True, exist_ok=True)
    adds = []
    for i, members in enumerate(layers):
        path = tmp / f"{name}-layer{i}.tar"
        with open(path, "wb") as f:
            write_members(members, f, sort=sort)
        adds.append(Addendum(FileLayer.from_blob(path), History(created_by=f"/bin/sh -c step {i}")))
    image = append(EmptyImage(), *adds)
    if annotations:
        image = annotate(image, annotations)
    out = tmp / f"{name}.tar"
    archive.write(out, [(image, [f"{name}:1"])])
    return out, image


def run_dive(archive_path: Path, tmp: Path, *, config: Path | None = None,
             export: bool = True) -> tuple[dict[str, Any], str, int]:
    """dive 0.13.1 in CI mode on a docker-archive: (its --json export, its stdout without colors, exit code).

    With `export`, dive writes its JSON export and skips the CI rules; without, it runs them (export is {}).
    """
    dive = require_tool("dive")
    out = tmp / f"{archive_path.stem}-dive.json"
    argv = [dive, "--source", "docker-archive", str(archive_path)] + (["--json", str(out)] if export else [])
    if config is not None:
        argv += ["--ci-config", str(config)]
    env = {**os.environ, "CI": "true"}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, cwd=tmp, timeout=300)
    text = proc.stdout
    for code in ("\x1b[0m", "\x1b[1m", "\x1b[1;7;31m", "\x1b[31m", "\x1b[34m", "\x1b[32m"):
        text = text.replace(code, "")
    if export and not out.exists():
        raise AssertionError(f"dive failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    return (json.loads(out.read_text()) if export else {}), text, proc.returncode


def independent_reclaimable(image: Image, tmp: Path) -> tuple[int, int, set[str]]:
    """(bytes the layers add, bytes the extracted final filesystem holds, its paths), counted without dockyard's
    analysis: stdlib tarfile for the layers, `extract_layers` + lstat (hardlinks once, by inode) for the result."""
    import stat
    import tarfile

    from dockyard.layers.extract import extract_layers

    added = 0
    for layer in image.layers():
        with layer.open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            added += sum(m.size for m in tar if m.isreg() and not m.name.rsplit("/", 1)[-1].startswith(".wh."))
    root = tmp / "rootfs"
    extract_layers(image.layers(), root)
    seen: set[tuple[int, int]] = set()
    visible = 0
    paths: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            full = Path(dirpath, name)
            paths.add(str(full.relative_to(root)))
            st = full.lstat()
            if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                visible += st.st_size
    return added, visible, paths
