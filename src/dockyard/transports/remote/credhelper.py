"""Docker credential helpers: `docker-credential-<name> get|store|erase` over stdin/stdout JSON."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field

from dockyard.errors import Error, NotFound

#: A helper that answers this user name stores an identity (refresh) token as the secret.
TOKEN_USER = "<token>"
_TIMEOUT = 60


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password, or an identity token (OAuth2 refresh token) for the token server."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str | None = field(default=None, repr=False)


def _run(helper: str, action: str, stdin: str) -> subprocess.CompletedProcess[str]:
    program = f"docker-credential-{helper}"
    try:
        return subprocess.run([program, action], input=stdin, capture_output=True, text=True, timeout=_TIMEOUT,
                              check=False)
    except FileNotFoundError:
        raise NotFound(f"credential helper {program} is not installed",
                       hint="install it, or remove it from credsStore/credHelpers in the docker config") from None
    except subprocess.TimeoutExpired:
        raise Error(f"credential helper {program} did not answer within {_TIMEOUT} s") from None


def _not_found(proc: subprocess.CompletedProcess[str]) -> bool:
    return "credentials not found" in (proc.stdout + proc.stderr).lower()


def helper_get(helper: str, server: str) -> Credentials | None:
    """Ask a helper for `server`'s credentials; None when it has none."""
    proc = _run(helper, "get", server)
    if proc.returncode != 0:
        if _not_found(proc):
            return None
        raise Error(f"credential helper docker-credential-{helper} failed for {server}: "
                    f"{(proc.stderr or proc.stdout).strip()[:200]}")
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        raise Error(f"credential helper docker-credential-{helper} answered no JSON for {server}") from None
    if not isinstance(doc, dict):
        raise Error(f"credential helper docker-credential-{helper} answered no JSON object for {server}")
    user, secret = str(doc.get("Username") or ""), str(doc.get("Secret") or "")
    if not secret:
        return None
    if user == TOKEN_USER:
        return Credentials(identity_token=secret)
    return Credentials(user, secret)


def helper_store(helper: str, server: str, creds: Credentials) -> None:
    """Hand credentials to a helper to keep."""
    user, secret = (TOKEN_USER, creds.identity_token) if creds.identity_token else (creds.username, creds.password)
    proc = _run(helper, "store", json.dumps({"ServerURL": server, "Username": user, "Secret": secret}))
    if proc.returncode != 0:
        raise Error(f"credential helper docker-credential-{helper} could not store credentials for {server}: "
                    f"{(proc.stderr or proc.stdout).strip()[:200]}")


def helper_erase(helper: str, server: str) -> bool:
    """Make a helper forget `server`; False when it had nothing."""
    proc = _run(helper, "erase", server)
    if proc.returncode != 0:
        if _not_found(proc):
            return False
        raise Error(f"credential helper docker-credential-{helper} could not erase {server}: "
                    f"{(proc.stderr or proc.stdout).strip()[:200]}")
    return True
