"""Shell wildcard patterns inside `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/repl}` (lex.go's regex conversion)."""

from __future__ import annotations

import re

from dockyard.dockerfile.errors import DockerfileSyntaxError


def to_regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """`convertShellPatternToRegex`: `*` any string (shortest unless greedy), `?` one char, `\\` escapes `*?\\`."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            nxt = pattern[i] if i < len(pattern) else ""
            if nxt in ("}", "/"):
                continue  # the escape only protected the delimiter; it is not part of the pattern
            if nxt not in ("*", "?", "\\"):
                raise DockerfileSyntaxError(f"invalid pattern ({pattern}) in substitution: invalid escape '\\{nxt}'")
            out.append(re.escape(nxt))
            i += 1
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out))


def trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    """`${VAR#pat}` / `${VAR##pat}`: drop the shortest (longest) matching prefix."""
    match = to_regex(pattern, greedy=greedy, anchored=True).search(value)
    return value[match.end():] if match else value


def _reverse_pattern(pattern: str) -> str:
    """Reverse a pattern but keep each `\\x` escape pair in order (lex.go's `reversePattern`)."""
    tokens: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i != len(pattern) - 1:
            tokens.append(pattern[i:i + 2])
            i += 2
        else:
            tokens.append(pattern[i])
            i += 1
    return "".join(reversed(tokens))


def trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    """`${VAR%pat}` / `${VAR%%pat}`: drop the shortest (longest) matching suffix, by matching reversed strings."""
    return trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]


def replace_pattern(value: str, pattern: str, replacement: str, *, replace_all: bool) -> str:
    """`${VAR/pat/repl}` (first match) and `${VAR//pat/repl}` (every match); the replacement is literal."""
    regex = to_regex(pattern, greedy=True, anchored=False)
    return regex.sub(lambda _m: replacement, value, count=0 if replace_all else 1)
