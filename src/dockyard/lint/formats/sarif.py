"""SARIF 2.1.0 for GitHub code scanning: one run, rule metadata with help links, a result per finding."""

from __future__ import annotations

import json
from collections.abc import Sequence

from dockyard.lint.model import FileResult, RuleMeta, Severity

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note", Severity.STYLE: "note",
          Severity.IGNORE: "none"}


def _rule(code: str, meta: RuleMeta | None) -> dict[str, object]:
    entry: dict[str, object] = {"id": code}
    if meta is not None:
        entry["shortDescription"] = {"text": meta.summary or meta.message}
        entry["fullDescription"] = {"text": meta.message}
        entry["defaultConfiguration"] = {"level": _LEVEL[meta.severity]}
        entry["help"] = {"text": meta.summary or meta.message}
        if meta.url:
            entry["helpUri"] = meta.url
    return entry


def render(results: Sequence[FileResult]) -> str:
    from dockyard.lint.registry import rule_index

    index = rule_index()
    codes = sorted({f.code for r in results for f in r.findings})
    position = {code: i for i, code in enumerate(codes)}
    sarif_results = [{
        "ruleId": f.code, "ruleIndex": position[f.code], "level": _LEVEL[f.level], "message": {"text": f.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.file.removeprefix("./")},
                                            "region": {"startLine": max(f.line, 1), "startColumn": f.column}}}],
    } for r in results for f in r.findings]
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "dockyard-lint", "informationUri": "https://github.com/hadolint/hadolint",
                            "rules": [_rule(code, index.get(code)) for code in codes]}},
        "results": sarif_results,
    }]}
    return json.dumps(log, indent=2) + "\n"
