"""Registry consistency check: re-hash every blob, find dangling references and leftover files.

`check` streams every stored blob through its digest's hash (1 MiB chunks, a few threads: hashlib releases
the GIL) and reports, as `Finding`s: bytes that do not hash to their digest; sizes that disagree with a link
or a descriptor; manifests (tagged or not) whose bytes are gone; blobs a manifest needs that are gone; index
children missing from their repository; repository links to absent blobs; stray files under `/blobs`; and
upload or temporary files no session owns. It is read-only and safe while the server runs: what could look
dangling only because a push or a GC was half-way is checked again against fresh metadata before it is
reported, and leftover files younger than `min_age` are left out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dockyard.errors import NotFound
from dockyard.oci.digest import CHUNK, Digest, Hasher
from dockyard.oci.mediatype import MediaType
from dockyard.registry.gc import collectable
from dockyard.registry.gc_plan import StoredBlob, referenced_blobs
from dockyard.registry.meta.base import MetadataStore, RefKind
from dockyard.registry.meta.gcstore import RegistrySnapshot
from dockyard.registry.services.manifest_check import ACCEPTED_TYPES
from dockyard.registry.services.paths import UUID_RE, blob_digest, blob_path
from dockyard.registry.storage.base import StorageDriver, walk
from dockyard.registry.storage.checked import CheckedDriver
from dockyard.registry.storage.filesystem import FilesystemDriver

#: Leftover upload and temp files younger than this may belong to a request in flight.
DEFAULT_MIN_AGE = 3600.0
#: Layers that may legitimately live elsewhere (their descriptors carry `urls`).
_FOREIGN = frozenset({MediaType.DOCKER_FOREIGN_LAYER, MediaType.OCI_LAYER_ND, MediaType.OCI_LAYER_ND_GZIP,
                      MediaType.OCI_LAYER_ND_ZSTD})


class FindingKind(StrEnum):
    """What is wrong."""

    DIGEST_MISMATCH = "digest-mismatch"  # stored bytes do not hash to the digest that names them
    SIZE_MISMATCH = "size-mismatch"  # a link or descriptor records another size than is stored
    MANIFEST_MISSING = "manifest-missing"  # a manifest's bytes are gone, or an index lists an absent child
    BLOB_MISSING = "blob-missing"  # a manifest names a config, layer or data blob that is not stored
    LINK_DANGLING = "link-dangling"  # a repository links a blob that is not stored
    STRAY_FILE = "stray-file"  # a file under /blobs that is not at a blob path
    ORPHAN_UPLOAD = "orphan-upload"  # upload bytes without an upload session
    ORPHAN_TEMP = "orphan-temp"  # a temporary or pending file of the filesystem driver nobody owns


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: its kind, the digest or path concerned, the repository if any, and a sentence."""

    kind: FindingKind
    subject: str
    repository: str | None
    message: str


@dataclass(frozen=True, slots=True)
class FsckReport:
    """What was checked and what was found (`findings` empty: the registry is consistent)."""

    blobs_checked: int
    bytes_checked: int
    manifests_checked: int
    links_checked: int
    unreferenced_blobs: int  # stored blobs no manifest needs: GC's to collect, not a problem
    clean: bool
    findings: tuple[Finding, ...]


def check(driver: StorageDriver, meta: MetadataStore, *, workers: int = 4, min_age: float = DEFAULT_MIN_AGE,
          progress: Callable[[int], None] | None = None, clock: Callable[[], float] = time.time) -> FsckReport:
    """Check a registry's storage against its metadata (see the module doc); `progress` gets bytes hashed."""
    store = collectable(meta)
    snap = store.snapshot()
    stored, findings = _scan_blobs(driver)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="dockyard-fsck") as pool:
        for finding, size in pool.map(lambda b: _rehash(driver, b), stored):
            if finding is not None:
                findings.append(finding)
            if progress is not None:
                progress(size)
    sizes = {b.digest: b.size for b in stored}
    dangling = _references(snap, sizes)
    if dangling:  # confirm against fresh metadata: a push or GC may have been half-way through
        fresh = store.snapshot()
        now_present = {b.digest: b.size for b in _blob_list(driver)}
        again = {(f.kind, f.subject, f.repository) for f in _references(fresh, now_present)}
        dangling = [f for f in dangling if (f.kind, f.subject, f.repository) in again]
    findings.extend(dangling)
    findings.extend(_leftovers(driver, {u.uuid for u in snap.uploads}, clock() - min_age))
    return FsckReport(
        blobs_checked=len(stored),
        bytes_checked=sum(sizes.values()),
        manifests_checked=len(snap.manifests),
        links_checked=len(snap.links),
        unreferenced_blobs=len(set(sizes) - referenced_blobs(snap.manifests)),
        clean=not findings,
        findings=tuple(sorted(findings, key=lambda f: (f.kind, f.repository or "", f.subject))),
    )


def _blob_list(driver: StorageDriver) -> list[StoredBlob]:
    return _scan_blobs(driver)[0]


def _scan_blobs(driver: StorageDriver) -> tuple[list[StoredBlob], list[Finding]]:
    """Stored blobs, and stray files under /blobs."""
    stored: list[StoredBlob] = []
    strays: list[Finding] = []
    try:
        for info in walk(driver, "/blobs"):
            if info.is_dir:
                continue
            digest = blob_digest(info.path)
            if digest is None:
                strays.append(Finding(FindingKind.STRAY_FILE, info.path, None, "not a blob path"))
            else:
                stored.append(StoredBlob(digest, info.size, info.mod_time))
    except NotFound:
        pass
    return stored, strays


def _rehash(driver: StorageDriver, blob: StoredBlob) -> tuple[Finding | None, int]:
    path = blob_path(blob.digest)
    hasher = Hasher(blob.digest.algorithm)
    try:
        with driver.reader(path) as stream:
            while data := stream.read(CHUNK):
                hasher.update(data)
    except NotFound:  # deleted by GC while we looked
        return None, 0
    actual = hasher.digest()
    if actual != blob.digest:
        return Finding(FindingKind.DIGEST_MISMATCH, str(blob.digest), None,
                       f"stored bytes hash to {actual} ({hasher.size} bytes)"), hasher.size
    return None, hasher.size


def _references(snap: RegistrySnapshot, stored: Mapping[Digest, int]) -> list[Finding]:
    """Manifests, descriptors and links that point at bytes or manifests that are not there."""
    findings: list[Finding] = []
    manifests = {(n.repository, n.digest) for n in snap.manifests}
    for node in snap.manifests:
        repo = node.repository
        if node.digest not in stored:
            tags = f" (tags: {', '.join(node.tags)})" if node.tags else ""
            findings.append(Finding(FindingKind.MANIFEST_MISSING, str(node.digest), repo,
                                    f"the manifest's bytes are not in storage{tags}"))
        for ref in node.refs:
            if ref.kind is RefKind.CHILD and ref.media_type in ACCEPTED_TYPES:
                if (repo, ref.digest) not in manifests:
                    findings.append(Finding(FindingKind.MANIFEST_MISSING, str(ref.digest), repo,
                                            f"index {node.digest} lists a manifest the repository does not have"))
            elif ref.digest not in stored:
                if ref.media_type not in _FOREIGN:
                    findings.append(Finding(FindingKind.BLOB_MISSING, str(ref.digest), repo,
                                            f"{ref.kind} of manifest {node.digest} is not in storage"))
            elif stored[ref.digest] != ref.size:
                findings.append(Finding(FindingKind.SIZE_MISMATCH, str(ref.digest), repo,
                                        f"manifest {node.digest} says {ref.size} bytes, "
                                        f"storage holds {stored[ref.digest]}"))
    for link in snap.links:
        if link.digest not in stored:
            findings.append(Finding(FindingKind.LINK_DANGLING, str(link.digest), link.repository,
                                    "the repository links a blob that is not in storage"))
        elif stored[link.digest] != link.size:
            findings.append(Finding(FindingKind.SIZE_MISMATCH, str(link.digest), link.repository,
                                    f"linked as {link.size} bytes, storage holds {stored[link.digest]}"))
    return findings


def _leftovers(driver: StorageDriver, sessions: set[str], cutoff: float) -> list[Finding]:
    """Upload files without a session, and the filesystem driver's abandoned temp/pending files."""
    findings: list[Finding] = []
    try:
        for info in walk(driver, "/uploads"):
            uuid = info.path.split("/")[2]
            if info.path.count("/") == 2 and uuid not in sessions and info.mod_time <= cutoff:
                findings.append(Finding(FindingKind.ORPHAN_UPLOAD, info.path, None, "no upload session owns it"))
    except NotFound:
        pass
    local = driver.inner if isinstance(driver, CheckedDriver) else driver
    if isinstance(local, FilesystemDriver):
        findings.extend(_pending_leftovers(local.uploads, sessions, cutoff))
    return findings


def _pending_leftovers(pending_root: Path, sessions: set[str], cutoff: float) -> Iterable[Finding]:
    """Files under the filesystem driver's `.uploads`: pending upload data and `put_content` temp files."""
    for top, _, files in os.walk(pending_root):
        for name in files:
            path = Path(top, name)
            try:
                if path.stat().st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue
            rel = path.relative_to(pending_root).as_posix()
            parts = rel.split("/")
            if len(parts) == 3 and parts[0] == "uploads" and UUID_RE.match(parts[1]):
                if parts[1] not in sessions:
                    yield Finding(FindingKind.ORPHAN_UPLOAD, str(path), None,
                                  "pending upload bytes no upload session owns")
            else:
                yield Finding(FindingKind.ORPHAN_TEMP, str(path), None, "a temporary file a write left behind")
