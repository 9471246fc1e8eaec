"""`RUN --mount=...` specifications (BuildKit's `instructions/runmount.go`): bind, cache, tmpfs, secret, ssh."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from dockyard.dockerfile.errors import DockerfileSyntaxError


class MountType(StrEnum):
    """The `type=` of a RUN mount (bind when omitted)."""

    BIND = "bind"
    CACHE = "cache"
    TMPFS = "tmpfs"
    SECRET = "secret"
    SSH = "ssh"


@dataclass(frozen=True, slots=True)
class Mount:
    """One `--mount` of a RUN instruction; `from_stage` is the `from=` stage, index or image.

    `target` None means the working directory (BuildKit mounts there); `readonly` defaults to True except for
    cache and tmpfs mounts.
    """

    type: MountType
    target: str | None = None
    source: str | None = None
    from_stage: str | None = None
    id: str | None = None
    readonly: bool = True
    sharing: str | None = None
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    required: bool = False
    env: str | None = None
    size: str | None = None
    raw: str = ""


_TRUE = ("1", "t", "true")
_FALSE = ("0", "f", "false")


def _parse_bool(key: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise DockerfileSyntaxError(f"invalid value for {key}: {value}")


def _parse_uint(key: str, value: str, base: int) -> int:
    try:
        number = int(value, base)
    except ValueError:
        raise DockerfileSyntaxError(f"invalid value for {key}: {value}") from None
    if not 0 <= number < 2**32:
        raise DockerfileSyntaxError(f"invalid value for {key}: {value}")
    return number


_STRING_KEYS = {"target": "target", "dst": "target", "destination": "target", "source": "source", "src": "source",
                "from": "from_stage", "id": "id", "env": "env", "size": "size", "sharing": "sharing"}

_FREE_TEXT = frozenset({"target", "dst", "destination", "source", "src", "from", "id", "env"})


def parse_mount(raw: str, expand: Callable[[str], str] | None = None) -> Mount:
    """Parse one `--mount` value (CSV `key=value` fields); `expand` is applied to every value when given."""
    fields: dict[str, str] = {}
    ro_auto = True
    readonly, required = False, False
    mtype = MountType.BIND
    numbers: dict[str, int] = {}
    for field in next(csv.reader([raw]), []):
        key, eq, value = field.partition("=")
        key = key.lower()
        if not eq:
            if key not in ("readonly", "ro", "readwrite", "rw", "required"):
                raise DockerfileSyntaxError(f"invalid field '{field}' must be a key=value pair")
            value = "true"
        elif expand is not None:
            value = expand(value)
        elif key == "from" and "$" in value[:-1]:
            raise DockerfileSyntaxError("'from' doesn't support variable expansion, define alias stage instead")
        elif "$" in value and key not in _FREE_TEXT:
            continue  # like BuildKit, judged only once expanded (`parse_mount(raw, expand)`)
        if key == "type":
            if value.lower() not in set(MountType):
                raise DockerfileSyntaxError(f"unsupported mount type {value!r}")
            mtype = MountType(value.lower())
        elif key in _STRING_KEYS:
            if key == "size" and mtype != MountType.TMPFS:
                raise DockerfileSyntaxError(f"unexpected key '{key}' for mount type '{mtype}'")
            if key == "sharing":
                value = value.lower()
                if value not in ("shared", "private", "locked"):
                    raise DockerfileSyntaxError(f"unsupported sharing value {value!r}")
            fields[_STRING_KEYS[key]] = value
        elif key in ("readonly", "ro", "readwrite", "rw"):
            flag = _parse_bool(key, value)
            readonly, ro_auto = (flag if key in ("readonly", "ro") else not flag), False
        elif key == "required":
            if mtype not in (MountType.SECRET, MountType.SSH):
                raise DockerfileSyntaxError(f"unexpected key '{key}' for mount type '{mtype}'")
            required = _parse_bool(key, value)
        elif key in ("mode", "uid", "gid"):
            numbers[key] = _parse_uint(key, value, 8 if key == "mode" else 10)
        else:
            raise DockerfileSyntaxError(f"unexpected key '{key}' in '{field}'")
    if ro_auto:
        readonly = mtype not in (MountType.CACHE, MountType.TMPFS)
    mount = Mount(mtype, fields.get("target"), fields.get("source"), fields.get("from_stage"), fields.get("id"),
                  readonly, fields.get("sharing"), numbers.get("mode"), numbers.get("uid"), numbers.get("gid"),
                  required, fields.get("env"), fields.get("size"), raw)
    _validate(mount)
    return mount


def _validate(mount: Mount) -> None:
    kind = mount.type
    if kind not in (MountType.SECRET, MountType.SSH, MountType.CACHE) and (
            mount.mode is not None or mount.uid is not None or mount.gid is not None):
        raise DockerfileSyntaxError(f"mode/uid/gid not allowed for mount type {kind}")
    if mount.sharing is not None and kind != MountType.CACHE:
        raise DockerfileSyntaxError(f"invalid cache sharing set for {kind} mount")
    if kind == MountType.SECRET:
        if mount.from_stage:
            raise DockerfileSyntaxError("secret mount should not have a from")
        if not (mount.source or mount.target or mount.id):
            raise DockerfileSyntaxError("invalid secret mount. one of source, target required")
        if mount.source and mount.id:
            raise DockerfileSyntaxError("both source and id can't be set")
