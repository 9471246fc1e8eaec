"""dockyard's rules about the build context and layer order: `.dockerignore` (DY1004-DY1006), `COPY . .` before
the dependency install (DY1007), and a large generic base where a slim variant exists (DY1012)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dockyard.dockerfile import (
    AddInstruction,
    CopyInstruction,
    DockerfileError,
    DockerIgnore,
    FromInstruction,
    Instruction,
    RunInstruction,
)
from dockyard.lint.images import ImageName
from dockyard.lint.model import Hit, Severity
from dockyard.lint.rule import FunctionRule, LintContext, drop_quotes, rule
from dockyard.lint.rules.dockyard import final_stage
from dockyard.lint.rules.toolchains import dependency_step

_W, _I = Severity.WARNING, Severity.INFO
_WHOLE_CONTEXT = frozenset({".", "./", "*", "./*", "/"})


def _uses_context(instructions: Sequence[Instruction]) -> bool:
    return any((isinstance(i, CopyInstruction) and i.from_stage is None and i.sources)
               or (isinstance(i, AddInstruction) and i.sources) for i in instructions)


def _ignore(ctx: LintContext) -> DockerIgnore | None:
    if ctx.context_dir is None or not _uses_context(ctx.instructions):
        return None
    try:
        return DockerIgnore.load(ctx.context_dir, ctx.dockerfile.path)
    except DockerfileError:
        return DockerIgnore()


@rule("DY1004", _I, "No .dockerignore: the whole directory (.git, caches, secrets) is sent as build context",
      "the build context has a `.dockerignore`")
def dy1004(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    ignore = _ignore(ctx)
    if ignore is not None and ignore.path is None:
        yield 1


@rule("DY1005", _W, ".dockerignore does not exclude .git", "`.dockerignore` excludes `.git`")
def dy1005(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    ignore = _ignore(ctx)
    if ignore is not None and ignore.path is not None and not ignore.matches(".git"):
        yield 1


@rule("DY1006", _W, "Node project: .dockerignore does not exclude node_modules",
      "for a Node project (package.json), `.dockerignore` excludes `node_modules`")
def dy1006(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    ignore = _ignore(ctx)
    if ignore is None or ctx.context_dir is None or not (ctx.context_dir / "package.json").is_file():
        return
    if ignore.path is None or not ignore.matches("node_modules"):
        yield 1


def _copies_everything(inst: CopyInstruction) -> bool:
    return inst.from_stage is None and any(drop_quotes(s) in _WHOLE_CONTEXT for s in inst.sources)


@rule("DY1007", _W, "COPY of the whole context before the dependency install: every source change re-installs "
      "the dependencies", "dependency manifests are copied and installed before `COPY . .`")
def dy1007(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[Hit]:
    whole: CopyInstruction | None = None
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            whole = None
        elif isinstance(inst, CopyInstruction) and whole is None and _copies_everything(inst):
            whole = inst
        elif isinstance(inst, RunInstruction) and whole is not None:
            step = dependency_step(ctx.script(inst))
            if step is not None:
                yield Hit(whole.start_line, f"COPY of the whole context before `{step}` (line {inst.start_line}): "
                                            "copy the dependency manifests first, install, then copy the rest")
                whole = None


#: Official images with a `-slim` variant (tags `X-slim`, or `slim` alone).
_SLIM = frozenset({"debian", "python", "node", "ruby", "perl", "rust", "openjdk"})
_LEAN_MARKERS = ("slim", "alpine", "distroless", "windowsservercore", "nanoserver", "busybox", "musl")


@rule("DY1012", _I, "Large generic base image where a slim variant exists",
      "the final stage of debian/python/node/ruby/perl/rust uses the `-slim` (or alpine) variant")
def dy1012(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[Hit]:
    head, _ = final_stage(instructions)
    if head is None:
        return
    image = ImageName.parse(head.image)
    if image.is_variable or not image.is_official or image.basename not in _SLIM:
        return
    tag = image.tag or "latest"
    if any(m in tag for m in _LEAN_MARKERS):
        return
    slim = "slim" if tag == "latest" else f"{tag}-slim"
    if image.basename == "python" and "-" in tag:  # python:3.12-bookworm -> python:3.12-slim-bookworm
        version, _, distro = tag.partition("-")
        slim = f"{version}-slim-{distro}"
    yield Hit(head.start_line, f"`{image.basename}:{tag}` is a large generic image: use "
                               f"`{image.basename}:{slim}` for the final stage")


RULES: tuple[FunctionRule, ...] = (dy1004, dy1005, dy1006, dy1007, dy1012)
