"""`dockyard login` / `logout` and authenticated registry verbs against a CNCF registry with htpasswd Basic auth."""

from __future__ import annotations

import base64
import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_testkit import Cli, Result, assert_one_error

from dockyard.testing.cncf import CncfRegistry, cncf_registry
from dockyard.testing.tokenserver import TokenServer, token_server

USER, PASSWORD = "alice", "s3cret"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CncfRegistry]:
    with cncf_registry(tmp_path_factory.mktemp("cncf-cli-auth"), users=[(USER, PASSWORD)]) as reg:
        yield reg


@pytest.fixture(autouse=True)
def _no_user_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the real user's docker or podman credentials."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg-runtime"))


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    with token_server(tmp_path_factory.mktemp("cli-tokens"), users={USER: PASSWORD}) as server:
        yield server


@pytest.fixture(scope="module")
def bearer_registry(tmp_path_factory: pytest.TempPathFactory, tokens: TokenServer) -> Iterator[CncfRegistry]:
    """A CNCF registry with token auth: clients get Bearer tokens from `tokens`, on another port (another origin)."""
    with cncf_registry(tmp_path_factory.mktemp("cncf-cli-token"), token=tokens.auth) as reg:
        yield reg


def login(cli: Cli, monkeypatch: pytest.MonkeyPatch, registry: str, password: str, *extra: str | Path) -> Result:
    """`dockyard login REGISTRY -u alice --password-stdin`, the password fed on standard input."""
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return cli("login", registry, "-u", USER, "--password-stdin", *extra)


def test_cli_remote_login_push_pull_logout(cli: Cli, busybox: str, registry: CncfRegistry, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    authfile = tmp_path / "auth" / "auth.json"
    ref = registry.ref("team/app:1")
    # Anonymous: refused, with a hint to log in.
    cli.fails(7, "push", "busybox:1.0", ref, "--authfile", authfile,
              needles=(registry.host, "without credentials", f"dockyard login {registry.host}"))

    done = login(cli, monkeypatch, registry.host, PASSWORD, "--authfile", authfile)
    assert done.code == 0, done.err
    assert done.text == f"Login Succeeded (credentials in {authfile})\n"
    assert stat.S_IMODE(authfile.stat().st_mode) == 0o600
    doc = json.loads(authfile.read_text())
    assert doc == {"auths": {registry.host: {"auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}}}
    assert not (tmp_path / "docker-config").exists()  # --authfile was written, nothing else

    assert cli.ok("push", "busybox:1.0", ref, "--authfile", authfile).text == f"{ref} {busybox}\n"
    assert cli.ok("tags", registry.ref("team/app"), "--authfile", authfile).text == "1\n"
    # $REGISTRY_AUTH_FILE is the same file, as with podman and skopeo.
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(authfile))
    assert cli.ok("digest", ref).text == f"{busybox}\n"
    assert registry.ref("team/app").split("/", 1)[1] in cli.ok("catalog", registry.host).text.splitlines()
    monkeypatch.delenv("REGISTRY_AUTH_FILE")
    cli.fails(7, "digest", ref, needles=(registry.host,))  # not in docker's config: anonymous again

    assert cli.ok("logout", registry.host, "--authfile", authfile).text == \
        f"Removed login credentials for {registry.host}\n"
    assert json.loads(authfile.read_text()) == {"auths": {}}
    cli.fails(7, "pull", ref, "--authfile", authfile, needles=(registry.host,))
    assert cli.ok("logout", registry.host, "--authfile", authfile).text == f"Not logged in to {registry.host}\n"


def test_cli_remote_login_to_docker_config(cli: Cli, busybox: str, registry: CncfRegistry, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --authfile, login writes docker's config.json (in $DOCKER_CONFIG), keeping what else it holds."""
    config = tmp_path / "docker-config" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"auths": {"other.example": {"auth": "eDp5"}}, "psFormat": "table"}))
    assert login(cli, monkeypatch, registry.host, PASSWORD).code == 0
    doc = json.loads(config.read_text())
    assert doc["psFormat"] == "table" and doc["auths"]["other.example"] == {"auth": "eDp5"}
    assert registry.host in doc["auths"]
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    cli.ok("push", "busybox:1.0", registry.ref("cfg/app:1"))
    cli.ok("logout", registry.host)
    assert set(json.loads(config.read_text())["auths"]) == {"other.example"}


def test_cli_remote_wrong_password(cli: Cli, busybox: str, registry: CncfRegistry, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    authfile = tmp_path / "auth.json"
    result = login(cli, monkeypatch, registry.host, "wrong", "--authfile", authfile)
    line = assert_one_error(result, 7, registry.host, USER, "authentication failed")
    assert "dockyard login" not in line  # no advice to run the command that just failed
    assert not authfile.exists()
    # Stored but wrong credentials: one line naming the registry and the user, exit 7.
    authfile.write_text(json.dumps({"auths": {registry.host: {
        "auth": base64.b64encode(f"{USER}:wrong".encode()).decode()}}}))
    for args in (("pull", registry.ref("x/y:1")), ("push", "busybox:1.0", registry.ref("x/y:1")),
                 ("tags", registry.ref("x/y")), ("catalog", registry.host)):
        cli.fails(7, *args, "--authfile", authfile, needles=(registry.host, f"as {USER}"))


def test_cli_remote_login_bad_input(cli: Cli, registry: CncfRegistry, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    authfile = tmp_path / "auth.json"
    assert_one_error(login(cli, monkeypatch, registry.host, "", "--authfile", authfile), 2, "empty password")
    authfile.write_text("{not json")
    cli.fails(2, "pull", registry.ref("x/y:1"), "--authfile", authfile, needles=(str(authfile), "not valid JSON"))


def test_cli_remote_login_with_bearer_tokens(cli: Cli, busybox: str, bearer_registry: CncfRegistry,
                                            tokens: TokenServer, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The Docker Hub style flow: the registry's 401 names a realm; the password goes to the token server only."""
    authfile = tmp_path / "auth.json"
    line = assert_one_error(login(cli, monkeypatch, bearer_registry.host, "wrong", "--authfile", authfile), 7,
                            bearer_registry.host, USER)
    assert "token server" in line and not authfile.exists()
    assert login(cli, monkeypatch, bearer_registry.host, PASSWORD, "--authfile", authfile).code == 0
    tokens.requests.clear()
    ref = bearer_registry.ref("bearer/app:1")
    assert cli.ok("push", "busybox:1.0", ref, "--authfile", authfile).text == f"{ref} {busybox}\n"
    assert any("repository:bearer/app:pull,push" in r.scopes for r in tokens.requests)
    assert all(r.user == USER for r in tokens.requests)
    assert cli.ok("digest", ref, "--authfile", authfile).text == f"{busybox}\n"
    cli.fails(7, "digest", ref, needles=(bearer_registry.host,))  # anonymous: the token server grants nothing
