"""GitLab Code Quality (Code Climate issue) JSON: one array of issues with stable fingerprints."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from dockyard.lint.model import FileResult, Severity

_SEVERITY = {Severity.ERROR: "blocker", Severity.WARNING: "major", Severity.INFO: "info",
             Severity.STYLE: "minor", Severity.IGNORE: "info"}


def render(results: Sequence[FileResult]) -> str:
    issues = []
    for result in results:
        for f in result.findings:
            fingerprint = hashlib.sha256(f"{f.file}:{f.line}:{f.code}:{f.message}".encode()).hexdigest()
            issues.append({"type": "issue", "check_name": f.code, "description": f.message,
                           "categories": ["Bug Risk"] if f.level is Severity.ERROR else ["Style"],
                           "severity": _SEVERITY[f.level], "fingerprint": fingerprint,
                           "location": {"path": f.file, "lines": {"begin": f.line, "end": f.line}}})
    return json.dumps(issues, indent=2, sort_keys=True) + "\n"
