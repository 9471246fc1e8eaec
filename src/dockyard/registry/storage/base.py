"""The storage driver contract (distribution's driver, in typed Python) and its path rules.

Paths are driver-relative, '/'-separated, absolute-looking keys such as `/blobs/sha256/ab/abcd.../data`:
they must start with '/', contain no empty, '.' or '..' components, and only `[A-Za-z0-9._-]` characters
per component. `check_path` enforces this once so drivers never repeat it. Drivers never return HTTP
responses and never know about routes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from dockyard.errors import InvalidArgument, NotFound

_COMPONENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z")


def check_path(path: str) -> str:
    """Return `path` or raise InvalidArgument if it is not a valid driver path."""
    if not path.startswith("/") or path == "/":
        raise InvalidArgument(f"invalid storage path {path!r}: must start with '/' and name something")
    for part in path[1:].split("/"):
        if not _COMPONENT.match(part) or part in (".", ".."):
            raise InvalidArgument(f"invalid storage path {path!r}: bad component {part!r}")
    return path


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What `stat` knows about a path."""

    path: str
    size: int
    mod_time: float
    is_dir: bool


class FileWriter(Protocol):
    """A handle that appends bytes to a pending file; nothing is visible at `path` until `commit`."""

    @property
    def size(self) -> int:
        """Bytes written so far (including those of an appended-to upload)."""
        ...

    def write(self, data: bytes) -> int: ...

    def commit(self) -> None:
        """Make the content durable and visible at the writer's path (fsync + atomic rename for files)."""
        ...

    def cancel(self) -> None:
        """Discard everything written through this writer."""
        ...

    def close(self) -> None:
        """Release the handle; uncommitted content stays resumable when opened with append=True."""
        ...


@runtime_checkable
class StorageDriver(Protocol):
    """Byte storage keyed by path. Every method raises dockyard.errors.NotFound for a missing path."""

    def get_content(self, path: str) -> bytes:
        """Small files only (links, manifests): the whole content."""
        ...

    def put_content(self, path: str, content: bytes) -> None:
        """Atomically replace the content at `path`."""
        ...

    def reader(self, path: str, offset: int = 0) -> BinaryIO: ...

    def writer(self, path: str, *, append: bool = False) -> FileWriter: ...

    def stat(self, path: str) -> FileInfo: ...

    def list(self, path: str) -> list[str]:
        """Full paths of the direct children of directory `path`, sorted."""
        ...

    def move(self, src: str, dst: str) -> None:
        """Atomically move `src` to `dst`, replacing `dst`."""
        ...

    def delete(self, path: str) -> None:
        """Delete a file or a whole directory tree."""
        ...

    def redirect_url(self, path: str, method: str) -> str | None:
        """A URL clients may fetch directly (presigned S3), or None to serve through the registry."""
        ...


@runtime_checkable
class LocalFiles(Protocol):
    """Optional capability: the driver keeps files on a local filesystem (lets the server use sendfile)."""

    def local_path(self, path: str) -> Path | None: ...


#: The streaming unit: drivers and their callers move bytes in chunks of this size, never whole files.
CHUNK = 1 << 20


def check_dir_path(path: str) -> str:
    """Like `check_path`, but also accept the root '/' (for `list` and `walk`)."""
    return path if path == "/" else check_path(path)


def child_path(parent: str, name: str) -> str:
    """The driver path of entry `name` inside directory `parent` ('/' included)."""
    return f"{parent.rstrip('/')}/{name}"


def walk(driver: StorageDriver, path: str = "/") -> Iterator[FileInfo]:
    """Every file and directory below directory `path`, parents first, each directory's children sorted.

    Built on `list` + `stat` so every driver gets it; entries deleted while walking are skipped.
    """
    for child in driver.list(path):
        try:
            info = driver.stat(child)
        except NotFound:
            continue
        yield info
        if info.is_dir:
            try:
                yield from walk(driver, child)
            except NotFound:
                continue
