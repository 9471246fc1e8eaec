"""The registry options every remote verb shares (--insecure, --ca-cert, --authfile), turned into RemoteOptions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from dockyard.transports.remote import RemoteOptions
    from dockyard.transports.remote.options import ProgressCallback

INSECURE = typer.Option(False, "--insecure",
                        help="Allow plain HTTP and unverified TLS (loopback registries always may).")
CA_CERT = typer.Option(None, "--ca-cert", help="Extra PEM bundle of CAs to trust for the registry.")
AUTHFILE = typer.Option(None, "--authfile", help="Credentials file (default: $REGISTRY_AUTH_FILE, then docker's).",
                        envvar="REGISTRY_AUTH_FILE")


def remote_options(insecure: bool, ca_cert: Path | None, authfile: Path | None,
                   on_progress: ProgressCallback | None = None) -> RemoteOptions:
    from dockyard.transports.remote import RemoteOptions

    return RemoteOptions(insecure=insecure, ca_cert=ca_cert, auth_file=authfile, on_progress=on_progress)
