"""`dockyard import`: a root filesystem directory or tar becomes an image in the store (like `docker import`)."""

from __future__ import annotations

from pathlib import Path

import typer

from dockyard.cli.render import OUTPUT_OPTION, Output, print_json

CHANGE_HELP = "Dockerfile instruction to apply: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL."


def import_(
    source: Path = typer.Argument(..., help="Root filesystem: a directory, or a tar (plain, gzip or zstd)."),
    tag: str = typer.Option(..., "--tag", "-t", help="Name for the image in the store, NAME[:TAG]."),
    change: list[str] = typer.Option([], "--change", "-c", help=CHANGE_HELP),
    message: str | None = typer.Option(None, "--message", "-m", help="Comment recorded in the image history."),
    platform: str | None = typer.Option(None, "--platform", help="os/arch\\[/variant] (default: this machine)."),
    compression: str = typer.Option("gzip", "--compression", help="Layer compression: gzip, zstd or none."),
    output: Output = OUTPUT_OPTION,
) -> None:
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
    plat = Platform.parse(platform) if platform else None
    store = Store.open()
    with imported(source, changes=change, platform=plat, compression=comp, message=message) as image:
        desc = store.write(image, [ref])
        size = len(image.raw_manifest()) + sum(d.size for d in (image.manifest().config, *image.manifest().layers))
    if output is Output.JSON:
        print_json({"name": ref.familiar, "digest": desc.digest, "size": size})
    else:
        typer.echo(f"{ref.familiar} {desc.digest}")
