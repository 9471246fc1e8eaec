"""`dockyard login` and `dockyard logout`: registry credentials in docker's config format."""

from __future__ import annotations

from pathlib import Path

import click

from dockyard.cli.options import argument, verb
from dockyard.cli.remoteopts import AUTHFILE, remote_flags, remote_options


@verb("login")
@argument("registry", help="Registry host, e.g. localhost:5000 or ghcr.io")
@click.option("--username", "-u", default=None, help="User name (prompted when omitted).")
@click.option("--password-stdin", is_flag=True, default=False, help="Read the password from standard input.")
@remote_flags
def login(registry: str, username: str | None, password_stdin: bool, insecure: bool, ca_cert: Path | None,
          authfile: Path | None) -> None:
    """Check credentials against a registry and store them (0600) where docker and podman find them.

    Example: echo "$TOKEN" | dockyard login ghcr.io -u me --password-stdin
    """
    import sys

    from dockyard.errors import InvalidArgument
    from dockyard.transports.remote import login as do_login

    if username is None:
        username = str(click.prompt("Username"))
    if password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    else:
        password = str(click.prompt("Password", hide_input=True))
    if not password:
        raise InvalidArgument("login: empty password")
    written = do_login(registry, username, password, remote_options(insecure, ca_cert, authfile))
    click.echo(f"Login Succeeded (credentials in {written})")


@verb("logout")
@argument("registry", help="Registry host")
@AUTHFILE
def logout(registry: str, authfile: Path | None) -> None:
    """Remove stored credentials for a registry."""
    from dockyard.transports.remote import logout as do_logout

    removed = do_logout(registry, remote_options(False, None, authfile))
    click.echo(f"Removed login credentials for {registry}" if removed else f"Not logged in to {registry}")
