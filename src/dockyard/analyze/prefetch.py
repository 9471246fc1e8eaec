"""Read-ahead on a thread: the blob digest check and the gzip/zstd inflate (both release the GIL) overlap with
parsing headers on the main thread. At most `depth` chunks wait in memory.

Chunks are 2 MiB: the thread needs the GIL back after each read and each hash update, and may wait for the parser
to give it up each time, so fewer, larger chunks keep it ahead of the parser (files50k: 1 MiB chunks made the
parser wait for data, 0.13 s to scan; 2 MiB, 0.10 s).
"""

from __future__ import annotations

import contextlib
import io
import queue
import threading
from typing import BinaryIO

CHUNK = 2 << 20


class Prefetcher(io.RawIOBase):
    """Reads `stream` in chunks on a background thread; `read` hands them out (possibly short) in order.

    Errors raised by the stream surface from `read` on the caller's thread. `close` stops the thread but leaves
    `stream` to its owner.
    """

    def __init__(self, stream: BinaryIO, *, chunk: int = CHUNK, depth: int = 2) -> None:
        super().__init__()
        self._stream = stream
        self._chunk = chunk
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._head = memoryview(b"")
        self._eof = False
        self._thread = threading.Thread(target=self._run, name="dockyard-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._stream.read(self._chunk)
                self._queue.put(data)
                if not data:
                    return
        except BaseException as exc:  # handed to the reader, which raises it where the caller can handle it
            self._queue.put(exc)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if not self._head:
            if self._eof:
                return b""
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._eof = True
                raise item
            if not item:
                self._eof = True
                return b""
            if size is None or size < 0 or size >= len(item):
                return item
            self._head = memoryview(item)
        n = len(self._head) if size is None or size < 0 else min(size, len(self._head))
        data = bytes(self._head[:n])
        self._head = self._head[n:]
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._stop.set()
            while self._thread.is_alive():
                with contextlib.suppress(queue.Empty):  # unblock a producer waiting on a full queue
                    self._queue.get(timeout=0.05)
            self._thread.join()
        super().close()
