"""Mounting an overlayfs root (read-only lower trees under one writable upper dir) that is always unmounted.

The lowerdir option lists the TOP layer first. Mount options must fit in one page (4096 bytes), so when the
absolute lower paths are too long they are replaced by short relative symlinks (`0`, `1`, ...) in a private
temporary directory and `mount(8)` runs with that directory as its working directory: the kernel resolves each
lowerdir path (relative to the caller's cwd, following symlinks) at mount time, so the links can be removed right
after. (The process-wide cwd of this Python process is never changed: other threads may rely on it.)
The kernel stacks at most 500 lowers (OVL_MAX_STACK); more raise LimitExceeded. An empty
lower list (the `scratch` base) mounts over one empty directory, since overlay needs at least one lower.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from dockyard.errors import LimitExceeded, Unsupported

MAX_LOWERS = 500
_PAGE = 4096
_MNT_DETACH = 2
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _mount(source: str, target: str, fstype: str, data: str) -> None:
    if _libc.mount(source.encode(), os.fsencode(target), fstype.encode(), ctypes.c_ulong(0),
                   os.fsencode(data)) != 0:
        err = ctypes.get_errno()
        raise Unsupported(f"cannot mount {fstype} on {target}: {os.strerror(err)} "
                          "(overlayfs needs root and a kernel with overlay support)")


def unmount(target: Path, *, lazy: bool = False) -> None:
    """Unmount `target`; `lazy` detaches it even while busy (MNT_DETACH)."""
    if _libc.umount2(os.fsencode(target), _MNT_DETACH if lazy else 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"cannot unmount {target}: {os.strerror(err)}")


def is_mounted(target: Path) -> bool:
    """True when `target` is a mount point listed in /proc/self/mounts."""
    want = os.fsencode(os.path.realpath(target)).replace(b" ", b"\\040")
    with open("/proc/self/mounts", "rb") as f:
        return any(line.split(b" ")[1] == want for line in f)


#: Whatever the module defaults: a renamed lower dir must be copied up whole (no `redirect` xattr) and a
#: chown/chmod must copy file data (no metadata-only copy-up), or the upper dir would not hold the content.
_FEATURES = "redirect_dir=off,metacopy=off,index=off"


def _options(lowers: Sequence[str], upper: Path, work: Path) -> str:
    return f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={work},{_FEATURES}"


def _check_path(path: Path) -> str:
    text = os.fspath(path)
    if any(c in text for c in ":,\\"):
        raise Unsupported(f"overlay paths cannot contain ':', ',' or '\\': {text!r}")
    return text


@contextmanager
def overlay_mount(lowers: Sequence[Path], upper: Path, work: Path, merged: Path) -> Iterator[Path]:
    """Mount `lowers` (oldest first) under `upper` at `merged`; yields `merged`, always unmounts on exit.

    On a failed plain unmount (the tree is busy) the mount is detached lazily, so it never outlives the block.
    """
    if len(lowers) > MAX_LOWERS:
        raise LimitExceeded(f"{len(lowers)} layers exceed overlayfs's limit of {MAX_LOWERS} lower directories")
    for path in (upper, work, merged):
        path.mkdir(parents=True, exist_ok=True)
    upper_s, work_s = _check_path(upper), _check_path(work)
    with tempfile.TemporaryDirectory(prefix="dy-ovl-") as scratch:  # kept while mounted: it may hold the empty lower
        top_first = [_check_path(p) for p in reversed(lowers)]
        if not top_first:
            empty = Path(scratch) / "empty"
            empty.mkdir()
            top_first = [str(empty)]
        if len(_options(top_first, upper, work)) >= _PAGE - 64:
            for n, target in enumerate(top_first):
                os.symlink(target, f"{scratch}/{n}")
            options = _options([str(n) for n in range(len(top_first))], Path(upper_s), Path(work_s))
            done = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, os.fspath(merged)],
                                  cwd=scratch, capture_output=True, text=True, check=False)
            if done.returncode:
                raise Unsupported(f"cannot mount overlay on {merged}: {done.stderr.strip()}")
        else:
            _mount("overlay", os.fspath(merged), "overlay", _options(top_first, Path(upper_s), Path(work_s)))
        with _unmounted_after(merged):
            yield merged


@contextmanager
def root_mount(lowers: Sequence[Path], upper: Path | None, work: Path, merged: Path) -> Iterator[Path]:
    """The root a sandbox runs in: `overlay_mount` at `merged`, or with `upper` None the one lower tree itself,
    written in place (the tree-diff fallback, where no overlay can be mounted)."""
    if upper is None:
        if len(lowers) != 1:
            raise Unsupported("a sandbox without an upper dir runs on exactly one root tree")
        yield lowers[0]
        return
    with overlay_mount(lowers, upper, work, merged) as mounted:
        yield mounted


@contextmanager
def readonly_mount(lowers: Sequence[Path], merged: Path) -> Iterator[Path]:
    """A read-only overlay of `lowers` (oldest first, at least one) at `merged`: an image's merged view with
    its whiteouts applied and nothing written. Unsupported when the options would not fit in one page."""
    if not lowers or len(lowers) > MAX_LOWERS - 1:
        raise LimitExceeded(f"a read-only overlay takes 1 to {MAX_LOWERS - 1} lower directories, not {len(lowers)}")
    merged.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dy-ovl-") as scratch:  # overlay wants two lowers without an upper
        empty = Path(scratch) / "empty"
        empty.mkdir()
        top_first = [_check_path(p) for p in reversed([empty, *lowers])]
        options = f"lowerdir={':'.join(top_first)},{_FEATURES}"
        if len(options) >= _PAGE - 64:
            raise Unsupported(f"{len(lowers)} lower directories do not fit in one overlay mount")
        _mount("overlay", os.fspath(merged), "overlay", options)
        with _unmounted_after(merged):
            yield merged


@contextmanager
def _unmounted_after(merged: Path) -> Iterator[None]:
    """Unmount `merged` on exit; a busy tree is detached lazily, so the mount never outlives the block."""
    try:
        yield
    finally:
        try:
            unmount(merged)
        except OSError:
            unmount(merged, lazy=True)
