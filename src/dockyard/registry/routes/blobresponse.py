"""Sending blob bytes fast: 1 MiB reads in worker threads with one read ahead, or the server's own file send.

Starlette's FileResponse reads 64 KiB at a time (0.6-0.8 GB/s here); 1 MiB chunks reach 2.6-3.5 GB/s. When
the server offers `http.response.pathsend` (granian, for instance) a whole local blob is handed to it; a
disconnected client stops the transfer at the next chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import BinaryIO

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from dockyard.oci.digest import CHUNK
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.services.blobs import BlobService, BlobSource

_RANGE = re.compile(r"^bytes=([0-9]{0,19})-([0-9]{0,19})\Z")


def parse_range(header: str, size: int) -> tuple[int, int]:
    """One `bytes=a-b`, `bytes=a-` or `bytes=-n` range over `size` bytes as (start, end exclusive); else 416."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    unsatisfiable = RegistryError(errcodes.RANGE_INVALID, f"range {header[:100]!r} not satisfiable for {size} bytes",
                                  headers={"Content-Range": f"bytes */{size}"})
    if match is None or (not match[1] and not match[2]):
        raise unsatisfiable
    if not match[1]:
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            raise unsatisfiable
        return max(size - suffix, 0), size
    start = int(match[1])
    end = min(int(match[2]) + 1, size) if match[2] else size
    if start >= size or start >= end:
        raise unsatisfiable
    return start, end


class BlobResponse(Response):
    """Streams bytes [start, end) of a blob; a HEAD request gets the headers only."""

    def __init__(self, blobs: BlobService, source: BlobSource, *, start: int, end: int, status_code: int,
                 headers: dict[str, str], head: bool) -> None:
        self.blobs = blobs
        self.source = source
        self.start = start
        self.end = end
        self.head = head
        self.status_code = status_code
        self.background = None
        self.body = b""
        self.init_headers({**headers, "Content-Length": str(end - start)})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if self.head or self.end == self.start:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        whole = self.start == 0 and self.end == self.source.size
        if self.source.local is not None and whole and "http.response.pathsend" in scope.get("extensions", {}):
            await send({"type": "http.response.pathsend", "path": str(self.source.local)})
            return
        gone = asyncio.Event()
        watcher = asyncio.ensure_future(_watch_disconnect(receive, gone))
        try:
            await self._stream(send, gone)
        finally:
            watcher.cancel()

    def _open(self) -> BinaryIO:
        if self.source.local is not None:
            stream: BinaryIO = open(self.source.local, "rb", buffering=0)
            stream.seek(self.start)
            return stream
        return self.blobs.reader(self.source, self.start)

    async def _stream(self, send: Send, gone: asyncio.Event) -> None:
        offload = self.blobs.offload
        stream = await offload.run(self._open)
        remaining = self.end - self.start
        ahead: asyncio.Future[bytes] | None = None
        try:
            ahead = asyncio.ensure_future(offload.run(stream.read, min(CHUNK, remaining)))
            while remaining > 0 and not gone.is_set() and ahead is not None:
                data = await ahead
                ahead = None
                if not data:
                    raise RegistryError(errcodes.BLOB_UNKNOWN, f"blob {self.source.digest} is shorter than recorded")
                remaining -= len(data)
                if remaining > 0:
                    ahead = asyncio.ensure_future(offload.run(stream.read, min(CHUNK, remaining)))
                await send({"type": "http.response.body", "body": data, "more_body": remaining > 0})
        finally:
            if ahead is not None:
                with contextlib.suppress(Exception):
                    await ahead
            await offload.run(stream.close)


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return
