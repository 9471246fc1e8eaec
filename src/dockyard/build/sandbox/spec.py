"""The OCI runtime config for one RUN step, the generated /etc files, and runtime-mountpoint cleanup.

Runtimes create any missing mount point (`/proc`, `/sys`, `/etc/hosts`, a cache mount's target) inside the
root filesystem, which is the overlay, so it lands in the upper dir. `Mountpoints.scan` records which targets
did not exist before the run; `Mountpoints.clean` deletes those that are still empty afterwards (and parent dirs
that only the runtime created or copied up), so they never leak into the layer. A target through a symlink in the
image (`/var/run/x` with `/var/run -> /run`, a `/etc/resolv.conf` link) is resolved inside the root with the
extractor's resolver (`layers.safedir.follow_in_scope`), as runc's securejoin does before it mounts, so the mount
point that runc makes is the one that is recorded and cleaned.
"""

from __future__ import annotations

import json
import os
import resource
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard.build.sandbox.base import Network, RunSpec
from dockyard.errors import InvalidArgument
from dockyard.layers.safedir import follow_in_scope

#: Docker's default capability set (moby oci/caps/defaults.go).
DEFAULT_CAPS = tuple(f"CAP_{name}" for name in (
    "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP",
    "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"))
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Mount targets every runtime sets up besides the step's own mounts.
SYSTEM_TARGETS = ("/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/etc/hosts", "/etc/resolv.conf")
_DEVICES = (("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7), ("/dev/random", 1, 8),
            ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0))

#: The devices cgroup allow-list (Docker's default): the nodes above, ptys and /dev/ptmx.
_ALLOWED = [{"allow": True, "type": "c", "major": ma, "minor": mi, "access": "rwm"}
            for ma, mi in [*((ma, mi) for _, ma, mi in _DEVICES), (5, 2)]]
_ALLOWED.append({"allow": True, "type": "c", "major": 136, "access": "rwm"})


def parse_user(user: str) -> tuple[int, int]:
    """`uid:gid` numbers (gid 0 when omitted: the executor resolves the primary group from /etc/passwd)."""
    uid, _, gid = user.partition(":")
    try:
        return int(uid), int(gid or "0")
    except ValueError:
        raise InvalidArgument(f"sandbox user {user!r} is not numeric uid:gid (resolve names first)") from None


def environment(spec: RunSpec) -> list[str]:
    """`KEY=value` pairs, with Docker's default PATH when the step sets none."""
    env = dict(spec.env)
    env.setdefault("PATH", DEFAULT_PATH)
    return [f"{k}={v}" for k, v in env.items()]


@dataclass(frozen=True, slots=True)
class EtcFiles:
    """Generated files bind-mounted read-only at /etc/hosts and /etc/resolv.conf (outside the upper dir)."""

    hosts: Path
    resolv: Path


def write_etc_files(directory: Path, spec: RunSpec) -> EtcFiles:
    """Write hosts and resolv.conf for the step into `directory`."""
    hosts = directory / "hosts"
    hosts.write_text(f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                     f"127.0.1.1\t{spec.hostname}\n")
    resolv = directory / "resolv.conf"
    text = ""
    if spec.network is Network.HOST:
        try:
            text = Path("/etc/resolv.conf").read_text()
        except OSError:
            text = ""
    resolv.write_text(text)
    return EtcFiles(hosts, resolv)


def _mount(dest: str, kind: str, source: str, options: Sequence[str]) -> dict[str, object]:
    return {"destination": dest, "type": kind, "source": source, "options": list(options)}


def runtime_config(spec: RunSpec, rootfs: Path, etc: EtcFiles) -> bytes:
    """The runc `config.json` for `spec` with `rootfs` (the merged overlay) as the root."""
    uid, gid = parse_user(spec.user)
    caps = list(DEFAULT_CAPS)
    # Docker's 1048576, but never above our own hard limit: raising it needs CAP_SYS_RESOURCE, which runc drops
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = 1048576 if hard == resource.RLIM_INFINITY else min(1048576, hard)
    mounts = [
        _mount("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
        _mount("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        _mount("/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
        _mount("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        _mount("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
        _mount("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
        _mount("/etc/hosts", "bind", str(etc.hosts), ["rbind", "ro", "nosuid", "nodev"]),
        _mount("/etc/resolv.conf", "bind", str(etc.resolv), ["rbind", "ro", "nosuid", "nodev"]),
    ]
    for bind in spec.mounts:
        mounts.append(_mount(bind.target, "bind", str(bind.source), ["rbind", "ro" if bind.readonly else "rw"]))
    for target in spec.tmpfs:
        mounts.append(_mount(target, "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777"]))
    namespaces = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    if spec.network is not Network.HOST:
        namespaces.append({"type": "network"})
    config: dict[str, object] = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False, "user": {"uid": uid, "gid": gid}, "args": list(spec.args), "env": environment(spec),
            "cwd": spec.cwd or "/", "noNewPrivileges": False,
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}],
        },
        "root": {"path": str(rootfs), "readonly": False},
        "hostname": spec.hostname,
        "mounts": mounts,
        "linux": {
            "namespaces": namespaces,
            "devices": [{"path": p, "type": "c", "major": ma, "minor": mi, "fileMode": 0o666, "uid": 0, "gid": 0}
                        for p, ma, mi in _DEVICES],
            "resources": {"devices": [{"allow": False, "access": "rwm"}, *_ALLOWED]},
            "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
            "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }
    return json.dumps(config, indent=1).encode()


def mount_targets(spec: RunSpec) -> list[str]:
    """Every path the runtime mounts over for `spec` (system mounts first)."""
    return [*SYSTEM_TARGETS, *(m.target for m in spec.mounts), *spec.tmpfs]


def _rel(target: str) -> str:
    parts = [p for p in target.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidArgument(f"mount target {target!r} must not contain '..'")
    return "/".join(parts)


@dataclass(frozen=True, slots=True)
class Mountpoints:
    """What existed at the mount targets before a run, to undo the runtime's mount points afterwards."""

    missing: tuple[str, ...]
    """Targets and parents (relative paths) that did not exist in the merged root."""
    parents: tuple[tuple[str, int, int, int], ...]
    """Existing parent dirs of targets with their (mode, uid, gid): copied up when a mount point is made."""
    resolved: tuple[tuple[str, str], ...] = ()
    """(target, real relative path) for every target: where the runtime mounts it."""

    def real(self, target: str) -> str:
        """The real relative path of `target` (as scanned)."""
        return dict(self.resolved).get(target, _rel(target))

    @classmethod
    def scan(cls, merged: Path, targets: Sequence[str]) -> Mountpoints:
        """Record the state of `targets` in `merged`, each resolved inside it as the runtime will resolve it."""
        missing: list[str] = []
        parents: dict[str, tuple[str, int, int, int]] = {}
        root = os.open(merged, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            real = [follow_in_scope(root, _rel(target), what=f"mount target {target!r}") for target in targets]
        finally:
            os.close(root)
        for rel in real:
            parts = rel.split("/") if rel != "." else []
            for n in range(1, len(parts) + 1):
                sub = "/".join(parts[:n])
                try:
                    st = (merged / sub).lstat()
                except FileNotFoundError:
                    if sub not in missing:
                        missing.append(sub)
                    continue
                if n == len(parts):
                    break
                if not stat.S_ISDIR(st.st_mode):
                    break  # a file where a directory should be: the runtime fails, nothing to undo
                parents[sub] = (sub, st.st_mode, st.st_uid, st.st_gid)
        return cls(tuple(missing), tuple(parents.values()), tuple(zip(targets, real, strict=True)))

    def clean(self, upper: Path) -> None:
        """Delete runtime-made mount points from `upper` (deepest first) while they are empty files or dirs.

        Copied-up parents are dropped only when empty, not opaque and with unchanged mode and owner.
        """
        before = {rel: (mode, uid, gid) for rel, mode, uid, gid in self.parents}
        for rel in sorted({*self.missing, *before}, key=lambda r: (-r.count("/"), r)):
            path = upper / rel
            st = _lstat_below(upper, rel)
            if st is None:
                continue
            if rel in before:
                if (stat.S_ISDIR(st.st_mode) and (st.st_mode, st.st_uid, st.st_gid) == before[rel]
                        and not _opaque(path) and not any(path.iterdir())):
                    path.rmdir()
            elif stat.S_ISREG(st.st_mode) and st.st_size == 0:
                path.unlink()
            elif stat.S_ISDIR(st.st_mode) and not any(path.iterdir()):
                path.rmdir()


def _lstat_below(root: Path, rel: str) -> os.stat_result | None:
    """lstat of `root/rel` when every parent component is a real directory (never through a symlink)."""
    parts = rel.split("/")
    for n in range(1, len(parts)):
        try:
            if not stat.S_ISDIR((root / "/".join(parts[:n])).lstat().st_mode):
                return None
        except FileNotFoundError:
            return None
    try:
        return (root / rel).lstat()
    except FileNotFoundError:
        return None


def _opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False
