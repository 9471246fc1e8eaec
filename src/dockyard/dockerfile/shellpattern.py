"""Shell wildcard patterns inside `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/repl}` (lex.go's semantics).

`*` is any string, `?` any character, `\\` escapes `*`, `?` and `\\` (and protects a `}` or `/` delimiter).
BuildKit compiles these to Go regular expressions; here a small automaton runs over the value instead, so a
pattern with many stars stays linear per start position (no backtracking blow-up).
"""

from __future__ import annotations

from dockyard.dockerfile.errors import DockerfileSyntaxError

_STAR = object()
_ANY = object()
_Token = str | object


def _tokens(pattern: str) -> list[_Token]:
    """`convertShellPatternToRegex`, as tokens: literal characters, `_ANY` and `_STAR`."""
    out: list[_Token] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            if not out or out[-1] is not _STAR:
                out.append(_STAR)
        elif ch == "?":
            out.append(_ANY)
        elif ch == "\\":
            nxt = pattern[i] if i < len(pattern) else ""
            if nxt in ("}", "/"):
                continue  # the escape only protected the delimiter; the delimiter itself follows as a literal
            if nxt not in ("*", "?", "\\"):
                raise DockerfileSyntaxError(f"invalid pattern ({pattern}) in substitution: invalid escape '\\{nxt}'")
            out.append(nxt)
            i += 1
        else:
            out.append(ch)
    return out


def _closure(tokens: list[_Token], states: set[int]) -> set[int]:
    todo = list(states)
    while todo:
        state = todo.pop()
        if state < len(tokens) and tokens[state] is _STAR and state + 1 not in states:
            states.add(state + 1)
            todo.append(state + 1)
    return states


def _match_ends(tokens: list[_Token], text: str, start: int) -> list[int]:
    """Every end position `e` such that `text[start:e]` matches the whole pattern, in increasing order."""
    final = len(tokens)
    states = _closure(tokens, {0})
    ends = [start] if final in states else []
    for pos in range(start, len(text)):
        ch = text[pos]
        nxt: set[int] = set()
        for state in states:
            if state == final:
                continue
            tok = tokens[state]
            if tok is _STAR:
                nxt.add(state)
            elif tok is _ANY or tok == ch:
                nxt.add(state + 1)
        if not nxt:
            break
        states = _closure(tokens, nxt)
        if final in states:
            ends.append(pos + 1)
    return ends


def trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    """`${VAR#pat}` / `${VAR##pat}`: drop the shortest (longest) matching prefix."""
    ends = _match_ends(_tokens(pattern), value, 0)
    if not ends:
        return value
    return value[(ends[-1] if greedy else ends[0]):]


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
    """`${VAR/pat/repl}` (leftmost match) and `${VAR//pat/repl}` (every non-overlapping match), greedy stars."""
    tokens = _tokens(pattern)
    out: list[str] = []
    pos, last_end = 0, -1
    while pos <= len(value):
        ends = _match_ends(tokens, value, pos)
        if ends and not (ends[-1] == pos and pos == last_end):
            out.append(replacement)
            last_end = ends[-1]
            if not replace_all:
                return "".join(out) + value[last_end:]
            if last_end > pos:
                pos = last_end
                continue
        if pos < len(value):
            out.append(value[pos])
        pos += 1
    return "".join(out)
