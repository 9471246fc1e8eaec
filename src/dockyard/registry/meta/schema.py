"""The registry's SQLite schema (documented here, once) and its append-only migrations.

Schema version 1 (`PRAGMA user_version = 1`)::

    repositories   id INTEGER PK, name TEXT UNIQUE ("library/busybox"), created REAL (unix time)
    blobs          a blob linked into a repository (pushed, mounted or referenced by a manifest push)
                   repo -> repositories.id, digest TEXT, size INTEGER, linked REAL; PK (repo, digest)
    manifests      a manifest stored in a repository; raw bytes are blob `digest` in storage
                   repo, digest, media_type, size, subject TEXT NULL (the digest its `subject` names),
                   artifact_type TEXT NULL, config_media_type TEXT NULL, annotations TEXT (JSON object),
                   pushed REAL; PK (repo, digest)
    manifest_refs  what a manifest points at, for GC: kind config | layer | child (an index's entry)
                   repo, manifest, kind, digest, size, media_type; PK (repo, manifest, kind, digest)
    tags           repo, tag, digest -> manifests(repo, digest) ON DELETE CASCADE, updated REAL; PK (repo, tag)
    uploads        uuid TEXT PK, repository TEXT, started REAL: sessions whose bytes are in storage
    audit          id, time, actor, action, repository, target: one row per write, never updated

Schema version 2 adds, for online garbage collection (see `registry/gc.py`)::

    gc_sweep       digest TEXT PK, since REAL: a blob a collector has condemned (every link removed in the same
                   transaction); its bytes may be deleted only by a transaction that still finds this row, and a
                   push of the same digest removes the row (re-installing its own bytes) in its linking transaction
    manifests_by_digest   index: is a digest some repository's manifest (GC's reference check)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

_V1 = """
CREATE TABLE repositories (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created REAL NOT NULL);
CREATE TABLE blobs (
    repo INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest TEXT NOT NULL, size INTEGER NOT NULL, linked REAL NOT NULL,
    PRIMARY KEY (repo, digest)
) WITHOUT ROWID;
CREATE INDEX blobs_by_digest ON blobs(digest);
CREATE TABLE manifests (
    repo INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,
    subject TEXT, artifact_type TEXT, config_media_type TEXT, annotations TEXT NOT NULL,
    pushed REAL NOT NULL,
    PRIMARY KEY (repo, digest)
) WITHOUT ROWID;
CREATE INDEX manifests_by_subject ON manifests(repo, subject) WHERE subject IS NOT NULL;
CREATE TABLE manifest_refs (
    repo INTEGER NOT NULL, manifest TEXT NOT NULL, kind TEXT NOT NULL, digest TEXT NOT NULL,
    size INTEGER NOT NULL, media_type TEXT NOT NULL,
    PRIMARY KEY (repo, manifest, kind, digest),
    FOREIGN KEY (repo, manifest) REFERENCES manifests(repo, digest) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX manifest_refs_by_digest ON manifest_refs(digest);
CREATE TABLE tags (
    repo INTEGER NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (repo, tag),
    FOREIGN KEY (repo, digest) REFERENCES manifests(repo, digest) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX tags_by_digest ON tags(repo, digest);
CREATE TABLE uploads (uuid TEXT PRIMARY KEY, repository TEXT NOT NULL, started REAL NOT NULL);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, repository TEXT NOT NULL, target TEXT NOT NULL
);
"""


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    for statement in _V1.split(";"):
        if statement.strip():
            conn.execute(statement)


_V2 = """
CREATE TABLE gc_sweep (digest TEXT PRIMARY KEY, since REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX manifests_by_digest ON manifests(digest);
"""


def _migrate_to_2(conn: sqlite3.Connection) -> None:
    for statement in _V2.split(";"):
        if statement.strip():
            conn.execute(statement)


#: MIGRATIONS[i] upgrades a database from user_version i to i + 1; append, never edit.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_to_1, _migrate_to_2]
SCHEMA_VERSION = len(MIGRATIONS)
