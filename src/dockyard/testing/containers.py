"""Real podman and buildah over private storage for tests, and a runner that fails the test with the client's output.

    with containers_tool(require_tool("podman"), tmp_path / "podman") as podman:
        podman("run", "--rm", *RUN_FLAGS, "oci-archive:/path/app.tar")
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

#: podman run needs these on these machines (DESIGN section 4): runc, and rlimits no higher than the host's.
RUN_FLAGS = ("--runtime", "runc", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768")


def run(cmd: Sequence[str | os.PathLike[str]], *, env: dict[str, str] | None = None, timeout: float = 300,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a real client; a failure fails the test with the client's own output."""
    argv = [str(c) for c in cmd]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@dataclass(frozen=True)
class Containers:
    """podman or buildah over private storage (vfs driver, own root and runroot) and its own auth file."""

    binary: str
    root: Path
    runroot: Path  # podman wants at most 50 characters here: a short dir under /tmp

    @property
    def authfile(self) -> Path:
        return self.root / "auth.json"

    def __call__(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        base = [self.binary, "--root", str(self.root / "storage"), "--runroot", str(self.runroot),
                "--storage-driver", "vfs"]
        if Path(self.binary).name == "podman":
            base += ["--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        if not self.authfile.exists():
            self.authfile.write_text('{"auths": {}}\n')
        env = {"REGISTRY_AUTH_FILE": str(self.authfile), "TMPDIR": str(self.root / "tmp")}
        return run([*base, *args], env=env, check=check, timeout=timeout)


@contextmanager
def containers_tool(binary: str, root: Path) -> Iterator[Containers]:
    """podman/buildah over private storage under `root`; containers and images are removed afterwards."""
    runroot = Path(tempfile.mkdtemp(prefix="dy-run-", dir="/tmp"))
    tool = Containers(binary, root, runroot)
    try:
        yield tool
    finally:
        tool("rm", "--all", *(["--force"] if Path(binary).name == "podman" else []), check=False)
        tool("rmi", "--all", "--force", check=False)
        shutil.rmtree(runroot, ignore_errors=True)
