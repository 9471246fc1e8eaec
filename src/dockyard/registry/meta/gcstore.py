"""The metadata capability garbage collection and fsck need: whole-registry snapshots and guarded deletes.

A separate protocol from `MetadataStore` (an optional power, probed with `isinstance`): the server never
needs it, and a new metadata backend can serve pushes and pulls before it can be collected. The guarded
deletes re-check, inside one write transaction, every condition the collector's plan was based on, so a
plan made from a stale snapshot can never remove something a concurrent push has started to use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from dockyard.oci.digest import Digest
from dockyard.registry.meta.base import ManifestRef, RefKind, UploadRecord


@dataclass(frozen=True, slots=True)
class BlobLink:
    """A blob linked into a repository (pushed, mounted or stored as a manifest's bytes)."""

    repository: str
    digest: Digest
    size: int
    linked: float  # unix time of the last push or mount of this blob into this repository


@dataclass(frozen=True, slots=True)
class ManifestNode:
    """A manifest of one repository with everything reachability needs: its tags, subject and references."""

    repository: str
    digest: Digest
    size: int
    pushed: float
    subject: Digest | None
    tags: tuple[str, ...]
    refs: tuple[ManifestRef, ...]

    @property
    def children(self) -> tuple[Digest, ...]:
        """The manifests an index lists."""
        return tuple(r.digest for r in self.refs if r.kind is RefKind.CHILD)


@dataclass(frozen=True, slots=True)
class RegistrySnapshot:
    """One consistent read of the registry's metadata."""

    manifests: tuple[ManifestNode, ...]
    links: tuple[BlobLink, ...]
    uploads: tuple[UploadRecord, ...]
    condemned: tuple[Digest, ...]  # blobs a collector condemned whose bytes may still be in storage


@runtime_checkable
class CollectableStore(Protocol):
    """Metadata a garbage collector can plan from and delete through."""

    def snapshot(self) -> RegistrySnapshot:
        """Everything GC and fsck read, from one read transaction."""
        ...

    def condemn_blob(self, digest: Digest, *, cutoff: float, actor: str) -> bool:
        """Unlink an unused blob from every repository and mark it condemned, atomically; False (and no change)
        when a manifest references it, it is a manifest, or any link is newer than `cutoff` (unix time)."""
        ...

    def sweep_blob(self, digest: Digest, delete: Callable[[], int], *, actor: str) -> int | None:
        """If `digest` is still condemned and unreferenced, call `delete` (which removes the bytes and returns how
        many) inside the write transaction and forget the mark; None when a push revived the blob meanwhile."""
        ...

    def delete_unreachable_manifest(self, repository: str, digest: Digest, *, cutoff: float, actor: str) -> bool:
        """Delete a manifest that has no tag, no index listing it and no present subject, pushed before `cutoff`;
        False (and no change) when any of that no longer holds."""
        ...
