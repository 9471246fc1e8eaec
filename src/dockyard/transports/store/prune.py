"""`dockyard image prune`: remove dangling (or, with all, every) image record, then every blob no record keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dockyard.oci.digest import ALGORITHMS
from dockyard.transports.store.blobs import fsync_dir
from dockyard.transports.store.gc import plan
from dockyard.transports.store.models import PrunedImage, PruneReport
from dockyard.transports.store.store import Store
from dockyard.transports.store.times import as_cutoff, parse_until

__all__ = ["TEMP_GRACE", "parse_until", "prune"]

#: Temp files younger than this may belong to a writer that ignores the lock; leave them.
TEMP_GRACE = timedelta(hours=1)


def prune(
    store: Store,
    all: bool = False,
    until: timedelta | datetime | None = None,
    dry_run: bool = False,
) -> PruneReport:
    """Remove unused images and reclaim their space, like `docker image prune [-a] [--filter until=]`.

    Default: records with no name. `all=True`: every record, tagged ones too (the store has no
    containers to keep them in use). `until` (an age, or a point in time; see `parse_until`) keeps
    records added after the cutoff. Referrers (manifests with a `subject`) stay while their subject
    stays. Then every blob that no remaining record keeps, and temp files older than an hour, go.
    With `dry_run` nothing is deleted and the report says what would be.

    Holds the store lock exclusively: waits for running writes, and blocks new ones meanwhile.
    """
    now = datetime.fromtimestamp(store.clock(), UTC)
    cutoff = as_cutoff(until, now)
    with store.lock.exclusive():
        chosen = plan(store.meta, all=all, cutoff=cutoff)
        if dry_run:
            images = chosen.images
            keep = chosen.keep
        else:
            sizes = {image.digest: image.size for image in chosen.images}
            deleted = store.meta.delete_images(sizes, only_unnamed=not all)
            images = tuple(PrunedImage(d, tuple(names), sizes[d]) for d, names in deleted)
            keep = frozenset(store.meta.live_blobs())
        garbage = [f for f in store.blobs.files() if f.digest not in keep]
        temps = store.blobs.temp_files(TEMP_GRACE.total_seconds())
        if not dry_run:
            for blob in garbage:
                store.blobs.delete(blob.digest)
            for temp in temps:
                temp.path.unlink(missing_ok=True)
            for algorithm in ALGORITHMS:
                fsync_dir(store.paths.blobs / algorithm)
    return PruneReport(
        images=images,
        blobs=tuple(sorted(f.digest for f in garbage)),
        bytes_reclaimed=sum(f.size for f in garbage) + sum(t.size for t in temps),
        temp_files=len(temps),
        dry_run=dry_run,
    )
