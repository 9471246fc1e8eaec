"""moby/patternmatcher in Python: `.dockerignore` patterns compiled the way Docker and BuildKit match them.

A pattern is `filepath.Clean`ed; `*` and `?` never cross `/`; `**` matches any number of directories (also none);
`[...]` and `\\` escapes follow Go's `filepath.Match`; a pattern also matches everything below a directory it
matches; `!pattern` re-includes; the last matching pattern wins.
"""

from __future__ import annotations

import posixpath
import re
import warnings
from dataclasses import dataclass
from enum import Enum

from dockyard.dockerfile.errors import DockerIgnoreError

_ESCAPED = frozenset(".+()|{}$")


class _Kind(Enum):
    EXACT = 1
    PREFIX = 2
    SUFFIX = 3
    REGEX = 4


def go_clean(path: str) -> str:
    """Go's `filepath.Clean` on a slash path (`posixpath.normpath` keeps a leading `//`, Go does not)."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def _get_esc(pattern: str, i: int) -> int:
    """Go's `getEsc`: one (possibly escaped) class character at `i`; returns the index after it."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise DockerIgnoreError("syntax error in pattern")
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise DockerIgnoreError("syntax error in pattern")
    i += 1
    if i >= len(pattern):
        raise DockerIgnoreError("syntax error in pattern")
    return i


def _class_end(pattern: str, start: int) -> int:
    """Validate a `[...]` class starting after `[` as Go's `filepath.Match` does; return the index after `]`."""
    i = start + 1 if pattern[start:start + 1] == "^" else start
    ranges = 0
    while True:
        if i < len(pattern) and pattern[i] == "]" and ranges > 0:
            return i + 1
        i = _get_esc(pattern, i)
        if pattern[i] == "-":
            i = _get_esc(pattern, i + 1)
        ranges += 1


def validate_glob(pattern: str) -> None:
    """Raise `DockerIgnoreError` where Go's `filepath.Match` reports `ErrBadPattern`."""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            i = _class_end(pattern, i + 1)
            continue
        if ch == "\\":
            i += 1
            if i >= len(pattern):
                raise DockerIgnoreError("syntax error in pattern")
        i += 1


@dataclass(frozen=True, slots=True)
class Pattern:
    """One compiled pattern: `text` cleaned (without `!`), `exclusion` for `!` lines."""

    text: str
    exclusion: bool
    kind: _Kind
    regex: re.Pattern[str] | None

    @classmethod
    def compile(cls, line: str) -> Pattern:
        text = go_clean(line.strip())
        exclusion = text.startswith("!")
        if exclusion:
            if len(text) == 1:
                raise DockerIgnoreError('illegal exclusion pattern: "!"')
            text = text[1:]
        validate_glob(text)
        kind, regex = _translate(text)
        return cls(text, exclusion, kind, regex)

    def match(self, path: str) -> bool:
        if self.kind is _Kind.EXACT:
            return path == self.text
        if self.kind is _Kind.PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind is _Kind.SUFFIX:
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        assert self.regex is not None
        return self.regex.match(path) is not None


def _translate(pattern: str) -> tuple[_Kind, re.Pattern[str] | None]:
    """patternmatcher's `compile`, token by token: the same match kind and the same (Go) regular expression."""
    out: list[str] = ["^"]
    kind = _Kind.EXACT
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        first = i == 0
        i += 1
        if ch == "*" and i < n and pattern[i] == "*":
            i += 1
            if i < n and pattern[i] == "/":
                i += 1
            if i >= n:
                if kind is _Kind.EXACT:
                    kind = _Kind.PREFIX
                else:
                    out.append(".*")
                    kind = _Kind.REGEX
            else:
                if out[-1] != "(.*/)?":  # `**/**/` means `**/`; one group avoids exponential backtracking
                    out.append("(.*/)?")
                kind = _Kind.REGEX
            if first:
                kind = _Kind.SUFFIX
        elif ch in "*?":
            out.append("[^/]*" if ch == "*" else "[^/]")
            kind = _Kind.REGEX
        elif ch in _ESCAPED:
            out.append("\\" + ch)
        elif ch == "\\":
            if i < n:
                out.append(_go_escape(pattern[i]))
                i += 1
                kind = _Kind.REGEX
            else:
                out.append("\\\\")
        else:
            if ch in "[]":
                kind = _Kind.REGEX
            out.append(ch)
    if kind is not _Kind.REGEX:
        return kind, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # Go reads `[[` as a literal `[`, so does Python (for now)
            return kind, re.compile("".join(out) + r"\Z", re.ASCII)
    except re.error as err:
        raise DockerIgnoreError(f"syntax error in pattern {pattern!r}: {err}") from None


#: Escapes that mean the same in Go's RE2 and in Python (with re.ASCII); `\z` is Python's `\Z`.
_SAME_ESCAPES = frozenset("dDsSwWbBAaftnrv")


def _go_escape(ch: str) -> str:
    """The regex text for `\\` + `ch` as patternmatcher emits it, in Python syntax."""
    if ch == "z":
        return r"\Z"
    if ch.isascii() and ch.isalnum() and ch not in _SAME_ESCAPES:
        raise DockerIgnoreError(f"unsupported escape \\{ch} in pattern")
    return "\\" + ch
