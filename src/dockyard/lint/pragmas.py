"""Inline ignore pragmas: `# hadolint ignore=DL3008,DL3009` (the next line), `# hadolint global ignore=...`
(the whole file) and the same with `dockyard` in place of `hadolint`; a trailing `# reason` is allowed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dockyard.dockerfile import Comment

_PRAGMA = re.compile(r"[ \t]*(hadolint|dockyard)[ \t]+(global[ \t]+)?ignore[ \t]*=[ \t]*"
                     r"([A-Za-z0-9]+(?:[ \t]*,[ \t]*[A-Za-z0-9]+)*)[ \t]*(?:#.*)?\Z")


@dataclass(frozen=True, slots=True)
class Pragmas:
    """`by_line` maps a line to the codes ignored on it; `pragma_lines` are the lines of next-line pragmas
    (hadolint's DL1001 reports them)."""

    by_line: dict[int, frozenset[str]]
    global_codes: frozenset[str]
    pragma_lines: tuple[int, ...]

    def ignores(self, line: int, code: str) -> bool:
        return code in self.global_codes or code in self.by_line.get(line, ())


def parse_pragma(text: str) -> tuple[bool, tuple[str, ...]] | None:
    """`(is_global, codes)` for a comment's text after `#`, or None when it is not a pragma."""
    match = _PRAGMA.match(text)
    if match is None:
        return None
    codes = tuple(c.strip().upper() for c in match.group(3).split(","))
    return match.group(2) is not None, codes


def collect(comments: Iterable[Comment], lines: tuple[str, ...]) -> Pragmas:
    """The pragmas of a file's comment lines (`lines` are the physical lines the comments point into)."""
    by_line: dict[int, frozenset[str]] = {}
    global_codes: set[str] = set()
    pragma_lines: list[int] = []
    for comment in comments:
        raw = lines[comment.line - 1].lstrip(" \t")
        found = parse_pragma(raw[1:]) if raw.startswith("#") else None
        if found is None:
            continue
        is_global, codes = found
        if is_global:
            global_codes.update(codes)
        else:
            by_line[comment.line + 1] = by_line.get(comment.line + 1, frozenset()) | frozenset(codes)
            pragma_lines.append(comment.line)
    return Pragmas(by_line, frozenset(global_codes), tuple(pragma_lines))
