"""Authentication against real CNCF registries: htpasswd Basic auth and token (Bearer) auth with our token server."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from remote_testkit import Blobs, basic_auth, make_image

from dockyard.errors import Unauthorized
from dockyard.oci.platform import Platform
from dockyard.testing.cncf import CncfRegistry, cncf_registry
from dockyard.testing.tokenserver import TokenServer, token_server
from dockyard.transports import remote
from dockyard.transports.remote import RemoteOptions
from dockyard.transports.remote.catalog import list_tags

ConfigWriter = Callable[[dict[str, object]], Path]


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CncfRegistry]:
    with cncf_registry(tmp_path_factory.mktemp("cncf-basic"), users=[("alice", "s3cret"), ("bob", "hunter2")]) as reg:
        yield reg


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    with token_server(tmp_path_factory.mktemp("tokens"), users={"alice": "pw"}) as server:
        yield server


@pytest.fixture(scope="module")
def bearer_registry(tmp_path_factory: pytest.TempPathFactory, tokens: TokenServer) -> Iterator[CncfRegistry]:
    with cncf_registry(tmp_path_factory.mktemp("cncf-token"), token=tokens.auth) as reg:
        yield reg


@pytest.fixture
def ts(tokens: TokenServer) -> TokenServer:
    """The module's token server, reset for this test."""
    tokens.requests.clear()
    tokens.anonymous_pull = False
    tokens.refresh_tokens.clear()
    tokens.expires_in = 300
    return tokens


def test_remote_basic_auth_from_docker_config(basic_registry: CncfRegistry, docker_config: ConfigWriter,
                                              blobs: Blobs, repo: str) -> None:
    docker_config({"auths": {basic_registry.host: {"auth": basic_auth("alice", "s3cret")}}})
    image = make_image(blobs, Platform("linux", "amd64"), {"secret": b"basic\n"})
    remote.push(image, basic_registry.ref(f"{repo}:1"))
    assert remote.open_remote(basic_registry.ref(f"{repo}:1")).digest() == image.digest()


def test_remote_basic_auth_wrong_password(basic_registry: CncfRegistry, docker_config: ConfigWriter,
                                          repo: str) -> None:
    docker_config({"auths": {f"https://{basic_registry.host}/v1/": {"auth": basic_auth("alice", "wrong")}}})
    with pytest.raises(Unauthorized) as info:
        remote.open_remote(basic_registry.ref(f"{repo}:1"))
    err = info.value
    assert err.exit_code == 7
    assert basic_registry.host in err.message and "alice" in err.message and "\n" not in err.message
    assert err.hint is not None and "dockyard login" in err.hint


def test_remote_basic_auth_without_credentials(basic_registry: CncfRegistry, docker_config: ConfigWriter,
                                               repo: str) -> None:
    docker_config({"auths": {}})
    with pytest.raises(Unauthorized, match=f"{basic_registry.host}: authentication failed without credentials"):
        remote.list_tags(basic_registry.ref(repo))


def test_remote_login_logout(basic_registry: CncfRegistry, docker_config: ConfigWriter, blobs: Blobs,
                             repo: str) -> None:
    path = docker_config({"auths": {"other.example": {"auth": basic_auth("x", "y")}}, "psFormat": "keep me"})
    with pytest.raises(Unauthorized):
        remote.login(basic_registry.host, "bob", "wrong")
    assert basic_registry.host not in json.loads(path.read_text())["auths"]
    assert remote.login(basic_registry.host, "bob", "hunter2") == path
    doc = json.loads(path.read_text())
    assert doc["psFormat"] == "keep me" and "other.example" in doc["auths"]
    assert doc["auths"][basic_registry.host] == {"auth": basic_auth("bob", "hunter2")}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    image = make_image(blobs, Platform("linux", "amd64"), {"login": b"ok\n"})
    remote.push(image, basic_registry.ref(f"{repo}:1"))
    assert remote.logout(basic_registry.host) is True
    assert remote.logout(basic_registry.host) is False
    assert basic_registry.host not in json.loads(path.read_text())["auths"]
    with pytest.raises(Unauthorized):
        remote.push(image, basic_registry.ref(f"{repo}:2"))


def test_remote_credentials_from_helper_and_auth_files(basic_registry: CncfRegistry, docker_config: ConfigWriter,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       repo: str) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-dytest"
    helper.write_text("#!/bin/sh\nread server\necho \"$server\" >> \"$0.log\"\n"
                      "echo '{\"ServerURL\":\"'$server'\",\"Username\":\"alice\",\"Secret\":\"s3cret\"}'\n")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    docker_config({"credHelpers": {basic_registry.host: "dytest"}})
    assert remote.catalog(basic_registry.host) is not None
    assert Path(f"{helper}.log").read_text().split() == [basic_registry.host]
    # An explicit auth file (podman's auth.json format) wins over the docker config.
    docker_config({"auths": {}})
    auth_json = tmp_path / "auth.json"
    auth_json.write_text(json.dumps({"auths": {basic_registry.host: {"auth": basic_auth("bob", "hunter2")}}}))
    remote.catalog(basic_registry.host, RemoteOptions(auth_file=auth_json))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth_json))
    remote.catalog(basic_registry.host)
    monkeypatch.delenv("REGISTRY_AUTH_FILE")
    runtime = Path(os.environ["XDG_RUNTIME_DIR"]) / "containers"
    runtime.mkdir(parents=True)
    (runtime / "auth.json").write_text(auth_json.read_text())
    remote.catalog(basic_registry.host)


def test_remote_bearer_push_pull_scopes(bearer_registry: CncfRegistry, ts: TokenServer,
                                        docker_config: ConfigWriter, blobs: Blobs, repo: str) -> None:
    docker_config({"auths": {bearer_registry.host: {"auth": basic_auth("alice", "pw")}}})
    image = make_image(blobs, Platform("linux", "amd64"), {"bearer": b"token\n"})
    remote.push(image, bearer_registry.ref(f"{repo}:1"))
    push_requests = list(ts.requests)
    assert push_requests and all(r.user == "alice" and r.service == ts.service for r in push_requests)
    assert any(f"repository:{repo}:pull,push" in r.scopes for r in push_requests)
    assert len(push_requests) <= 2, "tokens are cached per scope set"
    ts.requests.clear()
    pulled = remote.open_remote(bearer_registry.ref(f"{repo}:1"))
    assert pulled.digest() == image.digest()
    assert [r.scopes for r in ts.requests] == [(f"repository:{repo}:pull",)]


def test_remote_bearer_anonymous(bearer_registry: CncfRegistry, ts: TokenServer, docker_config: ConfigWriter,
                                 blobs: Blobs, repo: str) -> None:
    docker_config({"auths": {bearer_registry.host: {"auth": basic_auth("alice", "pw")}}})
    image = make_image(blobs, Platform("linux", "amd64"), {"anon": b"anon\n"})
    remote.push(image, bearer_registry.ref(f"{repo}:1"))
    docker_config({"auths": {}})
    with pytest.raises(Unauthorized, match=bearer_registry.host):
        remote.open_remote(bearer_registry.ref(f"{repo}:1"))
    ts.anonymous_pull = True
    assert remote.open_remote(bearer_registry.ref(f"{repo}:1")).digest() == image.digest()
    with pytest.raises(Unauthorized):
        remote.push(image, bearer_registry.ref(f"{repo}:2"))


def test_remote_bearer_wrong_password(bearer_registry: CncfRegistry, ts: TokenServer,
                                      docker_config: ConfigWriter, repo: str) -> None:
    docker_config({"auths": {bearer_registry.host: {"auth": basic_auth("alice", "nope")}}})
    with pytest.raises(Unauthorized, match=f"{bearer_registry.host}: the token server refused user alice"):
        remote.open_remote(bearer_registry.ref(f"{repo}:1"))


def test_remote_bearer_identity_token(bearer_registry: CncfRegistry, ts: TokenServer,
                                      docker_config: ConfigWriter, blobs: Blobs, repo: str) -> None:
    ts.refresh_tokens["refresh-123"] = "alice"
    docker_config({"auths": {bearer_registry.host: {"auth": "", "identitytoken": "refresh-123"}}})
    image = make_image(blobs, Platform("linux", "amd64"), {"oauth": b"refresh\n"})
    remote.push(image, bearer_registry.ref(f"{repo}:1"))
    assert ts.requests and all(r.method == "POST" and r.user == "alice" for r in ts.requests)


def test_remote_bearer_login(bearer_registry: CncfRegistry, ts: TokenServer, docker_config: ConfigWriter) -> None:
    path = docker_config({})
    with pytest.raises(Unauthorized):
        remote.login(bearer_registry.host, "alice", "bad")
    remote.login(bearer_registry.host, "alice", "pw")
    assert json.loads(path.read_text())["auths"][bearer_registry.host] == {"auth": basic_auth("alice", "pw")}


def test_remote_bearer_token_cache_and_expiry(bearer_registry: CncfRegistry, ts: TokenServer,
                                              docker_config: ConfigWriter, blobs: Blobs, repo: str) -> None:
    docker_config({"auths": {bearer_registry.host: {"auth": basic_auth("alice", "pw")}}})
    image = make_image(blobs, Platform("linux", "amd64"), {"cache": b"tokens\n"})
    remote.push(image, bearer_registry.ref(f"{repo}:1"))
    ts.requests.clear()
    ts.expires_in = 1
    session = remote.session_for(bearer_registry.ref(repo))
    try:
        for _ in range(3):
            assert list_tags(session, repo) == ["1"]
        assert len(ts.requests) == 1, "one token for the same scope"
        time.sleep(1.2)
        assert list_tags(session, repo) == ["1"]
        assert len(ts.requests) == 2, "an expired token is fetched again"
    finally:
        ts.expires_in = 300
        session.close()
