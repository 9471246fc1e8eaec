"""The storage-driver conformance suite (distribution's `testsuites`): every driver must pass every case.

Each case is a method of `StorageDriverSuite` taking a fresh, empty driver. Run them with pytest,
`@pytest.mark.parametrize("case", CASES, ids=case_id)`, or all at once with `run_conformance(make_driver)`.

Semantics the cases pin down (and a new driver, e.g. S3, must match):
- Reading: `reader(path, offset)` at or past the end gives an empty stream, a negative offset is InvalidArgument;
  a directory is NotFound for `get_content`/`reader`; an open reader keeps the bytes it started with.
- Writing: nothing is visible at a writer's path (not even its parent directories) until `commit`;
  `writer(path, append=True)` continues the pending upload for `path`, or else starts from the committed
  content, or else raises NotFound; `append=False` discards a pending upload; one open writer per path
  (a second one is Conflict); a closed, committed or cancelled handle raises Conflict on use.
- Directories are implicit: one exists while something committed lives below it, so `delete` and `move`
  leave no empty parents. `list` is sorted full paths of direct children; `list('/')` of an empty driver is
  `[]`, any other missing directory is NotFound. `delete` also discards pending uploads at or below `path`.
- `move` replaces a file, creates parents, refuses to put a file over a directory (or the reverse): Conflict.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from dockyard.errors import Conflict, Error, InvalidArgument, NotFound
from dockyard.registry.storage.base import CHUNK, StorageDriver, walk
from dockyard.registry.storage.checked import CheckedDriver

Case = Callable[[StorageDriver], None]

#: Paths CheckedDriver must reject before a driver sees them.
BAD_PATHS = (
    "", "relative/path", "/", "//a", "/a//b", "/a/", "/a/./b", "/a/../b", "/..", "/.hidden", "/a/%2e%2e/b",
    "/%2e", "/caf\u00e9", "/a b", "/a\\b", "/a\nb", "/a\n", "/a\x00b", "/-dash-first", "/a/b?c", "/a:b", "/~",
)  # fmt: skip


def case_id(fn: Case) -> str:
    """The case's name, for pytest ids and reports."""
    return getattr(fn, "__name__", repr(fn))


def cases(suite: StorageDriverSuite | None = None) -> list[Case]:
    """The public methods of `suite` (by default the plain suite) as cases, in declaration order."""
    suite = StorageDriverSuite() if suite is None else suite
    names = (name for cls in reversed(type(suite).__mro__) for name in vars(cls) if not name.startswith("_"))
    return [getattr(suite, name) for name in dict.fromkeys(names)]


def run_conformance(make_driver: Callable[[], StorageDriver], suite: StorageDriverSuite | None = None) -> None:
    """Run every case on a fresh driver; raise AssertionError naming each case that failed."""
    failures = []
    for fn in cases(suite):
        try:
            fn(make_driver())
        except Exception as exc:  # collect, then report all at once
            failures.append(f"{case_id(fn)}: {type(exc).__name__}: {exc}")
    if failures:
        raise AssertionError(f"{len(failures)} storage conformance case(s) failed:\n" + "\n".join(failures))


@contextmanager
def raises(kind: type[Error]) -> Iterator[None]:
    """Like pytest.raises, without needing pytest."""
    try:
        yield
    except kind:
        return
    raise AssertionError(f"expected {kind.__name__}")


def data(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def read(driver: StorageDriver, path: str, offset: int = 0) -> bytes:
    """Read a (small) file through `reader`, chunk by chunk."""
    parts = []
    with driver.reader(path, offset) as stream:
        while chunk := stream.read(CHUNK):
            parts.append(chunk)
    return b"".join(parts)


def _sha256(driver: StorageDriver, path: str) -> str:
    hasher = hashlib.sha256()
    with driver.reader(path) as stream:
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def _write(driver: StorageDriver, path: str, *chunks: bytes, append: bool = False, commit: bool = True) -> None:
    writer = driver.writer(path, append=append)
    for chunk in chunks:
        assert writer.write(chunk) == len(chunk)
    writer.commit() if commit else writer.close()


def _missing(driver: StorageDriver, path: str) -> None:
    """Nothing at `path` is visible to any read call."""
    for call in (driver.stat, driver.get_content, driver.reader, driver.list):
        with raises(NotFound):
            call(path)


class StorageDriverSuite:
    """The cases, one public method each taking a fresh empty driver; subclass to add driver-specific ones."""

    # -- content ------------------------------------------------------------------------------------------------

    def put_get_roundtrip(self, d: StorageDriver) -> None:
        d.put_content("/a/b/c.txt", b"hello")
        assert d.get_content("/a/b/c.txt") == b"hello"
        assert read(d, "/a/b/c.txt") == b"hello"

    def put_overwrite_truncates(self, d: StorageDriver) -> None:
        d.put_content("/f", b"x" * 1000)
        d.put_content("/f", b"short")
        assert d.get_content("/f") == b"short"
        assert d.stat("/f").size == 5

    def put_many_times_last_wins(self, d: StorageDriver) -> None:
        for i in range(20):
            d.put_content("/link", f"sha256:{i}".encode())
        assert d.get_content("/link") == b"sha256:19"

    def put_empty(self, d: StorageDriver) -> None:
        d.put_content("/empty", b"")
        assert d.get_content("/empty") == b""
        assert read(d, "/empty") == b""
        assert d.stat("/empty").size == 0

    def put_binary_not_utf8(self, d: StorageDriver) -> None:
        content = bytes(range(256))[::-1] * 17
        d.put_content("/bin", content)
        assert d.get_content("/bin") == content

    def get_missing_or_directory(self, d: StorageDriver) -> None:
        with raises(NotFound):
            d.get_content("/nope")
        d.put_content("/dir/file", b"x")
        with raises(NotFound):
            d.get_content("/dir")

    def names_with_dots_dashes_underscores(self, d: StorageDriver) -> None:
        paths = ["/_uploads/x", "/a..b", "/a.", "/0", "/x.y-z_w", "/n" * 40]
        paths.append("/docker/registry/v2/repositories/my-org/app_1.0/_layers/sha256/ab12/link")
        for i, path in enumerate(paths):
            d.put_content(path, str(i).encode())
        for i, path in enumerate(paths):
            assert d.get_content(path) == str(i).encode(), path
            assert d.stat(path).path == path

    # -- writers --------------------------------------------------------------------------------------------------

    def writer_stream_roundtrip(self, d: StorageDriver) -> None:
        writer = d.writer("/w/data")
        for chunk, size in ((b"abc", 3), (b"", 3), (b"defgh", 8)):
            writer.write(chunk)
            assert writer.size == size
        writer.commit()
        assert d.get_content("/w/data") == b"abcdefgh"

    def writer_large_uneven_chunks(self, d: StorageDriver) -> None:
        total, sizes, hasher = 20 << 20, (1, 4095, 65537, CHUNK, 3 * CHUNK + 7), hashlib.sha256()
        rng, written, n = random.Random(7), 0, 0
        writer = d.writer("/large/data")
        while written < total:
            n += 1
            chunk = rng.randbytes(min(sizes[n % len(sizes)], total - written))
            hasher.update(chunk)
            written += writer.write(chunk)
        assert writer.size == total
        writer.commit()
        assert d.stat("/large/data").size == total
        assert _sha256(d, "/large/data") == hasher.hexdigest()

    def writer_invisible_until_commit(self, d: StorageDriver) -> None:
        writer = d.writer("/up/load/data")
        writer.write(b"abc")
        _missing(d, "/up/load/data")
        _missing(d, "/up")
        assert d.list("/") == []
        writer.commit()
        assert d.get_content("/up/load/data") == b"abc"
        assert d.list("/up") == ["/up/load"]

    def writer_close_without_commit_stays_invisible(self, d: StorageDriver) -> None:
        _write(d, "/pending/data", b"abc", commit=False)
        _missing(d, "/pending/data")
        assert d.list("/") == []

    def writer_resume_across_handles(self, d: StorageDriver) -> None:
        chunks = [data(CHUNK + 13, seed) for seed in range(3)]
        _write(d, "/resume", chunks[0], commit=False)
        writer = d.writer("/resume", append=True)
        assert writer.size == len(chunks[0])
        writer.write(chunks[1])
        writer.close()
        writer = d.writer("/resume", append=True)
        assert writer.size == len(chunks[0]) + len(chunks[1])
        writer.write(chunks[2])
        writer.commit()
        assert d.get_content("/resume") == b"".join(chunks)

    def writer_resume_many_small_appends(self, d: StorageDriver) -> None:
        _write(d, "/small", b"", commit=False)
        for i in range(40):
            _write(d, "/small", bytes([i]) * 7, append=True, commit=False)
        _write(d, "/small", append=True)
        assert d.get_content("/small") == b"".join(bytes([i]) * 7 for i in range(40))

    def writer_append_missing(self, d: StorageDriver) -> None:
        with raises(NotFound):
            d.writer("/absent", append=True)
        _missing(d, "/absent")

    def writer_append_to_committed(self, d: StorageDriver) -> None:
        _write(d, "/zero")
        _write(d, "/zero", b"abc", append=True)
        assert d.get_content("/zero") == b"abc"
        d.put_content("/content", b"old")
        writer = d.writer("/content", append=True)
        assert writer.size == 3
        writer.write(b"new")
        assert d.get_content("/content") == b"old"
        writer.commit()
        assert d.get_content("/content") == b"oldnew"

    def writer_without_append_discards_pending(self, d: StorageDriver) -> None:
        _write(d, "/restart", b"stale", commit=False)
        writer = d.writer("/restart")
        assert writer.size == 0
        writer.write(b"fresh")
        writer.commit()
        assert d.get_content("/restart") == b"fresh"

    def writer_cancel(self, d: StorageDriver) -> None:
        writer = d.writer("/cancel/data")
        writer.write(b"abc")
        writer.cancel()
        _missing(d, "/cancel/data")
        with raises(NotFound):
            d.writer("/cancel/data", append=True)

    def writer_cancel_keeps_committed(self, d: StorageDriver) -> None:
        d.put_content("/keep", b"v1")
        writer = d.writer("/keep")
        writer.write(b"v2")
        writer.cancel()
        assert d.get_content("/keep") == b"v1"

    def writer_commit_replaces(self, d: StorageDriver) -> None:
        d.put_content("/replace", b"old" * 100)
        _write(d, "/replace", b"new")
        assert d.get_content("/replace") == b"new"

    def writer_handle_unusable_after_commit(self, d: StorageDriver) -> None:
        writer = d.writer("/done")
        writer.commit()
        for call in (lambda: writer.write(b"x"), writer.commit, writer.cancel):
            with raises(Conflict):
                call()
        writer.close()
        assert d.get_content("/done") == b""

    def writer_one_at_a_time_per_path(self, d: StorageDriver) -> None:
        first = d.writer("/busy")
        first.write(b"a")
        with raises(Conflict):
            d.writer("/busy")
        with raises(Conflict):
            d.writer("/busy", append=True)
        other = d.writer("/other")
        other.close()
        first.close()
        _write(d, "/busy", b"b", append=True)
        assert d.get_content("/busy") == b"ab"

    # -- readers --------------------------------------------------------------------------------------------------

    def reader_offsets(self, d: StorageDriver) -> None:
        content = data(3 * CHUNK + 5)
        d.put_content("/off", content)
        for offset in (0, 1, CHUNK, 2 * CHUNK + 17, len(content) - 1, len(content), len(content) + 100):
            assert read(d, "/off", offset) == content[offset:], offset
        with raises(InvalidArgument):
            d.reader("/off", -1)

    def reader_missing_or_directory(self, d: StorageDriver) -> None:
        with raises(NotFound):
            d.reader("/missing")
        d.put_content("/dir/f", b"x")
        with raises(NotFound):
            d.reader("/dir")

    def reader_keeps_its_bytes_across_replace(self, d: StorageDriver) -> None:
        old = data(2 * CHUNK, 1)
        d.put_content("/snap", old)
        with d.reader("/snap") as stream:
            first = stream.read(10)
            d.put_content("/snap", b"new")
            rest = b"".join(iter(lambda: stream.read(CHUNK), b""))
        assert first + rest == old
        assert d.get_content("/snap") == b"new"

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
        _missing(d, "/m/src")
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
        _missing(d, "/p1")
        assert d.list("/") == ["/deep"]

    def move_directory_tree(self, d: StorageDriver) -> None:
        d.put_content("/t/a", b"1")
        d.put_content("/t/b/c", b"2")
        d.move("/t", "/u/v")
        assert (d.get_content("/u/v/a"), d.get_content("/u/v/b/c")) == (b"1", b"2")
        _missing(d, "/t")

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
        _missing(d, "/d/a")
        assert d.list("/d") == ["/d/b"]

    def delete_prunes_empty_parents(self, d: StorageDriver) -> None:
        d.put_content("/e/f/g", b"x")
        d.delete("/e/f/g")
        _missing(d, "/e")
        assert d.list("/") == []

    def delete_directory_tree(self, d: StorageDriver) -> None:
        for path in ("/tree/a", "/tree/b/c", "/tree/b/d/e", "/treehouse"):
            d.put_content(path, b"x")
        d.delete("/tree")
        _missing(d, "/tree")
        _missing(d, "/tree/b/d/e")
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
        _write(d, "/u/1/data", b"partial", commit=False)
        d.put_content("/u/1/startedat", b"0")
        d.delete("/u/1")
        with raises(NotFound):
            d.writer("/u/1/data", append=True)
        _write(d, "/u/2/data", b"partial", commit=False)
        d.delete("/u/2")
        with raises(NotFound):
            d.writer("/u/2/data", append=True)

    def delete_while_writing(self, d: StorageDriver) -> None:
        stale = d.writer("/u/3/data")
        stale.write(b"old")
        d.delete("/u/3/data")
        _write(d, "/u/3/data", b"new")  # the deleted upload no longer holds the path
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
            _write(d, f"/c/{i}/data", content[:1000], content[1000:200_000], content[200_000:])

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


#: Every case of the plain suite, for `pytest.mark.parametrize`.
CASES: list[Case] = cases()
