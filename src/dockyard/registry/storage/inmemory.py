"""The in-memory storage driver, for tests: the filesystem driver's semantics over dicts, behind one lock.

Directories are implicit (a directory exists while some file lives below it), pending writes live apart from
committed files until `commit`, and one writer at a time may hold a path, as with the filesystem driver.
"""

from __future__ import annotations

import io
import threading
import time
from typing import BinaryIO

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.registry.storage.base import FileInfo, child_path


def _prefix(path: str) -> str:
    return path.rstrip("/") + "/"


def _under(key: str, path: str) -> bool:
    return key == path or key.startswith(_prefix(path))


class InMemoryDriver:
    """A StorageDriver that keeps everything in process memory; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, tuple[bytes, float]] = {}
        self._pending: dict[str, bytearray] = {}
        self._writing: dict[str, bytearray] = {}  # path -> the pending buffer an open writer holds

    # -- helpers (call with the lock held) -----------------------------------------------------------------

    def _is_dir(self, path: str) -> bool:
        prefix = _prefix(path)
        return any(key.startswith(prefix) for key in self._files)

    def _check_placeable(self, path: str) -> None:
        """Conflict if a file could not live at `path` on a filesystem (an ancestor is a file, or it is a dir)."""
        parts = path.split("/")
        for depth in range(2, len(parts)):
            if "/".join(parts[:depth]) in self._files:
                raise Conflict(f"storage path {path}: a file is in the way of a directory, or the reverse")
        if self._is_dir(path):
            raise Conflict(f"storage path {path} is a directory")

    def _content(self, path: str) -> bytes:
        entry = self._files.get(path)
        if entry is None:
            raise NotFound(f"storage path {path} not found")
        return entry[0]

    # -- reading -------------------------------------------------------------------------------------------

    def get_content(self, path: str) -> bytes:
        with self._lock:
            return self._content(path)

    def reader(self, path: str, offset: int = 0) -> BinaryIO:
        if offset < 0:
            raise InvalidArgument(f"invalid read offset {offset} for {path}")
        with self._lock:
            stream = io.BytesIO(self._content(path))
        stream.seek(offset)
        return stream

    def stat(self, path: str) -> FileInfo:
        with self._lock:
            entry = self._files.get(path)
            if entry is not None:
                return FileInfo(path=path, size=len(entry[0]), mod_time=entry[1], is_dir=False)
            prefix = _prefix(path)
            times = [mtime for key, (_, mtime) in self._files.items() if key.startswith(prefix)]
        if not times:
            raise NotFound(f"storage path {path} not found")
        return FileInfo(path=path, size=0, mod_time=max(times), is_dir=True)

    def list(self, path: str) -> list[str]:
        prefix = _prefix(path)
        with self._lock:
            names = {key[len(prefix) :].split("/", 1)[0] for key in self._files if key.startswith(prefix)}
        if not names and path != "/":
            raise NotFound(f"storage directory {path} not found")
        return sorted(child_path(path, name) for name in names)

    def redirect_url(self, path: str, method: str) -> str | None:
        return None

    # -- writing -------------------------------------------------------------------------------------------

    def put_content(self, path: str, content: bytes) -> None:
        with self._lock:
            self._check_placeable(path)
            self._files[path] = (bytes(content), time.time())

    def writer(self, path: str, *, append: bool = False) -> InMemoryWriter:
        with self._lock:
            held = self._writing.get(path)
            if held is not None and held is self._pending.get(path):
                raise Conflict(f"another writer has storage path {path} open", hint="retry once it commits or closes")
            buffer = self._pending.get(path) if append else None
            if buffer is None:
                buffer = bytearray(self._content(path)) if append else bytearray()
                self._pending[path] = buffer
            self._writing[path] = buffer
        return InMemoryWriter(self, path, buffer)

    def _commit(self, path: str, buffer: bytearray) -> None:
        with self._lock:
            if self._pending.get(path) is not buffer:
                raise NotFound(f"pending upload for storage path {path} was deleted")
            self._check_placeable(path)
            self._files[path] = (bytes(buffer), time.time())
            del self._pending[path]

    def _cancel(self, path: str, buffer: bytearray) -> None:
        with self._lock:
            if self._pending.get(path) is buffer:
                del self._pending[path]

    def _release(self, path: str, buffer: bytearray) -> None:
        with self._lock:
            if self._writing.get(path) is buffer:
                del self._writing[path]

    def move(self, src: str, dst: str) -> None:
        with self._lock:
            is_file = src in self._files
            if not is_file and not self._is_dir(src):
                raise NotFound(f"storage path {src} not found")
            if src == dst:
                return
            if dst.startswith(_prefix(src)):
                raise InvalidArgument(f"cannot move {src} into itself ({dst})")
            if self._is_dir(dst) or (not is_file and dst in self._files):
                raise Conflict(f"cannot move {src} over existing {dst}: a directory is involved")
            self._check_placeable(dst)
            for key in [key for key in self._files if _under(key, src)]:
                self._files[dst + key[len(src) :]] = self._files.pop(key)

    def delete(self, path: str) -> None:
        with self._lock:
            doomed = [key for key in self._files if _under(key, path)]
            pending = [key for key in self._pending if _under(key, path)]
            if not doomed and not pending:
                raise NotFound(f"storage path {path} not found")
            for key in doomed:
                del self._files[key]
            for key in pending:
                del self._pending[key]


class InMemoryWriter:
    """Appends to a pending buffer that `commit` publishes as the file's content."""

    def __init__(self, driver: InMemoryDriver, path: str, buffer: bytearray) -> None:
        self._driver = driver
        self.path = path
        self._buffer = buffer
        self._done = False

    @property
    def size(self) -> int:
        return len(self._buffer)

    def _live(self) -> None:
        if self._done:
            raise Conflict(f"writer for storage path {self.path} is already closed")

    def write(self, data: bytes) -> int:
        self._live()
        with self._driver._lock:
            self._buffer += data
        return len(data)

    def commit(self) -> None:
        self._live()
        try:
            self._driver._commit(self.path, self._buffer)
        finally:
            self.close()

    def cancel(self) -> None:
        self._live()
        self._driver._cancel(self.path, self._buffer)
        self.close()

    def close(self) -> None:
        if not self._done:
            self._done = True
            self._driver._release(self.path, self._buffer)
