"""Fixtures for the registry server tests: an in-process app per test, over each storage driver."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():  # starlette 1.x prefers `httpx2`; plain httpx still works and is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from dockyard.registry.app import create_app
from dockyard.registry.config import RegistryConfig, StorageKind


def make_client(tmp_path: Path, storage: StorageKind = StorageKind.FILESYSTEM, **settings: object) -> TestClient:
    config = RegistryConfig(tmp_path / "registry", storage=storage, access_log="off", **settings)  # type: ignore[arg-type]
    return TestClient(create_app(config), base_url="http://registry.test")


@pytest.fixture(params=[StorageKind.FILESYSTEM, StorageKind.INMEMORY], ids=["fs", "mem"])
def registry_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """A client of a fresh registry (filesystem + SQLite, and in-memory)."""
    with make_client(tmp_path, request.param) as client:
        yield client


@pytest.fixture
def fs_client(tmp_path: Path) -> Iterator[TestClient]:
    """A client of a fresh filesystem-backed registry."""
    with make_client(tmp_path) as client:
        yield client


@pytest.fixture
def client_factory(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Build clients with custom settings (`client_factory(delete_enabled=False)`); closed after the test."""
    opened: list[TestClient] = []

    def build(storage: StorageKind = StorageKind.FILESYSTEM, **settings: object) -> TestClient:
        client = make_client(tmp_path, storage, **settings)
        client.__enter__()
        opened.append(client)
        return client

    yield build
    for client in opened:
        client.__exit__(None, None, None)
