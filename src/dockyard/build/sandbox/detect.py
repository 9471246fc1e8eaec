"""Choosing a sandbox: runc when we are root and overlayfs mounts, else bwrap, else Unsupported."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

from dockyard.build.sandbox.base import Sandbox
from dockyard.build.sandbox.bwrap import BwrapSandbox
from dockyard.build.sandbox.overlay import overlay_mount
from dockyard.build.sandbox.runc import RuncSandbox
from dockyard.errors import Unsupported


@functools.cache
def overlay_problem() -> str | None:
    """None when this process can mount overlayfs, else why not (probed once with a throwaway mount)."""
    if os.geteuid() != 0:
        return "overlayfs mounts need root"
    try:
        with tempfile.TemporaryDirectory(prefix="dy-probe-") as tmp:
            base = Path(tmp)
            (base / "lower").mkdir()
            with overlay_mount([base / "lower"], base / "upper", base / "work", base / "merged"):
                pass
    except (Unsupported, OSError) as exc:
        return str(exc)
    return None


def detect_sandbox(prefer: str | None = None) -> Sandbox:
    """The sandbox for RUN steps: `prefer` ("runc" or "bwrap") when usable, else runc, else bwrap.

    Raises Unsupported (with the reason) when neither can run here; the caller then falls back to tree diffs.
    """
    problem = overlay_problem()
    if problem is not None:
        raise Unsupported(f"no RUN sandbox: {problem}")
    order = ["runc", "bwrap"]
    if prefer is not None:
        if prefer not in order:
            raise Unsupported(f"unknown sandbox {prefer!r} (choose runc or bwrap)")
        order.remove(prefer)
        order.insert(0, prefer)
    for name in order:
        if shutil.which(name) is not None:
            return RuncSandbox() if name == "runc" else BwrapSandbox()
    raise Unsupported("no RUN sandbox: neither runc nor bwrap is installed (apt-get install runc bubblewrap)")


def detect_tree_sandbox() -> Sandbox:
    """The sandbox for the tree-diff fallback (no overlay): runc as root, else bwrap (unprivileged user ns)."""
    if os.geteuid() == 0 and shutil.which("runc") is not None:
        return RuncSandbox()
    if shutil.which("bwrap") is not None:
        return BwrapSandbox()
    raise Unsupported("no RUN sandbox: the tree-diff fallback needs bwrap (apt-get install bubblewrap)"
                      + ("" if os.geteuid() != 0 else " or runc"))
