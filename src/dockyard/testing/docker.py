"""A private real Docker Engine (dockerd) for tests: own data root and socket, always stopped afterwards.

dockerd runs without networking setup (`--iptables=false --ip-masq=false --bridge=none`), so containers
need `--network none`. overlay2 is tried first, then vfs where overlay mounts are refused.
The daemon gets PR_SET_PDEATHSIG, so it dies with the test process even if cleanup never runs.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from dockyard.testing.peers import missing_peer

#: Storage drivers tried in order when none is asked for.
DRIVERS = ("overlay2", "vfs")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def docker(host: str, *args: str, input: bytes | None = None, timeout: float = 300,
           check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run the docker CLI against `host`; raises CalledProcessError (with output) when `check` and it fails."""
    env = {**os.environ, "DOCKER_HOST": host}
    env.pop("DOCKER_CONTEXT", None)
    proc = subprocess.run(["docker", "--host", host, *args], input=input, capture_output=True,
                          timeout=timeout, env=env, check=False)
    if check and proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc


def _ready(host: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if docker(host, "info", "--format", "{{.ServerVersion}}", timeout=10, check=False).returncode == 0:
                return True
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.2)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait (dockerd stops its containerd); SIGKILL its process group if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    with suppress(ProcessLookupError, PermissionError):  # children (containerd, shims) share its group
        os.killpg(proc.pid, signal.SIGKILL)


def _start(base: Path, driver: str) -> tuple[str, subprocess.Popen[bytes]]:
    run = base / driver
    for sub in ("data", "exec"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    host = f"unix://{run / 's'}"
    cmd = ["dockerd", "--iptables=false", "--ip-masq=false", "--bridge=none", f"--storage-driver={driver}",
           "--data-root", str(run / "data"), "--exec-root", str(run / "exec"), "--pidfile", str(run / "pid"),
           "-H", host]
    with open(base / f"dockerd-{driver}.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True,
                                preexec_fn=_die_with_parent)  # noqa: PLW1509 - tests start it single-threaded
    return host, proc


def _log_tail(base: Path, driver: str, lines: int = 5) -> str:
    try:
        text = (base / f"dockerd-{driver}.log").read_text(errors="replace")
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])


@contextmanager
def docker_engine(drivers: Sequence[str] = DRIVERS, *, startup_timeout: float = 60.0) -> Iterator[str]:
    """Start a private dockerd, yield its host (`unix:///...`), and stop it (SIGTERM, wait) afterwards.

    Skips (or fails under DOCKYARD_REQUIRE_PEERS=1) when dockerd or docker is missing, when not root,
    or when no storage driver starts. The data root lives in a short temp dir (socket paths are limited
    to 107 bytes) that is removed afterwards.
    """
    if shutil.which("dockerd") is None or shutil.which("docker") is None:
        missing_peer("dockerd/docker are not installed (apt-get install docker.io)")
    if os.geteuid() != 0:
        missing_peer("dockerd needs root")
    base = Path(tempfile.mkdtemp(prefix="dy-docker-", dir="/tmp"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        failures = []
        for driver in drivers:
            host, proc = _start(base, driver)
            if _ready(host, proc, startup_timeout):
                break
            _stop(proc)
            proc = None
            failures.append(f"{driver}: {_log_tail(base, driver)}")
        if proc is None:
            missing_peer("dockerd did not start: " + "; ".join(failures))
            return
        yield host
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(base, ignore_errors=True)
