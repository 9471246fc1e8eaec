"""The contract between the build executor and a sandbox that runs one RUN step.

The executor keeps every layer it has applied as an extracted directory tree (the lower dirs, oldest
first). To run a step it asks a sandbox to mount those trees read-only under a fresh upper dir, run the
command, and return; the upper dir then holds exactly the step's changes in overlayfs form (whiteouts as
0/0 char devices, opaque dirs marked with `trusted.overlay.opaque=y`), which `build/snapshot.py` turns
into a layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol


class Network(StrEnum):
    NONE = "none"
    HOST = "host"  # `--network=default` on a machine without a bridge means the host network


@dataclass(frozen=True, slots=True)
class BindMount:
    """A host path made visible inside the sandbox (cache mounts, bind mounts, secrets)."""

    source: Path
    target: str
    readonly: bool = True


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One RUN step: what to execute and in which environment."""

    args: Sequence[str]
    """argv: exec form as given, shell form already wrapped (e.g. ["/bin/sh", "-c", script])."""
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str = "/"
    user: str = "0:0"
    """`uid:gid` numbers, already resolved against the image's /etc/passwd by the executor."""
    network: Network = Network.NONE
    mounts: Sequence[BindMount] = ()
    tmpfs: Sequence[str] = ()
    hostname: str = "dockyard"


@dataclass(frozen=True, slots=True)
class RunResult:
    exit_code: int
    duration: float


class Sandbox(Protocol):
    """Runs one step over `lowers` (read-only trees, oldest first) writing changes into `upper`; with `upper`
    None, `lowers` is one tree the step changes in place (the tree-diff fallback)."""

    name: str

    def run(self, lowers: Sequence[Path], upper: Path | None, work: Path, spec: RunSpec, *,
            stdout: int | None = None, stderr: int | None = None) -> RunResult: ...
