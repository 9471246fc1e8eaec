"""Content-addressed blob files: verified streaming receive into tmp/, atomic rename into blobs/, listing, removal."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dockyard.errors import BlobUnknown
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import ALGORITHMS, Digest
from dockyard.transports.blobs import copy_verified
from dockyard.transports.store.paths import StorePaths

CHUNK = 1 << 20
_HEX = re.compile(r"[a-f0-9]+")


@dataclass(frozen=True, slots=True)
class BlobFile:
    """A blob present on disk."""

    digest: Digest
    size: int


@dataclass(frozen=True, slots=True)
class TempFile:
    """A file left in tmp/ (normally an interrupted receive)."""

    path: Path
    size: int
    mtime: float


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """The `blobs/` and `tmp/` folders of a store. Callers hold the store lock as `Store` documents."""

    def __init__(self, paths: StorePaths) -> None:
        self.paths = paths

    def has(self, digest: Digest) -> bool:
        return self.paths.blob(digest).is_file()

    def size(self, digest: Digest) -> int | None:
        """The size of a stored blob, or None when it is missing."""
        try:
            return self.paths.blob(digest).stat().st_size
        except FileNotFoundError:
            return None

    def open(self, digest: Digest) -> BinaryIO:
        """The stored bytes, unverified (wrap in VerifyingReader); BlobUnknown when missing."""
        try:
            return self.paths.blob(digest).open("rb")
        except FileNotFoundError:
            raise BlobUnknown(f"blob {digest} is not in the local store at {self.paths.root}") from None

    def receive(self, descriptor: Descriptor, stream: BinaryIO) -> Path:
        """Stream into a temp file, verifying size and digest as bytes arrive; returns the fsynced temp file.

        On any failure the temp file is removed and the exception propagates; nothing under blobs/ changes.
        """
        digest = descriptor.digest
        self.paths.blob(digest)  # validates the digest before touching the disk
        fd, name = tempfile.mkstemp(prefix=f"{digest.encoded[:16]}-", suffix=".tmp", dir=self.paths.tmp)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                copy_verified(stream, out, descriptor)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(path, 0o444)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def commit(self, staged: Mapping[Digest, Path]) -> None:
        """Rename verified temp files into place (idempotent for identical content), then fsync the folders."""
        folders: set[Path] = set()
        for digest, temp in staged.items():
            final = self.paths.blob(digest)
            os.replace(temp, final)
            folders.add(final.parent)
        for folder in folders:
            fsync_dir(folder)

    def put(self, descriptor: Descriptor, stream: BinaryIO) -> None:
        """Receive and commit one blob."""
        self.commit({descriptor.digest: self.receive(descriptor, stream)})

    def delete(self, digest: Digest) -> int:
        """Remove a blob; returns the bytes freed (0 when it was already gone). The caller fsyncs."""
        path = self.paths.blob(digest)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    def files(self) -> Iterator[BlobFile]:
        """Every well-named blob file on disk (anything else in blobs/ is left alone)."""
        for algorithm, length in ALGORITHMS.items():
            folder = self.paths.blobs / algorithm
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                if len(entry.name) == length and _HEX.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                    try:
                        size = entry.stat(follow_symlinks=False).st_size
                    except FileNotFoundError:
                        continue
                    yield BlobFile(Digest(algorithm, entry.name), size)

    def temp_files(self, older_than: float) -> list[TempFile]:
        """Temp files last modified more than `older_than` seconds ago."""
        cutoff = time.time() - older_than
        out = []
        for entry in os.scandir(self.paths.tmp):
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if entry.is_file(follow_symlinks=False) and st.st_mtime < cutoff:
                out.append(TempFile(Path(entry.path), st.st_size, st.st_mtime))
        return out
