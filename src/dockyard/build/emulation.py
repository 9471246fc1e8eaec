"""Whether this machine can execute a platform's binaries: natively, or through a QEMU binfmt_misc handler.

A RUN step for a platform the machine cannot execute fails before its sandbox starts, with the two ways out:
register QEMU user emulation, or build that stage on the build platform (`FROM --platform=$BUILDPLATFORM`)
and cross-compile, which is what BuildKit recommends too.
"""

from __future__ import annotations

from pathlib import Path

from dockyard.errors import Unsupported
from dockyard.oci.platform import Platform

BINFMT = Path("/proc/sys/fs/binfmt_misc")
# GOARCH -> the name QEMU's binfmt handlers are registered under (qemu-user-static, tonistiigi/binfmt)
QEMU_NAMES = {"arm64": "aarch64", "arm": "arm", "386": "i386", "amd64": "x86_64", "ppc64le": "ppc64le",
              "s390x": "s390x", "riscv64": "riscv64", "mips64le": "mips64el", "loong64": "loongarch64"}
# architectures a CPU of the key architecture executes without emulation
NATIVE = {"amd64": {"amd64", "386"}, "arm64": {"arm64"}}


def emulated(arch: str, binfmt: Path = BINFMT) -> bool:
    """Whether a QEMU handler for `arch` is registered and enabled."""
    name = QEMU_NAMES.get(arch)
    if name is None:
        return False
    try:
        return (binfmt / f"qemu-{name}").read_text().startswith("enabled")
    except OSError:
        return False


def check_runnable(platform: Platform, what: str, host: Platform | None = None, binfmt: Path = BINFMT) -> None:
    """Raise Unsupported when this machine cannot execute `platform`'s binaries."""
    host = host or Platform.host()
    if platform.os != host.os:
        raise Unsupported(f"{what}: cannot run {platform} commands on a {host.os} machine")
    if platform.architecture in NATIVE.get(host.architecture, {host.architecture}) or emulated(
            platform.architecture, binfmt):
        return
    raise Unsupported(
        f"{what}: cannot run {platform} binaries on this {host} machine",
        hint="register QEMU user emulation (apt-get install qemu-user-static binfmt-support), or build this "
             "stage with FROM --platform=$BUILDPLATFORM and cross-compile for $TARGETPLATFORM")
