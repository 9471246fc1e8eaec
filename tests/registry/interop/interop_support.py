"""Helpers of the interop tests: running real clients, busybox root filesystems, `dockyard serve` as a process."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from dockyard.testing.containers import RUN_FLAGS, Containers, containers_tool, run
from dockyard.testing.peers import missing_peer

__all__ = ["RUN_FLAGS", "Containers", "containers_tool", "run"]

BUSYBOX = Path("/bin/busybox")
DOCKYARD = Path(sys.executable).with_name("dockyard")


def busybox_rootfs(dest: Path, *, extra: dict[str, str] | None = None) -> Path:
    """A root filesystem like `busybox --install -s` makes: /bin/busybox plus one absolute symlink per applet."""
    if not BUSYBOX.is_file():
        missing_peer("busybox-static is not installed (apt-get install busybox-static)")
    (dest / "bin").mkdir(parents=True)
    shutil.copy2(BUSYBOX, dest / "bin" / "busybox")
    for applet in run([BUSYBOX, "--list-full"]).stdout.split():
        link = dest / applet
        if link.name == "busybox" or link.exists() or link.is_symlink():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/bin/busybox")
    for name in ("etc", "tmp", "root", "proc", "sys", "dev"):
        (dest / name).mkdir(exist_ok=True)
    for name, text in (extra or {}).items():
        (dest / name).write_text(text)
    return dest


@dataclass(frozen=True)
class Images:
    """An OCI layout with tags `1` (busybox, gzip), `zstd` (same, zstd layer), `amd64`, `arm64` and `multi`
    (an index over the last two); `digests` maps each tag to its manifest digest."""

    layout: Path
    digests: dict[str, str] = field(default_factory=dict)

    def ref(self, tag: str) -> str:
        return f"oci:{self.layout}:{tag}"


@dataclass(frozen=True)
class Skopeo:
    """skopeo with no signature policy; `--tls-verify=false` is added for the registry side of a copy."""

    binary: str

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run([self.binary, "--insecure-policy", *args], check=check)

    def copy(self, src: str, dst: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        tls = [f"--{side}-tls-verify=false" for side, ref in (("src", src), ("dest", dst))
               if ref.startswith("docker://")]
        return self("copy", "--quiet", *tls, *args, src, dst, check=check)

    def raw(self, ref: str, *args: str) -> bytes:
        return self("inspect", "--raw", "--tls-verify=false", *args, ref).stdout.encode()


# -- `dockyard serve` as a real process (for kill -9) -----------------------------------------------------


@dataclass(frozen=True)
class ServedRegistry:
    """A `dockyard serve` subprocess: `host` is `127.0.0.1:PORT`."""

    process: subprocess.Popen[bytes]
    host: str
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v2/", timeout=2).status_code in (200, 401)
    except httpx.HTTPError:
        return False


@contextmanager
def served(data_dir: Path, *, port: int | None = None, timeout: float = 30) -> Iterator[ServedRegistry]:
    """Run `dockyard serve --data-dir DATA_DIR` until it answers; SIGTERM (or SIGKILL) it afterwards."""
    port = port or free_port()
    log = data_dir.parent / f"serve-{port}-{time.monotonic_ns()}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(DOCKYARD), "serve", "--port", str(port), "--data-dir", str(data_dir)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    reg = ServedRegistry(proc, f"127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + timeout
        while not _answers(reg.url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dockyard serve did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        yield reg
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


# -- checking a data dir after a crash --------------------------------------------------------------------


def check_data_dir(data_dir: Path) -> None:
    """`dockyard registry fsck` is clean, and (checked here too, independently) every stored blob hashes to
    its name and every blob and manifest the metadata links is stored."""
    blobs = data_dir / "storage" / "blobs"
    stored: set[str] = set()
    for path in blobs.rglob("*") if blobs.exists() else ():
        if not path.is_file():
            continue
        algorithm, _, encoded, name = path.relative_to(blobs).parts
        assert name == "data", f"stray file in blob storage: {path}"
        hasher = hashlib.new(algorithm)
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                hasher.update(chunk)
        assert hasher.hexdigest() == encoded, f"{path} does not hash to its name"
        stored.add(f"{algorithm}:{encoded}")
    with closing(sqlite3.connect(data_dir / "registry.db")) as db:
        linked = {row[0] for row in db.execute("SELECT digest FROM blobs UNION SELECT digest FROM manifests")}
    missing = linked - stored
    assert not missing, f"metadata links blobs that are not stored: {sorted(missing)}"
    proc = subprocess.run([str(DOCKYARD), "registry", "fsck", "--data-dir", str(data_dir), "-o", "json"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, f"dockyard registry fsck: {proc.stdout}\n{proc.stderr}"
    report = json.loads(proc.stdout)
    assert report["clean"] and report["findings"] == [] and report["blobs_checked"] == len(stored), report
