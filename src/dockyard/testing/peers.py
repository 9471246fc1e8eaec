"""Finding real peer tools for tests: skip with a reason, or fail under DOCKYARD_REQUIRE_PEERS=1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def peers_required() -> bool:
    """True in CI, where a missing peer is a failure, not a skip."""
    return os.environ.get("DOCKYARD_REQUIRE_PEERS", "") not in ("", "0")


def missing_peer(reason: str) -> None:
    """Skip the current test, or fail it when peers are required."""
    import pytest

    if peers_required():
        pytest.fail(f"required peer missing: {reason} (DOCKYARD_REQUIRE_PEERS=1)")
    pytest.skip(reason)


#: The reference-tools venv (`make tools`): dive, hadolint; searched after PATH.
TOOLS_BIN = Path(__file__).resolve().parents[3] / ".venv-tools" / "bin"


def find_tool(name: str) -> str | None:
    """`name` on PATH, else in the reference-tools venv."""
    found = shutil.which(name)
    if found is None and (TOOLS_BIN / name).is_file():
        found = str(TOOLS_BIN / name)
    return found


def require_tool(name: str) -> str:
    """The path of executable `name` (PATH or the tools venv), or skip/fail the test."""
    path = find_tool(name)
    if path is None:
        missing_peer(f"{name} is not installed (apt-get install {name}, or `make tools` for dive/hadolint)")
        raise AssertionError("unreachable")
    return path
