"""dockyard's own rules (DY1xxx): what hadolint misses about building images right (non-root final stage,
verified downloads, multi-stage builds, secrets, upgrades, digest and platform policy, slim bases)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dockyard.dockerfile import (
    AddInstruction,
    ArgInstruction,
    EnvInstruction,
    FromInstruction,
    Instruction,
    RunInstruction,
    UserInstruction,
)
from dockyard.lint.images import ImageName
from dockyard.lint.model import Hit, Severity
from dockyard.lint.rule import FunctionRule, LintContext, drop_quotes, rule, run_rule
from dockyard.lint.rules.secrets import extra_sensitive_name, secret_value
from dockyard.lint.rules.toolchains import installs_toolchain
from dockyard.lint.shellcmd import Script

_W, _I, _E = Severity.WARNING, Severity.INFO, Severity.ERROR


def final_stage(instructions: Sequence[Instruction]) -> tuple[FromInstruction | None, list[Instruction]]:
    """The last FROM and the instructions after it."""
    start = max((i for i, inst in enumerate(instructions) if isinstance(inst, FromInstruction)), default=None)
    if start is None:
        return None, []
    head = instructions[start]
    assert isinstance(head, FromInstruction)
    return head, list(instructions[start + 1:])


@rule("DY1001", _W, "The final stage runs as root: add a `USER` with a non-root (numeric) user",
      "the final stage (or the stage it builds on) sets a USER")
def dy1001(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    users: dict[str, bool] = {}
    last: tuple[FromInstruction, bool] | None = None
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            if last is not None and last[0].alias:
                users[last[0].alias.lower()] = last[1]
            last = (inst, users.get(inst.image.lower(), False))
        elif isinstance(inst, UserInstruction) and last is not None:
            last = (last[0], True)
    if last is not None and not last[1]:
        yield last[0].start_line


@rule("DY1002", _W, "ADD of a remote URL without `--checksum`: the download is not verified",
      "ADD of an http(s) URL pins its content with `--checksum=sha256:...`")
def dy1002(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    for inst in instructions:
        if isinstance(inst, AddInstruction) and not inst.checksum and any(
                drop_quotes(s).startswith(("http://", "https://")) for s in inst.sources):
            yield inst.start_line


@rule("DY1003", _W, "Build toolchain installed in the final image without a multi-stage build",
      "compilers and `-dev` packages are installed in a builder stage (or removed in the same RUN)")
def dy1003(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[Hit]:
    if sum(isinstance(i, FromInstruction) for i in instructions) != 1:
        return
    for inst in instructions:
        if isinstance(inst, RunInstruction):
            found = installs_toolchain(ctx.script(inst))
            if found:
                yield Hit(inst.start_line, f"Build toolchain ({', '.join(found[:3])}) installed in the final image "
                                           "without a multi-stage build: build in a separate stage and COPY the result")


_UPGRADES = (("apt-get", ("upgrade", "dist-upgrade", "full-upgrade")), ("apt", ("upgrade", "full-upgrade")),
             ("apk", ("upgrade",)), ("yum", ("upgrade", "update")), ("dnf", ("upgrade", "update", "distro-sync")),
             ("microdnf", ("upgrade", "update")), ("zypper", ("update", "up", "dist-upgrade", "dup")))


@run_rule("DY1011", _I, "Package upgrade in a RUN (`apt-get upgrade`, `apk upgrade`...): builds stop being "
          "reproducible; use a newer base image instead", "no blanket `apt-get upgrade`/`dist-upgrade`/`apk upgrade`")
def dy1011(script: Script) -> bool:
    for cmd in script.commands:
        for name, verbs in _UPGRADES:
            if cmd.name == name and cmd.args_no_flags()[:1] and cmd.args_no_flags()[0] in verbs:
                packages = cmd.args_no_flags()[1:]
                if not packages or name in ("apt-get", "apt"):
                    return True
    return False


@rule("DY1008", _W, "Base image is not pinned by digest (policy `require-digest`)",
      "with `require-digest`, FROM names `image:tag@sha256:...`")
def dy1008(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    if not ctx.config.require_digest:
        return
    aliases: set[str] = set()
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            image = ImageName.parse(inst.image)
            own = inst.image.lower() in aliases or inst.image == "scratch"
            if not own and image.digest is None:
                yield inst.start_line
            if inst.stage_name:
                aliases.add(inst.stage_name)


@rule("DY1009", _E, "`FROM --platform` names a platform outside the declared targets",
      "a constant `FROM --platform` is one of the configured `platforms`")
def dy1009(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[Hit]:
    targets = ctx.config.platforms
    if not targets:
        return
    for inst in instructions:
        if isinstance(inst, FromInstruction) and inst.platform and "$" not in inst.platform \
                and inst.platform not in targets:
            yield Hit(inst.start_line, f"`FROM --platform={inst.platform}` does not match the declared target "
                                           f"platform(s) {', '.join(targets)}")


@rule("DY1010", _E, "Secret in ARG/ENV: the value is stored in the image config and history",
      "no credential-looking values or secret-named ARG/ENV with a literal value (use `RUN --mount=type=secret`)")
def dy1010(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    for inst in instructions:
        if isinstance(inst, ArgInstruction):
            items = [(a.name, a.default or "") for a in inst.args]
        elif isinstance(inst, EnvInstruction):
            items = [(p.key, drop_quotes(p.value)) for p in inst.pairs]
        else:
            continue
        if any(secret_value(value) or (extra_sensitive_name(name) and value and not value.startswith("$"))
               for name, value in items):
            yield inst.start_line


RULES: tuple[FunctionRule, ...] = (dy1001, dy1002, dy1003, dy1008, dy1009, dy1010, dy1011)
