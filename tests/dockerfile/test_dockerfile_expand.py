"""ARG/ENV scoping and which instructions BuildKit expands."""

from __future__ import annotations

import pytest

from dockyard.dockerfile import (
    AddInstruction,
    ArgDecl,
    ArgInstruction,
    BuildOptions,
    CmdInstruction,
    CopyInstruction,
    DockerfileSyntaxError,
    EnvInstruction,
    ExposeInstruction,
    KeyValue,
    LabelInstruction,
    RunInstruction,
    UserInstruction,
    VolumeInstruction,
    WorkdirInstruction,
    global_scope,
    parse,
    platform_args,
    resolve,
)
from dockyard.oci.platform import Platform

AMD64 = Platform.parse("linux/amd64")
ARM64 = Platform.parse("linux/arm64")
ARMV7 = Platform.parse("linux/arm/v7")


def test_dockerfile_platform_args() -> None:
    args = platform_args(ARM64, AMD64)
    assert args == {"BUILDPLATFORM": "linux/amd64", "BUILDOS": "linux", "BUILDARCH": "amd64", "BUILDVARIANT": "",
                    "TARGETPLATFORM": "linux/arm64", "TARGETOS": "linux", "TARGETARCH": "arm64", "TARGETVARIANT": ""}
    assert platform_args(ARMV7, AMD64)["TARGETPLATFORM"] == "linux/arm/v7"
    assert platform_args(ARMV7, AMD64)["TARGETVARIANT"] == "v7"
    assert platform_args(None, AMD64)["TARGETARCH"] == "amd64"


def test_dockerfile_global_args_only_in_from() -> None:
    df = parse("ARG VERSION=3.19\nARG IMAGE=alpine:${VERSION}\nARG EMPTY\n"
               "FROM ${IMAGE} AS base\nRUN echo $VERSION\nLABEL v=$VERSION e=${EMPTY-unset}\n"
               "FROM base\nARG VERSION\nARG EMPTY\nLABEL v=$VERSION e=${EMPTY-unset}\n")
    scope = global_scope(df, BuildOptions())
    assert scope.values["IMAGE"] == "alpine:3.19" and scope.values["EMPTY"] == ""
    assert scope.declared["EMPTY"] is None
    res = resolve(df)
    base, child = res.stages
    assert base.base == "alpine:3.19" and base.base_stage is None
    label = base.instructions[1].instruction
    assert isinstance(label, LabelInstruction)
    assert label.pairs == (KeyValue("v", ""), KeyValue("e", "unset"))
    assert child.base_stage == 0
    label = child.instructions[2].instruction
    assert isinstance(label, LabelInstruction) and label.pairs == (KeyValue("v", "3.19"), KeyValue("e", "unset"))


def test_dockerfile_from_sees_unset_meta_arg_as_empty() -> None:
    df = parse("ARG TAG\nFROM alpine${TAG:+:$TAG}${TAG-:latest}\n")
    assert resolve(df).stages[0].base == "alpine"
    df = parse("ARG TAG\nFROM alpine${TAG:+:$TAG}\n")
    assert resolve(df, BuildOptions({"TAG": "3"})).stages[0].base == "alpine:3"


def test_dockerfile_build_args_override_defaults() -> None:
    df = parse("ARG A=global\nFROM scratch\nARG A\nARG B=default\nARG C\nENV D=$A-$B-${C:-none}\n")
    res = resolve(df, BuildOptions({"A": "cli", "B": "cli-b", "UNUSED": "x", "HTTP_PROXY": "http://p"}))
    env = res.stages[0].instructions[3].instruction
    assert isinstance(env, EnvInstruction) and env.pairs == (KeyValue("D", "cli-cli-b-none"),)
    assert res.unused_build_args == ("UNUSED",)
    assert dict(res.proxy_env) == {"HTTP_PROXY": "http://p"}
    args = res.stages[0].instructions[0].instruction
    assert isinstance(args, ArgInstruction) and args.args == (ArgDecl("A", "cli"),)


def test_dockerfile_platform_args_need_redeclaring_in_a_stage() -> None:
    df = parse("FROM --platform=$BUILDPLATFORM golang AS build\nRUN x\nCOPY a-$TARGETARCH /\n"
               "ARG TARGETARCH\nCOPY b-$TARGETARCH /\n")
    res = resolve(df, BuildOptions(target_platform=ARM64, build_platform=AMD64))
    stage = res.stages[0]
    assert stage.platform == "linux/amd64"
    first, second = (i.instruction for i in stage.instructions if isinstance(i.instruction, CopyInstruction))
    assert isinstance(first, CopyInstruction) and first.sources == ("a-",)
    assert isinstance(second, CopyInstruction) and second.sources == ("b-arm64",)


def test_dockerfile_env_line_uses_values_from_before_it() -> None:
    df = parse("FROM scratch\nENV A=1\nENV A=2 B=$A\nENV C=$A\n")
    steps = resolve(df).stages[0].instructions
    second, third = steps[1].instruction, steps[2].instruction
    assert isinstance(second, EnvInstruction) and second.pairs == (KeyValue("A", "2"), KeyValue("B", "1"))
    assert isinstance(third, EnvInstruction) and third.pairs == (KeyValue("C", "2"),)
    assert dict(steps[2].variables) == {"A": "2", "B": "1"}


def test_dockerfile_env_overrides_arg_and_last_assignment_wins() -> None:
    df = parse("FROM scratch\nARG V=arg\nENV V=env\nUSER $V\nARG V=again\nUSER $V\n")
    users = [s.instruction for s in resolve(df).stages[0].instructions if isinstance(s.instruction, UserInstruction)]
    assert [u.user for u in users if isinstance(u, UserInstruction)] == ["env", "again"]


def test_dockerfile_child_stage_inherits_env_and_args() -> None:
    df = parse("FROM scratch AS base\nARG A=1\nENV E=2\nFROM base AS child\nRUN x\nWORKDIR /$A/$E\n"
               "FROM scratch\nWORKDIR /${A:-none}/${E:-none}\n")
    res = resolve(df)
    child_workdir = res.stages[1].instructions[1].instruction
    other_workdir = res.stages[2].instructions[0].instruction
    assert isinstance(child_workdir, WorkdirInstruction) and child_workdir.path == "/1/2"
    assert isinstance(other_workdir, WorkdirInstruction) and other_workdir.path == "/none/none"
    assert dict(res.stages[1].instructions[0].variables) == {"A": "1", "E": "2"}


def test_dockerfile_base_image_env_is_the_starting_scope() -> None:
    df = parse("FROM python:3.12\nENV PATH=/venv/bin:$PATH\n")
    res = resolve(df, base_env=lambda image: {"PATH": "/usr/bin"} if image == "python:3.12" else {})
    env = res.stages[0].instructions[0].instruction
    assert isinstance(env, EnvInstruction) and env.pairs == (KeyValue("PATH", "/venv/bin:/usr/bin"),)


def test_dockerfile_what_is_and_is_not_expanded() -> None:
    df = parse("FROM scratch\nARG D=/data P=8080 U=app\n"
               "RUN echo $D\nCMD echo $D\nCOPY --chown=$U:$U --chmod=${MODE:-644} src$D $D/\n"
               "ARG SUM\nADD --checksum=$SUM x $D\nEXPOSE $P ${P}/udp\nVOLUME $D\nWORKDIR $D\nUSER $U\n"
               "RUN --mount=type=cache,target=$D/cache true\nLABEL \"$U\"=\"$D x\"\n"
               "COPY <<EOF <<'RAW' $D/\n$U 'q'\nEOF\n$U\nRAW\n")
    steps = [s.instruction for s in resolve(df, BuildOptions({"SUM": "sha256:1"})).stages[0].instructions]
    run, cmd, copy, _, add, expose, volume, workdir, user, mount_run, label, heredoc_copy = steps[1:]
    assert isinstance(run, RunInstruction) and run.command.text == "echo $D"
    assert isinstance(cmd, CmdInstruction) and cmd.command.text == "echo $D"
    assert isinstance(copy, CopyInstruction)
    assert (copy.chown, copy.chmod, copy.sources, copy.dest) == ("app:app", "644", ("src/data",), "/data/")
    assert isinstance(add, AddInstruction) and (add.checksum, add.dest) == ("sha256:1", "/data")
    assert isinstance(expose, ExposeInstruction) and expose.ports == ("8080", "8080/udp")
    assert isinstance(volume, VolumeInstruction) and volume.paths == ("/data",)
    assert isinstance(workdir, WorkdirInstruction) and workdir.path == "/data"
    assert isinstance(user, UserInstruction) and user.user == "app"
    assert isinstance(mount_run, RunInstruction) and mount_run.mounts[0].target == "/data/cache"
    assert isinstance(label, LabelInstruction) and label.pairs == (KeyValue("app", "/data x"),)
    assert isinstance(heredoc_copy, CopyInstruction)
    expanded, raw = heredoc_copy.inline_sources
    assert expanded.content == "app 'q'\n" and raw.content == "$U\n"


def test_dockerfile_expansion_errors_carry_the_line() -> None:
    df = parse("FROM scratch\nARG X\nWORKDIR ${X:?X is required}\n")
    with pytest.raises(DockerfileSyntaxError, match="X is required") as info:
        resolve(df)
    assert info.value.line == 3
    with pytest.raises(DockerfileSyntaxError, match="base name") as info:
        resolve(parse("ARG IMG\nFROM $IMG\n"))
    assert info.value.line == 2
    with pytest.raises(DockerfileSyntaxError, match="mode"):
        resolve(parse("FROM scratch\nARG M=x\nRUN --mount=type=cache,target=/c,mode=$M true\n"))


def test_dockerfile_resolve_selected_stages_pulls_in_their_bases() -> None:
    df = parse("FROM scratch AS a\nENV A=1\nFROM a AS b\nFROM scratch AS c\nFROM b AS d\n")
    res = resolve(df, stages=[3])
    assert [s.stage.index for s in res.stages] == [0, 1, 3]
    assert res.stage(3).base_stage == 1 and dict(res.stage(3).variables) == {"A": "1"}


def test_dockerfile_platform_arg_defaults_are_only_fallbacks() -> None:
    df = parse("ARG TARGETARCH=amd64\nFROM img-$TARGETARCH\nARG TARGETARCH=riscv\nUSER $TARGETARCH\n")
    res = resolve(df, BuildOptions(target_platform=ARM64))
    user = res.stages[0].instructions[1].instruction
    assert res.stages[0].base == "img-arm64" and isinstance(user, UserInstruction) and user.user == "arm64"
    forced = resolve(df, BuildOptions({"TARGETARCH": "s390x"}, target_platform=ARM64))
    assert forced.stages[0].base == "img-s390x"
