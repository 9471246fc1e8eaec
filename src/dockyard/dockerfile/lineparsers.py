"""Per-instruction argument parsers of BuildKit's `parser/line_parsers.go` and `split_command.go`, rune for rune."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from dockyard.dockerfile.errors import DockerfileSyntaxError
from dockyard.dockerfile.textutil import go_isspace, go_quote, lstrip_space, strip_space

#: `[\t\v\f\r ]+`: the separator of instruction words (newlines never occur inside a logical line).
WHITESPACE = re.compile(r"[\t\v\f\r ]+")

_SPACES, _WORD, _QUOTE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Args:
    """What a line parser returns: the argument values (BuildKit's `Next` chain) and whether they were JSON.

    `sub` is the nested instruction line of `ONBUILD`, parsed again by the caller.
    """

    values: tuple[str, ...] = ()
    json: bool = False
    sub: str | None = None


def split_command(line: str) -> tuple[str, tuple[str, ...], str]:
    """`splitCommand`: the instruction word (as written), its `--flags`, and the trimmed rest."""
    parts = WHITESPACE.split(strip_space(line), maxsplit=1)
    if len(parts) < 2:
        return parts[0], (), ""
    rest, flags = extract_builder_flags(parts[1])
    return parts[0], flags, strip_space(rest)


def extract_builder_flags(line: str) -> tuple[str, tuple[str, ...]]:
    """Leading `--name[=value]` words (quotes removed, `\\` escapes); `--` ends the flags."""
    words: list[str] = []
    word: list[str] = []
    phase, quote, blank_ok, pos, n = _SPACES, "", False, 0, len(line)
    while pos <= n:
        ch = line[pos] if pos < n else ""
        if phase == _SPACES:
            if pos == n:
                break
            if go_isspace(ch):
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return line[pos:], tuple(words)
            phase = _WORD
        if pos == n:
            text = "".join(word)
            if text != "--" and (blank_ok or text):
                words.append(text)
            break
        if phase == _WORD:
            if go_isspace(ch):
                phase = _SPACES
                text = "".join(word)
                if text == "--":
                    return line[pos:], tuple(words)
                if blank_ok or text:
                    words.append(text)
                word, blank_ok = [], False
            elif ch in "'\"":
                quote, blank_ok, phase = ch, True, _QUOTE
            elif ch == "\\":
                if pos + 1 < n:
                    pos += 1
                    word.append(line[pos])
            else:
                word.append(ch)
        elif ch == quote:
            phase = _WORD
        elif ch == "\\":
            if pos + 1 == n:
                phase = _WORD
            else:
                pos += 1
                word.append(line[pos])
        else:
            word.append(ch)
        pos += 1
    return "", tuple(words)


def parse_words(rest: str, escape: str) -> list[str]:
    """`parseWords`: blank-separated words; quotes and escapes are kept (they are removed at expansion)."""
    words: list[str] = []
    word: list[str] = []
    phase, quote, blank_ok, pos, n = _SPACES, "", False, 0, len(rest)
    while pos <= n:
        ch = rest[pos] if pos < n else ""
        if phase == _SPACES:
            if pos == n:
                break
            if go_isspace(ch):
                pos += 1
                continue
            phase = _WORD
        if pos == n:
            if blank_ok or word:
                words.append("".join(word))
            break
        if phase == _WORD:
            if go_isspace(ch):
                phase = _SPACES
                if blank_ok or word:
                    words.append("".join(word))
                word, blank_ok = [], False
                pos += 1
                continue
            if ch in "'\"":
                quote, blank_ok, phase = ch, True, _QUOTE
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue  # an escape token at the very end is dropped
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
            pos += 1
            continue
        if ch == quote:
            phase = _WORD
        if ch == escape and quote != "'":
            if pos + 1 == n:
                phase = _WORD
                pos += 1
                continue
            pos += 1
            word.append(ch)
            ch = rest[pos]
        word.append(ch)
        pos += 1
    return words


def parse_name_val(rest: str, keyword: str, escape: str) -> Args:
    """ENV and LABEL: `KEY value...` (legacy) or `K=V ...`; values come as (key, value, separator) triples."""
    words = parse_words(rest, escape)
    if not words:
        return Args()
    if "=" not in words[0]:
        parts = WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise DockerfileSyntaxError(f"{keyword} must have two arguments")
        return Args((parts[0], parts[1], ""))
    values: list[str] = []
    for word in words:
        if "=" not in word:
            raise DockerfileSyntaxError(
                f"Syntax error - can't find = in {go_quote(word)}. Must be of the form: name=value")
        key, value = word.split("=", 1)
        values += (key, value, "=")
    return Args(tuple(values))


def parse_name_or_name_val(rest: str, escape: str) -> Args:
    """ARG: one value per word (`NAME` or `NAME=default`, quotes kept)."""
    return Args(tuple(parse_words(rest, escape)))


def parse_strings_whitespace_delimited(rest: str) -> Args:
    """FROM, EXPOSE and the non-JSON form of ADD/COPY/VOLUME."""
    return Args(tuple(WHITESPACE.split(rest))) if rest else Args()


def parse_string(rest: str) -> Args:
    """MAINTAINER, STOPSIGNAL, USER, WORKDIR: the whole rest as one value."""
    return Args((rest,)) if rest else Args()


class _NotStrings(Exception):
    """A JSON array with a non-string element: an error, not a fallback to shell form."""


def _reject_constant(name: str) -> object:
    raise ValueError(name)  # Go's encoding/json has no NaN/Infinity


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _parse_json(rest: str) -> tuple[str, ...] | None:
    rest = lstrip_space(rest)
    if not rest.startswith("["):
        return None
    try:  # like Go's json.Decoder.Decode: the first JSON value counts, anything after it is ignored
        value, _ = _DECODER.raw_decode(rest)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise _NotStrings
    return tuple(value)


def parse_maybe_json(rest: str) -> Args:
    """RUN, CMD, ENTRYPOINT, SHELL: a JSON string array, else the whole rest as one shell-form value."""
    if not rest:
        return Args()
    try:
        values = _parse_json(rest)
    except _NotStrings:
        raise DockerfileSyntaxError("when using JSON array syntax, arrays must be comprised of strings only") from None
    return Args(values, json=True) if values is not None else Args((rest,))


def parse_maybe_json_to_list(rest: str) -> Args:
    """ADD, COPY, VOLUME: a JSON string array, else whitespace-separated words."""
    try:
        values = _parse_json(rest)
    except _NotStrings:
        raise DockerfileSyntaxError("when using JSON array syntax, arrays must be comprised of strings only") from None
    return Args(values, json=True) if values is not None else parse_strings_whitespace_delimited(rest)


def parse_health_config(rest: str) -> Args:
    """HEALTHCHECK: the first word (`CMD`, `NONE`, ...) then the command as in `parse_maybe_json`."""
    sep = 0
    while sep < len(rest) and not go_isspace(rest[sep]):
        sep += 1
    if sep == 0:
        return Args()
    nxt = sep
    while nxt < len(rest) and go_isspace(rest[nxt]):
        nxt += 1
    cmd = parse_maybe_json(rest[nxt:])
    return Args((rest[:sep], *cmd.values), json=cmd.json)


def parse_args(keyword: str, rest: str, escape: str) -> Args:
    """Dispatch on the lower-cased instruction word; unknown words parse to one empty value, as in BuildKit."""
    kw = keyword.lower()
    if kw in ("add", "copy", "volume"):
        return parse_maybe_json_to_list(rest)
    if kw in ("run", "cmd", "entrypoint", "shell"):
        return parse_maybe_json(rest)
    if kw in ("from", "expose"):
        return parse_strings_whitespace_delimited(rest)
    if kw in ("maintainer", "stopsignal", "user", "workdir"):
        return parse_string(rest)
    if kw in ("env", "label"):
        return parse_name_val(rest, kw.upper(), escape)
    if kw == "arg":
        return parse_name_or_name_val(rest, escape)
    if kw == "healthcheck":
        return parse_health_config(rest)
    if kw == "onbuild":
        return Args(sub=rest) if rest else Args()
    return Args(("",))
