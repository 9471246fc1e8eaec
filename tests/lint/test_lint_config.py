"""Configuration like hadolint's: `.hadolint.yaml`, `dockyard.yaml` `lint:`, HADOLINT_* variables, pragmas,
severities, thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument
from dockyard.lint.config import LabelType, LintConfig, apply_environment, load_config
from dockyard.lint.model import Severity
from dockyard.lint.runner import failed, lint_text

TWO_RUNS = "FROM a:1\nRUN echo\nRUN echo\n"


def test_lint_config_file_and_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert load_config(env={}) == LintConfig()
    (tmp_path / ".hadolint.yaml").write_text(
        "ignored: [DL3006]\nfailure-threshold: warning\noverride:\n  error: [DL3059]\n"
        "trustedRegistries: [quay.io]\nlabel-schema:\n  author: email\nstrict-labels: true\nno-fail: false\n")
    config = load_config(env={})
    assert config.ignored == {"DL3006"} and config.failure_threshold is Severity.WARNING
    assert config.overrides == {"DL3059": Severity.ERROR} and config.trusted_registries == ("quay.io",)
    assert config.label_schema == {"author": LabelType.EMAIL} and config.strict_labels
    (tmp_path / "dockyard.yaml").write_text("lint:\n  ignored: [DL3007]\n  require-digest: true\n")
    config = load_config(env={})
    assert config.ignored == {"DL3007"} and config.require_digest and config.trusted_registries == ("quay.io",)
    assert load_config(tmp_path / "dockyard.yaml", env={}).trusted_registries == ()


def test_lint_config_environment() -> None:
    config = apply_environment(LintConfig(), {
        "HADOLINT_IGNORE": "DL3010,DL3020", "HADOLINT_FAILURE_THRESHOLD": "error", "HADOLINT_NOFAIL": "yes",
        "HADOLINT_OVERRIDE_STYLE": "DL3059", "HADOLINT_TRUSTED_REGISTRIES": "a.io,b.io",
        "HADOLINT_REQUIRE_LABELS": "version:semver", "HADOLINT_STRICT_LABELS": "1"})
    assert config.ignored == {"DL3010", "DL3020"} and config.failure_threshold is Severity.ERROR and config.no_fail
    assert config.overrides == {"DL3059": Severity.STYLE} and config.trusted_registries == ("a.io", "b.io")
    assert config.label_schema == {"version": LabelType.SEMVER} and config.strict_labels


@pytest.mark.parametrize("text", ["ignored: 3\n", "nope: 1\n", "failure-threshold: loud\n", "[1, 2]\n",
                                  "label-schema: {a: colour}\n", "a: [\n"])
def test_lint_config_bad_files_are_clear_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / ".hadolint.yaml"
    path.write_text(text)
    with pytest.raises(InvalidArgument, match=r"hadolint\.yaml"):
        load_config(path, env={})


def test_lint_pragmas() -> None:
    text = ("FROM a:1\n# hadolint ignore=DL3059\nRUN echo\nRUN echo\n# dockyard ignore=DL3059,DY1001 # why\n"
            "RUN echo\n# hadolint global ignore=DL3003\nRUN cd /x\n")
    found = [(f.line, f.code) for f in lint_text(text).findings]
    assert (4, "DL3059") in found and (3, "DL3059") not in found and (6, "DL3059") not in found
    assert not any(code == "DL3003" for _, code in found)
    off = [(f.line, f.code) for f in lint_text(text, config=LintConfig(disable_ignore_pragma=True)).findings]
    assert (6, "DL3059") in off and (8, "DL3003") in off


def test_lint_severity_override_ignore_and_threshold() -> None:
    result = lint_text(TWO_RUNS, config=LintConfig(ignored=frozenset({"DY1001"})))
    assert [(f.line, f.code, f.level) for f in result.findings] == [(3, "DL3059", Severity.INFO)]
    assert failed([result], LintConfig())
    assert not failed([result], LintConfig(failure_threshold=Severity.WARNING))
    assert failed([result], LintConfig(failure_threshold=Severity.IGNORE))
    assert not failed([result], LintConfig(no_fail=True))
    styled = lint_text(TWO_RUNS, config=LintConfig(overrides={"DL3059": Severity.STYLE}))
    assert {f.level for f in styled.findings if f.code == "DL3059"} == {Severity.STYLE}
    hidden = lint_text(TWO_RUNS, config=LintConfig(overrides={"DL3059": Severity.IGNORE}))
    assert not any(f.code == "DL3059" for f in hidden.findings)
    assert Severity.parse("none") is Severity.IGNORE
