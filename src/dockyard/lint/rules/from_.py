"""hadolint's FROM rules: tags and `latest` (DL3006, DL3007), trusted registries (DL3026), `--platform` (DL3029,
DL3065), stage names (DL3024, DL3063) and what may come before the first FROM (DL3061)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dockyard.dockerfile import ArgInstruction, CopyInstruction, FromInstruction, Instruction, RunInstruction
from dockyard.lint.images import ImageName, registry_allowed
from dockyard.lint.model import Severity
from dockyard.lint.rule import FunctionRule, LintContext, per_instruction, rule

_E, _W = Severity.ERROR, Severity.WARNING


@rule("DL3006", _W, "Always tag the version of an image explicitly",
      "FROM names a tag or a digest (scratch, `$VAR` images and earlier stage names pass)")
def dl3006(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    aliases: set[str] = set()
    for inst in instructions:
        if not isinstance(inst, FromInstruction):
            continue
        image = ImageName.parse(inst.image)
        untagged = image.tag is None and image.digest is None and not image.is_variable
        if untagged and inst.image != "scratch" and inst.image not in aliases:
            yield inst.start_line
        if inst.alias:
            aliases.add(inst.alias)


@per_instruction("DL3007", _W, "Using latest is prone to errors if the image will ever update. Pin the version "
                 "explicitly to a release tag", "FROM does not use the `latest` tag (unless pinned by digest)")
def dl3007(inst: Instruction, ctx: LintContext) -> bool:
    if not isinstance(inst, FromInstruction):
        return False
    image = ImageName.parse(inst.image)
    return image.tag == "latest" and image.digest is None


@rule("DL3024", _E, "FROM aliases (stage names) must be unique", "stage names are unique")
def dl3024(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    seen: set[str] = set()
    for inst in instructions:
        if isinstance(inst, FromInstruction) and inst.alias:
            if inst.alias in seen:
                yield inst.start_line
            seen.add(inst.alias)


@rule("DL3026", _E, "Use only an allowed registry in the FROM image",
      "FROM, COPY --from and RUN --mount from= use only trusted registries (when `trustedRegistries` is set)")
def dl3026(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    allowed = ctx.config.trusted_registries
    if not allowed:
        return
    aliases: set[str] = set()

    def bad(ref: str) -> bool:
        if ref in aliases:
            return False
        image = ImageName.parse(ref)
        return not (image.registry is None and image.repository == "scratch") and \
            not registry_allowed(image.registry, allowed)

    for inst in instructions:
        if isinstance(inst, FromInstruction):
            if bad(inst.image):
                yield inst.start_line
            if inst.alias:
                aliases.add(inst.alias)
        else:
            refs = [inst.from_stage] if isinstance(inst, CopyInstruction) and inst.from_stage is not None else []
            if isinstance(inst, RunInstruction):
                refs = [m.from_stage for m in inst.mounts if m.from_stage is not None]
            if any(bad(ref) for ref in refs):
                yield inst.start_line


@per_instruction("DL3029", _W, "Do not use --platform flag with FROM",
                 "FROM has no constant `--platform` (`$BUILDPLATFORM`/`$TARGETPLATFORM` pass)")
def dl3029(inst: Instruction, ctx: LintContext) -> bool:
    platform = inst.platform if isinstance(inst, FromInstruction) else None
    return bool(platform) and "BUILDPLATFORM" not in str(platform) and "TARGETPLATFORM" not in str(platform)


@per_instruction("DL3063", _W, "stage name should not be a reserved word",
                 "stage names are not `scratch` or `context`")
def dl3063(inst: Instruction, ctx: LintContext) -> bool:
    return isinstance(inst, FromInstruction) and inst.alias in ("scratch", "context")


@per_instruction("DL3065", _W, "Setting `FROM --platform` to predefined `$TARGETPLATFORM` in is redundant as this "
                 "is the default behavior", "FROM does not repeat the default `--platform=$TARGETPLATFORM`")
def dl3065(inst: Instruction, ctx: LintContext) -> bool:
    return isinstance(inst, FromInstruction) and inst.platform in ("$TARGETPLATFORM", "${TARGETPLATFORM}")


@rule("DL3061", _E, "Invalid instruction order. Dockerfile must begin with `FROM`, `ARG` or comment.",
      "only ARG and comments come before the first FROM")
def dl3061(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            return
        if not isinstance(inst, ArgInstruction):
            yield inst.start_line


RULES: tuple[FunctionRule, ...] = (dl3006, dl3007, dl3024, dl3026, dl3029, dl3061, dl3063, dl3065)
