"""Fixtures for the layout/archive transport tests: real busybox images built by umoci and skopeo, a real dockerd."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pytest

from dockyard.errors import BlobUnknown
from dockyard.oci.config import ImageConfig, RunConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform
from dockyard.testing.peers import missing_peer, require_tool
from dockyard.transports.blobs import BlobImage

BUSYBOX = Path("/bin/busybox")


def run(*cmd: str | Path) -> str:
    """Run a peer tool; fail the test with its stderr when it fails."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def make_tar(path: Path, members: dict[str, bytes]) -> Path:
    """A plain tar with the given regular files, in the given order."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@dataclass(frozen=True)
class Images:
    """A umoci-built OCI layout with tags `base` (busybox, 1 gzip layer) and `app` (2 layers), plus a zstd copy."""

    layout: Path
    zstd_layout: Path
    skopeo_archive: Path

    def copy_layout(self, dest: Path) -> Path:
        shutil.copytree(self.layout, dest)
        return dest


def _busybox_rootfs(rootfs: Path) -> None:
    """What `busybox --install -s` makes: the static binary plus one absolute symlink per applet."""
    (rootfs / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
    for applet in run(BUSYBOX, "--list-full").split():
        link = rootfs / applet
        if link.name == "busybox" or link.exists() or link.is_symlink():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/bin/busybox")
    for d in ("etc", "tmp", "root", "proc", "sys", "dev"):
        (rootfs / d).mkdir(exist_ok=True)


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    require_tool("umoci")
    require_tool("skopeo")
    if not BUSYBOX.is_file():
        missing_peer("busybox-static is not installed (apt-get install busybox-static)")
    root = tmp_path_factory.mktemp("images")
    layout = root / "umoci"
    run("umoci", "init", "--layout", layout)
    run("umoci", "new", "--image", f"{layout}:base")
    run("umoci", "unpack", "--image", f"{layout}:base", root / "b1")
    _busybox_rootfs(root / "b1" / "rootfs")
    run("umoci", "repack", "--image", f"{layout}:base", root / "b1")
    run("umoci", "config", "--image", f"{layout}:base", "--config.cmd", "/bin/sh", "--config.env", "A=1")
    run("umoci", "unpack", "--image", f"{layout}:base", root / "b2")
    (root / "b2" / "rootfs" / "etc" / "hello.txt").write_text("hello from layer two\n")
    run("umoci", "repack", "--image", f"{layout}:app", root / "b2")
    zstd = root / "zstd"
    run("skopeo", "copy", "--dest-compress-format", "zstd", f"oci:{layout}:app", f"oci:{zstd}:app")
    archive = root / "skopeo.tar"
    run("skopeo", "copy", f"oci:{layout}:app", f"docker-archive:{archive}:busybox:app")
    return Images(layout, zstd, archive)


class MemoryBlobs:
    """A dict-backed BlobSource for hand-made test images."""

    def __init__(self) -> None:
        self.blobs: dict[Digest, bytes] = {}

    def add(self, media_type: str, data: bytes) -> Descriptor:
        desc = Descriptor.for_bytes(media_type, data)
        self.blobs[desc.digest] = data
        return desc

    def open_blob(self, digest: Digest) -> BinaryIO:
        if digest not in self.blobs:
            raise BlobUnknown(f"blob {digest} is not in memory")
        return io.BytesIO(self.blobs[digest])


def tiny_image() -> BlobImage:
    """A fully deterministic one-layer image (uncompressed layer, fixed config): same bytes everywhere."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mode = 3, 0o644
        tf.addfile(info, io.BytesIO(b"hi\n"))
    blobs = MemoryBlobs()
    layer_desc = blobs.add(MediaType.OCI_LAYER, layer.getvalue())
    config = ImageConfig.build(Platform("linux", "amd64"), [layer_desc.digest], config=RunConfig(cmd=("/hello",)))
    config_desc = blobs.add(MediaType.OCI_CONFIG, config.raw)
    return BlobImage(blobs, ImageManifest.build(config_desc, [layer_desc]).raw)


@pytest.fixture
def tiny() -> BlobImage:
    return tiny_image()


@pytest.fixture
def dive_assets(assets: Path) -> Path:
    return assets / "dive"


@pytest.fixture
def peer() -> Callable[..., str]:
    """`run` for tests: a peer tool's stdout, or a test failure with its stderr."""
    return run


@pytest.fixture
def tar_of() -> Callable[[Path, dict[str, bytes]], Path]:
    """`make_tar` for tests."""
    return make_tar
