"""Gzip (via isal) and zstd streams for layer blobs, with detection and bounded decompression."""

from __future__ import annotations

import io
import os
from typing import BinaryIO, cast

import zstandard
from isal import igzip, igzip_threaded

from dockyard.errors import LimitExceeded
from dockyard.oci.mediatype import Compression

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: Decompressed layers larger than this are refused (a gzip bomb guard); override with DOCKYARD_MAX_LAYER.
MAX_UNCOMPRESSED = int(os.environ.get("DOCKYARD_MAX_LAYER", str(64 << 30)))
#: A layer that expands more than this ratio (once past RATIO_AFTER bytes) is refused; DOCKYARD_MAX_RATIO overrides.
MAX_RATIO = int(os.environ.get("DOCKYARD_MAX_RATIO", "1024"))
RATIO_AFTER = 64 << 20
READ_CHUNK = 1 << 20


def detect(head: bytes) -> Compression:
    """The compression of a blob from its first bytes."""
    if head.startswith(GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(ZSTD_MAGIC):
        return Compression.ZSTD
    return Compression.NONE


class _Bounded(io.RawIOBase):
    """Counts decompressed bytes and raises LimitExceeded past the size or ratio limit."""

    def __init__(self, inner: BinaryIO, counter: _CountingReader, limit: int) -> None:
        super().__init__()
        self._inner = inner
        self._counter = counter
        self._limit = limit
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = _readinto(self._inner, buffer)
        self.produced += n
        if self.produced > self._limit:
            raise LimitExceeded(f"layer expands past the {self._limit}-byte limit")
        if self.produced > RATIO_AFTER and self.produced > MAX_RATIO * max(self._counter.consumed, 1):
            raise LimitExceeded(
                f"layer expands more than {MAX_RATIO}x ({self._counter.consumed} -> {self.produced} bytes): "
                "refusing a possible decompression bomb"
            )
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


class _CountingReader(io.RawIOBase):
    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self._inner = inner
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = _readinto(self._inner, buffer)
        self.consumed += n
        return n

    def read(self, size: int = -1) -> bytes:
        """Hands the inner stream's bytes on without a copy (zstandard's reader calls read, isal readinto)."""
        data = self._inner.read(size)
        self.consumed += len(data)
        return data

    def close(self) -> None:
        self._inner.close()
        super().close()


def decompress(stream: BinaryIO, compression: Compression | None = None, *,
               limit: int = MAX_UNCOMPRESSED) -> BinaryIO:
    """A reader of the uncompressed bytes of `stream`; detects the compression when not given.

    Corrupt input raises InvalidLayer-compatible errors from the caller's read loop.
    """
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(
        cast(io.RawIOBase, Borrowed(stream)), READ_CHUNK)
    if compression is None:
        compression = detect(buffered.peek(4)[:4])
    if compression is Compression.NONE:
        return cast(BinaryIO, buffered)
    counter = _CountingReader(cast(BinaryIO, buffered))
    inner: BinaryIO
    if compression is Compression.GZIP:
        inner = cast(BinaryIO, igzip.IGzipFile(fileobj=counter, mode="rb"))  # type: ignore[no-untyped-call]
    else:
        reader = zstandard.ZstdDecompressor().stream_reader(
            cast(BinaryIO, counter), read_size=READ_CHUNK, read_across_frames=True)
        inner = cast(BinaryIO, reader)
    return cast(BinaryIO, io.BufferedReader(_Bounded(inner, counter, limit), READ_CHUNK))


class Borrowed(io.RawIOBase):
    """Reads a caller's stream (in place where it can) and never closes it: for wrapping in a BufferedReader."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return _readinto(self._inner, buffer)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _readinto(stream: BinaryIO, buffer: memoryview) -> int:
    """Fill `buffer` from `stream`, in place when the stream supports readinto (saves a copy per chunk)."""
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        return int(readinto(buffer) or 0)
    data = stream.read(len(buffer))
    buffer[: len(data)] = data
    return len(data)


def compressor(sink: BinaryIO, compression: Compression, *, level: int | None = None,
               threads: int = 0) -> BinaryIO:
    """A writer that compresses into `sink`; closing it finishes the stream (not `sink`).

    gzip uses isal (level 0-3, default 1: about 10x zlib -6's speed for output about 11% larger; see
    docs/benchmarks.md); threads > 1 uses isal's multi-threaded writer. zstd defaults to level 3.
    """
    if compression is Compression.GZIP:
        lvl = 1 if level is None else min(level, 3)
        if threads > 1:
            return cast(BinaryIO, igzip_threaded.open(  # type: ignore[no-untyped-call]
                sink, "wb", compresslevel=lvl, threads=threads))
        return cast(BinaryIO, igzip.IGzipFile(  # type: ignore[no-untyped-call]
            fileobj=sink, mode="wb", compresslevel=lvl, mtime=0))
    if compression is Compression.ZSTD:
        params = zstandard.ZstdCompressor(level=3 if level is None else level, threads=threads or 0)
        return cast(BinaryIO, params.stream_writer(sink, closefd=False))
    return cast(BinaryIO, _NoClose(sink))


class _NoClose(io.RawIOBase):
    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self._inner = inner

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._inner.write(data)
        return len(data)
