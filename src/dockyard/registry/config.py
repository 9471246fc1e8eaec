"""Registry server settings: one frozen value, loadable from a TOML file and overridden by CLI flags.

A config file looks like::

    data_dir = "/var/lib/dockyard/registry"   # SQLite metadata + filesystem blobs live here
    storage = "filesystem"                    # or "inmemory" (tests, throwaway registries)
    htpasswd = "/etc/dockyard/htpasswd"       # Basic auth users (bcrypt or sha-crypt); absent: anonymous
    realm = "dockyard"
    access_log = "stderr"                     # "stderr", "off", or a file path (one JSON line per request)
    metrics = true                            # serve /metrics (Prometheus text format)
    delete_enabled = true                     # DELETE of manifests, tags and blobs
    auto_mount = true                         # POST ?mount= without from= mounts from any readable repo
    max_manifest_bytes = 4194304
    upload_workers = 16                       # threads that write and hash uploads
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from dockyard.errors import InvalidArgument

#: Distribution's default manifest limit, and what the spec asks registries to accept at least.
MAX_MANIFEST_BYTES = 4 << 20


class StorageKind(StrEnum):
    """Which storage driver keeps the bytes."""

    FILESYSTEM = "filesystem"
    INMEMORY = "inmemory"


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    """Everything `create_app` needs; paths are absolute once loaded."""

    data_dir: Path
    storage: StorageKind = StorageKind.FILESYSTEM
    htpasswd: Path | None = None
    realm: str = "dockyard"
    access_log: str = "stderr"
    metrics: bool = True
    delete_enabled: bool = True
    auto_mount: bool = True
    max_manifest_bytes: int = MAX_MANIFEST_BYTES
    upload_workers: int = 16

    @property
    def db_path(self) -> Path:
        """The SQLite metadata database."""
        return self.data_dir / "registry.db"

    @property
    def blobs_root(self) -> Path:
        """Root of the filesystem storage driver."""
        return self.data_dir / "storage"

    @property
    def auth_enabled(self) -> bool:
        return self.htpasswd is not None

    @classmethod
    def load(cls, path: Path, *, data_dir: Path) -> Self:
        """Read a TOML config; `data_dir` is the default when the file names none."""
        try:
            with path.open("rb") as fh:
                raw = tomllib.load(fh)
        except OSError as exc:
            raise InvalidArgument(f"cannot read registry config {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise InvalidArgument(f"registry config {path} is not valid TOML: {exc}") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidArgument(f"registry config {path}: unknown setting(s) {', '.join(unknown)}",
                                  hint=f"known: {', '.join(sorted(known))}")
        base = path.parent
        values: dict[str, Any] = {"data_dir": data_dir}
        for key, value in raw.items():
            values[key] = _setting(key, value, getattr(cls(data_dir=data_dir), key), base)
        return cls(**values)


def _setting(key: str, value: object, default: object, base: Path) -> object:
    """One setting from a config file, converted and type-checked against its default."""
    if key in ("data_dir", "htpasswd"):
        if not isinstance(value, str) or not value:
            raise InvalidArgument(f"registry config: {key} must be a path string")
        return (base / value).resolve()
    if key == "storage":
        try:
            return StorageKind(str(value))
        except ValueError:
            raise InvalidArgument(f"registry config: storage must be one of "
                                  f"{', '.join(k.value for k in StorageKind)}") from None
    if type(value) is not type(default):
        raise InvalidArgument(f"registry config: {key} must be a {type(default).__name__}")
    if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
        raise InvalidArgument(f"registry config: {key} must be positive")
    return value


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, config: RegistryConfig, *, insecure_no_auth: bool) -> None:
    """Refuse to expose an unauthenticated registry beyond this machine unless explicitly asked."""
    if config.auth_enabled or insecure_no_auth or is_loopback(host):
        return
    raise InvalidArgument(
        f"refusing to serve {host} without authentication: anyone who can reach it could push and delete",
        hint="pass --htpasswd FILE, or --insecure-no-auth if that is really what you want",
    )
