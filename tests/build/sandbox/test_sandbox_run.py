"""RUN sandboxes (runc and bwrap, real peers) over an overlay of a busybox rootfs, and the layer they produce."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.build.sandbox.base import BindMount, Network, RunSpec, Sandbox
from dockyard.build.sandbox.bwrap import BwrapSandbox
from dockyard.build.sandbox.detect import detect_sandbox, overlay_problem
from dockyard.build.sandbox.overlay import overlay_mount
from dockyard.build.sandbox.runc import RuncSandbox
from dockyard.build.snapshot import snapshot_upper
from dockyard.layers.extract import extract_layers
from dockyard.layers.filelayer import build_layer
from dockyard.oci.mediatype import Compression
from dockyard.testing.peers import missing_peer, require_tool

Tree = dict[str, tuple[str, int, int, int, bytes]]


def _need_root() -> None:
    if os.geteuid() != 0:
        missing_peer("the RUN sandbox needs root (overlayfs mounts)")
    problem = overlay_problem()
    if problem is not None:
        missing_peer(f"overlayfs is not usable here: {problem}")


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A busybox root filesystem with /etc (no hosts file), /opt and a world-writable /work."""
    busybox = require_tool("busybox")
    root = tmp_path_factory.mktemp("rootfs")
    (root / "bin").mkdir()
    shutil.copy2(busybox, root / "bin" / "busybox")
    subprocess.run([str(root / "bin" / "busybox"), "--install", "-s", str(root / "bin")], check=True)
    for link in (root / "bin").iterdir():
        if link.is_symlink():
            link.unlink()
            link.symlink_to("busybox")
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "opt" / "sub").mkdir(parents=True)
    (root / "opt" / "a").write_text("a")
    (root / "opt" / "sub" / "b").write_text("b")
    (root / "work").mkdir(mode=0o777)
    os.chmod(root / "work", 0o777)
    return root


@pytest.fixture(params=["runc", "bwrap"])
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    _need_root()
    require_tool(request.param)
    return RuncSandbox() if request.param == "runc" else BwrapSandbox()


class Step:
    def __init__(self, base: Path, lowers: list[Path], box: Sandbox) -> None:
        self.base, self.lowers, self.box = base, lowers, box
        self.upper, self.work = base / "upper", base / "work"

    def run(self, script: str, **kwargs: object) -> int:
        spec = RunSpec(["/bin/sh", "-c", script], **kwargs)  # type: ignore[arg-type]
        return self.box.run(self.lowers, self.upper, self.work, spec).exit_code

    def output(self, script: str, **kwargs: object) -> str:
        out = self.base / "out.txt"
        with open(out, "wb") as f:
            spec = RunSpec(["/bin/sh", "-c", script], **kwargs)  # type: ignore[arg-type]
            self.box.run(self.lowers, self.upper, self.work, spec, stdout=f.fileno())
        return out.read_text()


@pytest.fixture
def step(tmp_path: Path, rootfs: Path, sandbox: Sandbox) -> Iterator[Step]:
    yield Step(tmp_path, [rootfs], sandbox)
    assert not _overlay_mounts(tmp_path), "an overlay mount outlived the step"


def _overlay_mounts(under: Path) -> list[str]:
    with open("/proc/self/mounts") as f:
        return [line for line in f if str(under) in line]


def tree(root: Path) -> Tree:
    out: Tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            st = full.lstat()
            rel = str(full.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", 0o777, st.st_uid, st.st_gid, os.readlink(full).encode())
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, b"")
            else:
                out[rel] = ("f", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, full.read_bytes())
    return out


def _applied(base: Path, lower: Path, upper: Path) -> Tree:
    """The lower tree as a layer, then the snapshot of `upper`, extracted into a fresh directory."""
    lower_layer = build_layer(lower, base / "lower.tar", Compression.NONE)
    layer = snapshot_upper(upper, base / "step.tar.gz", Compression.GZIP)
    target = base / "applied"
    extract_layers([lower_layer, layer], target, preserve_owners=True)
    return tree(target)


def test_sandbox_changes_become_a_layer(step: Step, rootfs: Path) -> None:
    code = step.run("echo hi > /hello; rm /bin/ls; mkdir -p /d; touch /d/x")
    assert code == 0
    upper = step.upper
    assert (upper / "hello").read_text() == "hi\n"
    wh = (upper / "bin" / "ls").lstat()
    assert stat.S_ISCHR(wh.st_mode) and wh.st_rdev == 0
    assert (upper / "d" / "x").is_file()
    # runtime mount points never reach the upper dir (the image has /etc without hosts or resolv.conf)
    for leaked in ("proc", "sys", "dev", "etc", "etc/hosts", "etc/resolv.conf"):
        assert not os.path.lexists(upper / leaked), leaked
    expected = tree(rootfs)
    del expected["bin/ls"]
    expected["hello"] = ("f", 0o644, 0, 0, b"hi\n")
    expected["d"] = ("d", 0o755, 0, 0, b"")
    expected["d/x"] = ("f", 0o644, 0, 0, b"")
    assert _applied(step.base, rootfs, upper) == expected


def test_sandbox_opaque_dir(step: Step, rootfs: Path) -> None:
    # /opt rather than /etc: /etc/hosts is a bind mount during RUN, so `rm -rf /etc` fails (as in Docker)
    assert step.run("rm -rf /opt && mkdir /opt && echo x > /opt/y") == 0
    assert os.getxattr(step.upper / "opt", "trusted.overlay.opaque") == b"y"
    applied = _applied(step.base, rootfs, step.upper)
    assert sorted(p for p in applied if p.startswith("opt/")) == ["opt/y"]
    assert applied["opt/y"][4] == b"x\n"


def test_sandbox_exit_code(step: Step) -> None:
    assert step.run("exit 3") == 3
    assert step.run("/no/such/program") != 0


def test_sandbox_env_cwd_user(step: Step) -> None:
    code = step.run('echo "$FOO" > f; pwd >> f; id -u >> f; echo "$PATH" >> f', env={"FOO": "bar baz"},
                    cwd="/work", user="1000:1000")
    assert code == 0
    made = step.upper / "work" / "f"
    assert made.read_text().splitlines()[:3] == ["bar baz", "/work", "1000"]
    assert "/usr/bin" in made.read_text().splitlines()[3]
    assert (made.stat().st_uid, made.stat().st_gid) == (1000, 1000)


def test_sandbox_network_none_has_only_lo(step: Step) -> None:
    out = step.output("cat /proc/net/dev", network=Network.NONE)
    assert _interfaces(out) == {"lo"}


def _interfaces(proc_net_dev: str) -> set[str]:
    return {line.split(":")[0].strip() for line in proc_net_dev.splitlines()[2:]}


def test_sandbox_network_host_sees_host_interfaces(step: Step) -> None:
    out = step.output("cat /proc/net/dev", network=Network.HOST)
    assert _interfaces(out) == _interfaces(Path("/proc/net/dev").read_text())


def test_sandbox_hardlinks_survive(step: Step, rootfs: Path) -> None:
    assert step.run("ln /opt/a /opt/a2 && ln /opt/a /z") == 0
    target = step.base / "applied"
    layer = snapshot_upper(step.upper, step.base / "l.tar", Compression.NONE)
    extract_layers([build_layer(rootfs, step.base / "lower.tar", Compression.NONE), layer], target)
    st = (target / "opt" / "a").stat()
    assert st.st_nlink == 3 and (target / "z").stat().st_ino == st.st_ino
    assert (target / "z").read_text() == "a"


def test_sandbox_hostname_and_etc_files(step: Step) -> None:
    out = step.output("hostname; cat /etc/hosts", hostname="builder")
    assert out.splitlines()[0] == "builder"
    assert "localhost" in out


def test_sandbox_bind_mount_not_in_upper(step: Step) -> None:
    cache = step.base / "cache"
    cache.mkdir()
    (cache / "in").write_text("cached\n")
    code = step.run("cat /var/cache/x/in > /got && echo out > /var/cache/x/out",
                    mounts=[BindMount(cache, "/var/cache/x", readonly=False)], tmpfs=["/scratch"])
    assert code == 0
    assert (cache / "out").read_text() == "out\n"
    assert (step.upper / "got").read_text() == "cached\n"
    assert not os.path.lexists(step.upper / "var")
    assert not os.path.lexists(step.upper / "scratch")


def test_sandbox_readonly_bind(step: Step) -> None:
    cache = step.base / "ro"
    cache.mkdir()
    assert step.run("echo x > /ro/f", mounts=[BindMount(cache, "/ro")]) != 0
    assert not (cache / "f").exists()


def test_sandbox_proc_writes_contained(step: Step) -> None:
    knob = Path("/proc/sys/kernel/printk_ratelimit")
    before = knob.read_text()
    try:
        step.run(f"echo {int(before) + 7} > {knob}; true")
    finally:
        changed = knob.read_text()
        if changed != before:
            knob.write_text(before)
    assert changed == before


def test_sandbox_unmounts_after_failure(step: Step) -> None:
    assert step.run("exit 1") == 1
    assert not _overlay_mounts(step.base)


def test_sandbox_detect_picks_runc() -> None:
    _need_root()
    require_tool("runc")
    assert detect_sandbox().name == "runc"
    if shutil.which("bwrap"):
        assert detect_sandbox("bwrap").name == "bwrap"


def test_sandbox_scratch_base(tmp_path: Path) -> None:
    """No lower layers (FROM scratch): the overlay still mounts over an empty dir."""
    _need_root()
    with overlay_mount([], tmp_path / "u", tmp_path / "w", tmp_path / "m") as merged:
        (merged / "f").write_text("x")
        assert os.listdir(merged) == ["f"]
    assert (tmp_path / "u" / "f").read_text() == "x"
    assert not _overlay_mounts(tmp_path)


def test_sandbox_many_long_lowers(tmp_path: Path) -> None:
    """More lowers than fit in one page of mount options: the top layer still wins."""
    _need_root()
    lowers = []
    for n in range(120):
        lower = tmp_path / f"layer-with-a-rather-long-directory-name-{n:03d}"
        lower.mkdir()
        (lower / "top").write_text(str(n))
        (lower / f"only{n}").write_text("")
        lowers.append(lower)
    assert len(":".join(map(str, lowers))) > 4096
    with overlay_mount(lowers, tmp_path / "u", tmp_path / "w", tmp_path / "m") as merged:
        assert (merged / "top").read_text() == "119"
        assert (merged / "only0").exists() and (merged / "only119").exists()
    assert not _overlay_mounts(tmp_path / "m")


def test_sandbox_renamed_dir_and_chmod_copy_content(step: Step, rootfs: Path) -> None:
    """A renamed lower dir and a chmod-only change must carry full content in the upper dir."""
    assert step.run("mv /opt /opt2 && chmod 600 /etc/passwd") == 0
    applied = _applied(step.base, rootfs, step.upper)
    assert "opt" not in applied
    assert applied["opt2/a"][4] == b"a" and applied["opt2/sub/b"][4] == b"b"
    assert applied["etc/passwd"][1] == 0o600 and applied["etc/passwd"][4].startswith(b"root:")


def test_sandbox_minimal_lower_leaks_no_mountpoints(tmp_path: Path, rootfs: Path, sandbox: Sandbox) -> None:
    """A lower with nothing but /bin: /etc, /proc, /dev, /sys and a cache target made by the runtime vanish."""
    lower = tmp_path / "lower"
    shutil.copytree(rootfs / "bin", lower / "bin", symlinks=True)
    (lower / "var").mkdir()
    (lower / "var" / "run").symlink_to("/run")  # a target below a symlink is never cleaned through it
    cache = tmp_path / "cache"
    cache.mkdir()
    upper = tmp_path / "upper"
    spec = RunSpec(["/bin/sh", "-c", "echo ok > /made"], mounts=[BindMount(cache, "/cache/a/b", readonly=False)])
    assert sandbox.run([lower], upper, tmp_path / "work", spec).exit_code == 0
    assert sorted(os.listdir(upper)) == ["made"]
    assert not _overlay_mounts(tmp_path)


def test_sandbox_existing_etc_files_untouched(tmp_path: Path, rootfs: Path, sandbox: Sandbox) -> None:
    """An image's own /etc/hosts is hidden by the bind mount during RUN and never copied up."""
    extra = tmp_path / "extra"
    (extra / "etc").mkdir(parents=True)
    (extra / "etc" / "hosts").write_text("10.0.0.1 image\n")
    (extra / "etc" / "resolv.conf").write_text("nameserver 10.0.0.1\n")
    upper = tmp_path / "upper"
    out = tmp_path / "out"
    with open(out, "wb") as f:
        spec = RunSpec(["/bin/sh", "-c", "cat /etc/hosts"], hostname="h1")
        assert sandbox.run([rootfs, extra], upper, tmp_path / "work", spec, stdout=f.fileno()).exit_code == 0
    assert "h1" in out.read_text() and "image" not in out.read_text()
    assert os.listdir(upper) == []
