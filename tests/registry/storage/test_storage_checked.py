"""CheckedDriver: path validation in one place, and the counters the server's /metrics exports."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.registry.storage import (
    CheckedDriver,
    FilesystemDriver,
    InMemoryDriver,
    StorageDriver,
    StorageStats,
    check_dir_path,
    check_path,
)


def test_storage_checked_counts_bytes_and_operations() -> None:
    driver = CheckedDriver(InMemoryDriver())
    driver.put_content("/a/link", b"12345")
    assert driver.get_content("/a/link") == b"12345"
    with driver.reader("/a/link", 1) as stream:
        assert stream.read(2) == b"23"
        assert stream.read() == b"45"
    writer = driver.writer("/a/data")
    writer.write(b"abc")
    assert writer.size == 3
    writer.commit()
    with pytest.raises(NotFound):
        driver.stat("/missing")
    with pytest.raises(InvalidArgument):
        driver.stat("/../etc/passwd")
    driver.move("/a/data", "/b/data")
    driver.delete("/b")
    assert driver.list("/") == ["/a"]
    stats = driver.stats()
    assert (stats.bytes_read, stats.bytes_written) == (5 + 4, 5 + 3)
    assert (stats.put_content, stats.get_content, stats.reader, stats.writer, stats.commit) == (1, 1, 1, 1, 1)
    assert (stats.stat, stats.errors, stats.move, stats.delete, stats.list) == (2, 2, 1, 1, 1)
    assert stats.items()[:3] == (("bytes_read", 9), ("bytes_written", 8), ("errors", 2))


def test_storage_stats_are_a_frozen_snapshot() -> None:
    driver = CheckedDriver(InMemoryDriver())
    before = driver.stats()
    driver.put_content("/x", b"x")
    assert before == StorageStats()
    assert driver.stats().put_content == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.put_content = 3  # type: ignore[misc]


def test_storage_checked_counts_cancel() -> None:
    driver = CheckedDriver(InMemoryDriver())
    writer = driver.writer("/x")
    writer.write(b"12")
    writer.cancel()
    with pytest.raises(Conflict):
        writer.cancel()
    stats = driver.stats()
    assert (stats.cancel, stats.errors, stats.bytes_written) == (2, 1, 2)


@pytest.mark.parametrize("path", ["/a\n", "/a/\n", "/\u0430", "/a/.", "/a/..", "a", "/a/b/", "/a\tb"])
def test_storage_check_path_rejects(path: str) -> None:
    with pytest.raises(InvalidArgument):
        check_path(path)


def test_storage_check_dir_path_accepts_root_only_extra() -> None:
    assert check_dir_path("/") == "/"
    assert check_dir_path("/a/b") == "/a/b"
    with pytest.raises(InvalidArgument):
        check_dir_path("//")


@pytest.mark.parametrize("kind", ["inmemory", "filesystem"])
def test_storage_file_and_directory_cannot_share_a_path(kind: str, tmp_path: Path) -> None:
    driver: StorageDriver = InMemoryDriver() if kind == "inmemory" else FilesystemDriver(tmp_path)
    driver.put_content("/a", b"file")
    driver.put_content("/d/e", b"x")
    attempts: list[Callable[[], object]] = [
        lambda: driver.put_content("/a/b", b"x"),
        lambda: driver.put_content("/d", b"x"),
        lambda: driver.move("/a", "/d"),
        lambda: driver.move("/d/e", "/a/e"),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict):
            attempt()
    writer = driver.writer("/d")
    writer.write(b"x")
    with pytest.raises(Conflict):
        writer.commit()
    assert (driver.get_content("/a"), driver.get_content("/d/e")) == (b"file", b"x")
