"""hadolint's rules that follow build stages: last USER (DL3002), one HEALTHCHECK/CMD/ENTRYPOINT per stage (DL3012,
DL4003, DL4004), COPY --from (DL3022, DL3023), relative COPY without WORKDIR (DL3045), missing HEALTHCHECK (DL3057),
consecutive RUNs (DL3059)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from dockyard.dockerfile import (
    CmdInstruction,
    CopyInstruction,
    EntrypointInstruction,
    FromInstruction,
    HealthcheckInstruction,
    Instruction,
    RunInstruction,
    UserInstruction,
    WorkdirInstruction,
)
from dockyard.lint.images import ImageName
from dockyard.lint.model import Severity
from dockyard.lint.rule import FunctionRule, LintContext, drop_quotes, rule

_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO


def image_key(inst: FromInstruction) -> str:
    """hadolint's name of a stage: its alias, else the image name without registry, tag and digest."""
    return inst.alias if inst.alias else ImageName.parse(inst.image).repository


class StageFlag:
    """hadolint's per-stage boolean that a stage inherits from the stage it is built `FROM` (by name).

    Before any FROM the stage is None; the first FROM does not look up a parent (as in hadolint's DL3045/DL3042).
    """

    def __init__(self) -> None:
        self.started = False
        self.current: str | None = None
        self.values: dict[str | None, bool] = {}

    def enter(self, inst: FromInstruction) -> None:
        key = image_key(inst)
        if self.started or self.values:
            self.values[key] = self.values.get(ImageName.parse(inst.image).repository, False)
        self.started, self.current = True, key

    def set(self) -> None:
        self.values[self.current] = True

    def get(self) -> bool:
        return self.values.get(self.current, False)


def _is_root(user: str) -> bool:
    return user in ("root", "0") or user.startswith(("root:", "0:"))


@rule("DL3002", _W, "Last USER should not be root", "the last USER of a stage is not root")
def dl3002(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    stage: int | None = None
    root_at: dict[int, int] = {}
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            stage = inst.start_line
        elif isinstance(inst, UserInstruction) and stage is not None:
            if _is_root(inst.user):
                root_at[stage] = inst.start_line
            else:
                root_at.pop(stage, None)
    yield from root_at.values()


def _once_per_stage(kind: type[Instruction]) -> Callable[[Sequence[Instruction], LintContext], Iterator[int]]:
    def check(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
        seen = False
        for inst in instructions:
            if isinstance(inst, FromInstruction):
                seen = False
            elif isinstance(inst, kind):
                if seen:
                    yield inst.start_line
                seen = True

    return check


dl3012 = rule("DL3012", _E, "Multiple `HEALTHCHECK` instructions",
              "one HEALTHCHECK per stage")(_once_per_stage(HealthcheckInstruction))
dl4003 = rule("DL4003", _W, "Multiple `CMD` instructions found. If you list more than one `CMD` then only the last "
              "`CMD` will take effect", "one CMD per stage")(_once_per_stage(CmdInstruction))
dl4004 = rule("DL4004", _E, "Multiple `ENTRYPOINT` instructions found. If you list more than one `ENTRYPOINT` then "
              "only the last `ENTRYPOINT` will take effect",
              "one ENTRYPOINT per stage")(_once_per_stage(EntrypointInstruction))


@rule("DL3022", _W, "`COPY --from` should reference a previously defined `FROM` alias",
      "COPY --from names an earlier stage (by name or index) or an image (`name:tag`)")
def dl3022(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    aliases: set[str] = set()
    stages = 0
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            stages += 1
            if inst.alias:
                aliases.add(inst.alias)
        elif isinstance(inst, CopyInstruction) and inst.from_stage is not None:
            source = inst.from_stage
            index_ok = source.isdigit() and int(source) < stages
            if source not in aliases and not index_ok and ":" not in source:
                yield inst.start_line


@rule("DL3023", _E, "`COPY --from` cannot reference its own `FROM` alias", "COPY --from does not name its own stage")
def dl3023(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    alias: str | None = None
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            alias = inst.alias
        elif isinstance(inst, CopyInstruction) and inst.from_stage is not None and inst.from_stage == alias:
            yield inst.start_line


@rule("DL3045", _W, "`COPY` to a relative destination without `WORKDIR` set.",
      "COPY to a relative path only after a WORKDIR (in the stage or its parent stage)")
def dl3045(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    workdir = StageFlag()
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            workdir.enter(inst)
        elif isinstance(inst, WorkdirInstruction):
            workdir.set()
        elif isinstance(inst, CopyInstruction) and not workdir.get():
            dest = drop_quotes(inst.dest)
            if not (dest.startswith(("/", "$")) or dest[1:].startswith((":\\", ":/"))):
                yield inst.start_line


@rule("DL3057", Severity.IGNORE, "`HEALTHCHECK` instruction missing.",
      "every stage (or its parent stage) has a HEALTHCHECK (off unless its severity is overridden)")
def dl3057(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    good: set[str] = set()
    bad: dict[int, str] = {}
    current: tuple[str, int] | None = None
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            current = (image_key(inst), inst.start_line)
            if ImageName.parse(inst.image).repository in good:
                good.add(current[0])
            else:
                bad[current[1]] = current[0]
        elif isinstance(inst, HealthcheckInstruction) and current is not None:
            good.add(current[0])
            bad.pop(current[1], None)
    yield from sorted(bad)


@rule("DL3059", _I, "Multiple consecutive `RUN` instructions. Consider consolidation.",
      "no two consecutive one-command RUNs with the same flags")
def dl3059(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    previous: tuple[tuple[str, ...], int] | None = None
    for inst in instructions:
        if not isinstance(inst, RunInstruction):
            previous = None
            continue
        flags = tuple(sorted(f.raw for f in inst.flags))
        count = len(ctx.script(inst).commands)
        if previous is not None and previous[0] == flags and count <= 1 and previous[1] <= 1:
            yield inst.start_line
        previous = (flags, count)


RULES: tuple[FunctionRule, ...] = (dl3002, dl3012, dl3022, dl3023, dl3045, dl3057, dl3059, dl4003, dl4004)
