"""The bubblewrap sandbox: the same overlay root, entered with `bwrap` instead of a runc bundle.

bwrap has no way to switch to another uid without a user namespace, so a non-root step runs bwrap itself as
that uid and gid (bwrap then creates an unprivileged user namespace mapping the uid to itself): files the step
writes are owned by that uid in the upper dir, as with runc. As root, no user namespace is created.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from dockyard.build.sandbox.base import Network, RunResult, RunSpec
from dockyard.build.sandbox.overlay import root_mount
from dockyard.build.sandbox.spec import DEFAULT_CAPS, Mountpoints, environment, parse_user, write_etc_files
from dockyard.errors import Unsupported

#: bwrap mounts these itself (no /sys, no /dev/mqueue); the rest of spec.SYSTEM_TARGETS does not apply.
_TARGETS = ("/proc", "/dev", "/etc/hosts", "/etc/resolv.conf")

#: Like runc's readonlyPaths: the host's (read-only) views over the new /proc's writable knobs, so a root step
#: cannot change sysctls or trigger sysrq (reading them shows the host's values).
_PROC_READONLY = [arg for path in ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus")
                  for arg in ("--ro-bind-try", path, path)]


class BwrapSandbox:
    """Runs steps with `bwrap` over an overlay mount (the mount itself still needs root)."""

    name = "bwrap"

    def __init__(self, bwrap: str | None = None) -> None:
        found = bwrap or shutil.which("bwrap")
        if found is None:
            raise Unsupported("bubblewrap is not installed (apt-get install bubblewrap)")
        self._bwrap = found

    def command(self, merged: Path, spec: RunSpec, hosts: Path, resolv: Path,
                points: Mountpoints | None = None) -> list[str]:
        """The bwrap argv for `spec` with `merged` as the root.

        With `points`, every mount destination is the target's real path inside the root: bwrap itself would
        resolve an absolute symlink on the way (`/var/run -> /run`) against the host's root, not the new one.
        """
        def dest(target: str) -> str:
            return target if points is None else "/" + points.real(target).removeprefix(".")

        uid, _ = parse_user(spec.user)
        argv = [self._bwrap, "--bind", str(merged), "/", "--proc", dest("/proc"), *_PROC_READONLY, "--dev",
                dest("/dev"), "--ro-bind", str(hosts), dest("/etc/hosts"), "--ro-bind", str(resolv),
                dest("/etc/resolv.conf"),
                "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", spec.hostname,
                "--die-with-parent", "--chdir", spec.cwd or "/", "--clearenv"]
        if spec.network is not Network.HOST:
            argv.append("--unshare-net")
        if os.geteuid() != 0:  # the tree-diff fallback without root: a one-uid user namespace
            argv += ["--unshare-user", "--uid", str(uid), "--gid", str(parse_user(spec.user)[1])]
        elif uid != 0:
            argv.append("--unshare-user")
        else:  # root keeps only Docker's default capabilities: no sysctl writes, no mounts, no module loading
            argv += ["--cap-drop", "ALL"]
            for cap in DEFAULT_CAPS:
                argv += ["--cap-add", cap]
        for bind in spec.mounts:
            argv += ["--ro-bind" if bind.readonly else "--bind", str(bind.source), dest(bind.target)]
        for target in spec.tmpfs:
            argv += ["--tmpfs", dest(target)]
        for pair in environment(spec):
            key, _, value = pair.partition("=")
            argv += ["--setenv", key, value]
        return [*argv, "--", *spec.args]

    def run(self, lowers: Sequence[Path], upper: Path | None, work: Path, spec: RunSpec, *,
            stdout: int | None = None, stderr: int | None = None) -> RunResult:
        start = time.monotonic()
        uid, gid = parse_user(spec.user)
        targets = [*_TARGETS, *(m.target for m in spec.mounts), *spec.tmpfs]
        as_root = os.geteuid() == 0  # else bwrap maps the step's user itself (`command`)
        with tempfile.TemporaryDirectory(prefix="dy-bwrap-") as tmp:
            etc = write_etc_files(Path(tmp), spec)
            os.chmod(tmp, 0o755)
            with root_mount(lowers, upper, work, Path(tmp) / "rootfs") as merged:
                points = Mountpoints.scan(merged, targets)
                _precreate(merged, points)
                argv = self.command(merged, spec, etc.hosts, etc.resolv, points)
                done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, check=False,
                                      user=(as_root and uid) or None, group=(as_root and gid) or None,
                                      extra_groups=[] if as_root and uid else None)
            if upper is not None:
                points.clean(upper)
        return RunResult(done.returncode, time.monotonic() - start)


def _precreate(merged: Path, points: Mountpoints) -> None:
    """Make missing mount points as root first: an unprivileged bwrap could not create them in the root."""
    files = {points.real("/etc/hosts"), points.real("/etc/resolv.conf")}
    for rel in points.missing:
        path = merged / rel
        if rel in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        elif not path.parent.exists() or path.parent.is_dir():
            path.mkdir(parents=True, exist_ok=True)

