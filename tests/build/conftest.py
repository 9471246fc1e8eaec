"""Fixtures for builder tests: a busybox base image in the store and a helper to read built images."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.layers.extract import extract_layers
from dockyard.oci.protocols import Image
from dockyard.testing.busybox import BUSYBOX, make_rootfs
from dockyard.transports.rootfs import imported
from dockyard.transports.store import Store


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
