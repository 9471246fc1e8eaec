"""Registry authentication: anonymous, Basic, and the Bearer token flow driven by `WWW-Authenticate`.

The challenge is learnt from a 401 (usually the `/v2/` ping). Bearer tokens are fetched from the realm
with the challenge's `service` and the request's scopes (Basic credentials or an OAuth2 refresh token
authenticate that fetch), cached per scope set until they expire, and fetched again on a 401.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

import httpx

from dockyard.errors import Error, Unauthorized
from dockyard.transports.remote.credhelper import Credentials
from dockyard.transports.remote.errmap import describe, read_error_body

#: Tokens without `expires_in` live 60 s (distribution's token spec); refresh a little early.
DEFAULT_TOKEN_LIFE = 60
_EARLY = 5
_ITEM = re.compile(
    r'\s*(?:(?P<key>[A-Za-z0-9_.-]+)\s*=\s*(?:"(?P<q>(?:[^"\\]|\\.)*)"|(?P<v>[^\s,]*))|(?P<scheme>[A-Za-z0-9_.-]+))'
    r"\s*,?"
)


@dataclass(frozen=True, slots=True)
class Challenge:
    """One `WWW-Authenticate` challenge: scheme (lowercase) and parameters."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)


def parse_challenges(header: str) -> list[Challenge]:
    """All challenges of a `WWW-Authenticate` value (quoted values may hold commas)."""
    out: list[tuple[str, dict[str, str]]] = []
    pos = 0
    while pos < len(header):
        m = _ITEM.match(header, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        if m["scheme"]:
            out.append((m["scheme"].lower(), {}))
        elif out:
            value = m["q"] if m["q"] is not None else m["v"]
            out[-1][1][m["key"].lower()] = re.sub(r"\\(.)", r"\1", value)
    return [Challenge(s, p) for s, p in out]


def scope_for(repository: str, *actions: str) -> str:
    """The token scope for actions on a repository (`repository:NAME:pull,push`)."""
    return f"repository:{repository}:{','.join(actions)}"


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires: float


class Authenticator:
    """Authorization headers for one registry; thread-safe."""

    def __init__(self, registry: str, client: httpx.Client, lookup: Callable[[], Credentials | None]) -> None:
        self.registry = registry
        self._client = client
        self._lookup = lookup
        self._lock = threading.Lock()
        self._challenge: Challenge | None = None
        self._tokens: dict[frozenset[str], _Token] = {}
        self._creds: Credentials | None = None
        self._creds_loaded = False

    def credentials(self) -> Credentials | None:
        if not self._creds_loaded:
            self._creds = self._lookup()
            self._creds_loaded = True
        return self._creds

    def header(self, scopes: Collection[str]) -> str | None:
        """The Authorization value for a request needing `scopes`, or None (anonymous)."""
        with self._lock:
            ch = self._challenge
            if ch is None:
                return None
            if ch.scheme == "basic":
                creds = self.credentials()
                if creds is None or not creds.username:
                    return None
                pair = f"{creds.username}:{creds.password}".encode()
                return "Basic " + base64.b64encode(pair).decode()
            key = frozenset(scopes)
            token = self._tokens.get(key)
            if token is None or token.expires <= time.monotonic():
                token = self._fetch(ch, key)
                self._tokens[key] = token
            return "Bearer " + token.value

    def challenged(self, response: httpx.Response, scopes: Collection[str], sent: str | None, *,
                   fetch: bool = True) -> bool:
        """Learn from a 401; True when retrying with fresh authorization can help."""
        found = parse_challenges(response.headers.get("www-authenticate", ""))
        chosen = next((c for c in found if c.scheme == "bearer"), None) or next(
            (c for c in found if c.scheme == "basic"), None)
        if chosen is None:
            return False
        with self._lock:
            self._challenge = chosen
            if not fetch:
                return False
            if chosen.scheme == "basic":
                creds = self.credentials()
                return sent is None and creds is not None and bool(creds.username)
            wanted = set(scopes)
            if chosen.params.get("scope"):
                wanted.update(chosen.params["scope"].split(" "))
            key = frozenset(scopes)
            self._tokens[key] = self._fetch(chosen, frozenset(wanted))
            return True

    def ping_challenge(self, response: httpx.Response) -> None:
        """Record the challenge of a `/v2/` answer (401), so later requests authenticate up front."""
        if response.status_code == 401:
            self.challenged(response, (), None, fetch=False)

    def _fetch(self, ch: Challenge, scopes: frozenset[str]) -> _Token:
        realm = ch.params.get("realm")
        if not realm:
            raise Error(f"{self.registry}: Bearer challenge without a realm: cannot get a token")
        creds = self.credentials()
        service = ch.params.get("service")
        try:
            if creds is not None and creds.identity_token:
                form = {"grant_type": "refresh_token", "refresh_token": creds.identity_token,
                        "client_id": "dockyard", "scope": " ".join(sorted(scopes))}
                if service:
                    form["service"] = service
                resp = self._client.post(realm, data=form)
            else:
                params: list[tuple[str, str | int | float | bool | None]] = [("service", service)] if service else []
                params += [("scope", s) for s in sorted(scopes)]
                auth = None
                if creds is not None and creds.username:
                    params.append(("account", creds.username))
                    auth = httpx.BasicAuth(creds.username, creds.password)
                resp = self._client.get(realm, params=params, auth=auth)
        except httpx.TransportError as exc:
            raise Error(f"{self.registry}: cannot reach the token server {realm}: {exc}") from None
        if resp.status_code != 200:
            _, text = describe(resp.status_code, resp.reason_phrase, read_error_body(resp))
            who = f"user {creds.username}" if creds is not None and creds.username else "anonymous access"
            if resp.status_code in (401, 403):
                raise Unauthorized(f"{self.registry}: the token server refused {who}: {text}",
                                   hint=f"check the credentials or run: dockyard login {self.registry}")
            raise Error(f"{self.registry}: the token server {realm} failed: {text}")
        return _parse_token(resp, self.registry)


def _parse_token(resp: httpx.Response, registry: str) -> _Token:
    try:
        doc = resp.json()
    except ValueError:
        doc = None
    value = (doc.get("token") or doc.get("access_token")) if isinstance(doc, dict) else None
    if not isinstance(value, str) or not value:
        raise Error(f"{registry}: the token server answered without a token")
    life = doc.get("expires_in") if isinstance(doc, dict) else None
    seconds = life if isinstance(life, int) and life > 0 else DEFAULT_TOKEN_LIFE
    return _Token(value, time.monotonic() + max(seconds - _EARLY, 1))
