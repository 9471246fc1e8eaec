"""`MetadataStore` on SQLite (WAL): one connection, serialized calls, every write one audited transaction."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from dockyard.oci.digest import Digest
from dockyard.registry.meta import sqlite_gc
from dockyard.registry.meta.base import AuditEntry, ManifestRecord, ManifestRef, UploadRecord
from dockyard.registry.meta.gcstore import RegistrySnapshot
from dockyard.registry.meta.schema import MIGRATIONS
from dockyard.sqlitedb import Database

BUSY_TIMEOUT_MS = 30_000


def _record(r: sqlite3.Row) -> ManifestRecord:
    return ManifestRecord(
        digest=Digest.parse(r["digest"]),
        media_type=r["media_type"],
        size=r["size"],
        subject=Digest.parse(r["subject"]) if r["subject"] else None,
        artifact_type=r["artifact_type"],
        config_media_type=r["config_media_type"],
        annotations=json.loads(r["annotations"]),
    )


def _missing(conn: sqlite3.Connection, repository: str, blobs: Sequence[Digest], manifests: Sequence[Digest]
             ) -> list[Digest]:
    """The required blobs not linked into, and manifests not stored in, `repository` (inside a transaction)."""
    row = conn.execute("SELECT id FROM repositories WHERE name = ?", (repository,)).fetchone()
    if row is None:
        return [*blobs, *manifests]
    return ([d for d in blobs if conn.execute("SELECT 1 FROM blobs WHERE repo = ? AND digest = ?",
                                              (row[0], str(d))).fetchone() is None]
            + [d for d in manifests if conn.execute("SELECT 1 FROM manifests WHERE repo = ? AND digest = ?",
                                                    (row[0], str(d))).fetchone() is None])


def _page(limit: int | None) -> tuple[str, list[object]]:
    """The `LIMIT` tail of a paginated query (rows come in ASCII order: SQLite's BINARY collation)."""
    return ("", []) if limit is None else (" LIMIT ?", [limit])


class SQLiteMetadata:
    """The default metadata store; `path=None` keeps everything in memory (tests)."""

    def __init__(self, path: Path | None) -> None:
        self._db = Database(path, what="the registry database", busy_timeout_ms=BUSY_TIMEOUT_MS)
        self._db.migrate(MIGRATIONS, owner=f"the registry database {self._db.where}")

    def close(self) -> None:
        self._db.close()

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.tx()

    def _query(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        return self._db.query(sql, args)

    @staticmethod
    def _repo_id(conn: sqlite3.Connection, repository: str, now: float) -> int:
        conn.execute("INSERT OR IGNORE INTO repositories (name, created) VALUES (?, ?)", (repository, now))
        return int(conn.execute("SELECT id FROM repositories WHERE name = ?", (repository,)).fetchone()[0])

    @staticmethod
    def _audit(conn: sqlite3.Connection, now: float, actor: str, action: str, repository: str, target: str) -> None:
        conn.execute("INSERT INTO audit (time, actor, action, repository, target) VALUES (?, ?, ?, ?, ?)",
                     (now, actor, action, repository, target))

    # -- repositories --------------------------------------------------------------------------

    def repository_exists(self, repository: str) -> bool:
        return bool(self._query("SELECT 1 FROM repositories WHERE name = ?", (repository,)))

    def repositories(self, *, last: str | None = None, limit: int | None = None) -> list[str]:
        tail, args = _page(limit)
        rows = self._query("SELECT name FROM repositories WHERE name > ? ORDER BY name" + tail, [last or "", *args])
        return [r["name"] for r in rows]

    # -- blobs ---------------------------------------------------------------------------------

    def blob_size(self, repository: str, digest: Digest) -> int | None:
        rows = self._query("SELECT b.size FROM blobs b JOIN repositories r ON r.id = b.repo "
                           "WHERE r.name = ? AND b.digest = ?", (repository, str(digest)))
        return int(rows[0]["size"]) if rows else None

    def repositories_with_blob(self, digest: Digest, *, limit: int = 20) -> list[str]:
        rows = self._query("SELECT r.name FROM blobs b JOIN repositories r ON r.id = b.repo WHERE b.digest = ? "
                           "ORDER BY r.name LIMIT ?", (str(digest), limit))
        return [r["name"] for r in rows]

    def link_blob(self, repository: str, digest: Digest, size: int, *, actor: str,
                  install: Callable[[], None] | None = None, mount: bool = False) -> bool:
        now = time.time()
        key = str(digest)
        with self._tx() as conn:
            if mount and conn.execute("SELECT 1 FROM blobs WHERE digest = ? LIMIT 1", (key,)).fetchone() is None:
                return False  # nobody links it: it may be condemned, its bytes may be gone
            if install is not None:
                conn.execute("DELETE FROM gc_sweep WHERE digest = ?", (key,))  # the sweep now leaves the bytes
                install()
            repo = self._repo_id(conn, repository, now)
            cur = conn.execute("UPDATE blobs SET linked = ? WHERE repo = ? AND digest = ?", (now, repo, key))
            if not cur.rowcount:
                conn.execute("INSERT INTO blobs (repo, digest, size, linked) VALUES (?, ?, ?, ?)",
                             (repo, key, size, now))
                self._audit(conn, now, actor, "blob.link", repository, key)
            return True

    def unlink_blob(self, repository: str, digest: Digest, *, actor: str) -> bool:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute("DELETE FROM blobs WHERE digest = ? AND repo = (SELECT id FROM repositories "
                               "WHERE name = ?)", (str(digest), repository))
            if cur.rowcount:
                self._audit(conn, now, actor, "blob.delete", repository, str(digest))
            return bool(cur.rowcount)

    # -- manifests and tags ----------------------------------------------------------------------

    def manifest(self, repository: str, digest: Digest) -> ManifestRecord | None:
        rows = self._query("SELECT m.* FROM manifests m JOIN repositories r ON r.id = m.repo "
                           "WHERE r.name = ? AND m.digest = ?", (repository, str(digest)))
        return _record(rows[0]) if rows else None

    def put_manifest(self, repository: str, record: ManifestRecord, refs: Sequence[ManifestRef],
                     tags: Sequence[str], *, actor: str, require_blobs: Sequence[Digest] = (),
                     require_manifests: Sequence[Digest] = ()) -> list[Digest]:
        now = time.time()
        digest = str(record.digest)
        with self._tx() as conn:
            missing = _missing(conn, repository, require_blobs, require_manifests)
            if missing:
                return missing
            repo = self._repo_id(conn, repository, now)
            cur = conn.execute(
                "INSERT OR IGNORE INTO manifests (repo, digest, media_type, size, subject, artifact_type, "
                "config_media_type, annotations, pushed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (repo, digest, record.media_type, record.size, str(record.subject) if record.subject else None,
                 record.artifact_type, record.config_media_type,
                 json.dumps(dict(record.annotations), sort_keys=True), now))
            if cur.rowcount:
                conn.executemany(
                    "INSERT OR IGNORE INTO manifest_refs (repo, manifest, kind, digest, size, media_type) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(repo, digest, ref.kind.value, str(ref.digest), ref.size, ref.media_type) for ref in refs])
                self._audit(conn, now, actor, "manifest.put", repository, digest)
            for tag in tags:
                old = conn.execute("SELECT digest FROM tags WHERE repo = ? AND tag = ?", (repo, tag)).fetchone()
                if old is not None and old[0] == digest:
                    continue
                conn.execute("INSERT OR REPLACE INTO tags (repo, tag, digest, updated) VALUES (?, ?, ?, ?)",
                             (repo, tag, digest, now))
                self._audit(conn, now, actor, "tag.put", repository, f"{tag}={digest}")
        return []

    def delete_manifest(self, repository: str, digest: Digest, *, actor: str) -> bool:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute("DELETE FROM manifests WHERE digest = ? AND repo = (SELECT id FROM repositories "
                               "WHERE name = ?)", (str(digest), repository))
            if cur.rowcount:
                self._audit(conn, now, actor, "manifest.delete", repository, str(digest))
            return bool(cur.rowcount)

    def tag(self, repository: str, tag: str) -> Digest | None:
        rows = self._query("SELECT t.digest FROM tags t JOIN repositories r ON r.id = t.repo "
                           "WHERE r.name = ? AND t.tag = ?", (repository, tag))
        return Digest.parse(rows[0]["digest"]) if rows else None

    def tags(self, repository: str, *, last: str | None = None, limit: int | None = None) -> list[str]:
        tail, args = _page(limit)
        rows = self._query("SELECT t.tag FROM tags t JOIN repositories r ON r.id = t.repo "
                           "WHERE r.name = ? AND t.tag > ? ORDER BY t.tag" + tail, [repository, last or "", *args])
        return [r["tag"] for r in rows]

    def delete_tag(self, repository: str, tag: str, *, actor: str) -> bool:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute("DELETE FROM tags WHERE tag = ? AND repo = (SELECT id FROM repositories "
                               "WHERE name = ?)", (tag, repository))
            if cur.rowcount:
                self._audit(conn, now, actor, "tag.delete", repository, tag)
            return bool(cur.rowcount)

    def referrers(self, repository: str, subject: Digest, *, artifact_type: str | None = None
                  ) -> list[ManifestRecord]:
        rows = self._query("SELECT m.* FROM manifests m JOIN repositories r ON r.id = m.repo "
                           "WHERE r.name = ? AND m.subject = ? ORDER BY m.pushed, m.digest",
                           (repository, str(subject)))
        records = [_record(r) for r in rows]
        if artifact_type is not None:
            records = [m for m in records if m.effective_artifact_type == artifact_type]
        return records

    # -- uploads ---------------------------------------------------------------------------------

    def create_upload(self, upload: UploadRecord, *, actor: str) -> None:
        with self._tx() as conn:
            conn.execute("INSERT INTO uploads (uuid, repository, started) VALUES (?, ?, ?)",
                         (upload.uuid, upload.repository, upload.started))
            self._audit(conn, upload.started, actor, "upload.start", upload.repository, upload.uuid)

    def upload(self, uuid: str) -> UploadRecord | None:
        rows = self._query("SELECT * FROM uploads WHERE uuid = ?", (uuid,))
        return UploadRecord(rows[0]["uuid"], rows[0]["repository"], rows[0]["started"]) if rows else None

    def delete_upload(self, uuid: str, *, actor: str | None = None) -> None:
        with self._tx() as conn:
            row = conn.execute("SELECT repository FROM uploads WHERE uuid = ?", (uuid,)).fetchone()
            conn.execute("DELETE FROM uploads WHERE uuid = ?", (uuid,))
            if row is not None and actor is not None:
                self._audit(conn, time.time(), actor, "upload.cancel", row[0], uuid)

    def uploads_before(self, started: float) -> list[UploadRecord]:
        rows = self._query("SELECT * FROM uploads WHERE started < ? ORDER BY started", (started,))
        return [UploadRecord(r["uuid"], r["repository"], r["started"]) for r in rows]

    # -- garbage collection (CollectableStore) ----------------------------------------------------

    def snapshot(self) -> RegistrySnapshot:
        db = self._db
        with db.mutex, db.translated():
            db.conn.execute("BEGIN")  # a read transaction: one consistent view, writers not blocked (WAL)
            try:
                return sqlite_gc.snapshot(db.conn)
            finally:
                db.conn.execute("COMMIT")

    def condemn_blob(self, digest: Digest, *, cutoff: float, actor: str) -> bool:
        with self._tx() as conn:
            return sqlite_gc.condemn_blob(conn, self._audit, time.time(), digest, cutoff, actor)

    def sweep_blob(self, digest: Digest, delete: Callable[[], int], *, actor: str) -> int | None:
        with self._tx() as conn:
            return sqlite_gc.sweep_blob(conn, self._audit, time.time(), digest, delete, actor)

    def delete_unreachable_manifest(self, repository: str, digest: Digest, *, cutoff: float, actor: str) -> bool:
        with self._tx() as conn:
            return sqlite_gc.delete_unreachable_manifest(conn, self._audit, time.time(), repository, digest,
                                                         cutoff, actor)

    # -- audit -----------------------------------------------------------------------------------

    def audit_log(self, *, limit: int = 100) -> list[AuditEntry]:
        rows = self._query("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [AuditEntry(r["time"], r["actor"], r["action"], r["repository"], r["target"]) for r in rows]
