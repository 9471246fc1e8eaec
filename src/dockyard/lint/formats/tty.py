"""The human format: `file:line CODE level: message`, then the offending source line."""

from __future__ import annotations

from collections.abc import Sequence

from dockyard.lint.model import FileResult, Severity

_COLORS = {Severity.ERROR: "\033[1;91m", Severity.WARNING: "\033[1;93m", Severity.INFO: "\033[92m",
           Severity.STYLE: "\033[96m", Severity.IGNORE: ""}
_DIM, _RESET = "\033[2m", "\033[0m"


def render(results: Sequence[FileResult], *, color: bool = False) -> str:
    out: list[str] = []
    for result in results:
        for f in result.findings:
            level = f"{_COLORS[f.level]}{f.level}{_RESET}" if color else str(f.level)
            out.append(f"{f.file}:{f.line} {f.code} {level}: {f.message}")
            if 0 < f.line <= len(result.lines):
                source = result.lines[f.line - 1].rstrip()
                if len(source) > 160:
                    source = source[:157] + "..."
                gutter = f"  {f.line:>4} | "
                out.append(f"{_DIM}{gutter}{_RESET}{source}" if color else f"{gutter}{source}")
    return "".join(line + "\n" for line in out)
