"""The analysis report: frozen values for layers, metrics, reclaimable bytes, the base/app split and findings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dockyard.analyze.apply import LayerDelta, Removal
from dockyard.analyze.divecompat import DiveMetrics, Inefficiency
from dockyard.layers.tarformat import TarEntry
from dockyard.oci.digest import Digest

__all__ = ["BaseSplit", "DiveMetrics", "Finding", "FindingItem", "FindingKind", "Inefficiency", "LayerReport",
           "Reclaim", "Removal", "Report", "Severity", "WastedPath"]


class FindingKind(StrEnum):
    """What a finding is about."""

    LARGEST_FILES = "largest-files"
    OVERWRITTEN = "overwritten-files"
    DELETED = "deleted-files"
    PACKAGE_CACHE = "package-cache"
    DOCS = "docs"
    LOCALES = "locales"
    UNSTRIPPED = "unstripped-binaries"
    TOOLCHAIN = "build-toolchain"
    SETUID = "setuid-setgid"
    WORLD_WRITABLE = "world-writable"
    SECRET = "secret"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class FindingItem:
    """One path behind a finding."""

    path: str
    layer: int
    bytes: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """Something worth fixing, what it costs in bytes and how to fix it."""

    kind: FindingKind
    severity: Severity
    title: str
    bytes: int
    """Bytes the fix would save (0 when the finding is about safety, not size)."""
    fix: str
    count: int
    """How many paths are involved (items holds the largest of them)."""
    items: tuple[FindingItem, ...]


@dataclass(frozen=True, slots=True)
class LayerReport:
    """One layer: where it comes from, its sizes and what it changes."""

    index: int
    digest: Digest
    diff_id: Digest | None
    media_type: str
    compressed_size: int
    size: int
    """Sum of the sizes of its tar entries (dive's layer size): the file content it adds."""
    command: str
    """The history command that made it, mapped as dive maps it (empty_layer entries skipped)."""
    comment: str | None
    entries: int
    added_files: int
    added_bytes: int
    modified_files: int
    modified_bytes: int
    removed_files: int
    removed_bytes: int
    reclaimable_bytes: int
    """Bytes this layer adds that the final filesystem no longer shows."""
    base: bool
    """True when the layer belongs to the base image."""


@dataclass(frozen=True, slots=True)
class WastedPath:
    """A path whose earlier copies are dead weight: overwritten later or deleted."""

    path: str
    bytes: int
    copies: int
    layers: tuple[int, ...]
    """Layers holding the dead copies."""
    fate: str
    """`overwritten` (a later layer shows a newer copy) or `deleted` (no longer in the final filesystem)."""
    final_layer: int | None
    metadata_only: bool
    """The newer copy has the same size but other permissions or owner: likely a chmod/chown-only re-add."""


@dataclass(frozen=True, slots=True)
class Reclaim:
    """Bytes added by all layers, bytes the final filesystem shows, and the difference, per path and layer."""

    added_bytes: int
    visible_bytes: int
    reclaimable_bytes: int
    paths: tuple[WastedPath, ...]


@dataclass(frozen=True, slots=True)
class BaseSplit:
    """Which layers come from the base image, and the base's and the app's own sizes and waste."""

    source: str
    """How the base was found: `annotation`, `--base`, or `none`."""
    base_name: str | None
    base_digest: str | None
    layers: int
    base_bytes: int
    app_bytes: int
    base_reclaimable: int
    app_reclaimable: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything `dockyard analyze` found out about one image."""

    reference: str
    digest: Digest
    media_type: str
    platform: str
    created: str | None
    compressed_size: int
    layers: tuple[LayerReport, ...]
    dive: DiveMetrics
    reclaim: Reclaim
    base: BaseSplit
    findings: tuple[Finding, ...]
    entries: tuple[tuple[TarEntry, ...], ...]
    """Per layer, its tar entries in archive order (metadata only)."""
    deltas: tuple[LayerDelta, ...]
    """Per layer, a change kind for each entry (see analyze.apply) and what its whiteouts removed."""

    @property
    def size(self) -> int:
        """Uncompressed content bytes of all layers (dive's image size)."""
        return self.dive.size_bytes

    @property
    def secrets(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind is FindingKind.SECRET)
