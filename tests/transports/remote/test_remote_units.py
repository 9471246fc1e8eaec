"""Unit tests of the registry client's parsing and credential files (no network)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest
from remote_testkit import basic_auth

from dockyard.errors import BlobUnknown, Denied, DigestMismatch, Error, InvalidArgument, ManifestUnknown, Unauthorized
from dockyard.oci.digest import Digest
from dockyard.transports.remote import RemoteRef
from dockyard.transports.remote.auth import Challenge, parse_challenges
from dockyard.transports.remote.client import is_loopback, retry_after
from dockyard.transports.remote.credentials import (
    Credentials,
    erase_credentials,
    find_credentials,
    normalize_host,
    store_credentials,
)
from dockyard.transports.remote.errmap import raise_for
from dockyard.transports.remote.referrers import fallback_tag


def test_remote_parse_challenges() -> None:
    header = ('Bearer realm="https://auth.example/token?x=1,2",service="registry.example",'
              'scope="repository:a/b:pull,push", Basic realm="fallback"')
    assert parse_challenges(header) == [
        Challenge("bearer", {"realm": "https://auth.example/token?x=1,2", "service": "registry.example",
                             "scope": "repository:a/b:pull,push"}),
        Challenge("basic", {"realm": "fallback"}),
    ]
    assert parse_challenges('Basic realm="say \\"hi\\""') == [Challenge("basic", {"realm": 'say "hi"'})]
    assert parse_challenges("") == []


def test_remote_retry_after_and_loopback() -> None:
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(httpx.Response(429)) is None
    assert all(is_loopback(h) for h in ("localhost:5000", "127.0.0.1", "127.1.2.3:80", "[::1]:5000"))
    assert not any(is_loopback(h) for h in ("registry.example", "10.0.0.1:5000", "[2001:db8::1]:443"))


def test_remote_ref() -> None:
    ref = RemoteRef.parse("busybox")
    assert (ref.registry, ref.repository, ref.tag, ref.api_host) == ("docker.io", "library/busybox", "latest",
                                                                     "registry-1.docker.io")
    digest = Digest.of(b"x")
    pinned = RemoteRef.parse(f"127.0.0.1:5000/a/b:1@{digest}")
    assert pinned.target == str(digest) and pinned.api_host == "127.0.0.1:5000"
    assert str(pinned) == f"127.0.0.1:5000/a/b:1@{digest}"
    assert fallback_tag(digest) == f"sha256-{digest.encoded}"


@pytest.mark.parametrize(("status", "body", "kind"), [
    (404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}, ManifestUnknown),
    (404, {"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]}, BlobUnknown),
    (400, {"errors": [{"code": "DIGEST_INVALID", "message": "bad digest"}]}, DigestMismatch),
    (401, {"errors": [{"code": "UNAUTHORIZED", "message": "nope"}]}, Unauthorized),
    (403, {"errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]}, Denied),
    (400, {"errors": [{"code": "BLOB_UPLOAD_INVALID", "message": "x"}]}, InvalidArgument),
    (503, "<html>busy</html>", Error),
])
def test_remote_error_mapping(status: int, body: object, kind: type[Error]) -> None:
    raw = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
    with pytest.raises(kind) as info:
        raise_for(httpx.Response(status), raw, registry="reg.example", what="thing")
    assert type(info.value) is kind
    assert "\n" not in info.value.message
    if status == 403:
        assert info.value.message == "reg.example: access denied to thing: requested access to the resource is denied"
        assert info.value.exit_code == 8


def test_remote_credentials_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docker = tmp_path / "docker"
    docker.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    (docker / "config.json").write_text(json.dumps({"auths": {
        "https://index.docker.io/v1/": {"auth": basic_auth("hub", "hubsecret")},
        "reg.example:5000": {"username": "u", "password": "p", "identitytoken": "tok"},
        "empty.example": {},
    }}))
    assert find_credentials("docker.io") == Credentials("hub", "hubsecret")
    assert find_credentials("registry-1.docker.io") == Credentials("hub", "hubsecret")
    assert find_credentials("reg.example:5000") == Credentials("u", "p", "tok")
    assert find_credentials("empty.example") is None
    assert find_credentials("unknown.example") is None
    runtime = tmp_path / "run"
    (runtime / "containers").mkdir(parents=True)
    (runtime / "containers" / "auth.json").write_text(json.dumps({"auths": {"docker.io": {
        "auth": basic_auth("podman", "x")}}}))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert find_credentials("docker.io") == Credentials("podman", "x")
    assert find_credentials("reg.example:5000") == Credentials("u", "p", "tok")  # falls through to docker's
    explicit = tmp_path / "explicit.json"
    explicit.write_text(json.dumps({"auths": {"docker.io": {"auth": basic_auth("mine", "m")}}}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(explicit))
    assert find_credentials("docker.io") == Credentials("mine", "m")
    assert find_credentials("docker.io", auth_file=tmp_path / "missing.json") == Credentials("hub", "hubsecret")
    assert "hubsecret" not in repr(find_credentials("docker.io", auth_file=tmp_path / "missing.json"))


def test_remote_credentials_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidArgument, match="not valid JSON"):
        find_credentials("x.example", auth_file=bad)
    bad.write_text(json.dumps({"auths": {"x.example": {"auth": "bm9jb2xvbg=="}}}))  # "nocolon"
    with pytest.raises(InvalidArgument, match="no ':'"):
        find_credentials("x.example", auth_file=bad)


def test_remote_store_and_erase_credentials(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "auth.json"
    assert store_credentials("docker.io", Credentials("me", "pw"), auth_file=path) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"auths": {"https://index.docker.io/v1/": {"auth": basic_auth("me", "pw")}}}
    store_credentials("index.docker.io", Credentials("me2", "pw2"), auth_file=path)
    assert list(json.loads(path.read_text())["auths"]) == ["https://index.docker.io/v1/"]
    assert find_credentials("docker.io", auth_file=path) == Credentials("me2", "pw2")
    assert erase_credentials("docker.io", auth_file=path) is True
    assert find_credentials("docker.io", auth_file=path) is None
    assert normalize_host("HTTPS://Reg.Example:5000/v2/") == "reg.example:5000"


def test_remote_credential_helper_store_and_erase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    vault = tmp_path / "vault"
    vault.mkdir()
    helper = bindir / "docker-credential-vault"
    helper.write_text(f"""#!/bin/sh
V={vault}
case "$1" in
  store) cat > "$V/current" ;;
  get) read s; if [ -f "$V/current" ]; then sed 's/"ServerURL":"[^"]*",//' "$V/current"; else
       echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) read s; if [ -f "$V/current" ]; then rm "$V/current"; else echo "credentials not found"; exit 1; fi ;;
esac
""")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credsStore": "vault"}))
    assert find_credentials("reg.example", auth_file=config) is None
    store_credentials("reg.example", Credentials("alice", "pw"), auth_file=config)
    assert json.loads((vault / "current").read_text()) == {"ServerURL": "reg.example", "Username": "alice",
                                                            "Secret": "pw"}
    assert json.loads(config.read_text())["auths"] == {"reg.example": {}}
    assert find_credentials("reg.example", auth_file=config) == Credentials("alice", "pw")
    assert erase_credentials("reg.example", auth_file=config) is True
    assert erase_credentials("reg.example", auth_file=config) is False
    config.write_text(json.dumps({"credHelpers": {"reg.example": "missing-helper"}}))
    with pytest.raises(Error, match="docker-credential-missing-helper is not installed"):
        find_credentials("reg.example", auth_file=config)
