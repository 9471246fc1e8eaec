"""HTTP Basic authentication against an htpasswd file: `Authorization` header in, Identity out."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable

from dockyard.registry.auth.access import ANONYMOUS, Identity
from dockyard.registry.auth.htpasswd import Htpasswd
from dockyard.registry.errcodes import Unauthenticated


def challenge(realm: str) -> str:
    """The `WWW-Authenticate` value that asks for Basic credentials."""
    return f'Basic realm="{realm}"'


def parse_basic(header: str) -> tuple[str, bytes] | None:
    """(user, password) from `Basic <base64>`, or None when the header is not Basic or is malformed."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None


class BasicAuthenticator:
    """Turns an `Authorization` header into an Identity; bad credentials raise Unauthenticated."""

    def __init__(self, users: Htpasswd, realm: str) -> None:
        self.users = users
        self.challenge = challenge(realm)

    async def authenticate(self, header: str | None,
                           run: Callable[[Callable[[str, bytes], bool], str, bytes], Awaitable[bool]]) -> Identity:
        """The caller's identity; `run` executes the slow hash check off the event loop."""
        if not header:
            return ANONYMOUS
        credentials = parse_basic(header)
        if credentials is None:
            raise Unauthenticated(self.challenge, "malformed Basic credentials")
        user, password = credentials
        if self.users.cached(user, password) or await run(self.users.verify, user, password):
            return Identity(user)
        raise Unauthenticated(self.challenge, "invalid username or password")
