"""hadolint's JSON format: one array of `{file, line, column, level, code, message}` for all files."""

from __future__ import annotations

import json
from collections.abc import Sequence

from dockyard.lint.model import FileResult


def render(results: Sequence[FileResult]) -> str:
    items = [{"code": f.code, "column": f.column, "file": f.file, "level": str(f.level), "line": f.line,
              "message": f.message} for r in results for f in r.findings]
    return json.dumps(items, indent=2, sort_keys=True) + "\n"
