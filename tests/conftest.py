"""Shared fixtures: an isolated DOCKYARD_HOME per test and access to real peers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.testing.docker import docker_engine

ASSETS = Path(__file__).parent / "assets"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own store so tests never see each other's images or the user's."""
    monkeypatch.setenv("DOCKYARD_HOME", str(tmp_path / "dockyard-home"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    yield


@pytest.fixture
def assets() -> Path:
    return ASSETS


@pytest.fixture(scope="session")
def docker_host() -> Iterator[str]:
    """A private dockerd for the whole session, shared by every package's tests (skips without dockerd/root)."""
    with docker_engine() as host:
        yield host


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that share an expensive real peer run on one xdist worker, so it starts once."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "docker_host" in fixtures:
            item.add_marker(pytest.mark.xdist_group("docker"))
