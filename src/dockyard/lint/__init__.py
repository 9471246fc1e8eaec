"""`dockyard lint`: hadolint's Dockerfile rules (same IDs, severities, config and pragmas) plus dockyard's DY rules.

    from dockyard.lint import lint_file, lint_text, load_config, render, Format

- `lint_file(path, config)` / `lint_text(text, path, config)` -> `FileResult` (findings sorted by line; a file that
  cannot be read or parsed is one DL1000 finding)
- `load_config(path=None)` -> `LintConfig` (`.hadolint.yaml` search, `dockyard.yaml` `lint:`, `HADOLINT_*`)
- `failed(results, config)` -> the exit verdict by failure threshold; `render(Format.SARIF, results)` -> text
- `all_rules()` -> every `Rule` (protocol: `meta` and `check(ctx)`), registered explicitly in `registry.py`
- `fix_dockerfile(df, text)` -> `FixResult` with the safe rewrites of `--fix`
"""

from __future__ import annotations

from dockyard.lint.config import LabelType, LintConfig, load_config
from dockyard.lint.fix import FixResult, fix_dockerfile
from dockyard.lint.formats import Format, render
from dockyard.lint.model import FileResult, Finding, Hit, RuleMeta, Severity
from dockyard.lint.registry import all_rules, rule_index
from dockyard.lint.rule import LintContext, Rule
from dockyard.lint.runner import failed, find_dockerfiles, lint_file, lint_paths, lint_text

__all__ = [
    "FileResult", "Finding", "FixResult", "Format", "Hit", "LabelType", "LintConfig", "LintContext", "Rule",
    "RuleMeta", "Severity", "all_rules", "failed", "find_dockerfiles", "fix_dockerfile", "lint_file", "lint_paths",
    "lint_text", "load_config", "render", "rule_index",
]
