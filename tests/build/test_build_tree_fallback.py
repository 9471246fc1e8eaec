"""The tree-diff fallback (no overlayfs): forced with DOCKYARD_SANDBOX=tree, a RUN-heavy build gives the same
file tree as the overlayfs build; the output says the fallback was used; it also runs without root (bwrap in
an unprivileged user namespace), where overlayfs cannot be mounted at all."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.build.executor import build
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress, ProgressMode
from dockyard.testing.busybox import make_rootfs
from dockyard.testing.peers import require_tool
from dockyard.transports.rootfs import imported
from dockyard.transports.store import Store

DOCKERFILE = """\
FROM {base}
RUN mkdir -p /data/sub /gone/deep && echo one > /data/a && echo two > /data/sub/b && echo x > /gone/deep/x
RUN echo changed > /data/a && chmod 0600 /data/sub/b && rm -rf /gone && ln -s /data/a /link \\
    && mkdir /data/re && echo 1 > /data/re/f
RUN rm -rf /data/re && mkdir /data/re && echo 2 > /data/re/g && rm /bin/true && touch /tmp/t
"""


def listing(root: Path) -> dict[str, tuple[object, ...]]:
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            st = os.lstat(full)
            body = full.read_bytes() if full.is_file() and not full.is_symlink() else (
                os.readlink(full) if full.is_symlink() else None)
            out[str(full.relative_to(root))] = (st.st_mode, st.st_uid, st.st_gid, body)
    return out


def test_build_tree_fallback_equals_overlay(tmp_path: Path, busybox_base: str, image_tree: Callable[[str], Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE.format(base=busybox_base))
    overlay = build(BuildRequest(context=ctx, tags=("ovl:1",), no_cache=True), Progress(ProgressMode.QUIET))
    monkeypatch.setenv("DOCKYARD_SANDBOX", "tree")
    log = io.StringIO()
    tree = build(BuildRequest(context=ctx, tags=("tree:1",), no_cache=True), Progress(ProgressMode.PLAIN, log))
    assert "tree-diff fallback" in log.getvalue() and log.getvalue().count("tree-diff fallback") == 1
    assert listing(image_tree("tree:1")) == listing(image_tree("ovl:1"))
    assert not (image_tree("tree:1") / "gone").exists()
    # with SOURCE_DATE_EPOCH the two ways give the very same layers, except where a directory was deleted and
    # made anew (overlay marks it opaque; the tree diff sees the same inode and writes a whiteout per old entry)
    ovl_ids, tree_ids = (Store.open().get(n).config().diff_ids for n in ("ovl:1", "tree:1"))  # type: ignore[union-attr]
    assert ovl_ids[:3] == tree_ids[:3] and len(ovl_ids) == len(tree_ids) == 4
    assert overlay.built == tree.built == 3


def test_build_tree_fallback_without_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("the test drops from root to nobody")
    require_tool("bwrap")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is missing")
    probe = subprocess.run([setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", "unshare", "-U",
                            "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"unprivileged user namespaces are disabled here: {probe.stderr.decode().strip()}")
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(prefix="dy-nobody-"))  # pytest's own tmp dirs are private to root
    os.chmod(tmp_path, 0o755)
    home = tmp_path / "home"
    home.mkdir()
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox:test\nRUN echo built-as-nobody > /out && mkdir /made\n")
    rootfs = make_rootfs(tmp_path / "rootfs")
    os.environ["DOCKYARD_HOME"], old = str(home), os.environ.get("DOCKYARD_HOME")
    try:
        with imported(rootfs) as image:
            Store.open().write(image, ["busybox:test"])
    finally:
        if old is not None:
            os.environ["DOCKYARD_HOME"] = old
    subprocess.run(["chown", "-R", "65534:65534", str(home), str(ctx)], check=True)
    env = {**os.environ, "DOCKYARD_HOME": str(home), "HOME": str(tmp_path), "DOCKYARD_SANDBOX": ""}
    proc = subprocess.run([setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups",
                           str(Path(sys.executable).parent / "dockyard"), "build", "-t", "nobody:1", str(ctx)],
                          capture_output=True, text=True, env=env, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "overlayfs mounts need root" in proc.stderr and "tree-diff fallback with bwrap" in proc.stderr
    os.environ["DOCKYARD_HOME"] = str(home)
    try:
        image = Store.open().get("nobody:1")
        from dockyard.layers.extract import extract_layers

        out = tmp_path / "out"
        extract_layers(image.layers(), out, preserve_owners=True)  # type: ignore[union-attr]
    finally:
        if old is not None:
            os.environ["DOCKYARD_HOME"] = old
    assert (out / "out").read_text() == "built-as-nobody\n"
    assert os.lstat(out / "made").st_uid == 0  # the step's root, not the unprivileged host user
    shutil.rmtree(tmp_path, ignore_errors=True)

