"""Fixtures for the layers tests: a rich real directory tree and a comparable snapshot of any tree."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.testing.peers import require_tool

#: Far in the future: passing it as source_date_epoch disables mtime clamping in round-trip tests.
NO_CLAMP = 8**11 - 1

Snapshot = dict[str, tuple[object, ...]]


def snapshot(root: Path, *, mtimes: bool = True, owners: bool = True) -> Snapshot:
    """type, permission bits, content hash / link target / rdev, hardlink group, owner and mtime of every path."""
    out: Snapshot = {}
    by_inode: dict[int, list[str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            detail: object = None
            if stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    detail = hashlib.sha256(f.read()).hexdigest()
                if st.st_nlink > 1:
                    by_inode.setdefault(st.st_ino, []).append(rel)
            elif stat.S_ISLNK(st.st_mode):
                detail = os.readlink(full)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                detail = (os.major(st.st_rdev), os.minor(st.st_rdev))
            keep_time = mtimes and not stat.S_ISLNK(st.st_mode)
            out[rel] = (stat.S_IFMT(st.st_mode), None if stat.S_ISLNK(st.st_mode) else stat.S_IMODE(st.st_mode),
                        detail, (st.st_uid, st.st_gid) if owners else None, int(st.st_mtime) if keep_time else None)
    for paths in by_inode.values():
        group = min(paths)
        for rel in paths:
            out[rel] = (*out[rel], f"link-group:{group}")
    return out


@pytest.fixture
def snap() -> Callable[..., Snapshot]:
    return snapshot


def make_tree(root: Path) -> Path:
    """A tree with what layers carry: nesting, empty dirs, odd modes, long and unicode names, links, a big file."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "etc").mkdir()
    (root / "etc" / "hostname").write_text("dockyard\n")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "empty").mkdir()
    (root / "ro").mkdir()
    (root / "ro" / "file").write_bytes(b"read only")
    os.chmod(root / "ro" / "file", 0o444)
    (root / "bin").mkdir()
    (root / "bin" / "tool").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(root / "bin" / "tool", 0o4755)
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)
    deep = root / "deep" / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    (deep / ("f" * 90)).write_bytes(b"long name content")
    (root / "unicodé ✓").mkdir()
    (root / "unicodé ✓" / "naïve-文件.txt").write_text("unicode")
    os.symlink("hostname", root / "etc" / "alias")
    os.symlink("/etc/passwd", root / "abs-link")
    os.symlink("../" * 3 + "x" * 120, root / "long-target-link")
    os.symlink("missing", root / "dangling")
    os.link(root / "etc" / "passwd", root / "bin" / "passwd-hardlink")
    os.link(root / "etc" / "passwd", root / "zz-another-link")
    with open(root / "sparse.img", "wb") as f:
        f.truncate(12 << 20)
        f.seek(5 << 20)
        f.write(b"middle")
    os.chmod(root / "ro", 0o555)
    return root


def make_root_only_tree(root: Path) -> None:
    """Devices, a FIFO and foreign owners (needs root)."""
    os.mknod(root / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mkfifo(root / "pipe", 0o600)
    (root / "owned").write_text("owned")
    os.chown(root / "owned", 1234, 5678)


def make_socket(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "tree")


@pytest.fixture
def busybox_root(tmp_path: Path) -> Path:
    """A real tiny rootfs: busybox-static plus its `--install -s` symlinks."""
    require_tool("busybox")
    root = tmp_path / "busybox-root"
    (root / "bin").mkdir(parents=True)
    shutil.copy2("/bin/busybox", root / "bin" / "busybox")
    subprocess.run([str(root / "bin" / "busybox"), "--install", "-s", str(root / "bin")], check=True)
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    return root


@pytest.fixture
def tree_factory() -> Callable[[Path], Path]:
    return make_tree


@pytest.fixture
def add_root_only() -> Callable[[Path], None]:
    """Adds devices, a FIFO and foreign owners to a tree; skips the test when not root."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create device nodes and chown")
    return make_root_only_tree


@pytest.fixture
def add_socket() -> Callable[[Path], None]:
    return make_socket
