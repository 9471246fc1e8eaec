"""Instruction flags (`--name=value`): BuildKit's `BFlags` rules of which flags each instruction takes."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum

from dockyard.dockerfile.errors import DockerfileSyntaxError


class FlagKind(Enum):
    """How a flag takes its value: `--link` or `--link=false`; `--from=x` once; `--mount=...` repeatable."""

    BOOL = "bool"
    STRING = "string"
    STRINGS = "strings"


@dataclass(frozen=True, slots=True)
class Flag:
    """One flag as written: `name` without the dashes, `value` None for a bare `--name`, `raw` the whole word."""

    name: str
    value: str | None
    raw: str


_B, _S, _M = FlagKind.BOOL, FlagKind.STRING, FlagKind.STRINGS

#: The flags each instruction accepts (BuildKit's `instructions/parse.go` plus the labs `--parents`/`--exclude`).
FLAG_SPECS: dict[str, dict[str, FlagKind]] = {
    "FROM": {"platform": _S},
    "RUN": {"mount": _M, "network": _S, "security": _S, "device": _M},
    "COPY": {"from": _S, "chown": _S, "chmod": _S, "link": _B, "parents": _B, "exclude": _M},
    "ADD": {"chown": _S, "chmod": _S, "link": _B, "checksum": _S, "keep-git-dir": _B, "unpack": _B, "exclude": _M},
    "HEALTHCHECK": {"interval": _S, "timeout": _S, "start-period": _S, "start-interval": _S, "retries": _S},
}


def parse_flags(keyword: str, raw: tuple[str, ...]) -> tuple[Flag, ...]:
    """Validate `raw` flag words for `keyword` exactly as `BFlags.Parse` does; raises `DockerfileSyntaxError`."""
    spec = FLAG_SPECS.get(keyword, {})
    seen: set[str] = set()
    out: list[Flag] = []
    for word in raw:
        if not word.startswith("--"):
            raise DockerfileSyntaxError(f"arg should start with -- : {word}")
        if word == "--":
            break
        name, eq, value = word[2:].partition("=")
        kind = spec.get(name)
        if kind is None:
            close = difflib.get_close_matches(name, list(spec), n=1)
            raise DockerfileSyntaxError(f"unknown flag: {name}", hint=f"did you mean {close[0]}?" if close else None)
        if name in seen and kind is not FlagKind.STRINGS:
            raise DockerfileSyntaxError(f"duplicate flag specified: {name}")
        seen.add(name)
        if kind is FlagKind.BOOL:
            if eq and not value:
                raise DockerfileSyntaxError(f"missing a value on flag: {name}")
            if value.lower() not in ("", "true", "false"):
                raise DockerfileSyntaxError(f"expecting boolean value for flag {name}, not: {value}")
        elif not eq:
            raise DockerfileSyntaxError(f"missing a value on flag: {name}")
        out.append(Flag(name, value if eq else None, word))
    return tuple(out)


def flag_value(flags: tuple[Flag, ...], name: str) -> str | None:
    """The value of the last `--name=value`, or None when absent."""
    for flag in reversed(flags):
        if flag.name == name:
            return flag.value if flag.value is not None else ""
    return None


def flag_values(flags: tuple[Flag, ...], name: str) -> tuple[str, ...]:
    """Every value of a repeatable flag, in order."""
    return tuple(f.value or "" for f in flags if f.name == name)


def flag_bool(flags: tuple[Flag, ...], name: str) -> bool:
    """A boolean flag: bare or `=true` is True (any case), absent or `=false` is False."""
    value = flag_value(flags, name)
    return value is not None and value.lower() in ("", "true")


def split_flag(word: str) -> Flag:
    """A flag word taken apart without validation (HEALTHCHECK NONE ignores its flags, as BuildKit does)."""
    name, eq, value = word.removeprefix("--").partition("=")
    return Flag(name, value if eq else None, word)
