"""Variable expansion with BuildKit's scoping: each stage's instructions with `$VAR`s resolved where the builder does.

Expanded (`ProcessWord`): ADD, COPY (sources, dest, --chown, --chmod, --checksum, --exclude, heredoc bodies
with unquoted delimiters), ENV and LABEL keys and values, ARG defaults, EXPOSE (split into words), USER, WORKDIR,
VOLUME, STOPSIGNAL, RUN `--mount` values, FROM image and `--platform` (global scope only). Not expanded: RUN, CMD,
ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER (the shell or a later build does that), and COPY
--from (BuildKit looks the stage up by the literal text; use `FROM $IMAGE AS alias` instead).

Scopes: a stage starts with its base image's environment (`base_env`) or, for `FROM <stage>`, the parent stage's
variables and ARGs; `ARG` adds a build arg value (`--build-arg`, else the automatic platform value for TARGETARCH
and friends, else its default, else the global ARG of that name); `ENV` adds an environment variable; the latest
assignment of a name wins, as in BuildKit's LLB state.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from dockyard.dockerfile.errors import DockerfileSyntaxError
from dockyard.dockerfile.instructions import (
    AddInstruction,
    AnyInstruction,
    ArgDecl,
    ArgInstruction,
    CopyInstruction,
    EnvInstruction,
    ExposeInstruction,
    KeyValue,
    LabelInstruction,
    RunInstruction,
    StopsignalInstruction,
    UserInstruction,
    VolumeInstruction,
    WorkdirInstruction,
)
from dockyard.dockerfile.lexer import ShellLex
from dockyard.dockerfile.model import Dockerfile, Stage
from dockyard.dockerfile.mounts import parse_mount
from dockyard.dockerfile.scope import (
    EMPTY,
    PLATFORM_ARGS,
    PROXY_ARGS,
    BuildOptions,
    GlobalScope,
    expand_or_raise,
    frozen,
    global_scope,
)
from dockyard.dockerfile.syntax import Heredoc

#: Given a base image reference (expanded), its config `Env` as a mapping (the builder reads the image config).
BaseEnv = Callable[[str], Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class ResolvedInstruction:
    """An instruction with its words expanded; `variables` is the scope it ran in (RUN's environment)."""

    instruction: AnyInstruction
    parsed: AnyInstruction
    variables: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ResolvedStage:
    """A stage with its base and instructions expanded.

    `base` is the expanded FROM image text; `base_stage` the index of the stage it builds on (FROM <stage>),
    else None; `variables` and `args` are the scope at the end of the stage (a child stage starts from them).
    """

    stage: Stage
    base: str
    base_stage: int | None
    platform: str | None
    instructions: tuple[ResolvedInstruction, ...]
    variables: Mapping[str, str]
    args: Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class Resolution:
    """Every requested stage resolved; `unused_build_args` were given but declared by no ARG (BuildKit warns)."""

    globals: GlobalScope
    stages: tuple[ResolvedStage, ...]
    unused_build_args: tuple[str, ...]
    proxy_env: Mapping[str, str]

    def stage(self, index: int) -> ResolvedStage:
        for resolved in self.stages:
            if resolved.stage.index == index:
                return resolved
        raise KeyError(index)


class _StageExpander:
    """Walks one stage's instructions, keeping the variable scope as BuildKit's dispatcher does."""

    def __init__(self, dockerfile: Dockerfile, options: BuildOptions, scope: GlobalScope,
                 variables: Mapping[str, str], args: Mapping[str, str | None]) -> None:
        self.lex = ShellLex(dockerfile.escape)
        self.raw_lex = ShellLex("\\", skip_quotes=True)
        self.options, self.scope = options, scope
        self.vars = dict(variables)
        self.args = dict(args)
        self.line = 0

    def word(self, text: str) -> str:
        return expand_or_raise(self.lex, text, self.vars, self.line)

    def opt(self, text: str | None) -> str | None:
        return None if text is None else self.word(text)

    def words(self, text: str) -> tuple[str, ...]:
        try:
            return self.lex.words(text, self.vars)
        except DockerfileSyntaxError as err:
            raise DockerfileSyntaxError(err.reason, line=self.line) from None

    def heredoc(self, doc: Heredoc) -> Heredoc:
        if not doc.expand:
            return doc
        return replace(doc, content=expand_or_raise(self.raw_lex, doc.content, self.vars, self.line))

    def step(self, inst: AnyInstruction) -> ResolvedInstruction:
        self.line = inst.start_line
        before = frozen(self.vars)
        expanded = self.expand(inst)
        if isinstance(expanded, EnvInstruction):
            self.vars.update((p.key, p.value) for p in expanded.pairs)
        elif isinstance(expanded, ArgInstruction):
            for decl in expanded.args:
                self.args[decl.name] = decl.default
                if decl.default is not None:
                    self.vars[decl.name] = decl.default
        return ResolvedInstruction(expanded, inst, before)

    def expand(self, inst: AnyInstruction) -> AnyInstruction:
        if isinstance(inst, (EnvInstruction, LabelInstruction)):
            return replace(inst, pairs=tuple(KeyValue(self.word(p.key), self.word(p.value)) for p in inst.pairs))
        if isinstance(inst, ArgInstruction):
            return replace(inst, args=tuple(self.arg(d) for d in inst.args))
        if isinstance(inst, CopyInstruction):
            return replace(inst, sources=tuple(map(self.word, inst.sources)), dest=self.word(inst.dest),
                           chown=self.opt(inst.chown), chmod=self.opt(inst.chmod),
                           excludes=tuple(map(self.word, inst.excludes)),
                           inline_sources=tuple(map(self.heredoc, inst.inline_sources)))
        if isinstance(inst, AddInstruction):
            return replace(inst, sources=tuple(map(self.word, inst.sources)), dest=self.word(inst.dest),
                           chown=self.opt(inst.chown), chmod=self.opt(inst.chmod), checksum=self.opt(inst.checksum),
                           excludes=tuple(map(self.word, inst.excludes)),
                           inline_sources=tuple(map(self.heredoc, inst.inline_sources)))
        if isinstance(inst, ExposeInstruction):
            return replace(inst, ports=tuple(w for p in inst.ports for w in self.words(p)))
        if isinstance(inst, UserInstruction):
            return replace(inst, user=self.word(inst.user))
        if isinstance(inst, WorkdirInstruction):
            return replace(inst, path=self.word(inst.path))
        if isinstance(inst, StopsignalInstruction):
            return replace(inst, signal=self.word(inst.signal))
        if isinstance(inst, VolumeInstruction):
            return replace(inst, paths=tuple(map(self.word, inst.paths)))
        if isinstance(inst, RunInstruction) and inst.mounts:
            try:
                mounts = tuple(parse_mount(m.raw, self.word) for m in inst.mounts)
            except DockerfileSyntaxError as err:
                raise DockerfileSyntaxError(err.reason, line=inst.start_line) from None
            return replace(inst, mounts=mounts)
        return inst

    def arg(self, decl: ArgDecl) -> ArgDecl:
        name = decl.name
        if name in self.options.build_args:
            return ArgDecl(name, self.options.build_args[name])
        if name in PLATFORM_ARGS:
            return ArgDecl(name, self.scope.declared.get(name))
        if decl.default is not None:
            return ArgDecl(name, self.word(decl.default))
        return ArgDecl(name, self.scope.declared.get(name))


def resolve(dockerfile: Dockerfile, options: BuildOptions | None = None, *, base_env: BaseEnv | None = None,
            stages: Collection[int] | None = None) -> Resolution:
    """Expand `stages` (default: all) and every stage they build on (FROM <stage>), in file order.

    `base_env(image)` gives an external base image's environment (default: empty, i.e. not known yet).
    Raises `DockerfileSyntaxError` for a bad substitution or a base that expands to nothing.
    """
    options = options or BuildOptions()
    scope = global_scope(dockerfile, options)
    lex = ShellLex(dockerfile.escape)
    names: dict[str, int] = {}
    bases: list[tuple[str, int | None, str | None]] = []
    for stage in dockerfile.stages:
        line = stage.start_line
        base = expand_or_raise(lex, stage.base, scope.values, line)
        if not base:
            raise DockerfileSyntaxError(f"base name ({stage.base}) should not be blank", line=line)
        platform = expand_or_raise(lex, stage.platform, scope.values, line) if stage.platform else None
        if stage.platform and not platform:
            raise DockerfileSyntaxError(f"empty platform value from expression {stage.platform}", line=line)
        bases.append((base, names.get(base), platform))
        if stage.name:
            names[stage.name] = stage.index
    wanted = set(range(len(dockerfile.stages))) if stages is None else set(stages)
    for index in sorted(wanted, reverse=True):
        parent = bases[index][1]
        while parent is not None and parent not in wanted:
            wanted.add(parent)
            parent = bases[parent][1]
    done: dict[int, ResolvedStage] = {}
    declared: set[str] = {d.name for inst in dockerfile.meta_args for d in inst.args}
    for stage in dockerfile.stages:
        if stage.index not in wanted:
            continue
        base, parent, platform = bases[stage.index]
        if parent is not None:
            variables, args = done[parent].variables, done[parent].args
        else:
            variables, args = (base_env(base) if base_env else EMPTY), {}
        expander = _StageExpander(dockerfile, options, scope, variables, args)
        steps = tuple(expander.step(inst) for inst in stage.instructions)
        declared.update(d.name for s in steps if isinstance(s.instruction, ArgInstruction) for d in s.instruction.args)
        done[stage.index] = ResolvedStage(stage, base, parent, platform, steps, frozen(expander.vars),
                                          frozen_args(expander.args))
    builtin = PROXY_ARGS | set(PLATFORM_ARGS)
    unused = tuple(sorted(k for k in options.build_args if k not in declared and k not in builtin
                          and not k.startswith("BUILDKIT_")))
    proxy = frozen({k: v for k, v in options.build_args.items() if k in PROXY_ARGS})
    return Resolution(scope, tuple(done[i] for i in sorted(done)), unused, proxy)


def frozen_args(args: Mapping[str, str | None]) -> Mapping[str, str | None]:
    return MappingProxyType(dict(args))
