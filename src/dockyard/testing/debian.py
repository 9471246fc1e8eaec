"""A real Debian base for tests: `debootstrap --variant=minbase`, cached on the machine as one rootfs tar per suite.

The first run of a suite takes about half a minute and needs deb.debian.org; later runs (CI reruns on the same
machine) reuse `<cache>/debian-<suite>-minbase.tar` after checking it against the sha256 and size recorded next
to it. Building happens under a lock, in a temporary directory that is renamed into place only when complete, so
a crash or a concurrent worker never leaves a half-written base. The tar is cut down as Docker's official Debian
images are: no downloaded .deb files or package lists, an empty /dev, and none of the host's /etc/resolv.conf and
/etc/hostname that debootstrap copies in (a runtime provides those).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dockyard.errors import Unsupported
from dockyard.testing.peers import require_tool

MIRROR = "http://deb.debian.org/debian"
#: The machine-wide cache; DOCKYARD_TEST_CACHE overrides it.
CACHE_DIR = Path("/var/cache/dockyard-tests")
_DEBOOTSTRAP_TIMEOUT = 1800


@dataclass(frozen=True, slots=True)
class DebianRootfs:
    """A cached minbase rootfs tar and how it was obtained."""

    tar: Path
    suite: str
    sha256: str
    size: int
    cached: bool
    """True when an earlier run's tar was reused, False when debootstrap ran now."""
    seconds: float
    """Wall time to obtain it: debootstrap plus packing when not cached, else the check of the cached tar."""


def cache_dir() -> Path:
    return Path(os.environ.get("DOCKYARD_TEST_CACHE") or CACHE_DIR)


def debian_rootfs(suite: str = "bookworm", *, cache: Path | None = None, mirror: str = MIRROR) -> DebianRootfs:
    """The minbase rootfs tar of `suite`: the cached one when valid, else a fresh debootstrap (skips without it)."""
    debootstrap = require_tool("debootstrap")
    require_tool("tar")
    where = cache or cache_dir()
    where.mkdir(parents=True, exist_ok=True)
    tar = where / f"debian-{suite}-minbase.tar"
    meta = tar.with_name(tar.name + ".json")
    start = time.monotonic()
    with _locked(where / f".debian-{suite}.lock"):
        found = _valid(tar, meta)
        if found is not None:
            return DebianRootfs(tar, suite, found[0], found[1], True, time.monotonic() - start)
        with tempfile.TemporaryDirectory(dir=where, prefix=f".build-{suite}-") as tmp:
            root = Path(tmp) / "root"
            try:
                subprocess.run([debootstrap, "--variant=minbase", suite, str(root), mirror], check=True,
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=_DEBOOTSTRAP_TIMEOUT)
            except subprocess.CalledProcessError as exc:
                raise Unsupported(f"debootstrap {suite} failed: {exc.stderr.decode(errors='replace')[-2000:]}"
                                   ) from exc
            finally:
                _unmount_below(Path(tmp))  # debootstrap mounts /proc and /sys in the target; a failure may leave them
            _minimize(root)
            packed = Path(tmp) / "rootfs.tar"
            subprocess.run(["tar", "--numeric-owner", "--sort=name", "-C", str(root), "-cf", str(packed), "."],
                           check=True, capture_output=True)
            digest, size = _sha256(packed)
            os.replace(packed, tar)
        meta.write_text(json.dumps({"suite": suite, "variant": "minbase", "mirror": mirror, "sha256": digest,
                                    "size": size}, indent=1) + "\n")
        return DebianRootfs(tar, suite, digest, size, False, time.monotonic() - start)


def _minimize(root: Path) -> None:
    """Drop what a base image does not ship: package downloads and lists, device nodes, the host's /etc files."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*", "dev/*"):
        for path in root.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                if path.name != "partial":
                    shutil.rmtree(path)
            else:
                path.unlink()
    for name in ("etc/resolv.conf", "etc/hostname"):
        (root / name).unlink(missing_ok=True)


def _valid(tar: Path, meta: Path) -> tuple[str, int] | None:
    """(sha256, size) of `tar` when it matches its metadata, else None (a missing or damaged cache)."""
    try:
        recorded = json.loads(meta.read_text())
        if tar.stat().st_size != recorded["size"]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    digest, size = _sha256(tar)
    return (digest, size) if digest == recorded.get("sha256") else None


def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _unmount_below(top: Path) -> None:
    prefix = os.fsencode(os.path.realpath(top)) + b"/"
    with open("/proc/self/mounts", "rb") as f:
        points = [line.split(b" ")[1].replace(b"\\040", b" ") for line in f]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", os.fsdecode(point)], check=False, capture_output=True)
