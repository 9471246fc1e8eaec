"""Fixtures for the CLI tests: an in-process `dockyard`, a busybox root filesystem and its tars, an imported image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_testkit import BUSYBOX, Cli, busybox_rootfs, gzip_file, tar_dir, zstd_file

from dockyard.testing.peers import missing_peer


@pytest.fixture
def cli(capsysbinary: pytest.CaptureFixture[bytes]) -> Cli:
    return Cli(capsysbinary)


@dataclass(frozen=True)
class Rootfs:
    """One busybox root filesystem as a directory and as plain, gzip and zstd tars."""

    dir: Path
    tar: Path
    gz: Path
    zst: Path


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Rootfs:
    if not BUSYBOX.is_file():
        missing_peer("busybox-static is not installed (apt-get install busybox-static)")
    root = tmp_path_factory.mktemp("rootfs")
    tree = busybox_rootfs(root / "tree")
    plain = tar_dir(tree, root / "rootfs.tar")
    return Rootfs(tree, plain, gzip_file(plain, root / "rootfs.tar.gz"), zstd_file(plain, root / "rootfs.tar.zst"))


@pytest.fixture
def busybox(cli: Cli, rootfs: Rootfs) -> str:
    """`busybox:1.0` imported into this test's store from the busybox directory; returns its digest."""
    done = cli.json("import", rootfs.dir, "-t", "busybox:1.0", "-c", 'CMD ["/bin/sh"]')
    assert isinstance(done, dict)
    return str(done["digest"])
