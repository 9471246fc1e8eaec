"""`dockyard copy`: any transport to any transport, byte for byte (digests never change)."""

from __future__ import annotations

import typer

from dockyard.cli.render import OUTPUT_OPTION, Output, print_json


def copy(
    source: str = typer.Argument(..., help="Where the image is: NAME[:TAG], oci:DIR[:TAG], docker-archive:FILE, ..."),
    destination: str = typer.Argument(..., help="Where it goes: NAME[:TAG], oci:DIR[:TAG], oci-archive:FILE, ..."),
    platform: str | None = typer.Option(
        None, "--platform", help="Copy only this platform of an index (default: the whole index)."),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Copy an image or a multi-platform index between the store, OCI layouts and archives.

    Examples:

      dockyard copy busybox:1.0 oci:./layout:1.0

      dockyard copy oci:./layout:1.0 docker-archive:busybox.tar:busybox:1.0

      dockyard copy oci-archive:multi.tar app:1 --platform linux/arm64
    """
    from dockyard.cli.progress import byte_progress
    from dockyard.oci.platform import Platform
    from dockyard.transports.copy import copy as do_copy

    plat = Platform.parse(platform) if platform else None
    with byte_progress("copy") as progress:
        written = do_copy(source, destination, platform=plat, progress=progress)
    if output is Output.JSON:
        print_json(written)
    else:
        typer.echo(f"{written.destination} {written.descriptor.digest}")
