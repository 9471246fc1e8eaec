"""What one `dockyard build` was asked to do: the request shared by the CLI, the executor and the output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from dockyard.errors import InvalidArgument
from dockyard.oci.mediatype import Compression
from dockyard.oci.platform import Platform


class OutputType(StrEnum):
    STORE = "store"
    OCI = "oci"
    DOCKER_ARCHIVE = "docker-archive"
    REGISTRY = "registry"


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """`--output type=...,dest=...`: where the final image goes (the store by default)."""

    type: OutputType = OutputType.STORE
    dest: str | None = None

    @classmethod
    def parse(cls, text: str) -> OutputSpec:
        fields = parse_kv(text, "--output")
        try:
            kind = OutputType(fields.get("type", "store"))
        except ValueError:
            raise InvalidArgument(f"unknown output type in {text!r}: use store, oci, docker-archive or registry"
                                  ) from None
        dest = fields.get("dest")
        if kind in (OutputType.OCI, OutputType.DOCKER_ARCHIVE) and not dest:
            raise InvalidArgument(f"--output type={kind} needs dest=PATH")
        return cls(kind, dest)


def parse_kv(text: str, what: str) -> dict[str, str]:
    """`a=b,c=d` into a dict; a bare word is an error."""
    out: dict[str, str] = {}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition("=")
        if not sep:
            raise InvalidArgument(f"{what}: expected key=value, got {part!r}")
        out[key.strip()] = value.strip()
    return out


def parse_pairs(items: list[str], what: str) -> dict[str, str]:
    """`K=V` options (`--build-arg`, `--label`) into a dict; `K` alone takes the value from the environment."""
    import os

    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"{what}: empty name in {item!r}")
        if not sep:
            if key not in os.environ:
                continue
            value = os.environ[key]
        out[key] = value
    return out


def parse_secrets(items: list[str]) -> dict[str, Path]:
    """`--secret id=X,src=FILE` into id -> file."""
    out: dict[str, Path] = {}
    for item in items:
        fields = parse_kv(item, "--secret")
        sid = fields.get("id")
        src = fields.get("src") or fields.get("source")
        if not sid or not src:
            raise InvalidArgument(f"--secret needs id=ID,src=FILE, got {item!r}")
        path = Path(src)
        if not path.is_file():
            raise InvalidArgument(f"--secret {sid}: no such file {src}")
        out[sid] = path
    return out


class CacheMode(StrEnum):
    MIN = "min"
    MAX = "max"


@dataclass(frozen=True, slots=True)
class CacheSpec:
    """One `--cache-to`/`--cache-from` value: where the cache artifact lives and (for export) the mode.

    Accepted forms: `REF[,mode=min|max]` (REF in dockyard's transport grammar: `registry.example/app:cache`,
    `oci:DIR:TAG`, a store name) and BuildKit's `type=registry,ref=REF[,mode=...]` / `type=local,dest=DIR`
    (`src=DIR` for import).
    """

    location: str
    mode: CacheMode = CacheMode.MIN
    ignore_error: bool = False
    """`ignore-error=true`: a failed export is a warning, not a failed build (BuildKit's option)."""

    @classmethod
    def parse(cls, text: str, what: str = "--cache-to") -> CacheSpec:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise InvalidArgument(f"{what}: empty value")
        fields: dict[str, str] = {}
        location: str | None = None
        for n, part in enumerate(parts):
            key, sep, value = part.partition("=")
            if not sep:
                if n != 0:
                    raise InvalidArgument(f"{what}: expected key=value, got {part!r}")
                location = part
                continue
            fields[key.strip()] = value.strip()
        kind = fields.pop("type", None)
        if kind == "registry":
            location = fields.pop("ref", None) or location
        elif kind == "local":
            path = fields.pop("dest", None) or fields.pop("src", None)
            location = f"oci:{path}:buildcache" if path else location
        elif kind is not None:
            raise InvalidArgument(f"{what}: cache type {kind!r} is not supported (use registry or local)")
        if not location:
            raise InvalidArgument(f"{what}: no cache reference in {text!r} (use REF or type=registry,ref=REF)")
        raw_mode = fields.pop("mode", CacheMode.MIN.value)
        try:
            mode = CacheMode(raw_mode)
        except ValueError:
            raise InvalidArgument(f"{what}: mode must be min or max, not {raw_mode!r}") from None
        ignore = fields.pop("ignore-error", "false").lower()
        if ignore not in ("true", "false"):
            raise InvalidArgument(f"{what}: ignore-error must be true or false, not {ignore!r}")
        if fields:
            raise InvalidArgument(f"{what}: unknown option(s) {', '.join(sorted(fields))}")
        return cls(location, mode, ignore == "true")


@dataclass(frozen=True, slots=True)
class BuildRequest:
    """Everything a build needs; `dockerfile` defaults to CONTEXT/Dockerfile."""

    context: Path
    dockerfile: Path | None = None
    tags: tuple[str, ...] = ()
    target: str | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    platforms: tuple[Platform, ...] = ()
    """`--platform a,b`: more than one builds an index (one image per platform)."""
    no_cache: bool = False
    output: OutputSpec = field(default_factory=OutputSpec)
    compression: Compression = Compression.GZIP
    secrets: Mapping[str, Path] = field(default_factory=dict)
    push: bool = False
    """`--push`: also push every tag that names a registry (as `-o type=registry` does), after the output."""
    cache_from: tuple[CacheSpec, ...] = ()
    cache_to: tuple[CacheSpec, ...] = ()
    jobs: int | None = None
    """How many independent stages may build at once (default: the number of CPUs)."""

    @property
    def dockerfile_path(self) -> Path:
        return self.dockerfile if self.dockerfile is not None else self.context / "Dockerfile"
