"""Image configs: real buildx and umoci configs, RunConfig null-versus-empty, history, build and evolve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument, InvalidManifest
from dockyard.oci.config import History, ImageConfig, RunConfig
from dockyard.oci.digest import Digest
from dockyard.oci.platform import Platform

DIVE_CONFIG = "oci/dive-oci-gzip/blobs/sha256/3eaccc100f866490f00ae82727b459a737af031dcf44c791d8aa714a70f24959"
DIFF_ID = "sha256:356d5e7f4012d87cb1078ac1f480e90528eec4940ce45c50380321436db38758"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def test_buildx_config(assets: Path) -> None:
    raw = (assets / DIVE_CONFIG).read_bytes()
    c = ImageConfig.parse(raw)
    assert c.raw is raw
    assert str(c.digest) == "sha256:" + DIVE_CONFIG.rsplit("/", 1)[1]
    assert (c.os, c.architecture, c.variant, c.os_version) == ("linux", "arm64", None, None)
    assert c.platform == Platform("linux", "arm64")
    assert c.diff_ids == (Digest.parse(DIFF_ID),)
    assert c.created == "2025-01-26T22:54:00.500849935+01:00"
    assert c.config == RunConfig(env=(PATH_ENV,), working_dir="/")
    assert c.config.cmd is None and c.config.entrypoint is None
    assert c.history == (History(created="2025-01-26T22:54:00.500849935+01:00",
                                 created_by="COPY README.md /README.md # buildkit",
                                 comment="buildkit.dockerfile.v0"),)


def test_umoci_config(assets: Path) -> None:
    c = ImageConfig.parse((assets / "oci/umoci/config.json").read_bytes())
    run = c.config
    assert run.user == "1000:1000"
    assert run.env == ("FOO=bar",)
    assert run.entrypoint == ("/bin/sh",)
    assert run.cmd == ("-c", "echo hi")
    assert run.exposed_ports == ("53/udp", "8080/tcp")
    assert run.volumes == ("/data",)
    assert run.working_dir == "/srv"
    assert run.labels == {"org.example": "yes"}
    assert run.stop_signal == "SIGTERM"
    assert c.author == "tester"
    assert c.diff_ids == ()
    (h,) = c.history
    assert h.empty_layer is True
    assert (h.created_by, h.author) == ("umoci config", "tester")
    # to_json gives back what umoci wrote for these fields.
    assert run.to_json() == json.loads(c.raw)["config"]


def test_cmd_null_differs_from_empty() -> None:
    assert RunConfig.from_json({"Cmd": None}).cmd is None
    assert RunConfig.from_json({}).cmd is None
    assert RunConfig.from_json({"Cmd": []}).cmd == ()
    assert RunConfig.from_json({"Entrypoint": None}).entrypoint is None
    assert RunConfig.from_json({"Entrypoint": []}).entrypoint == ()
    assert RunConfig(cmd=()).to_json() == {"Cmd": []}
    assert RunConfig(cmd=None).to_json() == {}
    assert RunConfig(entrypoint=(), cmd=None).to_json() == {"Entrypoint": []}
    built = ImageConfig.build(Platform("linux", "amd64"), config=RunConfig(entrypoint=("/app",), cmd=()))
    assert b'"Entrypoint":["/app"],"Cmd":[]' in built.raw
    assert built.config.cmd == ()


def test_run_config_null_sections() -> None:
    run = RunConfig.from_json({"Env": None, "Labels": None, "ExposedPorts": None, "Volumes": None, "User": "",
                               "WorkingDir": ""})
    assert run == RunConfig()
    assert RunConfig.from_json(None) == RunConfig()
    assert ImageConfig.parse(b'{"architecture":"amd64","os":"linux","config":null}').config == RunConfig()


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"Env": "A=1"}, "Env"),
        ({"Env": ["A=1", 2]}, "Env"),
        ({"Cmd": "sh"}, "Cmd"),
        ({"Entrypoint": {"a": 1}}, "Entrypoint"),
        ({"Labels": {"a": 1}}, "Labels"),
        ({"Labels": ["a"]}, "Labels"),
        ({"ExposedPorts": ["80/tcp"]}, "ExposedPorts"),
        ({"User": 0}, "User"),
    ],
)
def test_run_config_invalid(obj: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidManifest, match=field):
        RunConfig.from_json(obj)  # type: ignore[arg-type]


def test_env_helpers() -> None:
    run = RunConfig(env=("PATH=/bin", "A=1", "B=x=y", "A=2", "EMPTY="))
    assert run.env_dict() == {"PATH": "/bin", "A": "2", "B": "x=y", "EMPTY": ""}
    changed = run.with_env("B", "new")
    assert changed.env == ("PATH=/bin", "A=1", "A=2", "EMPTY=", "B=new")
    assert run.with_env("C", "3").env[-1] == "C=3"
    assert run.env == ("PATH=/bin", "A=1", "B=x=y", "A=2", "EMPTY=")  # frozen: unchanged
    for bad in ("", "A=B"):
        with pytest.raises(InvalidArgument):
            run.with_env(bad, "1")


def test_history_round_trip() -> None:
    h = History(created="1970-01-01T00:00:00Z", created_by="/bin/sh -c #(nop) CMD [\"sh\"]", author="a",
                comment="c", empty_layer=True)
    assert History.from_json(h.to_json()) == h
    assert History().to_json() == {}
    assert History(created_by="x").to_json() == {"created_by": "x"}  # empty_layer false is omitted
    with pytest.raises(InvalidManifest, match="history"):
        History.from_json(["x"])
    with pytest.raises(InvalidManifest, match="created_by"):
        History.from_json({"created_by": 1})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"rootfs":{"type":"zfs","diff_ids":[]}}', "rootfs.type"),
        (b'{"rootfs":{"type":"layers","diff_ids":["sha256:abc"]}}', "hex"),
        (b'{"rootfs":{"type":"layers","diff_ids":[1]}}', "diff_ids"),
        (b'{"rootfs":{"type":"layers","diff_ids":{}}}', "diff_ids"),
        (b'{"rootfs":[]}', "rootfs"),
        (b'{"history":{}}', "history"),
        (b'{"history":[1]}', "history"),
        (b'{"architecture":1}', "architecture"),
        (b'{"config":[]}', "config"),
        (b"[]", "JSON object"),
        (b"{", "JSON"),
    ],
)
def test_config_invalid(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidManifest, match=message):
        ImageConfig.parse(raw)


def test_build() -> None:
    diff = Digest.of(b"tar")
    c = ImageConfig.build(
        Platform("linux", "arm", "v7"),
        [diff],
        config=RunConfig(env=("A=1",), cmd=("sh",)),
        history=[History(created="1970-01-01T00:00:00Z", created_by="test")],
        created="1970-01-01T00:00:00Z",
        author="dockyard",
    )
    assert c.raw == (
        b'{"created":"1970-01-01T00:00:00Z","author":"dockyard","architecture":"arm","variant":"v7","os":"linux",'
        b'"config":{"Env":["A=1"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["' + str(diff).encode()
        + b'"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"test"}]}'
    )
    assert ImageConfig.parse(c.raw) == c
    assert c.platform == Platform("linux", "arm", "v7")
    windows = ImageConfig.build(Platform("windows", "amd64", os_version="10.0.17763.5329"))
    assert windows.os_version == "10.0.17763.5329"
    assert json.loads(windows.raw)["rootfs"] == {"type": "layers", "diff_ids": []}


RICH = {
    "architecture": "amd64",
    "os": "linux",
    "created": "2024-01-01T00:00:00Z",
    "container": "3f1c9e",
    "docker_version": "20.10.24",
    "moby.buildkit.buildinfo.v1": "e30=",
    "config": {
        "Hostname": "",
        "Env": ["PATH=/bin"],
        "Cmd": ["sh"],
        "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30000000000},
        "ArgsEscaped": True,
        "OnBuild": None,
        "Shell": ["/bin/bash", "-c"],
        "Labels": {"a": "b"},
    },
    "rootfs": {"type": "layers", "diff_ids": [DIFF_ID]},
    "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "ADD rootfs /"}],
}


def _rich() -> ImageConfig:
    return ImageConfig.parse(json.dumps(RICH, indent=2).encode())


def test_evolve_created_changes_only_created() -> None:
    before = _rich()
    after = before.evolve(created="1970-01-01T00:00:00Z")
    assert json.loads(after.raw) == {**RICH, "created": "1970-01-01T00:00:00Z"}
    assert after.created == "1970-01-01T00:00:00Z"
    assert after.digest != before.digest
    assert before.created == "2024-01-01T00:00:00Z"  # the original is untouched
    assert json.loads(before.raw) == RICH


def test_evolve_config_keeps_unknown_run_fields() -> None:
    before = _rich()
    after = before.evolve(config=before.config.with_env("A", "1"))
    doc = json.loads(after.raw)
    assert doc["config"] == {**RICH["config"], "Env": ["PATH=/bin", "A=1"]}  # type: ignore[dict-item]
    assert {k: v for k, v in doc.items() if k != "config"} == {k: v for k, v in RICH.items() if k != "config"}
    assert after.config.env_dict() == {"PATH": "/bin", "A": "1"}
    # Clearing Cmd removes it; Healthcheck and Shell stay.
    cleared = after.evolve(config=RunConfig(env=after.config.env))
    run = json.loads(cleared.raw)["config"]
    assert "Cmd" not in run and "Labels" not in run
    assert run["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 30000000000}
    assert run["Shell"] == ["/bin/bash", "-c"]


def test_evolve_layers_history_platform() -> None:
    before = _rich()
    new_diff = Digest.of(b"new layer")
    history = [*before.history, History(created="1970-01-01T00:00:00Z", created_by="RUN x")]
    after = before.evolve(diff_ids=[*before.diff_ids, new_diff], history=history)
    assert after.diff_ids == (Digest.parse(DIFF_ID), new_diff)
    assert after.history == tuple(history)
    doc = json.loads(after.raw)
    assert doc["config"] == RICH["config"]
    assert doc["container"] == "3f1c9e" and doc["moby.buildkit.buildinfo.v1"] == "e30="

    arm = after.evolve(platform=Platform("linux", "arm64", "v8"))
    assert arm.platform == Platform("linux", "arm64", "v8")
    assert arm.diff_ids == after.diff_ids
    back = arm.evolve(platform=Platform("linux", "amd64"))
    assert "variant" not in json.loads(back.raw)
    win = back.evolve(platform=Platform("windows", "amd64", os_version="10.0.17763.5329"))
    assert win.os_version == "10.0.17763.5329"
    assert "os.version" not in json.loads(win.evolve(platform=Platform("linux", "amd64")).raw)


def test_evolve_nothing_keeps_content() -> None:
    before = _rich()
    same = before.evolve()
    assert json.loads(same.raw) == RICH
    assert same.config == before.config and same.history == before.history
