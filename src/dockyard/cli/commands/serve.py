"""`dockyard serve`: run the OCI distribution registry (SQLite + filesystem under the data dir)."""

from __future__ import annotations

from pathlib import Path

import typer


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(5000, "--port", help="Port to listen on."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Where blobs and metadata live (default: <dockyard home>/registry)."),
    config_file: Path | None = typer.Option(None, "--config", help="A TOML config file (flags override it)."),
    htpasswd: Path | None = typer.Option(
        None, "--htpasswd", help="Basic-auth users (bcrypt or sha-crypt hashes); without it, no auth."),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="PEM certificate for HTTPS."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="PEM private key for HTTPS."),
    insecure_no_auth: bool = typer.Option(
        False, "--insecure-no-auth", help="Allow an unauthenticated registry on a non-loopback address."),
) -> None:
    """Serve an OCI distribution v1.1 registry (push, pull, referrers, catalog, deletes).

    Examples:

      dockyard serve --port 5000

      dockyard serve --host 0.0.0.0 --htpasswd ./htpasswd --tls-cert cert.pem --tls-key key.pem
    """
    import sys
    from dataclasses import replace

    from dockyard.registry.config import RegistryConfig
    from dockyard.registry.server import Listen
    from dockyard.registry.server import serve as run_server
    from dockyard.transports.store.paths import dockyard_home

    default_dir = (data_dir or dockyard_home() / "registry").resolve()
    config = RegistryConfig.load(config_file, data_dir=default_dir) if config_file else RegistryConfig(default_dir)
    if data_dir is not None:
        config = replace(config, data_dir=data_dir.resolve())
    if htpasswd is not None:
        config = replace(config, htpasswd=htpasswd.resolve())
    listen = Listen(host, port, tls_cert, tls_key)
    auth = "basic auth" if config.auth_enabled else "no auth"
    print(f"dockyard registry on {listen.scheme}://{host}:{port} ({auth}, data in {config.data_dir})",
          file=sys.stderr)
    run_server(config, listen, insecure_no_auth=insecure_no_auth)
