"""Finding real peer tools for tests: skip with a reason, or fail under DOCKYARD_REQUIRE_PEERS=1."""

from __future__ import annotations

import os
import shutil


def peers_required() -> bool:
    """True in CI, where a missing peer is a failure, not a skip."""
    return os.environ.get("DOCKYARD_REQUIRE_PEERS", "") not in ("", "0")


def missing_peer(reason: str) -> None:
    """Skip the current test, or fail it when peers are required."""
    import pytest

    if peers_required():
        pytest.fail(f"required peer missing: {reason} (DOCKYARD_REQUIRE_PEERS=1)")
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """The path of executable `name`, or skip/fail the test."""
    path = shutil.which(name)
    if path is None:
        missing_peer(f"{name} is not installed (apt-get install {name})")
        raise AssertionError("unreachable")
    return path
