"""Image analysis: per-layer file trees, dive-compatible efficiency, the truly reclaimable bytes, the base/app
split, findings with fixes, and a CI gate (`dockyard analyze`)."""

from __future__ import annotations

from dockyard.analyze.model import (
    BaseSplit,
    DiveMetrics,
    Finding,
    FindingItem,
    FindingKind,
    Inefficiency,
    LayerReport,
    Reclaim,
    Report,
    Severity,
    WastedPath,
)
from dockyard.analyze.report import analyze, check_image
from dockyard.analyze.runtime import freeze_for_exit

__all__ = ["BaseSplit", "DiveMetrics", "Finding", "FindingItem", "FindingKind", "Inefficiency", "LayerReport",
           "Reclaim", "Report", "Severity", "WastedPath", "analyze", "check_image", "freeze_for_exit"]
