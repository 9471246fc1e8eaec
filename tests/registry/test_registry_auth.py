"""Basic auth from htpasswd files (bcrypt from the real `htpasswd -B`, SHA-crypt from `openssl passwd`)."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from dockyard.errors import Unsupported
from dockyard.registry.auth import Access, Action, Identity
from dockyard.registry.auth.access import AuthenticatedOnly
from dockyard.registry.auth.basic import parse_basic
from dockyard.registry.auth.htpasswd import Htpasswd
from dockyard.registry.auth.shacrypt import sha_crypt, verify
from dockyard.registry.errcodes import Unauthenticated
from dockyard.testing.peers import require_tool
from dockyard.testing.registry import push_image


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def htpasswd_file(tmp_path: Path) -> Path:
    tool = require_tool("htpasswd")
    path = tmp_path / "htpasswd"
    subprocess.run([tool, "-B", "-b", "-c", "-C", "5", str(path), "alice", "s3cret"], check=True,
                   capture_output=True)
    openssl = require_tool("openssl")
    sha = subprocess.run([openssl, "passwd", "-6", "-salt", "pepper", "hunter2"], check=True,
                         capture_output=True, text=True).stdout.strip()
    with path.open("a") as fh:
        fh.write(f"# a comment\n\nbob:{sha}\n")
    return path


def test_sha_crypt_vectors() -> None:
    """Drepper's published SHA-crypt test vectors."""
    assert sha_crypt(b"Hello world!", "$5$saltstring") == "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
    assert sha_crypt(b"Hello world!", "$5$rounds=10000$saltstringsaltstring") == (
        "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA")
    assert sha_crypt(b"Hello world!", "$6$saltstring") == (
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1")
    assert not verify(b"Hello world?", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4")


def test_htpasswd_verifies_bcrypt_and_sha_crypt(htpasswd_file: Path) -> None:
    users = Htpasswd.load(htpasswd_file)
    assert users.verify("alice", b"s3cret")
    assert users.cached("alice", b"s3cret")
    assert not users.cached("alice", b"wrong")
    assert not users.verify("alice", b"wrong")
    assert users.verify("bob", b"hunter2")
    assert not users.verify("mallory", b"s3cret")


def test_weak_hashes_are_refused(tmp_path: Path) -> None:
    """MD5 ($apr1$), {SHA} and plain text entries stop the server from starting, naming the user."""
    for entry in ("carol:$apr1$abc$xyz", "carol:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=", "carol:plain"):
        path = tmp_path / "weak"
        path.write_text(entry + "\n")
        with pytest.raises(Unsupported, match="carol"):
            Htpasswd.load(path)


def test_parse_basic() -> None:
    assert parse_basic("Basic " + base64.b64encode(b"u:p:q").decode()) == ("u", b"p:q")
    for bad in ("Bearer x", "Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()):
        assert parse_basic(bad) is None


def test_authorize_seam() -> None:
    policy = AuthenticatedOnly('Basic realm="x"')
    grant = policy.authorize(Identity("alice"), Access("app", Action.PUSH))
    assert grant.identity.name == "alice"
    with pytest.raises(Unauthenticated):
        policy.authorize(Identity(None), Access("app", Action.PULL))


def test_registry_requires_credentials(client_factory: Callable[..., TestClient], htpasswd_file: Path) -> None:
    """401 + `WWW-Authenticate: Basic realm="dockyard"` + UNAUTHORIZED without or with bad credentials."""
    client = client_factory(htpasswd=htpasswd_file)
    for headers in ({}, _basic("alice", "nope"), {"Authorization": "Basic garbage"}):
        response = client.get("/v2/", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="dockyard"'
        assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
        assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert client.get("/v2/app/tags/list").status_code == 401
    client.headers.update(_basic("alice", "s3cret"))
    assert client.get("/v2/").status_code == 200
    push_image(client, "app", "v1")
    meta = client.app.state.registry.meta  # type: ignore[attr-defined]
    assert {entry.actor for entry in meta.audit_log()} == {"alice"}
    client.headers.update(_basic("bob", "hunter2"))
    assert client.get("/v2/app/tags/list").json()["tags"] == ["v1"]
