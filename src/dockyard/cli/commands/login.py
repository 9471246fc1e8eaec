"""`dockyard login` and `dockyard logout`: registry credentials in docker's config format."""

from __future__ import annotations

from pathlib import Path

import typer

from dockyard.cli.remoteopts import AUTHFILE, CA_CERT, INSECURE, remote_options


def login(
    registry: str = typer.Argument(..., help="Registry host, e.g. localhost:5000 or ghcr.io"),
    username: str | None = typer.Option(None, "--username", "-u", help="User name (prompted when omitted)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    insecure: bool = INSECURE, ca_cert: Path | None = CA_CERT, authfile: Path | None = AUTHFILE,
) -> None:
    """Check credentials against a registry and store them (0600) where docker and podman find them.

    Example: echo "$TOKEN" | dockyard login ghcr.io -u me --password-stdin
    """
    import sys

    from dockyard.errors import InvalidArgument
    from dockyard.transports.remote import login as do_login

    if username is None:
        username = typer.prompt("Username")
    if password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True)
    if not password:
        raise InvalidArgument("login: empty password")
    written = do_login(registry, username, password, remote_options(insecure, ca_cert, authfile))
    typer.echo(f"Login Succeeded (credentials in {written})")


def logout(
    registry: str = typer.Argument(..., help="Registry host"),
    authfile: Path | None = AUTHFILE,
) -> None:
    """Remove stored credentials for a registry."""
    from dockyard.transports.remote import logout as do_logout

    removed = do_logout(registry, remote_options(False, None, authfile))
    typer.echo(f"Removed login credentials for {registry}" if removed else f"Not logged in to {registry}")
