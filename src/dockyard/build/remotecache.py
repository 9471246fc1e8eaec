"""`--cache-to` / `--cache-from`: the build cache as an OCI artifact in a registry, an OCI layout or the store.

The artifact is an OCI image manifest whose config (media type `CACHE_CONFIG`) lists cache records
(step key -> layer descriptor, diff_id, history) and whose layers are those records' layer blobs, so any
OCI registry stores it and a blob shared with a real image is stored once. Modes follow BuildKit:
`min` exports the records of the final image's layers, `max` every record the build made or used
(intermediate stages included). An imported record costs nothing until a step's key matches it; only then
is its layer blob copied into the store (verified while streaming).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from dockyard.build.cache import CacheRecord
from dockyard.build.options import CacheMode
from dockyard.errors import Error, InvalidManifest
from dockyard.oci.config import History
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.jsonvalue import JSONValue, encode
from dockyard.oci.manifest import ImageManifest
from dockyard.oci.protocols import Image
from dockyard.transports.blobs import BlobImage, BlobSource

CACHE_CONFIG = "application/vnd.dockyard.buildcache.config.v1+json"
CACHE_ARTIFACT = "application/vnd.dockyard.buildcache.v1"
LISTING = "application/vnd.dockyard.buildcache.listing.v1+json+gzip"
MAX_LISTING = 64 << 20


@dataclass(frozen=True, slots=True)
class Exported:
    """What one `--cache-to` wrote: the destination, the manifest digest and how many records/layers."""

    destination: str
    digest: Digest
    records: int
    layers: int


def encode_records(records: Mapping[str, CacheRecord]) -> bytes:
    """The config blob: records sorted by key, so the same cache gives the same bytes."""
    items: list[JSONValue] = []
    for key, rec in sorted(records.items()):
        item: dict[str, JSONValue] = {"key": key, "layer": rec.layer.to_json(), "diff_id": str(rec.diff_id),
                                      "history": rec.history.to_json()}
        if rec.next_key is not None:
            item["next_key"] = rec.next_key
        if rec.listing is not None:
            item["listing"] = rec.listing.to_json()
        items.append(item)
    return encode({"version": 1, "records": items})


def decode_records(raw: bytes, what: str) -> dict[str, CacheRecord]:
    """Parse a cache config blob; anything malformed is InvalidManifest naming `what`."""
    try:
        obj = json.loads(raw)
        if not isinstance(obj, dict) or obj.get("version") != 1 or not isinstance(obj.get("records"), list):
            raise ValueError("not a version-1 dockyard build cache")
        out: dict[str, CacheRecord] = {}
        for item in obj["records"]:
            key = item["key"]
            if not isinstance(key, str) or len(key) != 64:
                raise ValueError(f"bad record key {key!r}")
            next_key = item.get("next_key")
            if next_key is not None and (not isinstance(next_key, str) or len(next_key) != 64):
                raise ValueError(f"bad next_key {next_key!r}")
            listing = Descriptor.from_json(item["listing"]) if item.get("listing") is not None else None
            if listing is not None and listing.media_type != LISTING:
                raise ValueError(f"bad listing media type {listing.media_type!r}")
            out[key] = CacheRecord(Descriptor.from_json(item["layer"]), Digest.parse(item["diff_id"]),
                                   History.from_json(item["history"]), next_key, listing)
        return out
    except Error as exc:
        raise InvalidManifest(f"{what}: {exc.message}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidManifest(f"{what}: not a dockyard build cache ({exc})") from None


class _ArtifactSource:
    """Blobs of the cache artifact: the config and the listings from memory, layers from the store."""

    def __init__(self, layers: BlobSource, config: bytes, extra: Mapping[Digest, bytes]) -> None:
        self.layers = layers
        self.memory = {Digest.of(config): config, **extra}

    def open_blob(self, digest: Digest) -> BinaryIO:
        data = self.memory.get(digest)
        return io.BytesIO(data) if data is not None else self.layers.open_blob(digest)


def encode_listing(dirs: Iterable[str], others: Iterable[str]) -> bytes:
    """A layer's listing blob: gzip (no timestamp) of `[sorted dirs, sorted other paths]`."""
    import gzip

    return gzip.compress(json.dumps([sorted(dirs), sorted(others)]).encode(), mtime=0)


def cache_artifact(records: Mapping[str, CacheRecord], layers: BlobSource,
                   listings: Mapping[Digest, bytes] | None = None) -> Image:
    """The OCI artifact holding `records`; layer blobs are read from `layers` (the store) when written.

    `listings` (diff_id -> `encode_listing` bytes) travel as extra blobs named by each record, so an importing
    build can skip fetching the layers of stages it only needs the keys of.
    """
    listings = listings or {}
    extra = {Digest.of(data): data for data in listings.values()}
    with_listings = {key: _with_listing(rec, listings.get(rec.diff_id)) for key, rec in records.items()}
    config = encode_records(with_listings)
    blobs: dict[Digest, Descriptor] = {}
    for rec in with_listings.values():
        blobs.setdefault(rec.layer.digest, Descriptor(rec.layer.media_type, rec.layer.digest, rec.layer.size))
        if rec.listing is not None:
            blobs.setdefault(rec.listing.digest, rec.listing)
    manifest = ImageManifest.build(Descriptor.for_bytes(CACHE_CONFIG, config), list(blobs.values()),
                                   artifact_type=CACHE_ARTIFACT)
    return BlobImage(_ArtifactSource(layers, config, extra), manifest.raw, what="build cache")


def _with_listing(record: CacheRecord, data: bytes | None) -> CacheRecord:
    import dataclasses

    return dataclasses.replace(record, listing=Descriptor.for_bytes(LISTING, data) if data is not None else None)


def select(used: Mapping[str, CacheRecord], final_diff_ids: Iterable[Digest],
           mode: CacheMode) -> dict[str, CacheRecord]:
    """The records one export carries: all of them (`max`) or those whose layer is in the final image (`min`),
    matched by diff_id (the output may hold a compressed copy of a layer the cache holds uncompressed)."""
    if mode is CacheMode.MAX:
        return dict(used)
    wanted = set(final_diff_ids)
    return {key: rec for key, rec in used.items() if rec.diff_id in wanted}


@dataclass(frozen=True, slots=True)
class ImportedCache:
    """Records read from one `--cache-from`, with the image whose blobs hold their layers."""

    source: str
    records: Mapping[str, CacheRecord]
    image: Image

    @classmethod
    def open(cls, location: str) -> ImportedCache:
        """Read the cache artifact at `location` (NotFound when it does not exist yet)."""
        from dockyard.transports.resolve import open_location

        image = open_location(location)
        if not isinstance(image, Image):
            raise InvalidManifest(f"{location} is an index, not a dockyard build cache")
        config = image.manifest().config
        if config.media_type != CACHE_CONFIG:
            raise InvalidManifest(f"{location} is not a dockyard build cache (config media type "
                                  f"{config.media_type})")
        return cls(location, decode_records(image.raw_config(), location), image)

    def fetch(self, record: CacheRecord) -> BinaryIO:
        """The layer blob of `record` (the caller verifies it while storing)."""
        return self.image.open_blob(record.layer)

    def fetch_listing(self, record: CacheRecord) -> bytes | None:
        """The JSON `[dirs, others]` listing of `record`'s layer, verified; None when the cache has none."""
        if record.listing is None:
            return None
        import gzip

        from dockyard.transports.blobs import read_verified

        image = self.image

        class _One:
            def open_blob(self, digest: Digest) -> BinaryIO:
                return image.open_blob(record.listing)  # type: ignore[arg-type]

        raw = read_verified(_One(), record.listing, MAX_LISTING)
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as plain:
                data = plain.read(4 * MAX_LISTING + 1)  # bounded: a listing is never a decompression bomb
        except (OSError, EOFError) as exc:
            raise InvalidManifest(f"{self.source}: listing {record.listing.digest} is not gzip ({exc})") from None
        if len(data) > 4 * MAX_LISTING:
            raise InvalidManifest(f"{self.source}: listing {record.listing.digest} inflates past "
                                  f"{4 * MAX_LISTING} bytes")
        return data

