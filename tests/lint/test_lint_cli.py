"""`dockyard lint` end to end: formats, exit codes by threshold, bad input without tracebacks, `--fix`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dockyard.cli.main import run


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        run([*args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("HADOLINT_")]:
        monkeypatch.delenv(key)
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN apt-get update && apt-get install curl\n"
                                         "CMD python app.py\n")
    return tmp_path


def test_lint_cli_formats_and_exit_codes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["lint"], capsys)
    assert code == 1 and "Dockerfile:2 DL3008 warning" in out
    code, out, _ = _run(["lint", "-o", "json", "Dockerfile"], capsys)
    assert code == 1 and {"DL3008", "DL3009", "DL3025"} <= {f["code"] for f in json.loads(out)}
    assert _run(["lint", "-t", "error", "Dockerfile"], capsys)[0] == 0
    assert _run(["lint", "--no-fail", "Dockerfile"], capsys)[0] == 0
    code, out, _ = _run(["lint", "--format", "sarif", "--ignore", "DL3008", "."], capsys)
    assert code == 1 and "DL3008" not in out and json.loads(out)["version"] == "2.1.0"
    (project / ".hadolint.yaml").write_text("failure-threshold: error\n")
    assert _run(["lint"], capsys)[0] == 0


def test_lint_cli_bad_input(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "empty.Dockerfile").write_text("")
    (project / "heredoc.Dockerfile").write_text("FROM a:1\nRUN <<EOF\necho\n")
    (project / "unknown.Dockerfile").write_text("FROM a:1\nFROB x\n")
    (project / "json.Dockerfile").write_text('FROM a:1\nCMD ["a", \n')
    code, out, err = _run(["lint", "-o", "json", "empty.Dockerfile", "heredoc.Dockerfile", "unknown.Dockerfile",
                           "json.Dockerfile", "missing.Dockerfile"], capsys)
    rows = {(f["file"], f["line"], f["code"]) for f in json.loads(out)}
    assert code == 1 and "Traceback" not in err
    assert {("empty.Dockerfile", 1, "DL1000"), ("heredoc.Dockerfile", 2, "DL1000"),
            ("unknown.Dockerfile", 2, "DL1000"), ("json.Dockerfile", 2, "DL3025"),
            ("missing.Dockerfile", 1, "DL1000")} <= rows
    code, _, err = _run(["lint", "--format", "xml"], capsys)
    assert code == 2 and "unknown format" in err


def test_lint_cli_fix(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (project / "Dockerfile").read_text()
    code, out, _ = _run(["lint", "--fix", "--dry-run"], capsys)
    assert code == 0 and "+RUN apt-get update && apt-get install -y --no-install-recommends curl" in out
    assert (project / "Dockerfile").read_text() == before
    code, out, _ = _run(["lint", "--fix", "-o", "json"], capsys)
    fixed = (project / "Dockerfile").read_text()
    assert 'CMD ["python", "app.py"]' in fixed and "rm -rf /var/lib/apt/lists/*" in fixed
    left = {f["code"] for f in json.loads(out.split("\n", 1)[1])}
    assert not {"DL3009", "DL3014", "DL3015", "DL3025"} & left and "DL3008" in left
