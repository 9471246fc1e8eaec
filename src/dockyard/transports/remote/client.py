"""An HTTP session to one registry: scheme and TLS choice, authentication, redirects, retries and error mapping.

`send` is one attempt (with one re-authentication after a 401); `request` retries idempotent requests;
`retrying` retries any operation, so an upload can start over as a whole. Retried are connection errors,
408, 429 and 5xx answers, with doubling waits that honour `Retry-After`, at most `options.retries` times.
Authorization is only ever sent to the registry's own origin, never to a host it redirects to.
"""

from __future__ import annotations

import email.utils
import ipaddress
import ssl
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import certifi
import httpx

from dockyard.errors import Error, NotFound, Unauthorized
from dockyard.transports.remote.auth import Authenticator
from dockyard.transports.remote.credentials import find_credentials
from dockyard.transports.remote.credhelper import Credentials
from dockyard.transports.remote.errmap import describe, raise_for, read_error_body
from dockyard.transports.remote.options import RemoteOptions


def _bigger_socket_reads() -> None:
    """httpcore reads the socket 64 KiB at a time and parses each read in Python (h11); blobs stream
    much faster with 1 MiB reads (~25% less CPU per pulled byte here). A private constant, so guarded."""
    try:
        from httpcore._sync import http11
    except ImportError:  # pragma: no cover - another httpcore layout: keep its default
        return
    if getattr(http11.HTTP11Connection, "READ_NUM_BYTES", 0) < (1 << 20):
        http11.HTTP11Connection.READ_NUM_BYTES = 1 << 20


_bigger_socket_reads()

T = TypeVar("T")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
#: Where docker and podman keep per-registry CA certificates (`<dir>/<host:port>/*.crt`).
CERTS_DIRS = (Path("/etc/docker/certs.d"), Path("/etc/containers/certs.d"))
Content = bytes | Iterable[bytes] | None


class Retry(Exception):
    """An attempt failed in a way a later attempt may not; carries the error to raise when giving up."""

    def __init__(self, error: Error, after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.after = after


def is_loopback(host: str) -> bool:
    """True for `localhost`, 127.0.0.0/8 and ::1 (with or without a port)."""
    name = host.rsplit("]", 1)[0].lstrip("[") if host.startswith("[") else host.rsplit(":", 1)[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def retry_after(response: httpx.Response) -> float | None:
    """Seconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds()) if when.tzinfo else None


def relaxed(host: str, options: RemoteOptions) -> bool:
    """Plain HTTP and unverified TLS: asked for, or a loopback registry without a CA of its own (as docker)."""
    return options.insecure or (is_loopback(host) and options.ca_cert is None)


def _tls(host: str, options: RemoteOptions) -> ssl.SSLContext | bool:
    if relaxed(host, options):
        return False
    ctx = ssl.create_default_context(cafile=certifi.where())
    extra = [options.ca_cert] if options.ca_cert else []
    for base in CERTS_DIRS:
        if (base / host).is_dir():
            extra += sorted((base / host).glob("*.crt"))
    for path in extra:
        try:
            ctx.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise Error(f"cannot load CA certificate {path}: {exc}") from None
    return ctx


def _reason(exc: BaseException | None) -> str:
    text = str(exc) if exc is not None else ""
    for marker in ("Connection refused", "Name or service not known", "No route to host", "timed out"):
        if marker.lower() in text.lower():
            return marker.lower()
    return text or type(exc).__name__


class Session:
    """Requests to one registry (`host[:port]`); safe to share between threads."""

    def __init__(self, host: str, options: RemoteOptions, *, name: str | None = None,
                 credentials: Credentials | None = None) -> None:
        self.host = host
        self.registry = name or host
        self.options = options
        self.insecure = relaxed(host, options)
        self.http = httpx.Client(
            http1=True, http2=False, verify=_tls(host, options), follow_redirects=False,
            timeout=httpx.Timeout(options.timeout, connect=min(options.timeout, 30.0)),
            limits=httpx.Limits(max_connections=max(options.parallel, 1) + 4, max_keepalive_connections=16),
            headers={"User-Agent": options.user_agent},
        )
        self.auth = Authenticator(self.registry, self.http, lambda: credentials or find_credentials(
            self.registry, auth_file=options.auth_file))
        self._base: str | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    def base(self) -> str:
        """`scheme://host`, found by pinging `/v2/` (https first; plain http too when insecure)."""
        with self._lock:
            if self._base is None:
                self._base = self._ping()
            return self._base

    def _ping(self) -> str:
        last: BaseException | None = None
        for scheme in ("https", "http") if self.insecure else ("https",):
            try:
                resp = self.http.get(f"{scheme}://{self.host}/v2/")
            except httpx.TransportError as exc:
                last = exc
                continue
            self.auth.ping_challenge(resp)
            return f"{scheme}://{self.host}"
        hint = None
        if isinstance(last, httpx.ConnectError) and "ssl" in str(last).lower():
            hint = "for a plain-HTTP or self-signed registry use --insecure, or give its CA with --ca-cert"
        raise Error(f"cannot connect to registry {self.registry}: {_reason(last)}", hint=hint)

    def url(self, path: str) -> str:
        return path if "://" in path else self.base() + path

    def _same_origin(self, url: str) -> bool:
        a, b = urlsplit(url), urlsplit(self.base())
        return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())

    def _follow(self, method: str, url: str, headers: Mapping[str, str], content: Content, authorization: str | None,
                stream: bool) -> httpx.Response:
        for _ in range(MAX_REDIRECTS + 1):
            h = dict(headers)
            if authorization and self._same_origin(url):
                h["Authorization"] = authorization
            resp = self.http.send(self.http.build_request(method, url, headers=h, content=content), stream=stream)
            if resp.status_code not in _REDIRECTS or "location" not in resp.headers:
                return resp
            resp.close()
            url = str(resp.url.join(resp.headers["location"]))
            if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
                method, content = "GET", None
            elif content is not None and not isinstance(content, bytes):
                raise Error(f"{self.registry}: a streamed {method} was redirected; cannot send the body again")
        raise Error(f"{self.registry}: more than {MAX_REDIRECTS} redirects for {url}")

    def send(self, method: str, path: str, *, scopes: Collection[str], headers: Mapping[str, str] | None = None,
             content: Content = None, stream: bool = False) -> httpx.Response:
        """One attempt, whatever the answer; after a 401, authenticate and try once more.

        A streamed body cannot be sent twice: then a 401 refreshes the token and raises Retry.
        """
        url = self.url(path)
        sent = self.auth.header(scopes)
        resp = self._follow(method, url, headers or {}, content, sent, stream)
        if resp.status_code != 401:
            return resp
        body = read_error_body(resp)
        if not self.auth.challenged(resp, scopes, sent):
            return _closed_copy(resp, body)
        if content is not None and not isinstance(content, bytes):
            raise Retry(Error(f"{self.registry}: authorization expired during {method} {urlsplit(url).path}"))
        return self._follow(method, url, headers or {}, content, self.auth.header(scopes), stream)

    def check(self, resp: httpx.Response, *, ok: Collection[int], what: str,
              missing: type[NotFound] | None = None) -> httpx.Response:
        """`resp` if its status is in `ok`; else Retry (transient) or the mapped dockyard error."""
        if resp.status_code in ok:
            return resp
        body = read_error_body(resp)
        if resp.status_code == 401:
            creds = self.auth.credentials()
            _, text = describe(resp.status_code, resp.reason_phrase, body)
            who = f"as {creds.username}" if creds is not None and creds.username else "without credentials"
            raise Unauthorized(f"{self.registry}: authentication failed {who} for {what}: {text}",
                               hint=f"check the credentials or run: dockyard login {self.registry}" if creds is not None
                               else f"no credentials found for {self.registry}: run dockyard login {self.registry}")
        if resp.status_code in RETRY_STATUSES:
            try:
                raise_for(resp, body, registry=self.registry, what=what)
            except Error as exc:
                raise Retry(exc, retry_after(resp)) from None
        raise_for(resp, body, registry=self.registry, what=what, missing=missing)

    def request(self, method: str, path: str, *, scopes: Collection[str], what: str, ok: Collection[int] = (200,),
                headers: Mapping[str, str] | None = None, content: bytes | None = None,
                stream: bool = False, missing: type[NotFound] | None = None) -> httpx.Response:
        """A request retried on transient failures; returns an answer whose status is in `ok`."""
        return self.retrying(lambda: self.check(
            self.send(method, path, scopes=scopes, headers=headers, content=content, stream=stream),
            ok=ok, what=what, missing=missing), what)

    def retrying(self, attempt: Callable[[], T], what: str) -> T:
        """Run `attempt`, again after Retry or a network error, up to `options.retries` more times."""
        delay = self.options.backoff
        tries = 0
        while True:
            try:
                return attempt()
            except Retry as exc:
                failure, wait = exc.error, exc.after
            except httpx.TransportError as exc:
                failure, wait = Error(f"lost the connection to registry {self.registry} during {what}: "
                                      f"{_reason(exc)}"), None
            tries += 1
            if tries > self.options.retries:
                failure.hint = "; ".join(filter(None, [failure.hint, f"gave up after {tries} attempts"]))
                raise failure from None
            time.sleep(min(wait if wait is not None else delay, self.options.max_wait))
            delay = min(delay * 2, self.options.max_wait)


def _closed_copy(resp: httpx.Response, body: bytes) -> httpx.Response:
    """A read, closed answer with the same status and headers (its body was consumed for the error)."""
    return httpx.Response(resp.status_code, headers=resp.headers, content=body, request=resp.request)
