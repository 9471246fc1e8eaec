"""`dockyard version`: the version of dockyard and its runtime."""

from __future__ import annotations

import platform
from dataclasses import dataclass

import typer

from dockyard.cli.render import OUTPUT_OPTION, Output, print_json


@dataclass(frozen=True)
class VersionInfo:
    version: str
    python: str
    platform: str


def version(output: Output = OUTPUT_OPTION) -> None:
    """Print the dockyard version."""
    from dockyard import __version__

    data = VersionInfo(__version__, platform.python_version(), f"{platform.system().lower()}/{platform.machine()}")
    if output is Output.JSON:
        print_json(data)
    else:
        typer.echo(f"dockyard {data.version} (python {data.python}, {data.platform})")
