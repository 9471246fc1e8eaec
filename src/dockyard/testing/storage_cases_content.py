"""Storage-driver conformance cases about file content: put/get, writers (append, resume, commit, cancel), readers."""

from __future__ import annotations

import hashlib
import random

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.registry.storage.base import CHUNK, StorageDriver
from dockyard.testing.storage_helpers import assert_missing, data, raises, read, sha256_of, write_file


class ContentCases:
    """Cases on what a driver stores and reads back; one public method each taking a fresh empty driver."""

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
        assert sha256_of(d, "/large/data") == hasher.hexdigest()

    def writer_invisible_until_commit(self, d: StorageDriver) -> None:
        writer = d.writer("/up/load/data")
        writer.write(b"abc")
        assert_missing(d, "/up/load/data")
        assert_missing(d, "/up")
        assert d.list("/") == []
        writer.commit()
        assert d.get_content("/up/load/data") == b"abc"
        assert d.list("/up") == ["/up/load"]

    def writer_close_without_commit_stays_invisible(self, d: StorageDriver) -> None:
        write_file(d, "/pending/data", b"abc", commit=False)
        assert_missing(d, "/pending/data")
        assert d.list("/") == []

    def writer_resume_across_handles(self, d: StorageDriver) -> None:
        chunks = [data(CHUNK + 13, seed) for seed in range(3)]
        write_file(d, "/resume", chunks[0], commit=False)
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
        write_file(d, "/small", b"", commit=False)
        for i in range(40):
            write_file(d, "/small", bytes([i]) * 7, append=True, commit=False)
        write_file(d, "/small", append=True)
        assert d.get_content("/small") == b"".join(bytes([i]) * 7 for i in range(40))

    def writer_append_missing(self, d: StorageDriver) -> None:
        with raises(NotFound):
            d.writer("/absent", append=True)
        assert_missing(d, "/absent")

    def writer_append_to_committed(self, d: StorageDriver) -> None:
        write_file(d, "/zero")
        write_file(d, "/zero", b"abc", append=True)
        assert d.get_content("/zero") == b"abc"
        d.put_content("/content", b"old")
        writer = d.writer("/content", append=True)
        assert writer.size == 3
        writer.write(b"new")
        assert d.get_content("/content") == b"old"
        writer.commit()
        assert d.get_content("/content") == b"oldnew"

    def writer_without_append_discards_pending(self, d: StorageDriver) -> None:
        write_file(d, "/restart", b"stale", commit=False)
        writer = d.writer("/restart")
        assert writer.size == 0
        writer.write(b"fresh")
        writer.commit()
        assert d.get_content("/restart") == b"fresh"

    def writer_cancel(self, d: StorageDriver) -> None:
        writer = d.writer("/cancel/data")
        writer.write(b"abc")
        writer.cancel()
        assert_missing(d, "/cancel/data")
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
        write_file(d, "/replace", b"new")
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
        write_file(d, "/busy", b"b", append=True)
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
