"""The wrapper every driver goes through: path validation once, plus byte and operation counters for /metrics."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from dockyard.errors import Error
from dockyard.registry.storage.base import (
    CHUNK,
    FileInfo,
    FileWriter,
    LocalFiles,
    StorageDriver,
    check_dir_path,
    check_path,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


@dataclass(frozen=True, slots=True)
class StorageStats:
    """A snapshot of a CheckedDriver's counters since it was created."""

    bytes_read: int = 0
    """Bytes returned by `get_content` and by readers (sendfile through `local_path` is not seen here)."""
    bytes_written: int = 0
    """Bytes given to `put_content` and to writers (committed or not)."""
    errors: int = 0
    """Calls that raised a dockyard error (NotFound included), invalid paths included."""
    get_content: int = 0
    put_content: int = 0
    reader: int = 0
    writer: int = 0
    commit: int = 0
    cancel: int = 0
    stat: int = 0
    list: int = 0
    move: int = 0
    delete: int = 0
    redirect_url: int = 0
    local_path: int = 0

    def items(self) -> tuple[tuple[str, int], ...]:
        """(counter name, value) pairs in declaration order, for exporters."""
        return tuple((field.name, getattr(self, field.name)) for field in fields(self))


class _Counters:
    """The mutable side of StorageStats, behind a lock (drivers are called from many threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = {field.name: 0 for field in fields(StorageStats)}

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] += amount

    def snapshot(self) -> StorageStats:
        with self._lock:
            return StorageStats(**self._values)

    @contextmanager
    def op(self, name: str) -> Iterator[None]:
        """Count one call of operation `name`, and an error if it raises one of ours."""
        self.add(name)
        try:
            yield
        except Error:
            self.add("errors")
            raise


class CheckedDriver:
    """Validates every path with `check_path` before `inner` sees it, and counts what passes through."""

    def __init__(self, inner: StorageDriver) -> None:
        self.inner = inner
        self._counters = _Counters()
        self._op = self._counters.op

    def stats(self) -> StorageStats:
        return self._counters.snapshot()

    def get_content(self, path: str) -> bytes:
        with self._op("get_content"):
            content = self.inner.get_content(check_path(path))
        self._counters.add("bytes_read", len(content))
        return content

    def put_content(self, path: str, content: bytes) -> None:
        with self._op("put_content"):
            self.inner.put_content(check_path(path), content)
        self._counters.add("bytes_written", len(content))

    def reader(self, path: str, offset: int = 0) -> BinaryIO:
        with self._op("reader"):
            stream = self.inner.reader(check_path(path), offset)
        return io.BufferedReader(_CountingStream(stream, self._counters), CHUNK)

    def writer(self, path: str, *, append: bool = False) -> FileWriter:
        with self._op("writer"):
            return _CountingWriter(self.inner.writer(check_path(path), append=append), self._counters)

    def stat(self, path: str) -> FileInfo:
        with self._op("stat"):
            return self.inner.stat(check_path(path))

    def list(self, path: str) -> list[str]:
        with self._op("list"):
            return self.inner.list(check_dir_path(path))

    def move(self, src: str, dst: str) -> None:
        with self._op("move"):
            self.inner.move(check_path(src), check_path(dst))

    def delete(self, path: str) -> None:
        with self._op("delete"):
            self.inner.delete(check_path(path))

    def redirect_url(self, path: str, method: str) -> str | None:
        with self._op("redirect_url"):
            return self.inner.redirect_url(check_path(path), method)

    def local_path(self, path: str) -> Path | None:
        """The inner driver's local file for `path`, or None when the inner driver is not local."""
        if not isinstance(self.inner, LocalFiles):
            return None
        with self._op("local_path"):
            return self.inner.local_path(check_path(path))


class _CountingStream(io.RawIOBase):
    """A raw stream over a driver reader that counts the bytes it hands out."""

    def __init__(self, inner: BinaryIO, counters: _Counters) -> None:
        self._inner = inner
        self._counters = counters

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(len(view))
        size = len(data)
        view[:size] = data
        self._counters.add("bytes_read", size)
        return size

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


class _CountingWriter:
    """A FileWriter that counts bytes, commits and cancels on the way to the inner writer."""

    def __init__(self, inner: FileWriter, counters: _Counters) -> None:
        self._inner = inner
        self._counters = counters

    @property
    def size(self) -> int:
        return self._inner.size

    def write(self, data: bytes) -> int:
        written = self._inner.write(data)
        self._counters.add("bytes_written", written)
        return written

    def commit(self) -> None:
        with self._counters.op("commit"):
            self._inner.commit()

    def cancel(self) -> None:
        with self._counters.op("cancel"):
            self._inner.cancel()

    def close(self) -> None:
        self._inner.close()
