"""The filesystem storage driver: driver paths are files under one root, written by fsync + atomic rename.

Layout of `root` (the one place it is documented):

    <root>/
      .uploads/                 pending writes; never visible to the driver's callers (a leading '.' is not a
        <path>                  valid driver path, and `list` skips such names). One file per driver path being
                                written, at the same relative path, so `writer(path, append=True)` finds it again
                                after a restart and `delete` of a directory discards the uploads under it too.
        .put-<random>           `put_content`'s private temp files (a crash may leave one; nothing reads them).
      <path>                    committed files at their driver path, e.g. <root>/docker/registry/v2/blobs/...

A pending file is locked (flock) while a writer has it open, so a second writer for the same path, in this or
another process, gets Conflict; the kernel drops the lock when a writer's process dies. `commit` fsyncs the
file, renames it into place and fsyncs the target directory. Directories exist only while they hold something:
`delete` and `move` remove the parents they leave empty, so all drivers agree on what `stat` and `list` see.
`.uploads` must live on the same filesystem as the rest of `root` (no mount points inside `root`).
Paths are trusted here: wrap the driver in `CheckedDriver`, which validates them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.registry.storage.base import CHUNK, FileInfo, child_path

UPLOADS = ".uploads"
_RETRIES = 32
_T = TypeVar("_T")


class FilesystemDriver:
    """StorageDriver and LocalFiles over the directory `root` (created if missing)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.uploads = self.root / UPLOADS
        self.uploads.mkdir(parents=True, exist_ok=True)

    def _real(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def _pending(self, path: str) -> Path:
        return self.uploads / path.lstrip("/")

    # -- reading -------------------------------------------------------------------------------------------

    def get_content(self, path: str) -> bytes:
        try:
            return self._real(path).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(f"storage path {path} not found") from None

    def reader(self, path: str, offset: int = 0) -> BinaryIO:
        if offset < 0:
            raise InvalidArgument(f"invalid read offset {offset} for {path}")
        try:
            stream = open(self._real(path), "rb")  # the caller owns the stream
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(f"storage path {path} not found") from None
        stream.seek(offset)
        return stream

    def stat(self, path: str) -> FileInfo:
        try:
            st = self._real(path).stat()
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"storage path {path} not found") from None
        is_dir = stat.S_ISDIR(st.st_mode)
        return FileInfo(path=path, size=0 if is_dir else st.st_size, mod_time=st.st_mtime, is_dir=is_dir)

    def list(self, path: str) -> list[str]:
        try:
            with os.scandir(self._real(path)) as entries:
                names = [entry.name for entry in entries if not entry.name.startswith(".")]
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"storage directory {path} not found") from None
        return sorted(child_path(path, name) for name in names)

    def redirect_url(self, path: str, method: str) -> str | None:
        return None

    def local_path(self, path: str) -> Path | None:
        real = self._real(path)
        if not real.is_file():
            raise NotFound(f"storage path {path} not found")
        return real

    # -- writing -------------------------------------------------------------------------------------------

    def put_content(self, path: str, content: bytes) -> None:
        fd, temp = tempfile.mkstemp(prefix=".put-", dir=self.uploads)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            self._install(temp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)

    def writer(self, path: str, *, append: bool = False) -> FilesystemWriter:
        pending = self._pending(path)
        if append:
            try:
                return FilesystemWriter(self, path, _lock_open(pending, path, create=False), truncate=False)
            except (FileNotFoundError, NotADirectoryError):
                pass
            try:
                committed = open(self._real(path), "rb")  # closed by the `with` below
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                raise NotFound(f"nothing to append to at storage path {path}") from None
            with committed:
                writer = FilesystemWriter(self, path, self._fresh_pending(path), truncate=True)
                try:
                    shutil.copyfileobj(committed, writer, CHUNK)
                except BaseException:
                    writer.cancel()
                    raise
                return writer
        return FilesystemWriter(self, path, self._fresh_pending(path), truncate=True)

    def _fresh_pending(self, path: str) -> int:
        pending = self._pending(path)
        return _with_parents(pending, path, lambda: _lock_open(pending, path))

    def _install(self, source: str | Path, path: str) -> None:
        """Atomically rename `source` to driver path `path`, creating parents, and fsync the directory."""
        target = self._real(path)
        if target.is_dir():
            raise Conflict(f"storage path {path} is a directory")
        _with_parents(target, path, lambda: os.replace(source, target), source)
        _fsync_dir(target.parent)

    def move(self, src: str, dst: str) -> None:
        source, target = self._real(src), self._real(dst)
        if not os.path.lexists(source):
            raise NotFound(f"storage path {src} not found")
        if src == dst:
            return
        if dst.startswith(src + "/"):
            raise InvalidArgument(f"cannot move {src} into itself ({dst})")
        if os.path.lexists(target) and (source.is_dir() or target.is_dir()):
            raise Conflict(f"cannot move {src} over existing {dst}: a directory is involved")
        _with_parents(target, dst, lambda: os.replace(source, target), source)
        _fsync_dir(target.parent)
        _fsync_dir(source.parent)
        self._prune(source.parent, self.root)

    def delete(self, path: str) -> None:
        found = False
        for tree, real in ((self.root, self._real(path)), (self.uploads, self._pending(path))):
            if _remove(real, path):
                found = True
                self._prune(real.parent, tree)
        if not found:
            raise NotFound(f"storage path {path} not found")

    def _prune(self, directory: Path, stop: Path) -> None:
        """Remove `directory` and its parents up to (not including) `stop` while they are empty."""
        while directory != stop and stop in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent


class FilesystemWriter:
    """A locked pending file under `.uploads`; `commit` renames it to its driver path."""

    def __init__(self, driver: FilesystemDriver, path: str, fd: int, truncate: bool) -> None:
        self._driver = driver
        self.path = path
        self._file = os.fdopen(fd, "r+b")
        self._done = False
        if truncate:
            self._file.truncate(0)
        self._size = self._file.seek(0, os.SEEK_END)

    @property
    def size(self) -> int:
        return self._size

    def _live(self) -> None:
        if self._done:
            raise Conflict(f"writer for storage path {self.path} is already closed")

    def write(self, data: bytes) -> int:
        self._live()
        written = self._file.write(data)
        self._size += written
        return written

    def commit(self) -> None:
        self._live()
        pending = self._driver._pending(self.path)
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            if not _same_file(self._file.fileno(), pending):
                raise NotFound(f"pending upload for storage path {self.path} was deleted")
            self._driver._install(pending, self.path)
        finally:
            self.close()
        self._driver._prune(pending.parent, self._driver.uploads)

    def cancel(self) -> None:
        self._live()
        pending = self._driver._pending(self.path)
        try:
            if _same_file(self._file.fileno(), pending):
                pending.unlink()
        finally:
            self.close()
        self._driver._prune(pending.parent, self._driver.uploads)

    def close(self) -> None:
        if not self._done:
            self._done = True
            self._file.close()  # also releases the flock


def _lock_open(pending: Path, path: str, *, create: bool = True) -> int:
    """Open and flock `pending`; Conflict if another writer holds it, FileNotFoundError if absent and not `create`."""
    while True:
        fd = os.open(pending, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            hint = "retry once it commits or closes"
            raise Conflict(f"another writer has storage path {path} open", hint=hint) from None
        if _same_file(fd, pending):
            return fd
        os.close(fd)  # committed or cancelled between our open and our lock: start again
        if not create:
            raise FileNotFoundError(pending)


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _with_parents(target: Path, path: str, action: Callable[[], _T], source: str | Path | None = None) -> _T:
    """Run `action` after creating `target`'s parents, retrying if a concurrent prune removes them."""
    for _ in range(_RETRIES):
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            return action()
        except FileNotFoundError:
            if source is not None and not os.path.lexists(source):
                raise NotFound(f"the source for storage path {path} vanished") from None
        except (NotADirectoryError, FileExistsError, IsADirectoryError):
            if _blocked(target):
                raise Conflict(f"storage path {path}: a file is in the way of a directory, or the reverse") from None
    raise Conflict(f"storage path {path}: its directory keeps disappearing under concurrent deletes")


def _remove(real: Path, path: str) -> bool:
    """Remove the file or directory tree at `real`; False if there was nothing. Survives concurrent changes."""
    try:
        real.unlink()
        return True
    except (FileNotFoundError, NotADirectoryError):
        return False
    except IsADirectoryError:
        pass
    for _ in range(_RETRIES):
        try:
            shutil.rmtree(real)
            return True
        except FileNotFoundError:  # something inside went away under us: go again
            if not os.path.lexists(real):
                return True
        except OSError as exc:  # something was added, or the directory replaced ("symbolic link"): go again
            if exc.errno not in (errno.ENOTEMPTY, None):
                raise
    raise Conflict(f"storage path {path} keeps changing while it is being deleted")


def _blocked(target: Path) -> bool:
    """True if `target` is a directory or an existing parent is not (rather than a race with a prune)."""
    return _kind(target) == "dir" or any(_kind(parent) == "other" for parent in target.parents)


def _kind(path: Path) -> str:
    """'dir', 'other' or 'missing', from one stat call so a concurrent rmdir cannot split the answer."""
    try:
        return "dir" if stat.S_ISDIR(os.stat(path).st_mode) else "other"
    except (FileNotFoundError, NotADirectoryError):
        return "missing"


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return  # pruned concurrently: nothing left to make durable
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
