"""Storage drivers: where the registry keeps bytes (filesystem, in-memory; S3 later), behind one protocol."""

from dockyard.registry.storage.base import (
    CHUNK,
    FileInfo,
    FileWriter,
    LocalFiles,
    StorageDriver,
    check_dir_path,
    check_path,
    walk,
)
from dockyard.registry.storage.checked import CheckedDriver, StorageStats
from dockyard.registry.storage.filesystem import FilesystemDriver
from dockyard.registry.storage.inmemory import InMemoryDriver

__all__ = [
    "CHUNK",
    "CheckedDriver",
    "FileInfo",
    "FileWriter",
    "FilesystemDriver",
    "InMemoryDriver",
    "LocalFiles",
    "StorageDriver",
    "StorageStats",
    "check_dir_path",
    "check_path",
    "walk",
]
