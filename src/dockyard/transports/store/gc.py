"""Which image records a prune removes and which blobs the remaining records keep alive (mark phase)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dockyard.oci.digest import Digest
from dockyard.transports.store.db import MetaDB
from dockyard.transports.store.models import PrunedImage


@dataclass(frozen=True, slots=True)
class Plan:
    """Records to remove and the blobs every other record keeps."""

    images: tuple[PrunedImage, ...]
    keep: frozenset[Digest]


def plan(meta: MetaDB, *, all: bool, cutoff: datetime | None) -> Plan:
    """Choose the records to remove, as `docker image prune [-a] [--filter until=]` would.

    Candidates are the dangling records (with `all`, every record) added before `cutoff`. A candidate
    whose manifest has a `subject` (a signature, SBOM or other referrer) stays while its subject is kept.
    """
    rows = meta.images()
    names = meta.names()
    refs = meta.blob_refs()
    limit = cutoff.timestamp() if cutoff is not None else None
    doomed = {r.digest: r for r in rows
              if (all or r.digest not in names) and (limit is None or r.added < limit)}
    while True:
        keep = frozenset(b for r in rows if r.digest not in doomed for b in refs.get(r.digest, ()))
        saved = [d for d, r in doomed.items() if r.subject is not None and r.subject in keep]
        if not saved:
            break
        for digest in saved:
            del doomed[digest]
    images = tuple(PrunedImage(r.digest, tuple(names.get(r.digest, ())), r.size) for r in doomed.values())
    return Plan(images, keep)
