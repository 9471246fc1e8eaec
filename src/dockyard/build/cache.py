"""The build cache: step key -> the layer it made, as small JSON records under `<home>/build-cache/`.

Layer blobs live in the store (content-addressed); a record only names them. A record whose blob was
pruned from the store is a miss. `trees/<diff_id>/` holds layers extracted once for RUN's lower dirs.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from dockyard.errors import Error, InvalidManifest
from dockyard.oci.config import History
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.transports.store import dockyard_home

if TYPE_CHECKING:
    from dockyard.oci.protocols import Layer
    from dockyard.transports.blobs import BlobSource
    from dockyard.transports.store import Store


def cache_root() -> Path:
    """`<home>/build-cache`: records, layer trees, listings, mounts."""
    return dockyard_home() / "build-cache"


def listing_file(listings: Path, diff_id_hex: str) -> Path:
    """Where the path listing of a layer is cached: `[sorted directories, sorted other paths]` as JSON."""
    return listings / f"{diff_id_hex}.json"


def save_listing(path: Path, dirs: set[str], others: set[str]) -> None:
    write_json(path, [sorted(dirs), sorted(others)])


def write_json(path: Path, obj: object) -> None:
    """Write `obj` as JSON to `path` atomically (a unique temporary name, then a rename): readers in other
    threads or builds see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def step_key(parent: str, *parts: str) -> str:
    """sha256 over the parent key and the step's parts (NUL-separated so parts cannot run together)."""
    h = hashlib.sha256(parent.encode())
    for part in parts:
        h.update(b"\0")
        h.update(part.encode())
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class CacheRecord:
    """What a layer step produced: its blob descriptor, diff_id and history entry."""

    layer: Descriptor
    diff_id: Digest
    history: History
    next_key: str | None = None
    """For an alias record (a `COPY --from=stage` keyed by the stage's key instead of the copied content): the
    content key the step continues the chain with, so later keys do not depend on which key hit."""
    listing: Descriptor | None = None
    """In an exported cache: the blob listing the layer's paths (`build/remotecache.py`), so an importing build
    knows what the layer holds without fetching it."""


class RecordSource(Protocol):
    """Cache records from elsewhere (`--cache-from`) and the blobs of their layers."""

    @property
    def source(self) -> str: ...

    @property
    def records(self) -> Mapping[str, CacheRecord]: ...

    def fetch(self, record: CacheRecord) -> BinaryIO: ...

    def fetch_listing(self, record: CacheRecord) -> bytes | None: ...


class BuildCache:
    """JSON records keyed by step key; `disabled` makes every lookup miss (writes still happen).

    `imports` are consulted after the local records (`--cache-from`); `used` collects every record this
    build made or reused, by key, for `--cache-to`.
    """

    def __init__(self, root: Path | None = None, *, disabled: bool = False,
                 imports: Sequence[RecordSource] = ()) -> None:
        self.root = root or cache_root()
        self.disabled = disabled
        self.imports = tuple(imports)
        self.used: dict[str, CacheRecord] = {}
        self.pending: dict[Digest, tuple[RecordSource, CacheRecord]] = {}
        self.warnings: list[str] = []
        (self.root / "index").mkdir(parents=True, exist_ok=True)

    def hit(self, key: str, store: Store, *, lazy: bool = False) -> CacheRecord | None:
        """The record for `key` whose layer is in `store`, or (from an import) can be fetched into it.

        An imported layer is copied into the store now, verified, so a corrupt cache is a miss; with `lazy` (a
        stage whose layers need not reach the output) only its path listing is fetched now and the layer when
        something opens it (`layer`), so a build from a cache pulls only what it uses, as BuildKit does.
        """
        if self.disabled:
            return None
        record = self.get(key)
        if record is not None and (store.has_blob(record.layer.digest) or record.layer.digest in self.pending):
            self.used[key] = record
            return record
        for source in self.imports:
            record = source.records.get(key)
            if record is None:
                continue
            try:
                if not store.has_blob(record.layer.digest):
                    if lazy and self._keep_listing(source, record):
                        self.pending[record.layer.digest] = (source, record)
                    else:
                        with source.fetch(record) as stream:
                            store.put_blob(record.layer, stream)
            except Error as exc:  # an unusable cache is a miss, never a failed build
                self.warnings.append(f"cache from {source.source}: {exc.message}")
                continue
            self.put(key, record)
            return record
        return None

    def _keep_listing(self, source: RecordSource, record: CacheRecord) -> bool:
        """Store the imported listing of `record`'s layer with the others (`listings`)."""
        path = listing_file(self.listings, record.diff_id.hex)
        if path.exists():
            return True
        data = source.fetch_listing(record)
        if data is None:
            return False
        try:
            dirs, others = json.loads(data)
            if not all(isinstance(p, str) for p in [*dirs, *others]):
                raise ValueError("paths must be strings")
        except (ValueError, TypeError) as exc:
            raise InvalidManifest(f"listing of {record.diff_id} is malformed ({exc})") from None
        save_listing(path, set(dirs), set(others))
        return True

    def layer(self, record: CacheRecord, store: Store) -> Layer:
        """`record`'s layer, read from `store`; a layer left pending by a lazy hit is fetched when first opened."""
        from dockyard.transports.blobs import BlobLayer

        return BlobLayer(_Fetching(store, self), record.layer, record.diff_id)

    def blobs(self, store: Store) -> BlobSource:
        """`store`, with the pending layers of lazy hits fetched into it on first open."""
        return _Fetching(store, self)

    def file_hashes(self) -> FileHashes:
        return FileHashes(self.root / "hashes.json")

    @property
    def listings(self) -> Path:
        """Per-layer path listings (`listing_file`), made by `steps.users` or imported with a cache."""
        return self.root / "listings"

    @property
    def trees(self) -> Path:
        return self.root / "trees"

    @property
    def mounts(self) -> Path:
        return self.root / "mounts"

    def _path(self, key: str) -> Path:
        return self.root / "index" / f"{key}.json"

    def get(self, key: str) -> CacheRecord | None:
        if self.disabled:
            return None
        try:
            obj = json.loads(self._path(key).read_bytes())
            next_key = obj.get("next_key")
            return CacheRecord(Descriptor.from_json(obj["layer"]), Digest.parse(obj["diff_id"]),
                               History.from_json(obj["history"]), next_key if isinstance(next_key, str) else None)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        except Exception:  # a corrupt record is a miss, never a failed build
            return None

    def put(self, key: str, record: CacheRecord) -> None:
        self.used[key] = record
        obj: dict[str, object] = {"layer": record.layer.to_json(), "diff_id": str(record.diff_id),
                                  "history": record.history.to_json()}
        if record.next_key is not None:
            obj["next_key"] = record.next_key
        write_json(self._path(key), obj)


class _Fetching:
    """A blob source over the store that first fetches (and verifies) a pending imported layer."""

    def __init__(self, store: Store, cache: BuildCache) -> None:
        self.store, self.cache = store, cache

    def open_blob(self, digest: Digest) -> BinaryIO:
        pending = self.cache.pending.get(digest)
        if pending is not None and not self.store.has_blob(digest):
            source, record = pending
            try:
                with source.fetch(record) as stream:
                    self.store.put_blob(record.layer, stream)
            except Error as exc:
                raise type(exc)(f"cached layer {digest} from {source.source}: {exc.message}",
                                hint="build again with --no-cache, or without that --cache-from") from exc
            self.cache.pending.pop(digest, None)
        return self.store.open_blob(digest)


class FileHashes:
    """Content hashes of source files, remembered by (size, mtime, ctime, inode) so unchanged files are not reread.

    Loaded once per build from `<build-cache>/hashes.json` and saved at its end; a changed stat means a rehash.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._dirty = False
        try:
            loaded = json.loads(path.read_bytes())
            self._known: dict[str, list[object]] = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            self._known = {}

    def sha256(self, file: Path, *, remember: bool = True) -> str:
        """The file's sha256 hex; `remember=False` for temporary files (never recorded)."""
        st = os.stat(file)
        stamp: list[object] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        key = str(file)
        known = self._known.get(key)
        if known is not None and known[:4] == stamp and isinstance(known[4], str):
            return known[4]
        h = hashlib.sha256()
        with open(file, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        if remember:
            self._known[key] = [*stamp, h.hexdigest()]
            self._dirty = True
        return h.hexdigest()

    def save(self) -> None:
        if not self._dirty:
            return
        write_json(self.path, self._known)
        self._dirty = False
