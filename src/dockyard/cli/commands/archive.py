"""`dockyard save` and `dockyard load`: images to and from docker-archive / oci-archive tars."""

from __future__ import annotations

from pathlib import Path

import click

from dockyard.cli.options import argument, output_option, path_type, verb
from dockyard.cli.render import Output, print_json


@verb("save")
@argument("refs", nargs=-1, required=True, help="Images to save (any transport reference).")
@click.option("-o", "--file", "output_file", type=path_type(), required=True, help="Archive to write (docker's -o).")
@click.option("--format", "fmt", default="docker-archive", help="docker-archive (docker load) or oci-archive.")
@click.option("--platform", default=None, help="For docker-archive: the platform of an index.")
@output_option("--output", "output", help="Summary format: table or json.")
def save(refs: tuple[str, ...], output_file: Path, fmt: str, platform: str | None, output: Output) -> None:
    """Save images into one tar that `docker load`, podman and skopeo read.

    Example: dockyard save busybox:1.0 -o busybox.tar
    """
    from dockyard.errors import InvalidArgument
    from dockyard.oci.platform import Platform
    from dockyard.transports.exchange import ArchiveFormat
    from dockyard.transports.exchange import save as do_save

    try:
        archive_format = ArchiveFormat(fmt)
    except ValueError:
        raise InvalidArgument(f"unknown format {fmt!r}: use docker-archive or oci-archive") from None
    saved = do_save(list(refs), output_file, archive_format, Platform.parse_known(platform) if platform else None)
    if output is Output.JSON:
        print_json(saved)
    else:
        click.echo(f"saved {len(saved.images)} image(s) to {saved.path} ({saved.format})")


@verb("load")
@click.option("--input", "-i", "input_file", type=path_type(), required=True,
              help="docker-archive or oci-archive tar to load.")
@output_option()
def load(input_file: Path, output: Output) -> None:
    """Load every image of an archive into the store, with the names it carries."""
    from dockyard.transports.exchange import Loaded
    from dockyard.transports.exchange import load as do_load

    def show(item: Loaded) -> None:
        names = ", ".join(item.names) if item.names else "<none>"
        click.echo(f"Loaded image: {names} {item.descriptor.digest}")

    if output is Output.JSON:
        print_json(do_load(input_file))
    else:
        do_load(input_file, on_loaded=show)  # each line as its image lands, even if a later one fails
