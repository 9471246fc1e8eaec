"""Config-only instructions (ENV, LABEL, USER, WORKDIR, EXPOSE, VOLUME, CMD, ENTRYPOINT, SHELL, STOPSIGNAL,
HEALTHCHECK, ARG, ONBUILD, MAINTAINER): each changes the run config and adds an `empty_layer` history entry."""

from __future__ import annotations

import dataclasses
import json
import posixpath
from datetime import timedelta

from dockyard.build.steps.base import BuildEnv, StageState, set_config
from dockyard.dockerfile import (
    AnyInstruction,
    ArgInstruction,
    CmdInstruction,
    CommandLine,
    EntrypointInstruction,
    EnvInstruction,
    ExposeInstruction,
    HealthcheckInstruction,
    LabelInstruction,
    MaintainerInstruction,
    OnbuildInstruction,
    ShellInstruction,
    StopsignalInstruction,
    UserInstruction,
    VolumeInstruction,
    WorkdirInstruction,
)
from dockyard.errors import Unsupported
from dockyard.oci.config import History, RunConfig
from dockyard.oci.jsonvalue import JSONValue

METADATA = (ArgInstruction, CmdInstruction, EntrypointInstruction, EnvInstruction, ExposeInstruction,
            HealthcheckInstruction, LabelInstruction, MaintainerInstruction, OnbuildInstruction, ShellInstruction,
            StopsignalInstruction, UserInstruction, VolumeInstruction, WorkdirInstruction)


def command(state: StageState, line: CommandLine) -> tuple[str, ...]:
    """Exec form as given; shell form wrapped in the stage's SHELL."""
    return tuple(line.args) if line.exec_form else (*state.shell, line.text)


def _env(run: RunConfig, pairs: list[tuple[str, str]]) -> tuple[str, ...]:
    env = dict(item.partition("=")[::2] for item in run.env)
    env.update(pairs)
    return tuple(f"{k}={v}" for k, v in env.items())


def _ns(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds() * 1_000_000_000)


def describe(inst: AnyInstruction, state: StageState) -> str:
    """The history `created_by` text, as BuildKit writes it for config-only steps."""
    if isinstance(inst, (EnvInstruction, LabelInstruction)):
        return f"{inst.keyword_text.upper()} " + " ".join(f"{p.key}={p.value}" for p in inst.pairs)
    if isinstance(inst, (CmdInstruction, EntrypointInstruction)):
        return f"{inst.keyword_text.upper()} {json.dumps(list(command(state, inst.command)))}"
    if isinstance(inst, ExposeInstruction):
        return "EXPOSE " + " ".join(_port(p) for p in inst.ports)
    if isinstance(inst, ArgInstruction):
        return "ARG " + " ".join(d.name if d.default is None else f"{d.name}={d.default}" for d in inst.args)
    if isinstance(inst, UserInstruction):
        return f"USER {inst.user}"
    if isinstance(inst, WorkdirInstruction):
        return f"WORKDIR {inst.path}"
    if isinstance(inst, VolumeInstruction):
        return f"VOLUME {json.dumps(list(inst.paths))}"
    if isinstance(inst, ShellInstruction):
        return f"SHELL {json.dumps(list(inst.shell))}"
    if isinstance(inst, StopsignalInstruction):
        return f"STOPSIGNAL {inst.signal}"
    if isinstance(inst, OnbuildInstruction):
        return f"ONBUILD {inst.expression}"
    return inst.original


def _port(text: str) -> str:
    return text if "/" in text else f"{text}/tcp"


def apply(state: StageState, inst: AnyInstruction, env: BuildEnv) -> str:
    """Apply one config-only instruction to `state`; returns its description (the history text)."""
    text = describe(inst, state)
    if isinstance(inst, ArgInstruction):
        return text  # ARG changes the scope (already resolved), not the image
    run = state.run
    extra: dict[str, JSONValue] = {}
    if isinstance(inst, EnvInstruction):
        run = dataclasses.replace(run, env=_env(run, [(p.key, p.value) for p in inst.pairs]))
    elif isinstance(inst, LabelInstruction):
        run = dataclasses.replace(run, labels={**run.labels, **{p.key: p.value for p in inst.pairs}})
    elif isinstance(inst, UserInstruction):
        run = dataclasses.replace(run, user=inst.user)
    elif isinstance(inst, WorkdirInstruction):
        run = dataclasses.replace(run, working_dir=posixpath.normpath(posixpath.join(state.workdir, inst.path)))
    elif isinstance(inst, ExposeInstruction):
        run = dataclasses.replace(run, exposed_ports=tuple(sorted({*run.exposed_ports, *map(_port, inst.ports)})))
    elif isinstance(inst, VolumeInstruction):
        run = dataclasses.replace(run, volumes=tuple(sorted({*run.volumes, *inst.paths})))
    elif isinstance(inst, CmdInstruction):
        run = dataclasses.replace(run, cmd=command(state, inst.command))
        state.cmd_set = True
    elif isinstance(inst, EntrypointInstruction):
        run = dataclasses.replace(run, entrypoint=command(state, inst.command),
                                  cmd=run.cmd if state.cmd_set else None)
    elif isinstance(inst, ShellInstruction):
        state.shell = tuple(inst.shell)
        extra["Shell"] = list(inst.shell)
    elif isinstance(inst, StopsignalInstruction):
        run = dataclasses.replace(run, stop_signal=inst.signal)
    elif isinstance(inst, HealthcheckInstruction):
        check: dict[str, JSONValue] = {"Test": list(inst.test)}
        for key, value in (("Interval", _ns(inst.interval)), ("Timeout", _ns(inst.timeout)),
                           ("StartPeriod", _ns(inst.start_period)), ("StartInterval", _ns(inst.start_interval)),
                           ("Retries", inst.retries)):
            if value is not None:
                check[key] = value
        extra["Healthcheck"] = check
    elif isinstance(inst, OnbuildInstruction):
        raw = json.loads(state.image.config().raw).get("config", {}).get("OnBuild") or []
        extra["OnBuild"] = [*raw, inst.expression]
    elif isinstance(inst, MaintainerInstruction):
        pass
    else:
        raise Unsupported(f"line {inst.start_line}: {inst.keyword_text} is not a config instruction")
    set_config(state, env, run, History(created=env.created, created_by=text, comment="buildkit.dockerfile.v0",
                                        empty_layer=True), extra or None)
    return text
