"""Mount targets through symlinks in the image are resolved inside the root (as runc's securejoin does) and the
mount points the runtime makes there never leak into the layer."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dockyard.build.sandbox.base import BindMount, RunSpec, Sandbox
from dockyard.build.sandbox.bwrap import BwrapSandbox
from dockyard.build.sandbox.detect import overlay_problem
from dockyard.build.sandbox.runc import RuncSandbox
from dockyard.build.sandbox.spec import Mountpoints
from dockyard.testing.peers import missing_peer, require_tool


@pytest.fixture(params=["runc", "bwrap"])
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    if os.geteuid() != 0:
        missing_peer("the RUN sandbox needs root (overlayfs mounts)")
    problem = overlay_problem()
    if problem is not None:
        missing_peer(f"overlayfs is not usable here: {problem}")
    require_tool(request.param)
    return RuncSandbox() if request.param == "runc" else BwrapSandbox()


def _lower(tmp_path: Path) -> Path:
    """busybox in /usr/bin with `bin -> usr/bin`, `/var/run -> /run` and a dangling /etc/resolv.conf link."""
    busybox = require_tool("busybox")
    lower = tmp_path / "lower"
    (lower / "usr" / "bin").mkdir(parents=True)
    shutil.copy2(busybox, lower / "usr" / "bin" / "busybox")
    subprocess.run([str(lower / "usr/bin/busybox"), "--install", "-s", str(lower / "usr/bin")], check=True)
    for link in (lower / "usr" / "bin").iterdir():
        if link.is_symlink():
            link.unlink()
            link.symlink_to("busybox")
    (lower / "bin").symlink_to("usr/bin")
    (lower / "var").mkdir()
    (lower / "var" / "run").symlink_to("/run")
    (lower / "etc").mkdir()
    (lower / "etc" / "resolv.conf").symlink_to("../run/resolvconf/resolv.conf")
    return lower


def test_scan_resolves_targets_inside_the_root(tmp_path: Path) -> None:
    lower = _lower(tmp_path)
    points = Mountpoints.scan(lower, ["/etc/resolv.conf", "/var/run/lock/x", "/proc"])
    assert points.real("/etc/resolv.conf") == "run/resolvconf/resolv.conf"
    assert points.real("/var/run/lock/x") == "run/lock/x"
    assert sorted(points.missing) == ["proc", "run", "run/lock", "run/lock/x", "run/resolvconf",
                                      "run/resolvconf/resolv.conf"]


def test_mountpoints_through_symlinks_do_not_leak(tmp_path: Path, sandbox: Sandbox) -> None:
    lower = _lower(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    upper = tmp_path / "upper"
    out = tmp_path / "out"
    spec = RunSpec(["/bin/sh", "-c", "echo ok > /var/run/lock/x/made && cat /etc/resolv.conf > /dev/null && "
                    "echo done > /done"], mounts=[BindMount(cache, "/var/run/lock/x", readonly=False)])
    with open(out, "wb") as f:
        assert sandbox.run([lower], upper, tmp_path / "work", spec, stdout=f.fileno()).exit_code == 0
    assert (cache / "made").read_text() == "ok\n"
    assert sorted(os.listdir(upper)) == ["done"]
