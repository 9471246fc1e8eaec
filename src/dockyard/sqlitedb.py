"""One serialized SQLite connection (WAL, busy timeout, foreign keys) with dockyard errors and versioned migrations.

Shared by the local store (`transports/store/db.py`) and the registry's metadata (`registry/meta/sqlite.py`).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from dockyard.errors import Conflict, InvalidContent, Unsupported

Migration = Callable[[sqlite3.Connection], None]


class Database:
    """A connection safe to share between threads (calls are serialized by `mutex`).

    `what` names the database in errors ("the store database", "the registry database"); the hints are
    added to a lock-timeout Conflict and to a damaged-file InvalidContent.
    """

    def __init__(self, path: Path | None, *, what: str, busy_timeout_ms: int, locked_hint: str | None = None,
                 damaged_hint: str | None = None) -> None:
        self.where = str(path) if path is not None else ":memory:"
        self._what = what
        self._locked_hint = locked_hint
        self._damaged_hint = damaged_hint
        self.mutex = threading.RLock()
        with self.translated():
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.where, timeout=busy_timeout_ms / 1000, isolation_level=None,
                                        check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA synchronous = NORMAL")

    @contextmanager
    def translated(self) -> Iterator[None]:
        """SQLite failures as dockyard errors: a lock held too long is a Conflict, a broken file bad content."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise Conflict(f"{self._what} {self.where} stayed locked by another process: {exc}",
                               hint=self._locked_hint) from None
            raise InvalidContent(f"{self._what} {self.where} cannot be used: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise InvalidContent(f"{self._what} {self.where} is damaged: {exc}", hint=self._damaged_hint) from None

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        with self.mutex, self.translated():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def query(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self.mutex, self.translated():
            return self.conn.execute(sql, args).fetchall()

    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self, migrations: Sequence[Migration], *, owner: str, lock: Path | None = None) -> None:
        """Switch to WAL and bring the schema to `len(migrations)`; a newer schema is Unsupported.

        With `lock`, creation and migration are serialized with other processes through that file (a
        separate file, so holding the database's own locks elsewhere does not block opening it).
        """
        latest = len(migrations)
        with self.translated():
            if self.version() == latest and self.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644) if lock is not None else None
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            with self.translated():
                self.conn.execute("PRAGMA journal_mode = WAL")
            with self.tx() as conn:
                version = self.version()
                if version > latest:
                    raise Unsupported(f"{owner} has schema version {version}; this dockyard knows up to {latest}",
                                      hint="upgrade dockyard")
                for step in migrations[version:]:
                    step(conn)
                conn.execute(f"PRAGMA user_version = {latest}")
        finally:
            if fd is not None:
                os.close(fd)

    def close(self) -> None:
        with self.mutex:
            self.conn.close()
