"""From parser `Node`s to typed instructions, with BuildKit's argument checks (`instructions/parse.go`)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from dockyard.dockerfile.errors import DockerfileSyntaxError
from dockyard.dockerfile.flags import Flag, flag_bool, flag_value, flag_values, parse_flags, split_flag
from dockyard.dockerfile.instructions import (
    AddInstruction,
    AnyInstruction,
    ArgDecl,
    ArgInstruction,
    CmdInstruction,
    CommandLine,
    CopyInstruction,
    EntrypointInstruction,
    EnvInstruction,
    ExposeInstruction,
    FromInstruction,
    HealthcheckInstruction,
    Instruction,
    KeyValue,
    Keyword,
    LabelInstruction,
    MaintainerInstruction,
    OnbuildInstruction,
    RunInstruction,
    ShellInstruction,
    StopsignalInstruction,
    UserInstruction,
    VolumeInstruction,
    WorkdirInstruction,
)
from dockyard.dockerfile.mounts import parse_mount
from dockyard.dockerfile.syntax import Heredoc, Node, heredoc_word

_STAGE_NAME = re.compile(r"[a-z][a-z0-9-_.]*\Z")
_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_Fields = dict[str, Any]


def _err(message: str) -> DockerfileSyntaxError:
    return DockerfileSyntaxError(message)


def _exactly_one(kw: str, args: tuple[str, ...]) -> str:
    if len(args) != 1:
        raise _err(f"{kw} requires exactly one argument")
    return args[0]


def _at_least_one(kw: str, args: tuple[str, ...]) -> tuple[str, ...]:
    if not args:
        raise _err(f"{kw} requires at least one argument")
    return args


def go_duration(text: str) -> float:
    """Go's `time.ParseDuration` (`1m30s`, `500ms`, `0`) in seconds, as HEALTHCHECK options are read."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    pos, seconds = 0, 0.0
    while pos < len(body):
        match = _DURATION.match(body, pos)
        if match is None or match.group(1) in ("", "."):
            raise _err(f"time: invalid duration {text!r}")
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not body:
        raise _err(f"time: invalid duration {text!r}")
    return -seconds if text.startswith("-") else seconds


def _interval(name: str, value: str | None) -> timedelta | None:
    if not value:
        return None
    seconds = go_duration(value)
    if seconds != 0 and seconds < 0.001:
        raise _err(f"Interval {name!r} cannot be less than 1ms")
    return timedelta(seconds=seconds)


class _Flags:
    """Validated flags of one instruction, read by name with BuildKit's defaults."""

    def __init__(self, flags: tuple[Flag, ...]) -> None:
        self.flags = flags

    def text(self, name: str) -> str | None:
        return flag_value(self.flags, name)

    def yes(self, name: str) -> bool:
        return flag_bool(self.flags, name)

    def many(self, name: str) -> tuple[str, ...]:
        return flag_values(self.flags, name)

    def optional_bool(self, name: str) -> bool | None:
        return self.yes(name) if self.text(name) is not None else None


def _pairs(kw: str, args: tuple[str, ...]) -> _Fields:
    if not args:
        raise _err(f"{kw} requires at least one argument")
    pairs = tuple(KeyValue(args[i], args[i + 1]) for i in range(0, len(args) - 2, 3))
    if any(not p.key for p in pairs):
        raise _err(f"{kw} names can not be blank")
    return {"pairs": pairs, "legacy": args[2] == ""}


def _from(args: tuple[str, ...], flags: _Flags) -> _Fields:
    alias = None
    if len(args) == 3 and args[1].lower() == "as":
        alias = args[2]
        if not _STAGE_NAME.match(alias.lower()):
            raise _err(f'invalid name for build stage: "{alias}", name can\'t start with a number or contain symbols')
    elif len(args) != 1:
        raise _err("FROM requires either one or three arguments")
    return {"image": args[0], "alias": alias, "stage_name": alias.lower() if alias else None,
            "platform": flags.text("platform")}


def _sources(kw: str, node: Node, args: tuple[str, ...]) -> _Fields:
    if len(args) < 2:
        raise _err(f"{kw} requires at least two arguments, but only one was provided. Destination could not be "
                   "determined")
    if heredoc_word(args[-1]) is not None:
        raise _err(f"{kw} cannot accept a heredoc as a destination")
    by_name = {h.name: h for h in node.heredocs}
    paths: list[str] = []
    inline: list[Heredoc] = []
    for src in args[:-1]:
        found = heredoc_word(src)
        if found is None:
            paths.append(src)
        else:
            name, fd, expand, chomp = found
            inline.append(by_name.get(name, Heredoc(name, "", fd, expand, chomp)))
    return {"sources": tuple(paths), "dest": args[-1], "inline_sources": tuple(inline)}


def _copy(node: Node, flags: _Flags) -> _Fields:
    return {**_sources("COPY", node, node.values), "from_stage": flags.text("from"), "chown": flags.text("chown"),
            "chmod": flags.text("chmod"), "link": flags.yes("link"), "parents": flags.yes("parents"),
            "excludes": flags.many("exclude")}


def _add(node: Node, flags: _Flags) -> _Fields:
    return {**_sources("ADD", node, node.values), "chown": flags.text("chown"), "chmod": flags.text("chmod"),
            "link": flags.yes("link"), "checksum": flags.text("checksum"), "keep_git_dir": flags.yes("keep-git-dir"),
            "unpack": flags.optional_bool("unpack"), "excludes": flags.many("exclude")}


def _healthcheck(node: Node) -> _Fields:
    args = node.values
    kind = _at_least_one("HEALTHCHECK", args)[0].upper()
    if kind == "NONE":
        if len(args) != 1:
            raise _err("HEALTHCHECK NONE takes no arguments")
        return {"test": ("NONE",), "flags": tuple(split_flag(f) for f in node.flags)}
    flags = _Flags(parse_flags("HEALTHCHECK", node.flags))
    if kind != "CMD":
        raise _err(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    if len(args) < 2:
        raise _err("Missing command after HEALTHCHECK CMD")
    command = CommandLine(args[1:], node.json)
    retries_text = flags.text("retries")
    retries = None
    if retries_text:
        if not re.fullmatch(r"[+-]?[0-9]+", retries_text):
            raise _err(f'strconv.ParseInt: parsing "{retries_text}": invalid syntax')
        retries = int(retries_text)
        if retries < 0:
            raise _err(f"--retries cannot be negative ({retries})")
    return {"test": ("CMD" if node.json else "CMD-SHELL", *command.args), "command": command, "flags": flags.flags,
            "interval": _interval("interval", flags.text("interval")),
            "timeout": _interval("timeout", flags.text("timeout")),
            "start_period": _interval("start-period", flags.text("start-period")),
            "start_interval": _interval("start-interval", flags.text("start-interval")), "retries": retries}


def _onbuild(node: Node, lines: tuple[str, ...]) -> _Fields:
    if node.sub is None:
        raise _err("ONBUILD requires at least one argument")
    trigger_kw = node.sub.keyword.upper()
    if trigger_kw == "ONBUILD":
        raise _err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if trigger_kw in ("MAINTAINER", "FROM"):
        raise _err(f"{trigger_kw} isn't allowed as an ONBUILD trigger")
    expression = re.sub(r"(?i)^\s*ONBUILD\s*", "", node.original, count=1)
    expression += "".join("\n" + h.content + h.name for h in node.heredocs)
    sub = Node(node.sub.keyword, node.sub.flags, node.sub.values, node.sub.json, node.sub.original, node.start_line,
               node.end_line, (), node.heredocs)
    return {"trigger": to_instruction(sub, lines), "expression": expression,
            "flags": parse_flags("ONBUILD", node.flags)}


def _command(node: Node) -> _Fields:
    return {"command": CommandLine(node.values, node.json)}


def _shell(node: Node) -> _Fields:
    if not node.values:
        raise _err("SHELL requires at least one argument")
    if not node.json:
        raise _err(f"SHELL requires the arguments to be in JSON form: {node.original!r}")
    return {"shell": node.values}


def _run(node: Node, flags: _Flags) -> _Fields:
    network, security = flags.text("network"), flags.text("security")
    if network is not None and network not in ("default", "none", "host"):
        raise _err(f"unsupported network mode {network!r}")
    if security is not None and security not in ("sandbox", "insecure"):
        raise _err(f"unsupported security mode {security!r}")
    return {"command": CommandLine(node.values, node.json), "network": network, "security": security,
            "mounts": tuple(parse_mount(m) for m in flags.many("mount")), "devices": flags.many("device")}


def _arg_decls(args: tuple[str, ...]) -> tuple[ArgDecl, ...]:
    decls = []
    for word in _at_least_one("ARG", args):
        name, eq, default = word.partition("=")
        if eq and not name:
            raise _err("ARG names can not be blank")
        decls.append(ArgDecl(name, default if eq else None))
    return tuple(decls)


def _volumes(args: tuple[str, ...]) -> tuple[str, ...]:
    paths = tuple(v.strip() for v in _at_least_one("VOLUME", args))
    if any(not p for p in paths):
        raise _err("VOLUME specified can not be an empty string")
    return paths


_Builder = Callable[[Node, _Flags], _Fields]
_BUILDERS: dict[Keyword, tuple[type[Instruction], _Builder]] = {
    Keyword.FROM: (FromInstruction, lambda n, f: _from(n.values, f)),
    Keyword.RUN: (RunInstruction, _run),
    Keyword.CMD: (CmdInstruction, lambda n, f: _command(n)),
    Keyword.ENTRYPOINT: (EntrypointInstruction, lambda n, f: _command(n)),
    Keyword.SHELL: (ShellInstruction, lambda n, f: _shell(n)),
    Keyword.ENV: (EnvInstruction, lambda n, f: _pairs("ENV", n.values)),
    Keyword.LABEL: (LabelInstruction, lambda n, f: _pairs("LABEL", n.values)),
    Keyword.ARG: (ArgInstruction, lambda n, f: {"args": _arg_decls(n.values)}),
    Keyword.EXPOSE: (ExposeInstruction, lambda n, f: {"ports": _at_least_one("EXPOSE", n.values)}),
    Keyword.VOLUME: (VolumeInstruction, lambda n, f: {"paths": _volumes(n.values)}),
    Keyword.USER: (UserInstruction, lambda n, f: {"user": _exactly_one("USER", n.values)}),
    Keyword.WORKDIR: (WorkdirInstruction, lambda n, f: {"path": _exactly_one("WORKDIR", n.values)}),
    Keyword.STOPSIGNAL: (StopsignalInstruction, lambda n, f: {"signal": _exactly_one("STOPSIGNAL", n.values)}),
    Keyword.MAINTAINER: (MaintainerInstruction, lambda n, f: {"maintainer": _exactly_one("MAINTAINER", n.values)}),
    Keyword.COPY: (CopyInstruction, _copy),
    Keyword.ADD: (AddInstruction, _add),
}


def to_instruction(node: Node, lines: tuple[str, ...]) -> AnyInstruction:
    """Type one parsed node; raises `DockerfileSyntaxError` (with the node's lines) when BuildKit would."""
    try:
        return _convert(node, lines)
    except DockerfileSyntaxError as err:
        if err.line is not None:
            raise
        raise DockerfileSyntaxError(err.reason, line=node.start_line, end_line=node.end_line, hint=err.hint) from None


def _convert(node: Node, lines: tuple[str, ...]) -> AnyInstruction:
    try:
        keyword = Keyword(node.keyword.upper())
    except ValueError:
        close = difflib.get_close_matches(node.keyword.upper(), list(Keyword), n=1)
        raise DockerfileSyntaxError(f"unknown instruction: {node.keyword}",
                                    hint=f"did you mean {close[0]}?" if close else None) from None
    common: _Fields = {"keyword": keyword, "keyword_text": node.keyword, "start_line": node.start_line,
                       "end_line": node.end_line, "original": node.original, "raw_args": node.values,
                       "source": lines[node.start_line - 1:node.end_line], "json": node.json,
                       "comments": node.comments, "heredocs": node.heredocs}
    if keyword is Keyword.HEALTHCHECK:
        fields = _healthcheck(node)
        cls: type[Instruction] = HealthcheckInstruction
    elif keyword is Keyword.ONBUILD:
        fields, cls = _onbuild(node, lines), OnbuildInstruction
    else:
        cls, build = _BUILDERS[keyword]
        flags = _Flags(parse_flags(keyword, node.flags))
        fields = {"flags": flags.flags, **build(node, flags)}
    instruction: AnyInstruction = cls(**common, **fields)  # type: ignore[assignment]
    return instruction
