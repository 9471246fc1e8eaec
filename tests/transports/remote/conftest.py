"""Fixtures for the registry client tests: a real CNCF registry, images to push, and in-process fault servers."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from remote_testkit import Blobs, FaultProxy, start_fault_proxy

from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image
from dockyard.testing.cncf import CncfRegistry, cncf_registry
from dockyard.testing.peers import missing_peer
from dockyard.transports.rootfs import imported

BUSYBOX = Path("/bin/busybox")


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CncfRegistry]:
    """One anonymous CNCF registry for the session; tests use their own repository names."""
    with cncf_registry(tmp_path_factory.mktemp("cncf")) as reg:
        yield reg


@pytest.fixture
def repo(request: pytest.FixtureRequest) -> str:
    """A repository name unique to the test."""
    return re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:100]


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not BUSYBOX.is_file():
        missing_peer("busybox-static is not installed (apt-get install busybox-static)")
    root = tmp_path_factory.mktemp("rootfs")
    (root / "bin").mkdir()
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    (root / "bin" / "sh").symlink_to("busybox")
    (root / "etc").mkdir()
    (root / "etc" / "hostname").write_text("dockyard\n")
    return root


@pytest.fixture
def busybox(busybox_rootfs: Path) -> Iterator[Image]:
    """A real one-layer (gzip) busybox image for linux/amd64."""
    with imported(busybox_rootfs, platform=Platform("linux", "amd64")) as image:
        yield image


@pytest.fixture
def blobs() -> Blobs:
    return Blobs()


@pytest.fixture
def fault_proxy(registry: CncfRegistry) -> Iterator[FaultProxy]:
    """A FaultProxy in front of the session registry."""
    proxy, stop = start_fault_proxy(registry.host)
    try:
        yield proxy
    finally:
        stop()


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, object]], Path]:
    """Write a docker config.json in a private DOCKER_CONFIG (and clear other credential sources)."""
    base = tmp_path / "docker-config"
    base.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(base))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg-runtime"))

    def write(doc: dict[str, object]) -> Path:
        path = base / "config.json"
        path.write_text(json.dumps(doc))
        return path

    return write


@pytest.fixture(autouse=True)
def _no_user_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the real user's docker or podman credentials."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "no-xdg-runtime"))
