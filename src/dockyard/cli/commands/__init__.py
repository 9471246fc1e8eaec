"""One thin module per CLI verb; `register` adds them all to the app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from dockyard.cli.commands import version

    app.command("version")(version.version)
