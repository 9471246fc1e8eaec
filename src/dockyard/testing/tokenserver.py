"""A tiny Docker token server for tests: issues RS256 JWTs that distribution's `auth: token` verifies.

Keys and the self-signed certificate are made with the `openssl` CLI (no Python crypto dependency);
each token is signed with `openssl dgst -sha256 -sign`. The JWT header carries the certificate in
`x5c`, so the registry only needs the certificate as its `rootcertbundle`. Every request is recorded.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from dockyard.testing.cncf import TokenAuth
from dockyard.testing.peers import require_tool


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """One request the token server saw."""

    method: str
    user: str | None
    scopes: tuple[str, ...]
    service: str | None
    granted: bool


@dataclass
class TokenServer:
    """State of a running token server; `users` maps names to passwords, `refresh_tokens` to users."""

    key: Path
    cert: Path
    url: str
    service: str = "dockyard-test-registry"
    issuer: str = "dockyard-test-issuer"
    users: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    anonymous_pull: bool = False
    expires_in: int = 300
    requests: list[TokenRequest] = field(default_factory=list)

    @property
    def auth(self) -> TokenAuth:
        return TokenAuth(realm=f"{self.url}/token", service=self.service, issuer=self.issuer, cert=self.cert)

    def sign(self, claims: dict[str, object]) -> str:
        der = base64.b64decode("".join(line for line in self.cert.read_text().splitlines() if "-----" not in line))
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                                   input=signing_input.encode(), capture_output=True, check=True, timeout=30).stdout
        return f"{signing_input}.{_b64url(signature)}"

    def grant(self, user: str | None, scopes: tuple[str, ...]) -> list[dict[str, object]]:
        """Users get what they ask for; anonymous callers get `pull` only when `anonymous_pull`."""
        access: list[dict[str, object]] = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            allowed = wanted if user else (["pull"] if self.anonymous_pull and "pull" in wanted else [])
            if name and allowed:
                access.append({"type": kind, "name": name, "actions": allowed})
        return access

    def issue(self, user: str | None, scopes: tuple[str, ...]) -> dict[str, object]:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": user or "", "aud": self.service, "exp": now + self.expires_in,
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8), "access": self.grant(user, scopes)}
        return {"token": self.sign(claims), "expires_in": self.expires_in, "issued_at": time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, doc: dict[str, object]) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _basic_user(self, state: TokenServer) -> tuple[str | None, bool]:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None, True
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user, state.users.get(user) == password and bool(password)

    def do_GET(self) -> None:
        state = self.server.state
        query = parse_qs(urlsplit(self.path).query)
        scopes = tuple(query.get("scope", []))
        user, ok = self._basic_user(state)
        state.requests.append(TokenRequest("GET", user, scopes, next(iter(query.get("service", [])), None), ok))
        if not ok:
            self._answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "wrong user name or password"}]})
            return
        self._answer(200, state.issue(user, scopes))

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        scopes = tuple(s for v in form.get("scope", []) for s in v.split(" ") if s)
        user = state.refresh_tokens.get((form.get("refresh_token") or [""])[0])
        granted = form.get("grant_type") == ["refresh_token"] and user is not None
        state.requests.append(TokenRequest("POST", user, scopes, next(iter(form.get("service", [])), None), granted))
        if not granted:
            self._answer(401, {"error": "invalid_grant"})
            return
        doc = state.issue(user, scopes)
        self._answer(200, {"access_token": doc["token"], "expires_in": doc["expires_in"]})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: TokenServer


@contextmanager
def token_server(workdir: Path, *, users: dict[str, str] | None = None) -> Iterator[TokenServer]:
    """Run a token server on a free loopback port with a fresh RSA key and certificate under `workdir`."""
    require_tool("openssl")
    workdir.mkdir(parents=True, exist_ok=True)
    key, cert = workdir / "token.key", workdir / "token.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=dockyard-test-token-issuer"],
                   capture_output=True, check=True, timeout=120)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = TokenServer(key, cert, f"http://127.0.0.1:{server.server_address[1]}", users=dict(users or {}))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="token-server",
                              daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
