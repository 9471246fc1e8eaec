"""`dockyard version`: the version of dockyard and its runtime."""

from __future__ import annotations

import platform
from dataclasses import dataclass

import click

from dockyard.cli.options import output_option, verb
from dockyard.cli.render import Output, print_json


@dataclass(frozen=True)
class VersionInfo:
    version: str
    python: str
    platform: str


@verb("version")
@output_option()
def version(output: Output) -> None:
    """Print the dockyard version."""
    from dockyard import __version__

    data = VersionInfo(__version__, platform.python_version(), f"{platform.system().lower()}/{platform.machine()}")
    if output is Output.JSON:
        print_json(data)
    else:
        click.echo(f"dockyard {data.version} (python {data.python}, {data.platform})")
