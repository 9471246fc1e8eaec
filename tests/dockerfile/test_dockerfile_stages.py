"""The stage graph: dependencies, `--target` plans, parallel levels and BuildKit's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.dockerfile import BuildOptions, DependencyKind, StageError, StageGraph, parse, parse_file
from dockyard.oci.platform import Platform

MULTI = """\
ARG GO=1.22
FROM golang:${GO} AS deps
RUN go mod download
FROM deps AS build
RUN go build
FROM deps AS test
RUN go test
FROM alpine:3.19 AS certs
RUN apk add ca-certificates
FROM scratch AS release
COPY --from=build /out/app /app
COPY --from=certs /etc/ssl /etc/ssl
RUN --mount=type=bind,from=2,target=/t --mount=from=busybox:1.36,target=/bb true
FROM release
"""


def test_dockerfile_graph_dependencies() -> None:
    graph = StageGraph.build(parse(MULTI))
    deps, build, test, certs, release, last = graph.nodes
    assert deps.base == "golang:1.22" and deps.images == ("golang:1.22",)
    assert build.stage_dependencies == {0} and test.stage_dependencies == {0}
    assert certs.stage_dependencies == frozenset() and certs.images == ("alpine:3.19",)
    assert release.stage_dependencies == {1, 2, 3}
    assert [(d.kind, d.ref, d.stage) for d in release.dependencies] == [
        (DependencyKind.BASE, "scratch", None), (DependencyKind.COPY, "build", 1), (DependencyKind.COPY, "certs", 3),
        (DependencyKind.MOUNT, "2", 2), (DependencyKind.MOUNT, "busybox:1.36", None)]
    assert release.images == ("busybox:1.36",)
    assert last.stage_dependencies == {4} and last.label == "stage-5"


def test_dockerfile_plan_for_targets() -> None:
    graph = StageGraph.build(parse(MULTI))
    default = graph.plan()
    assert default.target == 5 and default.order == (0, 1, 2, 3, 4, 5)
    assert default.levels == ((0, 3), (1, 2), (4,), (5,))
    assert graph.plan("build").order == (0, 1)
    assert graph.plan("CERTS").order == (3,)
    assert graph.plan(2).levels == ((0,), (2,))


def test_dockerfile_unknown_target() -> None:
    with pytest.raises(StageError, match="target stage 'nope' could not be found") as info:
        StageGraph.build(parse(MULTI)).plan("nope")
    assert "build" in (info.value.hint or "")


def test_dockerfile_from_refers_only_to_earlier_stages() -> None:
    graph = StageGraph.build(parse("FROM later AS first\nFROM alpine AS later\n"))
    assert graph.nodes[0].stage_dependencies == frozenset() and graph.nodes[0].images == ("later",)


def test_dockerfile_from_uses_expanded_global_args() -> None:
    df = parse("ARG TARGETOS\nFROM scratch AS bin-linux\nFROM scratch AS bin-darwin\nFROM bin-$TARGETOS\n")
    linux = StageGraph.build(df, BuildOptions(target_platform=Platform.parse("linux/amd64")))
    assert linux.nodes[2].stage_dependencies == {0}
    darwin = StageGraph.build(df, BuildOptions(target_platform=Platform("darwin", "arm64")))
    assert darwin.nodes[2].stage_dependencies == {1}


def test_dockerfile_circular_and_forward_references() -> None:
    cycle = parse("FROM scratch AS a\nCOPY --from=b / /\nFROM scratch AS b\nCOPY --from=a / /\n")
    with pytest.raises(StageError, match="circular dependency detected"):
        StageGraph.build(cycle).plan("a")
    with pytest.raises(StageError, match="circular dependency detected on stage: a"):
        StageGraph.build(parse("FROM scratch AS a\nCOPY --from=a / /\nFROM scratch\n")).plan()
    forward = parse("FROM scratch AS a\nCOPY --from=b / /\nFROM scratch AS b\n")
    assert StageGraph.build(forward).plan("b").order == (1,)
    with pytest.raises(StageError, match="needs to be defined before") as info:
        StageGraph.build(forward).plan("a")
    assert info.value.line == 2
    with pytest.raises(StageError, match="invalid stage index 7"):
        StageGraph.build(parse("FROM scratch\nCOPY --from=7 / /\n"))


def test_dockerfile_duplicate_stage_names_resolve_to_the_last() -> None:
    graph = StageGraph.build(parse("FROM scratch AS x\nFROM scratch AS x\nFROM scratch\nCOPY --from=x / /\n"))
    assert graph.nodes[2].stage_dependencies == {1} and graph.find("x").index == 1


def test_dockerfile_graph_of_real_multistage_files(assets: Path) -> None:
    buildx = parse_file(assets / "dockerfiles" / "docker_buildx__Dockerfile.Dockerfile")
    graph = StageGraph.build(buildx, BuildOptions(target_platform=Platform.parse("linux/amd64")))
    plan = graph.plan("binaries")
    names = [graph.nodes[i].label for i in plan.order]
    assert names[-1] == "binaries" and "binaries-linux" in names and "buildx-build" in names
    assert "integration-test" not in names
    for level, stages in enumerate(plan.levels):
        for index in stages:
            assert all(dep in {s for lv in plan.levels[:level] for s in lv}
                       for dep in graph.nodes[index].stage_dependencies)
    buildkit = parse_file(assets / "dockerfiles" / "moby_buildkit__Dockerfile.Dockerfile")
    assert StageGraph.build(buildkit).plan().order


def test_dockerfile_unbuildable_files() -> None:
    with pytest.raises(StageError, match="no build stage \\(no FROM"):
        StageGraph.build(parse("ARG A=1\n")).plan()
    graph = StageGraph.build(parse("ARG A=1\nRUN x\nFROM scratch\n"))
    assert len(graph.nodes) == 1
    with pytest.raises(StageError, match="no build stage in current context") as info:
        graph.plan()
    assert info.value.line == 2
