"""Users from an Apache htpasswd file: bcrypt (`$2y$`, `$2b$`, `$2a$`) or SHA-crypt (`$5$`, `$6$`) hashes.

Weak schemes (`$apr1$` MD5, `{SHA}`, DES crypt, plain text) are refused when the file is loaded, naming the
user, rather than accepted quietly. Successful checks are remembered for a few minutes as an HMAC under a
per-process key, because registry clients send Basic credentials with every request and bcrypt is slow
on purpose.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from dockyard.errors import InvalidArgument, Unsupported
from dockyard.registry.auth import shacrypt

#: How long a verified password is trusted without re-running the slow hash.
CACHE_SECONDS = 300.0
_BCRYPT = ("$2y$", "$2b$", "$2a$")
_SHACRYPT = ("$5$", "$6$")
# Checked for unknown users so that a wrong name costs as long as a wrong password.
_DUMMY_SHA = "$5$rounds=5000$dockyarddummy$"


def _scheme_ok(stored: str) -> bool:
    return stored.startswith(_BCRYPT + _SHACRYPT)


def _check(password: bytes, stored: str) -> bool:
    if stored.startswith(_SHACRYPT):
        return shacrypt.verify(password, stored)
    try:
        import bcrypt
    except ImportError:  # pragma: no cover - bcrypt is a dependency of the server
        raise Unsupported("bcrypt password hashes need the 'bcrypt' package", hint="pip install bcrypt") from None
    # $2y$ (Apache's name) is the same algorithm as $2b$.
    normalized = ("$2b$" + stored[4:]) if stored.startswith("$2y$") else stored
    try:
        return bool(bcrypt.checkpw(password, normalized.encode()))
    except ValueError:
        return False


class Htpasswd:
    """The users of one htpasswd file."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)
        self._key = secrets.token_bytes(32)
        self._cache: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> Htpasswd:
        """Parse `user:hash` lines (blank lines and `#` comments skipped)."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidArgument(f"cannot read htpasswd file {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise InvalidArgument(f"htpasswd file {path} is not UTF-8 text") from None
        users: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            user, sep, stored = line.partition(":")
            if not sep or not user or not stored:
                raise InvalidArgument(f"{path}:{number}: expected user:hash")
            if not _scheme_ok(stored):
                raise Unsupported(f"{path}:{number}: user {user!r} has a weak or unknown password hash",
                                  hint="re-create it with `htpasswd -B` (bcrypt) or `openssl passwd -5`")
            users[user] = stored
        return cls(users)

    def __contains__(self, user: str) -> bool:
        return user in self._users

    def _token(self, user: str, password: bytes) -> bytes:
        return hmac.new(self._key, user.encode() + b"\0" + password, hashlib.sha256).digest()

    def cached(self, user: str, password: bytes) -> bool:
        """True when this exact password was verified for `user` recently (fast; no slow hash)."""
        with self._lock:
            entry = self._cache.get(user)
        return entry is not None and entry[1] > time.monotonic() and hmac.compare_digest(
            entry[0], self._token(user, password))

    def verify(self, user: str, password: bytes) -> bool:
        """Run the slow check (call from a worker thread); remembers success."""
        stored = self._users.get(user)
        if stored is None:
            shacrypt.verify(password, _DUMMY_SHA)
            return False
        if not _check(password, stored):
            return False
        with self._lock:
            self._cache[user] = (self._token(user, password), time.monotonic() + CACHE_SECONDS)
        return True
