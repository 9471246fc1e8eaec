"""`dockyard serve`: run the OCI distribution registry (SQLite + filesystem under the data dir)."""

from __future__ import annotations

from pathlib import Path

import click

from dockyard.cli.options import path_type, verb


@verb("serve")
@click.option("--host", default="127.0.0.1", help="Address to listen on.")
@click.option("--port", type=int, default=5000, help="Port to listen on.")
@click.option("--data-dir", type=path_type(), default=None,
              help="Where blobs and metadata live (default: <dockyard home>/registry).")
@click.option("--config", "config_file", type=path_type(), default=None,
              help="A TOML config file (flags override it).")
@click.option("--htpasswd", type=path_type(), default=None,
              help="Basic-auth users (bcrypt or sha-crypt hashes); without it, no auth.")
@click.option("--tls-cert", type=path_type(), default=None, help="PEM certificate for HTTPS.")
@click.option("--tls-key", type=path_type(), default=None, help="PEM private key for HTTPS.")
@click.option("--insecure-no-auth", is_flag=True, default=False,
              help="Allow an unauthenticated registry on a non-loopback address.")
def serve(host: str, port: int, data_dir: Path | None, config_file: Path | None, htpasswd: Path | None,
          tls_cert: Path | None, tls_key: Path | None, insecure_no_auth: bool) -> None:
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
