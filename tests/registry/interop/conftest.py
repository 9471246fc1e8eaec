"""Fixtures for the real-client interop tests of `dockyard serve`: images, the registry, and each client.

Every client runs with private state (podman/buildah storage roots, auth files, DOCKYARD_HOME) under the
test's temp dirs, so nothing leaks into the machine's own configuration. Images are made with dockyard's
library from a busybox-static root filesystem, so `podman run` and `docker run` have a shell to start.
Helpers live in `interop_support.py` (importable by the tests; a conftest is not).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from interop_support import Containers, Images, Skopeo, busybox_rootfs, containers_tool, run

from dockyard.oci.descriptor import Descriptor
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.mediatype import Compression
from dockyard.oci.platform import Platform
from dockyard.testing.peers import require_tool
from dockyard.testing.registry import RunningRegistry, running_registry
from dockyard.transports import layout as oci_layout
from dockyard.transports.blobs import BlobIndex
from dockyard.transports.rootfs import imported


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    """Busybox images (gzip and zstd) and a two-platform index, made by dockyard in one OCI layout."""
    root = tmp_path_factory.mktemp("interop-images")
    layout = root / "layout"
    digests: dict[str, str] = {}
    rootfs = busybox_rootfs(root / "busybox", extra={"etc/motd": "dockyard interop\n"})
    cmd = ['CMD ["/bin/sh"]']
    for tag, compression in (("1", Compression.GZIP), ("zstd", Compression.ZSTD)):
        with imported(rootfs, changes=cmd, platform=Platform("linux", "amd64"), compression=compression) as image:
            digests[tag] = str(oci_layout.write(layout, image, tag).digest)
    children = []
    for arch in ("amd64", "arm64"):
        plat = Platform("linux", arch)
        tree = busybox_rootfs(root / f"rootfs-{arch}", extra={"etc/arch": f"{arch}\n"})
        with imported(tree, changes=cmd, platform=plat) as image:
            entry = oci_layout.write(layout, image, arch)
        digests[arch] = str(entry.digest)
        children.append(Descriptor(entry.media_type, entry.digest, entry.size, platform=plat))
    index = BlobIndex(oci_layout.Layout.open(layout), IndexManifest.build(children).raw)
    digests["multi"] = str(oci_layout.write(layout, index, "multi").digest)
    return Images(layout, digests)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    """`dockyard serve` (uvicorn in a thread) on a free loopback port, over a fresh data dir."""
    with running_registry(tmp_path / "registry") as reg:
        yield reg


@pytest.fixture
def htpasswd(tmp_path: Path) -> Path:
    """A users file with `ci` / `s3cret`, bcrypt as `htpasswd -Bbn` writes it."""
    line = run([require_tool("htpasswd"), "-Bbn", "ci", "s3cret"]).stdout.strip()
    path = tmp_path / "htpasswd"
    path.write_text(line + "\n")
    return path


@pytest.fixture
def auth_registry(tmp_path: Path, htpasswd: Path) -> Iterator[RunningRegistry]:
    """A registry that wants HTTP Basic auth (`ci` / `s3cret`)."""
    with running_registry(tmp_path / "auth-registry", htpasswd=htpasswd) as reg:
        yield reg


@pytest.fixture(scope="session")
def skopeo() -> Skopeo:
    return Skopeo(require_tool("skopeo"))


@pytest.fixture
def podman(tmp_path: Path) -> Iterator[Containers]:
    """podman over private vfs storage under the test's temp dir."""
    with containers_tool(require_tool("podman"), tmp_path / "podman") as tool:
        yield tool


@pytest.fixture
def buildah(tmp_path: Path) -> Iterator[Containers]:
    """buildah over private vfs storage under the test's temp dir."""
    with containers_tool(require_tool("buildah"), tmp_path / "buildah") as tool:
        yield tool
