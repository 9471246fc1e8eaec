"""Running the rules over Dockerfiles: read, parse (a bad file is one DL1000 finding, never a traceback), check,
apply severities, ignores and pragmas, and decide the exit status by the failure threshold."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from dockyard.dockerfile import Dockerfile, DockerfileError, DockerfileReadError, parse
from dockyard.dockerfile.model import read_text
from dockyard.lint.config import LintConfig
from dockyard.lint.model import PARSE_ERROR, FileResult, Finding, Severity
from dockyard.lint.pragmas import collect
from dockyard.lint.registry import all_rules
from dockyard.lint.rule import LintContext, Rule

_DOCKERFILE_NAMES = ("Dockerfile", "Containerfile")
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"})


def is_dockerfile_name(name: str) -> bool:
    return name in _DOCKERFILE_NAMES or name.startswith(("Dockerfile.", "Containerfile.")) or \
        name.endswith((".Dockerfile", ".dockerfile", ".Containerfile"))


def find_dockerfiles(paths: Iterable[str]) -> list[str]:
    """Files as given; directories searched (recursively, skipping VCS and dependency dirs) for Dockerfiles."""
    out: list[str] = []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
                out += [os.path.join(root, f) for f in sorted(files) if is_dockerfile_name(f)]
        else:
            out.append(path)
    return out


def _error(path: str, err: DockerfileError) -> Finding:
    return Finding(path, err.line or 1, 1, Severity.ERROR, PARSE_ERROR, err.reason)


def check(df: Dockerfile, config: LintConfig, path: str, context_dir: Path | None,
          rules: Sequence[Rule] | None = None) -> list[Finding]:
    """Every finding of the rules on a parsed Dockerfile, sorted by line."""
    ctx = LintContext(df, config, context_dir)
    pragmas = None if config.disable_ignore_pragma else collect(df.comments, df.lines)
    found: dict[tuple[int, str, str], Finding] = {}
    for rule in rules if rules is not None else all_rules():
        meta = rule.meta
        level = config.severity_of(meta.code, meta.severity)
        if meta.code in config.ignored or level is Severity.IGNORE:
            continue
        for hit in rule.check(ctx):
            if pragmas is not None and pragmas.ignores(hit.line, meta.code):
                continue
            key = (hit.line, meta.code, hit.message or "")
            if key not in found:
                found[key] = Finding(path, hit.line, 1, level, meta.code, hit.message or meta.message)
    return sorted(found.values(), key=lambda f: (f.line, f.code))


def lint_text(text: str, path: str = "-", config: LintConfig | None = None,
              context_dir: Path | None = None) -> FileResult:
    """Lint Dockerfile text; `path` names it in findings."""
    config = config or LintConfig()
    try:
        df = parse(text, None if path == "-" else path)
    except DockerfileError as err:
        lines = tuple(text.split("\n"))
        if config.disable_ignore_pragma or PARSE_ERROR not in config.ignored:
            return FileResult(path, (_error(path, err),), lines)
        return FileResult(path, (), lines)
    return FileResult(path, tuple(check(df, config, path, context_dir)), df.lines)


def lint_file(path: str, config: LintConfig | None = None, context_dir: Path | None = None) -> FileResult:
    """Lint one Dockerfile (`-` reads standard input); an unreadable file gives one DL1000 finding."""
    try:
        if path == "-":
            import sys

            text = sys.stdin.read()
        else:
            text = read_text(path)
    except DockerfileReadError as err:
        return FileResult(path, (_error(path, err),))
    if context_dir is None and path != "-":
        context_dir = Path(path).resolve().parent
    return lint_text(text, path, config, context_dir)


def lint_paths(paths: Iterable[str], config: LintConfig | None = None,
               context_dir: Path | None = None) -> list[FileResult]:
    """Lint files and directories (see `find_dockerfiles`)."""
    return [lint_file(p, config, context_dir) for p in find_dockerfiles(paths)]


def failed(results: Iterable[FileResult], config: LintConfig) -> bool:
    """hadolint's exit rule: a finding at or above the failure threshold fails, unless `no-fail`."""
    if config.no_fail:
        return False
    limit = config.failure_threshold.rank
    return any(f.level.rank <= limit for r in results for f in r.findings)
