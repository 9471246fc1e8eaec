"""The registry's metadata contract: what it records about repositories, blobs, manifests, tags and uploads.

Bytes live in the storage driver; everything that says which bytes belong where lives behind
`MetadataStore` (SQLite by default, PostgreSQL later). Every write takes the acting user (`actor`)
and is recorded in the audit log inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from dockyard.oci.digest import Digest


class RefKind(StrEnum):
    """How a manifest points at something (kept for garbage collection)."""

    CONFIG = "config"
    LAYER = "layer"
    CHILD = "child"  # an index's manifest entry


@dataclass(frozen=True, slots=True)
class ManifestRecord:
    """A manifest stored in one repository; its raw bytes are the blob `digest` in storage."""

    digest: Digest
    media_type: str
    size: int
    subject: Digest | None = None
    artifact_type: str | None = None
    config_media_type: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def effective_artifact_type(self) -> str | None:
        """What the referrers API reports: the manifest's artifactType, else its config's media type."""
        return self.artifact_type or self.config_media_type


@dataclass(frozen=True, slots=True)
class ManifestRef:
    """One descriptor a manifest holds (a config, layer or index child)."""

    kind: RefKind
    digest: Digest
    size: int
    media_type: str


@dataclass(frozen=True, slots=True)
class UploadRecord:
    """An upload session: which repository it belongs to and when it started (unix time)."""

    uuid: str
    repository: str
    started: float


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, to what, when."""

    time: float
    actor: str
    action: str
    repository: str
    target: str


class MetadataStore(Protocol):
    """Repository metadata; lookups return None for what is absent, writes are atomic and audited."""

    # repositories
    def repository_exists(self, repository: str) -> bool: ...

    def repositories(self, *, last: str | None = None, limit: int | None = None) -> list[str]:
        """Repository names in ASCII order after `last`, at most `limit`."""
        ...

    # blobs linked into repositories
    def blob_size(self, repository: str, digest: Digest) -> int | None:
        """The size of a blob linked into `repository`, or None."""
        ...

    def repositories_with_blob(self, digest: Digest, *, limit: int = 20) -> list[str]: ...

    def link_blob(self, repository: str, digest: Digest, size: int, *, actor: str,
                  install: Callable[[], None] | None = None, mount: bool = False) -> bool:
        """Link a blob into `repository` (refreshing the link time); False when nothing was linked.

        With `install` (a push holding the bytes), it is called inside the write transaction and must leave the
        bytes in storage (store them unless they are there); the link, and the lifting of a garbage collector's
        condemned mark on the digest, commit with it. With `mount`, the link is made only if some repository
        still links the digest, which guarantees its bytes exist. With neither, the caller vouches for the
        bytes (imports, tests).
        """
        ...

    def unlink_blob(self, repository: str, digest: Digest, *, actor: str) -> bool: ...

    # manifests and tags
    def manifest(self, repository: str, digest: Digest) -> ManifestRecord | None: ...

    def put_manifest(self, repository: str, record: ManifestRecord, refs: Sequence[ManifestRef],
                     tags: Sequence[str], *, actor: str, require_blobs: Sequence[Digest] = (),
                     require_manifests: Sequence[Digest] = ()) -> list[Digest]:
        """Record a manifest (idempotent), what it references, and point `tags` at it.

        The `require_*` digests must be linked blobs / manifests of `repository` in the same transaction
        (so a concurrent garbage collector cannot remove them in between); the ones that are not are
        returned and nothing is recorded.
        """
        ...

    def delete_manifest(self, repository: str, digest: Digest, *, actor: str) -> bool:
        """Forget a manifest and every tag pointing at it."""
        ...

    def tag(self, repository: str, tag: str) -> Digest | None: ...

    def tags(self, repository: str, *, last: str | None = None, limit: int | None = None) -> list[str]: ...

    def delete_tag(self, repository: str, tag: str, *, actor: str) -> bool: ...

    def referrers(self, repository: str, subject: Digest, *, artifact_type: str | None = None
                  ) -> list[ManifestRecord]: ...

    # uploads
    def create_upload(self, upload: UploadRecord, *, actor: str) -> None: ...

    def upload(self, uuid: str) -> UploadRecord | None: ...

    def delete_upload(self, uuid: str, *, actor: str | None = None) -> None:
        """Forget a session; with an `actor` (a client cancelled it) the cancel is audited."""
        ...

    def uploads_before(self, started: float) -> list[UploadRecord]:
        """Sessions started before a unix time (abandoned uploads to purge)."""
        ...

    # audit
    def audit_log(self, *, limit: int = 100) -> list[AuditEntry]:
        """The newest entries first."""
        ...

    def close(self) -> None: ...
