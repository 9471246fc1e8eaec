"""OCI image layout directories (image-spec image-layout.md); the index.json logic shared with tars is in layoutindex.

On disk::

    DIR/
      oci-layout               {"imageLayoutVersion":"1.0.0"}
      index.json               top-level image index; entries named by org.opencontainers.image.ref.name
      blobs/<alg>/<encoded>    every manifest, index, config and layer, named by its digest

Every file is written beside its final name, verified, fsynced and renamed; index.json changes under a lock.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from dockyard.errors import BlobUnknown, Error, InvalidArgument, InvalidManifest, NotFound
from dockyard.oci.descriptor import REF_NAME, Descriptor
from dockyard.oci.digest import CHUNK, Digest
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.transports.blobs import MAX_MANIFEST, copy_verified, write_artifact
from dockyard.transports.layoutindex import (
    IMAGE_NAME,
    INDEX_FILE,
    LAYOUT_BYTES,
    LAYOUT_FILE,
    LayoutReader,
    blob_name,
    check_layout_file,
    open_artifact,
    validate_ref_name,
)

__all__ = [
    "IMAGE_NAME",
    "INDEX_FILE",
    "LAYOUT_BYTES",
    "LAYOUT_FILE",
    "Layout",
    "LayoutReader",
    "atomic_file",
    "blob_name",
    "check_layout_file",
    "open_artifact",
    "validate_ref_name",
    "write",
]


class Layout:
    """An OCI layout directory: a BlobSource and BlobSink, plus index.json bookkeeping."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Layout:
        """Open an existing layout, checking its `oci-layout` file."""
        p = Path(path)
        if not p.is_dir():
            raise NotFound(f"no OCI layout at {p}: not a directory")
        try:
            raw = (p / LAYOUT_FILE).read_bytes()
        except FileNotFoundError:
            raise InvalidArgument(f"{p} is not an OCI layout: it has no {LAYOUT_FILE} file") from None
        check_layout_file(raw, str(p))
        return cls(p)

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> Layout:
        """Open the layout at `path`, creating an empty one if the directory has no `oci-layout`."""
        p = Path(path)
        if p.exists() and not p.is_dir():
            raise InvalidArgument(f"{p} exists and is not a directory: an OCI layout is a directory")
        p.mkdir(parents=True, exist_ok=True)
        if (p / LAYOUT_FILE).exists():
            return cls.open(p)
        (p / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        layout = cls(p)
        if not (p / INDEX_FILE).exists():
            layout._replace_file(INDEX_FILE, IndexManifest.build([]).raw)
        layout._replace_file(LAYOUT_FILE, LAYOUT_BYTES)
        return layout

    def blob_path(self, digest: Digest) -> Path:
        return self.path / blob_name(digest)

    def has_blob(self, digest: Digest) -> bool:
        return self.blob_path(digest).is_file()

    def open_blob(self, digest: Digest) -> BinaryIO:
        """The stored bytes of a blob (unverified; BlobImage and read_verified check them)."""
        try:
            return open(self.blob_path(digest), "rb")
        except (FileNotFoundError, NotADirectoryError):
            raise BlobUnknown(f"blob {digest} is missing from OCI layout {self.path}") from None

    #: put_blob is safe from several threads: each blob goes to its own temp file, then an atomic rename.
    concurrent_puts = True

    def put_blob(self, descriptor: Descriptor, stream: BinaryIO) -> None:
        """Store a blob, verifying size and digest while streaming; commit by atomic rename."""
        target = self.blob_path(descriptor.digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(target) as out:
            copy_verified(stream, out, descriptor)

    def blobs(self) -> Iterator[Digest]:
        """Every blob stored in the layout (temp files and stray names are skipped)."""
        for f in sorted((self.path / "blobs").glob("*/*")):
            try:
                digest = Digest.parse(f"{f.parent.name}:{f.name}")
            except Error:
                continue
            yield digest

    def remove_blob(self, digest: Digest) -> None:
        """Delete a blob (for garbage collection); missing blobs are ignored."""
        self.blob_path(digest).unlink(missing_ok=True)

    def reader(self) -> LayoutReader:
        """A reader over the current index.json."""
        return LayoutReader(self, self._index(), f"OCI layout {self.path}")

    def _index(self) -> IndexManifest:
        path = self.path / INDEX_FILE
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_MANIFEST + 1)
        except FileNotFoundError:
            raise InvalidManifest(f"OCI layout {self.path} has no {INDEX_FILE}") from None
        return IndexManifest.parse(raw, str(path))

    def entries(self) -> tuple[Descriptor, ...]:
        return self.reader().entries()

    def tags(self) -> list[str]:
        return self.reader().tags()

    def get(self, tag: str | None = None) -> Image | ImageIndex:
        """The image or index tagged `tag` (`tag` or `name:tag`); None picks the only entry."""
        return self.reader().get(tag)

    def get_digest(self, digest: Digest) -> Image | ImageIndex:
        return self.reader().get_digest(digest)

    def blobs_in_use(self) -> set[Digest]:
        """Every blob reachable from index.json: what a garbage collector must keep."""
        return self.reader().blobs_in_use()

    def add(self, descriptor: Descriptor, tag: str | None = None) -> Descriptor:
        """List `descriptor` in index.json, named `tag`; an entry with the same name is replaced (as skopeo)."""
        entry = descriptor.with_annotations({REF_NAME: validate_ref_name(tag)}) if tag is not None else descriptor

        def update(entries: Sequence[Descriptor]) -> list[Descriptor]:
            if tag is None:
                kept = [d for d in entries if d.ref_name is not None or d.digest != descriptor.digest]
            else:
                kept = [d for d in entries if d.ref_name != tag]
            return [*kept, entry]

        self._update_index(update)
        return entry

    def remove(self, tag: str) -> Descriptor:
        """Drop the entry `tag` names from index.json (its blobs stay until a gc); returns it."""
        target = self.reader().find(tag)
        self._update_index(lambda entries: [d for d in entries if d != target])
        return target

    def _update_index(self, change: Callable[[Sequence[Descriptor]], list[Descriptor]]) -> None:
        with self._locked():
            old = self._index()
            new = IndexManifest.build(change(old.manifests), annotations=old.annotations or None)
            self._replace_file(INDEX_FILE, new.raw)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _replace_file(self, name: str, data: bytes) -> None:
        with atomic_file(self.path / name) as out:
            out.write(data)


@contextmanager
def atomic_file(target: Path) -> Iterator[BinaryIO]:
    """A hidden temp file beside `target`, fsynced and renamed over it on success, removed on any failure."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:24]}.tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb", buffering=CHUNK) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write(path: str | os.PathLike[str], artifact: Image | ImageIndex, tag: str | None = None) -> Descriptor:
    """Write an image or index into the layout at `path` (created if missing) and list it as `tag`.

    Blobs already present are skipped; an existing entry with the same tag is replaced, others are kept.
    Returns the index.json entry.
    """
    if tag is not None:
        validate_ref_name(tag)
    layout = Layout.create(path)
    top = write_artifact(layout, artifact)
    return layout.add(top, tag)
