"""The local image store (the daemonless `docker images`): content-addressed blobs plus SQLite names.

Locking: every operation that adds blobs or records (write, put_blob, tag) holds the store lock
shared; prune holds it exclusively, so it never collects a blob a writer has stored but not yet
recorded. Name changes are SQLite transactions. Reading needs no lock: blobs appear only by atomic
rename, and an open file survives a concurrent prune; `get` holds it shared only while it resolves
and reads the top manifest.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from dockyard.errors import Conflict, InvalidArgument, InvalidReference, ManifestUnknown
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import ALGORITHMS, Digest
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.oci.reference import Reference
from dockyard.transports.blobs import load_artifact, write_artifact
from dockyard.transports.store.blobs import BlobStore, fsync_dir
from dockyard.transports.store.db import ImageRow, MetaDB
from dockyard.transports.store.gc import plan
from dockyard.transports.store.lock import StoreLock
from dockyard.transports.store.models import DiskUsage, ImageRecord, RemoveResult
from dockyard.transports.store.paths import StorePaths, default_store_root
from dockyard.transports.store.records import describe
from dockyard.transports.store.staging import Staging
from dockyard.transports.store.times import parse_rfc3339

#: A short ID needs at least this many hex digits (as docker requires for prefixes to be useful).
MIN_SHORT_ID = 4
_ID = re.compile(r"(?:(sha256|sha512):)?([a-f0-9]+)")
_HINT = "`dockyard images` lists what the local store holds; pull or load the image first"


def _single_reference(names: Sequence[Reference]) -> bool:
    """Docker's rule for `rmi ID`: one name, or one tag plus digest names of that same repository."""
    if len(names) <= 1:
        return len(names) == 1
    tags = [n for n in names if n.tag]
    repos = {n.name for n in names if not n.tag}
    if len(tags) > 1:
        return False
    single = tags[0] if tags else names[0]
    return repos == {single.name}


class Store:
    """The local content store; a BlobSource and BlobSink, so any transport can copy into or out of it."""

    def __init__(self, root: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.paths = StorePaths(root)
        try:
            self.paths.create()
        except OSError as exc:
            raise InvalidArgument(f"cannot create the local store at {root}: {exc.strerror}",
                                  hint="set DOCKYARD_HOME to a writable folder") from None
        self.blobs = BlobStore(self.paths)
        self.lock = StoreLock(self.paths.lock, self.paths.gate)
        self.meta = MetaDB(self.paths)
        self.clock = clock

    @classmethod
    def open(cls, root: Path | None = None, *, clock: Callable[[], float] = time.time) -> Store:
        """Open (creating if needed) the store at `root`, by default `<dockyard home>/store`."""
        return cls(root if root is not None else default_store_root(), clock=clock)

    @property
    def root(self) -> Path:
        return self.paths.root

    def close(self) -> None:
        self.meta.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- BlobSource / BlobSink ------------------------------------------------------------------

    def has_blob(self, digest: Digest) -> bool:
        return self.blobs.has(digest)

    def open_blob(self, digest: Digest) -> BinaryIO:
        """The stored bytes (unverified: the Blob* wrappers verify); BlobUnknown when missing."""
        return self.blobs.open(digest)

    def put_blob(self, descriptor: Descriptor, stream: BinaryIO) -> None:
        """Store one blob, verified while streaming. Unrecorded blobs are garbage to the next prune."""
        with self.lock.shared():
            self.blobs.put(descriptor, stream)

    # -- images ---------------------------------------------------------------------------------

    def write(self, artifact: Image | ImageIndex, names: Sequence[Reference | str] = ()) -> Descriptor:
        """Store an image or index with all its blobs, then point `names` at it, atomically.

        All-or-nothing: blobs are verified into tmp/ first and renamed into blobs/ only once the whole
        image is present and consistent, so a bad or incomplete image leaves the store unchanged.
        A name `repo@digest` must carry this image's digest; a tag already in use moves to this image.
        """
        refs = [_name(n) for n in names]
        with self.lock.shared():
            with Staging(self.blobs) as staging:
                top = write_artifact(staging, artifact)
                info = describe(staging, top)
                for ref in refs:
                    if ref.digest is not None and ref.digest != top.digest:
                        raise InvalidArgument(f"name {ref.familiar} does not match the image digest {top.digest}")
                staging.commit()
            self.meta.record(info, refs, self.clock())
        return info.descriptor

    def resolve(self, ref: Reference | str) -> Descriptor:
        """The descriptor of the manifest or index `ref` names.

        `ref` is `name[:tag]`, `name@digest`, a full digest `sha256:...`, or a unique prefix of at least
        4 hex digits of an image ID (docker's short ID). A name wins over an ID prefix it could also be.
        """
        return self._lookup(ref)[0]

    def get(self, ref: Reference | str) -> Image | ImageIndex:
        """The stored image or index; its blobs are verified as they are read (DigestMismatch)."""
        with self.lock.shared():
            return load_artifact(self, self.resolve(ref))

    def info(self, ref: Reference | str) -> ImageRecord:
        """Everything `inspect` shows about one stored image (reference = the name it was found by)."""
        desc, name = self._lookup(ref)
        row = self.meta.image(desc.digest)
        if row is None:  # an index child without a record of its own
            owners = self.meta.owners(desc.digest)
            owner = self.meta.image(owners[0]) if owners else None
            info = describe(self, desc)
            row = ImageRow(desc.digest, desc.media_type, desc.size, info.config_digest, info.created,
                           info.platforms, info.subject, info.size, owner.added if owner else self.clock())
        names = tuple(self.meta.names(desc.digest).get(desc.digest, ()))
        return _record(row, names, name)

    def list(self) -> list[ImageRecord]:
        """`docker images`: one entry per tag; an image with only digest names gets one per repository,
        and a dangling image (no name) one entry with `<none>`. Newest first."""
        names = self.meta.names()
        out: list[ImageRecord] = []
        for row in self.meta.images():
            all_names = tuple(names.get(row.digest, ()))
            shown: list[Reference | None] = [n for n in all_names if n.tag]
            if not shown:  # digest names only: one line per repository, tag <none>
                per_repo: dict[str, Reference] = {}
                for n in all_names:
                    per_repo.setdefault(n.name, n)
                shown = [*per_repo.values()] or [None]
            out.extend(_record(row, all_names, ref) for ref in shown)
        return out

    def tag(self, src: Reference | str, dst: Reference | str) -> Reference:
        """Point the tag `dst` at the image `src` names (moving it if already used); returns `dst`."""
        target = _tag_ref(dst)
        with self.lock.shared():
            desc, _ = self._lookup(src)
            if self.meta.image(desc.digest) is None:  # an index child gets a record of its own
                self.meta.record(describe(self, desc), [target], self.clock())
            elif not self.meta.add_name(target, desc.digest, self.clock()):
                raise ManifestUnknown(f"image {desc.digest.short} was removed while tagging it")
        return target

    def untag(self, ref: Reference | str) -> Digest:
        """Remove one name, keeping the image (it may become dangling); returns the digest it named."""
        name = _name(ref)
        digest = name.digest or self.meta.by_name(name)
        if digest is not None:
            removed, _ = self.meta.remove_names([name], digest, delete_unnamed=False)
            if removed:
                return digest
        raise ManifestUnknown(f"no name {name.familiar} in the local store", hint=_HINT)

    def remove(self, ref: Reference | str, force: bool = False) -> RemoveResult:
        """`rmi`: by name, remove that name, then the image once it has none; by ID or digest, remove the
        image with its names (several names, unless one tag and its repository's digests, need `force`).
        Blobs no other image uses are deleted right away when no writer is busy, else by the next prune."""
        desc, name = self._lookup(ref)
        digest = desc.digest
        if self.meta.image(digest) is None:
            owners = ", ".join(d.short for d in self.meta.owners(digest))
            raise Conflict(f"image {digest.short} is part of the index {owners}", hint="remove the index instead")
        names = self.meta.names(digest).get(digest, [])
        if name is not None and name in names:
            untag = [name]
        elif force or not names or _single_reference(names):
            untag = names
        else:
            listed = ", ".join(n.familiar for n in names)
            raise Conflict(f"unable to delete {digest.short} (must be forced): image is referenced in multiple "
                           f"repositories ({listed})", hint="remove it by name, or force the removal")
        own = self.meta.blobs_of(digest)
        removed, deleted = self.meta.remove_names(untag, digest, delete_unnamed=True)
        count = freed = 0
        if deleted:
            count, freed = self._reclaim(own)
        return RemoveResult(tuple(removed), digest if deleted else None, count, freed)

    def disk_usage(self) -> DiskUsage:
        """Counts and bytes for `system df`; reclaimable is what a default prune would free now."""
        rows = self.meta.images()
        names = self.meta.names()
        files = list(self.blobs.files())
        keep = plan(self.meta, all=False, cutoff=None).keep
        return DiskUsage(
            images=len(rows),
            dangling=sum(1 for r in rows if r.digest not in names),
            blobs=len(files),
            bytes=sum(f.size for f in files),
            reclaimable=sum(f.size for f in files if f.digest not in keep),
        )

    # -- internals ------------------------------------------------------------------------------

    def _reclaim(self, candidates: set[Digest]) -> tuple[int, int]:
        """Delete candidates no record keeps, if no writer holds the lock; returns (blobs, bytes)."""
        count = freed = 0
        with self.lock.try_exclusive() as got:
            if not got:
                return 0, 0
            for digest in candidates - self.meta.live_blobs():
                if self.blobs.has(digest):
                    freed += self.blobs.delete(digest)
                    count += 1
            for algorithm in {d.algorithm for d in candidates}:
                fsync_dir(self.paths.blobs / algorithm)
        return count, freed

    def _lookup(self, ref: Reference | str) -> tuple[Descriptor, Reference | None]:
        """The descriptor `ref` names, and the stored name it was found by (None for IDs and digests)."""
        if isinstance(ref, Reference):
            return self._by_reference(ref)
        text = ref.strip()
        match = _ID.fullmatch(text)
        if match and len(match[2]) == ALGORITHMS[match[1] or "sha256"]:
            return self._by_digest(Digest(match[1] or "sha256", match[2])), None
        if not (match and len(match[2]) >= MIN_SHORT_ID):
            return self._by_reference(_name(text))
        try:
            return self._by_reference(_name(text))
        except (InvalidReference, ManifestUnknown):
            pass
        found = self.meta.by_prefix(match[1] or "sha256", match[2])
        if not found:
            raise ManifestUnknown(f"no image {text!r} in the local store (no name or image ID matches)", hint=_HINT)
        if len(found) > 1:
            shown = ", ".join(d.short for d in found[:5])
            raise InvalidArgument(f"short ID {text!r} is ambiguous: it matches {len(found)} images ({shown})",
                                  hint="give more digits of the ID")
        return self._by_digest(found[0]), None

    def _by_digest(self, digest: Digest) -> Descriptor:
        desc = self.meta.manifest(digest)
        if desc is None:
            raise ManifestUnknown(f"no image {digest} in the local store", hint=_HINT)
        return desc

    def _by_reference(self, ref: Reference) -> tuple[Descriptor, Reference | None]:
        ref = _name(ref)
        if ref.digest is not None:
            desc = self._by_digest(ref.digest)
            names = self.meta.names(ref.digest).get(ref.digest, [])
            plain = Reference(ref.registry, ref.repository, None, ref.digest)
            return desc, plain if plain in names else None
        digest = self.meta.by_name(ref)
        row = self.meta.image(digest) if digest is not None else None
        if row is None:
            raise ManifestUnknown(f"no image {ref.familiar} in the local store", hint=_HINT)
        return row.descriptor, ref


def _name(ref: Reference | str) -> Reference:
    """A parsed reference; a bare name means its `latest` tag, as in docker."""
    parsed = ref if isinstance(ref, Reference) else Reference.parse(ref)
    return parsed.with_tag("latest") if parsed.tag is None and parsed.digest is None else parsed


def _tag_ref(ref: Reference | str) -> Reference:
    target = _name(ref)
    if target.digest is not None or target.tag is None:
        raise InvalidArgument(f"cannot tag as {target.familiar}: a tag name is `name[:tag]`, without a digest")
    return target


def _record(row: ImageRow, names: tuple[Reference, ...], ref: Reference | None) -> ImageRecord:
    return ImageRecord(
        reference=ref,
        digest=row.digest,
        media_type=row.media_type,
        config_digest=row.config_digest,
        created=parse_rfc3339(row.created) if row.created else None,
        added=datetime.fromtimestamp(row.added, UTC),
        size=row.size,
        platforms=row.platforms,
        names=names,
    )

