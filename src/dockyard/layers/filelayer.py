"""Layers backed by a blob file on disk, and building them from a directory or a tar in one hashing pass.

The write pipeline is: tar bytes -> sha256 (diff_id) -> compressor -> sha256 (digest) -> temporary file in the
destination directory, renamed over `dest_path` only when complete, so a failure leaves no partial blob behind.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, cast

from dockyard.errors import InvalidArgument, NotFound
from dockyard.layers.compression import MAX_UNCOMPRESSED, Borrowed, compressor, decompress, detect
from dockyard.layers.normalize import normalize_tar
from dockyard.layers.tarreader import CHUNK, TarReader
from dockyard.layers.writer import write_tree
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest, Hasher
from dockyard.oci.mediatype import Compression, layer_compression, layer_type

Source = str | os.PathLike[str] | BinaryIO


class FileLayer:
    """A `Layer` over a blob file (gzip, zstd or plain tar); the diff_id is computed lazily unless given."""

    def __init__(self, path: str | os.PathLike[str], descriptor: Descriptor, diff_id: Digest | None = None) -> None:
        self._path = Path(path)
        self._descriptor = descriptor
        self._diff_id = diff_id

    @classmethod
    def from_blob(cls, path: str | os.PathLike[str], *, media_type: str | None = None,
                  docker_media_types: bool = False, diff_id: Digest | None = None) -> FileLayer:
        """Describe an existing blob file by hashing it; the media type follows its detected compression."""
        try:
            with open(path, "rb") as f:
                kind = detect(f.read(4))
                f.seek(0)
                digest, size = Digest.of_stream(f)
        except FileNotFoundError:
            raise NotFound(f"layer blob {os.fspath(path)!r} does not exist") from None
        mt = media_type or layer_type(kind, docker=docker_media_types)
        return cls(path, Descriptor(mt, digest, size), diff_id)

    def __repr__(self) -> str:
        return f"FileLayer({str(self._path)!r}, {self._descriptor.digest})"

    @property
    def path(self) -> Path:
        return self._path

    @property
    def descriptor(self) -> Descriptor:
        return self._descriptor

    @property
    def compression(self) -> Compression:
        return layer_compression(self._descriptor.media_type)

    def diff_id(self) -> Digest:
        if self._diff_id is None:
            with self.open_uncompressed() as tar:
                self._diff_id, _ = Digest.of_stream(tar)
        return self._diff_id

    def open(self) -> BinaryIO:
        return open(self._path, "rb")

    def open_uncompressed(self) -> BinaryIO:
        return decompress(self.open(), self.compression)


def build_layer(source: Source, dest_path: str | os.PathLike[str], compression: Compression = Compression.GZIP, *,
                docker_media_types: bool = False, source_date_epoch: int | None = None, level: int | None = None,
                threads: int = 0, xattrs: bool = True) -> FileLayer:
    """Write a normalized layer from a directory tree, or from a tar (path or stream, maybe compressed).

    mtimes are clamped to `source_date_epoch` (default: $SOURCE_DATE_EPOCH when set). The same input always
    gives the same digest for the same compression settings (gzip with `threads > 1` differs from `threads=0`).
    """
    with LayerPipeline(dest_path, compression, level, threads) as pipe:
        if isinstance(source, str | os.PathLike) and os.path.isdir(source):
            write_tree(source, pipe.tar, source_date_epoch=source_date_epoch, xattrs=xattrs)
        else:
            with _open(source) as raw:
                normalize_tar(decompress(raw), pipe.tar, source_date_epoch=source_date_epoch,
                              spool_dir=str(pipe.dest.parent), what=_label(source))
        return pipe.finish(docker_media_types)


def layer_from_tar(source: Source, dest_path: str | os.PathLike[str], compression: Compression = Compression.GZIP,
                   *, docker_media_types: bool = False, level: int | None = None, threads: int = 0,
                   limit: int = MAX_UNCOMPRESSED) -> FileLayer:
    """Recompress an existing tar (path or stream; gzip/zstd detected) byte for byte, not re-normalized.

    The tar is parsed while it streams through, so a corrupt or truncated input raises InvalidLayer.
    """
    with LayerPipeline(dest_path, compression, level, threads) as pipe, _open(source) as raw:
        tee = _Tee(decompress(raw, limit=limit), pipe.tar)
        for _ in TarReader(cast(BinaryIO, tee), what=_label(source)):
            pass
        while tee.read(CHUNK):
            pass
        return pipe.finish(docker_media_types)


def _label(source: Source) -> str:
    return os.fspath(source) if isinstance(source, str | os.PathLike) else "tar stream"


def _open(source: Source) -> BinaryIO:
    if isinstance(source, str | os.PathLike):
        try:
            return open(source, "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise InvalidArgument(f"{os.fspath(source)!r} is neither a directory nor a tar file") from None
    return cast(BinaryIO, io.BufferedReader(Borrowed(source), CHUNK))


class _HashingWriter(io.RawIOBase):
    def __init__(self, inner: BinaryIO, hasher: Hasher) -> None:
        super().__init__()
        self._inner, self._hasher = inner, hasher

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | memoryview) -> int:  # type: ignore[override]
        self._hasher.update(data)
        self._inner.write(data)
        return len(data)


class _Background(io.RawIOBase):
    """Hands written bytes to a worker thread that writes them to `inner` (hashing and compressing there), so
    reading files and encoding tar headers overlap with compression on a second core. Same bytes, same order;
    a failure in the worker is raised by the next `write` or by `close`."""

    def __init__(self, inner: BinaryIO, depth: int = 8) -> None:
        super().__init__()
        import queue
        import threading

        self._inner = inner
        self._queue: queue.Queue[bytes | None] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="layer-compress", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._inner.write(data)
                except BaseException as exc:  # re-raised in the writing thread
                    self._error = exc

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | memoryview) -> int:  # type: ignore[override]
        if self._error is not None:
            raise self._error
        self._queue.put(bytes(data))  # the caller may reuse its buffer
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._queue.put(None)
            self._thread.join()
            super().close()
            if self._error is not None:
                raise self._error


class _Tee:
    def __init__(self, inner: BinaryIO, copy: BinaryIO) -> None:
        self._inner, self._copy = inner, copy

    def read(self, n: int = -1) -> bytes:
        data = self._inner.read(n if n >= 0 else CHUNK)
        self._copy.write(data)
        return data

    def seekable(self) -> bool:
        return False


class LayerPipeline:
    """Writes a layer blob: tar bytes go to `tar`, are compressed into a temp file next to `dest`, and both
    the diff_id and the digest are hashed on the way; `finish` renames the blob into place."""

    def __init__(self, dest: str | os.PathLike[str], compression: Compression, level: int | None,
                 threads: int) -> None:
        self.dest = Path(dest)
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.dest.name}.", suffix=".tmp", dir=self.dest.parent)
        self._file = open(fd, "wb", buffering=CHUNK)
        self._compression = compression
        self._digest, self._diff = Hasher(), Hasher()
        self._comp = compressor(cast(BinaryIO, _HashingWriter(self._file, self._digest)),
                                compression, level=level, threads=threads)
        self._background = _Background(cast(BinaryIO, _HashingWriter(self._comp, self._diff)))
        self.tar = cast(BinaryIO, io.BufferedWriter(self._background, CHUNK))
        self._done = False

    def __enter__(self) -> LayerPipeline:
        return self

    def finish(self, docker: bool) -> FileLayer:
        self.tar.flush()
        self._background.close()  # every byte compressed and hashed
        self._comp.close()
        self._file.close()
        os.replace(self._tmp, self.dest)
        self._done = True
        descriptor = Descriptor(str(layer_type(self._compression, docker=docker)), self._digest.digest(),
                                self._digest.size)
        return FileLayer(self.dest, descriptor, self._diff.digest())

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            for closer in (self.tar.close, self._background.close, self._comp.close, self._file.close):
                with contextlib.suppress(OSError, ValueError):  # already failing: the original error matters
                    closer()
            Path(self._tmp).unlink(missing_ok=True)
