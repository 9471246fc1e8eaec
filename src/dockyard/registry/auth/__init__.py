"""Authentication (who is calling) and authorization (may they): the registry's one auth entry point.

`Auth.identify` reads the `Authorization` header; `Auth.authorize(identity, Access) -> Grant` raises
Unauthenticated (401 with a challenge) or Denied (403). Without an htpasswd file everyone is anonymous and
allowed everything; with one, every request needs a valid user.
"""

from __future__ import annotations

from dockyard.errors import Error
from dockyard.registry.auth.access import (
    ANONYMOUS,
    Access,
    Action,
    AllowAll,
    AuthenticatedOnly,
    Authorizer,
    Grant,
    Identity,
)
from dockyard.registry.auth.basic import BasicAuthenticator, challenge
from dockyard.registry.auth.htpasswd import Htpasswd
from dockyard.registry.config import RegistryConfig
from dockyard.registry.errcodes import Denied, Unauthenticated
from dockyard.registry.services.offload import Offload

__all__ = ["ANONYMOUS", "Access", "Action", "Auth", "Denied", "Grant", "Identity", "Unauthenticated"]


class Auth:
    """Identifies callers and authorizes their requests."""

    def __init__(self, authorizer: Authorizer, offload: Offload, basic: BasicAuthenticator | None = None) -> None:
        self.authorizer = authorizer
        self.basic = basic
        self.offload = offload

    @classmethod
    def from_config(cls, config: RegistryConfig, offload: Offload) -> Auth:
        if config.htpasswd is None:
            return cls(AllowAll(), offload)
        basic = BasicAuthenticator(Htpasswd.load(config.htpasswd), config.realm)
        return cls(AuthenticatedOnly(challenge(config.realm)), offload, basic)

    async def identify(self, authorization: str | None) -> Identity:
        """The caller: anonymous without users configured, else whoever the Basic credentials name."""
        if self.basic is None:
            return ANONYMOUS
        return await self.basic.authenticate(authorization, self.offload.run)

    def authorize(self, identity: Identity, access: Access) -> Grant:
        return self.authorizer.authorize(identity, access)

    def may(self, identity: Identity, access: Access) -> bool:
        """Whether `authorize` would grant (for filtering: catalog entries, mount sources)."""
        try:
            self.authorizer.authorize(identity, access)
        except Error:
            return False
        return True
