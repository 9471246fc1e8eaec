"""The stage graph: which stage needs which (`FROM <stage>`, `COPY --from`, `RUN --mount from=`) and build plans.

BuildKit's rules: `FROM name` refers to a stage defined earlier (after ARG expansion), otherwise it is an image;
`--from=` takes a stage name (case-insensitive, the last stage of that name), a stage index, or an image;
a stage may only use stages defined before it; circular references are an error even in unused stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dockyard.dockerfile.errors import StageError
from dockyard.dockerfile.instructions import CopyInstruction, RunInstruction
from dockyard.dockerfile.lexer import ShellLex
from dockyard.dockerfile.model import Dockerfile
from dockyard.dockerfile.scope import BuildOptions, expand_or_raise, global_scope


class DependencyKind(StrEnum):
    """How a stage uses another stage or an image."""

    BASE = "from"
    COPY = "copy"
    MOUNT = "mount"


@dataclass(frozen=True, slots=True)
class Dependency:
    """One use: `ref` as written (expanded for FROM), `stage` the index it resolves to (None: an image)."""

    kind: DependencyKind
    ref: str
    line: int
    stage: int | None


@dataclass(frozen=True, slots=True)
class StageNode:
    """A stage in the graph: `name` lower-cased (None when unnamed), `base` the expanded FROM image text."""

    index: int
    name: str | None
    base: str
    dependencies: tuple[Dependency, ...]

    @property
    def label(self) -> str:
        """BuildKit's name for messages: the stage name or `stage-N`."""
        return self.name or f"stage-{self.index}"

    @property
    def stage_dependencies(self) -> frozenset[int]:
        return frozenset(d.stage for d in self.dependencies if d.stage is not None)

    @property
    def images(self) -> tuple[str, ...]:
        """External images this stage needs (its base unless it is a stage or `scratch`, `--from` images)."""
        seen: list[str] = []
        for dep in self.dependencies:
            if dep.stage is None and dep.ref != "scratch" and dep.ref not in seen:
                seen.append(dep.ref)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class BuildPlan:
    """What building `target` takes: `order` lists the stages to build (dependencies first, by index);
    `levels` groups them so that each level needs only earlier levels (stages within a level can run in parallel).
    """

    target: int
    order: tuple[int, ...]
    levels: tuple[tuple[int, ...], ...]


def _index(ref: str) -> int | None:
    """`strconv.Atoi`: an optional sign then decimal digits."""
    body = ref[1:] if ref[:1] in "+-" else ref
    return int(ref) if body.isascii() and body.isdigit() else None


class StageGraph:
    """The dependency graph of a Dockerfile's stages (see the module docstring for the rules)."""

    def __init__(self, nodes: tuple[StageNode, ...], unstaged_line: int | None = None) -> None:
        self.nodes = nodes
        #: The line of the first non-ARG instruction before any FROM (BuildKit cannot build such a file).
        self.unstaged_line = unstaged_line

    @classmethod
    def build(cls, dockerfile: Dockerfile, options: BuildOptions | None = None) -> StageGraph:
        """Build the graph; FROM lines are expanded with the global ARGs of `options` (default: this host)."""
        scope = global_scope(dockerfile, options or BuildOptions())
        lex = ShellLex(dockerfile.escape)
        count = len(dockerfile.stages)
        final_names = {s.name: s.index for s in dockerfile.stages if s.name}
        names: dict[str, int] = {}
        nodes: list[StageNode] = []
        for stage in dockerfile.stages:
            base = expand_or_raise(lex, stage.base, scope.values, stage.start_line)
            deps = [Dependency(DependencyKind.BASE, base, stage.start_line, names.get(base))]
            for inst in stage.instructions:
                refs: list[tuple[DependencyKind, str]] = []
                if isinstance(inst, CopyInstruction) and inst.from_stage:
                    refs.append((DependencyKind.COPY, inst.from_stage))
                elif isinstance(inst, RunInstruction):
                    refs += [(DependencyKind.MOUNT, m.from_stage) for m in inst.mounts if m.from_stage]
                for kind, ref in refs:
                    index = _index(ref)
                    if index is not None and not 0 <= index < count:
                        raise StageError(f"invalid stage index {index}", line=inst.start_line)
                    target = index if index is not None else final_names.get(ref.lower())
                    deps.append(Dependency(kind, ref, inst.start_line, target))
            nodes.append(StageNode(stage.index, stage.name, base, tuple(deps)))
            if stage.name:
                names[stage.name] = stage.index
        return cls(tuple(nodes), dockerfile.unstaged[0].start_line if dockerfile.unstaged else None)

    def find(self, target: str | int | None = None) -> StageNode:
        """The stage `target` names (name or index); None means the last stage, as `--target` defaults."""
        if not self.nodes:
            raise StageError("the Dockerfile has no build stage (no FROM instruction)")
        if target is None:
            return self.nodes[-1]
        if isinstance(target, int) or target.isdigit():
            if 0 <= int(target) < len(self.nodes):
                return self.nodes[int(target)]
        else:
            for node in reversed(self.nodes):
                if node.name == target.lower():
                    return node
        known = ", ".join(n.name for n in self.nodes if n.name) or "none"
        raise StageError(f"target stage {str(target)!r} could not be found", hint=f"named stages: {known}")

    def check_cycles(self) -> None:
        """Raise `StageError` when stages depend on each other in a circle (BuildKit checks every stage)."""
        state: dict[int, int] = {}  # 1 = on the current path, 2 = done

        def visit(index: int) -> None:
            state[index] = 1
            for dep in sorted(self.nodes[index].stage_dependencies):
                if state.get(dep) == 1:
                    raise StageError(f"circular dependency detected on stage: {self.nodes[dep].label}")
                if dep not in state:
                    visit(dep)
            state[index] = 2

        for node in self.nodes:
            if node.index not in state:
                visit(node.index)

    def plan(self, target: str | int | None = None) -> BuildPlan:
        """The minimal set of stages to build `target`, in build order and in parallel levels."""
        if self.unstaged_line is not None:
            raise StageError("no build stage in current context", line=self.unstaged_line,
                             hint="only ARG may come before the first FROM")
        self.check_cycles()
        goal = self.find(target)
        reachable: set[int] = set()
        todo = [goal.index]
        while todo:
            index = todo.pop()
            if index not in reachable:
                reachable.add(index)
                todo.extend(self.nodes[index].stage_dependencies)
        for index in sorted(reachable):
            node = self.nodes[index]
            for dep in node.dependencies:
                if dep.stage is not None and dep.stage >= index:
                    raise StageError(f"cannot use stage {dep.ref!r} in stage {node.label!r}: it needs to be defined "
                                     "before the current stage", line=dep.line)
        level: dict[int, int] = {}
        for index in sorted(reachable):
            level[index] = 1 + max((level[d] for d in self.nodes[index].stage_dependencies), default=-1)
        levels = tuple(tuple(i for i in sorted(reachable) if level[i] == n) for n in range(max(level.values()) + 1))
        return BuildPlan(goal.index, tuple(sorted(reachable)), levels)
