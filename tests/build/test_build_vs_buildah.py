"""The same Dockerfile built by dockyard and by `buildah bud --isolation chroot --layers` gives the same file
tree (paths, types, modes, owners, contents), apart from the runtime artifacts listed in RUNTIME."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.build.executor import build
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress, ProgressMode
from dockyard.errors import Unsupported
from dockyard.testing.peers import require_tool
from dockyard.transports.resolve import open_image, write_location
from dockyard.transports.store import Store

#: What buildah's chroot isolation leaves behind that a BuildKit-style builder does not (empty mountpoints).
RUNTIME = {"etc/hosts", "etc/resolv.conf", "etc/hostname", "run", "run/.containerenv", "proc", "sys", "dev"}

DOCKERFILE = """\
FROM {base} AS build
WORKDIR /src
COPY . .
COPY --chown=app:staff --chmod=600 a.txt /secret/a.txt
{run}
FROM {base}
COPY --from=build /src /app/
COPY --from=build /secret /secret
COPY *.txt /multi/
ADD bundle.tar /unpacked/
"""


def snapshot(root: Path) -> dict[str, tuple[str, int, int, int, bytes]]:
    out: dict[str, tuple[str, int, int, int, bytes]] = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            full = Path(dirpath) / name
            rel = str(full.relative_to(root))
            st = full.lstat()
            if stat.S_ISLNK(st.st_mode):
                kind, data = "link", os.readlink(full).encode()
            elif stat.S_ISDIR(st.st_mode):
                kind, data = "dir", b""
            else:
                kind, data = "file", full.read_bytes()
            out[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, data)
    return out


def test_build_trees_equal_buildah(tmp_path: Path, busybox_base: str,
                                   image_tree: Callable[[object], Path]) -> None:
    buildah = require_tool("buildah")
    if os.geteuid() != 0:
        pytest.skip("buildah with vfs storage needs root here")
    from dockyard.build.sandbox.detect import detect_sandbox

    try:
        detect_sandbox()
        run = "RUN echo generated > /src/gen.txt && mkdir -p /src/made && chmod 750 /src/made"
    except Unsupported:
        run = ""
    layout = tmp_path / "layout"
    write_location(f"oci:{layout}:base", Store.open().get(busybox_base))
    ctx = tmp_path / "ctx"
    (ctx / "sub").mkdir(parents=True)
    (ctx / "a.txt").write_text("a\n")
    (ctx / "b.txt").write_text("b\n")
    (ctx / "sub" / "c.bin").write_bytes(bytes(range(256)))
    os.chmod(ctx / "sub" / "c.bin", 0o751)
    subprocess.run(["tar", "-cf", str(tmp_path / "bundle.tar"), "-C", str(ctx), "sub"], check=True)
    (tmp_path / "bundle.tar").rename(ctx / "bundle.tar")
    (ctx / "Dockerfile").write_text(DOCKERFILE.format(base=f"oci:{layout}:base", run=run))
    mine = build(BuildRequest(context=ctx, tags=("mine:1",)), Progress(ProgressMode.QUIET))
    store = ["--root", str(tmp_path / "bstore"), "--runroot", str(tmp_path / "brun"), "--storage-driver", "vfs"]
    subprocess.run([buildah, *store, "bud", "--isolation", "chroot", "--layers", "-q", "-t", "theirs:1", str(ctx)],
                   check=True, capture_output=True)
    subprocess.run([buildah, *store, "push", "theirs:1", f"oci:{tmp_path / 'theirs'}:1"], check=True,
                   capture_output=True)
    ours = snapshot(image_tree(mine.image))
    theirs = snapshot(image_tree(open_image(f"oci:{tmp_path / 'theirs'}:1")))
    for path in RUNTIME:
        ours.pop(path, None)
        theirs.pop(path, None)
    assert {"app/a.txt", "app/sub/c.bin", "secret/a.txt", "multi/b.txt", "unpacked/sub/c.bin"} <= set(ours)
    assert not run or "app/gen.txt" in ours
    assert sorted(set(ours) ^ set(theirs)) == []
    differ = {p: (ours[p][:4], theirs[p][:4]) for p in ours if ours[p] != theirs[p]}
    assert differ == {}
