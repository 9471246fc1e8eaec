"""`dockyard save` and `dockyard load`: images to and from docker-archive / oci-archive tars."""

from __future__ import annotations

from pathlib import Path

import typer

from dockyard.cli.render import OUTPUT_OPTION, Output, print_json


def save(
    refs: list[str] = typer.Argument(..., help="Images to save (any transport reference)."),
    output_file: Path = typer.Option(..., "-o", "--file", help="Archive to write (docker's -o)."),
    fmt: str = typer.Option("docker-archive", "--format", help="docker-archive (docker load) or oci-archive."),
    platform: str | None = typer.Option(None, "--platform", help="For docker-archive: the platform of an index."),
    output: Output = typer.Option(Output.TABLE, "--output", help="Summary format: table or json."),
) -> None:
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
    saved = do_save(refs, output_file, archive_format, Platform.parse(platform) if platform else None)
    if output is Output.JSON:
        print_json(saved)
    else:
        typer.echo(f"saved {len(saved.images)} image(s) to {saved.path} ({saved.format})")


def load(
    input_file: Path = typer.Option(..., "--input", "-i", help="docker-archive or oci-archive tar to load."),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Load every image of an archive into the store, with the names it carries."""
    from dockyard.transports.exchange import Loaded
    from dockyard.transports.exchange import load as do_load

    def show(item: Loaded) -> None:
        names = ", ".join(item.names) if item.names else "<none>"
        typer.echo(f"Loaded image: {names} {item.descriptor.digest}")

    if output is Output.JSON:
        print_json(do_load(input_file))
    else:
        do_load(input_file, on_loaded=show)  # each line as its image lands, even if a later one fails
