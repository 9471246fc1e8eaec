"""The SQL of garbage collection on SQLite: snapshot reads and the guarded deletes (run inside a transaction)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable

from dockyard.oci.digest import Digest
from dockyard.registry.meta.base import ManifestRef, RefKind, UploadRecord
from dockyard.registry.meta.gcstore import BlobLink, ManifestNode, RegistrySnapshot

Audit = Callable[[sqlite3.Connection, float, str, str, str, str], None]


def snapshot(conn: sqlite3.Connection) -> RegistrySnapshot:
    """Read every manifest (with tags and references), link, upload and condemned mark."""
    tags: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for r in conn.execute("SELECT r.name, t.tag, t.digest FROM tags t JOIN repositories r ON r.id = t.repo "
                          "ORDER BY t.tag"):
        tags[(r[0], r[2])].append(r[1])
    refs: defaultdict[tuple[str, str], list[ManifestRef]] = defaultdict(list)
    for r in conn.execute("SELECT r.name, f.manifest, f.kind, f.digest, f.size, f.media_type FROM manifest_refs f "
                          "JOIN repositories r ON r.id = f.repo"):
        refs[(r[0], r[1])].append(ManifestRef(RefKind(r[2]), Digest.parse(r[3]), r[4], r[5]))
    manifests = tuple(
        ManifestNode(repository=r[0], digest=Digest.parse(r[1]), size=r[2], pushed=r[3],
                     subject=Digest.parse(r[4]) if r[4] else None, tags=tuple(tags[(r[0], r[1])]),
                     refs=tuple(refs[(r[0], r[1])]))
        for r in conn.execute("SELECT r.name, m.digest, m.size, m.pushed, m.subject FROM manifests m "
                              "JOIN repositories r ON r.id = m.repo ORDER BY r.name, m.digest"))
    links = tuple(BlobLink(r[0], Digest.parse(r[1]), r[2], r[3])
                  for r in conn.execute("SELECT r.name, b.digest, b.size, b.linked FROM blobs b "
                                        "JOIN repositories r ON r.id = b.repo ORDER BY b.digest, r.name"))
    uploads = tuple(UploadRecord(r[0], r[1], r[2])
                    for r in conn.execute("SELECT uuid, repository, started FROM uploads ORDER BY started"))
    condemned = tuple(Digest.parse(r[0]) for r in conn.execute("SELECT digest FROM gc_sweep ORDER BY digest"))
    return RegistrySnapshot(manifests, links, uploads, condemned)


def _referenced(conn: sqlite3.Connection, digest: str) -> bool:
    """Whether any manifest of any repository is, or points at, `digest`."""
    return (conn.execute("SELECT 1 FROM manifest_refs WHERE digest = ? LIMIT 1", (digest,)).fetchone() is not None
            or conn.execute("SELECT 1 FROM manifests WHERE digest = ? LIMIT 1", (digest,)).fetchone() is not None)


def condemn_blob(conn: sqlite3.Connection, audit: Audit, now: float, digest: Digest, cutoff: float,
                 actor: str) -> bool:
    key = str(digest)
    if _referenced(conn, key):
        return False
    links = conn.execute("SELECT r.name, b.linked FROM blobs b JOIN repositories r ON r.id = b.repo "
                         "WHERE b.digest = ? ORDER BY r.name", (key,)).fetchall()
    if any(linked > cutoff for _, linked in links):
        return False
    conn.execute("DELETE FROM blobs WHERE digest = ?", (key,))
    for name, _ in links:
        audit(conn, now, actor, "gc.blob.unlink", name, key)
    conn.execute("INSERT OR IGNORE INTO gc_sweep (digest, since) VALUES (?, ?)", (key, now))
    return True


def sweep_blob(conn: sqlite3.Connection, audit: Audit, now: float, digest: Digest, delete: Callable[[], int],
               actor: str) -> int | None:
    key = str(digest)
    if conn.execute("DELETE FROM gc_sweep WHERE digest = ?", (key,)).rowcount == 0:
        return None  # a push re-installed the bytes and linked them: they are live again
    if _referenced(conn, key) or conn.execute("SELECT 1 FROM blobs WHERE digest = ? LIMIT 1", (key,)).fetchone():
        return None  # cannot happen while every writer follows the protocol; keep the bytes if it ever does
    size = delete()
    audit(conn, now, actor, "gc.blob.delete", "", key)
    return size


def delete_unreachable_manifest(conn: sqlite3.Connection, audit: Audit, now: float, repository: str,
                                digest: Digest, cutoff: float, actor: str) -> bool:
    key = str(digest)
    row = conn.execute("SELECT m.repo, m.pushed, m.subject FROM manifests m JOIN repositories r ON r.id = m.repo "
                       "WHERE r.name = ? AND m.digest = ?", (repository, key)).fetchone()
    if row is None or row[1] > cutoff:
        return False
    repo, _, subject = row
    if conn.execute("SELECT 1 FROM tags WHERE repo = ? AND digest = ? LIMIT 1", (repo, key)).fetchone():
        return False
    if conn.execute("SELECT 1 FROM manifest_refs WHERE repo = ? AND digest = ? AND kind = ? AND manifest != ? "
                    "LIMIT 1", (repo, key, RefKind.CHILD.value, key)).fetchone():
        return False
    if subject and conn.execute("SELECT 1 FROM manifests WHERE repo = ? AND digest = ?", (repo, subject)).fetchone():
        return False
    conn.execute("DELETE FROM manifests WHERE repo = ? AND digest = ?", (repo, key))
    audit(conn, now, actor, "gc.manifest.delete", repository, key)
    return True
