"""Fixtures for analysis tests (helpers live in analyze_helpers.py, importable by a unique name)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from analyze_helpers import build_image  # type: ignore[import-not-found]


@pytest.fixture
def build(tmp_path: Path) -> Callable[..., Path]:
    """Build a docker-archive from member lists (see analyze_helpers.build_image)."""
    def make(layers: Any, **kw: Any) -> Path:
        return build_image(tmp_path, layers, **kw)[0]  # type: ignore[no-any-return]
    return make
