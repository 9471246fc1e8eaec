"""Registry credentials as docker and podman keep them: `config.json`/`auth.json` files and credential helpers.

Search order (first file with an answer wins): the `auth_file` option or `$REGISTRY_AUTH_FILE`; else
`$XDG_RUNTIME_DIR/containers/auth.json`; then docker's `$DOCKER_CONFIG/config.json` (default
`~/.docker/config.json`). In a file, `credHelpers[registry]` wins, then `credsStore`, then the
`auths` entry (`auth` = base64 `user:password`, or `username`/`password`, plus `identitytoken`).
`login` writes the same file format (mode 0600), or hands the secret to the configured helper.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path

from dockyard.errors import InvalidArgument
from dockyard.transports.remote.credhelper import Credentials, helper_erase, helper_get, helper_store

#: The key docker uses for Docker Hub in config files and with helpers.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

JSONDoc = dict[str, object]


def normalize_host(key: str) -> str:
    """The registry a config key names: scheme and path dropped, Docker Hub aliases merged."""
    host = key.split("://", 1)[-1].split("/", 1)[0].lower()
    return "docker.io" if host in _HUB_ALIASES else host


def server_key(registry: str) -> str:
    """The key docker writes for `registry` (Docker Hub keeps its historical URL)."""
    return DOCKER_HUB_KEY if normalize_host(registry) == "docker.io" else registry


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return (Path(base) if base else Path.home() / ".docker") / "config.json"


def search_paths(auth_file: Path | None = None) -> list[Path]:
    """Files searched for credentials, in order."""
    explicit = auth_file or (Path(os.environ["REGISTRY_AUTH_FILE"]) if os.environ.get("REGISTRY_AUTH_FILE") else None)
    paths: list[Path] = []
    if explicit is not None:
        paths.append(explicit)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        paths.append(Path(os.environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    docker = docker_config_path()
    if docker not in paths:
        paths.append(docker)
    return paths


def write_path(auth_file: Path | None = None) -> Path:
    """The file `login` writes: the `auth_file` option, `$REGISTRY_AUTH_FILE`, else docker's config."""
    if auth_file is not None:
        return auth_file
    env = os.environ.get("REGISTRY_AUTH_FILE")
    return Path(env) if env else docker_config_path()


def _load(path: Path) -> JSONDoc:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise InvalidArgument(f"cannot read credentials file {path}: {exc.strerror}") from None
    if not text.strip():
        return {}
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"credentials file {path} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"credentials file {path} must hold a JSON object")
    return doc


def _section(doc: JSONDoc, name: str) -> dict[str, object]:
    value = doc.get(name)
    return value if isinstance(value, dict) else {}


def _helper_for(doc: JSONDoc, registry: str) -> str | None:
    for key, helper in _section(doc, "credHelpers").items():
        if normalize_host(key) == registry and isinstance(helper, str) and helper:
            return helper
    store = doc.get("credsStore")
    return store if isinstance(store, str) and store else None


def _from_entry(entry: object, path: Path) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    user, password = str(entry.get("username") or ""), str(entry.get("password") or "")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidArgument(f"credentials file {path}: an `auth` entry is not base64 of user:password") from None
        if not sep:
            raise InvalidArgument(f"credentials file {path}: an `auth` entry has no ':' between user and password")
    token = entry.get("identitytoken")
    identity = token if isinstance(token, str) and token else None
    if not (password or identity):
        return None
    return Credentials(user, password, identity)


def _from_doc(doc: JSONDoc, registry: str, path: Path) -> Credentials | None:
    helper = _helper_for(doc, registry)
    if helper is not None:
        found = helper_get(helper, server_key(registry))
        if found is not None:
            return found
    for key, entry in _section(doc, "auths").items():
        if normalize_host(key) == registry:
            creds = _from_entry(entry, path)
            if creds is not None:
                return creds
    return None


def find_credentials(registry: str, *, auth_file: Path | None = None) -> Credentials | None:
    """The credentials stored for `registry` (`host[:port]`), or None to go anonymous."""
    wanted = normalize_host(registry)
    for path in search_paths(auth_file):
        found = _from_doc(_load(path), wanted, path)
        if found is not None:
            return found
    return None


def _save(path: Path, doc: JSONDoc) -> None:
    """Replace `path` atomically with `doc`, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(doc, out, indent="\t")
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def store_credentials(registry: str, creds: Credentials, *, auth_file: Path | None = None) -> Path:
    """Remember credentials for `registry` as `docker login` does; returns the file written."""
    path = write_path(auth_file)
    doc = _load(path)
    wanted = normalize_host(registry)
    auths = _section(doc, "auths")
    for key in [k for k in auths if normalize_host(k) == wanted]:
        del auths[key]
    helper = _helper_for(doc, wanted)
    if helper is not None:
        helper_store(helper, server_key(registry), creds)
        auths[server_key(registry)] = {}
    elif creds.identity_token:
        auths[server_key(registry)] = {"auth": "", "identitytoken": creds.identity_token}
    else:
        pair = f"{creds.username}:{creds.password}".encode()
        auths[server_key(registry)] = {"auth": base64.b64encode(pair).decode()}
    doc["auths"] = auths
    _save(path, doc)
    return path


def erase_credentials(registry: str, *, auth_file: Path | None = None) -> bool:
    """Forget `registry` (`docker logout`); False when nothing was stored for it."""
    path = write_path(auth_file)
    doc = _load(path)
    wanted = normalize_host(registry)
    auths = _section(doc, "auths")
    keys = [k for k in auths if normalize_host(k) == wanted]
    helper = _helper_for(doc, wanted)
    erased = helper_erase(helper, server_key(registry)) if helper is not None else False
    for key in keys:
        del auths[key]
    if keys:
        doc["auths"] = auths
        _save(path, doc)
    return erased or bool(keys)
