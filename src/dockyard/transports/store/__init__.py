"""The local image store: content-addressed blobs on disk, names and image records in SQLite, and prune."""

from dockyard.transports.store.models import DiskUsage, ImageRecord, PrunedImage, PruneReport, RemoveResult
from dockyard.transports.store.paths import default_store_root, dockyard_home
from dockyard.transports.store.prune import parse_until, prune
from dockyard.transports.store.store import Store

__all__ = [
    "DiskUsage",
    "ImageRecord",
    "PruneReport",
    "PrunedImage",
    "RemoveResult",
    "Store",
    "default_store_root",
    "dockyard_home",
    "parse_until",
    "prune",
]
