"""Fixtures for builder tests: a busybox base image in the store and a helper to read built images."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.layers.extract import extract_layers
from dockyard.oci.protocols import Image
from dockyard.transports.rootfs import imported
from dockyard.transports.store import Store

BUSYBOX = "/bin/busybox"


def make_rootfs(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    for name in ("sh", "cat", "echo", "id", "ls", "mkdir", "wc", "pwd", "env", "true"):
        os.symlink("busybox", root / "bin" / name)
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\napp:x:1001:\nstaff:x:50:\n")
    (root / "tmp").mkdir(mode=0o1777)
    os.chmod(root / "tmp", 0o1777)
    return root


@pytest.fixture
def busybox_base(tmp_path: Path) -> str:
    """`busybox:test` in the store: a one-layer image of the static busybox with passwd/group files."""
    if not Path(BUSYBOX).exists():
        pytest.skip("busybox-static is not installed")
    rootfs = make_rootfs(tmp_path / "busybox-rootfs")
    with imported(rootfs) as image:
        Store.open().write(image, ["busybox:test"])
    return "busybox:test"


@pytest.fixture
def image_tree(tmp_path: Path) -> Callable[[str | Image], Path]:
    """Extract a stored image (by name) or an Image into a fresh directory and return it."""
    counter = iter(range(1000))

    def extract(ref: str | Image) -> Path:
        image = ref if not isinstance(ref, str) else Store.open().get(ref)
        assert not isinstance(image, str)
        target = tmp_path / f"tree-{next(counter)}"
        extract_layers(image.layers(), target, preserve_owners=os.geteuid() == 0)  # type: ignore[union-attr]
        return target

    return extract
