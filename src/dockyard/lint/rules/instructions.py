"""hadolint's single-instruction rules: WORKDIR, EXPOSE, ADD/COPY arguments, CMD/ENTRYPOINT form, ONBUILD, ENV
self-references, secrets in ARG/ENV, USER ids, MAINTAINER."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dockyard.dockerfile import (
    AddInstruction,
    ArgInstruction,
    CmdInstruction,
    CopyInstruction,
    EntrypointInstruction,
    EnvInstruction,
    ExposeInstruction,
    HealthcheckInstruction,
    Instruction,
    MaintainerInstruction,
    OnbuildInstruction,
    UserInstruction,
    WorkdirInstruction,
)
from dockyard.lint.model import Severity
from dockyard.lint.rule import FunctionRule, LintContext, drop_quotes, per_instruction, rule
from dockyard.lint.rules.secrets import sensitive_name

_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

#: hadolint's `archiveFileFormatExtensions`.
ARCHIVE_SUFFIXES = (".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz",
                    ".tpz", ".txz", ".xz")


def is_archive(path: str) -> bool:
    return drop_quotes(path).endswith(ARCHIVE_SUFFIXES)


def is_url(path: str) -> bool:
    return drop_quotes(path).startswith(("https://", "http://"))


@per_instruction("DL3000", _E, "Use absolute WORKDIR", "WORKDIR paths are absolute (or start with a `$VAR`)")
def dl3000(inst: Instruction, ctx: LintContext) -> bool:
    if not isinstance(inst, WorkdirInstruction):
        return False
    path = drop_quotes(inst.path)
    windows = len(path) > 1 and path[0].isalpha() and path[1] == ":"
    return not (path.startswith(("$", "/")) or windows)


def _port_numbers(word: str) -> list[int]:
    body = word.partition("/")[0]
    if "$" in body:
        return []
    return [int(p) for p in body.split("-") if p.isdigit()]


@per_instruction("DL3011", _E, "Valid UNIX ports range from 0 to 65535", "EXPOSE ports are 0-65535")
def dl3011(inst: Instruction, ctx: LintContext) -> bool:
    return isinstance(inst, ExposeInstruction) and any(n > 65535 for p in inst.ports for n in _port_numbers(p))


@per_instruction("DL3020", _E, "Use COPY instead of ADD for files and folders",
                 "ADD is only used for URLs and archives")
def dl3020(inst: Instruction, ctx: LintContext) -> bool:
    return isinstance(inst, AddInstruction) and not all(is_archive(s) or is_url(s) for s in inst.sources)


@per_instruction("DL3021", _E, "COPY with more than 2 arguments requires the last argument to end with /",
                 "COPY of several sources has a destination ending in `/`")
def dl3021(inst: Instruction, ctx: LintContext) -> bool:
    if not isinstance(inst, CopyInstruction) or len(inst.sources) + len(inst.inline_sources) < 2:
        return False
    return not drop_quotes(inst.dest).endswith("/")


@per_instruction("DL3025", _W, "Use arguments JSON notation for CMD and ENTRYPOINT arguments",
                 "CMD, ENTRYPOINT and HEALTHCHECK CMD use the JSON (exec) form")
def dl3025(inst: Instruction, ctx: LintContext) -> bool:
    if isinstance(inst, HealthcheckInstruction):
        return inst.command is not None and not inst.command.exec_form
    return isinstance(inst, (CmdInstruction, EntrypointInstruction)) and not inst.command.exec_form


@per_instruction("DL3043", _E, "`ONBUILD`, `FROM` or `MAINTAINER` triggered from within `ONBUILD` instruction.",
                 "ONBUILD does not trigger ONBUILD, FROM or MAINTAINER")
def dl3043(inst: Instruction, ctx: LintContext) -> bool:
    return isinstance(inst, OnbuildInstruction) and inst.trigger.keyword in ("ONBUILD", "FROM", "MAINTAINER")


def _references(name: str, text: str) -> bool:
    """`${name}` or a bare `$name` not followed by another name character (hadolint's `bareVariableInText`)."""
    if "${" + name + "}" in text:
        return True
    var = "$" + name
    parts = text.split(var)
    return len(parts) > 1 and any(not p or not (p[0].isalnum() or p[0] == "_") for p in parts)


@rule("DL3044", _E, "Do not refer to an environment variable within the same `ENV` statement where it is defined.",
      "ENV does not use a variable it defines in the same instruction")
def dl3044(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    known: set[str] = set()
    for inst in instructions:
        if isinstance(inst, EnvInstruction):
            pairs = inst.pairs
            refs = [p.key for i, p in enumerate(pairs)
                    if any(_references(p.key, q.value) for j, q in enumerate(pairs) if j != i)]
            if any(r not in known for r in refs):
                yield inst.start_line
            known.update(p.key for p in pairs)
        elif isinstance(inst, ArgInstruction):
            known.update(a.name for a in inst.args)


@per_instruction("DL3064", _W, "Potentially sensitive data should not be used in the `ARG` or `ENV` commands",
                 "ARG and ENV names do not suggest secrets (passwords, tokens, keys)", onbuild=True)
def dl3064(inst: Instruction, ctx: LintContext) -> bool:
    if isinstance(inst, ArgInstruction):
        return any(sensitive_name(a.name) for a in inst.args)
    if isinstance(inst, EnvInstruction):
        return any(sensitive_name(p.key) for p in inst.pairs)
    return False


def _arg_reference(text: str) -> str | None:
    """`NAME` for a word that is exactly `$NAME` or `${NAME}`."""
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1]
    return text[1:] if text.startswith("$") else None


@rule("DL3066", _I, "Non-numeric user-id may not be resolvable by host system",
      "USER names a numeric uid (or an ARG)")
def dl3066(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    args: set[str] = set()
    for inst in instructions:
        if isinstance(inst, ArgInstruction):
            args.update(a.name for a in inst.args)
        elif isinstance(inst, UserInstruction):
            uid = inst.user.partition(":")[0]
            if uid and not uid.isdigit() and _arg_reference(uid) not in args:
                yield inst.start_line


@per_instruction("DL3067", _W, "Do not copy an entire filesystem from another stage",
                 "COPY --from does not copy `/` to `/`")
def dl3067(inst: Instruction, ctx: LintContext) -> bool:
    return isinstance(inst, CopyInstruction) and inst.from_stage is not None and \
        any(drop_quotes(s) == "/" for s in inst.sources) and drop_quotes(inst.dest) == "/"


@per_instruction("DL4000", _E, "MAINTAINER is deprecated", "no MAINTAINER (use a LABEL)")
def dl4000(inst: Instruction, ctx: LintContext) -> bool:
    return isinstance(inst, MaintainerInstruction)


RULES: tuple[FunctionRule, ...] = (dl3000, dl3011, dl3020, dl3021, dl3025, dl3043, dl3044, dl3064, dl3066, dl3067,
                                   dl4000)
