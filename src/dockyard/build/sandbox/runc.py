"""The runc sandbox: a generated bundle whose root is the merged overlay, run with a private state dir.

cgroups: no `linux.cgroupsPath` is set (runc names the cgroup after the container id and removes it on
`delete`), and `linux.resources` holds only Docker's devices allow-list: without it runc 1.1 on these hosts'
hybrid (v1 plus `unified` v2) hierarchy fails with "error reopening /dev/null: operation not permitted". The
NOFILE rlimit is clamped to our own hard limit (raising it fails in the container's init).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from dockyard.build.sandbox.base import RunResult, RunSpec
from dockyard.build.sandbox.overlay import root_mount
from dockyard.build.sandbox.spec import Mountpoints, mount_targets, runtime_config, write_etc_files
from dockyard.errors import Unsupported


class RuncSandbox:
    """Runs steps with `runc run` over an overlay mount (needs root)."""

    name = "runc"

    def __init__(self, runc: str | None = None, state_root: Path | None = None) -> None:
        found = runc or shutil.which("runc")
        if found is None:
            raise Unsupported("runc is not installed (apt-get install runc)")
        self._runc = found
        self._state_root = state_root

    def run(self, lowers: Sequence[Path], upper: Path | None, work: Path, spec: RunSpec, *,
            stdout: int | None = None, stderr: int | None = None) -> RunResult:
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="dy-runc-") as tmp:
            bundle = Path(tmp)
            state = self._state_root or bundle / "state"
            etc = write_etc_files(bundle, spec)
            targets = mount_targets(spec)
            with root_mount(lowers, upper, work, bundle / "rootfs") as merged:
                points = Mountpoints.scan(merged, targets)
                (bundle / "config.json").write_bytes(runtime_config(spec, merged, etc))
                code = self._run(bundle, state, stdout, stderr)
            if upper is not None:
                points.clean(upper)
        return RunResult(code, time.monotonic() - start)

    def _run(self, bundle: Path, state: Path, stdout: int | None, stderr: int | None) -> int:
        container = f"dockyard-{uuid.uuid4().hex[:16]}"
        base = [self._runc, "--root", str(state)]
        try:
            done = subprocess.run([*base, "run", "--bundle", str(bundle), container], stdin=subprocess.DEVNULL,
                                  stdout=stdout, stderr=stderr, check=False)
            return done.returncode
        finally:
            subprocess.run([*base, "delete", "-f", container], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
