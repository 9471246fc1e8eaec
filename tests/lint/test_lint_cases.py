"""Every hand-written case file gives exactly its recorded findings (no peer needed); every rule is exercised."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard.lint.config import LintConfig, load_config
from dockyard.lint.registry import all_rules
from dockyard.lint.runner import lint_file

CASES_DIR = Path(__file__).parents[1] / "assets" / "lint" / "cases"
EXPECTED: dict[str, list[list[object]]] = json.loads((CASES_DIR / "expected.json").read_text())


def _findings(name: str) -> list[list[object]]:
    path = CASES_DIR / name
    config = path.with_suffix(".hadolint.yaml")
    settings = load_config(config, env={}) if config.exists() else LintConfig()
    return [[f.line, f.code] for f in lint_file(str(path), settings).findings]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_lint_case_findings(name: str) -> None:
    assert _findings(name) == EXPECTED[name]


def test_lint_cases_exercise_every_rule() -> None:
    seen = {code for rows in EXPECTED.values() for _, code in rows}
    elsewhere = {"DL3043", "DY1005", "DY1006", "DY1007", "DY1008", "DY1009", "DY1010"}  # test_lint_dockyard_rules
    missing = {r.meta.code for r in all_rules()} - seen - elsewhere
    assert not missing


def test_lint_cases_have_negative_lines() -> None:
    """Each case file also holds instructions that pass (the negative cases of its rules)."""
    for name, rows in EXPECTED.items():
        flagged = {line for line, _ in rows}
        total = len((CASES_DIR / name).read_text().splitlines())
        assert total > len(flagged), name


def test_lint_corpus_is_fast() -> None:
    """The 29 real Dockerfiles lint in well under hadolint's ~48 ms per file (budget: 1.0x hadolint)."""
    import time

    from dockyard.lint.runner import lint_paths

    corpus = sorted(str(p) for p in (CASES_DIR.parents[1] / "dockerfiles").iterdir())
    lint_paths(corpus, LintConfig())
    start = time.perf_counter()
    lint_paths(corpus, LintConfig())
    per_file = (time.perf_counter() - start) / len(corpus)
    assert per_file < 0.02, f"{per_file * 1000:.1f} ms per file"
