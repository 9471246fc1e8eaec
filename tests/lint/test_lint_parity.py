"""Parity with hadolint 2.15.1: the same (line, code, level, message) for every DL finding on the real corpus and on
the hand-written cases (each with its `.hadolint.yaml` when it has one)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from dockyard.lint.config import LintConfig, load_config
from dockyard.lint.runner import lint_file
from dockyard.testing.peers import require_tool

ASSETS = Path(__file__).parents[1] / "assets"
CORPUS = sorted((ASSETS / "dockerfiles").iterdir())
CASES = sorted((ASSETS / "lint" / "cases").glob("*.Dockerfile"))
#: Files hadolint's parser (language-docker) rejects while BuildKit accepts them (docs/lint.md, "Parser").
HADOLINT_PARSE_ERRORS = {"docker_buildx__Dockerfile.Dockerfile": 50, "moby_buildkit__Dockerfile.Dockerfile": 215}

Row = tuple[int, str, str, str]


def _hadolint(path: Path, config: Path | None) -> set[Row]:
    tool = require_tool("hadolint")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    args = [tool, "--no-fail", "-f", "json", *(["-c", str(config)] if config else []), str(path)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, env=env, cwd=path.parent).stdout
    return {(f["line"], f["code"], f["level"], f["message"]) for f in json.loads(out) if f["code"].startswith("DL")}


def _ours(path: Path, config: Path | None) -> set[Row]:
    settings = load_config(config, env={}) if config else LintConfig()
    result = lint_file(str(path), settings)
    return {(f.line, f.code, str(f.level), f.message) for f in result.findings if f.code.startswith("DL")}


@pytest.mark.parametrize("path", CORPUS + CASES, ids=[p.name[:50] for p in CORPUS + CASES])
def test_lint_parity_with_hadolint(path: Path) -> None:
    config = path.with_suffix(".hadolint.yaml")
    config_path = config if config.exists() else None
    theirs = _hadolint(path, config_path)
    if path.name in HADOLINT_PARSE_ERRORS:
        assert {(row[0], row[1]) for row in theirs} == {(HADOLINT_PARSE_ERRORS[path.name], "DL1000")}
        assert not any(f[1] == "DL1000" for f in _ours(path, config_path))
        return
    assert _ours(path, config_path) == theirs


def test_lint_parity_covers_many_rules() -> None:
    codes = {row[1] for path in CASES for row in _ours(path, path.with_suffix(".hadolint.yaml")
                                                        if path.with_suffix(".hadolint.yaml").exists() else None)}
    assert len(codes) >= 70, sorted(codes)
