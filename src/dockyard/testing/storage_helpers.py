"""Helpers shared by the storage-driver conformance cases: expected errors, test data, reads and writes."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager

from dockyard.errors import Error, NotFound
from dockyard.registry.storage.base import CHUNK, StorageDriver

#: Paths CheckedDriver must reject before a driver sees them.
BAD_PATHS = (
    "", "relative/path", "/", "//a", "/a//b", "/a/", "/a/./b", "/a/../b", "/..", "/.hidden", "/a/%2e%2e/b",
    "/%2e", "/caf\u00e9", "/a b", "/a\\b", "/a\nb", "/a\n", "/a\x00b", "/-dash-first", "/a/b?c", "/a:b", "/~",
)  # fmt: skip


@contextmanager
def raises(kind: type[Error]) -> Iterator[None]:
    """Like pytest.raises, without needing pytest."""
    try:
        yield
    except kind:
        return
    raise AssertionError(f"expected {kind.__name__}")


def data(size: int, seed: int = 0) -> bytes:
    """`size` pseudo-random bytes, the same for the same seed."""
    return random.Random(seed).randbytes(size)


def read(driver: StorageDriver, path: str, offset: int = 0) -> bytes:
    """Read a (small) file through `reader`, chunk by chunk."""
    parts = []
    with driver.reader(path, offset) as stream:
        while chunk := stream.read(CHUNK):
            parts.append(chunk)
    return b"".join(parts)


def sha256_of(driver: StorageDriver, path: str) -> str:
    """The sha256 hex digest of a file, read through `reader`."""
    hasher = hashlib.sha256()
    with driver.reader(path) as stream:
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def write_file(driver: StorageDriver, path: str, *chunks: bytes, append: bool = False, commit: bool = True) -> None:
    """Write `chunks` through one writer, then commit it (or only close it)."""
    writer = driver.writer(path, append=append)
    for chunk in chunks:
        assert writer.write(chunk) == len(chunk)
    writer.commit() if commit else writer.close()


def assert_missing(driver: StorageDriver, path: str) -> None:
    """Nothing at `path` is visible to any read call."""
    for call in (driver.stat, driver.get_content, driver.reader, driver.list):
        with raises(NotFound):
            call(path)
