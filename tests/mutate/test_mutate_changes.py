"""`--change` instructions applied to a run config, as `docker import -c` applies them."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument
from dockyard.mutate.changes import apply_change, apply_changes
from dockyard.oci.config import RunConfig


@pytest.mark.parametrize(("change", "field", "value"), [
    ('CMD ["/bin/sh", "-c", "echo hi"]', "cmd", ("/bin/sh", "-c", "echo hi")),
    ("CMD echo hi && exit 0", "cmd", ("/bin/sh", "-c", "echo hi && exit 0")),
    ("cmd []", "cmd", ()),
    ('CMD ["not", 1]', "cmd", ("/bin/sh", "-c", '["not", 1]')),  # not an array of strings: shell form
    ('ENTRYPOINT ["/entry"]', "entrypoint", ("/entry",)),
    ("entrypoint /entry --flag", "entrypoint", ("/bin/sh", "-c", "/entry --flag")),
    ("USER 1000:1000", "user", "1000:1000"),
    ("USER nobody", "user", "nobody"),
    ("WORKDIR /srv/app", "working_dir", "/srv/app"),
    ("STOPSIGNAL SIGQUIT", "stop_signal", "SIGQUIT"),
    ("EXPOSE 80 443/tcp 53/udp", "exposed_ports", ("443/tcp", "53/udp", "80/tcp")),
    ("VOLUME /data /logs", "volumes", ("/data", "/logs")),
    ('VOLUME ["/data", "/with space"]', "volumes", ("/data", "/with space")),
    ('LABEL a=1 "b c"="d e" empty=', "labels", {"a": "1", "b c": "d e", "empty": ""}),
    ("LABEL legacy form value", "labels", {"legacy": "form value"}),
    ('ENV A=1 B="two words" C=x=y', "env", ("A=1", "B=two words", "C=x=y")),
    ("ENV LEGACY spaced value", "env", ("LEGACY=spaced value",)),
])
def test_each_instruction(change: str, field: str, value: object) -> None:
    got = getattr(apply_change(RunConfig(), change), field)
    assert (dict(got) if field == "labels" else got) == value


def test_changes_accumulate_and_override() -> None:
    base = RunConfig(env=("PATH=/bin", "A=old"), labels={"keep": "1"}, exposed_ports=("22/tcp",), volumes=("/v",))
    run = apply_changes(base, ["ENV A=new", "ENV B=2", "LABEL x=y", "EXPOSE 80", "VOLUME /w", "CMD a", "CMD b"])
    assert run.env == ("PATH=/bin", "A=new", "B=2")
    assert dict(run.labels) == {"keep": "1", "x": "y"}
    assert run.exposed_ports == ("22/tcp", "80/tcp") and run.volumes == ("/v", "/w")
    assert run.cmd == ("/bin/sh", "-c", "b")
    assert apply_changes(base, []) == base
    assert base.env == ("PATH=/bin", "A=old")  # values are immutable


@pytest.mark.parametrize("change", [
    "RUN rm -rf /", "FROM scratch", "ADD . /", "HEALTHCHECK NONE", "", "   ",
    "CMD", "ENTRYPOINT   ",
    "ENV", "ENV A", "ENV =x", 'ENV A="unbalanced',
    "LABEL", "LABEL =x",
    "EXPOSE", "EXPOSE http", "EXPOSE 80/tcp abc",
    "VOLUME", "VOLUME []",
    "USER", "USER a b",
    "WORKDIR", "WORKDIR relative/path", "WORKDIR /a /b",
    "STOPSIGNAL",
])
def test_bad_changes(change: str) -> None:
    with pytest.raises(InvalidArgument):
        apply_change(RunConfig(), change)


def test_error_names_the_supported_instructions() -> None:
    with pytest.raises(InvalidArgument, match="CMD, ENTRYPOINT, ENV"):
        apply_change(RunConfig(), "ONBUILD RUN x")
