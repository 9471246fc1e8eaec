"""Blobs in repositories: lookup, serving handles, small-content ingest, committing uploads, mounts and deletes.

A blob is stored once (by digest, see `paths.py`) and linked into each repository that pushed or mounted
it; the link, in metadata, is what makes `/v2/<name>/blobs/<digest>` answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dockyard.errors import BlobUnknown, NotFound
from dockyard.oci.digest import Digest
from dockyard.registry.meta.base import MetadataStore
from dockyard.registry.services.offload import Offload
from dockyard.registry.services.paths import blob_path
from dockyard.registry.storage.base import LocalFiles, StorageDriver


@dataclass(frozen=True, slots=True)
class BlobSource:
    """How to send a blob: a redirect URL, a local file, or else a driver reader (exactly one is used)."""

    digest: Digest
    size: int
    redirect: str | None = None
    local: Path | None = None
    path: str = ""


class BlobService:
    """Blob operations over a storage driver and the metadata store."""

    def __init__(self, driver: StorageDriver, meta: MetadataStore, offload: Offload) -> None:
        self.driver = driver
        self.meta = meta
        self.offload = offload
        self._locks: weakref.WeakValueDictionary[Digest, asyncio.Lock] = weakref.WeakValueDictionary()

    def size(self, repository: str, digest: Digest) -> int:
        """The size of a blob linked into `repository`; BlobUnknown otherwise."""
        size = self.meta.blob_size(repository, digest)
        if size is None:
            raise BlobUnknown(f"blob {digest} is not in repository {repository}")
        return size

    async def source(self, repository: str, digest: Digest, method: str) -> BlobSource:
        """Where to read a linked blob from."""
        size = self.size(repository, digest)
        path = blob_path(digest)
        redirect = self.driver.redirect_url(path, method)
        if redirect:
            return BlobSource(digest, size, redirect=redirect)
        local = None
        if isinstance(self.driver, LocalFiles):
            try:
                local = await self.offload.run(self.driver.local_path, path)
            except NotFound:
                raise BlobUnknown(f"blob {digest} is missing from storage") from None
        return BlobSource(digest, size, local=local, path=path)

    def reader(self, source: BlobSource, offset: int) -> BinaryIO:
        """A blocking reader from `offset` (call from a worker thread)."""
        try:
            return self.driver.reader(source.path, offset)
        except NotFound:
            raise BlobUnknown(f"blob {source.digest} is missing from storage") from None

    async def exists(self, digest: Digest) -> bool:
        """Whether the bytes are in storage (regardless of repository links)."""
        try:
            await self.offload.run(self.driver.stat, blob_path(digest))
        except NotFound:
            return False
        return True

    async def ingest(self, repository: str, digest: Digest, content: bytes, *, actor: str) -> None:
        """Store small, already verified content (a manifest, a descriptor's `data`) and link it."""
        path = blob_path(digest)

        def install() -> None:
            if not _stored(self.driver, path):
                self.driver.put_content(path, content)

        async with self._lock(digest):
            await self.offload.run(self.meta.link_blob, repository, digest, len(content), actor=actor,
                                   install=install)

    async def commit(self, repository: str, digest: Digest, size: int, committed_path: str, *, actor: str) -> None:
        """Move a verified, committed upload into place (or drop it if the blob is already there), and link it.

        Ten clients pushing the same blob at once all succeed and leave one copy. The bytes are placed inside
        the metadata store's linking transaction, which also lifts any garbage collector's condemned mark, so
        a collector that condemned this digest meanwhile cannot delete them afterwards (see `registry/gc.py`).
        """
        path = blob_path(digest)
        keep_upload = False

        def install() -> None:
            nonlocal keep_upload
            keep_upload = _stored(self.driver, path)
            if not keep_upload:
                self.driver.move(committed_path, path)

        async with self._lock(digest):
            await self.offload.run(self.meta.link_blob, repository, digest, size, actor=actor, install=install)
            if keep_upload:  # the blob was already there: our copy is surplus
                await self.offload.run(_delete_quietly, self.driver, committed_path)

    def mount(self, repository: str, digest: Digest, candidates: Iterable[str], may_read: Callable[[str], bool],
              *, actor: str) -> int | None:
        """Link a blob from the first readable candidate repository holding it; its size, or None."""
        for source in candidates:
            if source == repository:
                size = self.meta.blob_size(repository, digest)
                if size is not None:
                    return size
                continue
            size = self.meta.blob_size(source, digest)
            if size is None or not may_read(source):
                continue
            if self.meta.link_blob(repository, digest, size, actor=actor, mount=True):
                return size
        return None

    def delete(self, repository: str, digest: Digest, *, actor: str) -> None:
        """Unlink a blob from a repository (the bytes go at garbage collection)."""
        if not self.meta.unlink_blob(repository, digest, actor=actor):
            raise BlobUnknown(f"blob {digest} is not in repository {repository}")

    def _lock(self, digest: Digest) -> asyncio.Lock:
        lock = self._locks.get(digest)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[digest] = lock
        return lock


def _stored(driver: StorageDriver, path: str) -> bool:
    try:
        driver.stat(path)
    except NotFound:
        return False
    return True


def _delete_quietly(driver: StorageDriver, path: str) -> None:
    with contextlib.suppress(NotFound):
        driver.delete(path)
