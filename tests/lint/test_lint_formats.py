"""Output formats: hadolint's JSON fields, SARIF 2.1.0 valid against the OASIS schema, checkstyle XML, GitLab Code
Quality, tty with the offending line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

from dockyard.lint.formats import Format, render
from dockyard.lint.runner import lint_file, lint_text

SCHEMA = Path(__file__).parents[1] / "assets" / "lint" / "sarif-schema-2.1.0.json"
TEXT = "FROM debian\nRUN apt-get install curl\nMAINTAINER me\n"


def _results() -> list:  # type: ignore[type-arg]
    return [lint_text(TEXT, "Dockerfile"), lint_file("/nonexistent/Dockerfile")]


def test_lint_format_json_fields() -> None:
    items = json.loads(render(Format.JSON, _results()))
    assert items[0] == {"code": "DL3006", "column": 1, "file": "Dockerfile", "level": "warning", "line": 1,
                        "message": "Always tag the version of an image explicitly"}
    assert items[-1]["code"] == "DL1000" and items[-1]["file"] == "/nonexistent/Dockerfile"


def test_lint_format_sarif_is_valid() -> None:
    log = json.loads(render(Format.SARIF, _results()))
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["DL3008"]["helpUri"] == "https://github.com/hadolint/hadolint/wiki/DL3008"
    assert "helpUri" not in rules["DY1001"] and rules["DY1001"]["shortDescription"]["text"]
    first = run["results"][0]
    assert first["ruleId"] == "DL3006" and first["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_lint_format_checkstyle_and_codeclimate() -> None:
    root = ET.fromstring(render(Format.CHECKSTYLE, _results()))
    errors = root.findall("./file/error")
    assert errors[0].get("source") == "DL3006" and errors[0].get("line") == "1"
    issues = json.loads(render(Format.CODECLIMATE, _results()))
    assert issues[0]["location"] == {"path": "Dockerfile", "lines": {"begin": 1, "end": 1}}
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert {i["severity"] for i in issues} <= {"blocker", "major", "minor", "info"}


def test_lint_format_tty_shows_line() -> None:
    out = render(Format.TTY, _results())
    assert "Dockerfile:2 DL3008 warning: Pin versions" in out
    assert "     2 | RUN apt-get install curl" in out
    assert "\033[" not in out and "\033[" in render(Format.TTY, _results(), color=True)
