"""Blob upload sessions: start, append (chunked or streamed), status, finish with digest verification, cancel.

The bytes of a session go to a pending driver writer at `/uploads/<uuid>/data`, hashed in the same pass
(see `offload.pump`). The hasher lives in memory per session, so chunked uploads never re-read data;
after a restart (or when the client asks for another algorithm at the end) the committed upload is
rehashed from storage before it is accepted. A verified upload is moved into `/blobs` atomically.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid as uuidlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from dockyard.errors import NotFound
from dockyard.oci.digest import CHUNK, Digest, Hasher
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.meta.base import MetadataStore, UploadRecord
from dockyard.registry.services.blobs import BlobService
from dockyard.registry.services.offload import Offload, SourceError, pump
from dockyard.registry.services.paths import UUID_RE, upload_dir, upload_path
from dockyard.registry.storage.base import FileWriter, StorageDriver

#: Sessions untouched this long are purged at start-up (distribution's default is a week too).
STALE_AFTER = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class UploadStatus:
    """Where an upload stands: its id and how many bytes it holds."""

    uuid: str
    repository: str
    size: int


@dataclass(frozen=True, slots=True)
class Chunk:
    """What a PATCH/PUT says about its body: `Content-Range` start/end (inclusive) and `Content-Length`."""

    start: int | None = None
    end: int | None = None
    length: int | None = None


@dataclass(eq=False)
class _Session:
    """In-memory state of one session (lost on restart, rebuilt from storage)."""

    record: UploadRecord
    size: int
    hasher: Hasher | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    gone: bool = False


def range_header(size: int) -> str:
    """The `Range` an upload reports: `0-<last byte>` (distribution's `0-0` for an empty upload)."""
    return f"0-{max(size - 1, 0)}"


class UploadService:
    """Upload sessions of the registry."""

    def __init__(self, driver: StorageDriver, meta: MetadataStore, blobs: BlobService, offload: Offload) -> None:
        self.driver = driver
        self.meta = meta
        self.blobs = blobs
        self.offload = offload
        self._sessions: dict[str, _Session] = {}
        self.on_finish: list[Callable[[float, int], None]] = []

    async def start(self, repository: str, *, actor: str, algorithm: str = "sha256") -> UploadStatus:
        """Open a new, empty session (its pending file exists from now on)."""
        record = UploadRecord(str(uuidlib.uuid4()), repository, time.time())
        writer = await self.offload.run(self.driver.writer, upload_path(record.uuid))
        await self.offload.run(writer.close)
        self.meta.create_upload(record, actor=actor)
        self._sessions[record.uuid] = _Session(record, 0, Hasher(algorithm))
        return UploadStatus(record.uuid, repository, 0)

    async def status(self, repository: str, uuid: str) -> UploadStatus:
        session = await self._session(repository, uuid)
        return UploadStatus(uuid, repository, session.size)

    async def append(self, repository: str, uuid: str, body: AsyncIterator[bytes], chunk: Chunk) -> UploadStatus:
        """PATCH: add a chunk (checked against `Content-Range`) or a whole stream to the session."""
        session = await self._session(repository, uuid)
        async with session.lock:
            self._check_live(session)
            await self._write(session, body, chunk)
            return UploadStatus(uuid, repository, session.size)

    async def finish(self, repository: str, uuid: str, digest: Digest, body: AsyncIterator[bytes], chunk: Chunk,
                     *, actor: str) -> int:
        """PUT: take the optional last chunk, verify everything against `digest`, publish; returns the size."""
        session = await self._session(repository, uuid)
        async with session.lock:
            self._check_live(session)
            writer = await self._write(session, body, chunk, keep_open=True)
            session.gone = True
            self._sessions.pop(uuid, None)
            path = upload_path(uuid)
            try:
                await self.offload.run(writer.commit)
                hasher = session.hasher
                if hasher is not None and hasher.algorithm == digest.algorithm:
                    actual, size = hasher.digest(), session.size
                else:
                    actual, size = await self.offload.run(self._rehash, path, digest.algorithm)
                if actual != digest:
                    raise RegistryError(errcodes.DIGEST_INVALID, f"upload hashes to {actual}, not {digest}",
                                        detail={"expected": str(digest), "actual": str(actual)})
                await self.blobs.commit(repository, digest, size, path, actor=actor)
            finally:
                await self._discard(uuid)
        for observe in self.on_finish:
            observe(time.time() - session.record.started, size)
        return size

    async def cancel(self, repository: str, uuid: str, *, actor: str | None = None) -> None:
        """DELETE: drop the session and its bytes (`actor` set when a client asked: audited)."""
        session = await self._session(repository, uuid)
        async with session.lock:
            self._check_live(session)
            session.gone = True
            self._sessions.pop(uuid, None)
            await self._discard(uuid, actor=actor)

    async def purge_stale(self, max_age: float = STALE_AFTER) -> int:
        """Delete sessions older than `max_age` seconds (abandoned pushes); returns how many."""
        stale = self.meta.uploads_before(time.time() - max_age)
        for record in stale:
            self._sessions.pop(record.uuid, None)
            await self._discard(record.uuid)
        return len(stale)

    # -- internals -------------------------------------------------------------------------------------

    async def _session(self, repository: str, uuid: str) -> _Session:
        unknown = RegistryError(errcodes.BLOB_UPLOAD_UNKNOWN, f"upload {uuid!r} is not in progress")
        if not UUID_RE.match(uuid):
            raise unknown
        session = self._sessions.get(uuid)
        if session is None:
            record = self.meta.upload(uuid)
            if record is None:
                raise unknown
            try:
                size = await self.offload.run(self._probe, upload_path(uuid))
            except NotFound:
                self.meta.delete_upload(uuid)
                raise unknown from None
            session = self._sessions.setdefault(uuid, _Session(record, size, None))
        if session.record.repository != repository:
            raise unknown
        return session

    @staticmethod
    def _check_live(session: _Session) -> None:
        if session.gone:
            raise RegistryError(errcodes.BLOB_UPLOAD_UNKNOWN, f"upload {session.record.uuid} has ended")

    def _probe(self, path: str) -> int:
        writer = self.driver.writer(path, append=True)
        try:
            return writer.size
        finally:
            writer.close()

    def _rehash(self, path: str, algorithm: str) -> tuple[Digest, int]:
        hasher = Hasher(algorithm)
        with self.driver.reader(path) as stream:
            while data := stream.read(CHUNK):
                hasher.update(data)
        return hasher.digest(), hasher.size

    async def _write(self, session: _Session, body: AsyncIterator[bytes], chunk: Chunk, *,
                     keep_open: bool = False) -> FileWriter:
        """Append the body to the session's pending file; the writer is closed unless `keep_open`."""
        if chunk.start is not None and chunk.end is not None:
            if chunk.start != session.size or chunk.end < chunk.start - 1:
                raise RegistryError(
                    errcodes.RANGE_INVALID,
                    f"chunk {chunk.start}-{chunk.end} does not continue the upload at byte {session.size}",
                    headers={"Range": range_header(session.size)})
            if chunk.length is not None and chunk.length != chunk.end - chunk.start + 1:
                raise RegistryError(errcodes.SIZE_INVALID, f"Content-Length {chunk.length} does not match "
                                    f"Content-Range {chunk.start}-{chunk.end}")
        writer: FileWriter = await self.offload.run(self.driver.writer, upload_path(session.record.uuid),
                                                    append=True)
        hasher = session.hasher

        def sink(data: bytes) -> None:
            if hasher is not None:
                hasher.update(data)
            writer.write(data)

        try:
            received = await pump(body, sink, self.offload)
            if chunk.start is not None and chunk.end is not None and received != chunk.end - chunk.start + 1:
                raise RegistryError(errcodes.SIZE_INVALID, f"chunk declared {chunk.end - chunk.start + 1} bytes, "
                                    f"{received} arrived")
        except BaseException as exc:
            if not isinstance(exc, (SourceError, RegistryError)):
                session.hasher = None  # the hasher may be ahead of the file now: rehash at the end
            session.size = writer.size
            await self.offload.run(writer.close)
            raise
        session.size = writer.size
        if not keep_open:
            await self.offload.run(writer.close)
        return writer

    async def _discard(self, uuid: str, *, actor: str | None = None) -> None:
        with contextlib.suppress(NotFound):
            await self.offload.run(self.driver.delete, upload_dir(uuid))
        self.meta.delete_upload(uuid, actor=actor)
