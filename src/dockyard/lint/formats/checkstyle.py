"""Checkstyle XML (what Jenkins' warnings plugin and many CI tools read), as hadolint writes it."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from dockyard.lint.model import FileResult


def render(results: Sequence[FileResult]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<checkstyle version="4.3">']
    for result in results:
        out.append(f"<file name={quoteattr(result.path)}>")
        out += [f"<error line=\"{f.line}\" column=\"{f.column}\" severity={quoteattr(str(f.level))} "
                f"message={quoteattr(f.message)} source={quoteattr(f.code)}/>" for f in result.findings]
        out.append("</file>")
    out.append("</checkstyle>")
    return "\n".join(out) + "\n"
