"""`dockyard copy`: any transport to any transport, byte for byte (digests never change)."""

from __future__ import annotations

import click

from dockyard.cli.options import argument, output_option, verb
from dockyard.cli.render import Output, print_json


@verb("copy")
@argument("source", help="Where the image is: NAME[:TAG], oci:DIR[:TAG], docker-archive:FILE, ...")
@argument("destination", help="Where it goes: NAME[:TAG], oci:DIR[:TAG], oci-archive:FILE, ...")
@click.option("--platform", default=None, help="Copy only this platform of an index (default: the whole index).")
@output_option()
def copy(source: str, destination: str, platform: str | None, output: Output) -> None:
    """Copy an image or a multi-platform index between the store, OCI layouts and archives.

    Examples:

      dockyard copy busybox:1.0 oci:./layout:1.0

      dockyard copy oci:./layout:1.0 docker-archive:busybox.tar:busybox:1.0

      dockyard copy oci-archive:multi.tar app:1 --platform linux/arm64
    """
    from dockyard.cli.progress import byte_progress
    from dockyard.oci.platform import Platform
    from dockyard.transports.copy import copy as do_copy

    plat = Platform.parse_known(platform) if platform else None
    with byte_progress("copy") as progress:
        written = do_copy(source, destination, platform=plat, progress=progress)
    if output is Output.JSON:
        print_json(written)
    else:
        click.echo(f"{written.destination} {written.descriptor.digest}")
