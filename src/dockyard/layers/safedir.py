"""Directory-fd file operations that never follow a symlink: the confinement layer under extraction.

Every path is resolved from an open directory fd one component at a time with O_NOFOLLOW, so neither a symlink
written by a layer nor a concurrent rename can move an operation outside the extraction root.
"""

from __future__ import annotations

import errno
import os
import stat

from dockyard.errors import InvalidLayer, UnsafePath

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def walk(root: int, directory: str, *, create: bool, what: str) -> int | None:
    """A new fd of `directory` under `root`, opened one component at a time and never through a symlink.

    Missing components are made (mode 0755) with `create`, else the result is None; a symlink component raises
    UnsafePath, a non-directory InvalidLayer (or None without `create`).
    """
    fd = os.dup(root)
    if directory == ".":
        return fd
    done: list[str] = []
    try:
        for part in directory.split("/"):
            done.append(part)
            try:
                nfd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    os.close(fd)
                    return None
                os.mkdir(part, 0o755, dir_fd=fd)
                nfd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                st = lstat_at(fd, part)
                where = "/".join(done)
                if st is not None and stat.S_ISLNK(st.st_mode):
                    raise UnsafePath(f"{what}: {where!r} is a symlink; refusing to go through it",
                                     hint="layers must not place entries under a symlink") from None
                if not create:
                    os.close(fd)
                    return None
                raise InvalidLayer(f"{what}: {where!r} is not a directory but has entries under it") from None
            os.close(fd)
            fd = nfd
    except BaseException:
        os.close(fd)
        raise
    return fd


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
