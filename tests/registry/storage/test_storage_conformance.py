"""The shared conformance suite against every driver we ship, bare and behind CheckedDriver."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.registry.storage import CheckedDriver, FilesystemDriver, InMemoryDriver, StorageDriver
from dockyard.testing.storage_suite import CASES, Case, case_id, run_conformance

DRIVERS: dict[str, Callable[[Path], StorageDriver]] = {
    "filesystem": lambda tmp: FilesystemDriver(tmp / "root"),
    "filesystem-checked": lambda tmp: CheckedDriver(FilesystemDriver(tmp / "root")),
    "inmemory": lambda tmp: InMemoryDriver(),
    "inmemory-checked": lambda tmp: CheckedDriver(InMemoryDriver()),
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("kind", sorted(DRIVERS))
def test_storage_conformance(kind: str, case: Case, tmp_path: Path) -> None:
    case(DRIVERS[kind](tmp_path))


def test_storage_suite_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({case_id(c) for c in CASES}) == len(CASES)


def test_storage_run_conformance_reports_failures(tmp_path: Path) -> None:
    run_conformance(InMemoryDriver)

    class Broken(InMemoryDriver):
        def list(self, path: str) -> list[str]:
            return list(reversed(super().list(path)))

    with pytest.raises(AssertionError, match="list_direct_children_sorted"):
        run_conformance(Broken)
