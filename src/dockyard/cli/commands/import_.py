"""`dockyard import`: a root filesystem directory or tar becomes an image in the store (like `docker import`)."""

from __future__ import annotations

from pathlib import Path

import click

from dockyard.cli.options import argument, output_option, path_type, verb
from dockyard.cli.render import Output, print_json

CHANGE_HELP = "Dockerfile instruction to apply: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL."


@verb("import")
@argument("source", type=path_type(), help="Root filesystem: a directory, or a tar (plain, gzip or zstd).")
@click.option("--tag", "-t", required=True, help="Name for the image in the store, NAME[:TAG].")
@click.option("--change", "-c", multiple=True, help=CHANGE_HELP)
@click.option("--message", "-m", default=None, help="Comment recorded in the image history.")
@click.option("--platform", default=None, help="os/arch[/variant] (default: this machine).")
@click.option("--compression", default="gzip", help="Layer compression: gzip, zstd or none.")
@output_option()
def import_(source: Path, tag: str, change: tuple[str, ...], message: str | None, platform: str | None,
            compression: str, output: Output) -> None:
    """Import a root filesystem as a one-layer image.

    Examples:

      dockyard import ./rootfs -t myapp:1.0 -c 'CMD ["/bin/sh"]' -c 'USER 1000'

      dockyard import rootfs.tar.gz -t base:latest --platform linux/arm64
    """
    from dockyard.errors import InvalidArgument
    from dockyard.oci.mediatype import Compression
    from dockyard.oci.platform import Platform
    from dockyard.oci.reference import Reference
    from dockyard.transports.rootfs import imported
    from dockyard.transports.store import Store

    try:
        comp = Compression(compression)
    except ValueError:
        raise InvalidArgument(f"unknown compression {compression!r}: use gzip, zstd or none") from None
    ref = Reference.parse(tag)
    plat = Platform.parse_known(platform) if platform else None
    store = Store.open()
    with imported(source, changes=list(change), platform=plat, compression=comp, message=message) as image:
        desc = store.write(image, [ref])
        size = len(image.raw_manifest()) + sum(d.size for d in (image.manifest().config, *image.manifest().layers))
    if output is Output.JSON:
        print_json({"name": ref.familiar, "digest": desc.digest, "size": size})
    else:
        click.echo(f"{ref.familiar} {desc.digest}")
