"""Lint configuration, compatible with hadolint: `.hadolint.yaml`, `HADOLINT_*` variables, plus dockyard's own
`lint:` section of `dockyard.yaml`.

Precedence, lowest first: defaults, the config file (`--config FILE`, else the first of hadolint's search list),
the `lint:` section of `./dockyard.yaml`, `HADOLINT_*` environment variables, command-line options.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from dockyard.errors import InvalidArgument
from dockyard.lint.model import Severity


class LabelType(StrEnum):
    """The value formats of hadolint's `label-schema`."""

    TEXT = "text"
    URL = "url"
    SEMVER = "semver"
    HASH = "hash"
    RFC3339 = "rfc3339"
    SPDX = "spdx"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class LintConfig:
    """Everything that changes what `dockyard lint` reports and how it exits.

    `overrides` maps a rule code to its new severity; `failure_threshold` is the least severe level that fails
    (hadolint's default `info`); `require_digest` and `platforms` feed dockyard's policy rules DY1008/DY1009.
    """

    ignored: frozenset[str] = frozenset()
    overrides: Mapping[str, Severity] = field(default_factory=dict)
    failure_threshold: Severity = Severity.INFO
    trusted_registries: tuple[str, ...] = ()
    label_schema: Mapping[str, LabelType] = field(default_factory=dict)
    strict_labels: bool = False
    no_fail: bool = False
    disable_ignore_pragma: bool = False
    require_digest: bool = False
    platforms: tuple[str, ...] = ()
    format: str | None = None

    def severity_of(self, code: str, default: Severity) -> Severity:
        return self.overrides.get(code, default)


def search_paths() -> list[Path]:
    """hadolint's config search order."""
    home = Path.home()
    paths = [Path.cwd() / ".hadolint.yaml", Path.cwd() / ".hadolint.yml"]
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg:
        paths.append(Path(xdg) / "hadolint.yaml")
    paths += [home / ".config" / "hadolint.yaml", home / ".hadolint" / "hadolint.yaml",
              home / "hadolint" / "config.yaml", home / ".hadolint.yaml"]
    return paths


def _load_yaml(path: Path) -> object:
    import yaml  # type: ignore[import-untyped,unused-ignore]

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidArgument(f"cannot read lint config {path}: {err.strerror or err}") from None
    try:
        data: object = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise InvalidArgument(f"{path}: not valid YAML: {err}") from None
    return {} if data is None else data


def _strings(value: object, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    raise InvalidArgument(f"{where}: `{key}` must be a list of strings")


def _bool(value: object, key: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUTHY | _FALSY:
        return value.lower() in _TRUTHY
    raise InvalidArgument(f"{where}: `{key}` must be true or false")


_TRUTHY = frozenset({"1", "y", "on", "true", "yes"})
_FALSY = frozenset({"0", "n", "off", "false", "no", ""})


def _severity(value: object, key: str, where: str) -> Severity:
    try:
        return Severity.parse(str(value))
    except ValueError:
        raise InvalidArgument(f"{where}: `{key}` must be one of error, warning, info, style, ignore, none",
                              ) from None


def _label_schema(value: object, where: str) -> dict[str, LabelType]:
    if not isinstance(value, dict):
        raise InvalidArgument(f"{where}: `label-schema` must be a mapping of label name to type")
    out: dict[str, LabelType] = {}
    for name, kind in value.items():
        try:
            out[str(name)] = LabelType(str(kind).lower())
        except ValueError:
            raise InvalidArgument(f"{where}: label `{name}`: unknown type {kind!r} (one of "
                                  f"{', '.join(LabelType)})") from None
    return out


def apply_mapping(config: LintConfig, data: object, where: str) -> LintConfig:
    """Layer a parsed `.hadolint.yaml` (or a `lint:` section) over `config`; unknown keys are refused."""
    if not isinstance(data, dict):
        raise InvalidArgument(f"{where}: the lint configuration must be a mapping")
    changes: dict[str, object] = {}
    overrides = dict(config.overrides)
    for key, value in data.items():
        if key == "ignored":
            changes["ignored"] = frozenset(_strings(value, key, where))
        elif key == "override":
            if not isinstance(value, dict):
                raise InvalidArgument(f"{where}: `override` must map error/warning/info/style to rule lists")
            for level, codes in value.items():
                severity = _severity(level, f"override.{level}", where)
                overrides.update((code, severity) for code in _strings(codes or [], f"override.{level}", where))
        elif key == "failure-threshold":
            changes["failure_threshold"] = _severity(value, key, where)
        elif key in ("trustedRegistries", "trusted-registries"):
            changes["trusted_registries"] = _strings(value, key, where)
        elif key == "label-schema":
            changes["label_schema"] = _label_schema(value, where)
        elif key in _BOOLS:
            changes[_BOOLS[key]] = _bool(value, key, where)
        elif key == "platforms":
            changes["platforms"] = _strings(value, key, where)
        elif key == "format":
            changes["format"] = str(value)
        elif key not in ("no-color", "verbose"):
            raise InvalidArgument(f"{where}: unknown lint setting {key!r}")
    return dataclasses.replace(config, overrides=overrides, **changes)  # type: ignore[arg-type]


_BOOLS = {"strict-labels": "strict_labels", "no-fail": "no_fail", "disable-ignore-pragma": "disable_ignore_pragma",
          "require-digest": "require_digest"}


def apply_environment(config: LintConfig, env: Mapping[str, str]) -> LintConfig:
    """hadolint's `HADOLINT_*` variables."""
    data: dict[str, object] = {}
    for var, key in (("HADOLINT_NOFAIL", "no-fail"), ("HADOLINT_STRICT_LABELS", "strict-labels"),
                     ("HADOLINT_DISABLE_IGNORE_PRAGMA", "disable-ignore-pragma")):
        if var in env:
            data[key] = env[var].lower() in _TRUTHY
    if "HADOLINT_FAILURE_THRESHOLD" in env:
        data["failure-threshold"] = env["HADOLINT_FAILURE_THRESHOLD"]
    if "HADOLINT_FORMAT" in env:
        data["format"] = env["HADOLINT_FORMAT"]
    if "HADOLINT_IGNORE" in env:
        data["ignored"] = env["HADOLINT_IGNORE"]
    registries = env.get("HADOLINT_TRUSTED_REGISTRIES") or env.get("HADOLINT_ALLOWED_REGISTRIES")
    if registries:
        data["trustedRegistries"] = registries
    override = {level: env[f"HADOLINT_OVERRIDE_{level.upper()}"] for level in ("error", "warning", "info", "style")
                if f"HADOLINT_OVERRIDE_{level.upper()}" in env}
    if override:
        data["override"] = override
    labels = env.get("HADOLINT_REQUIRE_LABELS")
    if labels:
        data["label-schema"] = dict(item.partition(":")[::2] for item in labels.split(",") if ":" in item)
    return apply_mapping(config, data, "environment") if data else config


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> LintConfig:
    """The configuration from files and environment (command-line options are applied by the caller)."""
    config = LintConfig()
    if path is not None:
        data = _load_yaml(path)
        section = data.get("lint") if isinstance(data, dict) and path.name.startswith("dockyard.") else data
        config = apply_mapping(config, section or {}, str(path))
    else:
        found = next((p for p in search_paths() if p.is_file()), None)
        if found is not None:
            config = apply_mapping(config, _load_yaml(found), str(found))
        project = Path.cwd() / "dockyard.yaml"
        if project.is_file():
            data = _load_yaml(project)
            if isinstance(data, dict) and data.get("lint") is not None:
                config = apply_mapping(config, data["lint"], f"{project} (lint:)")
    return apply_environment(config, os.environ if env is None else env)
