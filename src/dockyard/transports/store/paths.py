"""Where the local store lives and how it is laid out on disk (documented here, once).

The home directory is `$DOCKYARD_HOME`, else `$XDG_DATA_HOME/dockyard`, else
`~/.local/share/dockyard`; the store is its `store/` folder::

    <home>/store/
    ├── store.db             SQLite metadata: images, names, blob refs (schema in db.py), WAL mode
    ├── store.db-wal         SQLite write-ahead log (managed by SQLite)
    ├── store.db-shm         SQLite shared-memory index (managed by SQLite)
    ├── db.lock              flock taken only while creating or migrating store.db
    ├── lock                 flock: shared by writers of blobs and names, exclusive for prune/GC
    ├── gate                 flock: prune holds it while waiting for `lock`, so new writers queue behind it
    ├── blobs/
    │   ├── sha256/
    │   │   └── <64 hex>     one content-addressed blob (manifest, index, config or layer), read-only
    │   └── sha512/
    │       └── <128 hex>
    └── tmp/
        └── <random>.tmp     a blob being received: verified, fsynced, then renamed into blobs/

A file appears under `blobs/` only by an atomic rename of a fully verified temp file, so a blob
file is always complete and correct unless the disk itself corrupted it (reads verify again).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from dockyard.errors import InvalidArgument
from dockyard.oci.digest import ALGORITHMS, Digest

_HEX = re.compile(r"[a-f0-9]+")


def dockyard_home() -> Path:
    """`$DOCKYARD_HOME`, else `$XDG_DATA_HOME/dockyard`, else `~/.local/share/dockyard`."""
    explicit = os.environ.get("DOCKYARD_HOME")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg) / "dockyard"
    return Path.home() / ".local" / "share" / "dockyard"


def default_store_root() -> Path:
    """The store folder inside the dockyard home."""
    return dockyard_home() / "store"


@dataclass(frozen=True, slots=True)
class StorePaths:
    """Every path of one store, derived from its root."""

    root: Path

    @property
    def db(self) -> Path:
        return self.root / "store.db"

    @property
    def db_lock(self) -> Path:
        return self.root / "db.lock"

    @property
    def lock(self) -> Path:
        return self.root / "lock"

    @property
    def gate(self) -> Path:
        return self.root / "gate"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def blob(self, digest: Digest) -> Path:
        """The file of a blob; refuses anything that is not a well-formed digest (no path tricks)."""
        length = ALGORITHMS.get(digest.algorithm)
        if length is None or len(digest.encoded) != length or not _HEX.fullmatch(digest.encoded):
            raise InvalidArgument(f"invalid digest {digest}: expected a sha256 or sha512 hex digest")
        return self.blobs / digest.algorithm / digest.encoded

    def create(self) -> None:
        """Make the folders (idempotent)."""
        for folder in (self.root, self.tmp, *(self.blobs / alg for alg in ALGORITHMS)):
            folder.mkdir(parents=True, exist_ok=True)
