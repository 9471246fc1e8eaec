"""Image configuration (`application/vnd.oci.image.config.v1+json`), kept as raw bytes plus a typed view."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Self

from dockyard.errors import InvalidArgument, InvalidManifest
from dockyard.oci.digest import Digest
from dockyard.oci.jsonvalue import (
    JSONObject,
    JSONValue,
    decode_object,
    encode,
    opt_list,
    opt_obj,
    opt_str,
    str_list,
    str_map,
)
from dockyard.oci.platform import Platform

#: Configs carry history for every layer; allow more than the 4 MiB manifest cap.
MAX_CONFIG = 64 << 20


@dataclass(frozen=True, slots=True)
class RunConfig:
    """The `config` section: how a container from this image runs."""

    user: str | None = None
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    working_dir: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    stop_signal: str | None = None

    @classmethod
    def from_json(cls, obj: JSONObject | None) -> Self:
        if obj is None:
            return cls()
        what = "config.config"
        ep = str_list(obj, "Entrypoint", what)
        cmd = str_list(obj, "Cmd", what)
        ports = opt_obj(obj, "ExposedPorts", what) or {}
        vols = opt_obj(obj, "Volumes", what) or {}
        return cls(
            user=opt_str(obj, "User", what) or None,
            env=tuple(str_list(obj, "Env", what) or ()),
            entrypoint=tuple(ep) if ep is not None else None,
            cmd=tuple(cmd) if cmd is not None else None,
            working_dir=opt_str(obj, "WorkingDir", what) or None,
            labels=str_map(obj, "Labels", what),
            exposed_ports=tuple(sorted(ports)),
            volumes=tuple(sorted(vols)),
            stop_signal=opt_str(obj, "StopSignal", what) or None,
        )

    def to_json(self) -> JSONObject:
        out: JSONObject = {}
        if self.user:
            out["User"] = self.user
        if self.exposed_ports:
            out["ExposedPorts"] = {p: {} for p in self.exposed_ports}
        if self.env:
            env: list[JSONValue] = list(self.env)
            out["Env"] = env
        if self.entrypoint is not None:
            ep: list[JSONValue] = list(self.entrypoint)
            out["Entrypoint"] = ep
        if self.cmd is not None:
            cmd: list[JSONValue] = list(self.cmd)
            out["Cmd"] = cmd
        if self.volumes:
            out["Volumes"] = {v: {} for v in self.volumes}
        if self.working_dir:
            out["WorkingDir"] = self.working_dir
        if self.labels:
            out["Labels"] = dict(self.labels)
        if self.stop_signal:
            out["StopSignal"] = self.stop_signal
        return out

    def env_dict(self) -> dict[str, str]:
        """Env as a mapping (later entries win, as in a container)."""
        out: dict[str, str] = {}
        for item in self.env:
            key, _, value = item.partition("=")
            out[key] = value
        return out

    def with_env(self, key: str, value: str) -> RunConfig:
        """Set one variable, keeping the order of the others."""
        if not key or "=" in key:
            raise InvalidArgument(f"invalid environment variable name {key!r}")
        kept = [e for e in self.env if e.partition("=")[0] != key]
        return replace(self, env=(*kept, f"{key}={value}"))


@dataclass(frozen=True, slots=True)
class History:
    """One entry of the config's history: how a layer (or an empty step) was made."""

    created: str | None = None
    created_by: str | None = None
    author: str | None = None
    comment: str | None = None
    empty_layer: bool = False

    @classmethod
    def from_json(cls, obj: JSONValue) -> Self:
        if not isinstance(obj, dict):
            raise InvalidManifest("config.history entries must be objects")
        what = "config.history"
        return cls(
            created=opt_str(obj, "created", what),
            created_by=opt_str(obj, "created_by", what),
            author=opt_str(obj, "author", what),
            comment=opt_str(obj, "comment", what),
            empty_layer=bool(obj.get("empty_layer", False)),
        )

    def to_json(self) -> JSONObject:
        out: JSONObject = {}
        for key, value in (("created", self.created), ("created_by", self.created_by),
                           ("author", self.author), ("comment", self.comment)):
            if value is not None:
                out[key] = value
        if self.empty_layer:
            out["empty_layer"] = True
        return out


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """A parsed image config; `raw` holds the exact bytes whose digest the manifest names."""

    raw: bytes
    architecture: str
    os: str
    diff_ids: tuple[Digest, ...]
    config: RunConfig = field(default_factory=RunConfig)
    history: tuple[History, ...] = ()
    created: str | None = None
    author: str | None = None
    variant: str | None = None
    os_version: str | None = None

    @classmethod
    def parse(cls, raw: bytes, what: str = "image config") -> Self:
        obj = decode_object(raw, what, limit=MAX_CONFIG)
        rootfs = opt_obj(obj, "rootfs", what) or {}
        if rootfs and rootfs.get("type", "layers") != "layers":
            raise InvalidManifest(f"{what}: rootfs.type must be 'layers'")
        diff_ids = []
        for d in opt_list(rootfs, "diff_ids", what):
            if not isinstance(d, str):
                raise InvalidManifest(f"{what}: rootfs.diff_ids must be strings")
            try:
                diff_ids.append(Digest.parse(d))
            except InvalidArgument as exc:
                raise InvalidManifest(f"{what}: {exc.message}") from None
        return cls(
            raw=raw,
            architecture=opt_str(obj, "architecture", what) or "",
            os=opt_str(obj, "os", what) or "",
            diff_ids=tuple(diff_ids),
            config=RunConfig.from_json(opt_obj(obj, "config", what)),
            history=tuple(History.from_json(h) for h in opt_list(obj, "history", what)),
            created=opt_str(obj, "created", what),
            author=opt_str(obj, "author", what),
            variant=opt_str(obj, "variant", what),
            os_version=opt_str(obj, "os.version", what),
        )

    @classmethod
    def build(
        cls,
        platform: Platform,
        diff_ids: Sequence[Digest] = (),
        *,
        config: RunConfig | None = None,
        history: Sequence[History] = (),
        created: str | None = None,
        author: str | None = None,
    ) -> Self:
        obj: JSONObject = {}
        if created:
            obj["created"] = created
        if author:
            obj["author"] = author
        obj["architecture"] = platform.architecture
        if platform.variant:
            obj["variant"] = platform.variant
        obj["os"] = platform.os
        if platform.os_version:
            obj["os.version"] = platform.os_version
        obj["config"] = (config or RunConfig()).to_json()
        ids: list[JSONValue] = [str(d) for d in diff_ids]
        obj["rootfs"] = {"type": "layers", "diff_ids": ids}
        if history:
            hist: list[JSONValue] = [h.to_json() for h in history]
            obj["history"] = hist
        return cls.parse(encode(obj))

    def evolve(
        self,
        *,
        config: RunConfig | None = None,
        diff_ids: Sequence[Digest] | None = None,
        history: Sequence[History] | None = None,
        created: str | None = None,
        platform: Platform | None = None,
    ) -> ImageConfig:
        """A new config with the given fields replaced; unknown fields of the original are kept."""
        obj = json.loads(self.raw)
        if config is not None:
            run = dict(obj.get("config") or {})
            known = {"User", "Env", "Entrypoint", "Cmd", "WorkingDir", "Labels", "ExposedPorts",
                     "Volumes", "StopSignal"}
            for key in known:
                run.pop(key, None)
            run.update(config.to_json())
            obj["config"] = run
        if diff_ids is not None:
            obj["rootfs"] = {"type": "layers", "diff_ids": [str(d) for d in diff_ids]}
        if history is not None:
            obj["history"] = [h.to_json() for h in history]
        if created is not None:
            obj["created"] = created
        if platform is not None:
            obj["architecture"] = platform.architecture
            obj["os"] = platform.os
            obj.pop("variant", None)
            if platform.variant:
                obj["variant"] = platform.variant
            obj.pop("os.version", None)
            if platform.os_version:
                obj["os.version"] = platform.os_version
        return ImageConfig.parse(encode(obj))

    @property
    def digest(self) -> Digest:
        return Digest.of(self.raw)

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant, self.os_version)
