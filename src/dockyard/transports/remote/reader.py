"""A blob streamed from a registry that survives broken connections by resuming with an HTTP `Range` request."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Collection, Iterator

import httpx

from dockyard.errors import BlobUnknown, Error
from dockyard.transports.remote.client import Session


class BlobReader(io.RawIOBase):
    """Reads `path` (a blob URL) from `session`; after a broken connection it reconnects at the current
    offset with `Range: bytes=N-` (skipping N bytes itself if the registry ignores the range), at most
    `options.retries` times. Bytes are not verified here: the Blob* wrappers hash what they read.
    """

    def __init__(self, session: Session, path: str, *, scopes: Collection[str], what: str, size: int | None = None,
                 progress: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self._session = session
        self._path = path
        self._scopes = scopes
        self._what = what
        self._size = size
        self._progress = progress
        self._offset = 0
        self._resp: httpx.Response | None = None
        self._chunks: Iterator[bytes] | None = None
        self._skip = 0
        self._buf = b""
        self._pos = 0
        self._breaks = 0
        self._eof = False

    @property
    def resumes(self) -> int:
        """How many times the connection broke and the download resumed."""
        return self._breaks

    def _connect(self) -> None:
        headers = {"Accept-Encoding": "identity"}
        if self._offset:
            headers["Range"] = f"bytes={self._offset}-"
        resp = self._session.request("GET", self._path, scopes=self._scopes, what=self._what, ok=(200, 206),
                                     headers=headers, stream=True, missing=BlobUnknown)
        self._skip = 0
        if self._offset and resp.status_code == 206:
            content_range = resp.headers.get("content-range", "")
            if not content_range.startswith(f"bytes {self._offset}-"):
                resp.close()
                raise Error(f"{self._session.registry}: resuming {self._what} at byte {self._offset} got the "
                            f"range {content_range or '(none)'}")
        elif self._offset:
            self._skip = self._offset  # the registry ignored Range: read past what we have
        self._resp = resp
        # Chunks as the socket delivers them: iter_raw(size) re-chunks through a BytesIO, one more copy per byte.
        self._chunks = resp.iter_raw()

    def _drop(self) -> None:
        if self._resp is not None:
            self._resp.close()
        self._resp = None
        self._chunks = None

    def _broken(self, reason: str) -> None:
        self._drop()
        self._breaks += 1
        if self._breaks > self._session.options.retries:
            raise Error(f"lost the connection to registry {self._session.registry} while reading {self._what}: "
                        f"{reason}", hint=f"gave up after {self._breaks} broken connections")
        time.sleep(min(self._session.options.backoff * 2 ** (self._breaks - 1), self._session.options.max_wait))

    def _next(self) -> bytes:
        while not self._eof:
            if self._chunks is None:
                self._connect()
            assert self._chunks is not None
            try:
                chunk = next(self._chunks)
            except StopIteration:
                if self._size is not None and self._skip == 0 and self._offset < self._size:
                    self._broken(f"the answer ended after {self._offset} of {self._size} bytes")
                    continue
                self._drop()
                self._eof = True
                return b""
            except httpx.TransportError as exc:
                self._broken(str(exc) or type(exc).__name__)
                continue
            if self._skip:
                drop = min(self._skip, len(chunk))
                self._skip -= drop
                chunk = chunk[drop:]
                if not chunk:
                    continue
            self._offset += len(chunk)
            if self._progress is not None:
                self._progress(self._offset)
            return chunk
        return b""

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            parts = [self._buf[self._pos:]]
            self._buf, self._pos = b"", 0
            while chunk := self._next():
                parts.append(chunk)
            return b"".join(parts)
        if self._pos >= len(self._buf):
            self._buf, self._pos = self._next(), 0
        if self._pos == 0 and n >= len(self._buf):
            out, self._buf = self._buf, b""
            return out
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._drop()
        super().close()
