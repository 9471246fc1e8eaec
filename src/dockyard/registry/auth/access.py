"""Who is asking and for what: identities, access requests, grants, and the authorization seam.

`authorize(identity, access)` returns a Grant or raises (Unauthenticated for anonymous callers who must
log in, Denied for callers who may not). Today's policies are "everyone" and "any authenticated user";
RBAC and token scopes plug in here later.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from dockyard.registry.errcodes import Unauthenticated

ANONYMOUS_ACTOR = "anonymous"


class Action(StrEnum):
    """What a request does to a repository (or, for CATALOG, to the registry)."""

    PULL = "pull"
    PUSH = "push"
    DELETE = "delete"
    CATALOG = "catalog"


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller: a user name, or None for anonymous."""

    name: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.name is None

    @property
    def actor(self) -> str:
        """The name recorded in the audit log."""
        return self.name or ANONYMOUS_ACTOR


ANONYMOUS = Identity(None)


@dataclass(frozen=True, slots=True)
class Access:
    """An action on a repository ('' for registry-wide actions such as the catalog)."""

    repository: str
    action: Action


@dataclass(frozen=True, slots=True)
class Grant:
    """Proof that `identity` may do `access`."""

    identity: Identity
    access: Access


class Authorizer(Protocol):
    """The authorization seam: return a Grant or raise Unauthenticated/Denied."""

    def authorize(self, identity: Identity, access: Access) -> Grant: ...


class AllowAll:
    """No users configured: everyone may do everything (refused off loopback unless --insecure-no-auth)."""

    def authorize(self, identity: Identity, access: Access) -> Grant:
        return Grant(identity, access)


class AuthenticatedOnly:
    """Any authenticated user may do everything; anonymous callers are asked to log in."""

    def __init__(self, challenge: str) -> None:
        self.challenge = challenge

    def authorize(self, identity: Identity, access: Access) -> Grant:
        if identity.anonymous:
            raise Unauthenticated(self.challenge)
        return Grant(identity, access)
