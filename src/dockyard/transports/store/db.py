"""The store's SQLite metadata (images, names, blob refs): schema, migrations and the queries the store needs.

Schema version 1 (`PRAGMA user_version = 1`)::

    images   one row per image record: an image or index written with Store.write (or tagged later)
      digest        TEXT PK    manifest or index digest, "sha256:<hex>"; the image ID
      media_type    TEXT       media type of that manifest or index
      manifest_size INTEGER    bytes of the manifest or index itself
      config_digest TEXT NULL  image config digest; NULL for an index
      created       TEXT NULL  RFC 3339 "created" of the config (the newest child's for an index)
      platforms     TEXT       "linux/amd64,linux/arm64/v8" ('' when unknown)
      subject       TEXT NULL  the digest the manifest's "subject" names (a referrer: signature, SBOM...)
      size          INTEGER    sum of the sizes of its distinct blobs, as stored (compressed)
      added         REAL       unix time the record was first written

    names    repository + tag -> image; a digest-only name (`name@digest`) has tag ''
      name    TEXT  normalized "registry/repository", e.g. "docker.io/library/busybox"
      tag     TEXT  the tag, or '' for a digest-only name
      digest  TEXT  -> images.digest (ON DELETE CASCADE)
      added   REAL  unix time the name was set
      PRIMARY KEY (name, tag, digest); UNIQUE (name, tag) WHERE tag != ''

    blobs    every blob an image record keeps alive (prune keeps exactly the union of these)
      image       TEXT  -> images.digest (ON DELETE CASCADE)
      digest      TEXT  the blob
      size        INTEGER
      kind        TEXT  index | manifest | config | layer
      media_type  TEXT
      PRIMARY KEY (image, digest)

Every write is one `BEGIN IMMEDIATE` transaction, so concurrent writers queue on SQLite's lock
(busy_timeout) instead of failing with SQLITE_BUSY on a read-to-write upgrade.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.platform import Platform
from dockyard.oci.reference import Reference
from dockyard.sqlitedb import Database
from dockyard.transports.store.paths import StorePaths
from dockyard.transports.store.records import ImageInfo

#: How long a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_MS = 60_000

_V1 = """
CREATE TABLE images (
    digest TEXT PRIMARY KEY, media_type TEXT NOT NULL, manifest_size INTEGER NOT NULL,
    config_digest TEXT, created TEXT, platforms TEXT NOT NULL, subject TEXT,
    size INTEGER NOT NULL, added REAL NOT NULL
);
CREATE TABLE names (
    name TEXT NOT NULL, tag TEXT NOT NULL,
    digest TEXT NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    added REAL NOT NULL,
    PRIMARY KEY (name, tag, digest)
);
CREATE UNIQUE INDEX names_one_per_tag ON names(name, tag) WHERE tag != '';
CREATE INDEX names_by_digest ON names(digest);
CREATE TABLE blobs (
    image TEXT NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    digest TEXT NOT NULL, size INTEGER NOT NULL, kind TEXT NOT NULL, media_type TEXT NOT NULL,
    PRIMARY KEY (image, digest)
);
CREATE INDEX blobs_by_digest ON blobs(digest);
"""


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    for statement in _V1.split(";"):
        if statement.strip():
            conn.execute(statement)


#: MIGRATIONS[i] upgrades a database from user_version i to i + 1; append, never edit.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_to_1]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class ImageRow:
    """One row of `images`."""

    digest: Digest
    media_type: str
    manifest_size: int
    config_digest: Digest | None
    created: str | None
    platforms: tuple[Platform, ...]
    subject: Digest | None
    size: int
    added: float

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, self.manifest_size)


def name_key(ref: Reference) -> tuple[str, str]:
    """The (name, tag) columns of a reference: a digest-only reference has tag ''."""
    return ref.name, ref.tag or ""


def reference_of(name: str, tag: str, digest: str) -> Reference:
    registry, _, repository = name.partition("/")
    return Reference(registry, repository, tag or None, None if tag else Digest.parse(digest))


def _row(r: sqlite3.Row) -> ImageRow:
    return ImageRow(
        digest=Digest.parse(r["digest"]),
        media_type=r["media_type"],
        manifest_size=r["manifest_size"],
        config_digest=Digest.parse(r["config_digest"]) if r["config_digest"] else None,
        created=r["created"],
        platforms=tuple(Platform.parse(p) for p in r["platforms"].split(",") if p),
        subject=Digest.parse(r["subject"]) if r["subject"] else None,
        size=r["size"],
        added=r["added"],
    )


class MetaDB:
    """One connection to `store.db`; safe to share between threads (calls are serialized)."""

    def __init__(self, paths: StorePaths) -> None:
        self._db = Database(
            paths.db, what="the store database", busy_timeout_ms=BUSY_TIMEOUT_MS,
            locked_hint="retry when the other dockyard command has finished",
            damaged_hint="move it away and re-import your images; blob files are kept separately")
        self._db.migrate(MIGRATIONS, owner=f"the store at {paths.root}", lock=paths.db_lock)

    def close(self) -> None:
        self._db.close()

    def tx(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        return self._db.tx()

    def _query(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        return self._db.query(sql, args)

    # -- writes -----------------------------------------------------------------------------

    def record(self, info: ImageInfo, names: Iterable[Reference], now: float) -> None:
        """Insert the image (if new) with its blob refs, and point every name at it, atomically."""
        with self.tx() as conn:
            _insert_image(conn, info, now)
            for ref in names:
                _set_name(conn, ref, info.descriptor.digest, now)

    def add_name(self, ref: Reference, digest: Digest, now: float) -> bool:
        """Point `ref` at an existing record; False when the record vanished meanwhile."""
        with self.tx() as conn:
            if not conn.execute("SELECT 1 FROM images WHERE digest = ?", (str(digest),)).fetchone():
                return False
            _set_name(conn, ref, digest, now)
            return True

    def remove_names(self, refs: Iterable[Reference], digest: Digest, *, delete_unnamed: bool) -> tuple[
            list[Reference], bool]:
        """Remove names of `digest`, then the record too if it has no name left and `delete_unnamed`.

        Returns (names actually removed, whether the record was deleted).
        """
        removed = []
        with self.tx() as conn:
            for ref in refs:
                name, tag = name_key(ref)
                cur = conn.execute("DELETE FROM names WHERE name = ? AND tag = ? AND digest = ?",
                                   (name, tag, str(digest)))
                if cur.rowcount:
                    removed.append(ref)
            deleted = False
            if delete_unnamed:
                cur = conn.execute("DELETE FROM images WHERE digest = ? AND NOT EXISTS "
                                   "(SELECT 1 FROM names WHERE digest = ?)", (str(digest), str(digest)))
                deleted = bool(cur.rowcount)
        return removed, deleted

    def delete_images(self, digests: Iterable[Digest], *, only_unnamed: bool) -> list[tuple[Digest, list[Reference]]]:
        """Delete records (their names and blob refs cascade); with `only_unnamed`, skip any named meanwhile."""
        out = []
        with self.tx() as conn:
            for digest in digests:
                names = [reference_of(r["name"], r["tag"], r["digest"]) for r in conn.execute(
                    "SELECT name, tag, digest FROM names WHERE digest = ? ORDER BY name, tag", (str(digest),))]
                if names and only_unnamed:
                    continue
                if conn.execute("DELETE FROM images WHERE digest = ?", (str(digest),)).rowcount:
                    out.append((digest, names))
        return out

    # -- reads ------------------------------------------------------------------------------

    def image(self, digest: Digest) -> ImageRow | None:
        rows = self._query("SELECT * FROM images WHERE digest = ?", (str(digest),))
        return _row(rows[0]) if rows else None

    def images(self) -> list[ImageRow]:
        return [_row(r) for r in self._query("SELECT * FROM images ORDER BY added DESC, digest")]

    def manifest(self, digest: Digest) -> Descriptor | None:
        """A recorded image, or a manifest some record keeps (an index child), as a descriptor."""
        row = self.image(digest)
        if row is not None:
            return row.descriptor
        rows = self._query("SELECT media_type, size FROM blobs WHERE digest = ? AND kind IN ('index', 'manifest') "
                           "LIMIT 1", (str(digest),))
        return Descriptor(rows[0]["media_type"], digest, rows[0]["size"]) if rows else None

    def owners(self, digest: Digest) -> list[Digest]:
        """Records (other than itself) whose blobs include `digest`: the indexes an image belongs to."""
        rows = self._query("SELECT DISTINCT image FROM blobs WHERE digest = ? AND image != ? ORDER BY image",
                           (str(digest), str(digest)))
        return [Digest.parse(r["image"]) for r in rows]

    def by_name(self, ref: Reference) -> Digest | None:
        rows = self._query("SELECT digest FROM names WHERE name = ? AND tag = ?", (ref.name, ref.tag or ""))
        return Digest.parse(rows[0]["digest"]) if rows else None

    def by_prefix(self, algorithm: str, prefix: str) -> list[Digest]:
        """Records, and manifests inside stored indexes, whose digest starts with `algorithm:prefix`."""
        rows = self._query(
            "SELECT digest FROM images WHERE digest GLOB ?1 UNION "
            "SELECT digest FROM blobs WHERE kind = 'manifest' AND digest GLOB ?1 ORDER BY digest",
            (f"{algorithm}:{prefix}*",))
        return [Digest.parse(r["digest"]) for r in rows]

    def names(self, digest: Digest | None = None) -> dict[Digest, list[Reference]]:
        """Names per record (of one record when `digest` is given), sorted by name then tag."""
        sql = "SELECT name, tag, digest FROM names"
        rows = self._query(sql + (" WHERE digest = ?" if digest else "") + " ORDER BY name, tag",
                           (str(digest),) if digest else ())
        out: dict[Digest, list[Reference]] = {}
        for r in rows:
            out.setdefault(Digest.parse(r["digest"]), []).append(reference_of(r["name"], r["tag"], r["digest"]))
        return out

    def blob_refs(self) -> dict[Digest, set[Digest]]:
        """The blobs each record keeps alive."""
        out: dict[Digest, set[Digest]] = {}
        for r in self._query("SELECT image, digest FROM blobs"):
            out.setdefault(Digest.parse(r["image"]), set()).add(Digest.parse(r["digest"]))
        return out

    def blobs_of(self, digest: Digest) -> set[Digest]:
        return {Digest.parse(r["digest"]) for r in self._query("SELECT digest FROM blobs WHERE image = ?",
                                                               (str(digest),))}

    def live_blobs(self) -> set[Digest]:
        """Every blob some record keeps alive."""
        return {Digest.parse(r["digest"]) for r in self._query("SELECT DISTINCT digest FROM blobs")}


def _insert_image(conn: sqlite3.Connection, info: ImageInfo, now: float) -> None:
    d = info.descriptor
    cur = conn.execute(
        "INSERT OR IGNORE INTO images (digest, media_type, manifest_size, config_digest, created, platforms, "
        "subject, size, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (str(d.digest), d.media_type, d.size, str(info.config_digest) if info.config_digest else None,
         info.created, ",".join(str(p) for p in info.platforms), str(info.subject) if info.subject else None,
         info.size, now))
    if cur.rowcount:
        conn.executemany(
            "INSERT OR IGNORE INTO blobs (image, digest, size, kind, media_type) VALUES (?, ?, ?, ?, ?)",
            [(str(d.digest), str(b.digest), b.size, b.kind.value, b.media_type) for b in info.blobs])


def _set_name(conn: sqlite3.Connection, ref: Reference, digest: Digest, now: float) -> None:
    name, tag = name_key(ref)
    if tag:
        conn.execute("DELETE FROM names WHERE name = ? AND tag = ?", (name, tag))
    conn.execute("INSERT OR REPLACE INTO names (name, tag, digest, added) VALUES (?, ?, ?, ?)",
                 (name, tag, str(digest), now))
