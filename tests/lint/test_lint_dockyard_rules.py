"""dockyard's DY rules, positive and negative, and BuildKit-only failures (DL3043 is a parse error here)."""

from __future__ import annotations

from pathlib import Path

from dockyard.lint.config import LintConfig
from dockyard.lint.runner import lint_file, lint_text


def codes(text: str, config: LintConfig | None = None, context: Path | None = None) -> list[tuple[int, str]]:
    return [(f.line, f.code) for f in lint_text(text, "Dockerfile", config, context).findings
            if f.code.startswith("DY")]


def test_lint_dy1001_root_final_stage() -> None:
    assert (1, "DY1001") in codes("FROM alpine:3.19\nRUN true\n")
    assert not codes("FROM alpine:3.19\nUSER 1000\n")
    assert (3, "DY1001") in codes("FROM alpine:3.19 AS a\nUSER 1000\nFROM alpine:3.19\n")
    assert not codes("FROM alpine:3.19 AS a\nUSER 1000\nFROM a\n")


def test_lint_dy1002_add_url_checksum() -> None:
    assert (2, "DY1002") in codes("FROM a:1\nADD https://x.io/f.tgz /f\nUSER 1\n")
    assert not codes("FROM a:1\nADD --checksum=sha256:00 https://x.io/f.tgz /f\nUSER 1\n")


def test_lint_dy1003_toolchain_single_stage() -> None:
    text = "FROM debian:12\nRUN apt-get install -y gcc make libssl-dev\nUSER 1\n"
    assert (2, "DY1003") in codes(text)
    assert not codes("FROM debian:12 AS b\nRUN apt-get install -y gcc\nFROM debian:12-slim\nUSER 1\n")
    removed = "FROM alpine:3\nRUN apk add --virtual .d gcc && make && apk del .d\nUSER 1\n"
    assert "DY1003" not in {c for _, c in codes(removed)}


def test_lint_dy1004_to_1006_dockerignore(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM node:20-slim\nCOPY . .\nUSER 1\n")
    found = {f.code for f in lint_file(str(tmp_path / "Dockerfile"), LintConfig()).findings}
    assert "DY1004" in found and "DY1006" not in found
    (tmp_path / ".dockerignore").write_text("*.log\n")
    (tmp_path / "package.json").write_text("{}")
    found = {f.code for f in lint_file(str(tmp_path / "Dockerfile"), LintConfig()).findings}
    assert {"DY1005", "DY1006"} <= found and "DY1004" not in found
    (tmp_path / ".dockerignore").write_text(".git\nnode_modules\n")
    found = {f.code for f in lint_file(str(tmp_path / "Dockerfile"), LintConfig()).findings}
    assert not {"DY1004", "DY1005", "DY1006"} & found


def test_lint_dy1007_copy_all_before_install() -> None:
    bad = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER 1\n"
    assert (3, "DY1007") in codes(bad)
    good = "FROM node:20-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\nUSER 1\n"
    assert "DY1007" not in {c for _, c in codes(good)}
    pip = "FROM python:3.12-slim\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nUSER 1\n"
    assert (2, "DY1007") in codes(pip)


def test_lint_dy1008_digest_policy() -> None:
    text = "FROM alpine:3.19 AS a\nFROM a\nFROM b@sha256:" + "0" * 64 + "\nUSER 1\n"
    assert "DY1008" not in {c for _, c in codes(text)}
    assert [line for line, c in codes(text, LintConfig(require_digest=True)) if c == "DY1008"] == [1]


def test_lint_dy1009_platform_mismatch() -> None:
    text = "FROM --platform=linux/amd64 a:1 AS x\nFROM --platform=$BUILDPLATFORM a:1\nUSER 1\n"
    assert "DY1009" not in {c for _, c in codes(text)}
    found = codes(text, LintConfig(platforms=("linux/arm64",)))
    assert (1, "DY1009") in found and (2, "DY1009") not in found
    assert "DY1009" not in {c for _, c in codes(text, LintConfig(platforms=("linux/amd64",)))}


def test_lint_dy1010_secrets() -> None:
    assert (2, "DY1010") in codes("FROM a:1\nENV AWS_KEY=AKIAABCDEFGHIJKLMNOP\nUSER 1\n")
    assert (2, "DY1010") in codes("FROM a:1\nENV DATABASE_URL=postgres://u:hunter2@db/x\nUSER 1\n")
    assert (2, "DY1010") in codes("FROM a:1\nARG DB_PASSWD=hunter2\nUSER 1\n")
    assert not codes("FROM a:1\nARG DB_PASSWD\nENV DB_PASSWD=$DB_PASSWD HOME=/root\nUSER 1\n")


def test_lint_dy1011_upgrade() -> None:
    assert (2, "DY1011") in codes("FROM debian:12-slim\nRUN apt-get update && apt-get dist-upgrade -y\nUSER 1\n")
    assert not codes("FROM debian:12-slim\nRUN apt-get install -y --only-upgrade openssl=3\nUSER 1\n")


def test_lint_dy1012_slim_base() -> None:
    found = lint_text("FROM python:3.12-bookworm\nUSER 1\n").findings
    hit = next(f for f in found if f.code == "DY1012")
    assert "python:3.12-slim-bookworm" in hit.message
    assert not codes("FROM python:3.12-slim\nUSER 1\n")
    assert not codes("FROM debian:12 AS build\nFROM gcr.io/distroless/static\nUSER 1\n")


def test_lint_dl3043_is_a_buildkit_parse_error() -> None:
    result = lint_text("FROM a:1\nONBUILD FROM b:1\n")
    assert [(f.line, f.code) for f in result.findings] == [(2, "DL1000")]
