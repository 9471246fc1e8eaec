"""Storage-driver conformance cases about the tree: stat, list, walk, move, delete, paths and concurrency."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.registry.storage.base import CHUNK, StorageDriver, walk
from dockyard.registry.storage.checked import CheckedDriver
from dockyard.testing.storage_helpers import BAD_PATHS, assert_missing, data, raises, read, write_file


class TreeCases:
    """Cases on paths and directories, moves, deletes and concurrent use; one public method each."""

    # -- stat, list, walk -----------------------------------------------------------------------------------------

    def stat_file(self, d: StorageDriver) -> None:
        before = time.time()
        d.put_content("/s/file", b"12345")
        info = d.stat("/s/file")
        assert (info.path, info.size, info.is_dir) == ("/s/file", 5, False)
        assert before - 60 <= info.mod_time <= time.time() + 60
        d.put_content("/s/file", b"123")
        assert d.stat("/s/file").size == 3
        assert d.stat("/s/file").mod_time >= info.mod_time

    def stat_directories(self, d: StorageDriver) -> None:
        d.put_content("/a/b/c", b"x")
        for path in ("/a", "/a/b"):
            info = d.stat(path)
            assert (info.path, info.is_dir) == (path, True)

    def stat_missing(self, d: StorageDriver) -> None:
        with raises(NotFound):
            d.stat("/none")
        d.put_content("/file", b"x")
        with raises(NotFound):
            d.stat("/file/child")

    def list_direct_children_sorted(self, d: StorageDriver) -> None:
        for path in ("/l/b/d", "/l/c.txt", "/l/a", "/l/b/c", "/l-x", "/lz"):
            d.put_content(path, b"x")
        assert d.list("/l") == ["/l/a", "/l/b", "/l/c.txt"]
        assert d.list("/l/b") == ["/l/b/c", "/l/b/d"]
        assert d.list("/") == ["/l", "/l-x", "/lz"]

    def list_empty_root(self, d: StorageDriver) -> None:
        assert d.list("/") == []

    def list_missing_or_file(self, d: StorageDriver) -> None:
        with raises(NotFound):
            d.list("/missing")
        d.put_content("/file", b"x")
        with raises(NotFound):
            d.list("/file")

    def list_hides_pending_uploads(self, d: StorageDriver) -> None:
        writer = d.writer("/p/q")
        writer.write(b"abc")
        d.put_content("/r", b"x")
        assert d.list("/") == ["/r"]
        writer.cancel()

    def walk_visits_every_entry(self, d: StorageDriver) -> None:
        for path in ("/w/b/c", "/w/a", "/x"):
            d.put_content(path, b"x")
        assert [(i.path, i.is_dir) for i in walk(d)] == [
            ("/w", True), ("/w/a", False), ("/w/b", True), ("/w/b/c", False), ("/x", False),
        ]  # fmt: skip

    # -- move, delete ---------------------------------------------------------------------------------------------

    def move_file(self, d: StorageDriver) -> None:
        d.put_content("/m/src", b"content")
        d.move("/m/src", "/m/dst")
        assert_missing(d, "/m/src")
        assert d.get_content("/m/dst") == b"content"
        assert d.list("/m") == ["/m/dst"]

    def move_replaces_existing(self, d: StorageDriver) -> None:
        d.put_content("/src", b"new")
        d.put_content("/dst", b"old old old")
        d.move("/src", "/dst")
        assert d.get_content("/dst") == b"new"
        assert d.list("/") == ["/dst"]

    def move_missing_source(self, d: StorageDriver) -> None:
        d.put_content("/dst", b"kept")
        with raises(NotFound):
            d.move("/src", "/dst")
        assert d.get_content("/dst") == b"kept"

    def move_creates_parents_and_prunes_empty_ones(self, d: StorageDriver) -> None:
        d.put_content("/p1/p2/f", b"x")
        d.move("/p1/p2/f", "/deep/er/path/f")
        assert d.get_content("/deep/er/path/f") == b"x"
        assert_missing(d, "/p1")
        assert d.list("/") == ["/deep"]

    def move_directory_tree(self, d: StorageDriver) -> None:
        d.put_content("/t/a", b"1")
        d.put_content("/t/b/c", b"2")
        d.move("/t", "/u/v")
        assert (d.get_content("/u/v/a"), d.get_content("/u/v/b/c")) == (b"1", b"2")
        assert_missing(d, "/t")

    def move_conflicts(self, d: StorageDriver) -> None:
        d.put_content("/file", b"x")
        d.put_content("/dir/f", b"y")
        with raises(Conflict):
            d.move("/file", "/dir")
        with raises(Conflict):
            d.move("/dir", "/file")
        with raises(InvalidArgument):
            d.move("/dir", "/dir/sub")
        assert (d.get_content("/file"), d.get_content("/dir/f")) == (b"x", b"y")

    def delete_file_keeps_siblings(self, d: StorageDriver) -> None:
        d.put_content("/d/a", b"1")
        d.put_content("/d/b", b"2")
        d.delete("/d/a")
        assert_missing(d, "/d/a")
        assert d.list("/d") == ["/d/b"]

    def delete_prunes_empty_parents(self, d: StorageDriver) -> None:
        d.put_content("/e/f/g", b"x")
        d.delete("/e/f/g")
        assert_missing(d, "/e")
        assert d.list("/") == []

    def delete_directory_tree(self, d: StorageDriver) -> None:
        for path in ("/tree/a", "/tree/b/c", "/tree/b/d/e", "/treehouse"):
            d.put_content(path, b"x")
        d.delete("/tree")
        assert_missing(d, "/tree")
        assert_missing(d, "/tree/b/d/e")
        assert d.list("/") == ["/treehouse"]

    def delete_missing(self, d: StorageDriver) -> None:
        with raises(NotFound):
            d.delete("/missing")

    def delete_only_deletes_subpaths(self, d: StorageDriver) -> None:
        for path in ("/x/ab/c", "/x/abc", "/x/ab-d", "/x/ab.e"):
            d.put_content(path, b"x")
        d.delete("/x/ab")
        assert d.list("/x") == ["/x/ab-d", "/x/ab.e", "/x/abc"]

    def delete_discards_pending_uploads(self, d: StorageDriver) -> None:
        write_file(d, "/u/1/data", b"partial", commit=False)
        d.put_content("/u/1/startedat", b"0")
        d.delete("/u/1")
        with raises(NotFound):
            d.writer("/u/1/data", append=True)
        write_file(d, "/u/2/data", b"partial", commit=False)
        d.delete("/u/2")
        with raises(NotFound):
            d.writer("/u/2/data", append=True)

    def delete_while_writing(self, d: StorageDriver) -> None:
        stale = d.writer("/u/3/data")
        stale.write(b"old")
        d.delete("/u/3/data")
        write_file(d, "/u/3/data", b"new")  # the deleted upload no longer holds the path
        stale.write(b"lost")
        with raises(NotFound):
            stale.commit()
        assert d.get_content("/u/3/data") == b"new"

    def redirect_url_is_optional(self, d: StorageDriver) -> None:
        d.put_content("/blob", b"x")
        url = d.redirect_url("/blob", "GET")
        assert url is None or url.startswith(("http://", "https://"))

    # -- paths through CheckedDriver ------------------------------------------------------------------------------

    def invalid_paths_rejected(self, d: StorageDriver) -> None:
        checked = CheckedDriver(d)
        calls: list[Callable[[str], object]] = [
            checked.get_content, checked.reader, checked.writer, checked.stat, checked.delete,
            lambda p: checked.put_content(p, b"x"), lambda p: checked.move(p, "/ok"), lambda p: checked.move("/ok", p),
            lambda p: checked.redirect_url(p, "GET"),
        ]  # fmt: skip
        for path in BAD_PATHS:
            for call in calls:
                with raises(InvalidArgument):
                    call(path)
            if path != "/":
                with raises(InvalidArgument):
                    checked.list(path)
        assert checked.list("/") == []
        assert checked.stats().errors == len(BAD_PATHS) * (len(calls) + 1) - 1

    # -- concurrency ----------------------------------------------------------------------------------------------

    def concurrent_writers_to_different_paths(self, d: StorageDriver) -> None:
        def upload(i: int) -> None:
            content = data(300_000 + i, i)
            write_file(d, f"/c/{i}/data", content[:1000], content[1000:200_000], content[200_000:])

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(upload, range(16)))
        for i in range(16):
            assert d.get_content(f"/c/{i}/data") == data(300_000 + i, i), i

    def concurrent_readers(self, d: StorageDriver) -> None:
        content = data(3 * CHUNK + 11)
        d.put_content("/shared", content)
        offsets = [random.Random(i).randrange(len(content)) for i in range(24)]
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda offset: read(d, "/shared", offset), offsets))
        for offset, result in zip(offsets, results, strict=True):
            assert result == content[offset:], offset

    def concurrent_puts_are_atomic(self, d: StorageDriver) -> None:
        versions = [bytes([i]) * 200_000 for i in range(8)]
        d.put_content("/atomic", versions[0])

        def put_and_read(i: int) -> bytes:
            d.put_content("/atomic", versions[i])
            return d.get_content("/atomic")

        with ThreadPoolExecutor(8) as pool:
            seen = list(pool.map(put_and_read, list(range(8)) * 4))
        assert all(content in versions for content in [*seen, d.get_content("/atomic")])
