"""`--change` instructions (`CMD`, `ENTRYPOINT`, `ENV`, `USER`, ...) applied to a run config, as `docker import -c`."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace

from dockyard.errors import InvalidArgument
from dockyard.oci.config import RunConfig

SUPPORTED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "VOLUME", "WORKDIR", "STOPSIGNAL")


def _command(text: str, instruction: str) -> tuple[str, ...]:
    """Exec form (a JSON array of strings) or shell form (wrapped in /bin/sh -c)."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
    if not stripped:
        raise InvalidArgument(f"{instruction} needs a command")
    return ("/bin/sh", "-c", stripped)


def _pairs(text: str, instruction: str) -> list[tuple[str, str]]:
    """`K=V K2="v 2"` pairs, or the legacy `K V` form."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise InvalidArgument(f"{instruction} {text!r}: {exc}") from None
    if not words:
        raise InvalidArgument(f"{instruction} needs at least one KEY=VALUE")
    if "=" not in words[0]:
        key, _, value = text.strip().partition(" ")
        if not value.strip():
            raise InvalidArgument(f"{instruction} {key} needs a value")
        return [(key, value.strip())]
    out = []
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise InvalidArgument(f"{instruction}: {word!r} is not KEY=VALUE")
        out.append((key, value))
    return out


def apply_change(run: RunConfig, change: str) -> RunConfig:
    """Apply one Dockerfile-style instruction to `run`; raises InvalidArgument on anything else."""
    instruction, _, rest = change.strip().partition(" ")
    keyword = instruction.upper()
    rest = rest.strip()
    if keyword == "CMD":
        return replace(run, cmd=_command(rest, keyword))
    if keyword == "ENTRYPOINT":
        return replace(run, entrypoint=_command(rest, keyword))
    if keyword == "ENV":
        for key, value in _pairs(rest, keyword):
            run = run.with_env(key, value)
        return run
    if keyword == "LABEL":
        return replace(run, labels={**run.labels, **dict(_pairs(rest, keyword))})
    if keyword == "EXPOSE":
        ports = [p if "/" in p else f"{p}/tcp" for p in rest.split()]
        if not ports or not all(p.split("/")[0].isdigit() for p in ports):
            raise InvalidArgument(f"EXPOSE needs port numbers, got {rest!r}")
        return replace(run, exposed_ports=tuple(sorted({*run.exposed_ports, *ports})))
    if keyword == "VOLUME":
        vols = _command(rest, keyword) if rest.startswith("[") else tuple(rest.split())
        if not vols or vols[:2] == ("/bin/sh", "-c"):
            raise InvalidArgument(f"VOLUME needs paths, got {rest!r}")
        return replace(run, volumes=tuple(sorted({*run.volumes, *vols})))
    if keyword in ("USER", "WORKDIR", "STOPSIGNAL"):
        if not rest or len(rest.split()) != 1:
            raise InvalidArgument(f"{keyword} takes exactly one value, got {rest!r}")
        if keyword == "USER":
            return replace(run, user=rest)
        if keyword == "WORKDIR":
            if not rest.startswith("/"):
                raise InvalidArgument(f"WORKDIR must be an absolute path, got {rest!r}")
            return replace(run, working_dir=rest)
        return replace(run, stop_signal=rest)
    raise InvalidArgument(f"unsupported change {instruction!r}: use one of {', '.join(SUPPORTED)}")


def apply_changes(run: RunConfig, changes: list[str] | tuple[str, ...]) -> RunConfig:
    for change in changes:
        run = apply_change(run, change)
    return run
