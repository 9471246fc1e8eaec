"""The values the store API returns: image records, removal and prune reports, disk usage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import is_index
from dockyard.oci.platform import Platform
from dockyard.oci.reference import Reference

NONE = "<none>"


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One line of `dockyard images`: an image with one of its names, or with none (a dangling image).

    The image ID is the manifest (or index) digest, as docker shows it with the containerd image
    store: it is the same for an image and an index, and it is what `name@digest` pins.
    """

    reference: Reference | None
    """The name this line shows; None for a dangling image."""
    digest: Digest
    """Manifest or index digest: the image ID."""
    media_type: str
    """Media type of that manifest or index."""
    config_digest: Digest | None
    """Image config digest (docker's classic image ID); None for an index."""
    created: datetime | None
    """Creation time from the config (the newest platform's for an index); None when the config has none."""
    added: datetime
    """When the image was first written into this store."""
    size: int
    """Bytes of all its distinct blobs as stored (compressed layers, configs, manifests)."""
    platforms: tuple[Platform, ...]
    """`linux/amd64`, ...; several for an index (attestation entries excluded)."""
    names: tuple[Reference, ...]
    """Every name of the image (docker's RepoTags plus RepoDigests), sorted."""

    @property
    def id(self) -> str:
        """The short ID: first 12 hex digits of the digest."""
        return self.digest.short

    @property
    def repository(self) -> str:
        """The familiar repository (`busybox`, `ghcr.io/o/r`) or `<none>`."""
        return self.reference.familiar_name if self.reference else NONE

    @property
    def tag(self) -> str:
        return self.reference.tag if self.reference and self.reference.tag else NONE

    @property
    def dangling(self) -> bool:
        """True when no name points at the image."""
        return not self.names

    @property
    def is_index(self) -> bool:
        return is_index(self.media_type)

    @property
    def repo_tags(self) -> tuple[str, ...]:
        """Docker inspect's RepoTags (`busybox:latest`)."""
        return tuple(r.familiar for r in self.names if r.tag)

    @property
    def repo_digests(self) -> tuple[str, ...]:
        """Docker inspect's RepoDigests (`busybox@sha256:...`), one per repository."""
        repos = dict.fromkeys(r.familiar_name for r in self.names)
        return tuple(f"{repo}@{self.digest}" for repo in repos)


@dataclass(frozen=True, slots=True)
class RemoveResult:
    """What `rmi` did."""

    untagged: tuple[Reference, ...]
    """Names removed."""
    deleted: Digest | None
    """The image record removed (None when it still has names)."""
    blobs_removed: int
    """Blobs only that image used, deleted right away (0 if a writer was busy: prune collects them later)."""
    bytes_reclaimed: int


@dataclass(frozen=True, slots=True)
class PrunedImage:
    """One image record prune removed (or would remove)."""

    digest: Digest
    names: tuple[Reference, ...]
    """Names it had (only with `all=True` can a pruned image have names)."""
    size: int


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What prune removed, or with `dry_run` what it would remove."""

    images: tuple[PrunedImage, ...]
    blobs: tuple[Digest, ...]
    """Blob files deleted: those of removed images plus any blob no record keeps."""
    bytes_reclaimed: int
    """Bytes of deleted blobs plus leftover temp files."""
    temp_files: int
    """Leftover temp files (older than an hour) deleted."""
    dry_run: bool

    @property
    def untagged(self) -> tuple[Reference, ...]:
        return tuple(n for image in self.images for n in image.names)


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """`dockyard system df` for the store."""

    images: int
    """Image records."""
    dangling: int
    """Records without a name."""
    blobs: int
    """Blob files on disk."""
    bytes: int
    """Bytes of all blob files on disk."""
    reclaimable: int
    """Bytes a default prune would free now (dangling images' blobs plus unreferenced blobs)."""
