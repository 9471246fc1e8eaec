"""Typed instructions: arguments, flags, mounts and BuildKit's per-instruction checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dockyard.dockerfile import (
    AddInstruction,
    AnyInstruction,
    ArgDecl,
    ArgInstruction,
    CmdInstruction,
    CopyInstruction,
    DockerfileSyntaxError,
    EntrypointInstruction,
    EnvInstruction,
    ExposeInstruction,
    FromInstruction,
    HealthcheckInstruction,
    KeyValue,
    Keyword,
    LabelInstruction,
    MaintainerInstruction,
    MountType,
    OnbuildInstruction,
    RunInstruction,
    ShellInstruction,
    StopsignalInstruction,
    UserInstruction,
    VolumeInstruction,
    WorkdirInstruction,
    parse,
)


def one(text: str) -> AnyInstruction:
    """The instruction after `FROM scratch`."""
    return parse("FROM scratch\n" + text).instructions[1]


def test_dockerfile_from() -> None:
    df = parse("FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\nFROM build\nFROM alpine@sha256:ab\n")
    first, second, _ = df.instructions
    assert isinstance(first, FromInstruction)
    assert (first.image, first.alias, first.stage_name, first.platform) == (
        "golang:1.22", "Build", "build", "$BUILDPLATFORM")
    assert first.flag("platform") == "$BUILDPLATFORM"
    assert isinstance(second, FromInstruction) and second.stage_name is None
    assert [s.ref for s in df.stages] == ["build", "1", "2"]
    assert df.stage("BUILD") is df.stages[0] and df.stage(2) is df.stages[2]
    with pytest.raises(KeyError):
        df.stage("nope")


@pytest.mark.parametrize(("text", "message"), [
    ("FROM a b\n", "FROM requires either one or three arguments"),
    ("FROM a AS 1x\n", "invalid name for build stage"),
    ("FROM a AS b c\n", "FROM requires either one or three arguments"),
    ("FROM --platform a\n", "missing a value on flag: platform"),
    ("FROM --foo=1 a\n", "unknown flag: foo"),
])
def test_dockerfile_from_errors(text: str, message: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match=message):
        parse(text)


def test_dockerfile_run_flags_and_mounts() -> None:
    run = one("RUN --mount=type=cache,target=/root/.cache,sharing=locked,id=pip \\\n"
              "    --mount=type=secret,id=tok,env=TOKEN,required \\\n"
              "    --mount=from=builder,source=/out,target=/in,rw \\\n"
              "    --mount=type=bind,target=$HOME/x,mode=$M \\\n"
              "    --network=none --security=insecure pip install x\n")
    assert isinstance(run, RunInstruction)
    assert run.command.text == "pip install x" and not run.command.exec_form
    cache, secret, bind, deferred = run.mounts
    assert (cache.type, cache.target, cache.sharing, cache.id, cache.readonly) == (
        MountType.CACHE, "/root/.cache", "locked", "pip", False)
    assert (secret.type, secret.env, secret.required, secret.readonly) == (MountType.SECRET, "TOKEN", True, True)
    assert (bind.type, bind.from_stage, bind.source, bind.readonly) == (MountType.BIND, "builder", "/out", False)
    assert (deferred.target, deferred.mode) == ("$HOME/x", None)
    assert (run.network, run.security) == ("none", "insecure")
    assert len(run.flag_values("mount")) == 4


@pytest.mark.parametrize(("mount", "message"), [
    ("type=nope,target=/x", "unsupported mount type"),
    ("type=cache,target=/x,sharing=everyone", "unsupported sharing value"),
    ("type=bind,target=/x,mode=0755", "mode/uid/gid not allowed"),
    ("type=secret,from=x,id=a", "secret mount should not have a from"),
    ("type=secret", "one of source, target required"),
    ("target=/x,bogus=1", "unexpected key 'bogus'"),
    ("target=/x,readonly=maybe", "invalid value for readonly"),
    ("type=bind,target=/x,required", "unexpected key 'required'"),
    ("from=$STAGE,target=/x", "doesn't support variable expansion"),
    ("type=cache,target=/x,flag", "must be a key=value pair"),
])
def test_dockerfile_bad_mounts(mount: str, message: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match=message) as info:
        one(f"RUN --mount={mount} true\n")
    assert info.value.line == 2


@pytest.mark.parametrize(("flags", "message"), [
    ("--network=bridge", "unsupported network mode"),
    ("--security=root", "unsupported security mode"),
    ("--mount", "missing a value on flag: mount"),
    ("--link", "unknown flag: link"),
])
def test_dockerfile_bad_run_flags(flags: str, message: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match=message):
        one(f"RUN {flags} true\n")


def test_dockerfile_copy_and_add() -> None:
    copy = one("COPY --from=0 --chown=app:app --chmod=0644 --link --parents --exclude=*.md --exclude=x "
               "a b /dst/\n")
    assert isinstance(copy, CopyInstruction)
    assert (copy.sources, copy.dest, copy.from_stage, copy.chown, copy.chmod) == (
        ("a", "b"), "/dst/", "0", "app:app", "0644")
    assert (copy.link, copy.parents, copy.excludes) == (True, True, ("*.md", "x"))
    json_copy = one('COPY ["a b", "/c d/"]\n')
    assert isinstance(json_copy, CopyInstruction) and json_copy.json and json_copy.sources == ("a b",)
    add = one("ADD --checksum=sha256:24454f8 --keep-git-dir=true --unpack=false --link=false "
              "https://example.com/x.tgz git@github.com:a/b.git /opt/\n")
    assert isinstance(add, AddInstruction)
    assert (add.checksum, add.keep_git_dir, add.unpack, add.link) == ("sha256:24454f8", True, False, False)
    assert add.sources == ("https://example.com/x.tgz", "git@github.com:a/b.git")
    assert isinstance(one("ADD a /b\n"), AddInstruction) and one("ADD a /b\n").unpack is None  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "message"), [
    ("COPY onlyone\n", "COPY requires at least two arguments"),
    ("ADD x\n", "ADD requires at least two arguments"),
    ("COPY a <<EOF\nx\nEOF\n", "COPY cannot accept a heredoc as a destination"),
    ("COPY --from=a --from=b x y\n", "duplicate flag specified: from"),
    ("COPY --link=maybe x y\n", "expecting boolean value for flag link"),
    ("COPY --checksum=x a b\n", "unknown flag: checksum"),
    ("ADD --from=x a b\n", "unknown flag: from"),
])
def test_dockerfile_copy_add_errors(text: str, message: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match=message):
        one(text)


def test_dockerfile_env_label_arg() -> None:
    env = one('ENV A=1 B="two words" C=three\\ words\n')
    assert isinstance(env, EnvInstruction) and not env.legacy
    assert env.pairs == (KeyValue("A", "1"), KeyValue("B", '"two words"'), KeyValue("C", "three\\ words"))
    legacy = one("ENV PATH /usr/local/bin:$PATH\n")
    assert isinstance(legacy, EnvInstruction) and legacy.legacy
    assert legacy.pairs == (KeyValue("PATH", "/usr/local/bin:$PATH"),)
    label = one('LABEL org.opencontainers.image.title="x y" version=1\n')
    assert isinstance(label, LabelInstruction) and label.pairs[0] == KeyValue("org.opencontainers.image.title", '"x y"')
    arg = one('ARG A B=2 C="x y" D=\n')
    assert isinstance(arg, ArgInstruction)
    assert arg.args == (ArgDecl("A", None), ArgDecl("B", "2"), ArgDecl("C", '"x y"'), ArgDecl("D", ""))


@pytest.mark.parametrize(("text", "message"), [
    ("ENV\n", "ENV requires at least one argument"),
    ("ENV A=1 B\n", "can't find = in \"B\""),
    ("ENV =1\n", "ENV names can not be blank"),
    ("LABEL onlykey\n", "LABEL must have two arguments"),
    ("ARG\n", "ARG requires at least one argument"),
    ("ARG =x\n", "ARG names can not be blank"),
])
def test_dockerfile_env_label_arg_errors(text: str, message: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match=message):
        one(text)


def test_dockerfile_simple_instructions() -> None:
    df = parse("FROM scratch\nUSER app:staff\nWORKDIR /srv\nEXPOSE 80/tcp 53/udp\nVOLUME /a /b\n"
               'VOLUME ["/c"]\nSTOPSIGNAL SIGQUIT\nMAINTAINER Jane <j@x>\nSHELL ["bash", "-o", "pipefail", "-c"]\n'
               "CMD echo hi\nENTRYPOINT []\n")
    user, workdir, expose, vol, vol_json, stop, maint, shell, cmd, entry = df.instructions[1:]
    assert isinstance(user, UserInstruction) and (user.name, user.group) == ("app", "staff")
    assert isinstance(workdir, WorkdirInstruction) and workdir.path == "/srv"
    assert isinstance(expose, ExposeInstruction) and expose.ports == ("80/tcp", "53/udp")
    assert isinstance(vol, VolumeInstruction) and vol.paths == ("/a", "/b") and not vol.json
    assert isinstance(vol_json, VolumeInstruction) and vol_json.paths == ("/c",) and vol_json.json
    assert isinstance(stop, StopsignalInstruction) and stop.signal == "SIGQUIT"
    assert isinstance(maint, MaintainerInstruction) and maint.maintainer == "Jane <j@x>"
    assert isinstance(shell, ShellInstruction) and shell.shell == ("bash", "-o", "pipefail", "-c")
    assert isinstance(cmd, CmdInstruction) and cmd.command.args == ("echo hi",)
    assert isinstance(entry, EntrypointInstruction) and entry.command.args == () and entry.command.exec_form
    assert [i.keyword for i in df.instructions][1:3] == [Keyword.USER, Keyword.WORKDIR]


@pytest.mark.parametrize(("text", "message"), [
    ("USER\n", "USER requires exactly one argument"),
    ("WORKDIR\n", "WORKDIR requires exactly one argument"),
    ("EXPOSE\n", "EXPOSE requires at least one argument"),
    ('VOLUME [""]\n', "VOLUME specified can not be an empty string"),
    ("SHELL bash -c\n", "SHELL requires the arguments to be in JSON form"),
    ("SHELL []\n", "SHELL requires at least one argument"),
    ("STOPSIGNAL\n", "STOPSIGNAL requires exactly one argument"),
    ("USER --x=1 a\n", "unknown flag: x"),
])
def test_dockerfile_simple_instruction_errors(text: str, message: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match=message):
        one(text)


def test_dockerfile_healthcheck() -> None:
    hc = one("HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=0s --retries=3 CMD curl -f http://x/\n")
    assert isinstance(hc, HealthcheckInstruction)
    assert hc.test == ("CMD-SHELL", "curl -f http://x/")
    assert (hc.interval, hc.timeout, hc.start_period, hc.retries) == (
        timedelta(seconds=90), timedelta(milliseconds=500), timedelta(0), 3)
    exec_form = one('HEALTHCHECK CMD ["/bin/check", "-q"]\n')
    assert isinstance(exec_form, HealthcheckInstruction) and exec_form.test == ("CMD", "/bin/check", "-q")
    none = one("HEALTHCHECK NONE\n")
    assert isinstance(none, HealthcheckInstruction) and none.test == ("NONE",) and none.command is None


@pytest.mark.parametrize(("text", "message"), [
    ("HEALTHCHECK\n", "HEALTHCHECK requires at least one argument"),
    ("HEALTHCHECK NONE x\n", "HEALTHCHECK NONE takes no arguments"),
    ("HEALTHCHECK CONNECT TCP 7000\n", 'Unknown type "CONNECT"'),
    ("HEALTHCHECK CMD\n", "Missing command after HEALTHCHECK CMD"),
    ("HEALTHCHECK --interval=1x CMD a\n", "invalid duration"),
    ("HEALTHCHECK --interval=1ns CMD a\n", "cannot be less than 1ms"),
    ("HEALTHCHECK --retries=-1 CMD a\n", "--retries cannot be negative"),
    ("HEALTHCHECK --retries=x CMD a\n", "invalid syntax"),
])
def test_dockerfile_healthcheck_errors(text: str, message: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match=message):
        one(text)


def test_dockerfile_onbuild() -> None:
    ob = one("ONBUILD COPY --chown=1 . /app\n")
    assert isinstance(ob, OnbuildInstruction) and ob.expression == "COPY --chown=1 . /app"
    assert isinstance(ob.trigger, CopyInstruction) and ob.trigger.chown == "1" and ob.trigger.start_line == 2
    heredoc = one("onbuild RUN <<EOF\necho\nEOF\n")
    assert isinstance(heredoc, OnbuildInstruction) and heredoc.expression == "RUN <<EOF\necho\nEOF"
    for bad, message in (("ONBUILD ONBUILD RUN x\n", "Chaining ONBUILD"), ("ONBUILD FROM x\n", "isn't allowed"),
                         ("ONBUILD\n", "ONBUILD requires at least one argument"),
                         ("ONBUILD FOO x\n", "unknown instruction: FOO")):
        with pytest.raises(DockerfileSyntaxError, match=message):
            one(bad)


def test_dockerfile_stages_and_unstaged_instructions() -> None:
    df = parse("ARG V=1\nARG W\nLABEL early=1\nFROM a:$V AS one\nRUN x\nFROM one\nCOPY --from=one / /\n")
    assert [a.args[0].name for a in df.meta_args] == ["V", "W"]
    assert [i.keyword for i in df.unstaged] == [Keyword.LABEL]
    first, second = df.stages
    assert (first.index, first.name, first.base, first.start_line, first.end_line) == (0, "one", "a:$V", 4, 5)
    assert [i.keyword for i in second.instructions] == [Keyword.COPY]
    assert len(df.instructions) == 7 and df.line(4) == "FROM a:$V AS one"
