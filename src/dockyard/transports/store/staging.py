"""A blob sink that holds verified blobs in tmp/ until the whole image is known good, then commits them at once."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.transports.store.blobs import BlobStore


class Staging:
    """BlobSource and BlobSink over a BlobStore whose new blobs stay staged until `commit()`.

    Leaving the `with` block without committing removes every staged temp file, so a failed write
    changes nothing under blobs/.
    """

    #: put_blob is safe from several threads (each blob gets its own temp file; dict updates are atomic).
    concurrent_puts = True

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs
        self._staged: dict[Digest, Path] = {}

    def has_blob(self, digest: Digest) -> bool:
        return digest in self._staged or self._blobs.has(digest)

    def put_blob(self, descriptor: Descriptor, stream: BinaryIO) -> None:
        if descriptor.digest in self._staged:
            return
        self._staged[descriptor.digest] = self._blobs.receive(descriptor, stream)

    def open_blob(self, digest: Digest) -> BinaryIO:
        staged = self._staged.get(digest)
        return staged.open("rb") if staged is not None else self._blobs.open(digest)

    def commit(self) -> None:
        """Move every staged blob into blobs/ (atomic renames, folders fsynced)."""
        self._blobs.commit(self._staged)
        self._staged = {}

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for path in self._staged.values():
            path.unlink(missing_ok=True)
        self._staged = {}
