"""Directory-fd file operations confined to an extraction root: the one in-root path resolver under extraction.

Paths are resolved from an open directory fd one component at a time with O_NOFOLLOW. A symlink met on the way is
read and its target resolved again from inside the root, as moby's FollowSymlinkInScope and Go's securejoin do: an
absolute target starts over at the root and `..` stops at the root, so a link (or a chain of links) that points
outside lands inside instead. Nothing is ever opened through the host's path resolution, so neither a symlink
written by a layer nor a concurrent rename can move an operation outside the root.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from enum import Enum

from dockyard.errors import InvalidLayer

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: Symlinks followed while resolving one path before it counts as a loop (Linux's MAXSYMLINKS).
MAX_SYMLINKS = 40


def resolve_dir(root: int, directory: str, *, create: bool, what: str) -> tuple[int, str] | None:
    """A new fd of `directory` under `root`, with symlinks resolved inside the root, and its real relative path.

    The real path has no symlinks, `.` or `..` (the root itself is "."). Missing directories are made (mode 0755)
    with `create`, else the result is None. A non-directory in the way raises InvalidLayer with `create`, else
    gives None; more than MAX_SYMLINKS links (a loop) raise InvalidLayer.
    """
    found = _resolve(root, directory, _Missing.CREATE if create else _Missing.NONE, what)
    if found is None:
        return None
    fd, real = found
    assert fd is not None
    return fd, real


def follow_in_scope(root: int, path: str, *, what: str) -> str:
    """The real relative path that `path` names under `root`, as moby's FollowSymlinkInScope computes it.

    Every symlink on the way, the last component included, is resolved inside the root; components that do not
    exist (and anything below a non-directory) are kept as named. Raises InvalidLayer for a symlink loop.
    """
    found = _resolve(root, path, _Missing.KEEP, what)
    assert found is not None
    if found[0] is not None:
        os.close(found[0])
    return found[1]


class _Missing(Enum):
    CREATE = 1  # make missing directories
    NONE = 2  # give up (None) at a missing component or a non-directory
    KEEP = 3  # keep such components lexically, without an fd


def _resolve(root: int, path: str, missing: _Missing, what: str) -> tuple[int | None, str] | None:
    todo = _components(path)
    fds: list[int | None] = []  # one per real component; None from the first one that is not a directory
    names: list[str] = []
    links = 0
    try:
        while todo:
            part = todo.pop()
            if part == "..":
                if fds:
                    _close(fds.pop())
                    names.pop()
                continue
            here = fds[-1] if fds else root
            if here is None:
                fds.append(None)
                names.append(part)
                continue
            try:
                fd: int | None = os.open(part, DIR_FLAGS, dir_fd=here)
            except FileNotFoundError:
                if missing is _Missing.NONE:
                    return None
                if missing is _Missing.CREATE:
                    with contextlib.suppress(FileExistsError):  # made meanwhile: opened or resolved next round
                        os.mkdir(part, 0o755, dir_fd=here)
                    todo.append(part)
                    continue
                fd = None
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                st = lstat_at(here, part)
                where = "/".join([*names, part])
                if st is not None and stat.S_ISLNK(st.st_mode):
                    links += 1
                    if links > MAX_SYMLINKS:
                        raise InvalidLayer(f"{what}: too many levels of symbolic links resolving {path!r} "
                                           f"(a symlink loop at {where!r}?)") from None
                    target = os.readlink(part, dir_fd=here)
                    if target.startswith("/"):
                        while fds:
                            _close(fds.pop())
                        names.clear()
                    todo.extend(_components(target))
                    continue
                if missing is _Missing.NONE:
                    return None
                if missing is _Missing.CREATE:
                    raise InvalidLayer(f"{what}: {where!r} is not a directory but has entries under it") from None
                fd = None
            fds.append(fd)
            names.append(part)
        found = fds.pop() if fds else os.dup(root)
        return found, "/".join(names) or "."
    finally:
        for fd in fds:
            _close(fd)


def _close(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def _components(path: str) -> list[str]:
    """The components of `path` as a stack (the first one last), without empty and `.` parts."""
    return [p for p in reversed(path.split("/")) if p and p != "."]


def join(parent: str, name: str) -> str:
    """`parent/name` for real relative paths, where the root is "."."""
    return name if parent == "." else f"{parent}/{name}"


def lstat_at(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data):]


def chmod_nofollow(parent: int, name: str, mode: int) -> None:
    """chmod a just-made FIFO or device without following a symlink swapped in by a racer."""
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    try:
        if not stat.S_ISLNK(os.fstat(fd).st_mode):
            os.chmod(f"/proc/self/fd/{fd}", mode)
    finally:
        os.close(fd)
