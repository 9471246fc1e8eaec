"""Typed access to JSON documents: decode with limits, validate fields, encode deterministically."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TypeAlias

from dockyard.errors import InvalidManifest

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = "dict[str, JSONValue]"

#: Manifests and configs larger than this are refused (distribution's default for manifests).
MAX_DOCUMENT = 4 << 20


def decode_object(raw: bytes, what: str, *, limit: int = MAX_DOCUMENT) -> JSONObject:
    """Decode `raw` as a JSON object or raise InvalidManifest naming `what`."""
    if len(raw) > limit:
        raise InvalidManifest(f"{what} is {len(raw)} bytes, over the {limit}-byte limit")
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidManifest(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidManifest(f"{what} is nested too deeply") from None
    if not isinstance(value, dict):
        raise InvalidManifest(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def encode(value: JSONValue) -> bytes:
    """Compact JSON with keys in insertion order, like Go's json.Marshal (without HTML escaping)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def req_str(obj: Mapping[str, JSONValue], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise InvalidManifest(f"{what}: field {key!r} must be a string")
    return value


def opt_str(obj: Mapping[str, JSONValue], key: str, what: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidManifest(f"{what}: field {key!r} must be a string")
    return value


def req_int(obj: Mapping[str, JSONValue], key: str, what: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidManifest(f"{what}: field {key!r} must be an integer")
    return value


def opt_list(obj: Mapping[str, JSONValue], key: str, what: str) -> list[JSONValue]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidManifest(f"{what}: field {key!r} must be an array")
    return value


def opt_obj(obj: Mapping[str, JSONValue], key: str, what: str) -> JSONObject | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidManifest(f"{what}: field {key!r} must be an object")
    return value


def str_map(obj: Mapping[str, JSONValue], key: str, what: str) -> dict[str, str]:
    """An optional object whose values are all strings (annotations, labels)."""
    value = opt_obj(obj, key, what)
    if value is None:
        return {}
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise InvalidManifest(f"{what}: {key}[{k!r}] must be a string")
        out[k] = v
    return out


def str_list(obj: Mapping[str, JSONValue], key: str, what: str) -> list[str] | None:
    """An optional array of strings; None when absent or null (which differs from [] for Cmd)."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidManifest(f"{what}: field {key!r} must be an array of strings")
    return [str(v) for v in value]
