"""From a Dockerfile and a build request to the stages to build, resolved, in dependency order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dockyard.build.options import BuildRequest
from dockyard.dockerfile import (
    BaseEnv,
    BuildOptions,
    Dockerfile,
    OnbuildInstruction,
    ResolvedStage,
    RunInstruction,
    StageGraph,
    parse_file,
    resolve,
)


@dataclass(frozen=True, slots=True)
class BuildPlan:
    """The stages `target` needs, resolved, in an order where every stage comes after those it uses."""

    dockerfile: Dockerfile
    stages: tuple[ResolvedStage, ...]
    target: int
    levels: tuple[tuple[int, ...], ...]
    unused_build_args: tuple[str, ...]
    needs: Mapping[int, frozenset[int]] = field(default_factory=dict)
    """For every stage to build, the stages it uses (FROM, COPY --from, RUN --mount=from)."""

    @property
    def runs_commands(self) -> bool:
        """Whether any step runs a command (a COPY-only build is reproducible by default)."""
        return any(isinstance(ri.instruction, (RunInstruction, OnbuildInstruction))
                   for stage in self.stages for ri in stage.instructions)

    def stage(self, index: int) -> ResolvedStage:
        for stage in self.stages:
            if stage.stage.index == index:
                return stage
        raise KeyError(index)


def options_for(request: BuildRequest) -> BuildOptions:
    return BuildOptions(build_args=dict(request.build_args), target_platform=request.platform)


def plan(request: BuildRequest, base_env: BaseEnv | None = None) -> BuildPlan:
    """Parse the Dockerfile, pick the stages for `--target` and expand them (ARG/ENV scoping)."""
    dockerfile = parse_file(request.dockerfile_path)
    options = options_for(request)
    graph = StageGraph.build(dockerfile, options)
    chosen = graph.plan(request.target)
    resolution = resolve(dockerfile, options, base_env=base_env, stages=chosen.order)
    order = {index: n for n, index in enumerate(chosen.order)}
    stages = tuple(sorted((s for s in resolution.stages if s.stage.index in order),
                          key=lambda s: order[s.stage.index]))
    needs = {index: frozenset(graph.nodes[index].stage_dependencies) for index in chosen.order}
    return BuildPlan(dockerfile, stages, chosen.target, chosen.levels, resolution.unused_build_args, needs)
