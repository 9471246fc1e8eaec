"""The registry options every remote verb shares (--insecure, --ca-cert, --authfile), turned into RemoteOptions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dockyard.cli.options import path_type

if TYPE_CHECKING:
    from dockyard.transports.remote import RemoteOptions
    from dockyard.transports.remote.options import ProgressCallback

F = TypeVar("F", bound=Callable[..., Any])

INSECURE = click.option("--insecure", is_flag=True, default=False,
                        help="Allow plain HTTP and unverified TLS (loopback registries always may).")
CA_CERT = click.option("--ca-cert", type=path_type(), default=None,
                       help="Extra PEM bundle of CAs to trust for the registry.")
AUTHFILE = click.option("--authfile", type=path_type(), default=None, envvar="REGISTRY_AUTH_FILE", show_envvar=True,
                        help="Credentials file (default: $REGISTRY_AUTH_FILE, then docker's).")


def remote_flags(f: F) -> F:
    """Adds --insecure, --ca-cert and --authfile (in that order in `--help`) as `insecure`, `ca_cert`, `authfile`."""
    for option in (AUTHFILE, CA_CERT, INSECURE):  # click lists the last applied first
        f = option(f)
    return f


def remote_options(insecure: bool, ca_cert: Path | None, authfile: Path | None,
                   on_progress: ProgressCallback | None = None) -> RemoteOptions:
    from dockyard.transports.remote import RemoteOptions

    return RemoteOptions(insecure=insecure, ca_cert=ca_cert, auth_file=authfile, on_progress=on_progress)
