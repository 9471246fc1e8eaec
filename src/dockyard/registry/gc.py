"""Online garbage collection of the registry: mark and sweep while the server runs and pushes continue.

What survives (the mark): every blob a manifest of any repository is or references (configs, layers, index
children, descriptor `data`, the manifest's own bytes), every blob linked or written after the cutoff
(`start - grace`, default grace one hour: a blob pushed but not yet named by a manifest), and everything of an
upload in progress (its bytes live under `/uploads` until it finishes; GC never touches them, and finishing
links the blob, which makes it young). With `delete_untagged`, manifests not reachable from a tag (directly,
as an index child, or as a referrer whose subject is kept) and older than the cutoff are deleted first.

Why a concurrent push can never end with a committed manifest whose blob is gone (the protocol):

1. Bytes and links of a digest change only inside the metadata store's write transaction, which is one
   lock across processes (SQLite `BEGIN IMMEDIATE`). A push places its bytes (move or put, replacing what is
   there when the digest is condemned) and records the link in ONE transaction (`link_blob(install=...)`).
2. GC deletes a blob in two transactions. The first (`condemn_blob`) re-checks that no manifest references
   the digest and no link is newer than the cutoff, then removes every link and writes a condemned mark. The
   second (`sweep_blob`) deletes the bytes only if the mark is still there, and removes the mark. A push of
   the same digest in between removes the mark and re-installs its bytes (step 1), so the sweep leaves them.
3. A manifest PUT re-checks, in its recording transaction, that every blob it names is linked in the
   repository and every child manifest exists (`put_manifest(require_*)`); otherwise the push fails with
   MANIFEST_BLOB_UNKNOWN and nothing is recorded. A mount links only while another link exists.

Invariant: a linked digest has its bytes and no condemned mark (1 and 2 keep it; a crash between GC's two
transactions leaves a mark, no links and maybe bytes, which the next run sweeps). So a manifest committed
before a condemn makes that condemn refuse (the reference exists); one committed after it found a link,
which only a push made after the condemn, whose bytes the sweep then leaves alone. Untagged manifests are
deleted the same way: the delete re-checks in its transaction that no tag, no index of the repository and no
present subject names the manifest, and an index PUT re-checks its children (3). The worst a race can do is
fail a push that hesitated longer than the grace window between its blob uploads and its manifest PUT.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from dockyard.errors import NotFound, Unsupported
from dockyard.oci.digest import Digest
from dockyard.registry.config import RegistryConfig, StorageKind
from dockyard.registry.gc_plan import (
    BlobCandidate,
    StoredBlob,
    blob_candidates,
    deletion_order,
    kept_manifests,
    referenced_blobs,
)
from dockyard.registry.meta.base import MetadataStore
from dockyard.registry.meta.gcstore import CollectableStore, ManifestNode
from dockyard.registry.meta.sqlite import SQLiteMetadata
from dockyard.registry.services.paths import blob_digest, blob_path
from dockyard.registry.storage.base import StorageDriver, walk
from dockyard.registry.storage.checked import CheckedDriver
from dockyard.registry.storage.filesystem import FilesystemDriver

#: Blobs and manifests younger than this survive a collection (a push between its blobs and its manifest).
DEFAULT_GRACE = 3600.0
#: Who GC's deletions are attributed to in the audit log.
GC_ACTOR = "gc"


@dataclass(frozen=True, slots=True)
class GCOptions:
    """How to collect: grace window in seconds, report only, and whether untagged manifests go too."""

    grace: float = DEFAULT_GRACE
    dry_run: bool = False
    delete_untagged: bool = False
    actor: str = GC_ACTOR


@dataclass(frozen=True, slots=True)
class DeletedManifest:
    """A manifest no tag reaches (deleted, or to be deleted in a dry run)."""

    repository: str
    digest: Digest
    size: int


@dataclass(frozen=True, slots=True)
class DeletedBlob:
    """A blob nothing needs: its bytes and the repositories it was linked into."""

    digest: Digest
    size: int
    repositories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GCReport:
    """What a collection deleted (or would delete, with `dry_run`) and what it kept."""

    dry_run: bool
    grace_seconds: float
    manifests_deleted: tuple[DeletedManifest, ...]
    blobs_deleted: tuple[DeletedBlob, ...]
    bytes_deleted: int
    blobs_kept: int
    bytes_kept: int
    revived: int  # candidates a concurrent push started using again: left alone
    uploads_in_progress: int


def stored_blobs(driver: StorageDriver) -> Iterator[StoredBlob]:
    """Every blob in storage (paths that are not blob paths are fsck's business, not ours)."""
    try:
        for info in walk(driver, "/blobs"):
            digest = None if info.is_dir else blob_digest(info.path)
            if digest is not None:
                yield StoredBlob(digest, info.size, info.mod_time)
    except NotFound:  # no /blobs yet: an empty registry
        return


@contextlib.contextmanager
def opened(config: RegistryConfig) -> Iterator[tuple[StorageDriver, MetadataStore]]:
    """The storage driver and metadata store of an existing registry data dir (the server may be running)."""
    if config.storage is not StorageKind.FILESYSTEM:
        raise Unsupported(f"registry storage {config.storage} keeps nothing on disk: nothing to collect or check")
    if not config.db_path.is_file():
        raise NotFound(f"no registry at {config.data_dir} ({config.db_path.name} is missing)",
                       hint="pass --data-dir, the directory `dockyard serve` keeps its data in")
    meta = SQLiteMetadata(config.db_path)
    try:
        yield CheckedDriver(FilesystemDriver(config.blobs_root)), meta
    finally:
        meta.close()


def collectable(meta: MetadataStore) -> CollectableStore:
    """`meta` as a store GC can work through, or Unsupported."""
    if not isinstance(meta, CollectableStore):
        raise Unsupported(f"the metadata store {type(meta).__name__} does not support garbage collection")
    return meta


def collect(driver: StorageDriver, meta: MetadataStore, options: GCOptions = GCOptions(), *,
            clock: Callable[[], float] = time.time) -> GCReport:
    """Collect garbage once; safe while a server uses the same storage and metadata (see the module doc)."""
    store = collectable(meta)
    cutoff = clock() - options.grace
    snap = store.snapshot()
    manifests: list[DeletedManifest] = []
    nodes = snap.manifests
    if options.delete_untagged:
        kept = kept_manifests(nodes, cutoff)
        doomed = deletion_order([n for n in nodes if (n.repository, n.digest) not in kept])
        manifests = _delete_manifests(store, doomed, cutoff, options)
        gone = {(m.repository, m.digest) for m in manifests}
        nodes = tuple(n for n in nodes if (n.repository, n.digest) not in gone)
    if not options.dry_run:
        snap = store.snapshot()  # what the manifest phase left, plus everything pushed meanwhile
        nodes = snap.manifests
    stored = list(stored_blobs(driver))
    candidates = blob_candidates(stored, snap.links, snap.condemned, referenced_blobs(nodes), cutoff)
    blobs, revived = (candidates, 0) if options.dry_run else _sweep(driver, store, candidates, cutoff, options)
    deleted = {b.digest for b in blobs}
    kept_blobs = [s for s in stored if s.digest not in deleted]
    return GCReport(
        dry_run=options.dry_run,
        grace_seconds=options.grace,
        manifests_deleted=tuple(manifests),
        blobs_deleted=tuple(DeletedBlob(b.digest, b.size, b.repositories) for b in blobs),
        bytes_deleted=sum(b.size for b in blobs),
        blobs_kept=len(kept_blobs),
        bytes_kept=sum(s.size for s in kept_blobs),
        revived=revived,
        uploads_in_progress=len(snap.uploads),
    )


def _delete_manifests(store: CollectableStore, doomed: list[ManifestNode], cutoff: float,
                      options: GCOptions) -> list[DeletedManifest]:
    """Delete unreachable manifests in order; those a concurrent push or tag revived stay."""
    if options.dry_run:
        return [DeletedManifest(n.repository, n.digest, n.size) for n in doomed]
    deleted: list[DeletedManifest] = []
    pending = doomed
    while pending:  # normally one pass; another only if something became deletable out of order
        rest = []
        for node in pending:
            if store.delete_unreachable_manifest(node.repository, node.digest, cutoff=cutoff, actor=options.actor):
                deleted.append(DeletedManifest(node.repository, node.digest, node.size))
            else:
                rest.append(node)
        if len(rest) == len(pending):
            break
        pending = rest
    return deleted


def _sweep(driver: StorageDriver, store: CollectableStore, candidates: list[BlobCandidate], cutoff: float,
           options: GCOptions) -> tuple[list[BlobCandidate], int]:
    """Condemn and delete each candidate; returns what was deleted (with the bytes freed) and how many revived."""
    deleted: list[BlobCandidate] = []
    revived = 0
    for blob in candidates:
        freed = None
        if store.condemn_blob(blob.digest, cutoff=cutoff, actor=options.actor):
            freed = store.sweep_blob(blob.digest, _deleter(driver, blob.digest), actor=options.actor)
        if freed is None:
            revived += 1
        else:
            deleted.append(BlobCandidate(blob.digest, freed, blob.repositories))
    return deleted, revived


def _deleter(driver: StorageDriver, digest: Digest) -> Callable[[], int]:
    """Remove a blob's bytes, returning how many there were (0 when already gone)."""
    path = blob_path(digest)

    def delete() -> int:
        try:
            size = driver.stat(path).size
        except NotFound:
            return 0
        with contextlib.suppress(NotFound):
            driver.delete(path)
        return size

    return delete
